//! reviewdog's diagnostic format: rdjson (one `DiagnosticResult` document, its `diagnostics`
//! streamed) and rdjsonl (one `Diagnostic` per line).
//!
//! Field names are accepted in both protobuf JSON spellings (`original_output`, `originalOutput`);
//! `severity` as the enum name or number. `UNKNOWN_SEVERITY` or no severity falls back to the
//! document's `severity`, then to `unknown-level`. Range ends are exclusive (as the format defines
//! them); ours are inclusive.

use super::stream::EachOf;
use std::fmt;
use std::io::BufRead;

use ops_core::{Finding, Level, Region};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use super::input::{Lines, json_document, json_error};
use super::{Diagnostic, ParseContext, ParseError, ParseStats, Position, Related, Sink, Suggestion};

/// Parses an rdjson document.
pub fn parse_document(
    input: &mut dyn BufRead,
    ctx: &ParseContext,
    sink: &mut dyn Sink,
) -> Result<ParseStats, ParseError> {
    let mut stats = ParseStats::default();
    let (seen, end) = json_document(
        input,
        ctx,
        "rdjson",
        ResultSeed {
            ctx,
            sink,
            stats: &mut stats,
        },
    )?;
    if !seen {
        return Err(ctx.error(
            "rdjson",
            Position {
                line: 0,
                column: None,
                offset: end,
            },
            "no `diagnostics` array: expected an rdjson `DiagnosticResult` (`{\"diagnostics\": [...]}`)",
        ));
    }
    Ok(stats)
}

/// Parses rdjsonl: one diagnostic object per line; blank lines are skipped.
pub fn parse_lines(
    input: &mut dyn BufRead,
    ctx: &ParseContext,
    sink: &mut dyn Sink,
) -> Result<ParseStats, ParseError> {
    let mut stats = ParseStats::default();
    let mut lines = Lines::new(input);
    while let Some(line) = lines.next_line(ctx, "rdjsonl")? {
        if line.bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let raw: RawDiagnostic = serde_json::from_slice(line.bytes).map_err(|e| {
            let mut err = json_error(
                ctx,
                "rdjsonl",
                &e,
                line.offset + e.column().saturating_sub(1) as u64,
            );
            err.line = line.number;
            err
        })?;
        stats.diagnostics += 1;
        sink.diagnostic(convert(raw, ctx, &Defaults::default()));
    }
    Ok(stats)
}

#[derive(Default)]
struct Defaults {
    source: Option<String>,
    severity: Option<Level>,
}

struct ResultSeed<'a> {
    ctx: &'a ParseContext,
    sink: &'a mut dyn Sink,
    stats: &'a mut ParseStats,
}

impl<'de> DeserializeSeed<'de> for ResultSeed<'_> {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ResultSeed<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an rdjson DiagnosticResult object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        // `source` and `severity` normally come first; diagnostics read before them use the
        // per-diagnostic values only.
        let mut defaults = Defaults::default();
        let mut seen = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "source" => {
                    let source: Option<RawSource> = map.next_value()?;
                    defaults.source = source.and_then(|s| s.name).filter(|n| !n.is_empty());
                }
                "severity" => {
                    let severity: Option<Value> = map.next_value()?;
                    defaults.severity = severity.as_ref().and_then(severity_of);
                }
                "diagnostics" => {
                    let (ctx, sink, stats) = (self.ctx, &mut *self.sink, &mut *self.stats);
                    map.next_value_seed(EachOf::new("diagnostics", &mut |raw: RawDiagnostic| {
                        stats.diagnostics += 1;
                        sink.diagnostic(convert(raw, ctx, &defaults));
                    }))?;
                    seen = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(seen)
    }
}

fn severity_of(value: &Value) -> Option<Level> {
    match value {
        Value::String(s) => match s.as_str() {
            "ERROR" => Some(Level::Error),
            "WARNING" => Some(Level::Warning),
            "INFO" => Some(Level::Notice),
            _ => None,
        },
        Value::Number(n) => match n.as_u64() {
            Some(1) => Some(Level::Error),
            Some(2) => Some(Level::Warning),
            Some(3) => Some(Level::Notice),
            _ => None,
        },
        _ => None,
    }
}

