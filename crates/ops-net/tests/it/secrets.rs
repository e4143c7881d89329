//! Tokens reach the server and nothing else: not an error's message, not its `Debug`, not a retry line.

use http::Method;
use ops_core::{Report, Secret};
use ops_net::{GitHub, Request, RetryPolicy};
use serde_json::Value;

use crate::support::{Events, Reply, Server, builder, refused_url};

const TOKEN: &str = "ghs_0123456789abcdefSECRET";

/// Asserts that neither the `Display` nor the `Debug` of `err` contains `needle`.
fn assert_hidden(err: &ops_net::Error, needle: &str) {
    let shown = format!("{err}\n{err:?}\n{}", err.hint().unwrap_or_default());
    assert!(!shown.contains(needle), "`{needle}` leaked:\n{shown}");
}

#[tokio::test]
async fn the_token_is_sent_but_never_shown_in_errors() {
    // A server that echoes the credentials it got, as some proxies and debug endpoints do.
    let server = Server::handler(|seen, _| {
        let auth = seen.header("authorization").unwrap_or_default().to_owned();
        Reply::new(
            401,
            format!(r#"{{"message":"Bad credentials","you_sent":"{auth}"}}"#),
        )
    })
    .await;
    let client = builder().bearer_token(Secret::new(TOKEN)).build().unwrap();

    let err = client.get_json::<Value>(&server.url("/user")).await.unwrap_err();

    assert_eq!(
        server.seen()[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_hidden(&err, TOKEN);
    assert!(err.to_string().contains(r#""you_sent":"Bearer ***""#), "{err}");
    assert!(err.hint().unwrap().contains("token was rejected"));
    assert!(!format!("{client:?}").contains(TOKEN));
}

#[tokio::test]
async fn a_token_echoed_into_a_bad_json_body_is_masked() {
    let server = Server::handler(|seen, _| {
        Reply::new(
            200,
            format!("not json {}", seen.header("authorization").unwrap_or_default()),
        )
    })
    .await;
    let client = builder().bearer_token(Secret::new(TOKEN)).build().unwrap();

    let err = client.get_json::<Value>(&server.url("/x")).await.unwrap_err();

    assert_hidden(&err, TOKEN);
}

#[tokio::test]
async fn a_per_request_token_is_masked_too() {
    let other = "dop_v1_other_secret_value";
    let server = Server::handler(|seen, _| {
        Reply::new(
            500,
            format!("auth={}", seen.header("authorization").unwrap_or_default()),
        )
    })
    .await;
    let client = builder()
        .retry_policy(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::for_tests()
        })
        .build()
        .unwrap();
    let request = Request::get(&server.url("/v2/apps"))
        .unwrap()
        .bearer(&Secret::new(other))
        .unwrap();
    assert!(format!("{request:?}").contains("Sensitive"), "{request:?}");
    assert!(!format!("{request:?}").contains(other));

    let err = client.send(request).await.unwrap_err();

    assert_hidden(&err, other);
    assert!(err.to_string().ends_with("auth=Bearer ***"), "{err}");
}

/// A server that echoes a token in another form (base64, percent-encoded, as a debug endpoint or a
/// form-decoding proxy does) showed it in the error: only the token as given was masked.
#[tokio::test]
async fn a_token_echoed_in_a_derived_form_is_masked() {
    const ODD: &str = "ghs_tok/en+x=1&y 9";
    let server = Server::handler(|seen, _| {
        assert_eq!(
            seen.header("authorization"),
            Some(format!("Bearer {ODD}").as_str())
        );
        Reply::new(
            401,
            "b64=Z2hzX3Rvay9lbit4PTEmeSA5 pct=ghs_tok%2Fen%2Bx%3D1%26y%209".to_owned(),
        )
    })
    .await;
    let client = builder().bearer_token(Secret::new(ODD)).build().unwrap();

    let err = client.get_json::<Value>(&server.url("/user")).await.unwrap_err();

    for form in ["Z2hzX3Rvay9lbit4PTEmeSA5", "ghs_tok%2Fen%2Bx%3D1%26y%209"] {
        assert_hidden(&err, form);
    }
    assert!(err.to_string().contains("b64=*** pct=***"), "{err}");
}

#[tokio::test]
async fn urls_in_errors_and_retry_lines_are_redacted() {
    let server = Server::script(vec![
        Reply::status(503),
        Reply::new(404, r#"{"message":"Not Found"}"#),
    ])
    .await;
    let events = Events::default();
    let client = events.attach(builder()).build().unwrap();
    let url = format!("{}?access_token=querysecret&page=2", server.url("/repos/o/r"));

    let err = client.get_json::<Value>(&url).await.unwrap_err();

    assert_hidden(&err, "querysecret");
    assert!(
        err.to_string()
            .contains("/repos/o/r?access_token=***&page=2 returned 404"),
        "{err}"
    );
    let lines = events.lines().join("\n");
    assert!(
        lines.contains("access_token=***") && !lines.contains("querysecret"),
        "{lines}"
    );
}

#[tokio::test]
async fn transport_errors_carry_no_url_secrets() {
    let url = format!("{}?token=querysecret", refused_url().await);
    let client = builder()
        .retry_policy(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::for_tests()
        })
        .build()
        .unwrap();

    let err = client
        .send(Request::new(Method::GET, &url).unwrap())
        .await
        .unwrap_err();

    assert_hidden(&err, "querysecret");
    assert!(err.to_string().contains("?token=***: could not connect"), "{err}");
}

#[tokio::test]
async fn userinfo_in_a_url_is_redacted() {
    let server = Server::script(vec![Reply::new(404, "{}")]).await;
    let client = builder().build().unwrap();
    let url = server.url("/x").replace("http://", "http://deploy:hunter2@");

    let err = client.get_json::<Value>(&url).await.unwrap_err();

    assert_hidden(&err, "hunter2");
    assert!(err.to_string().starts_with("GET http://***@127.0.0.1:"), "{err}");
}

#[tokio::test]
async fn github_errors_never_contain_the_token() {
    let server = Server::handler(|seen, _| {
        Reply::new(
            403,
            format!(
                r#"{{"message":"Must have admin rights","echo":"{}"}}"#,
                seen.header("authorization").unwrap_or_default()
            ),
        )
    })
    .await;
    let gh = GitHub::builder(server.url("/api/v3"))
        .token(Secret::new(TOKEN))
        .http(builder())
        .build()
        .unwrap();
    assert!(!format!("{gh:?}").contains(TOKEN));

    let err = gh.get_json::<Value>("/repos/o/r").await.unwrap_err();
    assert_hidden(&err, TOKEN);

    let err = gh
        .octocrab_call(Method::GET, "/repos/o/r", |o| async move {
            o.get::<Value, _, ()>("/repos/o/r", None).await
        })
        .await
        .unwrap_err();
    assert_hidden(&err, TOKEN);
    assert!(err.to_string().contains("Must have admin rights"), "{err}");
}
