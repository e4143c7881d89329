//! The checks file as YAML: the serde model, read with serde-saphyr so that every problem names the
//! file, the line and the field.
//!
//! Fields whose shape varies (`status: 200` / `[200, 204]` / `2xx`, a header as a string or a map) are
//! read as spanned JSON values and interpreted in [`crate::plan`], which gives better messages than
//! serde's "did not match any variant".

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileSpec {
    /// Base URL that relative check URLs resolve against (the `base-url` input wins).
    pub base_url: Option<Spanned<String>>,
    /// Environment name (the `environment` input wins).
    pub environment: Option<Spanned<String>>,
    /// Checks run at once.
    pub concurrency: Option<Spanned<usize>>,
    /// Default per-request timeout.
    pub timeout: Option<Spanned<String>>,
    /// Latency thresholds gate only with at least this many samples.
    pub min_samples: Option<Spanned<usize>>,
    /// Environment variables whose values are secret (names that look secret are masked anyway).
    #[serde(default)]
    pub secrets: Vec<Spanned<String>>,
    /// Headers sent with every check.
    #[serde(default)]
    pub headers: BTreeMap<String, Spanned<String>>,
    /// Readiness wait.
    pub wait: Option<Spanned<WaitSpec>>,
    /// Identity check.
    pub version: Option<Spanned<VersionSpec>>,
    /// The checks.
    #[serde(default)]
    pub checks: Vec<Spanned<CheckSpec>>,
}

/// `wait:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct WaitSpec {
    /// URL or path to poll.
    pub url: Spanned<String>,
    /// Overall deadline.
    pub timeout: Option<Spanned<String>>,
    /// Timeout of one attempt.
    pub attempt_timeout: Option<Spanned<String>>,
    /// First delay between attempts.
    pub initial_delay: Option<Spanned<String>>,
    /// Largest delay between attempts.
    pub max_delay: Option<Spanned<String>>,
}

/// `version:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct VersionSpec {
    /// The version that must be served (the `expect-version` input wins).
    pub expect: Option<Spanned<String>>,
    /// URL or path that reports the version.
    pub url: Option<Spanned<String>>,
    /// JSONPath or JSON Pointer into the version URL's body.
    pub field: Option<Spanned<String>>,
    /// Header that carries the version on every response.
    pub header: Option<Spanned<String>>,
}

/// One check.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CheckSpec {
    /// Name, unique in the file (default: the method and the URL as written, `GET /healthz`).
    pub name: Option<Spanned<String>>,
    /// HTTP method (GET).
    pub method: Option<Spanned<String>>,
    /// URL or path relative to the base URL.
    pub url: Spanned<String>,
    /// Request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, Spanned<String>>,
    /// Request body as text.
    pub body: Option<Spanned<String>>,
    /// Request body as JSON (sets `content-type: application/json` unless a header says otherwise).
    pub json: Option<Spanned<Value>>,
    /// `true` (follow up to 10), `false`, or the most redirects to follow.
    pub redirects: Option<Spanned<Value>>,
    /// Per-request timeout.
    pub timeout: Option<Spanned<String>>,
    /// Skip TLS certificate verification (the `tls` asserts still run).
    #[serde(default)]
    pub insecure: bool,
    /// Assertions.
    pub expect: Option<Spanned<ExpectSpec>>,
    /// Values to capture for later checks.
    #[serde(default)]
    pub capture: BTreeMap<String, Spanned<CaptureSpec>>,
    /// Latency sampling.
    pub latency: Option<Spanned<LatencySpec>>,
}

/// `expect:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ExpectSpec {
    /// `200`, `[200, 204]`, `2xx`.
    pub status: Option<Spanned<Value>>,
    /// Header name → a string (equals) or `{equals, contains, matches, exists}`.
    #[serde(default)]
    pub headers: BTreeMap<String, Spanned<Value>>,
    /// JSON asserts.
    #[serde(default)]
    pub json: Vec<Spanned<JsonSpec>>,
    /// A string (contains) or `{equals, contains, matches}`.
    pub body: Option<Spanned<Value>>,
    /// `< 500ms`.
    pub duration: Option<Spanned<String>>,
    /// TLS certificate asserts.
    pub tls: Option<Spanned<TlsSpec>>,
}

/// One JSON assert.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct JsonSpec {
    /// JSONPath (`$.a.b`).
    pub path: Option<Spanned<String>>,
    /// JSON Pointer (`/a/b`).
    pub pointer: Option<Spanned<String>>,
    /// The value must equal this.
    pub equals: Option<Spanned<Value>>,
    /// The value (as text) must match this regex.
    pub matches: Option<Spanned<String>>,
    /// The query must (or must not) select something.
    pub exists: Option<Spanned<bool>>,
    /// The value's JSON type.
    #[serde(rename = "type")]
    pub type_: Option<Spanned<String>>,
    /// Array length (definite query) or number of matches (wildcard query): `3` or `>= 1`.
    pub count: Option<Spanned<Value>>,
}

/// `tls:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TlsSpec {
    /// Days left on the certificate: `14` (at least) or `>= 14`.
    pub days_left: Option<Spanned<Value>>,
    /// The certificate's SANs must cover the host.
    pub host: Option<Spanned<bool>>,
}

