//! [`HttpClient`]: one reqwest client per tool, with timeouts, retries, rate limits and redaction.
//!
//! A request is sent, and its whole body read, inside the retry loop: a body cut short is a failed
//! attempt like a refused connection, not a surprise for the caller. That is why the client hands back a
//! buffered [`Response`]; the API payloads ops-actions handles are small.
//!
//! Retry safety follows RFC 9110 §9.2.2. A refused connection, a 429 and a 503 mean the server did not
//! act, so any method is retried; a broken connection or a 5xx after the request went out may mean it
//! did, so only idempotent methods are retried unless the caller opts in with
//! [`Request::retry_non_idempotent`]. A rate-limit 403 is a refusal too, and is retried for any method.
//!
//! A request that creates something on every call (an issue, a comment, a deployment; a POST, or a PUT
//! that starts a deployment) goes through [`HttpClient::create`]: it is never re-sent after it may have
//! arrived, whatever its method. When its answer is lost, a caller-supplied look-up searches for what
//! it created (by a marker of this run the request carries), and only when nothing is found is the
//! request sent again.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, Once, PoisonError};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use ops_core::Secret;
use ops_core::secret::{derived_forms, redact, redact_url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{Attempts, Error, ErrorKind, LimitKind, TransportKind, excerpt};
use crate::headers::{self, RateLimit, format_duration, text as header_text};
use crate::policy::RetryPolicy;

/// The `user-agent` every request carries (GitHub rejects requests without one).
pub const USER_AGENT: &str = concat!("ops-actions/", env!("CARGO_PKG_VERSION"));

/// How many characters of a body an error shows.
const EXCERPT_CHARS: usize = 200;

/// Called before each retry wait, so a tool can print `retrying in 2s (503 from GET https://…)`.
pub type OnRetry = Arc<dyn Fn(&RetryEvent) + Send + Sync>;

/// The source of "now" for rate-limit resets and HTTP dates; the system clock unless a test pins it.
/// Deliberately not `SOURCE_DATE_EPOCH`: that pins build timestamps, and a reset time compared with a
/// commit date would mean an hours-long wait.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Installs ring as the process-wide rustls crypto provider. Idempotent; called by every client builder.
///
/// reqwest is built with `rustls-no-provider` and octocrab with `rustls-ring`, so ring is the only
/// provider in the tree (no aws-lc-sys, so musl cross-builds need no cmake or clang). If something else
/// installed a provider first, that one is kept.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            // An error means another thread won the race to install one: also fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
    });
}

/// A retry about to happen.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryEvent {
    /// The method.
    pub method: Method,
    /// The URL, redacted.
    pub url: String,
    /// The attempt that failed, from 1.
    pub attempt: u32,
    /// The policy's attempt limit.
    pub max_attempts: u32,
    /// The wait the policy chose, before `delay_scale` (what production would sleep).
    pub delay: Duration,
    /// The status of the failed attempt, when there was a response.
    pub status: Option<StatusCode>,
    /// What the attempt ended with: `503`, `could not connect`, ….
    pub cause: String,
    /// The limit that set the wait, if one did.
    pub limit: Option<LimitKind>,
    /// The wait already spent on this request before this one.
    pub waited: Duration,
}

impl fmt::Display for RetryEvent {
    /// `retrying in 2s (503 from GET https://h/x; attempt 1 of 5)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "retrying in {} (", format_duration(self.delay))?;
        match self.status {
            Some(_) => write!(f, "{} from {} {}", self.cause, self.method, self.url)?,
            None => write!(f, "{}: {} {}", self.cause, self.method, self.url)?,
        }
        if let Some(limit) = &self.limit {
            write!(f, ", {limit}")?;
        }
        write!(f, "; attempt {} of {})", self.attempt, self.max_attempts)
    }
}

/// What a client has spent, across all its requests so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Responses received, whatever their status (each costs API budget unless it is a 304).
    pub requests: u64,
    /// Of those, `304 Not Modified` answers to conditional requests. GitHub does not count these against
    /// the primary rate limit when the request was authenticated.
    pub not_modified: u64,
    /// Attempts that got no complete response.
    pub transport_errors: u64,
    /// Retries made.
    pub retries: u64,
    /// Time the policy chose to wait in total (unscaled).
    pub waited: Duration,
}

impl Usage {
    /// Requests that counted against the budget: all responses except 304s.
    pub fn spent(&self) -> u64 {
        self.requests.saturating_sub(self.not_modified)
    }
}

/// A request, kept whole so that it can be sent again.
#[derive(Clone)]
pub struct Request {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<Bytes>,
    secrets: Vec<Secret>,
    retry_non_idempotent: bool,
    creates: bool,
    any_status: bool,
    timeout: Option<Duration>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL is redacted; sensitive header values print as `Sensitive` (http's own Debug).
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &redact_url(self.url.as_str()))
            .field("headers", &self.headers)
            .field("body_len", &self.body.as_ref().map(Bytes::len))
            .field("retry_non_idempotent", &self.retry_non_idempotent)
            .field("creates", &self.creates)
            .field("any_status", &self.any_status)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Request {
    /// A request to an absolute URL.
    pub fn new(method: Method, url: &str) -> Result<Self, Error> {
        let parsed = Url::parse(url.trim()).map_err(|e| ErrorKind::InvalidUrl {
            url: redact_url(url),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ErrorKind::InvalidUrl {
                url: redact_url(url),
                reason: format!("expected `http` or `https`, got `{}`", parsed.scheme()),
            }
            .into());
        }
        Ok(Self::from_url(method, parsed))
    }

    /// A request to a parsed URL.
    pub fn from_url(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            secrets: Vec::new(),
            retry_non_idempotent: false,
            creates: false,
            any_status: false,
            timeout: None,
        }
    }

