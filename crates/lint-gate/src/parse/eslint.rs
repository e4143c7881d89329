//! ESLint's `--format json`: an array of file results, streamed one file at a time.
//!
//! `severity` 2 is an error and 1 a warning (what ESLint's own `errorCount` / `warningCount`
//! count); anything else takes `unknown-level`. A message without `ruleId` is a fatal parse error
//! of that file and is reported as rule `fatal`. `endColumn` is exclusive, as in ESLint's own
//! locations. `suppressedMessages` are not findings.

use std::fmt;
use std::io::BufRead;

use ops_core::{Finding, Level};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde_json::Value;

use super::input::json_document;
use super::{Diagnostic, ParseContext, ParseError, ParseStats, Sink};

/// Parses an ESLint JSON report.
pub fn parse(
    input: &mut dyn BufRead,
    ctx: &ParseContext,
    sink: &mut dyn Sink,
) -> Result<ParseStats, ParseError> {
    let mut stats = ParseStats::default();
    json_document(
        input,
        ctx,
        "ESLint JSON",
        FilesSeed {
            ctx,
            sink,
            stats: &mut stats,
        },
    )?;
    Ok(stats)
}

struct FilesSeed<'a> {
    ctx: &'a ParseContext,
    sink: &'a mut dyn Sink,
    stats: &'a mut ParseStats,
}

impl<'de> DeserializeSeed<'de> for FilesSeed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FilesSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of ESLint file results (`[{\"filePath\": …, \"messages\": […]}]`)")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(file) = seq.next_element::<FileResult>()? {
            for message in file.messages {
                let (level, unknown) = match message.severity.as_ref().and_then(Value::as_u64) {
                    Some(2) => (Level::Error, None),
                    Some(1) => (Level::Warning, None),
                    _ => (
                        self.ctx.unknown_level,
                        Some(message.severity.map(|v| v.to_string()).unwrap_or_default()),
                    ),
                };
                let rule = message
                    .rule_id
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| "fatal".to_owned());
                let region = super::region(
                    message.line,
                    message.column,
                    message.end_line,
                    message.end_column.and_then(|c| c.checked_sub(1)),
                );
                let finding = Finding::new(rule, level, message.message.unwrap_or_default())
                    .with_source(self.ctx.source.clone())
                    .at(file.file_path.clone(), region);
                let mut diagnostic = Diagnostic::new(finding);
                diagnostic.unknown_severity = unknown;
                self.stats.diagnostics += 1;
                self.sink.diagnostic(diagnostic);
            }
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileResult {
    file_path: String,
    #[serde(default)]
    messages: Vec<Message>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Message {
    rule_id: Option<String>,
    severity: Option<Value>,
    message: Option<String>,
    line: Option<u64>,
    column: Option<u64>,
    end_line: Option<u64>,
    end_column: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ops_core::Region;

    #[test]
    fn reads_files_and_messages() {
        let text = r#"[
          {"filePath": "/w/src/a.js", "messages": [
            {"ruleId": "no-unused-vars", "severity": 2, "message": "'x' is defined but never used.", "line": 1, "column": 7, "endLine": 1, "endColumn": 8},
            {"ruleId": "semi", "severity": 1, "message": "Missing semicolon.", "line": 2, "column": 10, "fix": {"range": [20, 20], "text": ";"}}
          ], "suppressedMessages": [{"ruleId": "eqeqeq", "severity": 2, "message": "no", "line": 3}],
           "errorCount": 1, "warningCount": 1, "source": "let x = 1"},
          {"filePath": "/w/src/b.js", "messages": [], "errorCount": 0},
          {"filePath": "/w/src/c.js", "messages": [{"fatal": true, "severity": 2, "message": "Parsing error: Unexpected token", "line": 3, "column": 1}]}
        ]"#;
        let mut sink = Vec::new();
        let stats = parse(&mut text.as_bytes(), &ParseContext::new("eslint"), &mut sink).unwrap();
        assert_eq!(stats.diagnostics, 3);
        let f = &sink[0].finding;
        assert_eq!(
            (f.rule.as_str(), f.level, f.path.as_deref()),
            ("no-unused-vars", Level::Error, Some("/w/src/a.js"))
        );
        assert_eq!(
            f.region,
            Some(Region {
                start_line: 1,
                start_column: Some(7),
                end_line: Some(1),
                end_column: Some(7)
            })
        );
        assert_eq!(sink[1].finding.level, Level::Warning);
        assert_eq!(sink[2].finding.rule, "fatal");
    }

    #[test]
    fn empty_array_is_clean_and_objects_are_not_eslint() {
        let mut sink = Vec::new();
        assert_eq!(
            parse(&mut &b"[]"[..], &ParseContext::new("eslint"), &mut sink)
                .unwrap()
                .diagnostics,
            0
        );
        let err = parse(
            &mut &b"{\"runs\": []}"[..],
            &ParseContext::new("eslint"),
            &mut sink,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("expected an array of ESLint file results"),
            "{err}"
        );
        let err = parse(
            &mut &b"[{\"messages\": []}]"[..],
            &ParseContext::new("eslint"),
            &mut sink,
        )
        .unwrap_err();
        assert!(err.to_string().contains("missing field `filePath`"), "{err}");
    }
}
