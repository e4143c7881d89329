//! goose: `<version>_<name>.sql` (version a positive 64-bit number before the first `_`) with annotations
//! at the start of a line: `-- +goose Up` (required), `-- +goose Down`, `-- +goose StatementBegin` /
//! `StatementEnd`, `-- +goose NO TRANSACTION`, `-- +goose ENVSUB ON|OFF` (matched case-insensitively).
//!
//! goose splits a section itself: a statement ends at a line whose last word (before a `--` comment)
//! ends with `;`, or spans a `StatementBegin` … `StatementEnd` block, and each piece is sent as one query.
//! The Up section runs in one transaction unless the file says `NO TRANSACTION`. Out-of-order versions are
//! refused unless goose runs with `-allow-missing`.

use std::path::Path;

use super::{
    Direction, Key, LayoutProblem, Migration, MigrationSet, OrderKey, Script, SplitKind, TxMode, files_in,
    lines_with_offsets,
};
use crate::error::Error;
use crate::sql::split::Segment;

/// A goose annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Annotation {
    /// `+goose Up`.
    Up,
    /// `+goose Down`.
    Down,
    /// `+goose StatementBegin`.
    StatementBegin,
    /// `+goose StatementEnd`.
    StatementEnd,
    /// `+goose NO TRANSACTION`.
    NoTransaction,
    /// `+goose ENVSUB ON`.
    EnvsubOn,
    /// `+goose ENVSUB OFF`.
    EnvsubOff,
}

/// The annotation on a line, if it is one.
pub fn annotation(line: &str) -> Option<Annotation> {
    let rest = line.strip_prefix("--")?.trim();
    let rest = rest.strip_prefix("+goose")?.trim();
    let words: Vec<String> = rest.split_whitespace().map(str::to_ascii_lowercase).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    Some(match words.as_slice() {
        ["up", ..] => Annotation::Up,
        ["down", ..] => Annotation::Down,
        ["statementbegin", ..] => Annotation::StatementBegin,
        ["statementend", ..] => Annotation::StatementEnd,
        ["no", "transaction", ..] => Annotation::NoTransaction,
        ["envsub", "on", ..] => Annotation::EnvsubOn,
        ["envsub", "off", ..] => Annotation::EnvsubOff,
        _ => return None,
    })
}

/// Where the sections of a goose file are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sections {
    /// Byte range and first line of the Up section (after its annotation line).
    pub up: Option<(usize, usize, u32)>,
    /// Same for Down.
    pub down: Option<(usize, usize, u32)>,
    /// `NO TRANSACTION` seen.
    pub no_transaction: bool,
    /// `ENVSUB ON` seen.
    pub envsub: bool,
}

/// Finds the sections.
pub fn sections(text: &str) -> Sections {
    let mut out = Sections::default();
    let mut current: Option<(Direction, usize, u32)> = None;
    let close = |out: &mut Sections, current: Option<(Direction, usize, u32)>, end: usize| {
        if let Some((direction, start, line)) = current {
            let range = Some((start, end, line));
            match direction {
                Direction::Up if out.up.is_none() => out.up = range,
                Direction::Down if out.down.is_none() => out.down = range,
                _ => {}
            }
        }
    };
    for (offset, line_no, line) in lines_with_offsets(text) {
        match annotation(line) {
            Some(Annotation::Up) => {
                close(&mut out, current, offset);
                current = Some((Direction::Up, offset + line.len(), line_no + 1));
            }
            Some(Annotation::Down) => {
                close(&mut out, current, offset);
                current = Some((Direction::Down, offset + line.len(), line_no + 1));
            }
            Some(Annotation::NoTransaction) => out.no_transaction = true,
            Some(Annotation::EnvsubOn) => out.envsub = true,
            _ => {}
        }
    }
    close(&mut out, current, text.len());
    out
}

/// goose's end-of-statement test: the last word before a `--` comment ends with `;`.
pub fn ends_with_semicolon(line: &str) -> bool {
    let mut last = "";
    for word in line.split_whitespace() {
        if word.starts_with("--") {
            break;
        }
        last = word;
    }
    last.ends_with(';')
}

