//! Sending one request and keeping what the asserts need: status, headers, body, time, certificate.
//!
//! reqwest directly rather than `ops-net`'s client: smoke checks need the peer certificate
//! (`tls_info`), a redirect policy per check, extra trusted roots, no retries (the readiness wait has its
//! own narrower retry rule), and the transport error kind (refused, reset, timeout, TLS) to decide
//! between `<failure>` and `<error>`.
//!
//! Redirects are followed here rather than by reqwest: on a redirect to another origin reqwest drops
//! `Authorization` and `Cookie` only, and a check's secret headers (`X-Api-Key`, anything
//! [`is_sensitive_header`](crate::plan::is_sensitive_header) says or a `${SECRET}` filled) went along.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes_cap::read_capped;
use http::header::{
    AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, LOCATION, PROXY_AUTHORIZATION,
    TRANSFER_ENCODING, WWW_AUTHENTICATE,
};
use http::{HeaderMap, HeaderName, Method, StatusCode};
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

/// Clients by certificate policy (`insecure`), sharing the extra roots, so connections are reused
/// across checks with the same policy. None follows redirects itself: [`Pool::send`] does.
#[derive(Debug)]
pub struct Pool {
    roots: Vec<reqwest::Certificate>,
    clients: Mutex<HashMap<bool, reqwest::Client>>,
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

    fn client(&self, insecure: bool) -> Result<reqwest::Client, reqwest::Error> {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(client) = clients.get(&insecure) {
            return Ok(client.clone());
        }
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("ops-actions-smoke-test/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .tls_info(true)
            .connect_timeout(Duration::from_secs(10))
            .tls_danger_accept_invalid_certs(insecure);
        if !self.roots.is_empty() && !insecure {
            builder = builder.tls_certs_merge(self.roots.iter().cloned());
        }
        let client = builder.build()?;
        clients.insert(insecure, client.clone());
        Ok(client)
    }

    /// Sends `request` once (never retries), following up to `request.redirects` redirects within
    /// the request's timeout: to another origin without the secret headers, and a 303 (or a 301/302
    /// after a POST) as a `GET` without the body, as reqwest and browsers do.
    pub async fn send(&self, request: &Outgoing) -> Result<Exchange, TransportError> {
        let start = Instant::now();
        let fail = |kind, detail: String| TransportError {
            kind,
            detail,
            elapsed: start.elapsed(),
        };
        let client = self
            .client(request.insecure)
            .map_err(|e| fail(TransportKind::Other, root_cause(&e)))?;
        let mut method = request.method.clone();
        let mut url = request.url.clone();
        let mut headers = request.headers.clone();
        let mut body = request.body.clone();
        let mut followed = 0;
        let response = loop {
            let Some(left) = request
                .timeout
                .checked_sub(start.elapsed())
                .filter(|d| !d.is_zero())
            else {
                return Err(fail(TransportKind::Timeout, "operation timed out".to_owned()));
            };
            let mut builder = client
                .request(method.clone(), url.clone())
                .headers(headers.clone())
                .timeout(left);
            if let Some(body) = &body {
                builder = builder.body(body.clone());
            }
            let response = builder
                .send()
                .await
                .map_err(|e| fail(classify(&e), root_cause(&e)))?;
            let status = response.status();
            if request.redirects == 0 || !is_redirect(status) {
                break response;
            }
            let Some(location) = response.headers().get(LOCATION) else {
                break response;
            };
            if followed == request.redirects {
                return Err(fail(TransportKind::Other, "too many redirects".to_owned()));
            }
            followed += 1;
            let next = location
                .to_str()
                .ok()
                .and_then(|l| url.join(l.trim()).ok())
                .filter(|next| matches!(next.scheme(), "http" | "https"))
                .ok_or_else(|| {
                    fail(
                        TransportKind::Other,
                        format!("bad redirect: `Location` is not an http(s) URL (status {status})"),
                    )
                })?;
            if next.origin() != url.origin() {
                strip_secret_headers(&mut headers);
            }
            if (status == StatusCode::SEE_OTHER && method != Method::HEAD)
                || (matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
                    && method == Method::POST)
            {
                method = Method::GET;
                body = None;
                for name in [CONTENT_TYPE, CONTENT_LENGTH, CONTENT_ENCODING, TRANSFER_ENCODING] {
                    headers.remove(name);
                }
            }
            url = next;
        };
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

/// The statuses a redirect is followed for (not 300, 304 or 305).
fn is_redirect(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    )
}

/// Drops what must not follow a redirect to another origin: the credentials reqwest drops
/// (`Authorization`, `Cookie`, `Cookie2`, `Proxy-Authorization`, `WWW-Authenticate`), every header
/// whose value was marked sensitive (a secret header or a `${SECRET}` in it), and every header whose
/// name looks secret (`X-Api-Key`, `X-Auth-Token`).
fn strip_secret_headers(headers: &mut HeaderMap) {
    let secret: Vec<HeaderName> = headers
        .iter()
        .filter(|(name, value)| {
            value.is_sensitive()
                || crate::plan::is_sensitive_header(name.as_str())
                || [&AUTHORIZATION, &COOKIE, &PROXY_AUTHORIZATION, &WWW_AUTHENTICATE].contains(name)
                || name.as_str() == "cookie2"
        })
        .map(|(name, _)| name.clone())
        .collect();
    for name in secret {
        headers.remove(name);
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
