//! sqlx: `<VERSION>_<DESCRIPTION>.sql` (simple) or `.up.sql` + `.down.sql` (reversible); VERSION is the
//! text before the first `_`, parsed as a signed 64-bit number; applied in ascending order. Each
//! migration runs in a transaction unless its file starts with `-- no-transaction`. Applied migrations
//! are checksummed (SHA-384): editing one makes `sqlx migrate run` fail.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Direction, Key, LayoutProblem, Migration, MigrationSet, OrderKey, Script, TxMode, files_in};
use crate::error::Error;

/// Version, description and direction (`None` for a simple migration) of a sqlx file name.
pub fn parse_name(name: &str) -> Option<(i64, &str, Option<Direction>)> {
    let stem = name.strip_suffix(".sql")?;
    let (version, description) = stem.split_once('_')?;
    let version: i64 = version.parse().ok()?;
    Some(if let Some(d) = description.strip_suffix(".up") {
        (version, d, Some(Direction::Up))
    } else if let Some(d) = description.strip_suffix(".down") {
        (version, d, Some(Direction::Down))
    } else {
        (version, description, None)
    })
}

/// Whether a sqlx file opts out of the transaction.
pub fn no_transaction(text: &str) -> bool {
    text.starts_with("-- no-transaction")
}

pub(crate) fn load(root: &Path) -> Result<MigrationSet, Error> {
    let mut set = MigrationSet::empty(super::Framework::Sqlx, root);
    let mut by_version: BTreeMap<i64, Migration> = BTreeMap::new();
    for (name, path) in files_in(root)? {
        let Some((version, description, direction)) = parse_name(&name) else {
            continue;
        };
        let head = super::read_head(&path, 64)?;
        let tx = if no_transaction(&head) {
            TxMode::None
        } else {
            TxMode::PerMigration
        };
        let direction_or_up = direction.unwrap_or(Direction::Up);
        let migration = by_version.entry(version).or_insert_with(|| Migration {
            id: format!("{version}_{description}"),
            version: version.to_string(),
            key: OrderKey {
                key: Key::Number(u128::try_from(version).unwrap_or(0)),
                tie: String::new(),
            },
            up: None,
            down: None,
            files: Vec::new(),
            when: None,
        });
        let slot = match direction_or_up {
            Direction::Up => &mut migration.up,
            Direction::Down => &mut migration.down,
        };
        if let Some(existing) = slot {
            set.problems.push(LayoutProblem::new(
                "duplicate-version",
                name.clone(),
                format!("version {version} is also used by `{}`", existing.path),
            ));
            continue;
        }
        *slot = Some(Script::file(name.clone(), tx, direction_or_up));
        migration.files.push(name);
    }
    set.push_paired(by_version.into_values());
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_directives() {
        assert_eq!(
            parse_name("20220101000000_init.sql"),
            Some((20_220_101_000_000, "init", None))
        );
        assert_eq!(parse_name("1_a_b.up.sql"), Some((1, "a_b", Some(Direction::Up))));
        assert_eq!(parse_name("1_a.down.sql"), Some((1, "a", Some(Direction::Down))));
        assert_eq!(parse_name("init.sql"), None);
        assert_eq!(parse_name("x_init.sql"), None);
        assert!(no_transaction(
            "-- no-transaction\ncreate index concurrently i on t (a);"
        ));
        assert!(!no_transaction("\n-- no-transaction"));
    }
}