fn convert(raw: RawDiagnostic, ctx: &ParseContext, defaults: &Defaults) -> Diagnostic {
    let (level, unknown) = match raw.severity.as_ref().and_then(severity_of) {
        Some(level) => (level, None),
        None => match defaults.severity {
            Some(level) => (level, None),
            None => {
                let word = match &raw.severity {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                (ctx.unknown_level, Some(word))
            }
        },
    };
    let source = raw
        .source
        .and_then(|s| s.name)
        .filter(|n| !n.is_empty())
        .or_else(|| defaults.source.clone())
        .unwrap_or_else(|| ctx.source.clone());
    let rule = raw
        .code
        .and_then(|c| c.value)
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| source.clone());
    let mut finding = Finding::new(rule, level, raw.message.unwrap_or_default()).with_source(source);
    if let Some(location) = raw.location
        && let Some(path) = location.path.filter(|p| !p.is_empty())
    {
        finding = finding.at(path, location.range.as_ref().and_then(RawRange::region));
    }
    let suggestion = raw.suggestions.unwrap_or_default().into_iter().find_map(|s| {
        s.range
            .as_ref()
            .and_then(|r| r.suggestion(s.text.clone().unwrap_or_default()))
    });
    let related = raw
        .related_locations
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            let location = r.location.unwrap_or_default();
            Related {
                path: location.path.filter(|p| !p.is_empty()),
                region: location.range.as_ref().and_then(RawRange::region),
                message: r.message.unwrap_or_default(),
            }
        })
        .collect();
    Diagnostic {
        finding,
        related,
        suggestion,
        unknown_severity: unknown,
    }
}

#[derive(Deserialize, Default)]
struct RawDiagnostic {
    message: Option<String>,
    location: Option<RawLocation>,
    severity: Option<Value>,
    source: Option<RawSource>,
    code: Option<RawCode>,
    suggestions: Option<Vec<RawSuggestion>>,
    #[serde(alias = "relatedLocations")]
    related_locations: Option<Vec<RawRelated>>,
}

#[derive(Deserialize, Default)]
struct RawLocation {
    path: Option<String>,
    range: Option<RawRange>,
}

#[derive(Deserialize, Default)]
struct RawRange {
    start: Option<RawPosition>,
    end: Option<RawPosition>,
}

#[derive(Deserialize, Default, Clone, Copy)]
struct RawPosition {
    line: Option<i64>,
    column: Option<i64>,
}

impl RawRange {
    fn region(&self) -> Option<Region> {
        let start = self.start?;
        let positive = |n: Option<i64>| n.and_then(|n| u64::try_from(n).ok()).filter(|&n| n > 0);
        let start_line = positive(start.line)?;
        let end = self.end.unwrap_or(start);
        let end_line = positive(end.line).unwrap_or(start_line);
        // exclusive end column → inclusive; a linewise range (no columns) keeps no columns
        let end_column = positive(end.column)
            .and_then(|c| c.checked_sub(1))
            .filter(|&c| c > 0);
        super::region(
            Some(start_line),
            positive(start.column),
            Some(end_line),
            end_column,
        )
    }

    fn suggestion(&self, text: String) -> Option<Suggestion> {
        let start = self.start?;
        let positive = |n: Option<i64>| n.and_then(|n| u32::try_from(n).ok()).filter(|&n| n > 0);
        let start_line = positive(start.line)?;
        let end = self.end.unwrap_or(start);
        Some(Suggestion {
            start_line,
            start_column: positive(start.column),
            end_line: positive(end.line).unwrap_or(start_line).max(start_line),
            end_column: positive(end.column),
            text,
        })
    }
}

