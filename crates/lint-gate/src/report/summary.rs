//! The Markdown report: the step summary, and (shorter) the check run's summary and the sticky
//! comment. The findings table comes from `ops_core::render::summary`; lint-gate adds a table by
//! linter and severity and notes on what was filtered, mapped or matched against the baseline.

use ops_core::render::summary::{SummaryOptions, escape_cell, escape_line, escape_text, summary};
use ops_core::{Finding, Level};

use crate::diff::FilterMode;
use crate::gate::Decision;
use crate::pipeline::Extra;
use crate::source::SourceReport;

/// Everything the report mentions.
#[derive(Debug)]
pub struct Report<'a> {
    /// The step's name (check-run name).
    pub name: &'a str,
    /// What the gate decided.
    pub decision: &'a Decision,
    /// Reported findings.
    pub findings: &'a [Finding],
    /// What goes with them.
    pub extras: &'a [Extra],
    /// Each source read.
    pub sources: &'a [SourceReport],
    /// The filter in effect (`None`: not a pull request, or `nofilter`).
    pub filter: Option<FilterMode>,
    /// Why the filter is off, when it is.
    pub filter_note: Option<String>,
    /// Baseline size and how many current findings it had, when there is one.
    pub baseline: Option<(u64, u64)>,
    /// Level unrecognised severities were given.
    pub unknown_level: Level,
}

