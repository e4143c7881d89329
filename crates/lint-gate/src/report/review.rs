//! Pull-request review comments on the changed lines, that never duplicate on re-runs.
//!
//! Each comment ends with a hidden marker holding the step's name and the finding's fingerprint.
//! A re-run lists the pull request's review comments first: a finding whose comment is there (and
//! not outdated) is not commented again; a marked comment whose finding is gone, or that GitHub
//! marked outdated (its `line` is gone), is edited to say it is resolved and loses its marker, so
//! the conversation and any replies stay and the next run leaves it alone. New comments go out in
//! one review (`event: COMMENT`), at most `max-comments`, the most severe first. A fix the tool
//! proposed becomes a `suggestion` block when its lines are in the diff.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use ops_core::render::summary::escape_text;
use ops_core::{Finding, Level};
use ops_net::GitHub;
use serde_json::{Value, json};

use super::check::in_repository;
use super::marker;
use crate::diff::DiffIndex;
use crate::parse::Suggestion;
use crate::pipeline::Extra;

/// What the review reporter did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewOutcome {
    /// New comments posted.
    pub posted: usize,
    /// Findings whose comment from an earlier run is still there.
    pub already: usize,
    /// Outdated comments marked resolved.
    pub resolved: usize,
    /// Findings on lines the diff does not show (no comment possible).
    pub outside_diff: usize,
    /// Findings left uncommented because of `max-comments`.
    pub over_limit: usize,
    /// API requests made.
    pub requests: usize,
}

/// Where a comment goes: `line`, and `start_line` for a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    start: Option<u32>,
    line: u32,
}

fn place(finding: &Finding, diff: &DiffIndex) -> Option<Place> {
    let path = finding.path.as_deref()?;
    let change = diff.file(path)?;
    let region = finding.region?;
    let (first, last) = (region.start_line, region.last_line());
    if first != last && change.in_hunk(first) && change.in_hunk(last) {
        return Some(Place {
            start: Some(first),
            line: last,
        });
    }
    [first, last]
        .into_iter()
        .find(|&l| change.in_hunk(l))
        .map(|line| Place { start: None, line })
}

/// The suggested replacement of whole lines, from the file on disk.
fn suggestion_block(root: &Path, path: &str, suggestion: &Suggestion) -> Option<(Place, String)> {
    let text = std::fs::read_to_string(root.join(path)).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let start = usize::try_from(suggestion.start_line).ok()?.checked_sub(1)?;
    let end = usize::try_from(suggestion.end_line).ok()?.checked_sub(1)?;
    if end < start || end >= lines.len() {
        return None;
    }
    let prefix: String = match suggestion.start_column {
        Some(c) => lines[start].chars().take(c.saturating_sub(1) as usize).collect(),
        None => String::new(),
    };
    let suffix: String = match suggestion.end_column {
        Some(c) => lines[end].chars().skip(c.saturating_sub(1) as usize).collect(),
        None => String::new(),
    };
    let replacement = format!("{prefix}{}{suffix}", suggestion.text);
    let fence = if replacement.contains("```") {
        "````"
    } else {
        "```"
    };
    let place = Place {
        start: (start != end).then_some(suggestion.start_line),
        line: suggestion.end_line,
    };
    Some((place, format!("{fence}suggestion\n{replacement}\n{fence}")))
}

fn icon(level: Level) -> &'static str {
    match level {
        Level::Error => "🔴 error",
        Level::Warning => "🟡 warning",
        Level::Notice => "🔵 notice",
    }
}

/// The comment body (linter text is escaped so it cannot inject HTML or a fake marker).
pub fn body(name: &str, finding: &Finding, suggestion: Option<&str>) -> String {
    let mut out = format!(
        "**{}** `{}`\n\n{}\n",
        icon(finding.level),
        finding.display_title().replace('`', "'"),
        escape_text(&finding.message)
    );
    if let Some(help) = &finding.help {
        out.push_str(&format!("\nhelp: {}\n", escape_text(help)));
    }
    if let Some(block) = suggestion {
        out.push('\n');
        out.push_str(block);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&marker(name, &finding.fingerprint));
    out
}

