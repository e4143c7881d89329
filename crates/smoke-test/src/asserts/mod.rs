//! Assertions on one response, one kind per file: [`status`], [`header`], [`json`], [`body`],
//! [`duration`], [`tls`], [`version`].
//!
//! An assertion that does not hold is a [`Failure`] (JUnit `<failure>`); a request that got no response
//! never reaches here (JUnit `<error>`).

pub mod body;
pub mod duration;
pub mod header;
pub mod json;
pub mod status;
pub mod tls;
pub mod version;

use std::cell::OnceCell;
use std::time::SystemTime;

use http::HeaderName;
use regex::Regex;
use serde_json::Value;

use crate::http::Exchange;
use crate::measure::{DurationBound, NumberBound};
use crate::query::Query;

/// One assertion, with where it was written.
#[derive(Debug, Clone)]
pub struct Assert {
    /// Line in the checks file.
    pub line: Option<u32>,
    /// Field path, like `checks[2].expect.status`.
    pub field: String,
    /// What is asserted.
    pub kind: AssertKind,
}

/// What an assertion tests.
#[derive(Debug, Clone)]
pub enum AssertKind {
    /// The status is one of these.
    Status(Vec<status::StatusMatch>),
    /// A response header.
    Header(HeaderName, TextTest),
    /// A JSON value in the body.
    Json(Query, json::JsonTest),
    /// The body as text.
    Body(TextTest),
    /// Response time.
    Duration(DurationBound),
    /// Days until the certificate expires.
    CertDaysLeft(NumberBound),
    /// The certificate's SANs cover the URL's host.
    CertHost,
    /// The version header carries the expected version.
    VersionHeader(HeaderName, String),
}

impl AssertKind {
    /// The failure type in JUnit (`status`, `header`, `json`, …).
    pub fn label(&self) -> &'static str {
        match self {
            Self::Status(_) => "status",
            Self::Header(..) => "header",
            Self::Json(..) => "json",
            Self::Body(_) => "body",
            Self::Duration(_) => "duration",
            Self::CertDaysLeft(_) | Self::CertHost => "tls",
            Self::VersionHeader(..) => "version",
        }
    }
}

/// A text test (headers and bodies).
#[derive(Debug, Clone)]
pub enum TextTest {
    /// Exactly this text.
    Equals(String),
    /// Contains this text.
    Contains(String),
    /// Matches this regex.
    Matches(Regex),
    /// Present (or absent).
    Exists(bool),
}

impl TextTest {
    /// Tests `actual` (`None` = absent); `what` names the subject in the message.
    pub fn test(&self, what: &str, actual: Option<&str>) -> Result<(), String> {
        match (self, actual) {
            (Self::Exists(true), Some(_)) | (Self::Exists(false), None) => Ok(()),
            (Self::Exists(true), None) => Err(format!("{what} is missing")),
            (Self::Exists(false), Some(v)) => Err(format!(
                "{what} is present (`{}`), expected it absent",
                excerpt(v)
            )),
            (_, None) => Err(format!("{what} is missing")),
            (Self::Equals(expected), Some(v)) if v == expected => Ok(()),
            (Self::Equals(expected), Some(v)) => Err(format!(
                "{what} is `{}`, expected `{}`",
                excerpt(v),
                excerpt(expected)
            )),
            (Self::Contains(needle), Some(v)) if v.contains(needle.as_str()) => Ok(()),
            (Self::Contains(needle), Some(v)) => Err(format!(
                "{what} does not contain `{}` (got `{}`)",
                excerpt(needle),
                excerpt(v)
            )),
            (Self::Matches(re), Some(v)) if re.is_match(v) => Ok(()),
            (Self::Matches(re), Some(v)) => Err(format!(
                "{what} does not match `{}` (got `{}`)",
                re.as_str(),
                excerpt(v)
            )),
        }
    }
}

