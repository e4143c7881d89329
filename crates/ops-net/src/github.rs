//! [`GitHub`]: the REST API client the tools share.
//!
//! Two paths, one policy:
//! - The untyped helpers ([`GitHub::get_json`], [`GitHub::post_json`], [`GitHub::patch_json`],
//!   [`GitHub::paginate`], [`GitHub::get_conditional`]) go through ops-net's own [`HttpClient`]. That is
//!   deliberate: octocrab's retry layer retries with no back-off and no cap on the wait (a primary-limit
//!   reset can block for an hour), its responses hide the `ETag` and `Link` plumbing that conditional
//!   requests and page walks need, and a body read failure surfaces after its retry layer has given up.
//!   Our client reads the whole body inside the retry loop, so every rule (backoff with jitter, the
//!   docs' rate-limit order, the total-wait cap, POST safety) holds in one place.
//! - [`GitHub::octocrab`] gives octocrab for its typed endpoints, built with `RetryConfig::None`, the same
//!   base URL (a GHES `/api/v3` prefix is kept) and token. Wrap calls in [`GitHub::octocrab_call`] to
//!   get the same retry policy; octocrab's `GitHubError` carries the status and headers it needs.
//!
//! Every helper request carries `accept: application/vnd.github+json`, a pinned
//! `x-github-api-version` and the `ops-actions/<version>` user agent. octocrab sends its own user agent
//! (`octocrab`): its builder can only append headers, and two `user-agent` values would be worse.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http::header::{ACCEPT, ETAG, IF_NONE_MATCH};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use octocrab::Octocrab;
use ops_core::secret::{redact, redact_url};
use ops_core::{Env, Secret};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::Usage;
use crate::client::{
    Failure, HttpClient, HttpClientBuilder, Next, Request, Response, Retrier, bearer_header, decode_json,
    is_idempotent, masks,
};
use crate::error::{Attempts, Error, ErrorKind, TransportKind, excerpt};
use crate::headers::{RateLimit, next_link};
use crate::policy::RetryPolicy;

/// The REST API version every request pins.
pub const API_VERSION: &str = "2022-11-28";

/// How many ETag entries a client keeps. Tools poll a handful of endpoints; the bound only guards
/// against a caller that conditional-GETs an unbounded set of URLs.
const ETAG_CACHE_ENTRIES: usize = 256;

/// How many characters of an octocrab error message an [`ErrorKind::GitHub`] keeps.
const MESSAGE_CHARS: usize = 300;

/// A conditional GET's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conditional<T> {
    /// The value: fresh, or the cached one when the server said `304 Not Modified`.
    pub value: T,
    /// Whether the server answered 304, so the request cost no rate-limit budget.
    pub not_modified: bool,
}

/// Builds a [`GitHub`].
#[derive(Debug, Clone)]
pub struct GitHubBuilder {
    api_url: String,
    token: Option<Secret>,
    http: HttpClientBuilder,
}

impl GitHubBuilder {
    /// The token (`github-token` input). Without one, only public endpoints work.
    #[must_use]
    pub fn token(mut self, token: Secret) -> Self {
        self.token = Some(token);
        self
    }

    /// The HTTP settings: timeouts, retry policy, retry callback, clock. Its token, if any, is replaced
    /// by [`GitHubBuilder::token`].
    #[must_use]
    pub fn http(mut self, http: HttpClientBuilder) -> Self {
        self.http = http;
        self
    }

    /// Builds the client. octocrab is built on first use (it needs a running tokio runtime).
    pub fn build(self) -> Result<GitHub, Error> {
        let base = parse_base(&self.api_url)?;
        let token = self.token.or_else(|| self.http.token().cloned());
        if let Some(token) = &token {
            // Fails early, and keeps a bad token away from octocrab, which would panic on it.
            bearer_header(token)?;
        }
        let mut http = self
            .http
            .default_header(ACCEPT, HeaderValue::from_static("application/vnd.github+json"))
            .default_header(
                HeaderName::from_static("x-github-api-version"),
                HeaderValue::from_static(API_VERSION),
            );
        if let Some(token) = &token {
            http = http.bearer_token(token.clone());
        }
        let connect_timeout = http.connect_timeout;
        let timeout = http.timeout;
        Ok(GitHub {
            http: http.build()?,
            base,
            token,
            connect_timeout,
            timeout,
            etags: Arc::new(Mutex::new(HashMap::new())),
            octocrab: Arc::new(Mutex::new(None)),
        })
    }
}

