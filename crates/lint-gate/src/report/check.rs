//! A check run: created `in_progress`, then annotations 50 per `PATCH` (GitHub's limit per
//! request; updates append), the last `PATCH` completing it with the conclusion and the summary.
//! With no annotations one `POST` creates it completed. Requests: `1 + ceil(n / 50)`.
//!
//! Limits kept: summary ≤ 65,535 characters, annotation message and `raw_details` ≤ 64 KiB,
//! title ≤ 255 characters, columns only on one-line annotations. Findings with no file, or a path
//! outside the repository, cannot be annotations; they are in the summary.

use ops_core::Finding;
use ops_net::GitHub;
use serde_json::{Value, json};

use super::cut_chars;
use crate::gate::Decision;
use crate::pipeline::Extra;

/// GitHub's limit on annotations per request.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;
/// GitHub's limit on `output.summary`.
pub const SUMMARY_CHARS: usize = 65_535;
/// GitHub's limit on an annotation's `message` and `raw_details`.
const ANNOTATION_BYTES: usize = 64 * 1024;
/// GitHub's limit on an annotation's `title`.
const TITLE_CHARS: usize = 255;

/// What publishing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    /// The run's id.
    pub id: u64,
    /// Its page, for links.
    pub html_url: Option<String>,
    /// Annotations sent.
    pub annotations: usize,
    /// API requests made.
    pub requests: usize,
}

/// Whether a path can carry a check-run annotation or review comment.
pub fn in_repository(path: &str) -> bool {
    !path.is_empty() && !path.starts_with('/') && !path.starts_with("../") && !path.contains("://")
}

fn cut_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The annotation objects, in report order.
pub fn annotations(findings: &[Finding], extras: &[Extra]) -> Vec<Value> {
    findings
        .iter()
        .zip(extras)
        .filter_map(|(f, x)| {
            let path = f.path.as_deref().filter(|p| in_repository(p))?;
            let region = f.region.unwrap_or_default();
            let start = region.start_line.max(1);
            let end = region.last_line().max(start);
            let mut message = f.message.clone();
            if let Some(help) = &f.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            if message.trim().is_empty() {
                message = f.rule.clone();
            }
            let title: String = f.display_title().chars().take(TITLE_CHARS).collect();
            let mut a = json!({
                "path": path,
                "start_line": start,
                "end_line": end,
                "annotation_level": f.level.check_run(),
                "message": cut_bytes(&message, ANNOTATION_BYTES),
                "title": title,
            });
            if start == end
                && let Some(col) = region.start_column
            {
                a["start_column"] = json!(col);
                a["end_column"] = json!(region.end_column.filter(|&e| e >= col).unwrap_or(col));
            }
            if !x.related.is_empty() {
                let details: Vec<String> = x
                    .related
                    .iter()
                    .map(|r| {
                        let at = match (&r.path, r.region) {
                            (Some(p), Some(reg)) => format!("{p}:{}", reg.start_line),
                            (Some(p), None) => p.clone(),
                            _ => String::new(),
                        };
                        format!("related: {at} {}", r.message).trim_end().to_owned()
                    })
                    .collect();
                a["raw_details"] = json!(cut_bytes(&details.join("\n"), ANNOTATION_BYTES));
            }
            Some(a)
        })
        .collect()
}

/// The check run's title: counts, or "no findings".
pub fn title(findings: &[Finding], decision: &Decision) -> String {
    let (e, w, n) = ops_core::finding::counts(findings);
    if findings.is_empty() {
        return "no findings".to_owned();
    }
    let mut parts = Vec::new();
    for (count, word) in [(e, "error"), (w, "warning"), (n, "notice")] {
        if count > 0 {
            parts.push(format!("{count} {word}{}", if count == 1 { "" } else { "s" }));
        }
    }
    let state = if decision.passed { "passed" } else { "failed" };
    format!("{state}: {}", parts.join(", "))
}

