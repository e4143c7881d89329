//! The GitHub stand-in: pagination, conditional requests and budget, check runs, diffs,
//! scripted comments and approvals, and the record.

use ops_test::github::{GithubSim, NewPull, PullFile, Reviewer};
use reqwest::Method;
use serde_json::json;

use crate::support::{call, client, get, next_link, post, send};

#[tokio::test]
async fn comments_paginate_with_link_headers() {
    let gh = GithubSim::start();
    let issue = gh.with(|s| {
        let n = s.add_issue("o", "r", "deploy?", "alice");
        for i in 0..75 {
            s.add_comment("o", "r", n, "bob", &format!("comment {i}"));
        }
        n
    });
    let mut url = Some(format!(
        "{}/repos/o/r/issues/{issue}/comments?per_page=30",
        gh.url()
    ));
    let mut bodies = Vec::new();
    let mut pages = 0;
    while let Some(u) = url {
        let resp = send(Method::GET, &u, "t", None).await;
        assert_eq!(resp.status(), 200);
        url = next_link(&resp);
        let page: Vec<serde_json::Value> = resp.json().await.unwrap();
        bodies.extend(page.iter().map(|c| c["body"].as_str().unwrap().to_owned()));
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(bodies.len(), 75);
    assert_eq!(bodies[74], "comment 74");
    // The links keep per_page and point back at the stand-in.
    let second = &gh.exchanges()[1];
    assert_eq!(second.query_param("per_page"), Some("30"));
    assert_eq!(second.query_param("page"), Some("2"));
    assert!(second.response_header("link").unwrap().contains("rel=\"prev\""));
}

#[tokio::test]
async fn issues_list_newest_first_with_filters() {
    let gh = GithubSim::start();
    gh.with(|s| {
        s.add_issue("o", "r", "first", "alice");
        s.add_issue("o", "r", "second", "bob");
        s.add_issue("o", "r", "third", "alice");
    });
    let url = format!("{}/repos/o/r/issues", gh.url());
    let (_, closed) = call(
        Method::PATCH,
        &format!("{url}/2"),
        "t",
        Some(&json!({"state": "closed"})),
    )
    .await;
    assert_eq!(closed["state"], "closed");
    let titles = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i["title"].as_str().unwrap().to_owned())
            .collect()
    };
    for (query, want) in [
        ("", vec!["third", "first"]),
        ("?state=all", vec!["third", "second", "first"]),
        ("?state=all&direction=asc", vec!["first", "second", "third"]),
        ("?state=closed", vec!["second"]),
        ("?state=all&creator=alice", vec!["third", "first"]),
        ("?state=all&sort=updated", vec!["second", "third", "first"]),
        ("?state=all&per_page=2&page=2", vec!["first"]),
    ] {
        let (status, got) = get(&format!("{url}{query}"), "t").await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(titles(&got), want, "{query}");
    }
    let (status, _) = get(&format!("{url}?state=maybe"), "t").await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn etag_304_does_not_spend_budget() {
    let gh = GithubSim::start();
    let issue = gh.with(|s| {
        s.set_rate_limit("tok", 1_000);
        let n = s.add_issue("o", "r", "t", "alice");
        s.add_comment("o", "r", n, "bob", "hello");
        n
    });
    let url = format!("{}/repos/o/r/issues/{issue}/comments", gh.url());
    let first = send(Method::GET, &url, "tok", None).await;
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(first.headers()["x-ratelimit-remaining"], "999");

    for _ in 0..3 {
        let again = client()
            .get(&url)
            .bearer_auth("tok")
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
        assert_eq!(again.headers()["x-ratelimit-remaining"], "999", "a 304 is free");
        assert!(again.bytes().await.unwrap().is_empty());
    }
    // A new comment changes the ETag: the conditional request gets the full page again.
    gh.with(|s| s.add_comment("o", "r", issue, "carol", "approved"));
    let changed = client()
        .get(&url)
        .bearer_auth("tok")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_eq!(changed.headers()["x-ratelimit-used"], "2");
    assert_eq!(gh.with(|s| s.budget("tok")).used, 2);
    assert_eq!(gh.count("GET /repos/o/r/issues/*/comments"), 5);
    // The record keeps no credentials.
    assert!(
        gh.exchanges()
            .iter()
            .all(|e| e.request_header("authorization").is_none())
    );
}