    /// A GET.
    pub fn get(url: &str) -> Result<Self, Error> {
        Self::new(Method::GET, url)
    }

    /// Sets a header, replacing any earlier value.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Authenticates this request with a bearer token instead of the client's. The header is marked
    /// sensitive, and the token is masked in error excerpts.
    pub fn bearer(mut self, token: &Secret) -> Result<Self, Error> {
        self.headers.insert(AUTHORIZATION, bearer_header(token)?);
        self.secrets.push(token.clone());
        Ok(self)
    }

    /// Sets a JSON body and `content-type: application/json`.
    pub fn json<B: Serialize + ?Sized>(mut self, body: &B) -> Result<Self, Error> {
        let bytes = serde_json::to_vec(body).map_err(|e| ErrorKind::Encode {
            reason: e.to_string(),
        })?;
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.body = Some(Bytes::from(bytes));
        Ok(self)
    }

    /// Sets a raw body.
    #[must_use]
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Allows retrying this request after a broken connection or a 5xx even though its method is not
    /// idempotent. Only for requests the server deduplicates (an idempotency key, a create-or-update).
    #[must_use]
    pub fn retry_non_idempotent(mut self) -> Self {
        self.retry_non_idempotent = true;
        self
    }

    /// Marks this request as one that creates something on every call (a POST, or a PUT that starts
    /// a deployment): it is never re-sent after it may have reached the server, whatever its method,
    /// and even when [`Request::retry_non_idempotent`] is set. Refusals the server made before acting
    /// (a refused connection, a 429, a 503, a rate-limit 403) are still retried.
    /// [`HttpClient::create`] sets this, and looks up what a request whose answer was lost created.
    #[must_use]
    pub fn creates(mut self) -> Self {
        self.creates = true;
        self
    }

    /// Whether this request is [marked](Request::creates) as creating something on every call.
    pub fn is_create(&self) -> bool {
        self.creates
    }

    /// Returns the final response whatever its status, instead of an error for a non-2xx. Retries still
    /// happen. For callers to whom the status is the result (health checks).
    #[must_use]
    pub fn accept_any_status(mut self) -> Self {
        self.any_status = true;
        self
    }

    /// A per-request timeout instead of the client's.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The URL (not redacted: do not print it).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The headers set so far.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Whether RFC 9110 calls the method idempotent.
    pub fn is_idempotent(&self) -> bool {
        is_idempotent(&self.method)
    }

    fn may_retry_after_sending(&self) -> bool {
        !self.creates && (self.retry_non_idempotent || self.is_idempotent())
    }
}

/// GET, HEAD, OPTIONS, TRACE, PUT and DELETE (RFC 9110 §9.2.2).
pub fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

/// Whether a failed request may have been carried out by the server although its answer never
/// arrived whole: a connection that broke or timed out after the request went out, a body cut short,
/// a success whose body is not what was expected, or a 5xx other than 503 (a proxy's 502 or 504 says
/// nothing about what the server behind it did). A refusal made before acting (a refused connection,
/// a 503, a 4xx, a rate limit, a wait past the cap) is not: nothing was done.
pub fn answer_lost(error: &Error) -> bool {
    let lost_status =
        |status: StatusCode| status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE;
    match error.kind() {
        ErrorKind::Transport { kind, .. } => !kind.request_not_sent(),
        ErrorKind::Status { status, .. } => lost_status(*status),
        ErrorKind::Decode { .. } => true,
        // octocrab does not say whether a transport failure happened before sending.
        ErrorKind::GitHub { status, .. } => status.is_none_or(lost_status),
        _ => false,
    }
}

/// The short cause of a lost answer, as a [`RetryEvent`] names it: `502`, `connection lost`, ….
fn lost_cause(error: &Error) -> String {
    match error.kind() {
        ErrorKind::Transport { kind, .. } => kind.to_string(),
        ErrorKind::Decode { .. } => "unreadable answer".to_owned(),
        other => other
            .status()
            .map_or_else(|| "answer lost".to_owned(), |s| s.as_u16().to_string()),
    }
}

/// A request whose answer was lost after it may have been carried out, as [`HttpClient::create`]
/// tells its look-up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LostAnswer {
    /// The send whose answer was lost, from 1.
    pub send: u32,
    /// What it ended with, as the error prints it (URL redacted, secrets masked).
    pub cause: String,
}

/// What [`HttpClient::create`] came back with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created<T> {
    /// The server's answer to a send.
    Answered(T),
    /// An answer was lost, and the look-up found what the request had created.
    Found(T),
}

