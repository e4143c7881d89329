//! The DigitalOcean API client the droplet-compose and doks targets share (App Platform has its own,
//! with creates that are looked up after a lost answer): `api-url` checked, the token as a bearer,
//! GETs retried when safe by ops-net. Each target adds its own calls in its own module.

use http::HeaderValue;
use http::header::ACCEPT;
use ops_core::Secret;
use ops_core::secret::redact_url;
use ops_net::{HttpClient, HttpClientBuilder, RetryPolicy};

use crate::error::Error;

/// The client.
#[derive(Debug)]
pub struct Api {
    pub(crate) http: HttpClient,
    /// `https://api.digitalocean.com`, without `/v2`.
    pub(crate) base: String,
}

impl Api {
    /// A client for `base_url` with `token`.
    pub fn new(base_url: &str, token: Secret, policy: RetryPolicy) -> Result<Self, Error> {
        let base = base_url.trim().trim_end_matches('/');
        let base = base.strip_suffix("/v2").unwrap_or(base).to_owned();
        if url::Url::parse(&base).map(|u| matches!(u.scheme(), "http" | "https")) != Ok(true) {
            return Err(Error::input(
                format!("input `api-url` is not an http(s) URL: `{}`", redact_url(&base)),
                None,
            ));
        }
        let http = HttpClientBuilder::default()
            .retry_policy(policy)
            .default_header(ACCEPT, HeaderValue::from_static("application/json"))
            .bearer_token(token)
            .build()
            .map_err(|e| Error::api("could not set up the HTTP client", e))?;
        Ok(Self { http, base })
    }
}

/// A failed call while doing `what`: 401 and 403 are the token's fault (exit 2, naming the `scopes`
/// it needs); anything else is the API's.
pub fn scope_error(what: &str, scopes: &str, e: ops_net::Error) -> Error {
    match e.status().map(|s| s.as_u16()) {
        Some(401) => Error::input(
            format!("could not {what}: the `token` was refused (401)"),
            Some("pass a valid DigitalOcean token: `token: ${{ secrets.DIGITALOCEAN_TOKEN }}`"),
        ),
        Some(403) => Error::input(
            format!("could not {what}: the `token` lacks a scope it needs ({scopes})"),
            Some("create a token with those scopes (a custom-scoped token is enough)"),
        ),
        _ => Error::api(format!("could not {what}"), e),
    }
}
