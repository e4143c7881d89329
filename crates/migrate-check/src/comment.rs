//! One pull-request comment per migrations folder, kept up to date: created when there are findings,
//! edited in place on later runs (also to say the findings are gone), left alone when unchanged.
//!
//! The comment carries a hidden marker naming the folder, so two migrate-check steps on two folders keep
//! two comments. A token that may not write (a pull request from a fork gets a read-only
//! `GITHUB_TOKEN`) is not a failure: a notice says so and the other reports stand.

use ops_core::{Env, Runner, Secret};
use ops_net::{ErrorKind, GitHub};
use serde_json::{Value, json};

use crate::error::Error;

/// GitHub's limit on a comment body, in characters.
const BODY_CHARS: usize = 65_536;

/// What the reporter did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Posted a new comment.
    Created,
    /// Edited the existing one.
    Updated,
    /// The existing one already said this.
    Unchanged,
    /// Nothing to say and no comment yet.
    Skipped,
}

/// The pull request an event is about, from `GITHUB_EVENT_PATH`.
pub fn pull_number(env: &Env) -> Option<u64> {
    let event = env.non_empty("GITHUB_EVENT_NAME")?;
    if !event.starts_with("pull_request") {
        return None;
    }
    let text = std::fs::read_to_string(env.non_empty("GITHUB_EVENT_PATH")?).ok()?;
    let payload: Value = serde_json::from_str(&text).ok()?;
    payload["pull_request"]["number"]
        .as_u64()
        .or_else(|| payload["number"].as_u64())
}

/// The hidden marker of the comment for `root`.
pub fn marker(root: &str) -> String {
    format!("<!-- migrate-check: {} -->", root.replace("--", "- -"))
}

/// The comment body: the report, cut to GitHub's limit, then the marker.
pub fn body(markdown: &str, tag: &str) -> String {
    const CUT: &str =
        "\n\n… cut at GitHub's comment limit: the step summary and the reports have every finding.\n";
    let room = BODY_CHARS.saturating_sub(tag.chars().count() + CUT.chars().count() + 1);
    let mut text: String = markdown.chars().take(room).collect();
    if text.len() < markdown.len() {
        text.push_str(CUT);
    }
    format!("{text}\n{tag}")
}

/// Creates or updates the comment.
pub fn publish(
    env: &Env,
    runner: &Runner,
    token: &Secret,
    root: &str,
    markdown: &str,
    has_findings: bool,
) -> Result<(), Error> {
    let (Some(number), Some((owner, repo))) = (pull_number(env), env.repository()) else {
        runner.info("pull-request comment: not a pull request, skipped");
        return Ok(());
    };
    let tag = marker(root);
    let body = body(markdown, &tag);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Database {
            message: format!("cannot start the async runtime: {e}"),
            hint: None,
        })?;
    let gh = GitHub::from_env(env, Some(token.clone()))?;
    let result = runtime.block_on(async {
        let comments: Vec<Value> = gh
            .paginate(
                &format!("/repos/{owner}/{repo}/issues/{number}/comments?per_page=100"),
                100,
            )
            .await?;
        let ours = comments
            .iter()
            .find(|c| c["body"].as_str().is_some_and(|b| b.contains(&tag)));
        Ok::<Outcome, ops_net::Error>(match ours {
            Some(comment) if comment["body"].as_str() == Some(body.as_str()) => Outcome::Unchanged,
            Some(comment) => {
                let id = comment["id"].as_u64().unwrap_or_default();
                let _: Value = gh
                    .patch_json(
                        &format!("/repos/{owner}/{repo}/issues/comments/{id}"),
                        &json!({ "body": body }),
                    )
                    .await?;
                Outcome::Updated
            }
            None if !has_findings => Outcome::Skipped,
            None => {
                let _: Value = gh
                    .post_json(
                        &format!("/repos/{owner}/{repo}/issues/{number}/comments"),
                        &json!({ "body": body }),
                    )
                    .await?;
                Outcome::Created
            }
        })
    });
    match result {
        Ok(outcome) => {
            runner.info(&format!(
                "pull-request comment: {}",
                format!("{outcome:?}").to_lowercase()
            ));
            Ok(())
        }
        Err(error) if matches!(error.kind(), ErrorKind::Status { status, limit: None, .. } if status.as_u16() == 403) =>
        {
            runner.notice(
                "the token may not comment on this pull request (a pull request from a fork gets a read-only token): the findings are in the annotations and the step summary",
            );
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_cut_to_the_limit_and_ends_with_the_marker() {
        let tag = marker("db/migrations");
        let long = "x".repeat(100_000);
        let text = body(&long, &tag);
        assert!(text.chars().count() <= BODY_CHARS);
        assert!(text.ends_with(&tag));
        assert!(text.contains("cut at GitHub's comment limit"));
        assert_eq!(body("short", &tag), format!("short\n{tag}"));
        assert_eq!(marker("a--b"), "<!-- migrate-check: a- -b -->");
    }
}
