//! What the workflow run is about: the repository, the commit to report on and, for pull requests,
//! the number, head and base.
//!
//! Check runs and review comments need `pull_request.head.sha`, not `GITHUB_SHA` (on a pull request
//! that is GitHub's synthetic merge commit). `pull_request_target`, `pull_request_review` and
//! `pull_request_review_comment` carry the same `pull_request` object.
//!
//! A `push` carries `before` (the branch's previous tip) and `after` (the pushed commit, checked
//! out as `GITHUB_SHA`); the change a push made is the diff between them.

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

/// A push, from the event payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// The branch's tip before the push; all zeros when the push created the branch.
    pub before: String,
    /// The pushed commit; all zeros when the push deleted the branch.
    pub after: String,
}

impl Push {
    /// The push created the branch: there is no previous tip to compare with.
    pub fn created(&self) -> bool {
        is_zero(&self.before)
    }

    /// The push deleted the branch: there is no commit to compare.
    pub fn deleted(&self) -> bool {
        is_zero(&self.after)
    }
}

/// The null commit id GitHub gives for a side that does not exist (`0000…`, 40 or 64 digits).
fn is_zero(sha: &str) -> bool {
    !sha.is_empty() && sha.bytes().all(|b| b == b'0')
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
    /// The push, for a `push` event whose payload has `before` and `after`.
    pub push: Option<Push>,
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
        let push = (event_name == "push")
            .then(|| {
                let text = |key: &str| {
                    payload
                        .get(key)?
                        .as_str()
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                };
                Some(Push {
                    before: text("before")?.to_owned(),
                    after: text("after")?.to_owned(),
                })
            })
            .flatten();
        let sha = pull
            .as_ref()
            .map(|p| p.head_sha.clone())
            .or_else(|| sha.map(str::to_owned));
        Self {
            repository,
            sha,
            pull,
            push,
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
        assert_eq!(c.push, None);
        let push = Context::from_parts("push", &json!({"after": "x"}), None, Some("abc"));
        assert_eq!((push.pull, push.sha.as_deref()), (None, Some("abc")));
        assert_eq!(push.push, None, "no `before`: not a push to compare");
    }

    #[test]
    fn pushes_say_what_they_compare() {
        let zero = "0".repeat(40);
        let (b, a) = ("b".repeat(40), "a".repeat(40));
        let payload = json!({"before": b, "after": a, "ref": "refs/heads/main"});
        let c = Context::from_parts("push", &payload, None, Some(&a));
        let push = c.push.expect("a push");
        assert_eq!(
            (push.before.as_str(), push.after.as_str()),
            (b.as_str(), a.as_str())
        );
        assert!(!push.created() && !push.deleted());
        assert_eq!(c.sha.as_deref(), Some(a.as_str()));

        let created = Context::from_parts("push", &json!({"before": zero, "after": a}), None, None);
        assert!(created.push.expect("a push").created());
        let deleted = Context::from_parts("push", &json!({"before": b, "after": zero}), None, None);
        assert!(deleted.push.expect("a push").deleted());
        // the same payload on another event is not a push
        assert_eq!(
            Context::from_parts("workflow_dispatch", &payload, None, None).push,
            None
        );
    }
}
