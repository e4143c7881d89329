//! The GitHub reporters against the stand-in, every exchange checked against GitHub's OpenAPI
//! description: exact requests per finding count, re-runs that do not duplicate, a read-only token,
//! a rate limit.

use ops_test::github::{GithubSim, PullFile};
use ops_test::sim::Fault;

use crate::support::{HEAD, TOKEN, calls, github, no_violations, pull_event, run, runner, sarif, write};

fn check_runner(gh: &GithubSim, findings: usize) -> ops_test::harness::FakeRunner {
    let r = runner()
        .event("pull_request", &pull_event(1, &"b".repeat(40)))
        .expect("event")
        .env("GITHUB_API_URL", gh.url())
        .input("reports", "scan.sarif")
        .input("reporters", "check")
        .input("filter-mode", "nofilter")
        .input("fail-level", "error")
        .input("github-token", TOKEN);
    write(&r, "scan.sarif", sarif(findings));
    r
}

#[test]
fn check_run_requests_are_one_plus_one_per_fifty_annotations() {
    for n in [0usize, 1, 49, 50, 51, 5_000] {
        let (gh, _) = github(vec![]);
        let out = run(&check_runner(&gh, n));
        let patches = n.div_ceil(50);
        let mut want = vec!["POST /repos/octo/app/check-runs".to_owned()];
        let runs = gh.exchanges();
        let id = runs
            .first()
            .and_then(|e| e.response_json())
            .and_then(|b| b["id"].as_u64())
            .expect("a check run was created");
        want.extend(std::iter::repeat_n(
            format!("PATCH /repos/octo/app/check-runs/{id}"),
            patches,
        ));
        assert_eq!(calls(&gh), want, "{n} findings: {}", out.stderr);
        assert_eq!(
            gh.with(|s| s.check_run_annotations("octo", "app", id)),
            Some(n),
            "{n}"
        );
        no_violations(&gh);
        // every annotation request stays within GitHub's 50
        for e in gh.exchanges_matching("PATCH /repos/octo/app/check-runs/*") {
            let body = e.request_json().unwrap();
            let count = body["output"]["annotations"].as_array().map_or(0, Vec::len);
            assert!((1..=50).contains(&count), "{count}");
        }
        let last = gh.exchanges().last().unwrap().request_json().unwrap();
        let (conclusion, code) = if n == 0 { ("success", 0) } else { ("failure", 1) };
        assert_eq!(last["conclusion"], conclusion, "{n}");
        assert_eq!(last["status"], "completed", "{n}");
        assert!(last["output"]["summary"].as_str().unwrap().chars().count() <= 65_535);
        assert_eq!(out.code, Some(code), "{n}: {}", out.stderr);
        assert_eq!(out.outputs["findings"], n.to_string());
        assert_eq!(out.outputs["conclusion"], conclusion);
        assert!(
            out.all_text()
                .lines()
                .all(|l| l.starts_with("::add-mask::") || !l.contains(TOKEN)),
            "the token is masked, never printed"
        );
        if n == 0 {
            let created = gh.exchanges()[0].request_json().unwrap();
            assert_eq!(created["status"], "completed");
        } else {
            let created = gh.exchanges()[0].request_json().unwrap();
            assert_eq!(created["status"], "in_progress");
            assert_eq!(
                created["head_sha"], HEAD,
                "the pull request's head, not the merge commit"
            );
        }
    }
}

#[test]
fn a_read_only_token_degrades_to_annotations_and_summary() {
    let (gh, _) = github(vec![]);
    gh.inject("POST /repos/octo/app/check-runs", Fault::Status(403), 1);
    let r = check_runner(&gh, 3).input("reporters", "check, review, comment");
    let out = run(&r);
    assert_eq!(out.code, Some(1), "the gate still decides: {}", out.stderr);
    assert_eq!(
        calls(&gh),
        vec![
            "GET /repos/octo/app/pulls/1/files",
            "POST /repos/octo/app/check-runs"
        ],
        "no write after the refusal"
    );
    let notices = out.commands_named("notice");
    assert!(
        notices
            .iter()
            .any(|n| n.message.contains("the token may not write to this repository")),
        "{:?}",
        out.commands
    );
    assert_eq!(
        out.commands_named("error").len(),
        1,
        "the error finding is annotated"
    );
    assert!(out.summary.contains("### lint-gate: scan"), "{}", out.summary);
    assert_eq!(out.outputs["conclusion"], "failure");
}

