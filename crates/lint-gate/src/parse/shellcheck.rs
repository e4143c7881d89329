//! shellcheck's JSON outputs: `-f json1` (`{"comments": [...]}`) and `-f json` (the same comments
//! as a bare array), streamed one comment at a time.
//!
//! The rule is `SC` and the comment's `code` (`SC2086`, as shellcheck's wiki and `disable=` name
//! it). `level` is `error`, `warning`, `info` or `style`: errors and warnings as such, the other two
//! notices. `endColumn` is exclusive. `fix` is left out: its replacements are ordered by
//! precedence and insertion point, which a suggestion cannot express.

use std::fmt;
use std::io::BufRead;

use ops_core::Finding;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::input::json_document;
use super::stream::EachOf;
use super::{Diagnostic, ParseContext, ParseError, ParseStats, Position, Sink};

const FORMAT: &str = "shellcheck JSON";

/// Parses `shellcheck -f json1` or `shellcheck -f json`.
pub fn parse(
    input: &mut dyn BufRead,
    ctx: &ParseContext,
    sink: &mut dyn Sink,
) -> Result<ParseStats, ParseError> {
    let mut stats = ParseStats::default();
    let (seen, end) = json_document(
        input,
        ctx,
        FORMAT,
        Report {
            ctx,
            sink,
            stats: &mut stats,
        },
    )?;
    if !seen {
        return Err(ctx.error(
            FORMAT,
            Position {
                line: 0,
                column: None,
                offset: end,
            },
            "no `comments` key: expected `shellcheck -f json1` output (`{\"comments\": [...]}`)",
        ));
    }
    Ok(stats)
}

struct Report<'a> {
    ctx: &'a ParseContext,
    sink: &'a mut dyn Sink,
    stats: &'a mut ParseStats,
}

impl Report<'_> {
    fn each(&mut self) -> impl FnMut(Comment) + '_ {
        |comment| {
            self.stats.diagnostics += 1;
            self.sink.diagnostic(convert(comment, self.ctx));
        }
    }
}

impl<'de> DeserializeSeed<'de> for Report<'_> {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Report<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("shellcheck's `-f json1` object (`{\"comments\": [...]}`) or `-f json` array")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<bool, A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "comments" {
                map.next_value_seed(EachOf::new("shellcheck comments", &mut self.each()))?;
                seen = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(seen)
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<bool, A::Error> {
        let mut each = self.each();
        while let Some(comment) = seq.next_element::<Comment>()? {
            each(comment);
        }
        Ok(true)
    }
}

fn convert(c: Comment, ctx: &ParseContext) -> Diagnostic {
    let (level, unknown) = ctx.level_of(c.level.as_deref(), None);
    let rule = match c.code {
        Some(Value::Number(n)) => format!("SC{n}"),
        Some(Value::String(s)) if !s.is_empty() => {
            if s.starts_with("SC") {
                s
            } else {
                format!("SC{s}")
            }
        }
        _ => ctx.source.clone(),
    };
    let region = super::region(
        c.line,
        c.column,
        c.end_line,
        c.end_column.and_then(|n| n.checked_sub(1)),
    );
    let finding = Finding::new(rule, level, c.message.unwrap_or_default()).with_source(ctx.source.clone());
    let finding = match c.file.filter(|f| !f.is_empty()) {
        Some(file) => finding.at(file, region),
        None => finding,
    };
    let mut diagnostic = Diagnostic::new(finding);
    diagnostic.unknown_severity = unknown;
    diagnostic
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Comment {
    file: Option<String>,
    line: Option<u64>,
    end_line: Option<u64>,
    column: Option<u64>,
    end_column: Option<u64>,
    level: Option<String>,
    code: Option<Value>,
    message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ops_core::{Level, Region};

    fn read(text: &str) -> Result<Vec<Diagnostic>, String> {
        let mut sink = Vec::new();
        parse(&mut text.as_bytes(), &ParseContext::new("shellcheck"), &mut sink)
            .map_err(|e| e.to_string())?;
        Ok(sink)
    }

    const COMMENTS: &str = r#"[
      {"file": "x.sh", "line": 6, "endLine": 6, "column": 6, "endColumn": 8, "level": "info", "code": 2086,
       "message": "Double quote to prevent globbing and word splitting.", "fix": {"replacements": []}},
      {"file": "x.sh", "line": 8, "endLine": 8, "column": 1, "endColumn": 9, "level": "warning", "code": 2164,
       "message": "Use 'cd ... || exit' in case cd fails.", "fix": null},
      {"file": "x.sh", "line": 1, "endLine": 1, "column": 1, "endColumn": 1, "level": "error", "code": 2148,
       "message": "Tips depend on target shell.", "fix": null},
      {"file": "x.sh", "line": 2, "column": 3, "level": "style", "code": 2006, "message": "Use $(...)."}
    ]"#;

    #[test]
    fn json1_and_json_read_the_same() {
        let json1 = read(&format!("{{\"comments\": {COMMENTS}}}")).unwrap();
        let json = read(COMMENTS).unwrap();
        for got in [&json1, &json] {
            let rows: Vec<(&str, Level)> = got
                .iter()
                .map(|d| (d.finding.rule.as_str(), d.finding.level))
                .collect();
            assert_eq!(
                rows,
                vec![
                    ("SC2086", Level::Notice),
                    ("SC2164", Level::Warning),
                    ("SC2148", Level::Error),
                    ("SC2006", Level::Notice)
                ]
            );
            assert_eq!(
                got[0].finding.region,
                Some(Region {
                    start_line: 6,
                    start_column: Some(6),
                    end_line: Some(6),
                    end_column: Some(7)
                })
            );
            assert_eq!(got[0].finding.path.as_deref(), Some("x.sh"));
            assert!(got.iter().all(|d| d.unknown_severity.is_none()));
        }
        assert!(read("{\"comments\": []}").unwrap().is_empty());
        assert!(read("[]").unwrap().is_empty());
    }

    #[test]
    fn other_json_is_an_error() {
        let err = read("{\"runs\": []}").unwrap_err();
        assert!(err.contains("no `comments` key"), "{err}");
        let err = read("[{\"line\": \"x\"}]").unwrap_err();
        assert!(err.contains("not valid shellcheck JSON"), "{err}");
    }
}
