//! Flyway: `V<version>__<description>.sql` (versioned), `R__<description>.sql` (repeatable, applied after
//! all versioned ones, by description), `U…` (undo) and `B…` (baseline) prefixes; version parts split on
//! `.` or `_` and compared as numbers (`V1_2` < `V1_10`), trailing zero parts ignored (`1.0` == `1`, a
//! duplicate). Scripts are searched recursively. `${placeholders}` are substituted.
//!
//! Transactions: one per migration; PostgreSQL statements that cannot run in one (`CREATE INDEX
//! CONCURRENTLY`, `VACUUM`…) make Flyway run the migration without a transaction when every statement
//! is of that kind, and fail when both kinds are mixed, unless `mixed` is on. A per-script
//! `<script>.conf` with `executeInTransaction=false` turns the transaction off.

use std::path::Path;

use super::{Direction, Key, LayoutProblem, Migration, MigrationSet, OrderKey, Script, TxMode};
use crate::error::Error;

/// What a Flyway file name is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Name {
    /// `V…__…`, with version parts.
    Versioned(Vec<u128>, String),
    /// `U…__…`, undo of a version.
    Undo(Vec<u128>),
    /// `B…__…`, baseline.
    Baseline(Vec<u128>),
    /// `R__…`.
    Repeatable(String),
}

/// Parses a Flyway file name (default prefixes and `__` separator).
pub fn parse_name(name: &str) -> Option<Name> {
    let stem = name.strip_suffix(".sql")?;
    let (head, description) = stem.split_once("__")?;
    let mut chars = head.chars();
    let prefix = chars.next()?;
    let version = chars.as_str();
    if prefix == 'R' {
        return version
            .is_empty()
            .then(|| Name::Repeatable(description.to_owned()));
    }
    let parts = version_parts(version)?;
    match prefix {
        'V' => Some(Name::Versioned(parts, description.to_owned())),
        'U' => Some(Name::Undo(parts)),
        'B' => Some(Name::Baseline(parts)),
        _ => None,
    }
}

/// `1_2`, `1.2.0` → `[1, 2]` (trailing zeros dropped, so equal versions compare equal).
pub fn version_parts(version: &str) -> Option<Vec<u128>> {
    if version.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    for part in version.split(['.', '_']) {
        parts.push(part.parse::<u128>().ok()?);
    }
    while parts.len() > 1 && parts.last() == Some(&0) {
        parts.pop();
    }
    Some(parts)
}

/// Whether a `.conf` file turns the transaction off.
pub fn conf_disables_transaction(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim().replace(' ', "");
        line.eq_ignore_ascii_case("executeInTransaction=false")
    })
}

/// `flyway.mixed=true` in `flyway.conf` (or `mixed = true` in `flyway.toml`).
pub fn mixed_enabled(root: &Path) -> bool {
    for dir in root.ancestors().take(6) {
        for file in ["flyway.conf", "conf/flyway.conf", "flyway.toml"] {
            if let Ok(text) = std::fs::read_to_string(dir.join(file)) {
                let on = text.lines().any(|line| {
                    let line = line.trim().replace(' ', "").to_ascii_lowercase();
                    line == "flyway.mixed=true" || line == "mixed=true"
                });
                if on {
                    return true;
                }
            }
        }
    }
    false
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, std::path::PathBuf)>) -> Result<(), Error> {
    for (name, path) in super::files_in(dir)? {
        out.push((format!("{prefix}{name}"), path));
    }
    for (name, path) in super::dirs_in(dir)? {
        walk(&path, &format!("{prefix}{name}/"), out)?;
    }
    Ok(())
}

pub(crate) fn load(root: &Path) -> Result<MigrationSet, Error> {
    let mut set = MigrationSet::empty(super::Framework::Flyway, root);
    let mixed = mixed_enabled(root);
    let mut files = Vec::new();
    walk(root, "", &mut files)?;
    let mut seen: std::collections::BTreeMap<Vec<u128>, String> = std::collections::BTreeMap::new();
    for (rel, path) in &files {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let Some(parsed) = parse_name(name) else { continue };
        let conf = path.with_file_name(format!("{name}.conf"));
        let mut tx = TxMode::FlywayAuto { mixed };
        let mut migration_files = vec![rel.clone()];
        if conf.is_file() {
            if conf_disables_transaction(&super::read_text(&conf)?) {
                tx = TxMode::None;
            }
            migration_files.push(format!("{rel}.conf"));
        }
        let mut script = Script::file(rel.clone(), tx, Direction::Up);
        script.placeholders = true;
        let (key, version, up) = match parsed {
            Name::Versioned(parts, _) => {
                if let Some(other) = seen.insert(parts.clone(), rel.clone()) {
                    set.problem(LayoutProblem::new(
                        "duplicate-version",
                        rel.clone(),
                        format!(
                            "version {} is also used by `{other}`: Flyway refuses to migrate (`1.0` and `1` are the same version)",
                            Key::Parts(parts.clone())
                        ),
                    ));
                }
                (Key::Parts(parts.clone()), Key::Parts(parts).to_string(), true)
            }
            Name::Repeatable(description) => (Key::Repeatable(description), "R".to_owned(), true),
            // Undo and baseline scripts are not part of the forward history.
            Name::Undo(_) | Name::Baseline(_) => continue,
        };
        set.migrations.push(Migration {
            id: rel.clone(),
            version,
            key: OrderKey {
                key,
                tie: rel.clone(),
            },
            up: up.then_some(script),
            down: None,
            files: migration_files,
            when: None,
        });
    }
    // Undo scripts become the down of their version.
    for (rel, _) in &files {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if let Some(Name::Undo(parts)) = parse_name(name)
            && let Some(migration) = set
                .migrations
                .iter_mut()
                .find(|m| m.key.key == Key::Parts(parts.clone()))
        {
            let mut script = Script::file(rel.clone(), TxMode::FlywayAuto { mixed }, Direction::Down);
            script.placeholders = true;
            migration.down = Some(script);
            migration.files.push(rel.clone());
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        assert_eq!(
            parse_name("V1_10__x.sql"),
            Some(Name::Versioned(vec![1, 10], "x".into()))
        );
        assert_eq!(
            parse_name("V1.0__x.sql"),
            Some(Name::Versioned(vec![1], "x".into()))
        );
        assert_eq!(parse_name("R__views.sql"), Some(Name::Repeatable("views".into())));
        assert_eq!(parse_name("U2__x.sql"), Some(Name::Undo(vec![2])));
        assert_eq!(parse_name("V1_x.sql"), None);
        assert_eq!(parse_name("Vx__x.sql"), None);
        assert!(version_parts("1_2") < version_parts("1_10"));
        assert_eq!(version_parts("1.0.0"), version_parts("1"));
        assert!(conf_disables_transaction("executeInTransaction = false\n"));
    }
}