/// Splits a section the way goose does. `offset` and `line` locate `section` in its file.
pub fn split(section: &str, offset: usize, line: u32) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start: Option<(usize, u32)> = None;
    let mut in_block = false;
    let mut flush = |current: &mut String, start: &mut Option<(usize, u32)>, terminated: bool| {
        if let Some((at, at_line)) = start.take() {
            out.push(Segment {
                text: std::mem::take(current),
                offset: at,
                line: at_line,
                column: 1,
                terminated,
            });
        }
    };
    for (rel, n, text) in lines_with_offsets(section) {
        let line_no = line + n - 1;
        if start.is_none() {
            start = Some((offset + rel, line_no));
        }
        current.push_str(text);
        match annotation(text) {
            Some(Annotation::StatementBegin) => in_block = true,
            Some(Annotation::StatementEnd) => {
                in_block = false;
                flush(&mut current, &mut start, true);
            }
            _ if !in_block && ends_with_semicolon(text) => flush(&mut current, &mut start, true),
            _ => {}
        }
    }
    flush(&mut current, &mut start, false);
    out
}

pub(crate) fn load(root: &Path) -> Result<MigrationSet, Error> {
    let mut set = MigrationSet::empty(super::Framework::Goose, root);
    let mut versions: std::collections::BTreeMap<i64, String> = std::collections::BTreeMap::new();
    for (name, path) in files_in(root)? {
        let Some(stem) = name.strip_suffix(".sql") else {
            continue;
        };
        let Some((version, _)) = stem.split_once('_') else {
            continue;
        };
        let Ok(version) = version.parse::<i64>() else {
            continue;
        };
        if version <= 0 {
            set.problem(LayoutProblem::new(
                "invalid-migration-file",
                name.clone(),
                "goose versions must be greater than zero",
            ));
            continue;
        }
        if let Some(other) = versions.insert(version, name.clone()) {
            set.problem(LayoutProblem::new(
                "duplicate-version",
                name.clone(),
                format!("version {version} is also used by `{other}`: goose refuses to run"),
            ));
        }
        let text = super::read_text(&path)?;
        let found = sections(&text);
        let tx = if found.no_transaction {
            TxMode::None
        } else {
            TxMode::PerMigration
        };
        let make = |range: Option<(usize, usize, u32)>, direction| {
            range.map(|(start, end, line)| Script {
                path: name.clone(),
                range: Some((start, end)),
                line,
                tx,
                split: SplitKind::Goose,
                placeholders: found.envsub,
                direction,
            })
        };
        if found.up.is_none() {
            set.problem(LayoutProblem::new(
                "invalid-migration-file",
                name.clone(),
                "no `-- +goose Up` annotation: goose refuses the file",
            ));
        }
        set.migrations.push(Migration {
            id: name.clone(),
            version: version.to_string(),
            key: OrderKey {
                key: Key::Number(u128::try_from(version).unwrap_or(0)),
                tie: name.clone(),
            },
            up: make(found.up, Direction::Up),
            down: make(found.down, Direction::Down),
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
    fn annotations_are_case_insensitive() {
        assert_eq!(annotation("-- +goose Up\n"), Some(Annotation::Up));
        assert_eq!(
            annotation("-- +goose no transaction"),
            Some(Annotation::NoTransaction)
        );
        assert_eq!(
            annotation("--+goose StatementBegin"),
            Some(Annotation::StatementBegin)
        );
        assert_eq!(annotation(" -- +goose Up"), None, "column 0 only");
        assert_eq!(annotation("-- goose Up"), None);
    }

    #[test]
    fn sections_and_split() {
        let text = "-- +goose Up\n-- +goose NO TRANSACTION\ncreate index concurrently i on t (a);\n-- +goose StatementBegin\ncreate function f() returns int as $$\nbegin return 1; end\n$$ language plpgsql;\n-- +goose StatementEnd\n-- +goose Down\ndrop index i;\n";
        let found = sections(text);
        assert!(found.no_transaction);
        let (start, end, line) = found.up.unwrap();
        assert_eq!(line, 2);
        let pieces = split(&text[start..end], start, line);
        assert_eq!(pieces.len(), 2, "{pieces:#?}");
        assert!(pieces[0].text.contains("create index concurrently"));
        assert_eq!(pieces[1].line, 4);
        assert!(pieces[1].text.contains("begin return 1; end"));
        let (ds, de, dl) = found.down.unwrap();
        assert_eq!(&text[ds..de], "drop index i;\n");
        assert_eq!(dl, 10);
        assert!(ends_with_semicolon("select 1; -- done"));
        assert!(!ends_with_semicolon("select ';' || x -- ;"));
    }
}
