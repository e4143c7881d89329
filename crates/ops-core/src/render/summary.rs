//! Findings as a Markdown step summary: a headline with counts, then a table of the most severe findings.
//!
//! Cells are escaped so that linter text cannot break the table or inject HTML. The table is capped
//! (`max_rows`); the runner caps the whole file well under GitHub's 1 MiB.

use crate::finding::{Finding, counts};

/// How the summary looks.
#[derive(Debug, Clone)]
pub struct SummaryOptions {
    /// Rows in the findings table at most; the rest are counted.
    pub max_rows: usize,
    /// Where the rest can be read (a check run URL, an artifact), linked under the table.
    pub details_url: Option<String>,
    /// Base URL for file links (`https://github.com/o/r/blob/<sha>`), when known.
    pub blob_url: Option<String>,
}

impl Default for SummaryOptions {
    fn default() -> Self {
        Self {
            max_rows: 200,
            details_url: None,
            blob_url: None,
        }
    }
}

/// Renders the summary. `title` is the heading (`lint-gate: eslint, clippy`); `verdict` one line that says
/// what the gate decided and why (`failed: 2 errors at or above \`error\``).
pub fn summary(title: &str, verdict: &str, findings: &[Finding], options: &SummaryOptions) -> String {
    let (errors, warnings, notices) = counts(findings);
    let mut out = format!("### {}\n\n{}\n\n", escape_line(title), escape_text(verdict));
    out.push_str(&format!(
        "| errors | warnings | notices |\n|---:|---:|---:|\n| {errors} | {warnings} | {notices} |\n\n"
    ));
    if findings.is_empty() {
        out.push_str("No findings.\n");
        return out;
    }
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then_with(|| a.sort_key().cmp(&b.sort_key()))
    });
    out.push_str("| level | rule | location | message |\n|---|---|---|---|\n");
    for f in sorted.iter().take(options.max_rows) {
        let location = match (f.location(), &options.blob_url, &f.path) {
            (Some(loc), Some(blob), Some(path)) => {
                let anchor = f
                    .region
                    .map(|r| format!("#L{}", r.start_line))
                    .unwrap_or_default();
                format!(
                    "[{}]({}/{}{anchor})",
                    escape_cell(&loc),
                    blob.trim_end_matches('/'),
                    encode_path(path)
                )
            }
            (Some(loc), _, _) => format!("`{}`", loc.replace('`', "'")),
            (None, _, _) => String::new(),
        };
        let icon = match f.level {
            crate::finding::Level::Error => "🔴 error",
            crate::finding::Level::Warning => "🟡 warning",
            crate::finding::Level::Notice => "🔵 notice",
        };
        out.push_str(&format!(
            "| {icon} | {} | {location} | {} |\n",
            escape_cell(&f.display_title()),
            escape_cell(&f.message)
        ));
    }
    if sorted.len() > options.max_rows {
        out.push_str(&format!(
            "\n{} more findings are not listed here",
            sorted.len() - options.max_rows
        ));
        match &options.details_url {
            Some(url) => out.push_str(&format!(": [all findings]({url})\n")),
            None => out.push('\n'),
        }
    }
    out
}

/// Escapes text for a Markdown table cell: HTML, pipes and line breaks; other control characters
/// show as escapes (`\0`).
pub fn escape_cell(text: &str) -> String {
    let lines: Vec<String> = text
        .replace("\r\n", "\n")
        .split('\n')
        .map(|line| escape_text(&crate::runner::printable(line)).replace('|', "\\|"))
        .collect();
    lines.join("<br>")
}

/// Escapes untrusted text (a file name, a linter's name) for one line of Markdown, such as a heading:
/// as [`escape_text`], with line breaks and other control characters shown as escapes (`\n`, `\0`)
/// so the text cannot start a heading or a list of its own, and `[`, `]` escaped so it cannot make a
/// link.
pub fn escape_line(text: &str) -> String {
    escape_text(&crate::runner::printable(text))
        .replace('[', "\\[")
        .replace(']', "\\]")
}

/// Escapes text for Markdown prose: `&`, `<`, `>` become entities so nothing renders as HTML.
pub fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub(crate) fn encode_path(path: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(char::from(b))
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Level, Region};

    #[test]
    fn table_is_escaped_sorted_and_capped() {
        let findings = vec![
            Finding::new("w", Level::Warning, "a | b").at("z.rs", Some(Region::line(1))),
            Finding::new("e", Level::Error, "<script>x</script>\nline2")
                .at("a b.rs", Some(Region::point(2, 3))),
            Finding::new("n", Level::Notice, "fyi"),
        ];
        let options = SummaryOptions {
            max_rows: 2,
            details_url: Some("https://x/checks/1".into()),
            blob_url: Some("https://github.com/o/r/blob/abc".into()),
        };
        let md = summary("lint-gate", "failed: 1 error", &findings, &options);
        assert_eq!(
            md,
            "### lint-gate\n\nfailed: 1 error\n\n| errors | warnings | notices |\n|---:|---:|---:|\n| 1 | 1 | 1 |\n\n\
             | level | rule | location | message |\n|---|---|---|---|\n\
             | 🔴 error | e | [a b.rs:2:3](https://github.com/o/r/blob/abc/a%20b.rs#L2) | &lt;script&gt;x&lt;/script&gt;<br>line2 |\n\
             | 🟡 warning | w | [z.rs:1](https://github.com/o/r/blob/abc/z.rs#L1) | a \\| b |\n\
             \n1 more findings are not listed here: [all findings](https://x/checks/1)\n"
        );
    }

    #[test]
    fn untrusted_names_stay_on_their_line() {
        // a report file named so that the heading would end and a forged verdict begin
        let title = "lint-gate: x\n\n### passed [ok](https://evil.example)\0";
        let md = summary(title, "failed: 1 error", &[], &SummaryOptions::default());
        assert!(
            md.starts_with(
                "### lint-gate: x\\n\\n### passed \\[ok\\](https://evil.example)\\0\n\nfailed: 1 error\n"
            ),
            "{md}"
        );
        assert_eq!(escape_cell("a\0b|c\r\nd"), "a\\0b\\|c<br>d");
    }

    #[test]
    fn empty_says_so() {
        let md = summary("t", "passed", &[], &SummaryOptions::default());
        assert!(md.ends_with("No findings.\n"));
    }
}
