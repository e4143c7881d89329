//! Environment mode against the Prism-checked GitHub stand-in.

use ops_test::github::Reviewer;

use crate::support::{OWNER, World, gh, lines};

fn setup(w: &World, run: u64) {
    gh().sim.with(|s| {
        s.add_environment(
            OWNER,
            &w.repo,
            "production",
            vec![
                Reviewer::User("alice".to_owned()),
                Reviewer::Team {
                    org: "acme".to_owned(),
                    slug: "ops".to_owned(),
                },
            ],
        );
        s.add_waiting_run(OWNER, &w.repo, run, &["production"]);
    });
}

#[test]
fn reports_who_approved_while_it_waited() {
    let w = World::new("env-approved");
    setup(&w, 42);
    let repo = w.repo.clone();
    gh().sim.after(
        &w.route("GET", "/actions/runs/42/pending_deployments"),
        3,
        move |s| s.review_pending(OWNER, &repo, 42, "production", "alice", true),
    );
    let fake = w
        .runner()
        .input("mode", "environment")
        .input("run-id", "42")
        .input("environment", "production");
    let out = w.run(&fake);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.outputs["decision"], "approved");
    assert_eq!(out.outputs["approvers"], "alice");
    assert_eq!(out.outputs["reason"], "approved: `production` by alice");
    assert_eq!(out.outputs["issue-url"], "");
    let votes: serde_json::Value = serde_json::from_str(&out.outputs["votes"]).unwrap();
    assert_eq!(votes[0]["login"], "alice");
    assert_eq!(votes[0]["vote"], "approved");
    assert_eq!(votes[0]["note"], "approved", "the review's comment");
    assert_eq!(votes[0]["environment"], "production");
    assert!(
        votes[0]["when"]
            .as_str()
            .unwrap()
            .starts_with("at 2024-01-01T00:"),
        "{votes}"
    );
    let log = lines(&out);
    assert!(
        log.iter()
            .any(|l| l == "run 42 waits for a review of `production` (reviewers: alice, team ops)"),
        "{log:#?}"
    );
    assert!(
        log.iter().any(|l| l == "alice approved `production`: approved"),
        "{log:#?}"
    );
    assert!(
        out.summary
            .contains("| production | approved | @alice | approved | at 2024-01-01T00:"),
        "{}",
        out.summary
    );
    // Unchanged reads were 304s.
    let reads = gh()
        .sim
        .exchanges_matching(&w.route("GET", "/actions/runs/42/pending_deployments"));
    assert!(reads.iter().any(|e| e.status == 304), "conditional reads");
}

#[test]
fn a_rejection_denies() {
    let w = World::new("env-rejected");
    setup(&w, 43);
    gh().sim
        .with(|s| s.review_pending(OWNER, &w.repo, 43, "production", "alice", false));
    let out = w.run(&w.runner().input("mode", "environment").input("run-id", "43"));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(out.outputs["decision"], "denied");
    assert_eq!(
        out.outputs["reason"],
        "`production` was rejected by alice (rejected)"
    );
    assert!(
        out.summary
            .contains("| production | rejected | @alice | rejected | by "),
        "{}",
        out.summary
    );
}

#[test]
fn nothing_recorded_fails_closed_and_waiting_times_out() {
    let w = World::new("env-nothing");
    gh().sim.with(|s| s.add_waiting_run(OWNER, &w.repo, 44, &[]));
    let out = w.run(
        &w.runner()
            .input("mode", "environment")
            .input("run-id", "44")
            .input("environment", "production"),
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(
        out.outputs["reason"],
        "no review of `production` is recorded for run 44"
    );

    let w = World::new("env-timeout");
    setup(&w, 45);
    let out = w.run(
        &w.runner()
            .input("mode", "environment")
            .input("run-id", "45")
            .input("timeout", "2h"),
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(out.outputs["decision"], "timed-out");
    assert_eq!(out.outputs["waited-seconds"], "7200");
}

#[test]
fn reviews_with_a_reviewers_token() {
    let w = World::new("env-review");
    setup(&w, 46);
    gh().sim.with(|s| s.set_token_user(&w.token, "alice"));
    let out = w.run(
        &w.runner()
            .input("mode", "environment")
            .input("run-id", "46")
            .input("review", "approve")
            .input("review-comment", "smoke tests passed"),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.outputs["approvers"], "alice");
    let sent = &gh()
        .sim
        .exchanges_matching(&w.route("POST", "/actions/runs/46/pending_deployments"))[0];
    let body = sent.request_json().unwrap();
    assert_eq!(body["state"], "approved");
    assert_eq!(body["comment"], "smoke tests passed");
    assert_eq!(body["environment_ids"].as_array().map(Vec::len), Some(1));
    assert!(
        gh().sim
            .with(|s| s.waiting_environments(OWNER, &w.repo, 46))
            .is_empty()
    );

    // A token whose user is not a reviewer is refused before anything is sent.
    let w = World::new("env-review-refused");
    setup(&w, 47);
    let out = w.run(
        &w.runner()
            .input("mode", "environment")
            .input("run-id", "47")
            .input("review", "reject"),
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("the token's user is not a required reviewer of `production`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("GITHUB_TOKEN cannot review deployments"),
        "{}",
        out.stderr
    );
    assert_eq!(w.count("POST", "/actions/runs/47/pending_deployments"), 0);
}
