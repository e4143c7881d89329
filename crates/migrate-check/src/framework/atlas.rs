//! Atlas: `<version>_<name>.sql` applied in file-name order, protected by `atlas.sum`.
//!
//! File directives sit in the header comments (separated from the statements by a blank line):
//! `-- atlas:txmode none|file|all` (default `file`: one transaction per file), `-- atlas:sum ignore`.
//! Out-of-order files (a version below the newest applied) are refused by `migrate apply`.

use std::path::Path;

use super::{Direction, Key, Migration, MigrationSet, OrderKey, Script, TxMode, files_in};
use crate::error::Error;

/// The sum file, relative to the migrations folder.
pub const SUM: &str = "atlas.sum";

/// The `txmode` a file asks for, from its header comments.
pub fn txmode(text: &str) -> Option<TxMode> {
    for line in text.lines() {
        let line = line.trim();
        if !(line.starts_with("--") || line.starts_with('#')) {
            break;
        }
        if let Some(at) = line.find("atlas:txmode") {
            let mode = line[at + "atlas:txmode".len()..].trim();
            return match mode.split_whitespace().next() {
                Some("none") => Some(TxMode::None),
                Some("all") => Some(TxMode::AllPending),
                Some("file") => Some(TxMode::PerMigration),
                _ => None,
            };
        }
    }
    None
}

pub(crate) fn load(root: &Path) -> Result<MigrationSet, Error> {
    let mut set = MigrationSet::empty(super::Framework::Atlas, root);
    if root.join(SUM).is_file() {
        set.metadata_files.push(SUM.to_owned());
    }
    for (name, path) in files_in(root)? {
        let Some(stem) = name.strip_suffix(".sql") else {
            continue;
        };
        let version = stem.split_once('_').map_or(stem, |(v, _)| v);
        let head = super::read_head(&path, 4096)?;
        let tx = txmode(&head).unwrap_or(TxMode::PerMigration);
        set.migrations.push(Migration {
            id: name.clone(),
            version: version.to_owned(),
            key: OrderKey {
                key: Key::Text(name.clone()),
                tie: String::new(),
            },
            up: Some(Script::file(name.clone(), tx, Direction::Up)),
            down: None,
            files: vec![name.clone()],
            when: None,
        });
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txmode_directive() {
        assert_eq!(
            txmode("-- atlas:txmode none\n\ncreate index concurrently i on t (a);"),
            Some(TxMode::None)
        );
        assert_eq!(txmode("-- atlas:txmode all\n"), Some(TxMode::AllPending));
        assert_eq!(txmode("create table t (a int);\n-- atlas:txmode none"), None);
    }
}
