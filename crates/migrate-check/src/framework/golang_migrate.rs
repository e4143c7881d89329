//! golang-migrate: `<version>_<title>.up.<ext>` and `.down.<ext>` (`^([0-9]+)_(.*)\.(up|down)\.(.*)$`),
//! version an unsigned 64-bit number, applied in numeric order; two files with the same version and
//! direction are an error. Only the newest applied version is recorded (`schema_migrations`), so a new
//! file numbered below it is never applied.
//!
//! Transactions: the PostgreSQL driver sends the whole file in one `Exec`, which the server runs as one
//! implicit transaction when it holds several statements (a lone `CREATE INDEX CONCURRENTLY` works).

use std::collections::BTreeMap;
use std::path::Path;

use super::{Direction, Key, LayoutProblem, Migration, MigrationSet, OrderKey, Script, TxMode, files_in};
use crate::error::Error;

/// Splits a golang-migrate file name into version, title and direction.
pub fn parse_name(name: &str) -> Option<(u64, &str, Direction)> {
    let digits = super::leading_digits(name);
    let rest = name[digits.len()..].strip_prefix('_')?;
    let version: u64 = digits.parse().ok()?;
    for (marker, direction) in [(".up.", Direction::Up), (".down.", Direction::Down)] {
        if let Some(at) = rest.rfind(marker) {
            let ext = &rest[at + marker.len()..];
            if !ext.is_empty() {
                return Some((version, &rest[..at], direction));
            }
        }
    }
    None
}

pub(crate) fn load(root: &Path) -> Result<MigrationSet, Error> {
    let mut set = MigrationSet::empty(super::Framework::GolangMigrate, root);
    let mut by_version: BTreeMap<u64, Migration> = BTreeMap::new();
    for (name, _) in files_in(root)? {
        let Some((version, title, direction)) = parse_name(&name) else {
            continue;
        };
        if !name.ends_with(".sql") {
            continue;
        }
        let script = Script::file(name.clone(), TxMode::Implicit, direction);
        let migration = by_version.entry(version).or_insert_with(|| Migration {
            id: format!("{version}_{title}"),
            version: super::leading_digits(&name).to_owned(),
            key: OrderKey {
                key: Key::Number(u128::from(version)),
                tie: String::new(),
            },
            up: None,
            down: None,
            files: Vec::new(),
            when: None,
        });
        let slot = match direction {
            Direction::Up => &mut migration.up,
            Direction::Down => &mut migration.down,
        };
        if let Some(existing) = slot {
            set.problems.push(LayoutProblem::new(
                "duplicate-version",
                name.clone(),
                format!(
                    "version {version} already has a {} file, `{}`: golang-migrate refuses to run",
                    if direction == Direction::Up { "up" } else { "down" },
                    existing.path
                ),
            ));
            continue;
        }
        *slot = Some(script);
        migration.files.push(name);
    }
    set.push_paired(by_version.into_values());
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(parse_name("0001_init.up.sql"), Some((1, "init", Direction::Up)));
        assert_eq!(
            parse_name("20240101_a.b.down.sql"),
            Some((20_240_101, "a.b", Direction::Down))
        );
        assert_eq!(parse_name("0001_init.sql"), None);
        assert_eq!(parse_name("init.up.sql"), None);
        assert_eq!(parse_name("99999999999999999999_x.up.sql"), None, "above u64");
    }
}
