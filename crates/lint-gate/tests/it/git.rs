//! Filtering against the change from a real git checkout: a shallow clone that lacks the base and
//! the merge base, renames, the filter modes, and pushes (against the commit before the push, or
//! every finding with a notice when there is none to compare with).

use std::path::Path;

use ops_test::harness::FakeRunner;

use crate::support::{git, run, runner, write};

const A_RS: &str = "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nl11\nl12\nl13\nl14\nl15\n";

/// origin: `main` has base B then M (another file); `feature` branches at B, inserts a line after
/// line 3 of `a.rs`, renames `old.rs` to `new.rs` and changes its line 2. The workspace is a
/// `--depth 1` clone of `feature`, as `actions/checkout` makes it. Returns M.
fn repository(r: &FakeRunner) -> String {
    let seed = r.root().join("seed");
    std::fs::create_dir_all(&seed).expect("test setup");
    git(&seed, &["init", "-q", "-b", "main"]);
    std::fs::write(seed.join("a.rs"), A_RS).expect("test setup");
    std::fs::write(seed.join("old.rs"), "o1\no2\no3\no4\no5\no6\no7\no8\n").expect("test setup");
    git(&seed, &["add", "."]);
    git(&seed, &["commit", "-q", "-m", "base"]);
    git(&seed, &["checkout", "-q", "-b", "feature"]);
    let mut lines: Vec<&str> = A_RS.lines().collect();
    lines.insert(3, "inserted");
    std::fs::write(seed.join("a.rs"), lines.join("\n") + "\n").expect("test setup");
    git(&seed, &["commit", "-q", "-am", "insert"]);
    git(&seed, &["mv", "old.rs", "new.rs"]);
    std::fs::write(seed.join("new.rs"), "o1\nchanged\no3\no4\no5\no6\no7\no8\n").expect("test setup");
    git(&seed, &["commit", "-q", "-am", "rename"]);
    git(&seed, &["checkout", "-q", "main"]);
    std::fs::write(seed.join("other.txt"), "x\n").expect("test setup");
    git(&seed, &["add", "."]);
    git(&seed, &["commit", "-q", "-m", "main moves on"]);
    let main = git(&seed, &["rev-parse", "HEAD"]);
    let origin = r.root().join("origin.git");
    git(
        r.root(),
        &[
            "clone",
            "-q",
            "--bare",
            seed.to_str().expect("test setup"),
            origin.to_str().expect("test setup"),
        ],
    );
    git(&origin, &["config", "uploadpack.allowAnySHA1InWant", "true"]);
    let url = format!("file://{}", origin.display());
    git(
        &r.workspace(),
        &["clone", "-q", "--depth", "1", "--branch", "feature", &url, "."],
    );
    assert_eq!(
        git(&r.workspace(), &["rev-parse", "--is-shallow-repository"]),
        "true"
    );
    main
}

fn finding(path: &str, line: u32, message: &str) -> String {
    format!(
        "{{\"message\": \"{message}\", \"severity\": \"ERROR\", \"source\": {{\"name\": \"lint\"}}, \"code\": {{\"value\": \"r\"}}, \"location\": {{\"path\": \"{path}\", \"range\": {{\"start\": {{\"line\": {line}}}}}}}}}\n"
    )
}

fn pr_runner(r: FakeRunner, base: &str) -> FakeRunner {
    let head = git(&r.workspace(), &["rev-parse", "HEAD"]);
    pr_event(r, base, &head)
}

fn pr_event(r: FakeRunner, base: &str, head: &str) -> FakeRunner {
    let payload = serde_json::json!({"number": 3, "pull_request": {"number": 3,
        "head": {"sha": head, "repo": {"full_name": "octo/app"}},
        "base": {"sha": base, "ref": "main", "repo": {"full_name": "octo/app"}}}});
    r.event("pull_request", &payload).expect("test setup")
}

