//! Checks: quick inputs, the checks file (captures, asserts, redirects), slow and dropping servers,
//! latency, concurrency, versions, and bad input.

use std::sync::atomic::Ordering;

use crate::servers::{self, AppState, PASSWORD};
use crate::{dump, fake, run, write};

#[test]
fn quick_url_check_promotes() {
    let rt = servers::runtime();
    let app = servers::http(&rt, AppState::default());
    let out = run(&fake()
        .input("url", format!("{}/healthz", app.url("http")))
        .input("expect-status", "200")
        .input("expect-body", "ok"));
    assert_eq!(out.code, Some(0), "{}", dump(&out));
    assert_eq!(out.outputs["decision"], "promote");
    assert_eq!(out.outputs["passed"], "1");
    assert_eq!(out.outputs["failed"], "0");
    assert!(out.outputs["p95-ms"].parse::<u64>().is_ok(), "{:?}", out.outputs);
    assert!(
        out.outputs["reason"].starts_with("all 1 check passed"),
        "{:?}",
        out.outputs
    );
    assert!(out.summary.contains("✅ promote"), "{}", out.summary);
}

#[test]
fn quick_url_check_rolls_back_on_a_wrong_status() {
    let rt = servers::runtime();
    let app = servers::http(&rt, AppState::default());
    let out = run(&fake().input("base-url", app.url("http")).input("url", "/broken"));
    assert_eq!(out.code, Some(1), "{}", dump(&out));
    assert_eq!(out.outputs["decision"], "rollback");
    assert_eq!(out.outputs["failed"], "1");
    assert!(
        out.outputs["reason"].contains("status 500, expected 200"),
        "{:?}",
        out.outputs
    );
}

#[test]
fn login_capture_chain_and_asserts_pass() {
    let rt = servers::runtime();
    let app = servers::http(&rt, AppState::default());
    let f = fake()
        .env("SMOKE_PASSWORD", PASSWORD)
        .input("base-url", app.url("http"))
        .input("checks", "smoke.yml");
    write(
        &f,
        "smoke.yml",
        r#"checks:
  - name: login
    method: POST
    url: /login
    json: {user: smoke, password: "${SMOKE_PASSWORD}"}
    capture:
      token: {json: $.token}
      session: {header: set-cookie, regex: "session=([^;]+)"}
  - name: me
    url: /me
    headers:
      Authorization: Bearer {{token}}
      Cookie: session={{session}}
    expect:
      status: 200
      headers:
        content-type: {contains: application/json}
      json:
        - path: $.user.name
          equals: smoke
        - pointer: /user/id
          type: integer
        - path: $.items
          count: 3
        - path: $.items[*]
          count: ">= 3"
        - path: $.user.email
          exists: false
        - path: $.user.name
          matches: "^sm"
      body: {contains: smoke, matches: "\"id\":7"}
      duration: < 30s
  - name: follows redirects
    url: /redirect
    expect: {status: 200, body: ok}
  - name: sees the redirect
    url: /redirect
    redirects: false
    expect:
      status: 302
      headers:
        location: /healthz
"#,
    );
    let out = run(&f);
    assert_eq!(out.code, Some(0), "{}", dump(&out));
    assert_eq!(out.outputs["passed"], "4");
}

#[test]
fn a_failed_capture_skips_the_checks_that_need_it() {
    let rt = servers::runtime();
    let app = servers::http(&rt, AppState::default());
    let f = fake()
        .env("SMOKE_PASSWORD", "wrong-password")
        .input("base-url", app.url("http"))
        .input("junit-report", "junit.xml")
        .input(
            "checks",
            "checks:\n  - name: login\n    method: POST\n    url: /login\n    json: {password: \"${SMOKE_PASSWORD}\"}\n    capture:\n      token: {json: $.token}\n  - name: me\n    url: /me\n    json: {token: \"{{token}}\"}\n  - name: health\n    url: /healthz\n",
        );
    let out = run(&f);
    assert_eq!(out.code, Some(1), "{}", dump(&out));
    assert_eq!(
        (out.outputs["passed"].as_str(), out.outputs["failed"].as_str()),
        ("1", "1"),
        "{}",
        dump(&out)
    );
    assert!(
        out.outputs["reason"].starts_with("1 of 3 failed, 1 skipped: `login`: status 401"),
        "{:?}",
        out.outputs
    );
    assert!(out.stderr.contains("SKIPPED me"), "{}", dump(&out));
    let xml = std::fs::read_to_string(f.workspace().join("junit.xml")).expect("junit");
    assert!(
        xml.contains("<skipped message=\"needs `{{token}}`, which an earlier check did not capture\""),
        "{xml}"
    );
}

