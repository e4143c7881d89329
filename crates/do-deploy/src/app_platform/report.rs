//! What a failed deployment shows: its failed steps as a tree with their reasons, and the tail of
//! the BUILD and DEPLOY logs. Both are text from outside (build output, messages about the user's
//! code), so they are echoed inside `::stop-commands::` and with every mask applied; the summary
//! gets them in a fenced block that their own backticks cannot close.

use ops_core::Runner;
use ops_core::secret::redact_url;

use crate::app_platform::api::{Api, Deployment, Step};

/// Longest log line shown, in characters.
const MAX_LINE_CHARS: usize = 400;

/// The failed steps of a deployment as tree lines (`├─`, `└─`), with reasons. Empty when no step
/// failed (a cancelled or stalled deployment).
pub fn failure_tree(d: &Deployment) -> Vec<String> {
    fn failed(step: &Step) -> bool {
        step.status.as_deref() == Some("ERROR") || step.steps.iter().any(failed)
    }
    fn walk(steps: &[&Step], indent: &str, out: &mut Vec<String>) {
        for (i, step) in steps.iter().enumerate() {
            let last = i + 1 == steps.len();
            let mut line = format!(
                "{indent}{} {}: {}",
                if last { "└─" } else { "├─" },
                step.label(),
                step.status.as_deref().unwrap_or("UNKNOWN")
            );
            if let Some(reason) = &step.reason {
                let text = match (reason.code.as_deref(), reason.message.as_deref()) {
                    (Some(c), Some(m)) => format!("{c}: {m}"),
                    (Some(c), None) => c.to_owned(),
                    (None, Some(m)) => m.to_owned(),
                    (None, None) => String::new(),
                };
                if !text.is_empty() {
                    line.push_str(" — ");
                    line.push_str(&text.replace(['\r', '\n'], " "));
                }
            }
            out.push(line);
            let children: Vec<&Step> = step.steps.iter().filter(|s| failed(s)).collect();
            let next = format!("{indent}{}", if last { "   " } else { "│  " });
            walk(&children, &next, out);
        }
    }
    let Some(progress) = &d.progress else {
        return Vec::new();
    };
    let top: Vec<&Step> = progress.steps.iter().filter(|s| failed(s)).collect();
    let mut out = Vec::new();
    walk(&top, "", &mut out);
    out
}

/// The deepest reason in the tree, for a one-line annotation.
pub fn first_reason(d: &Deployment) -> Option<String> {
    fn find(steps: &[Step]) -> Option<String> {
        for s in steps.iter().filter(|s| s.status.as_deref() == Some("ERROR")) {
            if let Some(deeper) = find(&s.steps) {
                return Some(deeper);
            }
            if let Some(m) = s
                .reason
                .as_ref()
                .and_then(|r| r.message.clone().or_else(|| r.code.clone()))
            {
                return Some(format!("{}: {}", s.label(), m.replace(['\r', '\n'], " ")));
            }
        }
        None
    }
    find(&d.progress.as_ref()?.steps)
}

/// A fetched log tail.
#[derive(Debug, Clone)]
pub struct LogTail {
    /// `BUILD` or `DEPLOY`.
    pub kind: &'static str,
    /// The last lines, or why there are none.
    pub text: String,
    /// Lines left out before the tail.
    pub cut: usize,
}

/// Fetches the last `lines` lines of the BUILD and DEPLOY logs of a deployment. Failures to fetch
/// are reported in the text: logs are evidence, not a reason to fail differently.
pub async fn log_tails(api: &Api, app_id: &str, deployment_id: &str, lines: usize) -> Vec<LogTail> {
    let mut out = Vec::new();
    for kind in ["BUILD", "DEPLOY"] {
        let urls = match api.log_urls(app_id, deployment_id, kind).await {
            Ok(urls) => urls,
            Err(e) => {
                out.push(LogTail {
                    kind,
                    text: format!("(could not list the {kind} logs: {e})"),
                    cut: 0,
                });
                continue;
            }
        };
        let mut text = String::new();
        for url in &urls {
            match api.archive(url).await {
                Ok(body) => text.push_str(&body),
                Err(e) => text.push_str(&format!("(could not fetch {}: {e})\n", redact_url(url))),
            }
            if !text.ends_with('\n') {
                text.push('\n');
            }
        }
        if urls.is_empty() {
            text.push_str("(no archived log yet)\n");
        }
        let (tail, cut) = tail(&text, lines);
        out.push(LogTail {
            kind,
            text: tail,
            cut,
        });
    }
    out
}