fn report() -> String {
    [
        finding("a.rs", 4, "on the inserted line"),
        finding("a.rs", 2, "context line"),
        finding("a.rs", 12, "far away"),
        finding("new.rs", 2, "changed line of the renamed file"),
        finding("new.rs", 7, "unchanged line of the renamed file"),
        finding("other.txt", 1, "a file the pull request does not touch"),
    ]
    .concat()
}

#[test]
fn a_shallow_clone_is_deepened_to_the_merge_base() {
    let r = runner();
    let main = repository(&r);
    let r = pr_runner(r, &main)
        .input("reports", "lint.jsonl")
        .input("fail-level", "none");
    write(&r, "lint.jsonl", report());
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("fetching the base commit"), "{}", out.stderr);
    assert!(
        out.stderr.contains("shallow clone: fetching 50 commits"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("the change: 2 files, 2 added lines"),
        "{}",
        out.stderr
    );
    assert_eq!(out.outputs["findings"], "2", "{}", out.summary);
    assert_eq!(out.outputs["filtered"], "4");
    let lines: Vec<String> = out
        .commands_named("error")
        .iter()
        .map(|c| format!("{}:{}", c.properties["file"], c.properties["line"]))
        .collect();
    assert_eq!(lines, vec!["a.rs:4", "new.rs:2"]);
    assert!(
        out.summary
            .contains("4 findings outside the change were not reported (`filter-mode: added`)."),
        "{}",
        out.summary
    );
}

#[test]
fn filter_modes_against_one_change() {
    let r = runner();
    let main = repository(&r);
    let head = git(&r.workspace(), &["rev-parse", "HEAD"]);
    write(&r, "lint.jsonl", report());
    for (mode, findings) in [("added", 2), ("diff_context", 3), ("file", 5), ("nofilter", 6)] {
        let r2 = pr_event(FakeRunner::new().expect("test setup"), &main, &head);
        // reuse the first checkout: point this runner's workspace at it
        let r2 = r2
            .env("GITHUB_WORKSPACE", r.workspace().display().to_string())
            .env("OPS_RETRY_DELAY_SCALE", "0")
            .input("reports", "lint.jsonl")
            .input("filter-mode", mode)
            .input("fail-level", "none");
        let out = r2.run(crate::support::bin(), &[]).expect("test setup");
        assert_eq!(out.code, Some(0), "{mode}: {}", out.stderr);
        assert_eq!(
            out.outputs["findings"],
            findings.to_string(),
            "{mode}: {}",
            out.summary
        );
    }
}

#[test]
fn the_ratchet_follows_renames_and_keeps_new_findings_off_the_change() {
    let r = runner();
    let main = repository(&r);
    let baseline = serde_json::json!({"version": 1, "findings": [
        {"rule": "r", "level": "error", "path": "old.rs", "message": "unchanged line of the renamed file", "source": "lint"},
        {"rule": "r", "level": "error", "path": "a.rs", "message": "far away", "source": "lint"}
    ]});
    let r = pr_runner(r, &main)
        .input("reports", "lint.jsonl")
        .input("baseline", "baseline.json")
        .input("fail-level", "error");
    write(&r, "baseline.json", baseline.to_string());
    write(&r, "lint.jsonl", report());
    let out = run(&r);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    // on the change: a.rs:4, new.rs:2 (both new); off the change but new: a.rs:2, other.txt:1;
    // off the change and known (one through the rename): a.rs:12, new.rs:7
    assert_eq!(out.outputs["findings"], "4", "{}", out.summary);
    assert_eq!(out.outputs["filtered"], "2");
    assert!(
        out.summary.contains("failed: 4 new errors at or above `error`"),
        "{}",
        out.summary
    );
}

