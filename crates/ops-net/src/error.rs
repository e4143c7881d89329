//! The one error type of ops-net.
//!
//! Every variant that names a request carries the method and the URL as [`ops_core::secret::redact_url`]
//! prints it, and every server body shown is a short excerpt with the client's secrets masked, so an
//! error can be printed, logged or put in a step summary as it is. Tokens never enter an error: the
//! `Authorization` header is not recorded anywhere, and transport causes are taken from `reqwest` errors
//! stripped of their URL.

use std::fmt;
use std::time::{Duration, SystemTime};

use http::{Method, StatusCode};
use ops_core::{ExitStatus, Report};

use crate::headers::{RateLimit, format_duration, format_time};

/// What went wrong at the transport level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// No connection was made (refused, DNS, TLS handshake, connect timeout): the request was not sent.
    Connect,
    /// The request or response did not finish in time.
    Timeout,
    /// The connection broke after the request may have been sent (reset, closed early).
    Connection,
    /// The response started but its body was cut short.
    Body,
}

impl TransportKind {
    /// Whether the server cannot have seen the request, so that any method may be retried.
    pub fn request_not_sent(self) -> bool {
        self == Self::Connect
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "could not connect",
            Self::Timeout => "timed out",
            Self::Connection => "connection lost",
            Self::Body => "response body cut short",
        })
    }
}

/// Which limit made the client wait.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// GitHub's primary rate limit: `x-ratelimit-remaining: 0`.
    Primary {
        /// The bucket (`x-ratelimit-resource`), such as `core` or `search`.
        resource: Option<String>,
    },
    /// GitHub's secondary rate limit: a 403 or 429 that says so, or a 403 with `retry-after`.
    Secondary,
    /// `ratelimit-remaining: 0` (DigitalOcean, and the IETF draft).
    Standard,
    /// A 429 with no more specific header.
    TooManyRequests,
    /// A `retry-after` on a response that is not a rate limit (such as a 503).
    RetryAfter,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Primary {
                resource: Some(resource),
            } => write!(f, "GitHub primary rate limit for `{resource}`"),
            Self::Primary { resource: None } => f.write_str("GitHub primary rate limit"),
            Self::Secondary => f.write_str("GitHub secondary rate limit"),
            Self::Standard => f.write_str("API rate limit (`ratelimit-remaining: 0`)"),
            Self::TooManyRequests => f.write_str("rate limit (429)"),
            Self::RetryAfter => f.write_str("server's `retry-after`"),
        }
    }
}

/// What each attempt of a request ended with, oldest first: `503`, `could not connect`, …
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attempts(pub Vec<String>);

impl Attempts {
    /// How many attempts were made.
    pub fn count(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Display for Attempts {
    /// Nothing for a single attempt; ` after 3 attempts (503, 503, 502)` otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.len() > 1 {
            write!(f, " after {} attempts ({})", self.0.len(), self.0.join(", "))?;
        }
        Ok(())
    }
}

/// Why a request, a page walk or a client setup failed. Boxed, so that a `Result` stays small and tools
/// can wrap it in their own errors freely; [`Error::kind`] tells the cases apart.
#[derive(Debug)]
pub struct Error(Box<ErrorKind>);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.0)
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Self(Box::new(kind))
    }
}