impl<T> Created<T> {
    /// The value, however it was obtained.
    pub fn into_inner(self) -> T {
        match self {
            Self::Answered(value) | Self::Found(value) => value,
        }
    }

    /// Whether the value was found by the look-up after a lost answer.
    pub fn was_found(&self) -> bool {
        matches!(self, Self::Found(_))
    }
}

/// A complete response: status, headers and the whole body.
#[derive(Clone)]
pub struct Response {
    method: Method,
    shown_url: String,
    url: Url,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    attempts: u32,
    rate_limit: Option<RateLimit>,
    secrets: Arc<[Secret]>,
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("method", &self.method)
            .field("url", &self.shown_url)
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .field("attempts", &self.attempts)
            .field("rate_limit", &self.rate_limit)
            .finish_non_exhaustive()
    }
}

impl Response {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The final URL, after redirects (not redacted: do not print it).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The body.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body, owned.
    pub fn into_bytes(self) -> Bytes {
        self.body
    }

    /// The body as text; invalid UTF-8 is replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON. An empty body parses as `null`, so `()` and `Option<T>` accept a 204.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        decode_json(&self.body, &self.method, &self.shown_url, &self.secrets)
    }

    /// How many attempts it took.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The budget this response reported.
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        self.rate_limit.as_ref()
    }

    /// Whether this is a `304 Not Modified`.
    pub fn is_not_modified(&self) -> bool {
        self.status == StatusCode::NOT_MODIFIED
    }
}

pub(crate) fn decode_json<T: DeserializeOwned>(
    body: &[u8],
    method: &Method,
    shown_url: &str,
    secrets: &[Secret],
) -> Result<T, Error> {
    let input: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        body
    };
    serde_json::from_slice(input).map_err(|e| {
        let masks = masks(secrets);
        // serde_json quotes the offending value, which could be anything the server echoed
        ErrorKind::Decode {
            method: method.clone(),
            url: shown_url.to_owned(),
            reason: redact(&e.to_string(), &masks),
            excerpt: excerpt(body, &masks, EXCERPT_CHARS),
        }
        .into()
    })
}

/// The secrets as mask strings for [`redact`], each in every form a server may echo it in (as given,
/// percent-decoded and -encoded, base64: [`derived_forms`]). Review point: the values leave their
/// `Secret` here only to be searched for and replaced.
pub(crate) fn masks(secrets: &[Secret]) -> Vec<String> {
    secrets
        .iter()
        .map(|s| s.expose().trim())
        .filter(|s| !s.is_empty())
        .flat_map(derived_forms)
        .collect()
}

/// `Authorization: Bearer …`, marked sensitive so that http's `Debug` and reqwest's logs hide it.
pub(crate) fn bearer_header(token: &Secret) -> Result<HeaderValue, Error> {
    // Review point: the token's value enters this header value and nothing else.
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose().trim())).map_err(|_| {
        ErrorKind::Config {
            name: "token".to_owned(),
            reason: "it holds characters an HTTP header cannot carry (a line break inside?)".to_owned(),
        }
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Builds an [`HttpClient`].
#[derive(Clone)]
pub struct HttpClientBuilder {
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) policy: RetryPolicy,
    bearer: Option<Secret>,
    on_retry: Option<OnRetry>,
    clock: Option<Clock>,
    user_agent: String,
    headers: HeaderMap,
}

impl fmt::Debug for HttpClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClientBuilder")
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("policy", &self.policy)
            .field("bearer", &self.bearer)
            .field("on_retry", &self.on_retry.is_some())
            .field("user_agent", &self.user_agent)
            .finish_non_exhaustive()
    }
}

impl Default for HttpClientBuilder {
    /// Connect within 10 s, finish a request within 60 s, the default [`RetryPolicy`].
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            policy: RetryPolicy::default(),
            bearer: None,
            on_retry: None,
            clock: None,
            user_agent: USER_AGENT.to_owned(),
            headers: HeaderMap::new(),
        }
    }
}

impl HttpClientBuilder {
    /// The time allowed to establish a connection (TCP and TLS).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The time allowed for a whole attempt, body included.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The retry policy.
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// A bearer token for every request that does not set its own `authorization`.
    #[must_use]
    pub fn bearer_token(mut self, token: Secret) -> Self {
        self.bearer = Some(token);
        self
    }

    /// A callback run before each retry wait.
    #[must_use]
    pub fn on_retry(mut self, callback: impl Fn(&RetryEvent) + Send + Sync + 'static) -> Self {
        self.on_retry = Some(Arc::new(callback));
        self
    }

    /// The clock used for rate-limit resets and `retry-after` dates.
    #[must_use]
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Replaces the `user-agent` (default `ops-actions/<version>`).
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// A header sent with every request (a request's own value wins).
    #[must_use]
    pub fn default_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// The bearer token set so far.
    pub(crate) fn token(&self) -> Option<&Secret> {
        self.bearer.as_ref()
    }

