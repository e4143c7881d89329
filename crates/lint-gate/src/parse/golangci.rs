//! golangci-lint's JSON output (`--out-format json` in v1, `--output.json.path` in v2):
//! `{"Issues": [...], "Report": {...}}`, with `Issues` streamed.
//!
//! The rule is the linter that reported the issue (`FromLinter`). golangci-lint leaves `Severity`
//! empty unless `severity` rules are configured, and then fails on every issue, so an empty severity
//! is an error; a severity word that is not recognised takes `unknown-level`. `Replacement` becomes a
//! suggestion.

use super::stream::EachOf;
use std::fmt;
use std::io::BufRead;

use ops_core::{Finding, Level};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use super::input::json_document;
use super::{Diagnostic, ParseContext, ParseError, ParseStats, Position, Sink, Suggestion};

const FORMAT: &str = "golangci-lint JSON";

/// Parses golangci-lint's JSON output.
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
        ReportSeed {
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
            "no `Issues` key: expected golangci-lint's JSON output (`{\"Issues\": [...]}`)",
        ));
    }
    Ok(stats)
}

struct ReportSeed<'a> {
    ctx: &'a ParseContext,
    sink: &'a mut dyn Sink,
    stats: &'a mut ParseStats,
}

impl<'de> DeserializeSeed<'de> for ReportSeed<'_> {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ReportSeed<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a golangci-lint report object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "Issues" {
                let (ctx, sink, stats) = (self.ctx, &mut *self.sink, &mut *self.stats);
                // `"Issues": null` when there are none
                map.next_value_seed(EachOf::new("issues", &mut |issue: Issue| {
                    stats.diagnostics += 1;
                    sink.diagnostic(convert(issue, ctx));
                }))?;
                seen = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(seen)
    }
}

fn convert(issue: Issue, ctx: &ParseContext) -> Diagnostic {
    let (level, unknown) = ctx.level_of(issue.severity.as_deref(), Some(Level::Error));
    let rule = issue
        .from_linter
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| ctx.source.clone());
    let mut finding =
        Finding::new(rule, level, issue.text.unwrap_or_default()).with_source(ctx.source.clone());
    let pos = issue.pos.unwrap_or_default();
    let line_range = issue.line_range.unwrap_or_default();
    if let Some(file) = pos.filename.filter(|f| !f.is_empty()) {
        let end_line = line_range.to.filter(|&to| to > pos.line.unwrap_or(0));
        finding = finding.at(file, super::region(pos.line, pos.column, end_line, None));
    }
    let suggestion = issue.replacement.and_then(|r| {
        let line = u32::try_from(pos.line?).ok().filter(|&l| l > 0)?;
        let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        if let Some(inline) = r.inline {
            let start = clamp(inline.start_col.unwrap_or(0)) + 1;
            return Some(Suggestion {
                start_line: line,
                start_column: Some(start),
                end_line: line,
                end_column: Some(start.saturating_add(clamp(inline.length.unwrap_or(0)))),
                text: inline.new_string.unwrap_or_default(),
            });
        }
        let from = line_range.from.map_or(line, clamp).max(1);
        let to = line_range.to.map_or(from, clamp).max(from);
        if r.need_only_delete {
            return Some(Suggestion {
                start_line: from,
                start_column: None,
                end_line: to,
                end_column: None,
                text: String::new(),
            });
        }
        let lines = r.new_lines?;
        Some(Suggestion {
            start_line: from,
            start_column: None,
            end_line: to,
            end_column: None,
            text: lines.join("\n"),
        })
    });
    let mut diagnostic = Diagnostic::new(finding);
    diagnostic.suggestion = suggestion;
    diagnostic.unknown_severity = unknown;
    diagnostic
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Issue {
    from_linter: Option<String>,
    text: Option<String>,
    severity: Option<String>,
    pos: Option<Pos>,
    line_range: Option<LineRange>,
    replacement: Option<Replacement>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Pos {
    filename: Option<String>,
    line: Option<u64>,
    column: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct LineRange {
    from: Option<u64>,
    to: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Replacement {
    #[serde(default)]
    need_only_delete: bool,
    new_lines: Option<Vec<String>>,
    inline: Option<Inline>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Inline {
    start_col: Option<u64>,
    length: Option<u64>,
    new_string: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ops_core::Region;

    #[test]
    fn reads_issues() {
        let text = r#"{"Issues": [
          {"FromLinter": "errcheck", "Text": "Error return value of `f` is not checked", "Severity": "",
           "SourceLines": ["\tf()"], "Replacement": null,
           "Pos": {"Filename": "main.go", "Offset": 40, "Line": 7, "Column": 3}, "ExpectNoLint": false},
          {"FromLinter": "gofmt", "Text": "File is not `gofmt`-ed", "Severity": "warning",
           "Replacement": {"NeedOnlyDelete": false, "NewLines": ["\tx := 1"]},
           "Pos": {"Filename": "a.go", "Line": 3, "Column": 1}, "LineRange": {"From": 3, "To": 4}},
          {"FromLinter": "x", "Text": "t", "Severity": "catastrophic", "Pos": {"Filename": "b.go", "Line": 1}}
        ], "Report": {"Linters": []}}"#;
        let mut sink = Vec::new();
        let stats = parse(
            &mut text.as_bytes(),
            &ParseContext::new("golangci-lint"),
            &mut sink,
        )
        .unwrap();
        assert_eq!(stats.diagnostics, 3);
        let f = &sink[0].finding;
        assert_eq!(
            (f.rule.as_str(), f.level, f.path.as_deref()),
            ("errcheck", Level::Error, Some("main.go"))
        );
        assert_eq!(
            sink[0].unknown_severity, None,
            "an empty severity is golangci-lint's default"
        );
        assert_eq!(f.region, Some(Region::point(7, 3)));
        assert_eq!(sink[1].finding.level, Level::Warning);
        assert_eq!(sink[1].finding.region.and_then(|r| r.end_line), Some(4));
        let s = sink[1].suggestion.as_ref().unwrap();
        assert_eq!((s.start_line, s.end_line, s.text.as_str()), (3, 4, "\tx := 1"));
        assert_eq!(sink[2].unknown_severity.as_deref(), Some("catastrophic"));
    }

    #[test]
    fn null_issues_and_errors() {
        let mut sink = Vec::new();
        let stats = parse(
            &mut &b"{\"Issues\": null, \"Report\": {}}"[..],
            &ParseContext::new("g"),
            &mut sink,
        )
        .unwrap();
        assert_eq!(stats.diagnostics, 0);
        let err = parse(&mut &b"{\"Report\": {}}"[..], &ParseContext::new("g"), &mut sink).unwrap_err();
        assert!(err.to_string().contains("no `Issues` key"), "{err}");
    }
}
