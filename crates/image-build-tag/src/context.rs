//! The Git context, read as a runner sets it: `GITHUB_EVENT_NAME`, `GITHUB_SHA`, `GITHUB_REF`,
//! `GITHUB_REPOSITORY` and the payload at `GITHUB_EVENT_PATH`, with docker/metadata-action's two
//! adjustments (the `pull_request_target` ref rewrite and `DOCKER_METADATA_PR_HEAD_SHA`). With
//! `metadata-context: git` the ref, the commit and its date come from the checkout instead.

use std::path::Path;
use std::process::Command;

use jiff::Timestamp;
use ops_core::Env;
use serde_json::Value;

use crate::error::Error;

/// What the run is about.
#[derive(Debug, Clone, PartialEq)]
pub struct GitContext {
    /// `GITHUB_EVENT_NAME`.
    pub event_name: String,
    /// The commit.
    pub sha: String,
    /// The ref.
    pub git_ref: String,
    /// The event payload (`{}` when there is none).
    pub payload: Value,
    /// `owner`, `name`.
    pub repository: Option<(String, String)>,
    /// The commit date, when the checkout told it (`metadata-context: git`).
    pub commit_date: Option<Timestamp>,
    /// Notes for the log.
    pub notes: Vec<String>,
}

/// The workflow context.
pub fn workflow(env: &Env, pr_head_sha: bool) -> Result<GitContext, Error> {
    let mut ctx = base(env)?;
    // For pull_request_target the runner's ref is the base branch; the PR's own ref is rebuilt from the
    // payload (metadata-action #90).
    if ctx.event_name.contains("pull_request_target") {
        let number = ctx
            .payload
            .get("number")
            .or_else(|| ctx.payload.pointer("/pull_request/number"))
            .and_then(Value::as_u64);
        match number {
            Some(n) => ctx.git_ref = format!("refs/pull/{n}/merge"),
            None => ctx.notes.push(format!(
                "pull_request_target event without a pull request number in the payload; keeping `{}`",
                ctx.git_ref
            )),
        }
    }
    // The merge commit GitHub makes for a PR is not what was pushed; the head is (#206, #414).
    if pr_head_sha
        && ctx.event_name.contains("pull_request")
        && let Some(head) = ctx
            .payload
            .pointer("/pull_request/head/sha")
            .and_then(Value::as_str)
    {
        ctx.sha = head.to_owned();
    }
    Ok(ctx)
}

/// The checkout's context: the event comes from the runner, the ref, commit and date from `git`.
pub fn git(env: &Env, dir: &Path) -> Result<GitContext, Error> {
    let mut ctx = base(env)?;
    ctx.sha = git_output(dir, &["rev-parse", "HEAD"])?;
    ctx.git_ref = match git_output(dir, &["symbolic-ref", "-q", "HEAD"]) {
        Ok(r) if !r.is_empty() => r,
        _ => {
            let decorations = git_output(dir, &["show", "-s", "--pretty=%D", "HEAD"])?;
            match detached_ref(&decorations) {
                Some(r) => r,
                None => {
                    // metadata-action fails here (#362); the runner's ref is a better answer
                    let fallback = env.var("GITHUB_REF").unwrap_or_default().to_owned();
                    ctx.notes.push(format!(
                        "the checkout is a detached HEAD (`{decorations}`) with no branch or tag; using `GITHUB_REF` (`{fallback}`)"
                    ));
                    fallback
                }
            }
        }
    };
    let date = git_output(dir, &["show", "-s", "--format=%cI", "HEAD"])?;
    ctx.commit_date = date.parse().ok();
    Ok(ctx)
}

/// The ref of a detached HEAD from `git show -s --pretty=%D`: a tag, a PR ref or a branch.
pub fn detached_ref(decorations: &str) -> Option<String> {
    let decorations = decorations.trim();
    let decorations = decorations.strip_prefix("grafted, ").unwrap_or(decorations);
    let parts: Vec<&str> = decorations
        .split(", ")
        .map(str::trim)
        .filter(|p| *p != "HEAD" && *p != "grafted")
        .collect();
    if let Some(tag) = parts.iter().find_map(|p| p.strip_prefix("tag: ")) {
        return Some(format!("refs/tags/{tag}"));
    }
    if let Some(pr) = parts.iter().find(|p| {
        let mut it = p.split('/');
        it.next() == Some("pull")
            && it
                .next()
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            && matches!(it.next(), Some("head" | "merge"))
            && it.next().is_none()
    }) {
        return Some(format!("refs/{pr}"));
    }
    // a local branch, else `remote/branch`
    if let Some(local) = parts.iter().find(|p| !p.contains('/') && !p.starts_with("HEAD")) {
        return Some(format!("refs/heads/{local}"));
    }
    parts
        .iter()
        .find_map(|p| p.split_once('/').map(|(_, branch)| branch))
        .filter(|b| *b != "HEAD")
        .map(|b| format!("refs/heads/{b}"))
}