/// The GitHub REST client. Cheap to clone; clones share the connection pool, ETag cache and usage.
#[derive(Clone)]
pub struct GitHub {
    http: HttpClient,
    base: Url,
    token: Option<Secret>,
    connect_timeout: std::time::Duration,
    timeout: std::time::Duration,
    etags: Arc<Mutex<HashMap<String, Cached>>>,
    octocrab: Arc<Mutex<Option<Octocrab>>>,
}

#[derive(Clone)]
struct Cached {
    etag: HeaderValue,
    body: Bytes,
}

impl fmt::Debug for GitHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHub")
            .field("api_url", &redact_url(self.base.as_str()))
            .field("token", &self.token)
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

impl GitHub {
    /// A builder for the API at `api_url` (`https://api.github.com`, or `https://HOST/api/v3` on GHES).
    pub fn builder(api_url: impl Into<String>) -> GitHubBuilder {
        GitHubBuilder {
            api_url: api_url.into(),
            token: None,
            http: HttpClientBuilder::default(),
        }
    }

    /// The client for this run: `GITHUB_API_URL` (default `https://api.github.com`), the retry policy
    /// adjusted by `OPS_RETRY_*`, and the token if there is one.
    pub fn from_env(env: &Env, token: Option<Secret>) -> Result<Self, Error> {
        let mut builder = Self::builder(env.github_api_url())
            .http(HttpClientBuilder::default().retry_policy(RetryPolicy::from_env(env)?));
        if let Some(token) = token {
            builder = builder.token(token);
        }
        builder.build()
    }

    /// The API base URL, without a trailing slash (not redacted: do not print it).
    pub fn api_url(&self) -> &Url {
        &self.base
    }

    /// The HTTP client underneath, for requests the helpers do not cover.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// What this client spent so far (304s are counted apart: they cost no budget).
    pub fn usage(&self) -> Usage {
        self.http.usage()
    }

