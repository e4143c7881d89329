//! ops-test: test support for ops-actions (a dev-dependency only, never shipped).
//!
//! - [`harness`]: a fake runner (GITHUB_* files in a temp dir, scrubbed environment) and parsers for what
//!   a step leaves behind;
//! - the local GitHub and DigitalOcean API stand-ins, with recording, scripting, fault injection and
//!   contract checks against the official API descriptions (see this crate's README).

pub mod digitalocean;
pub mod github;
pub mod harness;
pub mod sarif;
pub mod sim;