/// The cases of [`Error`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A URL or route that cannot be parsed.
    #[error("invalid URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL, redacted.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A setting that cannot be used (an `OPS_RETRY_*` variable, a token with characters a header
    /// cannot hold).
    #[error("invalid `{name}`: {reason}")]
    Config {
        /// The setting's name.
        name: String,
        /// What was expected; never the value of a secret.
        reason: String,
    },

    /// The client could not be set up (TLS roots, runtime).
    #[error("could not set up the HTTP client: {reason}")]
    Build {
        /// The cause.
        reason: String,
    },

    /// The request never got a complete response.
    #[error("{method} {url}: {kind}{attempts}: {cause}")]
    Transport {
        /// The method.
        method: Method,
        /// The URL, redacted.
        url: String,
        /// What broke, for callers that decide on it.
        kind: TransportKind,
        /// The innermost cause, as the OS or TLS layer put it.
        cause: String,
        /// What each attempt ended with.
        attempts: Attempts,
    },

    /// The server answered with an error status (after any retries).
    #[error("{method} {url} returned {status}{attempts}: {excerpt}")]
    Status {
        /// The method.
        method: Method,
        /// The URL, redacted.
        url: String,
        /// The final status.
        status: StatusCode,
        /// The start of the final body, with secrets masked.
        excerpt: String,
        /// What each attempt ended with.
        attempts: Attempts,
        /// The budget the final response reported.
        rate_limit: Option<RateLimit>,
        /// The limit the final response said was hit, if it was a rate-limit refusal.
        limit: Option<LimitKind>,
    },

    /// Waiting as the server asks would pass [`crate::RetryPolicy::max_total_wait`].
    #[error(
        "{method} {url}: {limit} hit, next try possible at {} (in {}), past the `{}` cap on total retry wait{}",
        format_time(*.retry_at), format_duration(*.wait), format_duration(*.cap), waited_so_far(*.waited)
    )]
    WaitCapExceeded {
        /// The method.
        method: Method,
        /// The URL, redacted.
        url: String,
        /// The status that asked for the wait.
        status: StatusCode,
        /// Which limit was hit.
        limit: LimitKind,
        /// How long the server asked to wait.
        wait: Duration,
        /// When the limit resets (now + wait).
        retry_at: SystemTime,
        /// Time already spent waiting on this request.
        waited: Duration,
        /// The cap.
        cap: Duration,
        /// What each attempt ended with.
        attempts: Attempts,
    },

    /// The body is not the JSON the caller expected.
    #[error("{method} {url}: unexpected response body: {reason}; it starts with: {excerpt}")]
    Decode {
        /// The method.
        method: Method,
        /// The URL, redacted.
        url: String,
        /// The parser's complaint.
        reason: String,
        /// The start of the body, with secrets masked.
        excerpt: String,
    },

    /// A request body could not be encoded as JSON.
    #[error("could not encode the request body as JSON: {reason}")]
    Encode {
        /// The encoder's complaint.
        reason: String,
    },

    /// A paginated GET had more pages than the caller allowed.
    #[error("{url}: more than {max} pages; stopped")]
    TooManyPages {
        /// The first page's URL, redacted.
        url: String,
        /// The page limit.
        max: usize,
    },

    /// A `Link` or a route pointed away from the API's host; following it would send the token there.
    #[error("`{url}` is not on the API host `{api}`; refusing to send the token there")]
    ForeignUrl {
        /// The URL, redacted.
        url: String,
        /// The API base URL, redacted.
        api: String,
    },

    /// A typed octocrab call failed.
    #[error("GitHub API call {route} failed{attempts}: {message}")]
    GitHub {
        /// The method and route as the caller named them.
        route: String,
        /// The status, when GitHub answered.
        status: Option<StatusCode>,
        /// GitHub's message or the transport cause, with secrets masked.
        message: String,
        /// What each attempt ended with.
        attempts: Attempts,
        /// The limit the final answer said was hit, if it was a rate-limit refusal.
        limit: Option<LimitKind>,
    },
}

fn waited_so_far(waited: Duration) -> String {
    if waited.is_zero() {
        String::new()
    } else {
        format!(" ({} already waited)", format_duration(waited))
    }
}

impl Error {
    /// Which case this is.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// The case, owned.
    pub fn into_kind(self) -> ErrorKind {
        *self.0
    }

    /// The final HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.0.status()
    }

    /// What each attempt ended with, for errors about a request.
    pub fn attempts(&self) -> Option<&Attempts> {
        self.0.attempts()
    }
}

impl ErrorKind {
    /// The final HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status { status, .. } | Self::WaitCapExceeded { status, .. } => Some(*status),
            Self::GitHub { status, .. } => *status,
            _ => None,
        }
    }

    /// What each attempt ended with, for errors about a request.
    pub fn attempts(&self) -> Option<&Attempts> {
        match self {
            Self::Transport { attempts, .. }
            | Self::Status { attempts, .. }
            | Self::WaitCapExceeded { attempts, .. }
            | Self::GitHub { attempts, .. } => Some(attempts),
            _ => None,
        }
    }
}

impl Report for Error {
    fn exit_status(&self) -> ExitStatus {
        self.0.exit_status()
    }

    fn hint(&self) -> Option<String> {
        self.0.hint()
    }
}

