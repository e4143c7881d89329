//! The integration tests of ops-net, in one binary: real HTTP against local servers on `127.0.0.1:0`,
//! no external network, no sleeps (retry delays are computed and asserted, never waited out).

// `allow-unwrap-in-tests` covers `#[test]` functions only; the server helpers here are test code too.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap in a test helper is a failed test"
)]

mod create;
mod github;
mod http;
mod secrets;
mod support;
mod tls;