    /// Builds the client; installs the ring crypto provider first.
    pub fn build(self) -> Result<HttpClient, Error> {
        install_crypto_provider();
        let auth = self.bearer.as_ref().map(bearer_header).transpose()?;
        let user_agent = HeaderValue::from_str(&self.user_agent).map_err(|_| ErrorKind::Config {
            name: "user-agent".to_owned(),
            reason: "it holds characters an HTTP header cannot carry".to_owned(),
        })?;
        let client = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(user_agent)
            .default_headers(self.headers)
            .tls_backend_preconfigured(crate::tls::client_config())
            .build()
            .map_err(|e| ErrorKind::Build {
                reason: root_cause(&e),
            })?;
        let secrets: Arc<[Secret]> = self.bearer.into_iter().collect();
        Ok(HttpClient {
            inner: Arc::new(Inner {
                client,
                policy: self.policy,
                auth,
                secrets,
                on_retry: self.on_retry,
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemTime::now)),
                user_agent: self.user_agent,
                state: Mutex::new(State::default()),
            }),
        })
    }
}

/// The HTTP client. Cheap to clone; clones share the connection pool, usage and rate-limit record.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    policy: RetryPolicy,
    auth: Option<HeaderValue>,
    secrets: Arc<[Secret]>,
    on_retry: Option<OnRetry>,
    clock: Clock,
    user_agent: String,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    usage: Usage,
    rate_limit: Option<RateLimit>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("policy", &self.inner.policy)
            .field("user_agent", &self.inner.user_agent)
            .field("authenticated", &self.inner.auth.is_some())
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A builder with the defaults.
    pub fn builder() -> HttpClientBuilder {
        HttpClientBuilder::default()
    }

    /// The retry policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.inner.policy
    }

    /// What this client (and its clones) spent so far.
    pub fn usage(&self) -> Usage {
        self.state().usage
    }

    /// The budget the most recent response that carried rate-limit headers reported.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.state().rate_limit.clone()
    }

    /// The underlying reqwest client, for streaming. It has the timeouts and user agent, but requests
    /// sent through it get no retries and no token.
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner.client
    }

    /// Now, by the client's clock.
    pub fn now(&self) -> SystemTime {
        (self.inner.clock)()
    }

    /// GETs a URL and parses the JSON body.
    pub async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, Error> {
        self.send(Request::get(url)?).await?.json()
    }

    /// Sends a request with the retry policy. A 2xx or 304 is `Ok`; any other final status is
    /// [`ErrorKind::Status`] unless the request [accepts any status](Request::accept_any_status).
    pub async fn send(&self, request: Request) -> Result<Response, Error> {
        let shown_url = redact_url(request.url.as_str());
        let secrets: Arc<[Secret]> = self
            .inner
            .secrets
            .iter()
            .chain(&request.secrets)
            .cloned()
            .collect();
        let mut retrier = Retrier::new(
            &self.inner.policy,
            &request.method,
            &shown_url,
            request.may_retry_after_sending(),
        );
        loop {
            let outcome = match self
                .attempt(&request, &shown_url, &secrets, retrier.attempts() + 1)
                .await
            {
                Ok(response) if response.status.is_success() || response.is_not_modified() => {
                    return Ok(response);
                }
                other => other,
            };
            let next = match &outcome {
                Ok(response) => retrier.next(
                    &Failure::Status {
                        status: response.status,
                        headers: &response.headers,
                        body: &response.body,
                    },
                    self.now(),
                ),
                Err((kind, _)) => retrier.next(&Failure::Transport { kind: *kind }, self.now()),
            };
            match next {
                Next::Retry(event) => self.wait(event).await,
                Next::Stop => {
                    return match outcome {
                        Ok(response) if request.any_status => Ok(response),
                        Ok(response) => Err(ErrorKind::Status {
                            method: request.method.clone(),
                            url: shown_url.clone(),
                            status: response.status,
                            excerpt: excerpt(&response.body, &masks(&secrets), EXCERPT_CHARS),
                            limit: retrier.last_limit(),
                            attempts: retrier.into_attempts(),
                            rate_limit: response.rate_limit,
                        }
                        .into()),
                        Err((kind, cause)) => Err(ErrorKind::Transport {
                            method: request.method.clone(),
                            url: shown_url.clone(),
                            kind,
                            cause: redact(&cause, &masks(&secrets)),
                            attempts: retrier.into_attempts(),
                        }
                        .into()),
                    };
                }
                Next::Cap(cap) => {
                    return match outcome {
                        Ok(response) if request.any_status => Ok(response),
                        _ => Err(cap.into_error(
                            request.method.clone(),
                            shown_url.clone(),
                            retrier.into_attempts(),
                        )),
                    };
                }
            }
        }
    }

    /// Sends a request that creates something on every call (an issue, a comment, a deployment) so
    /// that it takes effect once, even when answers are lost.
    ///
    /// The request is [marked](Request::creates) as a create: refusals the server made before acting
    /// are retried as usual, but it is never re-sent after it may have arrived. When its answer is
    /// lost that way ([`answer_lost`]), `lookup` is asked for what it created, found by a marker of
    /// this run that the request carries (a hidden comment in a body, IDs noted before the request).
    /// `Some` ends the create with [`Created::Found`]; only `None` ("nothing was created") lets the
    /// request be sent again, after a backoff reported like any retry, up to
    /// [`RetryPolicy::max_create_sends`] sends in all (never more than `max_attempts`). A look-up
    /// that fails ends the create with its error, since sending again could create a second one.
    ///
    /// `read` turns the answer into the caller's value; an error of its own that [`answer_lost`]
    /// accepts (a success whose body cannot be read) counts as a lost answer too.
    pub async fn create<T, E, R, L, F>(
        &self,
        request: Request,
        mut read: R,
        mut lookup: L,
    ) -> Result<Created<T>, E>
    where
        R: FnMut(Response) -> Result<T, Error>,
        L: FnMut(LostAnswer) -> F,
        F: Future<Output = Result<Option<T>, E>>,
        E: From<Error>,
    {
        let request = request.creates();
        let policy = &self.inner.policy;
        let sends = policy.max_create_sends.min(policy.max_attempts).max(1);
        let mut waited = Duration::ZERO;
        let mut send = 1;
        loop {
            let error = match self.send(request.clone()).await.and_then(&mut read) {
                Ok(value) => return Ok(Created::Answered(value)),
                Err(error) if answer_lost(&error) => error,
                Err(error) => return Err(error.into()),
            };
            let lost = LostAnswer {
                send,
                cause: error.to_string(),
            };
            if let Some(found) = lookup(lost).await? {
                return Ok(Created::Found(found));
            }
            let remaining = policy.max_total_wait.saturating_sub(waited);
            if send >= sends || remaining.is_zero() {
                return Err(error.into());
            }
            let delay = policy.backoff(send - 1).min(remaining);
            self.wait(RetryEvent {
                method: request.method.clone(),
                url: redact_url(request.url.as_str()),
                attempt: send,
                max_attempts: sends,
                delay,
                status: error.status(),
                cause: lost_cause(&error),
                limit: None,
                waited,
            })
            .await;
            waited = waited.saturating_add(delay);
            send += 1;
        }
    }

    /// Reports a retry, records it and sleeps (scaled).
    pub(crate) async fn wait(&self, event: RetryEvent) {
        {
            let mut state = self.state();
            state.usage.retries += 1;
            state.usage.waited = state.usage.waited.saturating_add(event.delay);
        }
        if let Some(callback) = &self.inner.on_retry {
            callback(&event);
        }
        let sleep = self.inner.policy.scaled(event.delay);
        if !sleep.is_zero() {
            tokio::time::sleep(sleep).await;
        }
    }

    async fn attempt(
        &self,
        request: &Request,
        shown_url: &str,
        secrets: &Arc<[Secret]>,
        attempt: u32,
    ) -> Result<Response, (TransportKind, String)> {
        let mut builder = self
            .inner
            .client
            .request(request.method.clone(), request.url.clone())
            .headers(request.headers.clone());
        if let Some(auth) = &self.inner.auth
            && !request.headers.contains_key(AUTHORIZATION)
        {
            builder = builder.header(AUTHORIZATION, auth.clone());
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        if let Some(timeout) = request.timeout {
            builder = builder.timeout(timeout);
        }
        let response = match builder.send().await {
            Ok(response) => response,
            Err(e) => return Err(self.transport_failure(e, false)),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let url = response.url().clone();
        let rate_limit = headers::rate_limit(&headers, self.now());
        {
            let mut state = self.state();
            state.usage.requests += 1;
            if status == StatusCode::NOT_MODIFIED {
                state.usage.not_modified += 1;
            }
            if rate_limit.is_some() {
                state.rate_limit.clone_from(&rate_limit);
            }
        }
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(e) => return Err(self.transport_failure(e, true)),
        };
        Ok(Response {
            method: request.method.clone(),
            shown_url: shown_url.to_owned(),
            url,
            status,
            headers,
            body,
            attempts: attempt,
            rate_limit,
            secrets: Arc::clone(secrets),
        })
    }

    fn transport_failure(&self, error: reqwest::Error, reading_body: bool) -> (TransportKind, String) {
        self.state().usage.transport_errors += 1;
        let kind = if error.is_connect() {
            TransportKind::Connect
        } else if error.is_timeout() {
            TransportKind::Timeout
        } else if reading_body || error.is_body() || error.is_decode() {
            TransportKind::Body
        } else {
            TransportKind::Connection
        };
        (kind, root_cause(&error.without_url()))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves counters that are still meaningful.
        self.inner.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn secrets(&self) -> &Arc<[Secret]> {
        &self.inner.secrets
    }
}

/// The innermost cause of an error: the part that says what happened (`Connection refused (os error
/// 111)`), without the layers of "error sending request".
pub(crate) fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// One failed attempt, as the retry logic sees it.
pub(crate) enum Failure<'a> {
    Status {
        status: StatusCode,
        headers: &'a HeaderMap,
        body: &'a [u8],
    },
    Transport {
        kind: TransportKind,
    },
}