fn git_output(dir: &Path, args: &[&str]) -> Result<String, Error> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| {
            Error::dependency("cannot run `git` for `metadata-context: git`")
                .with_hint("install git, or use `metadata-context: workflow`")
                .with_source(e)
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Error::dependency(format!(
            "`git {}` failed in `{}`: {}",
            args.join(" "),
            dir.display(),
            stderr.trim()
        ))
        .with_hint(
            "check out the repository first (actions/checkout), or use `metadata-context: workflow`",
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn base(env: &Env) -> Result<GitContext, Error> {
    let mut notes = Vec::new();
    let payload = match env.non_empty("GITHUB_EVENT_PATH") {
        Some(path) if Path::new(path).exists() => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Error::dependency(format!("cannot read the event payload `{path}`")).with_source(e)
            })?;
            serde_json::from_str(&text).map_err(|e| {
                Error::dependency(format!(
                    "the event payload `{path}` is not valid JSON (line {}, column {})",
                    e.line(),
                    e.column()
                ))
            })?
        }
        Some(path) => {
            notes.push(format!(
                "the event payload `{path}` does not exist; using an empty one"
            ));
            Value::Object(serde_json::Map::new())
        }
        None => Value::Object(serde_json::Map::new()),
    };
    let repository = env.repository().or_else(|| {
        let owner = payload.pointer("/repository/owner/login")?.as_str()?;
        let name = payload.pointer("/repository/name")?.as_str()?;
        Some((owner.to_owned(), name.to_owned()))
    });
    Ok(GitContext {
        event_name: env.var("GITHUB_EVENT_NAME").unwrap_or_default().to_owned(),
        sha: env.var("GITHUB_SHA").unwrap_or_default().to_owned(),
        git_ref: env.var("GITHUB_REF").unwrap_or_default().to_owned(),
        payload,
        repository,
        commit_date: None,
        notes,
    })
}

