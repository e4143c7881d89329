//! Integration tests of do-deploy: the binary run like an action step against the Prism-checked
//! DigitalOcean and GitHub stand-ins.
//!
//! Nothing sleeps: retries and polls wait on a clock that skips its waits (`OPS_RETRY_DELAY_SCALE=0`),
//! and the stand-ins move in virtual time. No test measures wall time.

// `allow-unwrap-in-tests` covers `#[test]` functions only; the helpers here are test code too.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap in a test helper is a failed test"
)]

mod actions;
mod bench;
mod deploy;
mod doks;
mod droplet;
mod failures;
mod faults;
mod github;
mod previews;
mod support;