/// What to do after a failed attempt.
pub(crate) enum Next {
    Retry(RetryEvent),
    Stop,
    Cap(CapHit),
}

/// A server-mandated wait that does not fit in what is left of the total-wait cap.
pub(crate) struct CapHit {
    status: StatusCode,
    limit: LimitKind,
    wait: Duration,
    retry_at: SystemTime,
    waited: Duration,
    cap: Duration,
}

impl CapHit {
    pub(crate) fn into_error(self, method: Method, url: String, attempts: Attempts) -> Error {
        ErrorKind::WaitCapExceeded {
            method,
            url,
            status: self.status,
            limit: self.limit,
            wait: self.wait,
            retry_at: self.retry_at,
            waited: self.waited,
            cap: self.cap,
            attempts,
        }
        .into()
    }
}

/// How long a retryable failure asks to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// The server said how long: honour it exactly.
    Mandated(Duration),
    /// A rate limit without a time: GitHub's "at least a minute, then exponential".
    UntimedLimit,
    /// A transient failure: exponential backoff with jitter.
    Backoff,
}

/// Whether and how to retry a failure, before counting attempts and the cap. `None`: do not retry.
pub(crate) fn plan(
    failure: &Failure<'_>,
    may_retry_after_sending: bool,
    now: SystemTime,
) -> Option<(Wait, Option<LimitKind>)> {
    let (status, headers, body) = match failure {
        Failure::Transport { kind } => {
            return (kind.request_not_sent() || may_retry_after_sending).then_some((Wait::Backoff, None));
        }
        Failure::Status {
            status,
            headers,
            body,
        } => (*status, *headers, *body),
    };
    let mandated = server_wait(headers, now);
    let wait = |untimed: Wait| mandated.map_or(untimed, Wait::Mandated);
    match status.as_u16() {
        403 | 429 => {
            let github_exhausted = header_text(headers, "x-ratelimit-remaining") == Some("0");
            let standard_exhausted = header_text(headers, "ratelimit-remaining") == Some("0");
            let says_secondary = contains_ignore_case(body, b"secondary rate limit");
            let has_retry_after = header_text(headers, "retry-after").is_some();
            let limit = if github_exhausted {
                LimitKind::Primary {
                    resource: header_text(headers, "x-ratelimit-resource").map(str::to_owned),
                }
            } else if says_secondary || (status == StatusCode::FORBIDDEN && has_retry_after) {
                LimitKind::Secondary
            } else if standard_exhausted {
                LimitKind::Standard
            } else if status == StatusCode::TOO_MANY_REQUESTS {
                LimitKind::TooManyRequests
            } else {
                // A plain 403 is a permission problem; retrying it would only spend budget.
                return None;
            };
            // The server refused before acting, so any method may be retried.
            Some((wait(Wait::UntimedLimit), Some(limit)))
        }
        // 503 means the server did not process the request (RFC 9110 §15.6.4): safe for any method.
        503 => Some((wait(Wait::Backoff), mandated.map(|_| LimitKind::RetryAfter))),
        // 501 and 505 will not change on a retry.
        501 | 505 => None,
        _ if status.is_server_error() && may_retry_after_sending => {
            Some((wait(Wait::Backoff), mandated.map(|_| LimitKind::RetryAfter)))
        }
        _ => None,
    }
}

