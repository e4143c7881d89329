//! Shared helpers: the binary, a fake runner, generated reports, a GitHub stand-in with contract
//! checks, and real git repositories.

use std::path::Path;
use std::process::Command;

use ops_test::github::{GithubSim, NewPull, PullFile};
use ops_test::harness::{FakeRunner, RunOutput};
use ops_test::sim::{Contract, ContractMode, Spec};
use serde_json::{Value, json};

pub(crate) const HEAD: &str = "1111111111111111111111111111111111111111";
pub(crate) const TOKEN: &str = "ghs_lintgatetesttoken000000000000000000";

pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_lint-gate")
}

/// A fake runner that never sleeps on retries.
pub(crate) fn runner() -> FakeRunner {
    FakeRunner::new()
        .expect("fake runner")
        .env("OPS_RETRY_DELAY_SCALE", "0")
}

pub(crate) fn write(runner: &FakeRunner, rel: &str, content: impl AsRef<[u8]>) {
    let path = runner.workspace().join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, content).expect("write");
}

pub(crate) fn run(runner: &FakeRunner) -> RunOutput {
    runner.run(bin(), &[]).expect("lint-gate runs")
}

/// A SARIF log with `n` results in `src/app.rs`, one per line, alternating levels.
pub(crate) fn sarif(n: usize) -> String {
    let results: Vec<Value> = (0..n)
        .map(|i| {
            let level = ["error", "warning", "note"][i % 3];
            json!({
                "ruleId": format!("R{}", i % 3),
                "level": level,
                "message": {"text": format!("finding number {i}")},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": "src/app.rs"},
                    "region": {"startLine": i + 1, "startColumn": 1}
                }}]
            })
        })
        .collect();
    json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{"tool": {"driver": {"name": "scanner", "rules": [
            {"id": "R0", "shortDescription": {"text": "rule zero"}},
            {"id": "R1", "shortDescription": {"text": "rule one"}},
            {"id": "R2", "shortDescription": {"text": "rule two"}}
        ]}}, "results": results}]
    })
    .to_string()
}

/// The payload of a `pull_request` event for `octo/app#number`.
pub(crate) fn pull_event(number: u64, base_sha: &str) -> Value {
    json!({
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"sha": HEAD, "ref": "feature", "repo": {"full_name": "octo/app"}},
            "base": {"sha": base_sha, "ref": "main", "repo": {"full_name": "octo/app"}}
        }
    })
}

/// A GitHub stand-in whose every exchange is checked against GitHub's OpenAPI description, with
/// `octo/app` and one pull request changing `files`.
pub(crate) fn github(files: Vec<PullFile>) -> (GithubSim, u64) {
    let gh = GithubSim::start();
    gh.check_contract(
        Contract::vendored(Spec::Github).expect("vendored GitHub description"),
        ContractMode::Enforce,
    );
    let number = gh.with(|s| {
        s.add_repo("octo", "app");
        // The stand-in's default login (`github-actions[bot]`) makes user URLs its own response
        // check rejects as not a `uri`; a plain login keeps these tests about lint-gate.
        s.set_token_user(TOKEN, "lint-bot");
        s.add_pull(
            "octo",
            "app",
            NewPull {
                head_sha: HEAD.to_owned(),
                files,
                ..NewPull::default()
            },
        )
    });
    (gh, number)
}

/// Asserts the stand-in saw no contract violation.
pub(crate) fn no_violations(gh: &GithubSim) {
    let violations = gh.violations();
    assert!(violations.is_empty(), "contract violations: {violations:#?}");
}

/// `(method path)` of every exchange, for exact call lists.
pub(crate) fn calls(gh: &GithubSim) -> Vec<String> {
    gh.exchanges().iter().map(|e| e.line()).collect()
}

/// Runs git in `dir`, failing the test on error.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("git is needed by these tests (scripts/setup-lint-gate installs it): {e}")
        });
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