#[test]
fn a_rate_limited_request_is_retried() {
    let (gh, _) = github(vec![]);
    gh.inject(
        "POST /repos/octo/app/check-runs",
        Fault::RateLimited { retry_after: 7 },
        1,
    );
    let out = run(&check_runner(&gh, 2));
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let posts = gh.exchanges_matching("POST /repos/octo/app/check-runs");
    assert_eq!(posts.len(), 2, "one refusal, one retry");
    assert_eq!(posts[0].status.as_u16(), 429);
    assert_eq!(posts[1].status.as_u16(), 201);
    assert_eq!(gh.count("PATCH /repos/octo/app/check-runs/*"), 1);
    no_violations(&gh);
}

#[test]
fn an_api_failure_is_exit_3() {
    let (gh, _) = github(vec![]);
    gh.inject("POST /repos/octo/app/check-runs", Fault::Status(500), 10);
    let out = run(&check_runner(&gh, 2));
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(out.stderr.contains("returned 500"), "{}", out.stderr);
}

fn review_files() -> Vec<PullFile> {
    vec![PullFile {
        filename: "src/app.rs".to_owned(),
        status: "modified".to_owned(),
        additions: 4,
        deletions: 0,
        patch: Some("@@ -1,2 +1,6 @@\n line\n+one\n+two\n+three\n+four\n line".to_owned()),
    }]
}

fn review_runner(gh: &GithubSim, report: &str) -> ops_test::harness::FakeRunner {
    let r = runner()
        .event("pull_request", &pull_event(1, &"b".repeat(40)))
        .expect("event")
        .env("GITHUB_API_URL", gh.url())
        .input("reports", "lint [rdjsonl]: lint.jsonl")
        .input("reporters", "review, comment")
        .input("fail-level", "none")
        .input("github-token", TOKEN);
    write(&r, "lint.jsonl", report);
    write(&r, "src/app.rs", "line\none\ntwo\nthree\nfour\nline\n");
    r
}

fn finding(line: u32, message: &str) -> String {
    format!(
        "{{\"message\": \"{message}\", \"severity\": \"WARNING\", \"code\": {{\"value\": \"W{line}\"}}, \"location\": {{\"path\": \"src/app.rs\", \"range\": {{\"start\": {{\"line\": {line}}}}}}}}}\n"
    )
}