#[tokio::test]
async fn budget_runs_out_with_403() {
    let gh = GithubSim::start();
    gh.with(|s| {
        s.add_repo("o", "r");
        s.set_rate_limit("small", 2);
    });
    let url = format!("{}/repos/o/r", gh.url());
    assert_eq!(get(&url, "small").await.0, 200);
    assert_eq!(get(&url, "small").await.0, 200);
    let resp = send(Method::GET, &url, "small", None).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.headers()["x-ratelimit-remaining"], "0");
    // Another token has its own budget; /rate_limit is free.
    assert_eq!(get(&url, "other").await.0, 200);
    let (_, rate) = get(&format!("{}/rate_limit", gh.url()), "small").await;
    assert_eq!(rate["resources"]["core"]["remaining"], 0);
}

#[tokio::test]
async fn check_run_annotations_append_fifty_at_a_time() {
    let gh = GithubSim::start();
    gh.with(|s| s.add_repo("o", "r"));
    let ann = |n: usize| -> Vec<serde_json::Value> {
        (0..n)
            .map(|i| json!({"path": "src/lib.rs", "start_line": i + 1, "end_line": i + 1, "annotation_level": "warning", "message": "m"}))
            .collect()
    };
    let base = format!("{}/repos/o/r/check-runs", gh.url());
    let (status, run) = post(
        &base,
        "t",
        &json!({"name": "lint", "head_sha": "a".repeat(40), "status": "in_progress",
                "output": {"title": "lint", "summary": "s", "annotations": ann(50)}}),
    )
    .await;
    assert_eq!(status, 201);
    let id = run["id"].as_u64().unwrap();
    let (status, body) = call(
        Method::PATCH,
        &format!("{base}/{id}"),
        "t",
        Some(&json!({"output": {"title": "lint", "summary": "s", "annotations": ann(51)}})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, updated) = call(
        Method::PATCH,
        &format!("{base}/{id}"),
        "t",
        Some(&json!({"conclusion": "failure", "output": {"title": "lint", "summary": "s", "annotations": ann(20)}})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(updated["status"], "completed");
    assert_eq!(updated["output"]["annotations_count"], 70);
    assert_eq!(gh.with(|s| s.check_run_annotations("o", "r", id)), Some(70));
    let (_, listed) = get(&format!("{base}/{id}/annotations?per_page=100"), "t").await;
    assert_eq!(listed.as_array().unwrap().len(), 70);
    // The exact body the client sent is on record.
    let first = &gh.exchanges_matching("POST /repos/o/r/check-runs")[0];
    assert_eq!(
        first.request_json().unwrap()["output"]["annotations"]
            .as_array()
            .unwrap()
            .len(),
        50
    );
}

#[tokio::test]
async fn pull_diff_media_type_and_too_large() {
    let gh = GithubSim::start();
    let (small, big) = gh.with(|s| {
        let files = (0..45).map(|i| PullFile::modified(&format!("f{i}.rs"))).collect();
        let small = s.add_pull(
            "o",
            "r",
            NewPull {
                files,
                ..NewPull::default()
            },
        );
        let big = s.add_pull(
            "o",
            "r",
            NewPull {
                diff_too_large: true,
                ..NewPull::default()
            },
        );
        (small, big)
    });
    let pull = |n: u64| format!("{}/repos/o/r/pulls/{n}", gh.url());
    let (status, json) = get(&pull(small), "t").await;
    assert_eq!((status, json["changed_files"].as_u64()), (200, Some(45)));
    let diff = client()
        .get(pull(small))
        .header("accept", "application/vnd.github.diff")
        .send()
        .await
        .unwrap();
    assert_eq!(diff.status(), 200);
    assert!(
        diff.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/vnd.github.diff")
    );
    assert!(
        diff.text()
            .await
            .unwrap()
            .starts_with("diff --git a/f0.rs b/f0.rs")
    );
    let too_large = client()
        .get(pull(big))
        .header("accept", "application/vnd.github.diff")
        .send()
        .await
        .unwrap();
    assert_eq!(too_large.status(), 406);
    // The fallback: files, paginated.
    let first = send(Method::GET, &format!("{}/files", pull(small)), "t", None).await;
    assert!(next_link(&first).unwrap().contains("page=2"));
    assert_eq!(first.json::<Vec<serde_json::Value>>().await.unwrap().len(), 30);
}

#[tokio::test]
async fn comment_arrives_after_three_polls() {
    let gh = GithubSim::start();
    let issue = gh.with(|s| s.add_issue("o", "r", "approve deploy", "github-actions[bot]"));
    gh.after("GET /repos/o/r/issues/*/comments", 3, move |s| {
        s.add_comment("o", "r", issue, "alice", "/approve");
    });
    let url = format!("{}/repos/o/r/issues/{issue}/comments", gh.url());
    let mut seen = Vec::new();
    for _ in 0..5 {
        let (_, list) = get(&url, "t").await;
        seen.push(list.as_array().unwrap().len());
    }
    assert_eq!(seen, [0, 0, 0, 1, 1]);
}

#[tokio::test]
async fn team_member_approves_a_pending_deployment() {
    let gh = GithubSim::start();
    gh.with(|s| {
        s.add_environment(
            "o",
            "r",
            "production",
            vec![Reviewer::Team {
                org: "o".into(),
                slug: "ops".into(),
            }],
        );
        s.add_team_member("o", "ops", "alice", "member");
        s.add_waiting_run("o", "r", 42, &["production"]);
        s.set_token_user("alice-token", "alice");
        s.set_token_user("mallory-token", "mallory");
    });
    let pending = format!("{}/repos/o/r/actions/runs/42/pending_deployments", gh.url());
    let (_, list) = get(&pending, "mallory-token").await;
    assert_eq!(list[0]["current_user_can_approve"], false);
    let env_id = list[0]["environment"]["id"].as_u64().unwrap();
    let review = json!({"environment_ids": [env_id], "state": "approved", "comment": "ship it"});
    assert_eq!(post(&pending, "mallory-token", &review).await.0, 422);
    let (status, deployments) = post(&pending, "alice-token", &review).await;
    assert_eq!(status, 200);
    assert_eq!(deployments[0]["environment"], "production");
    assert!(gh.with(|s| s.waiting_environments("o", "r", 42)).is_empty());
    let (_, approvals) = get(&format!("{}/repos/o/r/actions/runs/42/approvals", gh.url()), "t").await;
    assert_eq!(approvals[0]["user"]["login"], "alice");
    assert_eq!(approvals[0]["state"], "approved");
    // Team membership and permissions are what approve-gate checks.
    let (status, m) = get(&format!("{}/orgs/o/teams/ops/memberships/alice", gh.url()), "t").await;
    assert_eq!((status, m["state"].as_str()), (200, Some("active")));
    assert_eq!(
        get(&format!("{}/orgs/o/teams/ops/memberships/mallory", gh.url()), "t")
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn scripted_ui_approval_and_issue_lifecycle() {
    let gh = GithubSim::start();
    gh.with(|s| {
        s.add_waiting_run("o", "r", 7, &["staging"]);
        s.set_permission("o", "r", "alice", "write");
    });
    // Someone approves in the UI after the gate's second look.
    gh.after("GET /repos/o/r/actions/runs/7/pending_deployments", 2, |s| {
        s.review_pending("o", "r", 7, "staging", "alice", true);
    });
    let pending = format!("{}/repos/o/r/actions/runs/7/pending_deployments", gh.url());
    let lens: Vec<usize> = [
        get(&pending, "t").await,
        get(&pending, "t").await,
        get(&pending, "t").await,
    ]
    .iter()
    .map(|(_, v)| v.as_array().unwrap().len())
    .collect();
    assert_eq!(lens, [1, 1, 0]);

    let (status, issue) = post(
        &format!("{}/repos/o/r/issues", gh.url()),
        "t",
        &json!({"title": "Approve?", "body": "b"}),
    )
    .await;
    assert_eq!(status, 201);
    let n = issue["number"].as_u64().unwrap();
    let (_, closed) = call(
        Method::PATCH,
        &format!("{}/repos/o/r/issues/{n}", gh.url()),
        "t",
        Some(&json!({"state": "closed"})),
    )
    .await;
    assert_eq!(
        (closed["state"].as_str(), closed["state_reason"].as_str()),
        (Some("closed"), Some("completed"))
    );
    assert_eq!(gh.with(|s| s.issue_open("o", "r", n)), Some(false));
    let (_, perm) = get(
        &format!("{}/repos/o/r/collaborators/alice/permission", gh.url()),
        "t",
    )
    .await;
    assert_eq!(perm["permission"], "write");
}