#[test]
fn without_history_and_without_a_token_the_error_says_what_to_do() {
    let r = runner();
    let ws = r.workspace();
    git(&ws, &["init", "-q", "-b", "feature"]);
    std::fs::write(Path::new(&ws).join("a.rs"), "x\n").expect("test setup");
    git(&ws, &["add", "."]);
    git(&ws, &["commit", "-q", "-m", "only"]);
    let r = pr_runner(r, &"c".repeat(40)).input("reports", "lint.jsonl");
    write(&r, "lint.jsonl", finding("a.rs", 1, "m"));
    let out = run(&r);
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("cannot compute the change of pull request #3 from git"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hint: give `github-token`"), "{}", out.stderr);
}

fn push_runner(r: FakeRunner, before: &str) -> FakeRunner {
    let after = git(&r.workspace(), &["rev-parse", "HEAD"]);
    let payload = serde_json::json!({"ref": "refs/heads/feature", "before": before, "after": after,
        "repository": {"full_name": "octo/app"}});
    r.event("push", &payload)
        .expect("test setup")
        .env("GITHUB_SHA", after)
        .input("reports", "lint.jsonl")
        .input("fail-level", "none")
}

fn notices(out: &ops_test::harness::RunOutput) -> Vec<String> {
    out.commands_named("notice")
        .iter()
        .map(|c| c.message.clone())
        .collect()
}

#[test]
fn a_push_is_filtered_against_the_commit_before_it() {
    let r = runner();
    repository(&r);
    // the push added the rename commit on top of the insert commit: only its change counts, and
    // the depth-1 checkout does not have `before`
    let seed = r.root().join("seed");
    let before = git(&seed, &["rev-parse", "feature~1"]);
    let r = push_runner(r, &before);
    write(&r, "lint.jsonl", report());
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("fetching the commit before the push {before}")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("the change: 1 file, 1 added line"),
        "{}",
        out.stderr
    );
    let lines: Vec<String> = out
        .commands_named("error")
        .iter()
        .map(|c| format!("{}:{}", c.properties["file"], c.properties["line"]))
        .collect();
    assert_eq!(lines, vec!["new.rs:2"], "{}", out.summary);
    assert_eq!(out.outputs["filtered"], "5");
    assert!(notices(&out).is_empty(), "{:?}", notices(&out));
}

#[test]
fn a_push_that_creates_the_branch_reports_everything_with_a_notice() {
    let r = runner();
    repository(&r);
    let r = push_runner(r, &"0".repeat(40));
    write(&r, "lint.jsonl", report());
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.outputs["findings"], "6", "{}", out.summary);
    assert_eq!(out.outputs["filtered"], "0");
    let notices = notices(&out);
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].contains("the push created the branch")
            && notices[0].ends_with("every finding is reported"),
        "{notices:?}"
    );
    assert!(
        out.summary
            .contains("Every finding is reported: the push created the branch"),
        "{}",
        out.summary
    );
}

#[test]
fn a_push_whose_before_is_gone_reports_everything_with_a_notice() {
    let r = runner();
    repository(&r);
    // a force push: the old tip is in neither the checkout nor the remote
    let r = push_runner(r, &"c".repeat(40));
    write(&r, "lint.jsonl", report());
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains("fetching the commit before the push"),
        "{}",
        out.stderr
    );
    assert_eq!(out.outputs["findings"], "6", "{}", out.summary);
    let notices = notices(&out);
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].contains("cannot compute the change of the push from git"),
        "{notices:?}"
    );
}

#[test]
fn a_push_with_nofilter_does_not_need_git() {
    let r = runner();
    // no repository at all: nothing is asked of git
    let r = push_runner_without_checkout(r, &"b".repeat(40)).input("filter-mode", "nofilter");
    write(&r, "lint.jsonl", report());
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.outputs["findings"], "6", "{}", out.summary);
    assert!(notices(&out).is_empty(), "{:?}", notices(&out));
}

fn push_runner_without_checkout(r: FakeRunner, before: &str) -> FakeRunner {
    let payload = serde_json::json!({"before": before, "after": "a".repeat(40)});
    r.event("push", &payload)
        .expect("test setup")
        .input("reports", "lint.jsonl")
        .input("fail-level", "none")
}
