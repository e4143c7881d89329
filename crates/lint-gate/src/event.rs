//! What the workflow run is about: the repository, the commit to report on and, for pull requests,
//! the number, head and base.
//!
//! Check runs and review comments need `pull_request.head.sha`, not `GITHUB_SHA` (on a pull request
//! that is GitHub's synthetic merge commit). `pull_request_target`, `pull_request_review` and
//! `pull_request_review_comment` carry the same `pull_request` object.

use ops_core::{Env, ToolError};
use serde_json::Value;

/// A pull request, from the event payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pull {
    /// Its number.
    pub number: u64,
    /// The head commit (where comments and check runs go).
    pub head_sha: String,
    /// The base commit the pull request was compared with.
    pub base_sha: String,
    /// The base branch.
    pub base_ref: String,
    /// The head is in another repository (a fork): `GITHUB_TOKEN` is read-only then.
    pub from_fork: bool,
}

/// The run's context.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Context {
    /// `owner`, `repo`.
    pub repository: Option<(String, String)>,
    /// The commit findings are reported on.
    pub sha: Option<String>,
    /// The pull request, when the event is about one.
    pub pull: Option<Pull>,
    /// `GITHUB_EVENT_NAME`.
    pub event_name: String,
}

impl Context {
    /// Reads `GITHUB_REPOSITORY`, `GITHUB_SHA`, `GITHUB_EVENT_NAME` and the payload at
    /// `GITHUB_EVENT_PATH`. A payload that cannot be read is an error; no payload is fine (a local
    /// run).
    pub fn from_env(env: &Env) -> Result<Self, ToolError> {
        let event_name = env.non_empty("GITHUB_EVENT_NAME").unwrap_or_default().to_owned();
        let payload = match env.non_empty("GITHUB_EVENT_PATH") {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ToolError::runtime(format!(
                        "cannot read the event payload at `GITHUB_EVENT_PATH` ({path})"
                    ))
                    .with_source(e)
                })?;
                serde_json::from_str::<Value>(&text).map_err(|e| {
                    ToolError::usage(format!(
                        "the event payload at `GITHUB_EVENT_PATH` ({path}) is not JSON"
                    ))
                    .with_source(e)
                })?
            }
            None => Value::Null,
        };
        Ok(Self::from_parts(
            &event_name,
            &payload,
            env.repository(),
            env.non_empty("GITHUB_SHA"),
        ))
    }

    /// Builds the context from its parts (tests use this directly).
    pub fn from_parts(
        event_name: &str,
        payload: &Value,
        repository: Option<(String, String)>,
        sha: Option<&str>,
    ) -> Self {
        let pull = payload.get("pull_request").and_then(|pr| {
            let text = |v: &Value| v.as_str().map(str::to_owned);
            let head_sha = text(pr.pointer("/head/sha")?)?;
            let base_sha = text(pr.pointer("/base/sha")?)?;
            let number = pr
                .get("number")
                .and_then(Value::as_u64)
                .or_else(|| payload.get("number").and_then(Value::as_u64))?;
            let head_repo = pr.pointer("/head/repo/full_name").and_then(Value::as_str);
            let base_repo = pr.pointer("/base/repo/full_name").and_then(Value::as_str);
            Some(Pull {
                number,
                head_sha,
                base_sha,
                base_ref: pr
                    .pointer("/base/ref")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                // a deleted fork has `head.repo: null`
                from_fork: match (head_repo, base_repo) {
                    (Some(h), Some(b)) => !h.eq_ignore_ascii_case(b),
                    (None, Some(_)) => true,
                    _ => false,
                },
            })
        });
        let sha = pull
            .as_ref()
            .map(|p| p.head_sha.clone())
            .or_else(|| sha.map(str::to_owned));
        Self {
            repository,
            sha,
            pull,
            event_name: event_name.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pull_requests_and_pushes() {
        let payload = json!({"number": 7, "pull_request": {
            "number": 7,
            "head": {"sha": "h".repeat(40), "repo": {"full_name": "fork/r"}},
            "base": {"sha": "b".repeat(40), "ref": "main", "repo": {"full_name": "o/r"}}}});
        let c = Context::from_parts(
            "pull_request",
            &payload,
            Some(("o".into(), "r".into())),
            Some("m"),
        );
        let pull = c.pull.unwrap();
        assert_eq!(
            (pull.number, pull.base_ref.as_str(), pull.from_fork),
            (7, "main", true)
        );
        assert_eq!(c.sha, Some("h".repeat(40)), "the head, not the merge commit");
        let push = Context::from_parts("push", &json!({"after": "x"}), None, Some("abc"));
        assert_eq!((push.pull, push.sha.as_deref()), (None, Some("abc")));
    }
}
