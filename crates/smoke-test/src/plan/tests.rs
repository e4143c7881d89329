//! Plan building: every mistake names its line and field; secrets are collected for masking.

use super::*;

fn lookup(name: &str) -> Option<String> {
    match name {
        "API_TOKEN" => Some("tok-123456".to_owned()),
        "SMOKE_USER" => Some("smoke".to_owned()),
        "DEPLOY_SHA" => Some("0123456789abcdef".to_owned()),
        "PLAIN" => Some("plain-value".to_owned()),
        _ => None,
    }
}

fn build_file(text: &str) -> Result<Plan, ChecksError> {
    build(
        Some((Origin::File("smoke.yml".to_owned()), text)),
        &Settings::default(),
        &lookup,
    )
}

const GOOD: &str = r#"
base-url: https://app.example.test/
environment: staging
concurrency: 2
secrets: [PLAIN]
headers:
  x-plain: ${PLAIN}
wait:
  url: /healthz
  timeout: 30s
version:
  expect: ${DEPLOY_SHA}
  url: /version
  field: $.sha
  header: X-Version
checks:
  - name: login
    method: post
    url: /api/login
    json:
      user: ${SMOKE_USER}
      remember: true
    capture:
      token: {json: $.token}
      csrf: {header: x-csrf, secret: false}
  - name: me
    url: /api/me
    headers:
      Authorization: Bearer {{token}}
    expect:
      status: [200, 2xx]
      headers:
        content-type: {contains: json}
      json:
        - path: $.user.name
          equals: smoke
        - pointer: /items
          count: ">= 1"
          type: array
      body: smoke
      duration: < 1s
      tls:
        days-left: 14
        host: true
    latency:
      samples: 30
      thresholds: ["p95 < 300ms", "max < 1s"]
"#;

#[test]
fn a_full_file_resolves() {
    let plan = build_file(GOOD).unwrap();
    assert_eq!(plan.base_url.as_deref(), Some("https://app.example.test"));
    assert_eq!(plan.environment, "staging");
    assert_eq!(plan.concurrency, 2);
    let wait = plan.wait.as_ref().unwrap();
    assert_eq!(wait.url.as_str(), "https://app.example.test/healthz");
    assert_eq!(wait.deadline, Duration::from_secs(30));
    let version = plan.version.as_ref().unwrap();
    assert_eq!(version.expect, "0123456789abcdef");
    assert_eq!(version.header.as_ref().map(HeaderName::as_str), Some("x-version"));
    assert_eq!(plan.checks.len(), 2);
    let login = &plan.checks[0];
    assert_eq!(login.method, Method::POST);
    assert_eq!(login.line, Some(17));
    assert!(login.captures.iter().any(|c| c.name == "token" && c.secret));
    assert!(login.captures.iter().any(|c| c.name == "csrf" && !c.secret));
    assert!(
        login.headers.iter().any(|h| h.name == http::header::CONTENT_TYPE),
        "json bodies get a content type"
    );
    let me = &plan.checks[1];
    assert_eq!(me.depends_on, vec![0]);
    assert!(
        me.headers
            .iter()
            .any(|h| h.name.as_str() == "authorization" && h.sensitive)
    );
    assert!(
        me.headers.iter().any(|h| h.name.as_str() == "x-plain"),
        "file headers apply to every check"
    );
    // status, header, 3 json, body, duration, days-left, host, version header
    assert_eq!(me.asserts.len(), 10, "{:#?}", me.asserts);
    let latency = me.latency.as_ref().unwrap();
    assert_eq!(
        (latency.samples, latency.min_samples, latency.thresholds.len()),
        (30, 20, 2)
    );
    // PLAIN is listed as secret; SMOKE_USER is not; DEPLOY_SHA is not
    assert_eq!(plan.masks, vec!["plain-value".to_owned()]);
}

#[test]
fn secret_env_values_are_collected_for_masking() {
    let plan = build_file(
        "checks:\n  - name: a\n    url: https://h.test/?token=${API_TOKEN}\n  - name: b\n    url: https://h.test/\n    headers:\n      cookie: s=${PLAIN}\n",
    )
    .unwrap();
    assert_eq!(
        plan.masks,
        vec!["tok-123456".to_owned(), "plain-value".to_owned()]
    );
}

#[test]
fn default_status_is_2xx_at_the_check_line() {
    let plan = build_file("checks:\n  - name: a\n    url: https://h.test/\n").unwrap();
    let a = &plan.checks[0].asserts[0];
    assert!(matches!(&a.kind, AssertKind::Status(s) if s == &[StatusMatch::Class(2)]));
    assert_eq!(a.line, Some(2));
}