    /// The budget the last response reported.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.http.rate_limit()
    }

    /// The absolute URL of a route. `/repos/o/r` is joined to the base, keeping its path prefix
    /// (`https://HOST/api/v3` → `https://HOST/api/v3/repos/o/r`); a route that already starts with the
    /// prefix is not prefixed twice. An absolute URL is accepted only on the API's own origin, so the token
    /// is never sent elsewhere (a `Link` header that points away is refused).
    pub fn url(&self, route: &str) -> Result<Url, Error> {
        let route = route.trim();
        let invalid = |e: url::ParseError| {
            ErrorKind::InvalidUrl {
                url: redact_url(route),
                reason: e.to_string(),
            }
            .into()
        };
        if route.starts_with("http://") || route.starts_with("https://") {
            let url = Url::parse(route).map_err(invalid)?;
            if url.origin() != self.base.origin() {
                return Err(ErrorKind::ForeignUrl {
                    url: redact_url(route),
                    api: redact_url(self.base.as_str()),
                }
                .into());
            }
            return Ok(url);
        }
        let path = if route.starts_with('/') {
            route.to_owned()
        } else {
            format!("/{route}")
        };
        let prefix = self.base.path().trim_end_matches('/');
        let already_prefixed = !prefix.is_empty()
            && path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']));
        let joined = if already_prefixed {
            format!("{}{path}", self.base.origin().ascii_serialization())
        } else {
            format!("{}{path}", self.base.as_str().trim_end_matches('/'))
        };
        Url::parse(&joined).map_err(invalid)
    }

    /// A request to a route, for [`GitHub::send`] (to opt a POST into retries, add headers, …).
    pub fn request(&self, method: Method, route: &str) -> Result<Request, Error> {
        Ok(Request::from_url(method, self.url(route)?))
    }

    /// Sends a request built with [`GitHub::request`]. A request for another origin is refused: this
    /// client attaches the token to everything it sends.
    pub async fn send(&self, request: Request) -> Result<Response, Error> {
        if request.url().origin() != self.base.origin() {
            return Err(ErrorKind::ForeignUrl {
                url: redact_url(request.url().as_str()),
                api: redact_url(self.base.as_str()),
            }
            .into());
        }
        self.http.send(request).await
    }

    /// GET a route and parse the JSON.
    pub async fn get_json<T: DeserializeOwned>(&self, route: &str) -> Result<T, Error> {
        self.send(self.request(Method::GET, route)?).await?.json()
    }

    /// POST a JSON body. Not retried after the request may have reached GitHub (a create must not run
    /// twice); rate-limit refusals and 503s are retried. Use [`GitHub::request`] with
    /// [`Request::retry_non_idempotent`] for endpoints that are safe to repeat.
    pub async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        route: &str,
        body: &B,
    ) -> Result<T, Error> {
        self.send(self.request(Method::POST, route)?.json(body)?)
            .await?
            .json()
    }

    /// PATCH a JSON body (same retry rules as POST: PATCH is not idempotent in general).
    pub async fn patch_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        route: &str,
        body: &B,
    ) -> Result<T, Error> {
        self.send(self.request(Method::PATCH, route)?.json(body)?)
            .await?
            .json()
    }

    /// PUT a JSON body (idempotent: retried like a GET).
    pub async fn put_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        route: &str,
        body: &B,
    ) -> Result<T, Error> {
        self.send(self.request(Method::PUT, route)?.json(body)?)
            .await?
            .json()
    }

    /// DELETE a route.
    pub async fn delete(&self, route: &str) -> Result<(), Error> {
        self.send(self.request(Method::DELETE, route)?).await.map(drop)
    }

    /// GET with `If-None-Match`: a `304 Not Modified` returns the cached body and costs no rate-limit
    /// budget (GitHub does not count authenticated 304s). For endpoints a tool polls.
    pub async fn get_conditional<T: DeserializeOwned>(&self, route: &str) -> Result<Conditional<T>, Error> {
        let url = self.url(route)?;
        let key = url.as_str().to_owned();
        let cached = self.etags().get(&key).cloned();
        let mut request = Request::from_url(Method::GET, url);
        if let Some(cached) = &cached {
            request = request.header(IF_NONE_MATCH, cached.etag.clone());
        }
        let response = self.send(request).await?;
        if response.is_not_modified() {
            let Some(cached) = cached else {
                // Only possible if a proxy invents a 304: there is nothing to return.
                return Err(ErrorKind::Status {
                    method: Method::GET,
                    url: redact_url(&key),
                    status: StatusCode::NOT_MODIFIED,
                    excerpt: "`304 Not Modified` to a request without `if-none-match`".to_owned(),
                    attempts: Attempts::default(),
                    rate_limit: response.rate_limit().cloned(),
                    limit: None,
                }
                .into());
            };
            let value = decode_json(&cached.body, &Method::GET, &redact_url(&key), self.http.secrets())?;
            return Ok(Conditional {
                value,
                not_modified: true,
            });
        }
        let value = response.json()?;
        if let Some(etag) = response.headers().get(ETAG) {
            let mut etags = self.etags();
            if etags.len() >= ETAG_CACHE_ENTRIES && !etags.contains_key(&key) {
                etags.clear();
            }
            etags.insert(
                key,
                Cached {
                    etag: etag.clone(),
                    body: response.into_bytes(),
                },
            );
        }
        Ok(Conditional {
            value,
            not_modified: false,
        })
    }

    /// Every item of a paginated GET whose pages are JSON arrays, following `Link: rel="next"`. Asks
    /// for 100 per page unless the route sets `per_page`. More than `max_pages` pages is
    /// [`ErrorKind::TooManyPages`] rather than a silently partial list.
    pub async fn paginate<T: DeserializeOwned>(
        &self,
        route: &str,
        max_pages: usize,
    ) -> Result<Vec<T>, Error> {
        self.walk(route, max_pages, |response| response.json::<Vec<T>>())
            .await
    }

    /// Like [`GitHub::paginate`] for endpoints that wrap each page's items in an object
    /// (`{"total_count": 3, "check_runs": […]}`): the items are taken from `field`.
    pub async fn paginate_field<T: DeserializeOwned>(
        &self,
        route: &str,
        field: &str,
        max_pages: usize,
    ) -> Result<Vec<T>, Error> {
        self.walk(route, max_pages, |response| {
            let mut page: serde_json::Map<String, serde_json::Value> = response.json()?;
            let items = page.remove(field).unwrap_or(serde_json::Value::Null);
            let bytes = serde_json::to_vec(&items).map_err(|e| ErrorKind::Encode {
                reason: e.to_string(),
            })?;
            decode_json::<Vec<T>>(
                &bytes,
                &Method::GET,
                &redact_url(response.url().as_str()),
                self.http.secrets(),
            )
            .map_err(|e| match e.into_kind() {
                ErrorKind::Decode {
                    method,
                    url,
                    reason,
                    excerpt,
                } => ErrorKind::Decode {
                    method,
                    url,
                    reason: format!("field `{field}`: {reason}"),
                    excerpt,
                }
                .into(),
                other => other.into(),
            })
        })
        .await
    }

    async fn walk<T>(
        &self,
        route: &str,
        max_pages: usize,
        items: impl Fn(&Response) -> Result<Vec<T>, Error>,
    ) -> Result<Vec<T>, Error> {
        let max_pages = max_pages.max(1);
        let mut url = self.url(route)?;
        if !url.query_pairs().any(|(k, _)| k == "per_page") {
            url.query_pairs_mut().append_pair("per_page", "100");
        }
        let first = redact_url(url.as_str());
        let mut all = Vec::new();
        for page in 1..=max_pages {
            let response = self.send(Request::from_url(Method::GET, url)).await?;
            all.extend(items(&response)?);
            match next_link(response.headers()) {
                None => return Ok(all),
                Some(_) if page == max_pages => break,
                Some(next) => url = self.url(&next)?,
            }
        }
        Err(ErrorKind::TooManyPages {
            url: first,
            max: max_pages,
        }
        .into())
    }

    fn etags(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        self.etags.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// octocrab for typed endpoints, on the same base URL and token, with its own retries off (wrap
    /// calls in [`GitHub::octocrab_call`]). Built on first use; needs a running tokio runtime.
    pub fn octocrab(&self) -> Result<Octocrab, Error> {
        let mut slot = self.octocrab.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(octocrab) = slot.as_ref() {
            return Ok(octocrab.clone());
        }
        // octocrab spawns its service worker with `tokio::spawn`, which panics outside a runtime.
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(ErrorKind::Build {
                reason: "octocrab needs a running tokio runtime".to_owned(),
            }
            .into());
        }
        crate::client::install_crypto_provider();
        let build_error = |e: octocrab::Error| ErrorKind::Build {
            reason: redact(&e.to_string(), &masks(self.http.secrets())),
        };
        let mut builder = Octocrab::builder()
            .base_uri(self.base.as_str().trim_end_matches('/'))
            .map_err(build_error)?
            .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
            .set_connect_timeout(Some(self.connect_timeout))
            .set_read_timeout(Some(self.timeout));
        if let Some(token) = &self.token {
            // Review point: octocrab keeps the token in its own `SecretString`.
            builder = builder.personal_token(token.expose().trim().to_owned());
        }
        let octocrab = builder.build().map_err(build_error)?;
        *slot = Some(octocrab.clone());
        Ok(octocrab)
    }

    /// Runs an octocrab call with this client's retry policy. `method` and `route` say what the call
    /// does (`POST`, `/repos/o/r/check-runs`): the method decides whether a broken connection may be
    /// retried, and both name the call in messages. `call` gets a fresh handle for each attempt.
    ///
    /// octocrab hides the responses of successful calls, so [`GitHub::usage`] counts these calls only
    /// through their retries and waits, and [`GitHub::rate_limit`] reflects the helpers' responses.
    pub async fn octocrab_call<T, F, Fut>(&self, method: Method, route: &str, mut call: F) -> Result<T, Error>
    where
        F: FnMut(Octocrab) -> Fut,
        Fut: Future<Output = octocrab::Result<T>>,
    {
        let octocrab = self.octocrab()?;
        let shown = self
            .url(route)
            .map(|u| redact_url(u.as_str()))
            .unwrap_or_else(|_| redact_url(route));
        let label = format!("{method} {}", redact_url(route));
        let masks = masks(self.http.secrets());
        let mut retrier = Retrier::new(self.http.policy(), &method, &shown, is_idempotent(&method));
        let no_headers = HeaderMap::new();
        loop {
            let error = match call(octocrab.clone()).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let (status, next) = match &error {
                octocrab::Error::GitHub { source, .. } => {
                    let failure = Failure::Status {
                        status: source.status_code,
                        headers: source.headers.as_ref().unwrap_or(&no_headers),
                        body: source.message.as_bytes(),
                    };
                    (Some(source.status_code), retrier.next(&failure, self.http.now()))
                }
                octocrab::Error::Hyper { .. }
                | octocrab::Error::Service { .. }
                | octocrab::Error::Other { .. } => (
                    None,
                    retrier.next(
                        &Failure::Transport {
                            kind: transport_kind(&error),
                        },
                        self.http.now(),
                    ),
                ),
                // Encoding, decoding and URL errors will not change on a retry.
                _ => (None, Next::Stop),
            };
            match next {
                Next::Retry(event) => self.http.wait(event).await,
                Next::Stop => {
                    let limit = retrier.last_limit();
                    let mut attempts = retrier.into_attempts();
                    if attempts.0.is_empty() {
                        attempts.0.push("error".to_owned());
                    }
                    return Err(ErrorKind::GitHub {
                        limit,
                        route: label,
                        status,
                        message: excerpt(octocrab_message(&error).as_bytes(), &masks, MESSAGE_CHARS),
                        attempts,
                    }
                    .into());
                }
                Next::Cap(cap) => {
                    return Err(cap.into_error(method.clone(), shown.clone(), retrier.into_attempts()));
                }
            }
        }
    }
}