/// The fingerprint in a body carrying this step's marker.
fn fingerprint_in(name: &str, body: &str) -> Option<String> {
    let prefix = marker(name, "");
    let prefix = prefix.trim_end_matches(" -->");
    let start = body.rfind(prefix)? + prefix.len();
    let rest = &body[start..];
    let end = rest.find(" -->")?;
    let fp = &rest[..end];
    (!fp.is_empty() && fp.chars().all(|c| c.is_ascii_hexdigit())).then(|| fp.to_owned())
}

/// Posts new comments and deletes outdated ones.
#[allow(clippy::too_many_arguments)]
pub async fn publish(
    gh: &GitHub,
    repo: &(String, String),
    number: u64,
    head_sha: &str,
    name: &str,
    findings: &[Finding],
    extras: &[Extra],
    diff: &DiffIndex,
    max_comments: usize,
    root: &Path,
) -> Result<ReviewOutcome, ops_net::Error> {
    let (owner, name_repo) = (&repo.0, &repo.1);
    let mut outcome = ReviewOutcome::default();
    let existing: Vec<Value> = gh
        .paginate(
            &format!("/repos/{owner}/{name_repo}/pulls/{number}/comments?per_page=100"),
            100,
        )
        .await?;
    outcome.requests += existing.len().div_ceil(100).max(1);
    // fingerprint → comment id of ours that still sits on a line; and (id, body) of stale ones
    let mut live: HashMap<String, u64> = HashMap::new();
    let mut stale: Vec<(u64, String)> = Vec::new();
    for comment in &existing {
        let (Some(id), Some(text)) = (comment["id"].as_u64(), comment["body"].as_str()) else {
            continue;
        };
        let Some(fp) = fingerprint_in(name, text) else {
            continue;
        };
        if comment["line"].is_null() || live.contains_key(&fp) {
            stale.push((id, text.to_owned()));
        } else {
            live.insert(fp, id);
        }
    }
    let current: HashSet<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let gone: HashSet<u64> = live
        .iter()
        .filter(|(fp, _)| !current.contains(fp.as_str()))
        .map(|(_, id)| *id)
        .collect();
    stale.extend(
        existing
            .iter()
            .filter(|c| c["id"].as_u64().is_some_and(|id| gone.contains(&id)))
            .filter_map(|c| Some((c["id"].as_u64()?, c["body"].as_str()?.to_owned()))),
    );
    live.retain(|_, id| !gone.contains(id));
    // new comments, most severe first
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(findings[i].level));
    let mut comments = Vec::new();
    for i in order {
        let finding = &findings[i];
        let Some(path) = finding.path.as_deref().filter(|p| in_repository(p)) else {
            continue;
        };
        if live.contains_key(&finding.fingerprint) {
            outcome.already += 1;
            continue;
        }
        let Some(mut at) = place(finding, diff) else {
            outcome.outside_diff += 1;
            continue;
        };
        if comments.len() >= max_comments {
            outcome.over_limit += 1;
            continue;
        }
        let mut block = None;
        if let Some(s) = &extras[i].suggestion
            && let Some((s_place, text)) = suggestion_block(root, path, s)
            && diff
                .file(path)
                .is_some_and(|c| c.in_hunk(s_place.line) && s_place.start.is_none_or(|l| c.in_hunk(l)))
        {
            at = s_place;
            block = Some(text);
        }
        let mut comment = json!({
            "path": path,
            "line": at.line,
            "side": "RIGHT",
            "body": body(name, finding, block.as_deref()),
        });
        if let Some(start) = at.start {
            comment["start_line"] = json!(start);
            comment["start_side"] = json!("RIGHT");
        }
        comments.push(comment);
    }
    if !comments.is_empty() {
        let count = comments.len();
        let mut summary = format!(
            "{} new finding{} on the changed lines.",
            count,
            if count == 1 { "" } else { "s" }
        );
        if outcome.over_limit > 0 {
            summary.push_str(&format!(
                " {} more {} not commented (`max-comments`); see the check run or the step summary.",
                outcome.over_limit,
                if outcome.over_limit == 1 { "is" } else { "are" }
            ));
        }
        let _: Value = gh
            .post_json(
                &format!("/repos/{owner}/{name_repo}/pulls/{number}/reviews"),
                &json!({
                    "commit_id": head_sha,
                    "event": "COMMENT",
                    "body": format!("{summary}\n\n{}", marker(name, "review")),
                    "comments": comments,
                }),
            )
            .await?;
        outcome.requests += 1;
        outcome.posted = count;
    }
    stale.sort_unstable_by_key(|(id, _)| *id);
    stale.dedup_by_key(|(id, _)| *id);
    for (id, text) in stale {
        let _: Value = gh
            .patch_json(
                &format!("/repos/{owner}/{name_repo}/pulls/comments/{id}"),
                &json!({ "body": resolved_body(name, &text, head_sha) }),
            )
            .await?;
        outcome.requests += 1;
        outcome.resolved += 1;
    }
    Ok(outcome)
}

