//! Read-only git: the repository root, the merge base with the pull request's base, and the files of a
//! folder at that commit (read in one `git cat-file --batch`, not one process per file).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::Error;

fn git(dir: &Path, args: &[&str]) -> Result<String, Error> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Git {
            message: format!("cannot run `git`: {e}"),
            hint: Some("install git, or leave `base-ref` empty to skip the history gates".to_owned()),
        })?;
    if !output.status.success() {
        return Err(Error::Git {
            message: format!(
                "`git {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            ),
            hint: None,
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The root of the repository that holds `dir`.
pub fn toplevel(dir: &Path) -> Result<PathBuf, Error> {
    let out = git(dir, &["rev-parse", "--show-toplevel"]).map_err(|e| match e {
        Error::Git { message, .. } => Error::Git {
            message,
            hint: Some(
                "run inside a git checkout, or leave `base-ref` empty to skip the history gates".to_owned(),
            ),
        },
        other => other,
    })?;
    Ok(PathBuf::from(out.trim()))
}

/// The merge base of `HEAD` and `base_ref`.
pub fn merge_base(repo: &Path, base_ref: &str) -> Result<String, Error> {
    if base_ref.starts_with('-') {
        return Err(Error::usage(format!("invalid `base-ref` `{base_ref}`")));
    }
    git(repo, &["merge-base", "HEAD", base_ref])
        .map(|s| s.trim().to_owned())
        .map_err(|e| match e {
            Error::Git { message, .. } => Error::Git {
                message: format!("no merge base between `HEAD` and `{base_ref}`: {message}"),
                hint: Some(
                    "fetch the base branch's history (`actions/checkout` with `fetch-depth: 0`), or check `base-ref`"
                        .to_owned(),
                ),
            },
            other => other,
        })
}

/// Fetches `branch` from `origin` into `refs/remotes/origin/<branch>`, with the whole history when the
/// clone is shallow (`actions/checkout` fetches one commit by default), so a merge base can be found.
pub fn fetch_base(repo: &Path, branch: &str) -> Result<(), Error> {
    if branch.starts_with('-') || branch.contains("..") {
        return Err(Error::usage(format!("invalid base branch `{branch}`")));
    }
    let shallow = git(repo, &["rev-parse", "--is-shallow-repository"])?.trim() == "true";
    let refspec = format!("+refs/heads/{branch}:refs/remotes/origin/{branch}");
    let mut args = vec!["fetch", "--no-tags", "--quiet"];
    if shallow {
        args.push("--unshallow");
    }
    args.extend(["origin", refspec.as_str()]);
    git(repo, &args).map(|_| ()).map_err(|e| match e {
        Error::Git { message, .. } => Error::Git {
            message: format!("cannot fetch the base branch `{branch}`: {message}"),
            hint: Some(
                "check out with `fetch-depth: 0` (and credentials, for a private repository), or set `base-ref`".to_owned(),
            ),
        },
        other => other,
    })
}

/// Files under `prefix` (repository-relative, `/`-separated) at `commit`, relative to the repository.
pub fn ls_tree(repo: &Path, commit: &str, prefix: &str) -> Result<Vec<String>, Error> {
    let out = git(
        repo,
        &["ls-tree", "-r", "-z", "--name-only", commit, "--", prefix],
    )?;
    Ok(out
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Writes the files `paths` (repository-relative) at `commit` under `dest`, keeping their paths.
pub fn export(repo: &Path, commit: &str, paths: &[String], dest: &Path) -> Result<(), Error> {
    if paths.is_empty() {
        return Ok(());
    }
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::Git {
            message: format!("cannot run `git cat-file`: {e}"),
            hint: None,
        })?;
    let mut stdin = child.stdin.take().ok_or_else(|| Error::Git {
        message: "`git cat-file` has no stdin".to_owned(),
        hint: None,
    })?;
    let requests: String = paths.iter().map(|p| format!("{commit}:{p}\n")).collect();
    let writer = std::thread::spawn(move || {
        let result = stdin.write_all(requests.as_bytes());
        drop(stdin);
        result
    });
    let stdout = child.stdout.take().ok_or_else(|| Error::Git {
        message: "`git cat-file` has no stdout".to_owned(),
        hint: None,
    })?;
    let mut reader = BufReader::new(stdout);
    for path in paths {
        let mut header = String::new();
        reader.read_line(&mut header).map_err(|e| Error::io(repo, e))?;
        let size: usize = header
            .trim_end()
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::Git {
                message: format!(
                    "`git cat-file` could not read `{path}` at {commit}: {}",
                    header.trim()
                ),
                hint: None,
            })?;
        let mut content = vec![0; size + 1];
        reader.read_exact(&mut content).map_err(|e| Error::io(repo, e))?;
        content.pop();
        let target = dest.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::write(&target, content).map_err(|e| Error::io(&target, e))?;
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(())
}

/// A repository-relative path with `/` separators.
pub fn relative(repo: &Path, path: &Path) -> Option<String> {
    let repo = repo.canonicalize().ok()?;
    let path = path.canonicalize().ok()?;
    let rel = path.strip_prefix(&repo).ok()?;
    Some(
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"),
    )
}