/// One capture.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CaptureSpec {
    /// JSONPath or JSON Pointer into the body.
    pub json: Option<Spanned<String>>,
    /// A response header.
    pub header: Option<Spanned<String>>,
    /// A regex on the header (with `header`) or on the body; the first group is captured.
    pub regex: Option<Spanned<String>>,
    /// Mask the value everywhere (default: true when the name or the header looks secret).
    pub secret: Option<bool>,
}

/// `latency:`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LatencySpec {
    /// Requests to time (the check's own request included).
    pub samples: Spanned<usize>,
    /// `p95 < 300ms`, `max < 1s`, `p50 <= 100ms`.
    #[serde(default)]
    pub thresholds: Vec<Spanned<String>>,
    /// Overrides the file's and the input's `min-samples` for this check.
    pub min_samples: Option<Spanned<usize>>,
}

/// Where a serde error happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseProblem {
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// The field path, like `checks[1].expect.status`, when known.
    pub field: Option<String>,
    /// What was wrong.
    pub message: String,
}

/// Parses the file, naming the line and field of the first problem.
pub fn parse(text: &str) -> Result<FileSpec, ParseProblem> {
    let mut path = None;
    let result = serde_saphyr::with_deserializer_from_str(text, |de| {
        serde_path_to_error::deserialize::<_, FileSpec>(de).map_err(|err| {
            path = Some(err.path().to_string());
            err.into_inner()
        })
    });
    result.map_err(|err| {
        let line = err
            .location()
            .and_then(|l| u32::try_from(l.line()).ok())
            .filter(|&l| l > 0);
        let field = path.map(|p| clean_path(&p)).filter(|p| !p.is_empty() && p != ".");
        ParseProblem {
            line,
            field,
            message: message_of(&err),
        }
    })
}

/// The error message without the location and snippet serde-saphyr adds (we print our own).
fn message_of(err: &serde_saphyr::Error) -> String {
    let text = err.without_snippet().to_string();
    let first = text.lines().next().unwrap_or_default().trim();
    // "… at line 3, column 5" is repeated in our own prefix
    let first = match first.rfind(" at line ") {
        Some(at) => &first[..at],
        None => first,
    };
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let first = first.trim_end_matches('.');
    // serde-saphyr says `invalid u64` for `samples: many`; say what was expected instead
    match first.strip_prefix("invalid ") {
        Some("u8" | "u16" | "u32" | "u64" | "usize") => "expected a whole number".to_owned(),
        Some("i8" | "i16" | "i32" | "i64" | "isize") => "expected an integer".to_owned(),
        Some("bool") => "expected `true` or `false`".to_owned(),
        _ => first.to_owned(),
    }
}

/// serde_path_to_error shows `Spanned` wrappers as `.value`; users never wrote those.
fn clean_path(path: &str) -> String {
    path.split('.')
        .filter(|segment| *segment != "value" && !segment.starts_with("__serde_saphyr"))
        .collect::<Vec<_>>()
        .join(".")
        .replace(".[", "[")
}

/// The 1-based line of a spanned value, when known.
pub fn line_of<T>(spanned: &Spanned<T>) -> Option<u32> {
    u32::try_from(spanned.referenced.line()).ok().filter(|&l| l > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_file_keeps_lines() {
        let text = "\
base-url: https://example.test
checks:
  - name: home
    url: /
    expect:
      status: 200
  - name: api
    url: /api
    expect:
      json:
        - path: $.ok
          equals: true
";
        let spec = parse(text).unwrap();
        assert_eq!(spec.checks.len(), 2);
        assert_eq!(line_of(&spec.checks[0]), Some(3));
        assert_eq!(line_of(&spec.checks[1]), Some(7));
        let expect = spec.checks[1].value.expect.as_ref().unwrap();
        assert_eq!(line_of(&expect.value.json[0]), Some(11));
        assert_eq!(
            line_of(
                spec.checks[0]
                    .value
                    .expect
                    .as_ref()
                    .unwrap()
                    .value
                    .status
                    .as_ref()
                    .unwrap()
            ),
            Some(6)
        );
    }

    #[test]
    fn problems_name_line_and_field() {
        for (text, line, field, needle) in [
            (
                "checks:\n  - name: a\n    url: /\n    expct:\n      status: 200\n",
                Some(4),
                Some("checks[0].expct"),
                "expct",
            ),
            (
                "checks:\n  - name: a\n    url: /\n  - name: b\n    url: /\n    latency:\n      samples: many\n",
                Some(7),
                Some("checks[1].latency.samples"),
                "",
            ),
            ("checks: [\n", None, None, ""),
            ("concurrency: -1\n", Some(1), Some("concurrency"), ""),
        ] {
            let problem = parse(text).unwrap_err();
            if line.is_some() {
                assert_eq!(problem.line, line, "{text}: {problem:?}");
            } else {
                assert!(problem.line.is_some(), "{text}: {problem:?}");
            }
            if let Some(field) = field {
                assert_eq!(problem.field.as_deref(), Some(field), "{text}: {problem:?}");
            }
            assert!(problem.message.contains(needle), "{text}: {problem:?}");
            assert!(!problem.message.is_empty());
        }
    }
}
