//! `HttpClient`: retries, waits, limits and their errors, against local servers. No test sleeps: the
//! policy's delays are asserted from the retry events, never measured.

use std::time::Duration;

use http::{Method, StatusCode};
use ops_core::{Env, ExitStatus, Report};
use ops_net::{ErrorKind, LimitKind, Request, RetryPolicy, TransportKind};
use serde_json::{Value, json};

use crate::support::{Events, NOW, Reply, Server, Wire, WireServer, builder, refused_url};

#[tokio::test]
async fn retries_500_502_503_then_succeeds() {
    let server = Server::script(vec![
        Reply::status(500),
        Reply::status(502),
        Reply::status(503),
        Reply::new(200, r#"{"ok":true}"#),
    ])
    .await;
    let events = Events::default();
    let client = events.attach(builder()).build().unwrap();

    let response = client
        .send(Request::get(&server.url("/x")).unwrap())
        .await
        .unwrap();

    assert_eq!(response.json::<Value>().unwrap(), json!({"ok": true}));
    assert_eq!(response.attempts(), 4);
    assert_eq!(server.calls(), 4);
    let all = events.all();
    let statuses: Vec<_> = all.iter().map(|e| e.status.map(|s| s.as_u16())).collect();
    assert_eq!(statuses, vec![Some(500), Some(502), Some(503)]);
    // full jitter: each wait is at most base · 2ⁿ
    let policy = RetryPolicy::for_tests();
    for (n, event) in all.iter().enumerate() {
        assert!(
            event.delay <= policy.backoff_ceiling(u32::try_from(n).unwrap()),
            "{event}"
        );
        assert_eq!(event.limit, None);
    }
    let usage = client.usage();
    assert_eq!((usage.requests, usage.retries, usage.not_modified), (4, 3, 0));
}

#[tokio::test]
async fn honours_retry_after_seconds_on_429() {
    let server = Server::script(vec![
        Reply::status(429).header("retry-after", "7"),
        Reply::new(200, "[]"),
    ])
    .await;
    let events = Events::default();
    let client = events.attach(builder()).build().unwrap();

    client.get_json::<Vec<Value>>(&server.url("/x")).await.unwrap();

    assert_eq!(server.calls(), 2);
    let event = &events.all()[0];
    assert_eq!(event.delay, Duration::from_secs(7));
    assert_eq!(event.limit, Some(LimitKind::TooManyRequests));
    assert_eq!(
        events.lines(),
        vec![format!(
            "retrying in 7s (429 from GET {}, rate limit (429); attempt 1 of 5)",
            server.url("/x")
        )]
    );
}

#[tokio::test]
async fn honours_retry_after_http_date_on_503() {
    // 30 s after the pinned clock
    let server = Server::script(vec![
        Reply::status(503).header("retry-after", "Fri, 01 May 2026 12:00:30 GMT"),
        Reply::new(200, "{}"),
    ])
    .await;
    let events = Events::default();
    let client = events.attach(builder()).build().unwrap();

    client.get_json::<Value>(&server.url("/x")).await.unwrap();

    assert_eq!(events.delays(), vec![30]);
    assert_eq!(events.all()[0].limit, Some(LimitKind::RetryAfter));
}

#[tokio::test]
async fn github_primary_limit_waits_until_x_ratelimit_reset() {
    let reset = (NOW + 120).to_string();
    let server = Server::script(vec![
        Reply::new(
            403,
            r#"{"message":"API rate limit exceeded for installation ID 1."}"#,
        )
        .header("x-ratelimit-limit", "1000")
        .header("x-ratelimit-remaining", "0")
        .header("x-ratelimit-reset", reset.clone())
        .header("x-ratelimit-resource", "core"),
        Reply::new(200, "{}")
            .header("x-ratelimit-limit", "1000")
            .header("x-ratelimit-remaining", "999"),
    ])
    .await;
    let events = Events::default();
    // a POST: a rate-limit refusal means GitHub did not act, so it is safe to send again
    let client = events.attach(builder()).build().unwrap();
    let request = Request::new(Method::POST, &server.url("/repos/o/r/statuses/abc"))
        .unwrap()
        .json(&json!({}))
        .unwrap();

    client.send(request).await.unwrap();

    assert_eq!(server.calls(), 2);
    assert_eq!(events.delays(), vec![120]);
    assert_eq!(
        events.all()[0].limit,
        Some(LimitKind::Primary {
            resource: Some("core".into())
        })
    );
    let budget = client.rate_limit().unwrap();
    assert_eq!((budget.remaining, budget.limit), (Some(999), Some(1000)));
}

#[tokio::test]
async fn digitalocean_ratelimit_reset_epoch() {
    let server = Server::script(vec![
        Reply::new(
            429,
            r#"{"id":"too_many_requests","message":"API Rate limit exceeded."}"#,
        )
        .header("ratelimit-limit", "5000")
        .header("ratelimit-remaining", "0")
        .header("ratelimit-reset", (NOW + 45).to_string()),
        Reply::new(200, "{}")
            .header("ratelimit-limit", "5000")
            .header("ratelimit-remaining", "4999"),
    ])
    .await;
    let events = Events::default();
    let client = events.attach(builder()).build().unwrap();

    client.get_json::<Value>(&server.url("/v2/apps")).await.unwrap();

    assert_eq!(events.delays(), vec![45]);
    assert_eq!(events.all()[0].limit, Some(LimitKind::Standard));
    assert_eq!(client.rate_limit().unwrap().remaining, Some(4999));
}

#[tokio::test]
async fn secondary_limit_403_by_body_waits_a_minute_then_doubles_even_for_post() {
    let secondary = r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#;
    let server = Server::script(vec![
        Reply::new(403, secondary),
        Reply::new(403, secondary),
        Reply::new(201, r#"{"id":1}"#),
    ])
    .await;
    let events = Events::default();
    let client = events.attach(builder()).build().unwrap();
    let request = Request::new(Method::POST, &server.url("/repos/o/r/issues/1/comments"))
        .unwrap()
        .json(&json!({"body": "hi"}))
        .unwrap();

    let response = client.send(request).await.unwrap();

    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(server.calls(), 3);
    assert_eq!(events.delays(), vec![60, 120]);
    assert!(events.all().iter().all(|e| e.limit == Some(LimitKind::Secondary)));
}

#[tokio::test]
async fn a_secondary_limit_that_outlasts_the_attempts_is_reported_as_a_limit() {
    let server = Server::script(vec![Reply::new(
        403,
        r#"{"message":"You have exceeded a secondary rate limit"}"#,
    )])
    .await;
    let policy = RetryPolicy {
        max_attempts: 2,
        ..RetryPolicy::for_tests()
    };
    let client = builder().retry_policy(policy).build().unwrap();

    let err = client.get_json::<Value>(&server.url("/x")).await.unwrap_err();

    assert_eq!(server.calls(), 2);
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Status {
                limit: Some(LimitKind::Secondary),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.hint().unwrap(),
        "the GitHub secondary rate limit was hit; make fewer requests at once, or re-run later"
    );
}

#[tokio::test]
async fn secondary_limit_403_with_retry_after() {
    let server = Server::script(vec![
        Reply::status(403).header("retry-after", "5"),
        Reply::new(200, "{}"),
    ])
    .await;
    let events = Events::default();
    let client = events.attach(builder()).build().unwrap();

    client.get_json::<Value>(&server.url("/x")).await.unwrap();

    assert_eq!(events.delays(), vec![5]);
    assert_eq!(events.all()[0].limit, Some(LimitKind::Secondary));
}

#[tokio::test]
async fn plain_403_is_not_retried_and_hints_at_permissions() {
    let server = Server::script(vec![
        Reply::new(403, r#"{"message":"Resource not accessible by integration"}"#)
            .header("x-ratelimit-remaining", "42"),
    ])
    .await;
    let client = builder().build().unwrap();

    let err = client
        .get_json::<Value>(&server.url("/repos/o/r/check-runs"))
        .await
        .unwrap_err();

    assert_eq!(server.calls(), 1);
    assert_eq!(
        err.to_string(),
        format!(
            r#"GET {} returned 403 Forbidden: {{"message":"Resource not accessible by integration"}}"#,
            server.url("/repos/o/r/check-runs")
        )
    );
    assert_eq!(err.exit_status(), ExitStatus::Runtime);
    assert!(err.hint().unwrap().contains("`permissions:`"), "{:?}", err.hint());
}

#[tokio::test]
async fn gives_up_after_max_attempts_listing_them() {
    let server = Server::script(vec![Reply::new(503, "upstream unavailable")]).await;
    let policy = RetryPolicy {
        max_attempts: 3,
        ..RetryPolicy::for_tests()
    };
    let client = builder().retry_policy(policy).build().unwrap();

    let err = client.get_json::<Value>(&server.url("/x")).await.unwrap_err();

    assert_eq!(server.calls(), 3);
    assert_eq!(
        err.to_string(),
        format!(
            "GET {} returned 503 Service Unavailable after 3 attempts (503, 503, 503): upstream unavailable",
            server.url("/x")
        )
    );
    assert_eq!(err.attempts().unwrap().count(), 3);
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(err.exit_status(), ExitStatus::Runtime);
}

#[tokio::test]
async fn total_wait_cap_fails_at_once_naming_the_limit_and_reset() {
    let server = Server::script(vec![
        Reply::new(403, r#"{"message":"API rate limit exceeded"}"#)
            .header("x-ratelimit-limit", "1000")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", (NOW + 3600).to_string())
            .header("x-ratelimit-resource", "core"),
    ])
    .await;
    let events = Events::default();
    let client = events.attach(builder()).build().unwrap();

    let err = client.get_json::<Value>(&server.url("/x")).await.unwrap_err();

    assert_eq!(server.calls(), 1, "no doomed retry");
    assert!(events.all().is_empty());
    assert_eq!(
        err.to_string(),
        format!(
            "GET {}: GitHub primary rate limit for `core` hit, next try possible at 2026-05-01T13:00:00Z (in 1h), \
             past the `5m` cap on total retry wait",
            server.url("/x")
        )
    );
    assert_eq!(
        err.hint().unwrap(),
        "re-run after 2026-05-01T13:00:00Z, or raise `OPS_RETRY_MAX_WAIT` (seconds) to wait longer"
    );
    assert_eq!(err.exit_status(), ExitStatus::Runtime);
}

#[tokio::test]
async fn total_wait_cap_counts_earlier_waits() {
    let server = Server::script(vec![Reply::status(429).header("retry-after", "200")]).await;
    let events = Events::default();
    let client = events.attach(builder()).build().unwrap();

    let err = client.get_json::<Value>(&server.url("/x")).await.unwrap_err();

    // 200 s fits in the 5 min cap once, not twice
    assert_eq!(server.calls(), 2);
    assert_eq!(events.delays(), vec![200]);
    assert!(
        matches!(err.kind(), ErrorKind::WaitCapExceeded { waited, .. } if *waited == Duration::from_secs(200))
    );
    assert!(
        err.to_string()
            .ends_with("past the `5m` cap on total retry wait (3m20s already waited)"),
        "{err}"
    );
    assert_eq!(client.usage().waited, Duration::from_secs(200));
}

#[tokio::test]
async fn post_is_not_retried_after_a_dropped_connection() {
    let server = WireServer::start(vec![Wire::Drop, Wire::Respond(201, r#"{"id":1}"#)]).await;
    let client = builder().build().unwrap();
    let request = Request::new(Method::POST, &server.url("/deployments"))
        .unwrap()
        .json(&json!({"ref": "main"}))
        .unwrap();

    let err = client.send(request).await.unwrap_err();

    assert_eq!(server.calls(), 1, "the deployment must not be created twice");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Transport {
                kind: TransportKind::Connection,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("POST {}: connection lost: ", server.url("/deployments"))),
        "{err}"
    );
}

#[tokio::test]
async fn post_is_retried_after_a_dropped_connection_when_opted_in() {
    let server = WireServer::start(vec![Wire::Drop, Wire::Respond(201, r#"{"id":1}"#)]).await;
    let client = builder().build().unwrap();
    let request = Request::new(Method::POST, &server.url("/deployments"))
        .unwrap()
        .json(&json!({"ref": "main"}))
        .unwrap()
        .retry_non_idempotent();

    let response = client.send(request).await.unwrap();

    assert_eq!(server.calls(), 2);
    assert_eq!(response.json::<Value>().unwrap(), json!({"id": 1}));
}

#[tokio::test]
async fn get_is_retried_after_a_dropped_connection() {
    let server = WireServer::start(vec![Wire::Drop, Wire::Respond(200, r#"{"ok":1}"#)]).await;
    let events = Events::default();
    let client = events.attach(builder()).build().unwrap();

    let value: Value = client.get_json(&server.url("/x")).await.unwrap();

    assert_eq!(value, json!({"ok": 1}));
    assert_eq!(server.calls(), 2);
    assert_eq!(events.all()[0].cause, "connection lost");
}

#[tokio::test]
async fn get_is_retried_after_a_truncated_body() {
    let server = WireServer::start(vec![
        Wire::Truncate,
        Wire::Truncate,
        Wire::Respond(200, r#"{"ok":1}"#),
    ])
    .await;
    let events = Events::default();
    let client = events.attach(builder()).build().unwrap();

    let value: Value = client.get_json(&server.url("/x")).await.unwrap();

    assert_eq!(value, json!({"ok": 1}));
    assert_eq!(server.calls(), 3);
    let causes: Vec<_> = events.all().into_iter().map(|e| e.cause).collect();
    assert_eq!(causes, vec!["response body cut short", "response body cut short"]);
}

#[tokio::test]
async fn post_is_not_retried_after_a_truncated_body() {
    let server = WireServer::start(vec![Wire::Truncate, Wire::Respond(201, "{}")]).await;
    let client = builder().build().unwrap();
    let request = Request::new(Method::POST, &server.url("/x")).unwrap().body("{}");

    let err = client.send(request).await.unwrap_err();

    assert_eq!(server.calls(), 1);
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Transport {
                kind: TransportKind::Body,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn refused_connection_is_retried_for_any_method() {
    // nothing was sent, so even a POST is safe to try again
    let url = refused_url().await;
    let policy = RetryPolicy {
        max_attempts: 3,
        ..RetryPolicy::for_tests()
    };
    let events = Events::default();
    let client = events.attach(builder().retry_policy(policy)).build().unwrap();

    let err = client
        .send(Request::new(Method::POST, &url).unwrap())
        .await
        .unwrap_err();

    assert_eq!(events.all().len(), 2);
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with(&format!(
            "POST {url}: could not connect after 3 attempts (could not connect, could not connect, could not connect): "
        )),
        "{err}"
    );
    assert_eq!(client.usage().transport_errors, 3);
}

#[tokio::test]
async fn post_500_is_not_retried_but_post_503_is() {
    let server = Server::script(vec![Reply::status(500), Reply::new(201, "{}")]).await;
    let client = builder().build().unwrap();
    let err = client
        .send(Request::new(Method::POST, &server.url("/x")).unwrap())
        .await
        .unwrap_err();
    assert_eq!(server.calls(), 1);
    assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));

    let server = Server::script(vec![Reply::status(503), Reply::new(201, "{}")]).await;
    let response = client
        .send(Request::new(Method::POST, &server.url("/x")).unwrap())
        .await
        .unwrap();
    assert_eq!(server.calls(), 2);
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn accept_any_status_returns_the_final_response() {
    let server = Server::script(vec![Reply::new(503, "down")]).await;
    let policy = RetryPolicy {
        max_attempts: 2,
        ..RetryPolicy::for_tests()
    };
    let client = builder().retry_policy(policy).build().unwrap();

    let response = client
        .send(Request::get(&server.url("/healthz")).unwrap().accept_any_status())
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.text(), "down");
    assert_eq!(response.attempts(), 2);
}

#[tokio::test]
async fn delay_scale_from_the_environment_stops_real_sleeps() {
    // With a scale of 1 this test would sleep two minutes; with `OPS_RETRY_DELAY_SCALE=0` it does not.
    let server = Server::script(vec![
        Reply::status(429).header("retry-after", "120"),
        Reply::new(200, "{}"),
    ])
    .await;
    let policy = RetryPolicy::from_env(&Env::from_pairs([("OPS_RETRY_DELAY_SCALE", "0")])).unwrap();
    let events = Events::default();
    let client = events
        .attach(ops_net::HttpClient::builder().retry_policy(policy))
        .build()
        .unwrap();

    client.get_json::<Value>(&server.url("/x")).await.unwrap();

    assert_eq!(events.delays(), vec![120]);
}

#[tokio::test]
async fn sends_the_user_agent() {
    let server = Server::script(vec![Reply::new(200, "{}")]).await;
    builder()
        .build()
        .unwrap()
        .get_json::<Value>(&server.url("/x"))
        .await
        .unwrap();
    assert_eq!(
        server.seen()[0].header("user-agent"),
        Some(concat!("ops-actions/", env!("CARGO_PKG_VERSION")))
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_decode_error_with_an_excerpt() {
    let server = Server::script(vec![Reply::new(200, "<html>maintenance</html>")]).await;
    let client = builder().build().unwrap();

    let err = client.get_json::<Value>(&server.url("/x")).await.unwrap_err();

    assert!(matches!(err.kind(), ErrorKind::Decode { .. }));
    assert!(
        err.to_string()
            .ends_with("it starts with: <html>maintenance</html>"),
        "{err}"
    );
}