#[test]
fn failed_asserts_name_their_lines_and_roll_back() {
    let rt = servers::runtime();
    let app = servers::http(&rt, AppState::default());
    let f = fake()
        .input("base-url", app.url("http"))
        .input("checks", "smoke.yml");
    write(
        &f,
        "smoke.yml",
        "checks:\n  - name: health\n    url: /healthz\n  - name: version json\n    url: /version\n    expect:\n      json:\n        - path: $.name\n          equals: other\n",
    );
    let out = run(&f);
    assert_eq!(out.code, Some(1), "{}", dump(&out));
    assert_eq!(
        (out.outputs["passed"].as_str(), out.outputs["failed"].as_str()),
        ("1", "1")
    );
    let errors = out.commands_named("error");
    let annotation = errors
        .iter()
        .find(|c| c.message.contains("`$.name` is `\"app\"`, expected `\"other\"`"))
        .unwrap_or_else(|| panic!("no annotation on the failed line\n{}", dump(&out)));
    assert_eq!(
        annotation.properties.get("file").map(String::as_str),
        Some("smoke.yml")
    );
    assert_eq!(annotation.properties.get("line").map(String::as_str), Some("9"));
    assert_eq!(
        annotation.properties.get("title").map(String::as_str),
        Some("smoke-test: version json")
    );
}

