//! Reports: JUnit that test reporters read, the step summary, outputs — and planted secrets in none of
//! them.

use ops_core::render::junit::quick_junit::{NonSuccessKind, Report, TestCaseStatus};

use crate::servers::{self, AppState, COOKIE, PASSWORD, TOKEN};
use crate::{dump, fake, run, write};

const CHECKS: &str = r#"environment: staging
checks:
  - name: login
    method: POST
    url: /login
    json: {user: smoke, password: "${SMOKE_PASSWORD}"}
    capture:
      token: {json: $.token}
      session: {header: set-cookie, regex: "session=([^;]+)"}
    expect:
      headers:
        set-cookie: {equals: "not the cookie"}
  - name: me
    url: /me
    headers:
      Authorization: Bearer {{token}}
      Cookie: session={{session}}
      X-Api-Key: ${SMOKE_API_KEY}
    expect:
      json:
        - path: $.user.name
          equals: smoke
  - name: token echo
    url: /echo-token
    headers:
      Authorization: Bearer {{token}}
    expect:
      body: "all good"
  - name: with the password in the URL
    url: /broken?password=${SMOKE_PASSWORD}
  - name: dropped
    url: http://DROP/
"#;

#[test]
fn planted_secrets_never_reach_any_artefact() {
    let rt = servers::runtime();
    let app = servers::http(&rt, AppState::default());
    let (drop_addr, _) = servers::dropping(&rt);
    let f = fake()
        .env("SMOKE_PASSWORD", PASSWORD)
        .env("SMOKE_API_KEY", "planted-api-key-31337")
        .input("base-url", app.url("http"))
        .input("checks", ".github/smoke.yml")
        .input("junit-report", "reports/smoke.xml");
    write(
        &f,
        ".github/smoke.yml",
        &CHECKS.replace("DROP", &drop_addr.to_string()),
    );
    let out = run(&f);
    assert_eq!(out.code, Some(1), "{}", dump(&out));
    let junit = std::fs::read_to_string(f.workspace().join("reports/smoke.xml")).expect("junit");

    // the masks themselves go to the runner (which hides them), so `::add-mask::` lines are expected
    let log: String = format!("{}\n{}", out.stdout, out.stderr)
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    let masked: Vec<&str> = out
        .commands_named("add-mask")
        .into_iter()
        .map(|c| c.message.as_str())
        .collect();
    for secret in [PASSWORD, TOKEN, COOKIE, "planted-api-key-31337"] {
        assert!(
            masked.contains(&secret),
            "`{secret}` was never masked: {masked:?}"
        );
        for (artefact, text) in [
            ("log", log.as_str()),
            ("summary", out.summary.as_str()),
            ("outputs", &format!("{:?}", out.outputs)),
            ("junit", junit.as_str()),
        ] {
            assert!(
                !text.contains(secret),
                "`{secret}` leaked into the {artefact}\n{text}"
            );
        }
    }
    // the failures that would have shown them still say what went wrong
    assert!(
        junit.contains("header `set-cookie` is `***; Path=/; HttpOnly`"),
        "{junit}"
    );
    assert!(junit.contains("&quot;token&quot;:&quot;***&quot;"), "{junit}");
    assert!(junit.contains("password=***"), "{junit}");
    assert_eq!(out.outputs["passed"], "1", "only `me` passes\n{}", dump(&out));
}

#[test]
fn junit_is_what_test_reporters_read() {
    let rt = servers::runtime();
    let app = servers::http(&rt, AppState::default());
    let (drop_addr, _) = servers::dropping(&rt);
    let f = fake()
        .input("base-url", app.url("http"))
        .input("environment", "production")
        .input("checks", "smoke.yml")
        .input("junit-report", "junit.xml");
    write(
        &f,
        "smoke.yml",
        &format!(
            "checks:\n  - name: health\n    url: /healthz\n  - name: broken\n    url: /broken\n    expect:\n      status: 200\n  - name: dropped\n    url: http://{drop_addr}/\n  - name: samples\n    url: /healthz\n    latency:\n      samples: 2\n"
        ),
    );
    let out = run(&f);
    assert_eq!(out.code, Some(1), "{}", dump(&out));
    let xml = std::fs::read_to_string(f.workspace().join("junit.xml")).expect("junit");
    let report = Report::deserialize_from_str(&xml).expect("quick-junit reads it back");
    assert_eq!(report.name.as_ref().map(|n| n.as_str()), Some("smoke-test"));
    assert!(report.time.is_some(), "testsuites@time");
    let suite = &report.test_suites[0];
    assert_eq!(suite.name.as_str(), "smoke-test (production)", "testsuite@name");
    assert!(suite.time.is_some(), "testsuite@time");
    assert_eq!((suite.tests, suite.failures, suite.errors), (4, 1, 1), "{xml}");
    assert!(
        suite
            .properties
            .iter()
            .any(|p| p.name.as_str() == "decision" && p.value.as_str() == "rollback")
    );
    for (case, line) in suite.test_cases.iter().zip([2, 4, 8, 10]) {
        assert_eq!(case.classname.as_ref().map(|c| c.as_str()), Some("production"));
        assert_eq!(
            case.extra.get("file").map(|v| v.as_str()),
            Some("smoke.yml"),
            "{xml}"
        );
        assert_eq!(
            case.extra.get("line").map(|v| v.as_str()),
            Some(line.to_string().as_str()),
            "{xml}"
        );
        assert!(case.time.is_some());
        assert!(case.properties.iter().any(|p| p.name.as_str() == "url"), "{xml}");
    }
    let kinds: Vec<Option<NonSuccessKind>> = suite
        .test_cases
        .iter()
        .map(|c| match &c.status {
            TestCaseStatus::NonSuccess { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            None,
            Some(NonSuccessKind::Failure),
            Some(NonSuccessKind::Error),
            None
        ]
    );
    assert!(
        xml.contains(r#"<failure message="status 500, expected 200" type="status">"#),
        "{xml}"
    );
    assert!(
        suite.test_cases[3]
            .properties
            .iter()
            .any(|p| p.name.as_str() == "p95-ms"),
        "{xml}"
    );

    // the summary: verdict, counts, one row per case with problems first
    assert!(
        out.summary.contains("## smoke-test · production · ❌ rollback"),
        "{}",
        out.summary
    );
    assert!(
        out.summary
            .contains("**2** passed · **2** failed · **0** skipped"),
        "{}",
        out.summary
    );
    let rows: Vec<&str> = out.summary.lines().filter(|l| l.starts_with("| ")).collect();
    assert!(
        rows[1].contains("dropped") && rows[2].contains("broken"),
        "{rows:#?}"
    );
}

#[test]
fn outside_actions_the_output_is_readable() {
    let rt = servers::runtime();
    let app = servers::http(&rt, AppState::default());
    let out = run(&fake()
        .without("GITHUB_ACTIONS")
        .without("GITHUB_OUTPUT")
        .without("GITHUB_STEP_SUMMARY")
        .input("url", format!("{}/healthz", app.url("http"))));
    assert_eq!(out.code, Some(0), "{}", dump(&out));
    assert!(out.stderr.contains("PASSED "), "{}", dump(&out));
    assert!(out.stderr.contains("decision: promote"), "{}", dump(&out));
    assert!(
        !out.stderr.contains("::"),
        "no workflow commands on a terminal\n{}",
        dump(&out)
    );
}