/// The wait a response asks for, in the order GitHub's docs give: `retry-after`, then an exhausted
/// `x-ratelimit-*` until its reset, then an exhausted `ratelimit-*` until its reset. A reset already
/// past (clock skew) still waits a second, so that the retry does not land in the old window.
pub(crate) fn server_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if let Some(wait) = header_text(headers, "retry-after").and_then(|v| headers::retry_after(v, now)) {
        return Some(wait);
    }
    let until = |reset: SystemTime| {
        reset
            .duration_since(now)
            .unwrap_or(Duration::ZERO)
            .max(Duration::from_secs(1))
    };
    if header_text(headers, "x-ratelimit-remaining") == Some("0")
        && let Some(reset) = header_text(headers, "x-ratelimit-reset").and_then(headers::epoch)
    {
        return Some(until(reset));
    }
    if header_text(headers, "ratelimit-remaining") == Some("0")
        && let Some(reset) = header_text(headers, "ratelimit-reset").and_then(|v| headers::reset_time(v, now))
    {
        return Some(until(reset));
    }
    None
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The retry state of one request: attempts so far, time waited, and the counters the backoffs use.
pub(crate) struct Retrier<'a> {
    policy: &'a RetryPolicy,
    method: &'a Method,
    url: &'a str,
    may_retry_after_sending: bool,
    history: Vec<String>,
    waited: Duration,
    backoffs: u32,
    untimed_limits: u32,
    last_limit: Option<LimitKind>,
}

impl<'a> Retrier<'a> {
    pub(crate) fn new(
        policy: &'a RetryPolicy,
        method: &'a Method,
        url: &'a str,
        may_retry_after_sending: bool,
    ) -> Self {
        Self {
            policy,
            method,
            url,
            may_retry_after_sending,
            history: Vec::new(),
            waited: Duration::ZERO,
            backoffs: 0,
            untimed_limits: 0,
            last_limit: None,
        }
    }

    pub(crate) fn attempts(&self) -> u32 {
        u32::try_from(self.history.len()).unwrap_or(u32::MAX)
    }

    /// The limit the last failed attempt hit, if it was a rate-limit refusal.
    pub(crate) fn last_limit(&self) -> Option<LimitKind> {
        self.last_limit.clone()
    }

    pub(crate) fn into_attempts(self) -> Attempts {
        Attempts(self.history)
    }