/// Creates and fills the check run.
#[allow(clippy::too_many_arguments)]
pub async fn publish(
    gh: &GitHub,
    repo: &(String, String),
    head_sha: &str,
    name: &str,
    decision: &Decision,
    findings: &[Finding],
    extras: &[Extra],
    summary: &str,
) -> Result<CheckRun, ops_net::Error> {
    let route = format!("/repos/{}/{}/check-runs", repo.0, repo.1);
    let title = title(findings, decision);
    let summary = cut_chars(
        summary,
        SUMMARY_CHARS,
        "\n… (the summary is cut at GitHub's limit; every finding is annotated)\n",
    );
    let annotations = annotations(findings, extras);
    let conclusion = decision.conclusion.as_str();
    let mut requests = 0;
    if annotations.is_empty() {
        let created: Value = gh
            .post_json(
                &route,
                &json!({
                    "name": name,
                    "head_sha": head_sha,
                    "status": "completed",
                    "conclusion": conclusion,
                    "output": { "title": title, "summary": summary },
                }),
            )
            .await?;
        return Ok(CheckRun {
            id: created["id"].as_u64().unwrap_or_default(),
            html_url: created["html_url"].as_str().map(str::to_owned),
            annotations: 0,
            requests: 1,
        });
    }
    let total = annotations.len();
    let created: Value = gh
        .post_json(
            &route,
            &json!({
                "name": name,
                "head_sha": head_sha,
                "status": "in_progress",
                "output": {
                    "title": "reporting findings",
                    "summary": format!("Annotating {total} finding{}…", if total == 1 { "" } else { "s" }),
                },
            }),
        )
        .await?;
    requests += 1;
    let id = created["id"].as_u64().unwrap_or_default();
    let update = format!("{route}/{id}");
    let chunks: Vec<&[Value]> = annotations.chunks(ANNOTATIONS_PER_REQUEST).collect();
    let last = chunks.len() - 1;
    for (i, chunk) in chunks.into_iter().enumerate() {
        let body = if i == last {
            json!({
                "status": "completed",
                "conclusion": conclusion,
                "output": { "title": title, "summary": summary, "annotations": chunk },
            })
        } else {
            let done = (i + 1) * ANNOTATIONS_PER_REQUEST;
            json!({
                "output": {
                    "title": "reporting findings",
                    "summary": format!("Annotated {done} of {total} findings…"),
                    "annotations": chunk,
                },
            })
        };
        let _: Value = gh.patch_json(&update, &body).await?;
        requests += 1;
    }
    Ok(CheckRun {
        id,
        html_url: created["html_url"].as_str().map(str::to_owned),
        annotations: total,
        requests,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::{FailLevel, decide};
    use crate::parse::Related;
    use ops_core::{Level, Region};

    #[test]
    fn annotation_shape() {
        let findings = vec![
            Finding::new("R", Level::Error, "m")
                .at(
                    "src/a.rs",
                    Some(Region {
                        start_line: 3,
                        start_column: Some(2),
                        end_line: Some(3),
                        end_column: Some(5),
                    }),
                )
                .with_source("clippy")
                .with_help("h"),
            Finding::new("R", Level::Warning, "multi").at(
                "b.rs",
                Some(Region {
                    start_line: 1,
                    start_column: Some(4),
                    end_line: Some(3),
                    end_column: None,
                }),
            ),
            Finding::new("R", Level::Notice, "no line").at("c.rs", None),
            Finding::new("R", Level::Notice, "outside").at("/usr/x.h", Some(Region::line(1))),
            Finding::new("R", Level::Notice, "nowhere"),
        ];
        let mut extras = vec![Extra::default(); 5];
        extras[0].related = vec![Related {
            path: Some("d.rs".into()),
            region: Some(Region::line(9)),
            message: "here".into(),
        }];
        let a = annotations(&findings, &extras);
        assert_eq!(a.len(), 3);
        assert_eq!(
            a[0],
            json!({"path": "src/a.rs", "start_line": 3, "end_line": 3, "annotation_level": "failure",
                   "message": "m\nhelp: h", "title": "clippy: R", "start_column": 2, "end_column": 5,
                   "raw_details": "related: d.rs:9 here"})
        );
        assert!(a[1].get("start_column").is_none(), "no columns across lines");
        assert_eq!(
            (a[2]["start_line"].as_u64(), a[2]["end_line"].as_u64()),
            (Some(1), Some(1))
        );
        let d = decide(&findings, &extras, FailLevel::Error, None);
        assert_eq!(title(&findings, &d), "failed: 1 error, 1 warning, 3 notices");
    }
}
