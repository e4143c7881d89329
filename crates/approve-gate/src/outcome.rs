//! How a gate ended, and how that is reported: step outputs, the step summary, the exit status.

use std::time::Duration;

use ops_core::{ExitStatus, Runner};

use crate::cli::format_span;
use crate::error::Error;

/// The `decision` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Approved (exit 0).
    Approved,
    /// Denied (exit 1).
    Denied,
    /// Timed out with `on-timeout: fail` (exit 1).
    TimedOut,
}

impl Decision {
    /// The output's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::TimedOut => "timed-out",
        }
    }

    /// The exit status: only an approval passes.
    pub fn exit_status(self) -> ExitStatus {
        match self {
            Self::Approved => ExitStatus::Success,
            Self::Denied | Self::TimedOut => ExitStatus::Failed,
        }
    }
}

/// One row of the summary's table: a vote or a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Who.
    pub login: String,
    /// `approved`, `denied`, `rejected`, `commented`.
    pub vote: String,
    /// When (RFC 3339, or a phrase such as `by 2024-01-01T00:00:00Z`).
    pub when: String,
    /// What they wrote, or the environment.
    pub note: String,
    /// A link to it, if any.
    pub link: Option<String>,
    /// The environment reviewed (environment mode).
    pub environment: Option<String>,
}

/// How a gate ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The decision.
    pub decision: Decision,
    /// Who approved, in order.
    pub approvers: Vec<String>,
    /// Why, in one line.
    pub reason: String,
    /// The approval issue.
    pub issue: Option<(u64, String)>,
    /// Time spent waiting.
    pub waited: Duration,
    /// The votes, for the summary.
    pub rows: Vec<Row>,
    /// Comments that did not count, with why, for the summary.
    pub ignored: Vec<String>,
    /// Summary heading context (`issue` or `environment`).
    pub mode: &'static str,
}

impl Outcome {
    /// Writes the outputs and the summary; returns the exit status.
    pub fn report(&self, runner: &Runner) -> Result<ExitStatus, Error> {
        write_outputs(
            runner,
            Some(self.decision),
            &self.approvers,
            &self.reason,
            self.issue.as_ref(),
            self.waited,
            &self.rows,
        )?;
        // The summary is for people; failing to write it must not change the decision.
        if let Err(e) = runner.append_summary(&self.summary()) {
            runner.warning(&format!("cannot write the step summary: {e}"));
        }
        let line = format!("decision: {} ({})", self.decision.as_str(), self.reason);
        runner.info(&line);
        Ok(self.decision.exit_status())
    }

    /// The step summary in Markdown.
    pub fn summary(&self) -> String {
        let mut md = format!(
            "### approve-gate: {}\n\n{}\n\n",
            self.decision.as_str(),
            cell(&self.reason)
        );
        let mut facts = Vec::new();
        if let Some((n, url)) = &self.issue {
            facts.push(format!("approval issue: [#{n}]({url})"));
        }
        facts.push(format!("waited {}", format_span(self.waited)));
        md.push_str(&facts.join(" · "));
        md.push_str("\n\n");
        if !self.rows.is_empty() {
            let head = if self.mode == "environment" {
                "| environment | state | by | comment | seen |\n|---|---|---|---|---|\n"
            } else {
                "| who | vote | when | note |\n|---|---|---|---|\n"
            };
            md.push_str(head);
            for r in &self.rows {
                let when = match &r.link {
                    Some(link) => format!("[{}]({link})", cell(&r.when)),
                    None => cell(&r.when),
                };
                if self.mode == "environment" {
                    md.push_str(&format!(
                        "| {} | {} | @{} | {} | {when} |\n",
                        cell(r.environment.as_deref().unwrap_or_default()),
                        cell(&r.vote),
                        cell(&r.login),
                        cell(&r.note)
                    ));
                } else {
                    md.push_str(&format!(
                        "| @{} | {} | {when} | {} |\n",
                        cell(&r.login),
                        cell(&r.vote),
                        cell(&r.note)
                    ));
                }
            }
            md.push('\n');
        }
        if !self.ignored.is_empty() {
            md.push_str(&format!(
                "<details><summary>{} comment(s) did not count</summary>\n\n",
                self.ignored.len()
            ));
            for i in self.ignored.iter().take(50) {
                md.push_str(&format!("- {}\n", cell(i)));
            }
            md.push_str("\n</details>\n\n");
        }
        md
    }
}