#[derive(Deserialize, Default)]
struct RawSource {
    name: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawCode {
    value: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawSuggestion {
    range: Option<RawRange>,
    text: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawRelated {
    message: Option<String>,
    location: Option<RawLocation>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ParseContext {
        ParseContext::new("dog")
    }

    #[test]
    fn document_with_defaults() {
        let text = r#"{"source": {"name": "super lint"}, "severity": "WARNING", "diagnostics": [
          {"message": "m1", "location": {"path": "a.go", "range": {"start": {"line": 14, "column": 5}, "end": {"line": 14, "column": 7}}},
           "code": {"value": "R1", "url": "https://x"},
           "suggestions": [{"range": {"start": {"line": 14, "column": 5}, "end": {"line": 14, "column": 7}}, "text": "14"}]},
          {"message": "m2", "severity": "ERROR", "source": {"name": "other"}, "location": {"path": "b.go"}},
          {"message": "m3", "severity": 3, "location": {"path": "c.go", "range": {"start": {"line": 5}, "end": {"line": 6}}},
           "related_locations": [{"message": "here", "location": {"path": "d.go", "range": {"start": {"line": 1}}}}]}
        ]}"#;
        let mut sink = Vec::new();
        let stats = parse_document(&mut text.as_bytes(), &ctx(), &mut sink).unwrap();
        assert_eq!(stats.diagnostics, 3);
        let f = &sink[0].finding;
        assert_eq!(
            (f.rule.as_str(), f.level, f.source.as_deref()),
            ("R1", Level::Warning, Some("super lint"))
        );
        assert_eq!(
            f.region,
            Some(Region {
                start_line: 14,
                start_column: Some(5),
                end_line: Some(14),
                end_column: Some(6)
            })
        );
        let s = sink[0].suggestion.as_ref().unwrap();
        assert_eq!(
            (s.start_column, s.end_column, s.text.as_str()),
            (Some(5), Some(7), "14")
        );
        assert_eq!(
            (sink[1].finding.level, sink[1].finding.rule.as_str()),
            (Level::Error, "other")
        );
        assert_eq!(sink[1].finding.region, None);
        assert_eq!(sink[2].finding.level, Level::Notice);
        assert_eq!(
            sink[2].finding.region,
            Some(Region {
                start_line: 5,
                start_column: None,
                end_line: Some(6),
                end_column: None
            })
        );
        assert_eq!(sink[2].related[0].path.as_deref(), Some("d.go"));
    }

    #[test]
    fn lines_and_unknown_severity() {
        let text = "{\"message\": \"a\", \"location\": {\"path\": \"x\", \"range\": {\"start\": {\"line\": 1}}}}\n\n{\"message\": \"b\", \"severity\": \"UNKNOWN_SEVERITY\"}\r\n";
        let mut sink = Vec::new();
        let stats = parse_lines(&mut text.as_bytes(), &ctx(), &mut sink).unwrap();
        assert_eq!(stats.diagnostics, 2);
        assert_eq!(sink[0].unknown_severity.as_deref(), Some(""));
        assert_eq!(sink[1].unknown_severity.as_deref(), Some("UNKNOWN_SEVERITY"));
        assert_eq!(sink[1].finding.level, Level::Error);
    }

    #[test]
    fn malformed() {
        let mut sink = Vec::new();
        let err = parse_lines(
            &mut &b"{\"message\": \"a\"}\n{\"message\": 3}\n"[..],
            &ctx(),
            &mut sink,
        )
        .unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        assert!(
            err.to_string()
                .contains("`dog` is not valid rdjsonl (line 2, column"),
            "{err}"
        );
        let err = parse_lines(&mut &b"not json\n"[..], &ctx(), &mut sink).unwrap_err();
        assert_eq!((err.line, err.column, err.offset), (1, Some(2), 1), "{err}");
        let err = parse_document(&mut &b"{\"source\": {}}"[..], &ctx(), &mut sink).unwrap_err();
        assert!(err.to_string().contains("no `diagnostics` array"), "{err}");
        let err = parse_document(
            &mut &b"{\"diagnostics\": [{\"message\": \"x\"}"[..],
            &ctx(),
            &mut sink,
        )
        .unwrap_err();
        assert!(err.to_string().contains("cut short"), "{err}");
    }
}
