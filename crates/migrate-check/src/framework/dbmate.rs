//! dbmate: `db/migrations/<version>_<name>.sql` (`^(\d+).*\.sql$`, version = leading digits), sorted by
//! file name, with a `-- migrate:up` and a `-- migrate:down` section (options on the directive line,
//! e.g. `transaction:false`). SQL before the first `migrate:up` is an error. Each section runs in a
//! transaction; with `transaction:false` it is sent as one query (one implicit transaction when it holds
//! several statements). psql meta-commands (`\restrict`) are stripped. `--strict` refuses out-of-order
//! versions.

use std::path::Path;

use super::{
    Direction, Key, LayoutProblem, Migration, MigrationSet, OrderKey, Script, TxMode, files_in,
    lines_with_offsets,
};
use crate::error::Error;

/// A dbmate directive: direction and whether `transaction:false` was given.
pub fn directive(line: &str) -> Option<(Direction, bool)> {
    let rest = line.strip_prefix("--")?.trim_start();
    let (direction, options) = if let Some(o) = rest.strip_prefix("migrate:up") {
        (Direction::Up, o)
    } else if let Some(o) = rest.strip_prefix("migrate:down") {
        (Direction::Down, o)
    } else {
        return None;
    };
    if !options.is_empty() && !options.starts_with(char::is_whitespace) {
        return None;
    }
    let no_tx = options
        .split_whitespace()
        .any(|o| o.eq_ignore_ascii_case("transaction:false"));
    Some((direction, no_tx))
}

/// A section: `(direction, no_transaction, start, end, first_line)`.
pub type Section = (Direction, bool, usize, usize, u32);

/// Sections, and whether code precedes the first up.
pub fn sections(text: &str) -> (Vec<Section>, bool) {
    let mut out = Vec::new();
    let mut current: Option<(Direction, bool, usize, u32)> = None;
    let mut code_before = false;
    for (offset, line_no, line) in lines_with_offsets(text) {
        if let Some((direction, no_tx)) = directive(line) {
            if let Some((d, n, start, l)) = current.take() {
                out.push((d, n, start, offset, l));
            }
            current = Some((direction, no_tx, offset + line.len(), line_no + 1));
        } else if current.is_none() && crate::sql::split::has_code(line) {
            code_before = true;
        }
    }
    if let Some((d, n, start, l)) = current {
        out.push((d, n, start, text.len(), l));
    }
    (out, code_before)
}

pub(crate) fn load(root: &Path) -> Result<MigrationSet, Error> {
    let mut set = MigrationSet::empty(super::Framework::Dbmate, root);
    let mut versions: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for (name, path) in files_in(root)? {
        let version = super::leading_digits(&name);
        if version.is_empty() || !name.ends_with(".sql") {
            continue;
        }
        if let Some(other) = versions.insert(version.to_owned(), name.clone()) {
            set.problem(LayoutProblem::new(
                "duplicate-version",
                name.clone(),
                format!("version {version} is also used by `{other}`"),
            ));
        }
        let text = super::read_text(&path)?;
        let (found, code_before) = sections(&text);
        if code_before {
            set.problem(LayoutProblem::new(
                "invalid-migration-file",
                name.clone(),
                "SQL before the first `-- migrate:up`: dbmate refuses the file",
            ));
        }
        let pick = |direction: Direction| {
            found
                .iter()
                .find(|s| s.0 == direction)
                .map(|&(d, no_tx, start, end, line)| Script {
                    path: name.clone(),
                    range: Some((start, end)),
                    line,
                    tx: if no_tx {
                        TxMode::Implicit
                    } else {
                        TxMode::PerMigration
                    },
                    split: super::SplitKind::Lexical,
                    placeholders: false,
                    direction: d,
                })
        };
        let up = pick(Direction::Up);
        if up.is_none() {
            set.problem(LayoutProblem::new(
                "invalid-migration-file",
                name.clone(),
                "no `-- migrate:up` section: dbmate refuses the file",
            ));
        }
        set.migrations.push(Migration {
            id: name.clone(),
            version: version.to_owned(),
            key: OrderKey {
                key: Key::Text(name.clone()),
                tie: String::new(),
            },
            up,
            down: pick(Direction::Down),
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
    fn directives_and_sections() {
        assert_eq!(directive("-- migrate:up\n"), Some((Direction::Up, false)));
        assert_eq!(
            directive("-- migrate:up transaction:false"),
            Some((Direction::Up, true))
        );
        assert_eq!(directive("-- migrate:upx"), None);
        let text = "-- migrate:up transaction:false\ncreate index concurrently i on t (a);\n\n-- migrate:down\ndrop index i;\n";
        let (found, code_before) = sections(text);
        assert!(!code_before);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, Direction::Up);
        assert!(found[0].1);
        assert_eq!(&text[found[1].2..found[1].3], "drop index i;\n");
        assert_eq!(found[1].4, 5);
        assert!(sections("select 1;\n-- migrate:up\n").1);
    }
}
