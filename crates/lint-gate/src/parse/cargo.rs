//! cargo's `--message-format=json` (rustc and clippy diagnostics), one JSON object per line.
//!
//! Only `reason: compiler-message` lines are diagnostics; artifacts, build-script runs and
//! `build-finished` are skipped. rustc's closing summaries ("aborting due to 2 previous errors",
//! "3 warnings emitted", `failure-note`s) have no code and no span and are skipped too, so the count
//! matches what cargo reports. Lines that are not JSON at all (a `2>&1` that mixed in cargo's
//! progress output) are counted and logged, not fatal; a line that starts like JSON but does not
//! parse is an error. The primary span is the location (macro expansions are followed back to a
//! real file); `help` children become the help text, and the first machine-applicable replacement
//! becomes a suggestion.

use std::io::BufRead;

use ops_core::{Finding, Level};
use serde::Deserialize;

use super::input::{Lines, json_error};
use super::{Diagnostic, ParseContext, ParseError, ParseStats, Sink, Suggestion};

const FORMAT: &str = "cargo JSON";

/// Parses cargo JSON lines.
pub fn parse(
    input: &mut dyn BufRead,
    ctx: &ParseContext,
    sink: &mut dyn Sink,
) -> Result<ParseStats, ParseError> {
    let mut stats = ParseStats::default();
    let mut lines = Lines::new(input);
    while let Some(line) = lines.next_line(ctx, FORMAT)? {
        let trimmed = line.bytes.trim_ascii();
        if trimmed.is_empty() {
            continue;
        }
        if !trimmed.starts_with(b"{") {
            stats.unmatched(line.number, line.bytes);
            continue;
        }
        let record: Record = serde_json::from_slice(trimmed).map_err(|e| {
            let mut err = json_error(ctx, FORMAT, &e, line.offset + e.column().saturating_sub(1) as u64);
            err.line = line.number;
            err
        })?;
        if record.reason.as_deref() != Some("compiler-message") {
            continue;
        }
        let Some(message) = record.message else {
            continue;
        };
        match convert(message, ctx) {
            Some(diagnostic) => {
                stats.diagnostics += 1;
                sink.diagnostic(diagnostic);
            }
            None => stats.skipped += 1,
        }
    }
    Ok(stats)
}

fn convert(message: Message, ctx: &ParseContext) -> Option<Diagnostic> {
    let code = message.code.and_then(|c| c.code).filter(|c| !c.is_empty());
    if message.level == "failure-note" || (code.is_none() && message.spans.is_empty()) {
        return None;
    }
    let level = match message.level.as_str() {
        "error" | "error: internal compiler error" => Level::Error,
        "warning" => Level::Warning,
        "note" | "help" => Level::Notice,
        _ => ctx.unknown_level,
    };
    let unknown = (!matches!(
        message.level.as_str(),
        "error" | "error: internal compiler error" | "warning" | "note" | "help"
    ))
    .then(|| message.level.clone());
    let primary = message
        .spans
        .iter()
        .find(|s| s.is_primary)
        .or_else(|| message.spans.first())
        .map(real_span);
    let mut text = message.message;
    if let Some(label) = primary.and_then(|s| s.label.as_deref()).filter(|l| !l.is_empty()) {
        text.push('\n');
        text.push_str(label);
    }
    let mut finding =
        Finding::new(code.unwrap_or_else(|| ctx.source.clone()), level, text).with_source(ctx.source.clone());
    if let Some(span) = primary {
        finding = finding.at(
            span.file_name.clone(),
            super::region(
                Some(span.line_start),
                Some(span.column_start),
                Some(span.line_end),
                span.column_end.checked_sub(1),
            ),
        );
    }
    let mut help = Vec::new();
    let mut suggestion = None;
    for child in &message.children {
        if child.level != "help" {
            continue;
        }
        let replacement = child
            .spans
            .iter()
            .find_map(|s| s.suggested_replacement.as_deref());
        match replacement {
            Some(r) if !r.contains('\n') && r.len() <= 200 => help.push(format!("{}: `{r}`", child.message)),
            _ => help.push(child.message.clone()),
        }
        if suggestion.is_none()
            && let Some(span) = child.spans.iter().find(|s| {
                s.suggested_replacement.is_some()
                    && matches!(
                        s.suggestion_applicability.as_deref(),
                        Some("MachineApplicable" | "MaybeIncorrect")
                    )
            })
            && finding.path.as_deref() == Some(span.file_name.as_str())
        {
            let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
            suggestion = Some(Suggestion {
                start_line: clamp(span.line_start.max(1)),
                start_column: Some(clamp(span.column_start.max(1))),
                end_line: clamp(span.line_end.max(span.line_start).max(1)),
                end_column: Some(clamp(span.column_end.max(1))),
                text: span.suggested_replacement.clone().unwrap_or_default(),
            });
        }
    }
    if !help.is_empty() {
        finding.help = Some(help.join("\n"));
    }
    let mut diagnostic = Diagnostic::new(finding);
    diagnostic.suggestion = suggestion;
    diagnostic.unknown_severity = unknown;
    Some(diagnostic)
}

/// A span inside a macro's own definition (`<…macros>`) is followed back to where the macro was
/// used.
fn real_span(span: &Span) -> &Span {
    let mut span = span;
    for _ in 0..16 {
        if !span.file_name.starts_with('<') {
            break;
        }
        match span.expansion.as_deref() {
            Some(expansion) => span = &expansion.span,
            None => break,
        }
    }
    span
}

