//! Diesel: `migrations/<version>_<name>/up.sql` + `down.sql` (+ `metadata.toml`); the version is the
//! text before the first `_` with `-` removed (`2019-02-26-002946` → `20190226002946`), and
//! migrations run in version order, each in a transaction unless `metadata.toml` says
//! `run_in_transaction = false`. `diesel.toml` may move the folder (`[migrations_directory] dir`).

use std::path::Path;

use super::{Direction, Key, LayoutProblem, Migration, MigrationSet, OrderKey, Script, TxMode, dirs_in};
use crate::error::Error;

/// The version diesel derives from a folder name.
pub fn version(name: &str) -> Option<String> {
    let (version, _) = name.split_once('_').unwrap_or((name, ""));
    let version: String = version.chars().filter(|&c| c != '-').collect();
    (!version.is_empty()).then_some(version)
}

/// Whether a `metadata.toml` turns the transaction off.
pub fn metadata_disables_transaction(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.split('#').next().unwrap_or("").replace(' ', "");
        line == "run_in_transaction=false"
    })
}

/// The migrations folder a `diesel.toml` names, if any (relative to the file).
pub fn configured_dir(diesel_toml: &str) -> Option<String> {
    let mut in_section = false;
    for line in diesel_toml.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_section = line == "[migrations_directory]";
            continue;
        }
        if in_section
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "dir"
        {
            return Some(value.trim().trim_matches('"').to_owned());
        }
    }
    None
}

pub(crate) fn load(root: &Path) -> Result<MigrationSet, Error> {
    let mut set = MigrationSet::empty(super::Framework::Diesel, root);
    let mut versions: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for (name, path) in dirs_in(root)? {
        let up = path.join("up.sql");
        let down = path.join("down.sql");
        if !up.is_file() && !down.is_file() {
            continue;
        }
        let Some(version) = version(&name) else { continue };
        if let Some(other) = versions.insert(version.clone(), name.clone()) {
            set.problem(LayoutProblem::new(
                "duplicate-version",
                format!("{name}/up.sql"),
                format!("version {version} is also used by `{other}`"),
            ));
        }
        let metadata = path.join("metadata.toml");
        let mut files = Vec::new();
        let tx = if metadata.is_file() {
            files.push(format!("{name}/metadata.toml"));
            if metadata_disables_transaction(&super::read_text(&metadata)?) {
                TxMode::None
            } else {
                TxMode::PerMigration
            }
        } else {
            TxMode::PerMigration
        };
        let up_script = up.is_file().then(|| {
            files.push(format!("{name}/up.sql"));
            Script::file(format!("{name}/up.sql"), tx, Direction::Up)
        });
        let down_script = down.is_file().then(|| {
            files.push(format!("{name}/down.sql"));
            Script::file(format!("{name}/down.sql"), tx, Direction::Down)
        });
        if up_script.is_none() {
            set.problem(LayoutProblem::new(
                "invalid-migration-file",
                format!("{name}/down.sql"),
                format!("`{name}` has a `down.sql` but no `up.sql`: diesel refuses the folder"),
            ));
        }
        files.sort();
        set.migrations.push(Migration {
            id: name.clone(),
            version: version.clone(),
            key: OrderKey {
                key: Key::Text(version),
                tie: name.clone(),
            },
            up: up_script,
            down: down_script,
            files,
            when: None,
        });
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(
            version("2019-02-26-002946_create_user").as_deref(),
            Some("20190226002946")
        );
        assert_eq!(
            version("2026-03-08-202630-0000_add_fk").as_deref(),
            Some("202603082026300000")
        );
        assert_eq!(
            version("00000000000000_diesel_initial_setup").as_deref(),
            Some("00000000000000")
        );
        assert!(metadata_disables_transaction("run_in_transaction = false\n"));
        assert_eq!(
            configured_dir("[print_schema]\nfile = \"x\"\n[migrations_directory]\ndir = \"db/migrations\"\n")
                .as_deref(),
            Some("db/migrations")
        );
    }
}