/// The last `n` lines, each cut to a bounded length; and how many lines came before them.
pub fn tail(text: &str, n: usize) -> (String, usize) {
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(n);
    let lines: Vec<String> = all[start..]
        .iter()
        .map(|l| {
            let l = l.trim_end_matches('\r');
            if l.chars().count() > MAX_LINE_CHARS {
                let mut cut: String = l.chars().take(MAX_LINE_CHARS).collect();
                cut.push('…');
                cut
            } else {
                l.to_owned()
            }
        })
        .collect();
    (lines.join("\n"), start)
}

/// Prints the failure evidence: the tree and the log tails, as untrusted text.
pub fn print_failure(runner: &Runner, tree: &[String], logs: &[LogTail]) {
    if !tree.is_empty() {
        runner.info("failed steps:");
        runner.untrusted(&tree.join("\n"));
    }
    for log in logs {
        let title = if log.cut > 0 {
            format!("{} log (last {} lines)", log.kind, log.text.lines().count())
        } else {
            format!("{} log", log.kind)
        };
        let _group = runner.group(&title);
        runner.untrusted(&log.text);
    }
}

/// A fenced code block that the content's own backticks cannot close.
pub fn fenced(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}text\n{text}\n{fence}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app_platform::api::{Progress, Reason};

    fn step(
        name: &str,
        status: &str,
        component: Option<&str>,
        reason: Option<&str>,
        steps: Vec<Step>,
    ) -> Step {
        Step {
            name: name.into(),
            status: Some(status.into()),
            component_name: component.map(str::to_owned),
            reason: reason.map(|m| Reason {
                code: Some("DeployContainerHealthChecksFailed".into()),
                message: Some(m.into()),
            }),
            steps,
            ..Step::default()
        }
    }

    #[test]
    fn tree_shows_failed_steps_only() {
        let d = Deployment {
            phase: "ERROR".into(),
            progress: Some(Progress {
                steps: vec![
                    step("build", "SUCCESS", None, None, vec![]),
                    step(
                        "deploy",
                        "ERROR",
                        None,
                        Some("health checks failed"),
                        vec![
                            step("deploy", "SUCCESS", Some("web"), None, vec![]),
                            step(
                                "deploy",
                                "ERROR",
                                Some("api"),
                                Some("port 8080\nnot open"),
                                vec![],
                            ),
                        ],
                    ),
                ],
            }),
            ..Deployment::default()
        };
        assert_eq!(
            failure_tree(&d),
            vec![
                "└─ deploy: ERROR — DeployContainerHealthChecksFailed: health checks failed",
                "   └─ deploy › api: ERROR — DeployContainerHealthChecksFailed: port 8080 not open",
            ]
        );
        assert_eq!(
            first_reason(&d).as_deref(),
            Some("deploy › api: port 8080 not open")
        );
        assert!(failure_tree(&Deployment::default()).is_empty());
    }

    #[test]
    fn tail_table() {
        assert_eq!(tail("a\nb\nc\n", 2), ("b\nc".to_owned(), 1));
        assert_eq!(tail("a\r\nb", 5), ("a\nb".to_owned(), 0));
        let long = "x".repeat(500);
        let (t, _) = tail(&long, 1);
        assert_eq!(t.chars().count(), MAX_LINE_CHARS + 1);
    }

    #[test]
    fn fences_outlast_backticks() {
        assert_eq!(fenced("a"), "```text\na\n```\n");
        assert_eq!(fenced("x ```` y"), "`````text\nx ```` y\n`````\n");
    }
}