/// The commit date from the payload: `commits[].timestamp` of this commit, else `head_commit` if it is
/// this commit.
pub fn payload_commit_date(payload: &Value, sha: &str) -> Option<Timestamp> {
    let from_commits = payload
        .get("commits")
        .and_then(Value::as_array)
        .and_then(|commits| {
            commits
                .iter()
                .find(|c| c.get("id").and_then(Value::as_str) == Some(sha))
        })
        .and_then(|c| c.get("timestamp"))
        .and_then(Value::as_str);
    let from_head = payload
        .get("head_commit")
        .filter(|c| c.get("id").and_then(Value::as_str) == Some(sha))
        .and_then(|c| c.get("timestamp"))
        .and_then(Value::as_str);
    from_commits.or(from_head).and_then(|t| t.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env_with(event: &str, git_ref: &str, payload: &Value, dir: &Path) -> Env {
        let path = dir.join("event.json");
        std::fs::write(&path, payload.to_string()).unwrap();
        Env::from_pairs([
            ("GITHUB_EVENT_NAME", event.to_owned()),
            ("GITHUB_REF", git_ref.to_owned()),
            (
                "GITHUB_SHA",
                "a9c8c5828b91be19d9728548b24759e352367ef1".to_owned(),
            ),
            ("GITHUB_REPOSITORY", "octo/app".to_owned()),
            ("GITHUB_EVENT_PATH", path.display().to_string()),
        ])
    }

    #[test]
    fn pull_request_target_ref_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let payload = json!({"number": 8, "pull_request": {"number": 8, "head": {"sha": "b".repeat(40)}}});
        let ctx = workflow(
            &env_with("pull_request_target", "refs/heads/master", &payload, dir.path()),
            false,
        )
        .unwrap();
        assert_eq!(ctx.git_ref, "refs/pull/8/merge");
        assert_eq!(ctx.sha, "a9c8c5828b91be19d9728548b24759e352367ef1");
        // no number: the ref is kept and a note says why
        let ctx = workflow(
            &env_with("pull_request_target", "refs/heads/master", &json!({}), dir.path()),
            false,
        )
        .unwrap();
        assert_eq!(ctx.git_ref, "refs/heads/master");
        assert_eq!(ctx.notes.len(), 1);
    }

    #[test]
    fn pr_head_sha_replaces_the_merge_commit() {
        let dir = tempfile::tempdir().unwrap();
        let payload = json!({"number": 15, "pull_request": {"head": {"sha": "c".repeat(40)}}});
        for (event, on, expected) in [
            ("pull_request", true, "c".repeat(40)),
            (
                "pull_request",
                false,
                "a9c8c5828b91be19d9728548b24759e352367ef1".to_owned(),
            ),
            ("pull_request_target", true, "c".repeat(40)),
            (
                "push",
                true,
                "a9c8c5828b91be19d9728548b24759e352367ef1".to_owned(),
            ),
        ] {
            let ctx = workflow(&env_with(event, "refs/pull/15/merge", &payload, dir.path()), on).unwrap();
            assert_eq!(ctx.sha, expected, "{event} {on}");
        }
    }

    #[test]
    fn payload_is_optional_and_repository_falls_back_to_it() {
        let ctx = workflow(
            &Env::from_pairs([("GITHUB_EVENT_PATH", "/nonexistent/event.json")]),
            false,
        )
        .unwrap();
        assert_eq!(ctx.payload, json!({}));
        assert_eq!(ctx.repository, None);
        assert_eq!(ctx.notes.len(), 1);
        let dir = tempfile::tempdir().unwrap();
        let env = env_with(
            "push",
            "refs/heads/x",
            &json!({"repository": {"name": "r", "owner": {"login": "o"}}}),
            dir.path(),
        );
        let env = Env::from_pairs(
            env.vars()
                .filter(|(k, _)| *k != "GITHUB_REPOSITORY")
                .map(|(k, v)| (k.to_owned(), v.to_owned())),
        );
        assert_eq!(
            workflow(&env, false).unwrap().repository,
            Some(("o".to_owned(), "r".to_owned()))
        );
    }

    #[test]
    fn malformed_payload_is_an_error_with_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("event.json");
        std::fs::write(&path, "{\n  \"a\": ,\n}").unwrap();
        let env = Env::from_pairs([("GITHUB_EVENT_PATH", path.display().to_string())]);
        let err = workflow(&env, false).unwrap_err().to_string();
        assert!(err.contains("is not valid JSON (line 2, column 8)"), "{err}");
    }

    #[test]
    fn commit_date_from_the_payload() {
        let sha = "860c1904a1ce19322e91ac35af1ab07466440c37";
        for (payload, expected) in [
            (
                json!({"commits": [{"id": "x", "timestamp": "2019-01-01T00:00:00Z"}, {"id": sha, "timestamp": "2020-01-10T01:30:00+01:00"}]}),
                Some("2020-01-10T00:30:00Z"),
            ),
            (
                json!({"head_commit": {"id": sha, "timestamp": "2021-02-03T04:05:06Z"}}),
                Some("2021-02-03T04:05:06Z"),
            ),
            (
                json!({"head_commit": {"id": "other", "timestamp": "2021-02-03T04:05:06Z"}}),
                None,
            ),
            (json!({}), None),
        ] {
            let got = payload_commit_date(&payload, sha).map(|t| t.to_string());
            assert_eq!(got.as_deref(), expected, "{payload}");
        }
    }

    #[test]
    fn detached_head_decorations() {
        for (decorations, expected) in [
            ("HEAD, tag: v1.2.3", Some("refs/tags/v1.2.3")),
            (
                "grafted, HEAD, tag: v1.2.3, origin/main",
                Some("refs/tags/v1.2.3"),
            ),
            ("HEAD, pull/12/merge", Some("refs/pull/12/merge")),
            ("HEAD, origin/main, main", Some("refs/heads/main")),
            ("HEAD, origin/feature/x", Some("refs/heads/feature/x")),
            ("HEAD", None),
            ("grafted, HEAD", None),
        ] {
            assert_eq!(detached_ref(decorations).as_deref(), expected, "{decorations}");
        }
    }
}
