//! ops-net: the network layer of ops-actions.
//!
//! - [`HttpClient`]: one reqwest client with connect and request timeouts, the `ops-actions/<version>`
//!   user agent, ring as the only TLS crypto provider, and retries with exponential backoff and full
//!   jitter that honour `retry-after`, GitHub's `x-ratelimit-*` and the `ratelimit-*` headers
//!   DigitalOcean sends, all under a cap on the total wait ([`RetryPolicy`]);
//! - [`GitHub`]: the REST client on top of it, with the GHES base URL, conditional requests (ETag),
//!   `Link` pagination, and octocrab for typed endpoints;
//! - [`Error`]: one error type whose messages carry redacted URLs and bounded, masked body excerpts, and
//!   which implements [`ops_core::Report`].
//!
//! Tests make every wait instant with [`RetryPolicy::for_tests`] or `OPS_RETRY_DELAY_SCALE=0`; delays
//! are still computed and reported, so tests assert them instead of measuring time.

mod client;
mod error;
mod github;
pub mod headers;
mod policy;
pub mod tls;

pub use client::{
    Clock, Created, HttpClient, HttpClientBuilder, LostAnswer, OnRetry, Request, Response, RetryEvent,
    USER_AGENT, Usage, answer_lost, install_crypto_provider, is_idempotent,
};
pub use error::{Attempts, Error, ErrorKind, LimitKind, TransportKind};
pub use github::{API_VERSION, Conditional, GitHub, GitHubBuilder};
pub use headers::{RateLimit, RateLimitScheme};
pub use policy::{DELAY_SCALE_VAR, MAX_ATTEMPTS_VAR, MAX_WAIT_VAR, RetryPolicy};

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
