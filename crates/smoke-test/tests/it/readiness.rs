//! Readiness: waited for separately, retried only on 502/503/504, refused and reset connections.

use std::sync::atomic::Ordering;

use crate::servers::{self, AppState};
use crate::{dump, fake, run};

#[test]
fn waits_through_503s_then_tests() {
    let rt = servers::runtime();
    let app = servers::http(
        &rt,
        AppState {
            flaky_failures: 3,
            ..AppState::default()
        },
    );
    let out = run(&fake()
        .input("base-url", app.url("http"))
        .input("wait-url", "/flaky")
        .input("url", "/healthz"));
    assert_eq!(out.code, Some(0), "{}", dump(&out));
    assert_eq!(
        app.state.flaky_hits.load(Ordering::SeqCst),
        4,
        "3 × 503, then 200"
    );
    assert_eq!(out.stderr.matches("not ready: ").count(), 3, "{}", dump(&out));
    assert!(
        out.stderr.contains("(status 503); retrying in "),
        "{}",
        dump(&out)
    );
    assert_eq!(out.outputs["passed"], "2", "readiness + the check");
}

#[test]
fn gives_up_at_the_deadline_and_skips_the_checks() {
    let rt = servers::runtime();
    let app = servers::http(
        &rt,
        AppState {
            flaky_failures: usize::MAX,
            ..AppState::default()
        },
    );
    let f = fake()
        .input("base-url", app.url("http"))
        .input("wait-url", "/flaky")
        .input("wait-timeout", "10s")
        .input("url", "/healthz")
        .input("junit-report", "junit.xml");
    let out = run(&f);
    assert_eq!(out.code, Some(1), "{}", dump(&out));
    // delays 0.5–1s, 1–2s, 2–4s, 4–8s (jittered) fill a 10s budget after 4 to 6 attempts
    let hits = app.state.flaky_hits.load(Ordering::SeqCst);
    assert!((4..=6).contains(&hits), "{hits} attempts");
    assert!(
        out.outputs["reason"].contains("not ready within 10.0s"),
        "{:?}",
        out.outputs
    );
    assert_eq!(out.outputs["failed"], "1");
    assert_eq!(
        app.state.hits.load(Ordering::SeqCst),
        hits,
        "the checks never ran"
    );
    let xml = std::fs::read_to_string(f.workspace().join("junit.xml")).expect("junit");
    assert!(
        xml.contains("<skipped message=\"the service never became ready\""),
        "{xml}"
    );
}

#[test]
fn refused_connections_are_retried() {
    let port = servers::closed_port();
    let out = run(&fake()
        .input("wait-url", format!("http://127.0.0.1:{port}/"))
        .input("wait-timeout", "4s")
        .input("url", format!("http://127.0.0.1:{port}/")));
    assert_eq!(out.code, Some(1), "{}", dump(&out));
    assert!(
        out.stderr.contains("(connection refused); retrying in"),
        "{}",
        dump(&out)
    );
    assert!(
        out.outputs["reason"].contains("last: connection refused"),
        "{:?}",
        out.outputs
    );
}

#[test]
fn dropped_connections_are_retried() {
    let rt = servers::runtime();
    let (addr, seen) = servers::dropping(&rt);
    let out = run(&fake()
        .input("wait-url", format!("http://{addr}/"))
        .input("wait-timeout", "4s")
        .input("url", format!("http://{addr}/")));
    assert_eq!(out.code, Some(1), "{}", dump(&out));
    assert!(seen.load(Ordering::SeqCst) >= 2, "retried");
    assert!(
        out.outputs["reason"].contains("last: connection reset"),
        "{:?}",
        out.outputs
    );
}

#[test]
fn a_500_is_an_answer_not_a_reason_to_wait() {
    let rt = servers::runtime();
    let app = servers::http(&rt, AppState::default());
    let out = run(&fake()
        .input("base-url", app.url("http"))
        .input("wait-url", "/broken")
        .input("url", "/broken"));
    assert_eq!(out.code, Some(1), "{}", dump(&out));
    assert_eq!(
        app.state.hits.load(Ordering::SeqCst),
        2,
        "one readiness attempt, one check"
    );
    assert!(!out.stderr.contains("not ready"), "{}", dump(&out));
}
