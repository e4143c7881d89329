//! Integration tests of the `image-build-tag` binary: metadata against a GitHub API stand-in, real
//! buildah builds pushed to a real `docker-registry` on loopback, and the docker builder's command
//! lines through a recording `docker` on PATH.

// `allow-unwrap-in-tests` covers `#[test]` functions only; the helpers here are test code too.
#![allow(
    clippy::unwrap_used,
    reason = "a failed unwrap in a test helper is a failed test"
)]

mod buildah;
mod docker;
mod metadata;
mod support;