    /// Records a failed attempt and decides what comes next.
    pub(crate) fn next(&mut self, failure: &Failure<'_>, now: SystemTime) -> Next {
        let (status, cause) = match failure {
            Failure::Status { status, .. } => (Some(*status), status.as_u16().to_string()),
            Failure::Transport { kind } => (None, kind.to_string()),
        };
        self.history.push(cause.clone());
        let attempt = self.attempts();
        let planned = plan(failure, self.may_retry_after_sending, now);
        self.last_limit = planned.as_ref().and_then(|(_, limit)| limit.clone());
        let Some((wait, limit)) = planned else {
            return Next::Stop;
        };
        if attempt >= self.policy.max_attempts {
            return Next::Stop;
        }
        let remaining = self.policy.max_total_wait.saturating_sub(self.waited);
        let delay = match wait {
            Wait::Backoff => {
                // Our own choice of wait: shorten it to fit, and stop once nothing is left.
                if remaining.is_zero() {
                    return Next::Stop;
                }
                let delay = self.policy.backoff(self.backoffs).min(remaining);
                self.backoffs += 1;
                delay
            }
            Wait::Mandated(delay) => delay,
            Wait::UntimedLimit => {
                let delay = self.policy.limit_delay(self.untimed_limits);
                self.untimed_limits += 1;
                delay
            }
        };
        // A wait the server set (or GitHub's rule for limits) is not shortened: retrying before the
        // server's time only earns another refusal. One that does not fit fails now, clearly, rather
        // than as a doomed retry later.
        if wait != Wait::Backoff && delay > remaining {
            return Next::Cap(CapHit {
                status: status.unwrap_or(StatusCode::TOO_MANY_REQUESTS),
                limit: limit.unwrap_or(LimitKind::RetryAfter),
                wait: delay,
                retry_at: now.checked_add(delay).unwrap_or(now),
                waited: self.waited,
                cap: self.policy.max_total_wait,
            });
        }
        let event = RetryEvent {
            method: self.method.clone(),
            url: self.url.to_owned(),
            attempt,
            max_attempts: self.policy.max_attempts,
            delay,
            status,
            cause,
            limit,
            waited: self.waited,
        };
        self.waited = self.waited.saturating_add(delay);
        Next::Retry(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    const NOW: u64 = 1_777_636_800;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW)
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_str(v).unwrap()))
            .collect()
    }

    #[test]
    fn plan_table() {
        use LimitKind as L;
        use Wait as W;
        let secs = |s| W::Mandated(Duration::from_secs(s));
        let primary = || {
            Some(L::Primary {
                resource: Some("core".into()),
            })
        };
        // status, headers, body, may retry after sending, expected plan
        type Case = (
            u16,
            Vec<(&'static str, &'static str)>,
            &'static str,
            bool,
            Option<(Wait, Option<LimitKind>)>,
        );
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            (500, vec![], "", true, Some((W::Backoff, None))),
            (502, vec![], "", true, Some((W::Backoff, None))),
            // a POST may have been processed before the 502
            (502, vec![], "", false, None),
            // 503: not processed, any method
            (503, vec![], "", false, Some((W::Backoff, None))),
            (503, vec![("retry-after", "7")], "", false, Some((secs(7), Some(L::RetryAfter)))),
            (501, vec![], "", true, None),
            (404, vec![], "", true, None),
            (401, vec![], "", true, None),
            // a plain 403 is a permission problem
            (403, vec![("x-ratelimit-remaining", "12")], "Resource not accessible by integration", true, None),
            // GitHub primary limit: until the reset
            (403, vec![("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1777637100"), ("x-ratelimit-resource", "core")], "", false, Some((secs(300), primary()))),
            (429, vec![("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1777637100"), ("x-ratelimit-resource", "core")], "", false, Some((secs(300), primary()))),
            // retry-after wins over the reset (docs order)
            (429, vec![("retry-after", "30"), ("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1777637100"), ("x-ratelimit-resource", "core")], "", false, Some((secs(30), primary()))),
            // a reset in the past still waits a second
            (403, vec![("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1777636000"), ("x-ratelimit-resource", "core")], "", false, Some((secs(1), primary()))),
            // GitHub secondary limit: by body, or by retry-after on a 403
            (403, vec![], r#"{"message":"You have exceeded a Secondary Rate Limit."}"#, false, Some((W::UntimedLimit, Some(L::Secondary)))),
            (403, vec![("retry-after", "60")], "", false, Some((secs(60), Some(L::Secondary)))),
            // DigitalOcean: epoch reset
            (429, vec![("ratelimit-remaining", "0"), ("ratelimit-reset", "1777636845")], "", false, Some((secs(45), Some(L::Standard)))),
            // a bare 429
            (429, vec![], "", false, Some((W::UntimedLimit, Some(L::TooManyRequests)))),
            (429, vec![("retry-after", "Fri, 01 May 2026 12:00:09 GMT")], "", false, Some((secs(9), Some(L::TooManyRequests)))),
        ];
        for (code, pairs, body, safe, expected) in cases {
            let map = headers(&pairs);
            let failure = Failure::Status {
                status: StatusCode::from_u16(code).unwrap(),
                headers: &map,
                body: body.as_bytes(),
            };
            assert_eq!(
                plan(&failure, safe, now()),
                expected,
                "{code} {pairs:?} {body:?} safe={safe}"
            );
        }
    }

    #[test]
    fn plan_transport_table() {
        for (kind, safe, retried) in [
            (TransportKind::Connect, false, true),
            (TransportKind::Connect, true, true),
            (TransportKind::Connection, false, false),
            (TransportKind::Connection, true, true),
            (TransportKind::Timeout, false, false),
            (TransportKind::Body, false, false),
            (TransportKind::Body, true, true),
        ] {
            let got = plan(&Failure::Transport { kind }, safe, now());
            assert_eq!(got.is_some(), retried, "{kind:?} safe={safe}");
        }
    }

    #[test]
    fn a_create_is_never_retried_after_sending_whatever_its_method() {
        for (method, retry_non_idempotent, creates, retried) in [
            (Method::GET, false, false, true),
            (Method::PUT, false, false, true),
            (Method::POST, false, false, false),
            (Method::POST, true, false, true),
            // a PUT that starts a deployment per call
            (Method::PUT, false, true, false),
            (Method::POST, true, true, false),
        ] {
            let mut request = Request::new(method.clone(), "https://h/x").unwrap();
            if retry_non_idempotent {
                request = request.retry_non_idempotent();
            }
            if creates {
                request = request.creates();
            }
            assert_eq!(request.is_create(), creates);
            assert_eq!(
                request.may_retry_after_sending(),
                retried,
                "{method} retry_non_idempotent={retry_non_idempotent} creates={creates}"
            );
        }
    }

    #[test]
    fn answer_lost_table() {
        let transport = |kind| -> Error {
            ErrorKind::Transport {
                method: Method::POST,
                url: "https://h/x".into(),
                kind,
                cause: String::new(),
                attempts: Attempts::default(),
            }
            .into()
        };
        let status = |code| -> Error {
            ErrorKind::Status {
                method: Method::POST,
                url: "https://h/x".into(),
                status: StatusCode::from_u16(code).unwrap(),
                excerpt: String::new(),
                attempts: Attempts::default(),
                rate_limit: None,
                limit: None,
            }
            .into()
        };
        let octocrab = |code: Option<u16>| -> Error {
            ErrorKind::GitHub {
                route: "POST /x".into(),
                status: code.map(|c| StatusCode::from_u16(c).unwrap()),
                message: String::new(),
                attempts: Attempts::default(),
                limit: None,
            }
            .into()
        };
        let decode: Error = ErrorKind::Decode {
            method: Method::POST,
            url: "https://h/x".into(),
            reason: String::new(),
            excerpt: String::new(),
        }
        .into();
        for (error, lost) in [
            // the request never left
            (transport(TransportKind::Connect), false),
            // it left, and the answer did not come back whole
            (transport(TransportKind::Connection), true),
            (transport(TransportKind::Timeout), true),
            (transport(TransportKind::Body), true),
            (decode, true),
            (status(500), true),
            (status(502), true),
            (status(504), true),
            // refusals and verdicts: nothing was done
            (status(503), false),
            (status(429), false),
            (status(422), false),
            (status(404), false),
            (octocrab(None), true),
            (octocrab(Some(502)), true),
            (octocrab(Some(503)), false),
            (octocrab(Some(422)), false),
        ] {
            assert_eq!(answer_lost(&error), lost, "{error:?}");
        }
    }

    #[test]
    fn retrier_counts_attempts_and_caps_the_total_wait() {
        let policy = RetryPolicy {
            max_attempts: 3,
            max_total_wait: Duration::from_secs(100),
            ..RetryPolicy::for_tests()
        };
        let method = Method::GET;
        let map = headers(&[("retry-after", "60")]);
        let failure = Failure::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            headers: &map,
            body: b"",
        };
        let mut retrier = Retrier::new(&policy, &method, "https://h/x", true);
        let Next::Retry(event) = retrier.next(&failure, now()) else {
            panic!("first 429 is retried")
        };
        assert_eq!(
            (event.attempt, event.delay, event.waited),
            (1, Duration::from_secs(60), Duration::ZERO)
        );
        assert_eq!(
            event.to_string(),
            "retrying in 1m (429 from GET https://h/x, rate limit (429); attempt 1 of 3)"
        );
        // 60 s waited, 40 s left: another 60 s does not fit
        let Next::Cap(cap) = retrier.next(&failure, now()) else {
            panic!("second wait passes the cap")
        };
        assert_eq!(
            (cap.wait, cap.waited, cap.cap),
            (
                Duration::from_secs(60),
                Duration::from_secs(60),
                Duration::from_secs(100)
            )
        );
        assert_eq!(retrier.into_attempts().0, vec!["429", "429"]);

        let mut retrier = Retrier::new(&policy, &method, "https://h/x", true);
        let failure = Failure::Transport {
            kind: TransportKind::Connect,
        };
        assert!(matches!(retrier.next(&failure, now()), Next::Retry(_)));
        assert!(matches!(retrier.next(&failure, now()), Next::Retry(_)));
        assert!(
            matches!(retrier.next(&failure, now()), Next::Stop),
            "three attempts at most"
        );
    }
}