impl Report for ErrorKind {
    fn exit_status(&self) -> ExitStatus {
        match self {
            // A bad setting or URL is the user's input; everything else is a dependency that broke.
            Self::InvalidUrl { .. } | Self::Config { .. } => ExitStatus::Usage,
            _ => ExitStatus::Runtime,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::WaitCapExceeded { retry_at, .. } => Some(format!(
                "re-run after {}, or raise `{}` (seconds) to wait longer",
                format_time(*retry_at),
                crate::policy::MAX_WAIT_VAR
            )),
            Self::Status {
                limit: Some(limit),
                rate_limit,
                ..
            } if *limit != LimitKind::RetryAfter => Some(
                match rate_limit
                    .as_ref()
                    .and_then(|r| r.reset.filter(|_| r.is_exhausted()))
                {
                    Some(reset) => format!("the {limit} was hit; re-run after {}", format_time(reset)),
                    None => format!("the {limit} was hit; make fewer requests at once, or re-run later"),
                },
            ),
            Self::GitHub {
                limit: Some(limit), ..
            } if *limit != LimitKind::RetryAfter => Some(format!(
                "the {limit} was hit; make fewer requests at once, or re-run later"
            )),
            _ => status_hint(self.status()?),
        }
    }
}

/// Hints for statuses whose fix is on the caller's side. This client also talks to DigitalOcean and to
/// arbitrary URLs, so the words fit any API and name GitHub's specifics as such.
fn status_hint(status: StatusCode) -> Option<String> {
    let hint = match status.as_u16() {
        401 => "the token was rejected: check the token input and that the token has not expired",
        403 => {
            "the token lacks a permission: on GitHub, grant it under `permissions:` in the workflow \
             (a pull request from a fork only gets a read-only token)"
        }
        404 => {
            "not found, or the token cannot see it: check the owner, repository or id, and the token's access"
        }
        _ => return None,
    };
    Some(hint.to_owned())
}

/// The start of a body for an error message: whitespace collapsed, at most `max` characters, secrets
/// masked. Masking comes first so that a secret cut in half by the bound cannot survive.
pub(crate) fn excerpt(body: &[u8], masks: &[String], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let masked = ops_core::secret::redact(&text, masks);
    let collapsed = masked.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return "(empty body)".to_owned();
    }
    match collapsed.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &collapsed[..cut]),
        None => collapsed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_bounds_masks_and_collapses() {
        let masks = vec!["ghp_secret".to_owned()];
        assert_eq!(
            excerpt(b"  {\"message\":\n  \"Bad credentials\"}  ", &masks, 100),
            r#"{"message": "Bad credentials"}"#
        );
        assert_eq!(
            excerpt(b"token ghp_secret leaked", &masks, 100),
            "token *** leaked"
        );
        assert_eq!(excerpt("ééééé".as_bytes(), &masks, 3), "ééé…");
        // a secret straddling the bound is masked before the cut
        assert_eq!(excerpt(b"ab ghp_secret", &masks, 5), "ab **…");
        assert_eq!(excerpt(b"  ", &masks, 10), "(empty body)");
        assert_eq!(excerpt(&[0xff, b'x'], &masks, 10), "\u{fffd}x");
    }

    #[test]
    fn attempts_display() {
        assert_eq!(Attempts(vec!["503".into()]).to_string(), "");
        assert_eq!(
            Attempts(vec!["503".into(), "502".into()]).to_string(),
            " after 2 attempts (503, 502)"
        );
    }

    #[test]
    fn exit_status_and_hints() {
        let status = |code: u16| ErrorKind::Status {
            method: Method::GET,
            url: "https://h/x".into(),
            status: StatusCode::from_u16(code).unwrap(),
            excerpt: String::new(),
            attempts: Attempts::default(),
            rate_limit: None,
            limit: None,
        };
        assert_eq!(status(500).exit_status(), ExitStatus::Runtime);
        assert_eq!(status(500).hint(), None);
        for code in [401, 403, 404] {
            assert_eq!(status(code).exit_status(), ExitStatus::Runtime);
            assert!(status(code).hint().is_some(), "{code}");
        }
        let config = ErrorKind::Config {
            name: "OPS_RETRY_MAX_WAIT".into(),
            reason: "x".into(),
        };
        assert_eq!(config.exit_status(), ExitStatus::Usage);
    }
}