impl Report<'_> {
    /// The Markdown, with at most `max_rows` findings listed.
    pub fn markdown(&self, max_rows: usize, blob_url: Option<String>, details_url: Option<String>) -> String {
        let names: Vec<&str> = {
            let mut names: Vec<&str> = self.sources.iter().map(|s| s.name.as_str()).collect();
            names.dedup();
            names
        };
        let title = if names.is_empty() {
            self.name.to_owned()
        } else {
            format!("{}: {}", self.name, names.join(", "))
        };
        let options = SummaryOptions {
            max_rows,
            details_url,
            blob_url,
        };
        let mut out = summary(&title, &self.decision.verdict, self.findings, &options);
        out.push_str("\n| linter | format | errors | warnings | notices | not on the change | exit |\n");
        out.push_str("|---|---|---:|---:|---:|---:|---:|\n");
        for source in self.sources {
            let (mut e, mut w, mut n) = (0, 0, 0);
            for (f, x) in self.findings.iter().zip(self.extras) {
                if x.source == source.name {
                    match f.level {
                        Level::Error => e += 1,
                        Level::Warning => w += 1,
                        Level::Notice => n += 1,
                    }
                }
            }
            // several files of one linter share a row's counts: show them once
            if self
                .sources
                .iter()
                .take_while(|s| !std::ptr::eq(*s, source))
                .any(|s| s.name == source.name)
            {
                continue;
            }
            let filtered: u64 = self
                .sources
                .iter()
                .filter(|s| s.name == source.name)
                .map(|s| s.counts.filtered)
                .sum();
            let exit = source.exit_code.map_or_else(|| "".to_owned(), |c| c.to_string());
            out.push_str(&format!(
                "| {} | {} | {e} | {w} | {n} | {filtered} | {exit} |\n",
                // a name from a file name: one line, and no link
                escape_line(&source.name).replace('|', "\\|"),
                escape_cell(&source.format),
            ));
        }
        let mut notes = Vec::new();
        let filtered: u64 = self.sources.iter().map(|s| s.counts.filtered).sum();
        match self.filter {
            Some(mode) if filtered > 0 => notes.push(format!(
                "{filtered} finding{} outside the change {} not reported (`filter-mode: {}`).",
                if filtered == 1 { "" } else { "s" },
                if filtered == 1 { "was" } else { "were" },
                mode.name()
            )),
            _ => {}
        }
        if let Some(note) = &self.filter_note {
            notes.push(escape_text(note));
        }
        let unknown = self
            .extras
            .iter()
            .filter(|x| x.unknown_severity.is_some())
            .count();
        if unknown > 0 {
            notes.push(format!(
                "{unknown} finding{} had no recognised severity and count as `{}` (`unknown-level`).",
                if unknown == 1 { "" } else { "s" },
                self.unknown_level
            ));
        }
        if let Some((total, matched)) = self.baseline {
            let new = self.extras.iter().filter(|x| x.new == Some(true)).count();
            notes.push(format!(
                "Baseline: {total} finding{}; {matched} of this run's findings are in it, {new} reported finding{} new.",
                if total == 1 { "" } else { "s" },
                if new == 1 { " is" } else { "s are" }
            ));
        }
        for source in self.sources {
            if source.stats.unmatched_lines > 0 {
                let first = source
                    .stats
                    .first_unmatched
                    .as_ref()
                    .map(|(line, text)| format!(" (the first, line {line}: `{}`)", text.replace('`', "'")))
                    .unwrap_or_default();
                notes.push(format!(
                    "{} line{} of {} matched no pattern{}.",
                    source.stats.unmatched_lines,
                    if source.stats.unmatched_lines == 1 {
                        ""
                    } else {
                        "s"
                    },
                    escape_line(&source.label),
                    // inside a code span, where `escape_line`'s backslashes would show
                    escape_text(&ops_core::runner::printable(&first))
                ));
            }
            if source.stats.suppressed > 0 {
                notes.push(format!(
                    "{} result{} suppressed in {}.",
                    source.stats.suppressed,
                    if source.stats.suppressed == 1 {
                        " was"
                    } else {
                        "s were"
                    },
                    escape_line(&source.label)
                ));
            }
            if source.counts.duplicates > 0 {
                notes.push(format!(
                    "{} duplicate{} in {} (the same finding for several targets) reported once.",
                    source.counts.duplicates,
                    if source.counts.duplicates == 1 { "" } else { "s" },
                    escape_line(&source.label)
                ));
            }
        }
        if !notes.is_empty() {
            out.push('\n');
            for note in notes {
                out.push_str("- ");
                out.push_str(&note);
                out.push('\n');
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::{FailLevel, decide};
    use crate::parse::ParseStats;
    use crate::pipeline::SourceCounts;
    use ops_core::Region;

    #[test]
    fn by_linter_table_and_notes() {
        let findings = vec![
            Finding::new("E1", Level::Error, "bad")
                .at("a.rs", Some(Region::line(3)))
                .with_source("clippy"),
            Finding::new("W1", Level::Warning, "meh")
                .at("b.ts", Some(Region::line(1)))
                .with_source("eslint"),
        ];
        let extras = vec![
            Extra {
                source: "clippy".into(),
                ..Extra::default()
            },
            Extra {
                source: "eslint".into(),
                unknown_severity: Some("odd".into()),
                ..Extra::default()
            },
        ];
        let decision = decide(&findings, &extras, FailLevel::Error, None);
        let sources = vec![
            SourceReport {
                name: "clippy".into(),
                label: "`clippy` output".into(),
                format: "cargo".into(),
                stats: ParseStats {
                    diagnostics: 4,
                    ..ParseStats::default()
                },
                counts: SourceCounts {
                    read: 4,
                    kept: 1,
                    filtered: 2,
                    duplicates: 1,
                },
                exit_code: Some(101),
            },
            SourceReport {
                name: "eslint".into(),
                label: "eslint (e.json)".into(),
                format: "eslint".into(),
                stats: ParseStats {
                    diagnostics: 1,
                    unmatched_lines: 0,
                    ..ParseStats::default()
                },
                counts: SourceCounts {
                    read: 1,
                    kept: 1,
                    ..SourceCounts::default()
                },
                exit_code: None,
            },
        ];
        let report = Report {
            name: "lint",
            decision: &decision,
            findings: &findings,
            extras: &extras,
            sources: &sources,
            filter: Some(FilterMode::Added),
            filter_note: None,
            baseline: None,
            unknown_level: Level::Error,
        };
        let md = report.markdown(10, None, None);
        assert!(
            md.starts_with(
                "### lint: clippy, eslint\n\nfailed: 1 error at or above `error` (`fail-level`)\n"
            ),
            "{md}"
        );
        assert!(md.contains("| clippy | cargo | 1 | 0 | 0 | 2 | 101 |\n"), "{md}");
        assert!(md.contains("| eslint | eslint | 0 | 1 | 0 | 0 |  |\n"), "{md}");
        assert!(
            md.contains("- 2 findings outside the change were not reported (`filter-mode: added`).\n"),
            "{md}"
        );
        assert!(
            md.contains("- 1 finding had no recognised severity and count as `error` (`unknown-level`).\n"),
            "{md}"
        );
        assert!(
            md.contains(
                "- 1 duplicate in `clippy` output (the same finding for several targets) reported once.\n"
            ),
            "{md}"
        );
    }
}
