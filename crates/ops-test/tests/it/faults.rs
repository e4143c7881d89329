//! Fault injection: each fault fires for the matching requests only, the given number of times.

use std::time::Duration;

use ops_test::digitalocean::DoSim;
use ops_test::github::GithubSim;
use ops_test::sim::Fault;
use serde_json::json;

use crate::support::{client, get};

#[tokio::test]
async fn server_errors_fire_n_times_then_clear() {
    let gh = GithubSim::start();
    gh.with(|s| s.add_repo("o", "r"));
    gh.inject("GET /repos/{owner}/{repo}", Fault::Status(503), 2);
    gh.inject("GET /repos/o/r", Fault::Status(502), 1);
    let url = format!("{}/repos/o/r", gh.url());
    let statuses = [
        get(&url, "t").await.0,
        get(&url, "t").await.0,
        get(&url, "t").await.0,
        get(&url, "t").await.0,
    ];
    assert_eq!(statuses, [503, 503, 502, 200]);
    assert_eq!(gh.faults_left(), 0);
    let record = gh.exchanges();
    assert_eq!(record[0].fault.as_deref(), Some("Status(503)"));
    assert!(record[3].fault.is_none());
    // Other paths were never affected.
    assert_eq!(get(&format!("{}/rate_limit", gh.url()), "t").await.0, 200);
}

#[tokio::test]
async fn rate_limits_with_retry_after() {
    let gh = GithubSim::start();
    gh.with(|s| s.add_repo("o", "r"));
    gh.inject("* /repos/o/r", Fault::SecondaryRateLimit { retry_after: 60 }, 1);
    let resp = client()
        .get(format!("{}/repos/o/r", gh.url()))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.headers()["retry-after"], "60");
    assert!(resp.headers().contains_key("x-ratelimit-remaining"));
    assert!(resp.text().await.unwrap().contains("secondary rate limit"));

    let dosim = DoSim::start();
    dosim.inject("GET /v2/apps", Fault::RateLimited { retry_after: 3 }, 1);
    let resp = client()
        .get(format!("{}/v2/apps", dosim.url()))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "3");
    assert!(resp.headers().contains_key("ratelimit-reset"));
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["id"],
        "too_many_requests"
    );
}

#[tokio::test]
async fn dropped_connection_and_truncated_body_are_client_errors() {
    let gh = GithubSim::start();
    gh.with(|s| s.add_repo("o", "r"));
    gh.inject("GET /repos/o/r", Fault::DropConnection, 1);
    gh.inject("GET /repos/o/r", Fault::Truncate, 1);
    let url = format!("{}/repos/o/r", gh.url());
    let dropped = client().get(&url).send().await;
    assert!(dropped.is_err(), "no response at all: {dropped:?}");
    let truncated = client().get(&url).send().await.unwrap();
    assert_eq!(truncated.status(), 200, "headers arrive");
    assert!(truncated.bytes().await.is_err(), "the body is cut short");
    assert_eq!(get(&url, "t").await.0, 200);
    // Truncation is recorded with the full body the stand-in meant to send.
    let cut = &gh.exchanges()[1];
    assert_eq!(cut.fault.as_deref(), Some("Truncate"));
    assert_eq!(cut.response_json().unwrap()["full_name"], "o/r");
}

#[tokio::test]
async fn slow_and_hanging_responses_meet_client_timeouts() {
    let gh = GithubSim::start();
    gh.with(|s| s.add_repo("o", "r"));
    gh.inject("GET /repos/o/r", Fault::Hang, 1);
    gh.inject("GET /repos/o/r", Fault::Delay(Duration::from_secs(30)), 1);
    let url = format!("{}/repos/o/r", gh.url());
    // The client's own timeout ends these; nothing in the test sleeps.
    for _ in 0..2 {
        let err = client()
            .get(&url)
            .timeout(Duration::from_millis(100))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err}");
    }
    assert_eq!(get(&url, "t").await.0, 200);
}

#[tokio::test]
async fn processed_requests_can_lose_their_answer() {
    let gh = GithubSim::start();
    gh.with(|s| s.add_repo("o", "r"));
    gh.inject("POST /repos/o/r/issues", Fault::ProcessThenDrop, 1);
    gh.inject("POST /repos/o/r/issues", Fault::ProcessThenHang, 1);
    let url = format!("{}/repos/o/r/issues", gh.url());
    let issue = json!({"title": "lost"});

    // Dropped: the client sees a broken connection, not a response.
    let dropped = client().post(&url).bearer_auth("t").json(&issue).send().await;
    assert!(dropped.is_err(), "no response at all: {dropped:?}");
    // Held: the client's own timeout ends it; nothing in the test sleeps.
    let held = client()
        .post(&url)
        .bearer_auth("t")
        .json(&issue)
        .timeout(Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
    assert!(held.is_timeout(), "{held}");

    // Yet both were processed, unlike `DropConnection` and `Hang`, and recorded with the answer
    // the stand-in meant to send.
    assert_eq!(gh.with(|s| s.latest_issue("o", "r")), Some(2));
    let record = gh.exchanges();
    assert_eq!(
        record.iter().map(|e| e.status.as_u16()).collect::<Vec<_>>(),
        [201, 201]
    );
    assert_eq!(record[0].fault.as_deref(), Some("ProcessThenDrop"));
    assert_eq!(record[1].fault.as_deref(), Some("ProcessThenHang"));
    assert_eq!(record[1].response_json().unwrap()["number"], 2);
    assert_eq!(gh.faults_left(), 0);
}

#[tokio::test]
async fn set_json_rewrites_one_field() {
    let dosim = DoSim::start();
    let app = dosim.with(|s| s.add_app(json!({"name": "web", "services": [{"name": "api"}]})));
    dosim.inject("GET /v2/apps/*", Fault::set_json("/app/spec/name", "renamed"), 1);
    let (_, got) = get(&format!("{}/v2/apps/{app}", dosim.url()), "t").await;
    assert_eq!(got["app"]["spec"]["name"], "renamed");
    let (_, got) = get(&format!("{}/v2/apps/{app}", dosim.url()), "t").await;
    assert_eq!(got["app"]["spec"]["name"], "web");
}