/// An assertion that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Line in the checks file.
    pub line: Option<u32>,
    /// Field path.
    pub field: String,
    /// `status`, `header`, `json`, …
    pub kind: &'static str,
    /// What was wrong (not yet redacted).
    pub message: String,
}

/// What the asserts look at: the exchange, its body parsed once as JSON, and "now".
#[derive(Debug)]
pub struct Response<'a> {
    /// The exchange.
    pub exchange: &'a Exchange,
    /// "Now", for certificate days.
    pub now: SystemTime,
    json: OnceCell<Result<Value, String>>,
}

impl<'a> Response<'a> {
    /// Wraps an exchange.
    pub fn new(exchange: &'a Exchange, now: SystemTime) -> Self {
        Self {
            exchange,
            now,
            json: OnceCell::new(),
        }
    }

    /// The body as JSON, parsed on first use.
    pub fn json(&self) -> Result<&Value, String> {
        self.json
            .get_or_init(|| {
                serde_json::from_slice(&self.exchange.body)
                    .map_err(|e| format!("the body is not JSON ({e}): `{}`", excerpt(&self.exchange.text())))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// Runs every assert; returns those that failed, in order.
pub fn evaluate(asserts: &[Assert], response: &Response<'_>) -> Vec<Failure> {
    asserts
        .iter()
        .filter_map(|a| {
            let outcome = match &a.kind {
                AssertKind::Status(allowed) => status::check(allowed, response),
                AssertKind::Header(name, test) => header::check(name, test, response),
                AssertKind::Json(query, test) => json::check(query, test, response),
                AssertKind::Body(test) => body::check(test, response),
                AssertKind::Duration(bound) => duration::check(bound, response),
                AssertKind::CertDaysLeft(bound) => tls::check_days_left(bound, response),
                AssertKind::CertHost => tls::check_host(response),
                AssertKind::VersionHeader(name, expected) => version::check_header(name, expected, response),
            };
            outcome.err().map(|message| Failure {
                line: a.line,
                field: a.field.clone(),
                kind: a.kind.label(),
                message,
            })
        })
        .collect()
}

/// At most 200 characters of `text` on one line, for messages.
pub fn excerpt(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let one_line = one_line.trim();
    match one_line.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &one_line[..at]),
        None => one_line.to_owned(),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A hand-built exchange for the assert tables.

    use std::time::Duration;

    use http::{HeaderMap, HeaderValue, StatusCode};

    use crate::http::Exchange;

    pub(crate) fn exchange(status: u16, headers: &[(&str, &str)], body: &str) -> Exchange {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        Exchange {
            status: StatusCode::from_u16(status).unwrap(),
            headers: map,
            body: body.as_bytes().to_vec(),
            truncated: false,
            elapsed: Duration::from_millis(120),
            url: url::Url::parse("https://app.example.test/x").unwrap(),
            certificate: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_tests_table() {
        let re = Regex::new("^app").unwrap();
        for (test, actual, ok) in [
            (TextTest::Equals("a".into()), Some("a"), true),
            (TextTest::Equals("a".into()), Some("b"), false),
            (TextTest::Equals("a".into()), None, false),
            (
                TextTest::Contains("json".into()),
                Some("application/json; charset=utf-8"),
                true,
            ),
            (TextTest::Contains("xml".into()), Some("application/json"), false),
            (TextTest::Matches(re.clone()), Some("application/json"), true),
            (TextTest::Matches(re), Some("text/html"), false),
            (TextTest::Exists(true), Some(""), true),
            (TextTest::Exists(true), None, false),
            (TextTest::Exists(false), None, true),
            (TextTest::Exists(false), Some("x"), false),
        ] {
            assert_eq!(test.test("header `x`", actual).is_ok(), ok, "{test:?} {actual:?}");
        }
    }

    #[test]
    fn excerpt_is_short_and_one_line() {
        assert_eq!(excerpt("a\nb\tc"), "a b c");
        let long = "x".repeat(500);
        assert_eq!(excerpt(&long).chars().count(), 201);
    }
}
