//! Sending one request and keeping what the asserts need: status, headers, body, time, certificate.
//!
//! reqwest directly rather than `ops-net`'s client: smoke checks need the peer certificate
//! (`tls_info`), a redirect policy per check, extra trusted roots, no retries (the readiness wait has its
//! own narrower retry rule), and the transport error kind (refused, reset, timeout, TLS) to decide
//! between `<failure>` and `<error>`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes_cap::read_capped;
use http::{HeaderMap, Method, StatusCode};
use url::Url;

/// Bodies larger than this are cut (asserts see the first 8 MiB).
pub const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// What came back.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Final status.
    pub status: StatusCode,
    /// Final headers.
    pub headers: HeaderMap,
    /// Body (at most [`BODY_LIMIT`] bytes).
    pub body: Vec<u8>,
    /// Whether the body was cut at [`BODY_LIMIT`].
    pub truncated: bool,
    /// From sending the request to the last byte of the body.
    pub elapsed: Duration,
    /// The URL that answered (after redirects).
    pub url: Url,
    /// The server's leaf certificate (DER), for HTTPS.
    pub certificate: Option<Vec<u8>>,
}

impl Exchange {
    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why a request got no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// Nothing listens (connection refused).
    Refused,
    /// The connection was reset or closed before a full response.
    Reset,
    /// No (complete) answer within the timeout.
    Timeout,
    /// The TLS handshake or certificate verification failed.
    Tls,
    /// The host name did not resolve.
    Dns,
    /// Anything else (bad redirect, invalid response…).
    Other,
}

impl TransportKind {
    /// A short label for reports.
    pub fn label(self) -> &'static str {
        match self {
            Self::Refused => "connection refused",
            Self::Reset => "connection reset",
            Self::Timeout => "timed out",
            Self::Tls => "tls error",
            Self::Dns => "dns error",
            Self::Other => "transport error",
        }
    }
}

/// A request that got no usable response.
#[derive(Debug, Clone)]
pub struct TransportError {
    /// The kind, for retry decisions and reports.
    pub kind: TransportKind,
    /// The error chain as text (may contain the URL; redact before printing).
    pub detail: String,
    /// How long the attempt took.
    pub elapsed: Duration,
}

/// One request to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// Method.
    pub method: Method,
    /// URL.
    pub url: Url,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Option<Vec<u8>>,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Redirects to follow (0 = none).
    pub redirects: usize,
    /// Skip certificate verification.
    pub insecure: bool,
}

/// Clients by (redirect limit, insecure), sharing the extra roots, so connections are reused across
/// checks with the same policy.
#[derive(Debug)]
pub struct Pool {
    roots: Vec<reqwest::Certificate>,
    clients: Mutex<HashMap<(usize, bool), reqwest::Client>>,
}

impl Pool {
    /// A pool that trusts the system roots plus `roots`.
    pub fn new(roots: Vec<reqwest::Certificate>) -> Self {
        install_crypto_provider();
        Self {
            roots,
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn client(&self, redirects: usize, insecure: bool) -> Result<reqwest::Client, reqwest::Error> {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(client) = clients.get(&(redirects, insecure)) {
            return Ok(client.clone());
        }
        let policy = if redirects == 0 {
            reqwest::redirect::Policy::none()
        } else {
            reqwest::redirect::Policy::limited(redirects)
        };
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("ops-actions-smoke-test/", env!("CARGO_PKG_VERSION")))
            .redirect(policy)
            .tls_info(true)
            .connect_timeout(Duration::from_secs(10))
            .tls_danger_accept_invalid_certs(insecure);
        if !self.roots.is_empty() && !insecure {
            builder = builder.tls_certs_merge(self.roots.iter().cloned());
        }
        let client = builder.build()?;
        clients.insert((redirects, insecure), client.clone());
        Ok(client)
    }

    /// Sends `request` once; never retries.
    pub async fn send(&self, request: &Outgoing) -> Result<Exchange, TransportError> {
        let start = Instant::now();
        let fail = |kind, detail: String| TransportError {
            kind,
            detail,
            elapsed: start.elapsed(),
        };
        let client = self
            .client(request.redirects, request.insecure)
            .map_err(|e| fail(TransportKind::Other, root_cause(&e)))?;
        let mut builder = client
            .request(request.method.clone(), request.url.clone())
            .headers(request.headers.clone())
            .timeout(request.timeout);
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let response = builder
            .send()
            .await
            .map_err(|e| fail(classify(&e), root_cause(&e)))?;
        let status = response.status();
        let headers = response.headers().clone();
        let url = response.url().clone();
        let certificate = response
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|info| info.peer_certificate())
            .map(<[u8]>::to_vec);
        let (body, truncated) = read_capped(response, BODY_LIMIT)
            .await
            .map_err(|e| fail(classify(&e), root_cause(&e)))?;
        Ok(Exchange {
            status,
            headers,
            body,
            truncated,
            elapsed: start.elapsed(),
            url,
            certificate,
        })
    }
}