/// The text of an octocrab error: GitHub's message for an API error, the innermost cause otherwise.
fn octocrab_message(error: &octocrab::Error) -> String {
    match error {
        octocrab::Error::GitHub { source, .. } => source.to_string(),
        other => crate::client::root_cause(other),
    }
}

/// Whether an octocrab transport error happened before the request was sent. octocrab does not say, so
/// look for the OS error in the chain: only a refused connection proves the server saw nothing.
fn transport_kind(error: &(dyn std::error::Error + 'static)) -> TransportKind {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return TransportKind::Connect,
                std::io::ErrorKind::TimedOut => return TransportKind::Timeout,
                _ => {}
            }
        }
        current = e.source();
    }
    TransportKind::Connection
}

fn parse_base(api_url: &str) -> Result<Url, Error> {
    let trimmed = api_url.trim().trim_end_matches('/');
    let invalid = |reason: String| {
        ErrorKind::InvalidUrl {
            url: redact_url(trimmed),
            reason,
        }
        .into()
    };
    let url = Url::parse(trimmed).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "expected `http` or `https`, got `{}`",
            url.scheme()
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("an API base URL has no query or fragment".to_owned()));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(api: &str) -> GitHub {
        GitHub::builder(api).build().unwrap()
    }

    #[test]
    fn url_joins_and_keeps_the_prefix() {
        for (base, route, expected) in [
            (
                "https://api.github.com",
                "/repos/o/r",
                "https://api.github.com/repos/o/r",
            ),
            (
                "https://api.github.com/",
                "repos/o/r?per_page=1",
                "https://api.github.com/repos/o/r?per_page=1",
            ),
            (
                "https://ghes.example/api/v3",
                "/repos/o/r",
                "https://ghes.example/api/v3/repos/o/r",
            ),
            (
                "https://ghes.example/api/v3/",
                "/repos/o/r",
                "https://ghes.example/api/v3/repos/o/r",
            ),
            // a route that already carries the prefix (a `Link` path, say) is not prefixed twice
            (
                "https://ghes.example/api/v3",
                "/api/v3/repos/o/r",
                "https://ghes.example/api/v3/repos/o/r",
            ),
            // but a path that merely starts with the same letters is
            (
                "https://ghes.example/api/v3",
                "/api/v30",
                "https://ghes.example/api/v3/api/v30",
            ),
            (
                "https://ghes.example/api/v3",
                "https://ghes.example/api/v3/x?page=2",
                "https://ghes.example/api/v3/x?page=2",
            ),
        ] {
            assert_eq!(
                client(base).url(route).unwrap().as_str(),
                expected,
                "{base} + {route}"
            );
        }
    }

    #[test]
    fn url_refuses_other_hosts() {
        let gh = client("https://ghes.example/api/v3");
        for route in [
            "https://evil.example/api/v3/x",
            "http://ghes.example/api/v3/x",
            "https://ghes.example:8443/x",
        ] {
            assert!(
                matches!(
                    gh.url(route).map_err(Error::into_kind),
                    Err(ErrorKind::ForeignUrl { .. })
                ),
                "{route}"
            );
        }
    }

    #[test]
    fn base_url_is_checked() {
        for base in ["ftp://h/api", "not a url", "https://h/api?x=1"] {
            assert!(
                matches!(
                    GitHub::builder(base).build().map_err(Error::into_kind),
                    Err(ErrorKind::InvalidUrl { .. })
                ),
                "{base}"
            );
        }
        let bad_token = GitHub::builder("https://h")
            .token(Secret::new("abc\ndef"))
            .build()
            .unwrap_err();
        assert!(matches!(bad_token.kind(), ErrorKind::Config { .. }));
        assert!(!format!("{bad_token} {bad_token:?}").contains("abc"));
    }
}
