//! TLS asserts against HTTPS servers with generated certificates of known expiry.

use crate::servers::{self, AppState, Pki};
use crate::{dump, fake, run, write};

#[test]
fn days_left_and_host_on_a_known_certificate() {
    let now = servers::now_secs();
    let pki = Pki::new(&["localhost", "127.0.0.1"], now, 10);
    let rt = servers::runtime();
    let app = servers::https(&rt, AppState::default(), &pki);
    let f = fake()
        .env("SOURCE_DATE_EPOCH", now.to_string())
        .input("base-url", app.url("https"))
        .input("ca-cert", "ca.pem")
        .input("checks", "smoke.yml");
    write(&f, "ca.pem", &pki.ca_pem);
    write(
        &f,
        "smoke.yml",
        "checks:\n  - name: cert ok\n    url: /healthz\n    expect:\n      tls: {days-left: 7, host: true}\n  - name: cert renewing\n    url: /healthz\n    expect:\n      tls:\n        days-left: \">= 30\"\n",
    );
    let out = run(&f);
    assert_eq!(out.code, Some(1), "{}", dump(&out));
    assert_eq!(
        (out.outputs["passed"].as_str(), out.outputs["failed"].as_str()),
        ("1", "1")
    );
    assert!(
        out.outputs["reason"].contains("the certificate expires in 10 days, expected >= 30"),
        "{:?}",
        out.outputs
    );
    let annotation = out
        .commands_named("error")
        .into_iter()
        .find(|c| c.message.contains("expires in 10 days"))
        .unwrap_or_else(|| panic!("{}", dump(&out)));
    assert_eq!(annotation.properties.get("line").map(String::as_str), Some("10"));
}

#[test]
fn a_certificate_for_another_host() {
    let now = servers::now_secs();
    let pki = Pki::new(&["other.example.test"], now, 90);
    let rt = servers::runtime();
    let app = servers::https(&rt, AppState::default(), &pki);

    // verification on: the handshake fails, which is an error (no response), not a failed assert
    let f = fake()
        .input("url", format!("{}/healthz", app.url("https")))
        .input("ca-cert", "ca.pem")
        .input("junit-report", "junit.xml");
    write(&f, "ca.pem", &pki.ca_pem);
    let out = run(&f);
    assert_eq!(out.code, Some(1), "{}", dump(&out));
    let xml = std::fs::read_to_string(f.workspace().join("junit.xml")).expect("junit");
    assert!(xml.contains(r#"<error message="tls error"#), "{xml}");

    // verification off: the SAN assert still catches it
    let f = fake()
        .env("SOURCE_DATE_EPOCH", now.to_string())
        .input("base-url", app.url("https"))
        .input("checks", "checks:\n  - name: host\n    url: /healthz\n    insecure: true\n    expect:\n      tls: {host: true, days-left: 80}\n");
    let out = run(&f);
    assert_eq!(out.code, Some(1), "{}", dump(&out));
    assert!(
        out.outputs["reason"]
            .contains("the certificate does not cover `127.0.0.1` (SANs: other.example.test)"),
        "{:?}",
        out.outputs
    );
    assert_eq!(
        out.outputs["failed"], "1",
        "days-left 90 ≥ 80 holds; only the host fails"
    );
}

#[test]
fn tls_asserts_on_plain_http_fail_clearly() {
    let rt = servers::runtime();
    let app = servers::http(&rt, AppState::default());
    let out = run(&fake().input("base-url", app.url("http")).input(
        "checks",
        "checks:\n  - name: plain\n    url: /healthz\n    expect:\n      tls: {days-left: 1}\n",
    ));
    assert_eq!(out.code, Some(1), "{}", dump(&out));
    assert!(
        out.outputs["reason"].contains("is not HTTPS"),
        "{:?}",
        out.outputs
    );
}