mod bytes_cap {
    //! Reading a body with a cap, so a huge response cannot exhaust memory.

    pub(super) async fn read_capped(
        mut response: reqwest::Response,
        limit: usize,
    ) -> Result<(Vec<u8>, bool), reqwest::Error> {
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            let room = limit.saturating_sub(body.len());
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                return Ok((body, true));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, false))
    }
}

/// Installs ring as the process-wide rustls provider (once; a second call is harmless).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The innermost cause, which says what happened (`Connection refused (os error 111)`,
/// `invalid peer certificate: NotValidForName`) without reqwest's wrapping and the URL.
fn root_cause(error: &reqwest::Error) -> String {
    let mut last: &dyn std::error::Error = error;
    while let Some(cause) = last.source() {
        last = cause;
    }
    if std::ptr::addr_eq(last, error as &dyn std::error::Error) {
        error.to_string()
    } else {
        last.to_string()
    }
}

/// The error and its causes on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// Classifies a reqwest error by walking its causes: io error kinds first, then what hyper and rustls
/// say.
pub fn classify(error: &reqwest::Error) -> TransportKind {
    if error.is_timeout() {
        return TransportKind::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::ConnectionRefused => return TransportKind::Refused,
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                    return TransportKind::Reset;
                }
                K::TimedOut => return TransportKind::Timeout,
                _ => {}
            }
            // io::Error's `source()` skips the error it wraps; rustls errors travel inside it
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
            {
                return TransportKind::Tls;
            }
        }
        if cause.downcast_ref::<rustls::Error>().is_some() {
            return TransportKind::Tls;
        }
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>() {
            if hyper.is_incomplete_message() || hyper.is_canceled() || hyper.is_closed() {
                return TransportKind::Reset;
            }
            if hyper.is_timeout() {
                return TransportKind::Timeout;
            }
        }
        source = cause.source();
    }
    classify_text(&chain(error))
}

/// The fallback when no typed cause says: the words hyper, rustls and the resolver use.
fn classify_text(text: &str) -> TransportKind {
    let lower = text.to_ascii_lowercase();
    if lower.contains("connection refused") {
        TransportKind::Refused
    } else if lower.contains("reset")
        || lower.contains("connection closed")
        || lower.contains("broken pipe")
        || lower.contains("incomplete message")
        || lower.contains("unexpected eof")
    {
        TransportKind::Reset
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        TransportKind::Tls
    } else if lower.contains("dns") || lower.contains("failed to lookup") || lower.contains("resolve") {
        TransportKind::Dns
    } else if lower.contains("timed out") || lower.contains("timeout") {
        TransportKind::Timeout
    } else {
        TransportKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_text_table() {
        for (text, kind) in [
            (
                "error sending request: tcp connect error: Connection refused (os error 111)",
                TransportKind::Refused,
            ),
            ("connection closed before message completed", TransportKind::Reset),
            ("Connection reset by peer (os error 104)", TransportKind::Reset),
            ("invalid peer certificate: UnknownIssuer", TransportKind::Tls),
            (
                "dns error: failed to lookup address information",
                TransportKind::Dns,
            ),
            ("operation timed out", TransportKind::Timeout),
            ("too many redirects", TransportKind::Other),
        ] {
            assert_eq!(classify_text(text), kind, "{text}");
        }
    }
}
