//! node-pg-migrate SQL migrations: `<prefix>_<name>.sql` with `-- Up Migration` and `-- Down Migration`
//! sections (matched by `^\s*--[\s-]*(up|down)\s+migration`, case-insensitive). The prefix is a number
//! (a 13-digit millisecond timestamp or a 17-digit UTC `YYYYMMDDHHmmssSSS`); ties go by name. Every
//! migration runs in a transaction (`noTransaction` is only reachable from JavaScript migrations), and
//! `checkOrder` (on by default) refuses an unrun migration that sorts before a run one.

use std::path::Path;

use super::{
    Direction, Key, LayoutProblem, Migration, MigrationSet, OrderKey, Script, TxMode, files_in,
    lines_with_offsets,
};
use crate::error::Error;

/// The direction a section marker line starts, if it is one.
pub fn marker(line: &str) -> Option<Direction> {
    let rest = line.trim_start().strip_prefix("--")?;
    let rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '-');
    let lower = rest.to_ascii_lowercase();
    for (word, direction) in [("up", Direction::Up), ("down", Direction::Down)] {
        if let Some(after) = lower.strip_prefix(word)
            && after.starts_with(char::is_whitespace)
            && after.trim_start().starts_with("migration")
        {
            return Some(direction);
        }
    }
    None
}

pub(crate) fn load(root: &Path) -> Result<MigrationSet, Error> {
    let mut set = MigrationSet::empty(super::Framework::NodePgMigrate, root);
    for (name, path) in files_in(root)? {
        let Some(stem) = name.strip_suffix(".sql") else {
            continue;
        };
        let prefix = super::leading_digits(stem);
        let Some(number) = super::number(prefix) else {
            continue;
        };
        let text = super::read_text(&path)?;
        let mut up = None;
        let mut down = None;
        let mut current: Option<(Direction, usize, u32)> = None;
        let mut close = |current: Option<(Direction, usize, u32)>, end: usize| {
            if let Some((direction, start, line)) = current {
                let mut script = Script::file(name.clone(), TxMode::PerMigration, direction);
                script.range = Some((start, end));
                script.line = line;
                match direction {
                    Direction::Up => up = up.take().or(Some(script)),
                    Direction::Down => down = down.take().or(Some(script)),
                }
            }
        };
        for (offset, line_no, line) in lines_with_offsets(&text) {
            if let Some(direction) = marker(line) {
                close(current.take(), offset);
                current = Some((direction, offset + line.len(), line_no + 1));
            }
        }
        close(current, text.len());
        if up.is_none() {
            set.problem(LayoutProblem::new(
                "invalid-migration-file",
                name.clone(),
                "no `-- Up Migration` section",
            ));
        }
        set.migrations.push(Migration {
            id: name.clone(),
            version: prefix.to_owned(),
            key: OrderKey {
                key: Key::Number(number),
                tie: name.clone(),
            },
            up,
            down,
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
    fn markers() {
        assert_eq!(marker("-- Up Migration\n"), Some(Direction::Up));
        assert_eq!(marker("  ---- down   migration"), Some(Direction::Down));
        assert_eq!(marker("-- upmigration"), None);
        assert_eq!(marker("select 1 -- up migration"), None);
    }
}
