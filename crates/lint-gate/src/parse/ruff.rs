//! ruff's JSON output (`ruff check --output-format json`): an array of violations, streamed one at
//! a time.
//!
//! The rule is the violation's `code` (`F401`); a violation without one (a syntax error) takes its
//! `name`, else `syntax-error`. ruff fails on every violation it prints, so a missing `severity`
//! (ruff before 0.15 writes none) is an error; a word that is not recognised takes `unknown-level`.
//! `end_location`'s column is exclusive, as in ruff's own ranges. Paths are absolute, as ruff writes
//! them; the pipeline makes them relative to the workspace.

use std::io::BufRead;

use ops_core::{Finding, Level};
use serde::Deserialize;

use super::input::json_document;
use super::stream::EachOf;
use super::{Diagnostic, ParseContext, ParseError, ParseStats, Sink};

const FORMAT: &str = "ruff JSON";

/// Parses ruff's JSON output.
pub fn parse(
    input: &mut dyn BufRead,
    ctx: &ParseContext,
    sink: &mut dyn Sink,
) -> Result<ParseStats, ParseError> {
    let mut stats = ParseStats::default();
    json_document(
        input,
        ctx,
        FORMAT,
        EachOf::new(
            "ruff violations (`[{\"code\": …, \"filename\": …, \"location\": …}]`)",
            &mut |v: Violation| {
                stats.diagnostics += 1;
                sink.diagnostic(convert(v, ctx));
            },
        ),
    )?;
    Ok(stats)
}

fn convert(v: Violation, ctx: &ParseContext) -> Diagnostic {
    let (level, unknown) = ctx.level_of(v.severity.as_deref(), Some(Level::Error));
    let rule = v
        .code
        .filter(|c| !c.is_empty())
        .or(v.name.filter(|n| !n.is_empty()))
        .unwrap_or_else(|| "syntax-error".to_owned());
    let start = v.location.unwrap_or_default();
    let end = v.end_location.unwrap_or_default();
    let region = super::region(
        start.row,
        start.column,
        end.row,
        end.column.and_then(|c| c.checked_sub(1)),
    );
    let finding = Finding::new(rule, level, v.message.unwrap_or_default()).with_source(ctx.source.clone());
    let finding = match v.filename.filter(|f| !f.is_empty()) {
        Some(file) => finding.at(file, region),
        None => finding,
    };
    let mut diagnostic = Diagnostic::new(finding);
    diagnostic.unknown_severity = unknown;
    diagnostic
}

#[derive(Deserialize)]
struct Violation {
    code: Option<String>,
    name: Option<String>,
    message: Option<String>,
    filename: Option<String>,
    location: Option<Location>,
    end_location: Option<Location>,
    severity: Option<String>,
}

#[derive(Deserialize, Default, Clone, Copy)]
struct Location {
    row: Option<u64>,
    column: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ops_core::Region;

    fn read(text: &str) -> Result<Vec<Diagnostic>, String> {
        let mut sink = Vec::new();
        parse(&mut text.as_bytes(), &ParseContext::new("ruff"), &mut sink).map_err(|e| e.to_string())?;
        Ok(sink)
    }

    #[test]
    fn violations() {
        let text = r#"[
          {"cell": null, "code": "F401", "end_location": {"column": 10, "row": 1},
           "filename": "/w/py/app.py", "fix": {"applicability": "safe", "edits": [], "message": "Remove unused import"},
           "location": {"column": 8, "row": 1}, "message": "`os` imported but unused", "name": "unused-import",
           "noqa_row": 1, "severity": "error", "url": "https://docs.astral.sh/ruff/rules/unused-import"},
          {"code": "E501", "filename": "/w/py/b.py", "location": {"column": 89, "row": 3},
           "end_location": {"column": 120, "row": 3}, "message": "Line too long (119 > 88)", "fix": null},
          {"code": null, "filename": "/w/py/c.py", "location": {"column": 1, "row": 2},
           "end_location": {"column": 5, "row": 2}, "message": "SyntaxError: Expected an expression"},
          {"code": "W291", "filename": "/w/py/d.py", "location": {"column": 1, "row": 1}, "message": "m", "severity": "loud"}
        ]"#;
        let got = read(text).unwrap();
        let rows: Vec<(&str, Level, Option<&str>, Option<Region>)> = got
            .iter()
            .map(|d| {
                let f = &d.finding;
                (f.rule.as_str(), f.level, f.path.as_deref(), f.region)
            })
            .collect();
        assert_eq!(
            rows[0],
            (
                "F401",
                Level::Error,
                Some("/w/py/app.py"),
                Some(Region {
                    start_line: 1,
                    start_column: Some(8),
                    end_line: Some(1),
                    end_column: Some(9)
                })
            )
        );
        assert_eq!(got[0].finding.message, "`os` imported but unused");
        assert_eq!(got[0].finding.source.as_deref(), Some("ruff"));
        assert_eq!(
            (rows[1].0, rows[1].1),
            ("E501", Level::Error),
            "no severity: ruff fails on it"
        );
        assert_eq!(rows[2].0, "syntax-error");
        assert_eq!(got[3].unknown_severity.as_deref(), Some("loud"));
        assert!(read("[]").unwrap().is_empty());
    }

    #[test]
    fn other_json_is_an_error_naming_the_format() {
        let err = read(r#"{"comments": []}"#).unwrap_err();
        assert!(err.contains("not valid ruff JSON"), "{err}");
        assert!(err.contains("ruff violations"), "{err}");
    }
}
