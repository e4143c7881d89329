//! Request matching and the faults a test can inject into a stand-in.

use std::time::Duration;

use http::Method;
use serde_json::Value;

/// Matches requests by method and path, written `"GET /repos/o/r/issues/*/comments"`.
///
/// The method may be `*` (or left out) for any method. In the path, `*` or a `{name}` segment
/// matches exactly one segment and a final `**` matches the rest, so the route templates of the
/// API descriptions can be pasted as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    method: Option<Method>,
    segments: Vec<String>,
}

impl Matcher {
    /// Parses `"METHOD /path"` or `"/path"`.
    #[must_use]
    pub fn parse(route: &str) -> Self {
        let route = route.trim();
        let (method, path) = match route.split_once(' ') {
            Some((m, p)) if m != "*" => (Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok(), p),
            Some((_, p)) => (None, p),
            None => (None, route),
        };
        Self {
            method,
            segments: split(path.trim()).map(str::to_owned).collect(),
        }
    }

    /// Whether a request with this method and path (no query) matches.
    #[must_use]
    pub fn matches(&self, method: &Method, path: &str) -> bool {
        if self.method.as_ref().is_some_and(|m| m != method) {
            return false;
        }
        let mut actual = split(path);
        for want in &self.segments {
            if want == "**" {
                return true;
            }
            match actual.next() {
                Some(seg) if want == "*" || is_param(want) || want == seg => {}
                _ => return false,
            }
        }
        actual.next().is_none()
    }
}

impl From<&str> for Matcher {
    fn from(route: &str) -> Self {
        Self::parse(route)
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn is_param(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// Extracts `{name}` parameters of `template` from `path`; `None` if the path does not fit.
pub(crate) fn path_params(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let mut params = Vec::new();
    let mut actual = split(path);
    for want in split(template) {
        let seg = actual.next()?;
        if is_param(want) {
            params.push((want[1..want.len() - 1].to_owned(), percent_decode(seg)));
        } else if want != seg {
            return None;
        }
    }
    actual.next().is_none().then_some(params)
}

/// Decodes `%XX` escapes in a path segment (invalid escapes are kept as they are).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            // Both digits are below 16, so the byte cannot overflow.
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Something to go wrong with a matching request, instead of or on top of the normal answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this status and the API's error body (500, 502, 503…), without touching state.
    Status(u16),
    /// 429 with `retry-after` (seconds) and the rate-limit headers: the primary limit.
    RateLimited {
        /// Value of the `retry-after` header, seconds.
        retry_after: u64,
    },
    /// GitHub's secondary limit: 403 with `retry-after` and the "secondary rate limit" message.
    SecondaryRateLimit {
        /// Value of the `retry-after` header, seconds.
        retry_after: u64,
    },
    /// Handle the request normally but answer only after this (wall-clock) delay.
    Delay(Duration),
    /// Never answer; the request waits until the client gives up or the stand-in stops.
    Hang,
    /// Close the connection without any response.
    DropConnection,
    /// Handle the request normally, send the headers (with the full `content-length`) and half
    /// the body, then close the connection.
    Truncate,
    /// Handle the request fully (state changed, exchange recorded with the answer the stand-in
    /// meant to send), then close the connection without sending a byte of it: the work was done,
    /// but the client only sees a broken connection. Unlike [`Fault::Delay`], which waits before
    /// handling, this is how "processed, answer lost" is modelled for requests that create
    /// something.
    ProcessThenDrop,
    /// Handle the request fully, like [`Fault::ProcessThenDrop`], then never answer: the client
    /// gives up at its own timeout, after the work was done. Pair it with a short client timeout.
    ProcessThenHang,
    /// Handle the request normally, then replace the value at a JSON pointer of the response body
    /// (for example a bad enum, to show that the contract check catches it).
    SetJson {
        /// JSON pointer into the response body, e.g. `/deployment/phase`.
        pointer: String,
        /// The value to put there.
        value: Value,
    },
}

impl Fault {
    /// Shorthand for [`Fault::SetJson`].
    #[must_use]
    pub fn set_json(pointer: &str, value: impl Into<Value>) -> Self {
        Self::SetJson {
            pointer: pointer.to_owned(),
            value: value.into(),
        }
    }

    /// Whether the handler still runs (the fault only shapes or delays its answer).
    pub(crate) fn runs_handler(&self) -> bool {
        matches!(
            self,
            Self::Delay(_)
                | Self::Truncate
                | Self::SetJson { .. }
                | Self::ProcessThenDrop
                | Self::ProcessThenHang
        )
    }
}

/// A queued fault: fires for the next `remaining` matching requests.
#[derive(Debug, Clone)]
pub(crate) struct FaultRule {
    pub(crate) matcher: Matcher,
    pub(crate) fault: Fault,
    pub(crate) remaining: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matcher_table() {
        let cases = [
            (
                "GET /repos/o/r/issues/*/comments",
                "GET",
                "/repos/o/r/issues/7/comments",
                true,
            ),
            (
                "GET /repos/o/r/issues/*/comments",
                "POST",
                "/repos/o/r/issues/7/comments",
                false,
            ),
            ("/repos/{owner}/{repo}", "PATCH", "/repos/a/b", true),
            ("* /v2/apps/**", "GET", "/v2/apps/x/deployments/y", true),
            ("GET /v2/apps", "GET", "/v2/apps/x", false),
            ("get /v2/apps/*", "GET", "/v2/apps/x", true),
        ];
        for (pattern, method, path, want) in cases {
            let m = Matcher::parse(pattern);
            assert_eq!(
                m.matches(&Method::from_bytes(method.as_bytes()).unwrap(), path),
                want,
                "{pattern}"
            );
        }
    }

    #[test]
    fn faults_that_run_the_handler() {
        for (fault, runs) in [
            (Fault::Status(502), false),
            (Fault::DropConnection, false),
            (Fault::Hang, false),
            (Fault::Delay(Duration::ZERO), true),
            (Fault::Truncate, true),
            (Fault::set_json("/a", 1), true),
            // the work is done, only the answer is lost
            (Fault::ProcessThenDrop, true),
            (Fault::ProcessThenHang, true),
        ] {
            assert_eq!(fault.runs_handler(), runs, "{fault:?}");
        }
    }

    #[test]
    fn path_params_decode_segments() {
        let got = path_params(
            "/repos/{owner}/{repo}/environments/{environment_name}",
            "/repos/o/r/environments/a%20b",
        );
        assert_eq!(
            got.unwrap(),
            vec![
                ("owner".to_owned(), "o".to_owned()),
                ("repo".to_owned(), "r".to_owned()),
                ("environment_name".to_owned(), "a b".to_owned())
            ]
        );
        assert_eq!(path_params("/a/{b}", "/a/b/c"), None);
        assert_eq!(percent_decode("100%"), "100%");
    }
}