/// Writes the outputs that are known. `decision` is left unset when the gate failed.
pub fn write_outputs(
    runner: &Runner,
    decision: Option<Decision>,
    approvers: &[String],
    reason: &str,
    issue: Option<&(u64, String)>,
    waited: Duration,
    rows: &[Row],
) -> Result<(), Error> {
    if let Some(d) = decision {
        runner.set_output("decision", d.as_str())?;
    }
    runner.set_output("votes", &votes_json(rows))?;
    runner.set_output("approvers", &approvers.join(","))?;
    runner.set_output("reason", &one_line(reason))?;
    runner.set_output("issue-url", issue.map_or("", |(_, u)| u.as_str()))?;
    runner.set_output(
        "issue-number",
        &issue.map(|(n, _)| n.to_string()).unwrap_or_default(),
    )?;
    runner.set_output("waited-seconds", &waited.as_secs().to_string())?;
    Ok(())
}

/// The `votes` output: who voted or reviewed what, when, with what note, as a JSON array.
pub fn votes_json(rows: &[Row]) -> String {
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut item = serde_json::json!({
                "login": r.login,
                "vote": r.vote,
                "when": r.when,
                "note": r.note,
            });
            if let Some(link) = &r.link {
                item["url"] = serde_json::json!(link);
            }
            if let Some(env) = &r.environment {
                item["environment"] = serde_json::json!(env);
            }
            item
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}

/// Text on one line, at most 500 characters.
pub fn one_line(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.char_indices().nth(500) {
        Some((cut, _)) => format!("{}…", &joined[..cut]),
        None => joined,
    }
}

/// Text for a Markdown table cell: one line, `|` escaped, at most 300 characters.
pub fn cell(text: &str) -> String {
    let line = one_line(text);
    let line = match line.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    };
    line.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_map_to_exit_statuses() {
        assert_eq!(Decision::Approved.exit_status(), ExitStatus::Success);
        assert_eq!(Decision::Denied.exit_status(), ExitStatus::Failed);
        assert_eq!(Decision::TimedOut.exit_status(), ExitStatus::Failed);
        assert_eq!(Decision::TimedOut.as_str(), "timed-out");
    }

    #[test]
    fn votes_are_json() {
        let rows = [Row {
            login: "alice".into(),
            vote: "approved".into(),
            when: "at 2026-01-01T00:00:00Z".into(),
            note: "ship it".into(),
            link: None,
            environment: Some("production".into()),
        }];
        let v: serde_json::Value = serde_json::from_str(&votes_json(&rows)).unwrap();
        assert_eq!(
            v,
            serde_json::json!([{"login": "alice", "vote": "approved", "when": "at 2026-01-01T00:00:00Z",
                "note": "ship it", "environment": "production"}])
        );
        assert_eq!(votes_json(&[]), "[]");
    }

    #[test]
    fn cells_stay_in_their_cell() {
        assert_eq!(cell("a | b\n\nc"), "a \\| b c");
        assert_eq!(cell(&"x".repeat(400)).chars().count(), 301);
        assert_eq!(one_line(" a\nb  "), "a b");
    }

    #[test]
    fn summary_lists_votes_and_ignored_comments() {
        let o = Outcome {
            decision: Decision::Denied,
            approvers: vec!["alice".into()],
            reason: "denied by carol: error rate | up".into(),
            issue: Some((7, "https://github.com/o/r/issues/7".into())),
            waited: Duration::from_secs(75),
            rows: vec![Row {
                login: "carol".into(),
                vote: "denied".into(),
                when: "2026-01-01T00:00:10Z".into(),
                note: "error rate".into(),
                link: Some("https://github.com/o/r/issues/7#c1".into()),
                environment: None,
            }],
            ignored: vec!["mallory: not a listed approver".into()],
            mode: "issue",
        };
        let md = o.summary();
        assert!(md.starts_with("### approve-gate: denied\n"), "{md}");
        assert!(md.contains("error rate \\| up"), "{md}");
        assert!(
            md.contains("[#7](https://github.com/o/r/issues/7) · waited 1m15s"),
            "{md}"
        );
        assert!(md.contains("| @carol | denied | [2026-01-01T00:00:10Z](https://github.com/o/r/issues/7#c1) | error rate |"), "{md}");
        assert!(md.contains("- mallory: not a listed approver"), "{md}");
    }
}
