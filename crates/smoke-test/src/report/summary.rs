//! The Markdown step summary: the decision, a table of cases (problems first), and latency figures.
//!
//! Text is escaped for where it lands. Outside code spans `&`, `<` and `>` become entities so nothing
//! renders as HTML; inside a code span Markdown shows every character as it is, so the same escaping
//! would show `&amp;` in a URL. Messages carry their literals in backticks (``status is `500` ``): their
//! code spans are found the way CommonMark finds them (a backtick run closed by the next run of the same
//! length) and kept literal, and the prose around them is escaped. In a table cell `|` is written `\|`
//! everywhere, code spans included, because GitHub splits cells before it reads code spans.

use super::Meta;
use crate::measure::millis;
use crate::outcome::{Case, Decision, Status};

/// Rows shown before the rest are counted in a closing line (keeps the summary small at 1,000 checks).
pub const MAX_ROWS: usize = 100;

/// Renders the summary; `redact` is applied to every cell that could carry a secret.
pub fn render(cases: &[Case], meta: &Meta, decision: &Decision, redact: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    let verdict = if decision.promote {
        "✅ promote"
    } else {
        "❌ rollback"
    };
    out.push_str(&format!(
        "## smoke-test · {} · {verdict}\n\n",
        plain(&meta.environment)
    ));
    out.push_str(&format!(
        "{}\n\n",
        with_code(&redact(&decision.reason), Place::Prose)
    ));
    let mut facts = vec![format!(
        "**{}** passed · **{}** failed · **{}** skipped",
        decision.passed, decision.failed, decision.skipped
    )];
    if let Some(p95) = decision.p95 {
        facts.push(format!("p95 **{}ms**", millis(p95)));
    }
    if let Some(base) = &meta.base_url {
        facts.push(format!("base URL {}", code(&redact(base), Place::Prose)));
    }
    if let Some(v) = &meta.expected_version {
        facts.push(format!("expected version {}", code(&redact(v), Place::Prose)));
    }
    out.push_str(&facts.join(" · "));
    out.push_str("\n\n");

    let mut ordered: Vec<&Case> = cases.iter().collect();
    ordered.sort_by_key(|c| match c.status() {
        Status::Error => 0,
        Status::Failed => 1,
        Status::Skipped => 2,
        Status::Passed => 3,
    });
    out.push_str("| | check | request | status | time | details |\n|---|---|---|---|---|---|\n");
    for case in ordered.iter().take(MAX_ROWS) {
        let request = match (&case.method, &case.url) {
            (Some(m), Some(u)) => code(&format!("{m} {}", redact(u)), Place::Cell),
            _ => String::new(),
        };
        let location = match (&case.file, case.line) {
            (Some(f), Some(l)) => format!(" ({}:{l})", plain(f)),
            _ => String::new(),
        };
        let mut details = with_code(&redact(&case.problem()), Place::Cell);
        if let Some(v) = &case.served_version {
            details = format!("version {} {details}", code(&redact(v), Place::Cell));
        }
        out.push_str(&format!(
            "| {} | {}{location} | {request} | {} | {} | {} |\n",
            case.status().mark(),
            plain(&redact(&case.name)),
            case.http_status.map(|c| c.to_string()).unwrap_or_default(),
            case.durations
                .first()
                .map(|d| format!("{}ms", millis(*d)))
                .unwrap_or_default(),
            details.trim_end(),
        ));
    }
    if ordered.len() > MAX_ROWS {
        out.push_str(&format!(
            "\n… and {} more (all passing cases are in the JUnit report)\n",
            ordered.len() - MAX_ROWS
        ));
    }

    let latency: Vec<&Case> = cases.iter().filter(|c| c.latency.is_some()).collect();
    if !latency.is_empty() {
        out.push_str("\n### Latency\n\n| check | samples | p50 | p95 | max | thresholds |\n|---|---|---|---|---|---|\n");
        for case in latency.iter().take(MAX_ROWS) {
            let Some(l) = &case.latency else { continue };
            let thresholds: Vec<String> = l
                .thresholds
                .iter()
                .map(|t| {
                    let mark = match (t.holds, t.gating) {
                        (true, _) => "✅",
                        (false, true) => "❌",
                        (false, false) => "⚠️ not gating",
                    };
                    format!("{} {mark}", t.threshold)
                })
                .collect();
            out.push_str(&format!(
                "| {} | {} | {}ms | {}ms | {}ms | {} |\n",
                plain(&redact(&case.name)),
                l.stats.count(),
                millis(l.stats.p50()),
                millis(l.stats.p95()),
                millis(l.stats.max()),
                plain(&thresholds.join(", ")),
            ));
        }
        out.push_str("\nThresholds decide only for checks with at least `min-samples` samples.\n");
    }
    out
}

/// Where text lands: a table cell (one line; `|` escaped even inside code spans) or a paragraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Cell,
    Prose,
}