/// A comment whose finding is gone: struck through, marked resolved, its marker replaced so later
/// runs do not touch it again.
fn resolved_body(name: &str, body: &str, head_sha: &str) -> String {
    let prefix = marker(name, "");
    let prefix = prefix.trim_end_matches(" -->");
    let text = body.rfind(prefix).map_or(body, |i| &body[..i]).trim_end();
    let first = text.lines().next().unwrap_or_default();
    let short: String = head_sha.chars().take(7).collect();
    format!(
        "~~{}~~\n\n✅ No longer reported at {short}.\n\n<details><summary>the earlier comment</summary>\n\n{text}\n\n</details>\n\n{}",
        first.replace("**", ""),
        marker(name, "resolved")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ops_core::Region;

    #[test]
    fn resolved_comments_lose_their_fingerprint() {
        let mut f = Finding::new("r", Level::Error, "m").at("a.rs", Some(Region::line(1)));
        f.fingerprint = "00ff".into();
        let b = resolved_body("lint", &body("lint", &f, None), "abcdef0123");
        assert_eq!(fingerprint_in("lint", &b), None);
        assert!(b.starts_with("~~🔴 error `r`~~\n\n"), "{b}");
        assert!(b.contains("No longer reported at abcdef0."), "{b}");
        assert!(b.ends_with("<!-- lint-gate:lint:resolved -->"), "{b}");
    }

    #[test]
    fn markers_round_trip_and_resist_injection() {
        let mut f = Finding::new("r", Level::Warning, "bad <!-- lint-gate:lint:deadbeef -->")
            .at("a.rs", Some(Region::line(1)));
        f.fingerprint = "0123abcd".into();
        let b = body("lint", &f, None);
        assert_eq!(fingerprint_in("lint", &b).as_deref(), Some("0123abcd"));
        assert!(!b.contains("<!-- lint-gate:lint:deadbeef"), "{b}");
        assert_eq!(fingerprint_in("other", &b), None);
    }

    #[test]
    fn places_and_suggestions() {
        let diff = DiffIndex::from_git_diff(
            "diff --git a/a.rs b/a.rs\n--- a/a.rs\n+++ b/a.rs\n@@ -1,2 +1,4 @@\n x\n+y\n+z\n w\n",
        );
        let f = |s: u32, e: Option<u32>| {
            Finding::new("r", Level::Warning, "m").at(
                "a.rs",
                Some(Region {
                    start_line: s,
                    end_line: e,
                    ..Region::default()
                }),
            )
        };
        assert_eq!(
            place(&f(2, Some(3)), &diff),
            Some(Place {
                start: Some(2),
                line: 3
            })
        );
        assert_eq!(place(&f(4, Some(9)), &diff), Some(Place { start: None, line: 4 }));
        assert_eq!(place(&f(9, None), &diff), None);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.rs"), "x\nlet y = 1;\nz\nw\n").unwrap();
        let s = Suggestion {
            start_line: 2,
            start_column: Some(5),
            end_line: 2,
            end_column: Some(6),
            text: "_y".into(),
        };
        let (p, block) = suggestion_block(dir.path(), "a.rs", &s).unwrap();
        assert_eq!(p, Place { start: None, line: 2 });
        assert_eq!(block, "```suggestion\nlet _y = 1;\n```");
        let whole = Suggestion {
            start_line: 2,
            start_column: None,
            end_line: 3,
            end_column: None,
            text: "one".into(),
        };
        let (p, block) = suggestion_block(dir.path(), "a.rs", &whole).unwrap();
        assert_eq!(
            p,
            Place {
                start: Some(2),
                line: 3
            }
        );
        assert_eq!(block, "```suggestion\none\n```");
        assert!(
            suggestion_block(
                dir.path(),
                "a.rs",
                &Suggestion {
                    start_line: 9,
                    end_line: 9,
                    ..whole
                }
            )
            .is_none()
        );
    }
}
