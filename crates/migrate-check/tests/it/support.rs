//! Helpers: in-process runs that return the JSON report, file trees, temporary git repositories.

use std::path::{Path, PathBuf};
use std::process::Command;

use ops_test::harness::FakeRunner;
use serde_json::Value;

/// The crate's directory.
pub(crate) fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The rule fixtures.
pub(crate) fn fixtures() -> PathBuf {
    crate_dir().join("tests/fixtures/rules")
}

/// Writes files (relative path → text) under `dir`.
pub(crate) fn write_tree(dir: &Path, files: &[(String, String)]) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// Copies a folder recursively.
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The result of an in-process run.
#[derive(Debug)]
pub(crate) struct Run {
    /// Exit status code.
    pub(crate) code: u8,
    /// The JSON report.
    pub(crate) report: Value,
    /// The error text, when the run failed before reporting.
    pub(crate) error: Option<String>,
}

impl Run {
    /// `(rule, path, line)` of every finding.
    pub(crate) fn findings(&self) -> Vec<(String, String, u64)> {
        self.report["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| {
                        (
                            f["rule"].as_str().unwrap_or_default().to_owned(),
                            f["path"].as_str().unwrap_or_default().to_owned(),
                            f["region"]["start_line"].as_u64().unwrap_or(0),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Rule ids of findings whose path contains `fragment`.
    pub(crate) fn rules_in(&self, fragment: &str) -> Vec<String> {
        self.findings()
            .into_iter()
            .filter(|(_, path, _)| path.contains(fragment))
            .map(|(rule, _, _)| rule)
            .collect()
    }
}

/// Runs migrate-check in-process in `workspace` with `args` (as on the command line), writing the JSON
/// report to a temp file and returning it.
pub(crate) fn run_in(workspace: &Path, args: &[&str]) -> Run {
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut argv = vec!["migrate-check".to_owned(), "--fail-level=never".to_owned()];
    argv.extend(args.iter().map(|s| (*s).to_owned()));
    argv.push(format!("--json-output={}", report.path().display()));
    let env = ops_core::Env::from_pairs([
        ("GITHUB_WORKSPACE", workspace.display().to_string()),
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        ("HOME", std::env::var("HOME").unwrap_or_default()),
    ]);
    let args: migrate_check::cli::Args = ops_core::cli::parse(argv, &env).expect("arguments parse");
    let runner = ops_core::Runner::with_sink(&env, Box::new(std::io::sink()));
    match migrate_check::run(&args, &env, &runner) {
        Ok(status) => Run {
            code: status.code(),
            report: serde_json::from_str(&std::fs::read_to_string(report.path()).unwrap()).unwrap(),
            error: None,
        },
        Err(error) => Run {
            code: ops_core::Report::exit_status(&error).code(),
            report: Value::Null,
            error: Some(error.to_string()),
        },
    }
}

/// Runs git in `dir`, panicking on failure.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A repository with `base` committed on `main`, then a branch `pr` whose working tree holds `head`
/// (committed), both under `folder`.
pub(crate) fn repo_with_history(base: &Path, head: &Path, folder: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    let target = dir.path().join(folder);
    if base.exists() {
        copy_dir(base, &target);
    } else {
        std::fs::create_dir_all(&target).unwrap();
        std::fs::write(dir.path().join("README.md"), "x\n").unwrap();
    }
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "--allow-empty", "-m", "base"]);
    git(dir.path(), &["checkout", "-q", "-b", "pr"]);
    std::fs::remove_dir_all(&target).unwrap();
    copy_dir(head, &target);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "--allow-empty", "-m", "head"]);
    dir
}

/// A fake runner for binary runs.
pub(crate) fn fake() -> FakeRunner {
    FakeRunner::new().expect("fake runner")
}

/// The binary.
pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_migrate-check")
}