/// Text shown as it is, with no Markdown or HTML meaning (a line break becomes `<br>`).
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A backslash is doubled so that it never escapes what follows (a backtick, a pipe).
            '\\' => out.push_str("\\\\"),
            '`' => out.push_str("\\`"),
            '|' => out.push_str("\\|"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' | '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

/// `text` as one code span, every character shown as it is.
fn code(text: &str, place: Place) -> String {
    let text = one_line(text, place);
    if text.is_empty() {
        return String::new();
    }
    // The fence is longer than any backtick run inside, and a space keeps a backtick at either end
    // from joining it; CommonMark strips one space on each side when both are there.
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = text.starts_with('`')
        || text.ends_with('`')
        || (text.starts_with(' ') && text.ends_with(' ') && text.trim() != "");
    let pad = if pad { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Code span content: one line, and in a table cell `|` escaped (GitHub splits the row first).
fn one_line(text: &str, place: Place) -> String {
    let text = text.replace("\r\n", " ").replace(['\r', '\n'], " ");
    match place {
        Place::Cell => text.replace('|', "\\|"),
        Place::Prose => text,
    }
}

/// A message whose backtick pairs are code spans: each span kept literal, the text around it escaped,
/// a backtick run that nothing closes shown as backticks.
fn with_code(text: &str, place: Place) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('`') {
        out.push_str(&plain(&rest[..open]));
        let run = backtick_run(&rest[open..]);
        let after = &rest[open + run..];
        match closing_run(after, run) {
            Some(close) => {
                out.push_str(&"`".repeat(run));
                out.push_str(&one_line(&after[..close], place));
                out.push_str(&"`".repeat(run));
                rest = &after[close + run..];
            }
            None => {
                out.push_str(&"\\`".repeat(run));
                rest = after;
            }
        }
    }
    out.push_str(&plain(rest));
    out
}

fn backtick_run(text: &str) -> usize {
    text.bytes().take_while(|&b| b == b'`').count()
}

/// Where the next run of exactly `len` backticks starts in `text`.
fn closing_run(text: &str, len: usize) -> Option<usize> {
    let mut at = 0;
    while let Some(found) = text[at..].find('`') {
        let start = at + found;
        let run = backtick_run(&text[start..]);
        if run == len {
            return Some(start);
        }
        at = start + run;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asserts::Failure;
    use crate::outcome::CaseKind;

    #[test]
    fn code_spans_show_text_as_it_is() {
        for (text, place, want) in [
            ("GET /a?x=1&y=2", Place::Cell, "`GET /a?x=1&y=2`"),
            ("<b>", Place::Cell, "`<b>`"),
            ("a|b", Place::Cell, "`a\\|b`"),
            ("a|b", Place::Prose, "`a|b`"),
            ("a`b", Place::Cell, "``a`b``"),
            ("`a", Place::Cell, "`` `a ``"),
            ("a``", Place::Prose, "``` a`` ```"),
            (" a ", Place::Prose, "`  a  `"),
            ("  ", Place::Prose, "`  `"),
            ("a\nb\r\nc", Place::Cell, "`a b c`"),
            ("", Place::Cell, ""),
        ] {
            assert_eq!(code(text, place), want, "{text:?} in {place:?}");
        }
    }

    #[test]
    fn messages_keep_their_code_spans_literal() {
        for (text, place, want) in [
            // the reported bug: `&` inside a code span showed as `&amp;`
            (
                "body is `a&b`, expected `<ok>`",
                Place::Cell,
                "body is `a&b`, expected `<ok>`",
            ),
            ("a & b <i>", Place::Cell, "a &amp; b &lt;i&gt;"),
            ("x | `y|z`", Place::Cell, "x \\| `y\\|z`"),
            ("x | `y|z`", Place::Prose, "x \\| `y|z`"),
            ("``a`b`` & c", Place::Cell, "``a`b`` &amp; c"),
            // a run that nothing closes is shown as backticks, and the text after it stays escaped
            ("got `<b>", Place::Cell, "got \\`&lt;b&gt;"),
            ("``x` <i>`", Place::Cell, "\\`\\`x` <i>`"),
            // a backslash in prose never escapes the backtick after it
            ("a\\`b`", Place::Cell, "a\\\\`b`"),
            ("one\ntwo `a\nb`", Place::Cell, "one<br>two `a b`"),
        ] {
            assert_eq!(with_code(text, place), want, "{text:?} in {place:?}");
        }
    }

    /// Regression: the summary showed `&amp;` inside code spans (a URL's query string, a body excerpt),
    /// because cells were HTML-escaped whole, code spans included.
    #[test]
    fn ampersands_in_code_spans_are_not_entities() {
        let mut case = Case::new("search", CaseKind::Check);
        case.method = Some("GET".to_owned());
        case.url = Some("https://h.test/search?q=a&page=2".to_owned());
        case.http_status = Some(500);
        case.failures.push(Failure {
            line: Some(4),
            field: "checks[0].expect.body".to_owned(),
            kind: "body",
            message: "body does not contain `a&b` (got `x < y & z`)".to_owned(),
        });
        case.served_version = Some("1.0&2".to_owned());
        let meta = Meta {
            environment: "staging & qa".to_owned(),
            base_url: Some("https://h.test/?a=1&b=2".to_owned()),
            expected_version: Some("v<1>".to_owned()),
        };
        let decision = Decision {
            promote: false,
            reason: "1 of 1 failed: `search` body does not contain `a&b`".to_owned(),
            passed: 0,
            failed: 1,
            skipped: 0,
            p95: None,
        };
        let out = render(&[case], &meta, &decision, &|s| s.to_owned());
        assert!(
            out.starts_with("## smoke-test · staging &amp; qa · ❌ rollback\n\n"),
            "{out}"
        );
        assert!(
            out.contains("\n1 of 1 failed: `search` body does not contain `a&b`\n"),
            "{out}"
        );
        assert!(
            out.contains("base URL `https://h.test/?a=1&b=2` · expected version `v<1>`"),
            "{out}"
        );
        let row = out
            .lines()
            .find(|l| l.starts_with("| ❌ "))
            .unwrap_or_else(|| panic!("{out}"));
        assert_eq!(
            row,
            "| ❌ | search | `GET https://h.test/search?q=a&page=2` | 500 |  | \
             version `1.0&2` body does not contain `a&b` (got `x < y & z`) |"
        );
        assert!(!out.contains("&amp;b"), "{out}");
    }
}
