//! One sticky pull-request comment per step, updated in place on re-runs.
//!
//! The comment carries a hidden marker with the step's name. A re-run finds it among the pull
//! request's comments and edits it (or leaves it alone when nothing changed); it is created only
//! when there is something to say, so a clean pull request gets no comment.

use ops_net::GitHub;
use serde_json::{Value, json};

use super::{cut_chars, marker};

/// GitHub's limit on a comment body.
const BODY_CHARS: usize = 65_536;

/// What the sticky comment reporter did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentOutcome {
    /// A new comment.
    Created,
    /// The existing comment was edited.
    Updated,
    /// The existing comment already said this.
    Unchanged,
    /// No findings and no comment yet: nothing posted.
    Skipped,
}

/// Creates or updates the comment. `markdown` is the report; `has_findings` decides whether a
/// first comment is worth posting.
pub async fn publish(
    gh: &GitHub,
    repo: &(String, String),
    number: u64,
    name: &str,
    markdown: &str,
    has_findings: bool,
) -> Result<CommentOutcome, ops_net::Error> {
    let (owner, repo) = (&repo.0, &repo.1);
    let tag = marker(name, "sticky");
    let body = format!(
        "{}\n{tag}",
        cut_chars(
            markdown,
            BODY_CHARS - tag.len() - 1,
            "\n… (cut at GitHub's comment limit; see the check run or the step summary)\n"
        )
    );
    let comments: Vec<Value> = gh
        .paginate(
            &format!("/repos/{owner}/{repo}/issues/{number}/comments?per_page=100"),
            100,
        )
        .await?;
    let ours = comments
        .iter()
        .find(|c| c["body"].as_str().is_some_and(|b| b.contains(&tag)));
    match ours {
        Some(comment) if comment["body"].as_str() == Some(body.as_str()) => Ok(CommentOutcome::Unchanged),
        Some(comment) => {
            let id = comment["id"].as_u64().unwrap_or_default();
            let _: Value = gh
                .patch_json(
                    &format!("/repos/{owner}/{repo}/issues/comments/{id}"),
                    &json!({ "body": body }),
                )
                .await?;
            Ok(CommentOutcome::Updated)
        }
        None if !has_findings => Ok(CommentOutcome::Skipped),
        None => {
            let _: Value = gh
                .post_json(
                    &format!("/repos/{owner}/{repo}/issues/{number}/comments"),
                    &json!({ "body": body }),
                )
                .await?;
            Ok(CommentOutcome::Created)
        }
    }
}