#[test]
fn mistakes_name_line_and_field() {
    let head = "base-url: https://h.test\nchecks:\n  - name: a\n    url: /\n";
    for (tail, line, field, needle) in [
        (
            "    expect:\n      status: ok\n",
            6,
            "checks[0].expect.status",
            "expected a status code",
        ),
        (
            "    expect:\n      status: [200, 999]\n",
            6,
            "checks[0].expect.status",
            "`999`",
        ),
        (
            "    method: \"GE T\"\n",
            5,
            "checks[0].method",
            "not an HTTP method",
        ),
        (
            "    timeout: soon\n",
            5,
            "checks[0].timeout",
            "expected a duration",
        ),
        (
            "    expect:\n      duration: fast\n",
            6,
            "checks[0].expect.duration",
            "expected a duration",
        ),
        (
            "    expect:\n      json:\n        - path: $.a[?(@.b)]\n          exists: true\n",
            7,
            "checks[0].expect.json[0].path",
            "filter",
        ),
        (
            "    expect:\n      json:\n        - path: a.b\n",
            7,
            "checks[0].expect.json[0].path",
            "starting with `$`",
        ),
        (
            "    expect:\n      json:\n        - equals: 1\n",
            7,
            "checks[0].expect.json[0]",
            "exactly one of `path`",
        ),
        (
            "    expect:\n      json:\n        - pointer: /a\n          type: text\n",
            8,
            "checks[0].expect.json[0].type",
            "unknown type `text`",
        ),
        (
            "    expect:\n      json:\n        - pointer: /a\n          matches: \"(\"\n",
            8,
            "checks[0].expect.json[0].matches",
            "invalid regex",
        ),
        (
            "    expect:\n      headers:\n        x-a: {like: b}\n",
            7,
            "checks[0].expect.headers.x-a",
            "unknown test `like`",
        ),
        (
            "    expect:\n      body: {matches: \"[\"}\n",
            6,
            "checks[0].expect.body",
            "invalid regex",
        ),
        (
            "    expect:\n      tls:\n        days-left: lots\n",
            7,
            "checks[0].expect.tls.days-left",
            "expected a number",
        ),
        (
            "    latency:\n      samples: 0\n",
            6,
            "checks[0].latency.samples",
            "expected 1 to",
        ),
        (
            "    latency:\n      samples: 5\n      thresholds: [\"p95 300ms\"]\n",
            7,
            "checks[0].latency.thresholds[0]",
            "threshold",
        ),
        (
            "    redirects: maybe\n",
            5,
            "checks[0].redirects",
            "expected `true`, `false`",
        ),
        ("    body: a\n    json: {a: 1}\n", 6, "checks[0].json", "not both"),
        (
            "    headers:\n      Authorization: Bearer ${NOPE}\n",
            6,
            "checks[0].headers.Authorization",
            "`NOPE` is not set",
        ),
        (
            "    capture:\n      t: {json: $.a, header: b}\n",
            6,
            "checks[0].capture.t",
            "give one of",
        ),
        (
            "  - name: b\n    url: /{{token}}\n",
            6,
            "checks[1].url",
            "`{{token}}` is not captured",
        ),
        (
            "  - name: a\n    url: /x\n",
            5,
            "checks[1].name",
            "duplicate check name `a` (first at line 3)",
        ),
        ("    expct: {}\n", 5, "checks[0].expct", "unknown field `expct`"),
        (
            "  - name: ' '\n    url: /x\n",
            5,
            "checks[1].name",
            "must not be empty",
        ),
    ] {
        let text = format!("{head}{tail}");
        let err = build_file(&text).unwrap_err();
        assert_eq!(err.origin, "checks file `smoke.yml`", "{text}");
        assert_eq!(err.line, Some(line), "{text}\n{err}");
        assert_eq!(err.field.as_deref(), Some(field), "{text}\n{err}");
        assert!(err.message.contains(needle), "{text}\n{err}");
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("checks file `smoke.yml` line {line}, field `{field}`: ")),
            "{shown}"
        );
    }
}

/// Regression: `name` was required on every check, though the README never listed it. A check without
/// one is named after its method and its URL as written (a `${VAR}` stays a name, its value unseen).
#[test]
fn a_check_without_a_name_is_named_after_its_request() {
    let plan = build_file(
        "base-url: https://h.test\nchecks:\n  - url: /search?q=a&t=${API_TOKEN}\n  - method: post\n    url: ' /login '\n  - name: named\n    url: /\n",
    )
    .unwrap();
    let names: Vec<&str> = plan.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["GET /search?q=a&t=${API_TOKEN}", "POST /login", "named"]);

    let err = build_file(
        "base-url: https://h.test\nchecks:\n  - url: /x\n  - name: other\n    url: /y\n  - url: /x\n",
    )
    .unwrap_err();
    assert_eq!(err.line, Some(6), "{err}");
    assert_eq!(err.field.as_deref(), Some("checks[2].name"), "{err}");
    assert!(
        err.message
            .contains("duplicate check name `GET /x` (first at line 3)"),
        "{err}"
    );
    assert!(
        err.hint
            .as_deref()
            .is_some_and(|h| h.contains("give one of them a `name`")),
        "{err:?}"
    );
}

#[test]
fn a_capture_must_come_from_an_earlier_check() {
    let text = "checks:\n  - name: me\n    url: https://h.test/{{token}}\n  - name: login\n    url: https://h.test/\n    capture:\n      token: {json: $.t}\n";
    let err = build_file(text).unwrap_err();
    assert_eq!(err.line, Some(3));
    assert!(
        err.hint.as_deref().unwrap_or_default().contains("capture:"),
        "{err:?}"
    );
}