#[test]
fn review_comments_do_not_duplicate_and_outdated_ones_are_resolved() {
    let (gh, number) = github(review_files());
    let report = format!(
        "{}{}{}",
        finding(2, "on an added line"),
        finding(4, "another added line"),
        finding(1, "on a context line: filtered")
    );
    let first = run(&review_runner(&gh, &report));
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert_eq!(first.outputs["findings"], "2");
    assert_eq!(first.outputs["filtered"], "1");
    assert_eq!(
        calls(&gh),
        vec![
            "GET /repos/octo/app/pulls/1/files",
            "GET /repos/octo/app/pulls/1/comments",
            "POST /repos/octo/app/pulls/1/reviews",
            "GET /repos/octo/app/issues/1/comments",
            "POST /repos/octo/app/issues/1/comments",
        ]
    );
    let review = gh.exchanges_matching("POST /repos/octo/app/pulls/1/reviews")[0]
        .request_json()
        .unwrap();
    assert_eq!(review["commit_id"], HEAD);
    assert_eq!(review["comments"].as_array().unwrap().len(), 2);
    assert_eq!(review["comments"][0]["side"], "RIGHT");
    no_violations(&gh);

    // The same findings again: nothing new is posted, the sticky comment is left as it is.
    gh.clear_record();
    let again = run(&review_runner(&gh, &report));
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_eq!(
        calls(&gh),
        vec![
            "GET /repos/octo/app/pulls/1/files",
            "GET /repos/octo/app/pulls/1/comments",
            "GET /repos/octo/app/issues/1/comments",
        ],
        "a re-run posts nothing"
    );
    assert_eq!(gh.with(|s| s.comment_bodies("octo", "app", number)).len(), 1);

    // One finding fixed: its comment is marked resolved, the sticky comment is edited in place.
    gh.clear_record();
    let fixed = run(&review_runner(&gh, &finding(2, "on an added line")));
    assert_eq!(fixed.code, Some(0), "{}", fixed.stderr);
    assert_eq!(
        calls(&gh),
        vec![
            "GET /repos/octo/app/pulls/1/files".to_owned(),
            "GET /repos/octo/app/pulls/1/comments".to_owned(),
            format!(
                "PATCH /repos/octo/app/pulls/comments/{}",
                gh.exchanges()[1].response_json().unwrap()[1]["id"]
            ),
            "GET /repos/octo/app/issues/1/comments".to_owned(),
            format!(
                "PATCH /repos/octo/app/issues/comments/{}",
                gh.exchanges()[3].response_json().unwrap()[0]["id"]
            ),
        ]
    );
    let resolved = gh.exchanges()[2].request_json().unwrap();
    assert!(
        resolved["body"].as_str().unwrap().contains("No longer reported"),
        "{resolved}"
    );
    let bodies = gh.with(|s| s.comment_bodies("octo", "app", number));
    assert_eq!(bodies.len(), 1, "still one sticky comment");
    assert!(bodies[0].contains("W2"), "{}", bodies[0]);
    assert!(!bodies[0].contains("W4"), "{}", bodies[0]);
    no_violations(&gh);
}

#[test]
fn a_clean_pull_request_gets_no_sticky_comment() {
    let (gh, number) = github(review_files());
    let r = review_runner(&gh, "").input("reporters", "comment");
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        calls(&gh),
        vec![
            "GET /repos/octo/app/pulls/1/files",
            "GET /repos/octo/app/issues/1/comments"
        ]
    );
    assert!(gh.with(|s| s.comment_bodies("octo", "app", number)).is_empty());
}

#[test]
fn review_comments_respect_max_comments_and_carry_suggestions() {
    let (gh, _) = github(review_files());
    let report = "{\"message\": \"rename\", \"severity\": \"ERROR\", \"code\": {\"value\": \"N1\"}, \"location\": {\"path\": \"src/app.rs\", \"range\": {\"start\": {\"line\": 3, \"column\": 1}, \"end\": {\"line\": 3, \"column\": 4}}}, \"suggestions\": [{\"range\": {\"start\": {\"line\": 3, \"column\": 1}, \"end\": {\"line\": 3, \"column\": 4}}, \"text\": \"TWO\"}]}\n"
        .to_owned()
        + &finding(2, "second")
        + &finding(5, "third");
    let r = review_runner(&gh, &report)
        .input("reporters", "review")
        .input("max-comments", "2");
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let review = gh.exchanges_matching("POST /repos/octo/app/pulls/1/reviews")[0]
        .request_json()
        .unwrap();
    let comments = review["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 2);
    let first = comments[0]["body"].as_str().unwrap();
    assert!(
        first.starts_with("**🔴 error** `lint: N1`"),
        "the most severe first: {first}"
    );
    assert!(first.contains("```suggestion\nTWO\n```"), "{first}");
    assert!(
        review["body"]
            .as_str()
            .unwrap()
            .contains("1 more is not commented (`max-comments`)"),
        "{review}"
    );
    no_violations(&gh);
}
