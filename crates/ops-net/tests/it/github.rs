//! `GitHub`: the GHES prefix, headers, ETags, pagination and octocrab, against a local server that
//! lives under `/api/v3` like GitHub Enterprise Server.

use http::{Method, StatusCode};
use ops_core::{Env, Secret};
use ops_net::{ErrorKind, GitHub, LimitKind, RetryPolicy};
use serde_json::{Value, json};

use crate::support::{Events, NOW, Reply, Seen, Server, builder};

fn ghes(server: &Server, events: &Events) -> GitHub {
    GitHub::builder(server.url("/api/v3"))
        .token(Secret::new("ghs_test_token"))
        .http(events.attach(builder()))
        .build()
        .unwrap()
}

fn query(seen: &Seen, key: &str) -> Option<String> {
    let (_, q) = seen.path_and_query.split_once('?')?;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn helpers_keep_the_ghes_prefix_and_send_github_headers() {
    let server = Server::script(vec![Reply::new(200, r#"{"full_name":"o/r"}"#)]).await;
    let gh = ghes(&server, &Events::default());

    let repo: Value = gh.get_json("/repos/o/r").await.unwrap();

    assert_eq!(repo["full_name"], "o/r");
    let seen = &server.seen()[0];
    assert_eq!(seen.path_and_query, "/api/v3/repos/o/r");
    assert_eq!(seen.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(seen.header("x-github-api-version"), Some("2022-11-28"));
    assert_eq!(seen.header("authorization"), Some("Bearer ghs_test_token"));
    assert!(seen.header("user-agent").unwrap().starts_with("ops-actions/"));
}

#[tokio::test]
async fn from_env_reads_github_api_url_and_the_retry_variables() {
    let server = Server::script(vec![Reply::status(502), Reply::new(200, "{}")]).await;
    let env = Env::from_pairs([
        ("GITHUB_API_URL", server.url("/api/v3/")),
        ("OPS_RETRY_DELAY_SCALE", "0".to_owned()),
        ("OPS_RETRY_MAX_ATTEMPTS", "2".to_owned()),
    ]);
    let gh = GitHub::from_env(&env, Some(Secret::new("t"))).unwrap();

    gh.get_json::<Value>("/rate_limit").await.unwrap();

    assert_eq!(gh.http().policy().max_attempts, 2);
    assert_eq!(server.seen()[1].path_and_query, "/api/v3/rate_limit");
}

#[tokio::test]
async fn post_and_patch_send_json() {
    let server = Server::handler(|seen, _| {
        let mut body: Value = serde_json::from_slice(&seen.body).unwrap();
        body["method"] = json!(seen.method);
        Reply::new(if seen.method == "POST" { 201 } else { 200 }, body.to_string())
    })
    .await;
    let gh = ghes(&server, &Events::default());

    let created: Value = gh
        .post_json("/repos/o/r/check-runs", &json!({"name": "lint"}))
        .await
        .unwrap();
    let updated: Value = gh
        .patch_json("/repos/o/r/check-runs/1", &json!({"status": "completed"}))
        .await
        .unwrap();

    assert_eq!(created, json!({"name": "lint", "method": "POST"}));
    assert_eq!(updated, json!({"status": "completed", "method": "PATCH"}));
    assert_eq!(server.seen()[0].header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn etag_304_returns_the_cached_body_and_spends_no_budget() {
    let server = Server::handler(|seen, _| {
        let limits = |r: Reply| {
            r.header("x-ratelimit-limit", "1000")
                .header("x-ratelimit-remaining", "990")
        };
        if seen.header("if-none-match") == Some(r#"W/"v1""#) {
            limits(Reply::status(304)).header("etag", r#"W/"v1""#)
        } else {
            limits(Reply::new(200, r#"{"state":"waiting"}"#)).header("etag", r#"W/"v1""#)
        }
    })
    .await;
    let gh = ghes(&server, &Events::default());
    let route = "/repos/o/r/actions/runs/1/pending_deployments";

    let first = gh.get_conditional::<Value>(route).await.unwrap();
    let spent_after_first = gh.usage().spent();
    let second = gh.get_conditional::<Value>(route).await.unwrap();
    let third = gh.get_conditional::<Value>(route).await.unwrap();

    assert!(!first.not_modified);
    assert!(second.not_modified && third.not_modified);
    assert_eq!(second.value, json!({"state": "waiting"}));
    assert_eq!(third.value, first.value);
    let seen = server.seen();
    assert_eq!(seen[0].header("if-none-match"), None);
    assert_eq!(seen[1].header("if-none-match"), Some(r#"W/"v1""#));
    let usage = gh.usage();
    assert_eq!((usage.requests, usage.not_modified), (3, 2));
    assert_eq!(usage.spent(), spent_after_first, "304s cost no budget");
    assert_eq!(usage.spent(), 1);
}

/// Pages of items 1..=5, two per page, linked the way GitHub links them (absolute, with the prefix).
fn paged(seen: &Seen, _: usize) -> Reply {
    let page: usize = query(seen, "page").map_or(1, |p| p.parse().unwrap());
    let items: Vec<usize> = (1..=5).skip((page - 1) * 2).take(2).collect();
    let link = |p: usize, rel: &str| {
        format!("<{{base}}/api/v3/repos/o/r/issues?per_page=2&page={p}>; rel=\"{rel}\"")
    };
    let mut links = Vec::new();
    if page < 3 {
        links.push(link(page + 1, "next"));
    }
    links.push(link(3, "last"));
    Reply::new(200, serde_json::to_string(&items).unwrap()).header("link", links.join(", "))
}

#[tokio::test]
async fn paginate_follows_link_next_across_three_pages() {
    let server = Server::handler(paged).await;
    let gh = ghes(&server, &Events::default());

    let all: Vec<usize> = gh.paginate("/repos/o/r/issues?per_page=2", 10).await.unwrap();

    assert_eq!(all, vec![1, 2, 3, 4, 5]);
    let paths: Vec<String> = server.seen().into_iter().map(|s| s.path_and_query).collect();
    assert_eq!(
        paths,
        vec![
            "/api/v3/repos/o/r/issues?per_page=2",
            "/api/v3/repos/o/r/issues?per_page=2&page=2",
            "/api/v3/repos/o/r/issues?per_page=2&page=3",
        ]
    );
}

#[tokio::test]
async fn paginate_asks_for_100_per_page_by_default() {
    let server = Server::script(vec![Reply::new(200, "[1]")]).await;
    let gh = ghes(&server, &Events::default());

    let all: Vec<u32> = gh
        .paginate("/repos/o/r/deployments?environment=prod", 5)
        .await
        .unwrap();

    assert_eq!(all, vec![1]);
    assert_eq!(
        server.seen()[0].path_and_query,
        "/api/v3/repos/o/r/deployments?environment=prod&per_page=100"
    );
}

#[tokio::test]
async fn paginate_stops_at_max_pages_with_an_error() {
    let server = Server::handler(paged).await;
    let gh = ghes(&server, &Events::default());

    let err = gh
        .paginate::<usize>("/repos/o/r/issues?per_page=2", 2)
        .await
        .unwrap_err();

    assert!(
        matches!(err.kind(), ErrorKind::TooManyPages { max: 2, .. }),
        "{err:?}"
    );
    assert_eq!(server.calls(), 2);
    assert_eq!(
        err.to_string(),
        format!(
            "{}: more than 2 pages; stopped",
            server.url("/api/v3/repos/o/r/issues?per_page=2")
        )
    );
}

#[tokio::test]
async fn paginate_refuses_a_link_to_another_host() {
    let server = Server::script(vec![
        Reply::new(200, "[1]").header("link", r#"<https://elsewhere.example/steal?page=2>; rel="next""#),
    ])
    .await;
    let gh = ghes(&server, &Events::default());

    let err = gh.paginate::<u32>("/repos/o/r/issues", 5).await.unwrap_err();

    assert!(matches!(err.kind(), ErrorKind::ForeignUrl { .. }), "{err:?}");
    assert_eq!(server.calls(), 1);
}

#[tokio::test]
async fn paginate_field_reads_wrapped_pages() {
    let server = Server::handler(|seen, _| {
        if query(seen, "page").is_none() {
            Reply::new(200, r#"{"total_count":3,"check_runs":[{"id":1},{"id":2}]}"#).header(
                "link",
                "<{base}/api/v3/repos/o/r/commits/abc/check-runs?page=2>; rel=\"next\"",
            )
        } else {
            Reply::new(200, r#"{"total_count":3,"check_runs":[{"id":3}]}"#)
        }
    })
    .await;
    let gh = ghes(&server, &Events::default());

    let runs: Vec<Value> = gh
        .paginate_field("/repos/o/r/commits/abc/check-runs", "check_runs", 5)
        .await
        .unwrap();

    let ids: Vec<_> = runs.iter().map(|r| r["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, vec![1, 2, 3]);
}

#[tokio::test]
async fn octocrab_calls_keep_the_prefix_and_get_the_retry_policy() {
    let server = Server::script(vec![
        Reply::status(502),
        Reply::new(200, r#"{"full_name":"o/r"}"#),
    ])
    .await;
    let events = Events::default();
    let gh = ghes(&server, &events);

    let repo: Value = gh
        .octocrab_call(Method::GET, "/repos/o/r", |o| async move {
            o.get("/repos/o/r", None::<&()>).await
        })
        .await
        .unwrap();

    assert_eq!(repo["full_name"], "o/r");
    assert_eq!(
        server.calls(),
        2,
        "octocrab's own retries are off; ours retried once"
    );
    let seen = server.seen();
    assert!(
        seen.iter().all(|s| s.path_and_query == "/api/v3/repos/o/r"),
        "{seen:?}"
    );
    assert_eq!(seen[0].header("authorization"), Some("Bearer ghs_test_token"));
    assert_eq!(events.all()[0].status, Some(StatusCode::BAD_GATEWAY));
}

#[tokio::test]
async fn octocrab_secondary_limit_is_waited_out_even_for_post() {
    let server = Server::script(vec![
        Reply::new(403, r#"{"message":"You have exceeded a secondary rate limit and have been temporarily blocked from content creation."}"#),
        Reply::new(201, r#"{"id":7}"#),
    ])
    .await;
    let events = Events::default();
    let gh = ghes(&server, &events);

    let created: Value = gh
        .octocrab_call(Method::POST, "/repos/o/r/issues/1/comments", |o| async move {
            o.post("/repos/o/r/issues/1/comments", Some(&json!({"body": "hi"})))
                .await
        })
        .await
        .unwrap();

    assert_eq!(created["id"], 7);
    assert_eq!(events.delays(), vec![60]);
    assert_eq!(events.all()[0].limit, Some(LimitKind::Secondary));
}

#[tokio::test]
async fn octocrab_post_is_not_retried_on_500() {
    let server = Server::script(vec![
        Reply::new(500, r#"{"message":"boom"}"#),
        Reply::new(201, "{}"),
    ])
    .await;
    let gh = ghes(&server, &Events::default());

    let err = gh
        .octocrab_call(Method::POST, "/repos/o/r/deployments", |o| async move {
            o.post::<_, Value>("/repos/o/r/deployments", Some(&json!({"ref": "main"})))
                .await
        })
        .await
        .unwrap_err();

    assert_eq!(server.calls(), 1);
    assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(
        err.to_string(),
        "GitHub API call POST /repos/o/r/deployments failed: boom"
    );
}

#[tokio::test]
async fn octocrab_primary_limit_past_the_cap_names_the_reset() {
    let server = Server::script(vec![
        Reply::new(403, r#"{"message":"API rate limit exceeded"}"#)
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", (NOW + 1800).to_string())
            .header("x-ratelimit-resource", "core"),
    ])
    .await;
    let gh = ghes(&server, &Events::default());

    let err = gh
        .octocrab_call(Method::GET, "/repos/o/r", |o| async move {
            o.get::<Value, _, ()>("/repos/o/r", None).await
        })
        .await
        .unwrap_err();

    assert_eq!(server.calls(), 1);
    assert!(
        err.to_string().contains(
            "GitHub primary rate limit for `core` hit, next try possible at 2026-05-01T12:30:00Z (in 30m)"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_cap_of_zero_means_no_waiting_for_limits() {
    let server = Server::script(vec![Reply::status(429).header("retry-after", "1")]).await;
    let policy = RetryPolicy {
        max_total_wait: std::time::Duration::ZERO,
        ..RetryPolicy::for_tests()
    };
    let gh = GitHub::builder(server.url("/api/v3"))
        .http(builder().retry_policy(policy))
        .build()
        .unwrap();

    let err = gh.get_json::<Value>("/x").await.unwrap_err();

    assert!(matches!(err.kind(), ErrorKind::WaitCapExceeded { .. }), "{err:?}");
    assert_eq!(server.calls(), 1);
}

#[tokio::test]
async fn send_refuses_a_request_for_another_origin() {
    let api = Server::script(vec![Reply::new(200, "{}")]).await;
    let elsewhere = Server::script(vec![Reply::new(200, "{}")]).await;
    let gh = ghes(&api, &Events::default());

    let err = gh
        .send(ops_net::Request::get(&elsewhere.url("/collect")).unwrap())
        .await
        .unwrap_err();

    assert!(matches!(err.kind(), ErrorKind::ForeignUrl { .. }), "{err:?}");
    assert_eq!(elsewhere.calls(), 0, "the token must not travel");
}