#[test]
fn relative_urls_need_a_base() {
    let err = build_file("checks:\n  - name: a\n    url: /health\n").unwrap_err();
    assert_eq!((err.line, err.field.as_deref()), (Some(3), Some("checks[0].url")));
    assert!(err.hint.is_some());
}

#[test]
fn inputs_win_over_the_file() {
    let settings = Settings {
        base_url: Some("https://other.test".to_owned()),
        environment: Some("production".to_owned()),
        concurrency: Some(9),
        expect_version: Some("fedcba9876543210".to_owned()),
        ..Settings::default()
    };
    let plan = build(Some((Origin::Inline, GOOD)), &settings, &lookup).unwrap();
    assert_eq!(plan.base_url.as_deref(), Some("https://other.test"));
    assert_eq!(plan.environment, "production");
    assert_eq!(plan.concurrency, 9);
    assert_eq!(plan.version.unwrap().expect, "fedcba9876543210");
    assert_eq!(plan.origin, Some(Origin::Inline));
}

#[test]
fn quick_inputs_make_one_check() {
    let settings = Settings {
        base_url: Some("https://app.example.test".to_owned()),
        url: Some("/healthz".to_owned()),
        expect_status: Some("200,204".to_owned()),
        expect_body: Some("ok".to_owned()),
        ..Settings::default()
    };
    let plan = build(None, &settings, &lookup).unwrap();
    assert_eq!(plan.checks.len(), 1);
    let check = &plan.checks[0];
    assert_eq!(check.name, "https://app.example.test/healthz");
    assert_eq!(check.asserts.len(), 2);
    assert_eq!(check.line, None);
}

#[test]
fn input_mistakes_name_the_input() {
    for (settings, origin, needle) in [
        (
            Settings {
                url: Some("https://h.test".into()),
                expect_status: Some("fine".into()),
                ..Settings::default()
            },
            "input `expect-status`",
            "expected a status code",
        ),
        (
            Settings {
                url: Some("/x".into()),
                ..Settings::default()
            },
            "input `url`",
            "relative",
        ),
        (
            Settings {
                expect_body: Some("ok".into()),
                ..Settings::default()
            },
            "input `expect-body`",
            "needs `url`",
        ),
        (
            Settings {
                url: Some("https://h.test".into()),
                expect_version: Some("abc".into()),
                ..Settings::default()
            },
            "input `expect-version`",
            "needs `version-url` or `version-header`",
        ),
        (
            Settings {
                url: Some("https://h.test".into()),
                version_header: Some("x-version".into()),
                ..Settings::default()
            },
            "input `expect-version`",
            "is required",
        ),
        (
            Settings {
                base_url: Some("ftp://h.test".into()),
                ..Settings::default()
            },
            "input `base-url`",
            "not an `http://`",
        ),
        (
            Settings {
                url: Some("https://h.test".into()),
                concurrency: Some(0),
                ..Settings::default()
            },
            "input `concurrency`",
            "at least 1",
        ),
    ] {
        let err = build(None, &settings, &lookup).unwrap_err();
        assert_eq!(err.origin, origin, "{err}");
        assert!(err.message.contains(needle), "{err}");
    }
}

#[test]
fn resolve_url_table() {
    for (base, raw, expected) in [
        (None, "https://h.test/a", Ok("https://h.test/a")),
        (
            Some("https://h.test/app"),
            "/health",
            Ok("https://h.test/app/health"),
        ),
        (
            Some("https://h.test/app/"),
            "health?x=1",
            Ok("https://h.test/app/health?x=1"),
        ),
        (
            Some("https://h.test"),
            "http://other.test/",
            Ok("http://other.test/"),
        ),
        (None, "/health", Err("relative")),
        (None, "ftp://h.test/", Err("not an `http://`")),
        (None, "https://", Err("not a valid URL")),
    ] {
        match (resolve_url(base, raw), expected) {
            (Ok(url), Ok(e)) => assert_eq!(url.as_str(), e),
            (Err(m), Err(e)) => assert!(m.contains(e), "{raw}: {m}"),
            (got, e) => panic!("{raw}: {got:?} vs {e:?}"),
        }
    }
}

#[test]
fn secret_names_table() {
    for (name, secret) in [
        ("API_TOKEN", true),
        ("DB_PASSWORD", true),
        ("session_id", true),
        ("X-Api-Key", true),
        // missed before: do-deploy's heuristic had them, this one did not
        ("SMTP_PASS", true),
        ("SENTRY_DSN", true),
        ("DATABASE_URL", true),
        ("GITHUB_SHA", false),
        ("BASE_URL", false),
    ] {
        assert_eq!(looks_secret(name), secret, "{name}");
    }
    assert!(is_sensitive_header("authorization"));
    assert!(is_sensitive_header("cookie"));
    assert!(is_sensitive_header("x-auth-token"));
    assert!(!is_sensitive_header("accept"));
}
