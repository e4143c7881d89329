//! The change from local git: `git diff <merge base> HEAD`, where the merge base is taken between
//! the pull request's base commit and the checked-out `HEAD`.
//!
//! With `actions/checkout`'s default `fetch-depth: 1` the base commit, or the history that joins it
//! to `HEAD`, is missing. Then the base is fetched and both sides are deepened step by step
//! (50, 200, 1,000 commits, then the whole history) until a merge base exists. `HEAD` is what the
//! linters saw: for a `pull_request` event that is GitHub's merge commit, and diffing it against
//! its base gives the pull request's change in the line numbers the findings use.
//!
//! For a push the change is the diff between the branch's previous tip (`before`) and `HEAD` (the
//! pushed commit). Two trees are compared directly, so no history is needed: when the clone lacks
//! `before`, that one commit is fetched.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How deep to fetch, in turn, before fetching everything.
const DEEPEN_STEPS: [u32; 3] = [50, 200, 1_000];

/// A git command that failed, with what it printed.
#[derive(Debug, thiserror::Error)]
#[error("`git {args}` failed: {detail}")]
pub struct GitError {
    /// The arguments.
    pub args: String,
    /// stderr (cut), or why it could not run.
    pub detail: String,
}

/// git in one working tree.
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
}

impl Git {
    /// git run in `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    fn run(&self, args: &[&str]) -> Result<String, GitError> {
        let output = Command::new("git")
            .args(["-c", "core.quotePath=false"])
            .args(args)
            .current_dir(&self.dir)
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| GitError {
                args: args.join(" "),
                detail: format!("cannot run git ({e})"),
            })?;
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let detail: String = stderr.trim().chars().take(500).collect();
        Err(GitError {
            args: args.join(" "),
            detail: if detail.is_empty() {
                format!("exit status {}", output.status.code().unwrap_or(-1))
            } else {
                detail
            },
        })
    }

    /// The top of the working tree `dir` is in, if it is one.
    pub fn toplevel(&self) -> Option<PathBuf> {
        self.run(&["rev-parse", "--show-toplevel"])
            .ok()
            .map(|s| PathBuf::from(s.trim()))
            .filter(|p| !p.as_os_str().is_empty())
    }

    fn has_commit(&self, rev: &str) -> bool {
        self.run(&["cat-file", "-e", &format!("{rev}^{{commit}}")])
            .is_ok()
    }

    fn merge_base(&self, a: &str, b: &str) -> Option<String> {
        self.run(&["merge-base", a, b])
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    }

    fn is_shallow(&self) -> bool {
        self.run(&["rev-parse", "--is-shallow-repository"])
            .is_ok_and(|s| s.trim() == "true")
    }

    /// The diff between the merge base of `base` and `HEAD`, and `HEAD`. Fetches from `remote`
    /// what is missing. `log` is told what is fetched.
    pub fn diff_from_base(&self, remote: &str, base: &str, log: &dyn Fn(&str)) -> Result<String, GitError> {
        // the usual checkout has the base and the history that joins it to `HEAD`: two commands
        // then, not five (each is a process of a few milliseconds). Anything else, the steps below.
        if is_commit_id(base)
            && let Some(merge_base) = self.merge_base(base, "HEAD")
        {
            return self.diff(&merge_base, "HEAD");
        }
        let head = self.run(&["rev-parse", "HEAD"])?.trim().to_owned();
        if !self.has_commit(base) {
            log(&format!("fetching the base commit {base} (not in the checkout)"));
            self.run(&[
                "fetch",
                "--no-tags",
                "--no-recurse-submodules",
                "--depth=1",
                remote,
                base,
            ])?;
        }
        let mut merge_base = self.merge_base(base, &head);
        for depth in DEEPEN_STEPS {
            if merge_base.is_some() || !self.is_shallow() {
                break;
            }
            log(&format!(
                "shallow clone: fetching {depth} commits of history to find the merge base"
            ));
            let depth_arg = format!("--depth={depth}");
            self.run(&[
                "fetch",
                "--no-tags",
                "--no-recurse-submodules",
                &depth_arg,
                remote,
                base,
                &head,
            ])?;
            merge_base = self.merge_base(base, &head);
        }
        if merge_base.is_none() && self.is_shallow() {
            log("fetching the whole history to find the merge base");
            self.run(&[
                "fetch",
                "--no-tags",
                "--no-recurse-submodules",
                "--unshallow",
                remote,
            ])?;
            merge_base = self.merge_base(base, &head);
        }
        let merge_base = merge_base.ok_or_else(|| GitError {
            args: format!("merge-base {base} {head}"),
            detail: "no common ancestor".to_owned(),
        })?;
        self.diff(&merge_base, &head)
    }

    /// The diff between `before` and `HEAD` (a push: `HEAD` is what was pushed). Fetches `before`
    /// from `remote` when the clone does not have it. `log` is told what is fetched.
    pub fn diff_from_commit(
        &self,
        remote: &str,
        before: &str,
        log: &dyn Fn(&str),
    ) -> Result<String, GitError> {
        if !is_commit_id(before) {
            return Err(GitError {
                args: format!("diff {before} HEAD"),
                detail: "`before` is not a commit id".to_owned(),
            });
        }
        let head = self.run(&["rev-parse", "HEAD"])?.trim().to_owned();
        if !self.has_commit(before) {
            log(&format!(
                "fetching the commit before the push {before} (not in the checkout)"
            ));
            self.run(&[
                "fetch",
                "--no-tags",
                "--no-recurse-submodules",
                "--depth=1",
                remote,
                before,
            ])?;
        }
        self.diff(before, &head)
    }

    fn diff(&self, from: &str, to: &str) -> Result<String, GitError> {
        self.run(&[
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--find-renames",
            "--unified=3",
            from,
            to,
        ])
    }
}

/// A full commit id (SHA-1 or SHA-256), never something git could read as an option or a path.
fn is_commit_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_command() {
        let dir = tempfile::tempdir().unwrap();
        let git = Git::new(dir.path());
        assert_eq!(git.toplevel(), None);
        let err = git.diff_from_base("origin", "abc", &|_| {}).unwrap_err();
        assert!(
            err.to_string().starts_with("`git rev-parse HEAD` failed:"),
            "{err}"
        );
    }

    #[test]
    fn a_push_compares_commit_ids_only() {
        let dir = tempfile::tempdir().unwrap();
        let git = Git::new(dir.path());
        let fetched = std::cell::Cell::new(false);
        for before in ["--output=/tmp/x", "HEAD~1", "abc", &"g".repeat(40), ""] {
            let err = git
                .diff_from_commit("origin", before, &|_| fetched.set(true))
                .unwrap_err();
            assert_eq!(err.detail, "`before` is not a commit id", "{before}");
        }
        assert!(!fetched.get(), "nothing was fetched");
        // a commit id goes on to git (which fails here: no repository)
        let err = git
            .diff_from_commit("origin", &"a".repeat(40), &|_| {})
            .unwrap_err();
        assert!(
            err.to_string().starts_with("`git rev-parse HEAD` failed:"),
            "{err}"
        );
    }
}