#[test]
fn a_slow_server_fails_duration_asserts_and_times_out() {
    let rt = servers::runtime();
    let app = servers::http(&rt, AppState::default());
    let f = fake()
        .input("base-url", app.url("http"))
        .input("checks", "smoke.yml")
        .input("junit-report", "junit.xml");
    write(
        &f,
        "smoke.yml",
        "checks:\n  - name: budget\n    url: /slow\n    expect:\n      duration: < 10ms\n  - name: patience\n    url: /slow\n    timeout: 15ms\n",
    );
    let out = run(&f);
    assert_eq!(out.code, Some(1), "{}", dump(&out));
    assert!(out.stderr.contains("expected < 10ms"), "{}", dump(&out));
    let xml = std::fs::read_to_string(f.workspace().join("junit.xml")).expect("junit");
    let report = ops_core::render::junit::quick_junit::Report::deserialize_from_str(&xml).expect("parse");
    let suite = &report.test_suites[0];
    assert_eq!((suite.failures, suite.errors), (1, 1), "{xml}");
    assert!(xml.contains(r#"type="duration""#), "{xml}");
    assert!(xml.contains(r#"<error message="timed out"#), "{xml}");
}

#[test]
fn dropped_connections_are_errors_not_failures() {
    let rt = servers::runtime();
    let (addr, seen) = servers::dropping(&rt);
    let f = fake()
        .input("url", format!("http://{addr}/"))
        .input("junit-report", "junit.xml");
    let out = run(&f);
    assert_eq!(out.code, Some(1), "{}", dump(&out));
    assert!(seen.load(Ordering::SeqCst) >= 1);
    let xml = std::fs::read_to_string(f.workspace().join("junit.xml")).expect("junit");
    assert!(xml.contains(r#"<error message="connection reset"#), "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
    assert!(
        out.outputs["reason"].contains("connection reset"),
        "{:?}",
        out.outputs
    );
}

#[test]
fn latency_thresholds_gate_only_with_enough_samples() {
    let rt = servers::runtime();
    let app = servers::http(&rt, AppState::default());
    let checks = "checks:\n  - name: slow p95\n    url: /slow\n    latency:\n      samples: 3\n      thresholds: [\"p95 < 1ms\"]\n";

    let few = fake().input("base-url", app.url("http")).input("checks", checks);
    let out = run(&few);
    assert_eq!(
        out.code,
        Some(0),
        "3 samples < min-samples 20 must not gate\n{}",
        dump(&out)
    );
    assert!(
        out.stderr.contains("not gating: 3 samples < min-samples 20"),
        "{}",
        dump(&out)
    );
    assert!(out.summary.contains("⚠️ not gating"), "{}", out.summary);

    let enough = fake()
        .input("base-url", app.url("http"))
        .input("checks", checks)
        .input("min-samples", "3");
    let out = run(&enough);
    assert_eq!(out.code, Some(1), "{}", dump(&out));
    assert!(out.outputs["reason"].contains("p95 is "), "{:?}", out.outputs);
    let ms: u64 = out.outputs["p95-ms"].parse().expect("p95-ms");
    assert!(ms >= servers::SLOW.as_millis() as u64, "{ms}");
    assert!(out.summary.contains("### Latency"), "{}", out.summary);
}

#[test]
fn concurrency_is_bounded() {
    let rt = servers::runtime();
    for (limit, checks) in [(1usize, 3usize), (2, 6)] {
        let app = servers::http(&rt, AppState::default());
        let mut text = String::from("checks:\n");
        for i in 0..checks {
            text.push_str(&format!("  - name: slow {i}\n    url: /slow\n"));
        }
        let out = run(&fake()
            .input("base-url", app.url("http"))
            .input("concurrency", limit.to_string())
            .input("checks", text));
        assert_eq!(out.code, Some(0), "{}", dump(&out));
        let max = app.state.max_in_flight.load(Ordering::SeqCst);
        assert!((1..=limit).contains(&max), "limit {limit}, saw {max} in flight");
    }
}

#[test]
fn an_old_version_still_answering_is_rolled_back() {
    let rt = servers::runtime();
    let old = servers::http(
        &rt,
        AppState {
            version: "0ld0ld0ld0ld".to_owned(),
            ..AppState::default()
        },
    );
    let out = run(&fake()
        .input("base-url", old.url("http"))
        .input("url", "/healthz")
        .input("expect-version", "abcdef1234567890abcdef")
        .input("version-url", "/version")
        .input("version-field", "$.sha"));
    assert_eq!(out.code, Some(1), "{}", dump(&out));
    assert!(
        out.outputs["reason"].contains("serving version `0ld0ld0ld0ld`, expected `abcdef1234567890abcdef`"),
        "{:?}",
        out.outputs
    );

    // the same old instance, caught by the header on every response
    let out = run(&fake()
        .input("base-url", old.url("http"))
        .input("url", "/healthz")
        .input("expect-version", "abcdef1234567890abcdef")
        .input("version-header", "x-version"));
    assert_eq!(out.code, Some(1), "{}", dump(&out));
    assert!(
        out.outputs["reason"].contains("(header `x-version`)"),
        "{:?}",
        out.outputs
    );
}

#[test]
fn the_new_version_promotes_with_a_short_sha() {
    let rt = servers::runtime();
    let new = servers::http(
        &rt,
        AppState {
            version: "abcdef1".to_owned(),
            ..AppState::default()
        },
    );
    let f = fake()
        .env("DEPLOY_SHA", "abcdef1234567890abcdef1234567890abcdef12")
        .input("base-url", new.url("http"))
        .input("checks", "smoke.yml");
    write(
        &f,
        "smoke.yml",
        "version:\n  expect: ${DEPLOY_SHA}\n  url: /version\n  field: /sha\n  header: x-version\nchecks:\n  - name: health\n    url: /healthz\n",
    );
    let out = run(&f);
    assert_eq!(out.code, Some(0), "{}", dump(&out));
    assert_eq!(out.outputs["passed"], "2", "version + health");
    assert!(out.summary.contains("version `abcdef1`"), "{}", out.summary);
}

#[test]
fn an_invalid_checks_file_exits_2_naming_file_line_and_field() {
    for (text, expected) in [
        (
            "checks:\n  - name: a\n    url: /x\n    expct:\n      status: 200\n",
            "checks file `smoke.yml` line 4, field `checks[0].expct`: unknown field `expct`",
        ),
        (
            "checks:\n  - name: a\n    url: https://h.test/\n    expect:\n      status: sometimes\n",
            "checks file `smoke.yml` line 5, field `checks[0].expect.status`: expected a status code",
        ),
        (
            "checks:\n  - name: a\n    url: https://h.test/\n    headers:\n      Authorization: Bearer ${NOT_SET_ANYWHERE}\n",
            "checks file `smoke.yml` line 5, field `checks[0].headers.Authorization`: environment variable `NOT_SET_ANYWHERE` is not set",
        ),
    ] {
        let f = fake()
            .input("checks", "smoke.yml")
            .input("junit-report", "junit.xml");
        write(&f, "smoke.yml", text);
        let out = run(&f);
        assert_eq!(out.code, Some(2), "{}", dump(&out));
        let errors = out.commands_named("error");
        assert!(
            errors.iter().any(|c| c.message.contains(expected)),
            "expected `{expected}`\n{}",
            dump(&out)
        );
        assert!(out.outputs.is_empty(), "nothing half-done: {:?}", out.outputs);
        assert!(out.summary.is_empty(), "nothing half-done: {}", out.summary);
        assert!(!f.workspace().join("junit.xml").exists(), "nothing half-done");
    }
}

#[test]
fn bad_inputs_exit_2() {
    for (f, needle) in [
        (fake(), "nothing to check"),
        (
            fake().input("checks", "missing.yml"),
            "cannot read checks file `missing.yml`",
        ),
        (
            fake()
                .input("url", "https://h.test/")
                .input("expect-status", "fine"),
            "input `expect-status`",
        ),
        (
            fake()
                .input("url", "https://h.test/")
                .input("wait-timeout", "soon"),
            "soon",
        ),
        (
            fake()
                .input("url", "https://h.test/")
                .env("OPS_RETRY_DELAY_SCALE", "-1"),
            "OPS_RETRY_DELAY_SCALE",
        ),
    ] {
        let out = run(&f);
        assert_eq!(out.code, Some(2), "{}", dump(&out));
        assert!(out.stderr.contains(needle), "{needle}\n{}", dump(&out));
    }
}

#[test]
fn hurl_files_without_a_hurl_binary_exit_3_before_any_request() {
    let rt = servers::runtime();
    let app = servers::http(&rt, AppState::default());
    let empty = tempfile::tempdir().expect("tempdir");
    let f = fake()
        .env("PATH", empty.path().display().to_string())
        .input("url", format!("{}/healthz", app.url("http")))
        .input("hurl", "smoke/*.hurl");
    write(&f, "smoke/health.hurl", "GET {{base_url}}/healthz\nHTTP 200\n");
    let out = run(&f);
    assert_eq!(out.code, Some(3), "{}", dump(&out));
    assert!(
        out.stderr.contains("no `hurl` binary is on PATH"),
        "{}",
        dump(&out)
    );
    assert!(out.stderr.contains("cargo install hurl@8.0.1"), "{}", dump(&out));
    assert_eq!(
        app.state.hits.load(Ordering::SeqCst),
        0,
        "no request before the check"
    );
}

/// The method, headers and body of each request a server saw.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, axum::http::HeaderMap, String)>>>;

/// A server that records the method, the headers and the body of every request to `/landing`, and
/// redirects: `/away/<status>` to `other`'s `/landing`, `/here/<status>` to its own.
fn redirecting_server(rt: &tokio::runtime::Runtime, other: Option<String>) -> (String, Seen) {
    use axum::extract::Path;
    use axum::http::{HeaderMap, Method, StatusCode, header};
    use axum::routing::any;
    let seen: Seen = Seen::default();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let away = other.unwrap_or_else(|| base.clone());
    let record = seen.clone();
    let router = axum::Router::new()
        .route(
            "/landing",
            any(move |method: Method, headers: HeaderMap, body: String| {
                let record = record.clone();
                async move {
                    record
                        .lock()
                        .expect("record")
                        .push((method.to_string(), headers, body));
                    "landed"
                }
            }),
        )
        .route(
            "/away/{status}",
            any(move |Path(status): Path<u16>| {
                let to = format!("{away}/landing");
                async move {
                    (
                        StatusCode::from_u16(status).expect("a status"),
                        [(header::LOCATION, to)],
                    )
                }
            }),
        )
        .route(
            "/here/{status}",
            any(|Path(status): Path<u16>| async move {
                (
                    StatusCode::from_u16(status).expect("a status"),
                    [(header::LOCATION, "/landing")],
                )
            }),
        );
    rt.spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (base, seen)
}

/// On a redirect to another host only `Authorization` and `Cookie` were dropped: a secret custom
/// header (`X-Api-Key`, which smoke-test itself treats as secret) went to the other host.
#[test]
fn a_redirect_to_another_host_drops_every_secret_header() {
    let rt = servers::runtime();
    let (elsewhere, landed_elsewhere) = redirecting_server(&rt, None);
    let (origin, landed_here) = redirecting_server(&rt, Some(elsewhere));
    let f = fake()
        .env("ANALYTICS_TOKEN", "planted-analytics-3301")
        .input("base-url", &origin)
        .input(
            "checks",
            r#"
checks:
  - name: away
    url: /away/302
    headers:
      X-Api-Key: planted-api-key-9931
      Authorization: Bearer planted-bearer-5512
      X-Tracking: "${ANALYTICS_TOKEN}"
      X-Request-Source: smoke
    expect: {status: 200, body: landed}
  - name: away with a body
    method: POST
    url: /away/307
    headers:
      X-Api-Key: planted-api-key-9931
    json: {kept: true}
    expect: {status: 200}
  - name: see other
    method: POST
    url: /away/303
    json: {dropped: true}
    expect: {status: 200}
  - name: here
    url: /here/301
    headers:
      X-Api-Key: planted-api-key-9931
    expect: {status: 200}
"#,
        );
    let out = run(&f);
    assert_eq!(out.code, Some(0), "{}", dump(&out));

    let elsewhere = landed_elsewhere.lock().unwrap().clone();
    assert_eq!(elsewhere.len(), 3, "{elsewhere:?}");
    for (method, headers, _) in &elsewhere {
        for name in ["x-api-key", "authorization", "x-tracking", "cookie"] {
            assert!(
                headers.get(name).is_none(),
                "`{name}` followed a {method} to another host: {headers:?}"
            );
        }
    }
    let get = elsewhere
        .iter()
        .find(|(_, h, _)| h.get("x-request-source").is_some());
    assert!(
        get.is_some(),
        "headers that are not secret still go along: {elsewhere:?}"
    );
    // a 307 keeps the method and the body; a 303 turns a POST into a GET without one
    assert!(
        elsewhere
            .iter()
            .any(|(m, _, body)| m == "POST" && body.contains("\"kept\":true")),
        "{elsewhere:?}"
    );
    assert!(
        elsewhere.iter().any(|(m, _, body)| m == "GET" && body.is_empty()),
        "{elsewhere:?}"
    );
    // on the same origin the check's headers stay
    let here = landed_here.lock().unwrap().clone();
    assert_eq!(here.len(), 1, "{here:?}");
    assert_eq!(
        here[0].1.get("x-api-key").and_then(|v| v.to_str().ok()),
        Some("planted-api-key-9931")
    );
}