#[derive(Deserialize)]
struct Record {
    reason: Option<String>,
    message: Option<Message>,
}

#[derive(Deserialize)]
struct Message {
    message: String,
    code: Option<Code>,
    level: String,
    #[serde(default)]
    spans: Vec<Span>,
    #[serde(default)]
    children: Vec<Self>,
}

#[derive(Deserialize)]
struct Code {
    code: Option<String>,
}

#[derive(Deserialize)]
struct Span {
    file_name: String,
    line_start: u64,
    line_end: u64,
    column_start: u64,
    column_end: u64,
    #[serde(default)]
    is_primary: bool,
    label: Option<String>,
    suggested_replacement: Option<String>,
    suggestion_applicability: Option<String>,
    expansion: Option<Box<Expansion>>,
}

#[derive(Deserialize)]
struct Expansion {
    span: Span,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ops_core::Region;

    const WARNING: &str = r#"{"reason":"compiler-message","package_id":"p","manifest_path":"/w/Cargo.toml","target":{"name":"x"},"message":{"rendered":"warning: unused variable: `x`","$message_type":"diagnostic","children":[{"children":[],"code":null,"level":"note","message":"`#[warn(unused_variables)]` on by default","rendered":null,"spans":[]},{"children":[],"code":null,"level":"help","message":"if this is intentional, prefix it with an underscore","rendered":null,"spans":[{"byte_end":20,"byte_start":19,"column_end":10,"column_start":9,"expansion":null,"file_name":"src/main.rs","is_primary":true,"label":null,"line_end":2,"line_start":2,"suggested_replacement":"_x","suggestion_applicability":"MachineApplicable","text":[]}]}],"code":{"code":"unused_variables","explanation":null},"level":"warning","message":"unused variable: `x`","spans":[{"byte_end":20,"byte_start":19,"column_end":10,"column_start":9,"expansion":null,"file_name":"src/main.rs","is_primary":true,"label":null,"line_end":2,"line_start":2,"suggested_replacement":null,"suggestion_applicability":null,"text":[]}]}}"#;

    #[test]
    fn reads_messages_and_skips_the_rest() {
        let text = format!(
            "   Compiling x v0.1.0\n{}\n{WARNING}\n{}\n{}\n{}\n",
            r#"{"reason":"compiler-artifact","package_id":"p"}"#,
            r#"{"reason":"compiler-message","message":{"message":"1 warning emitted","code":null,"level":"warning","spans":[],"children":[]}}"#,
            r#"{"reason":"compiler-message","message":{"message":"For more information about this error, try `rustc --explain E0308`.","code":null,"level":"failure-note","spans":[],"children":[]}}"#,
            r#"{"reason":"build-finished","success":true}"#,
        );
        let mut sink = Vec::new();
        let stats = parse(&mut text.as_bytes(), &ParseContext::new("clippy"), &mut sink).unwrap();
        assert_eq!(
            (stats.diagnostics, stats.skipped, stats.unmatched_lines),
            (1, 2, 1)
        );
        assert_eq!(
            stats.first_unmatched,
            Some((1, "   Compiling x v0.1.0".to_owned()))
        );
        let f = &sink[0].finding;
        assert_eq!((f.rule.as_str(), f.level), ("unused_variables", Level::Warning));
        assert_eq!(f.path.as_deref(), Some("src/main.rs"));
        assert_eq!(
            f.region,
            Some(Region {
                start_line: 2,
                start_column: Some(9),
                end_line: Some(2),
                end_column: Some(9)
            })
        );
        assert_eq!(
            f.help.as_deref(),
            Some("if this is intentional, prefix it with an underscore: `_x`")
        );
        let s = sink[0].suggestion.as_ref().unwrap();
        assert_eq!(
            (s.start_line, s.start_column, s.end_column, s.text.as_str()),
            (2, Some(9), Some(10), "_x")
        );
    }

    #[test]
    fn macro_spans_are_followed_back() {
        let text = r#"{"reason":"compiler-message","message":{"message":"m","code":{"code":"E1"},"level":"error","children":[],"spans":[{"file_name":"<std macros>","line_start":1,"line_end":1,"column_start":1,"column_end":2,"is_primary":true,"label":"here","expansion":{"span":{"file_name":"src/lib.rs","line_start":7,"line_end":7,"column_start":3,"column_end":9,"is_primary":false}}}]}}"#;
        let mut sink = Vec::new();
        parse(&mut text.as_bytes(), &ParseContext::new("rustc"), &mut sink).unwrap();
        let f = &sink[0].finding;
        assert_eq!(
            (f.path.as_deref(), f.region.map(|r| r.start_line)),
            (Some("src/lib.rs"), Some(7))
        );
        assert_eq!(f.message, "m");
    }

    #[test]
    fn broken_json_is_an_error() {
        let text = format!("{WARNING}\n{{\"reason\":\"compiler-message\",\"message\":{{\"message\":\"m\"");
        let err = parse(
            &mut text.as_bytes(),
            &ParseContext::new("clippy"),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert_eq!(err.line, 2);
        assert!(
            err.to_string()
                .starts_with("`clippy` is not valid cargo JSON (line 2"),
            "{err}"
        );
    }
}
