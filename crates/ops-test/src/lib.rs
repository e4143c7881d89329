//! ops-test: test support for ops-actions (a dev-dependency only, never shipped).
//!
//! - [`harness`]: a fake runner (GITHUB_* files in a temp dir, scrubbed environment) and parsers for what
//!   a step leaves behind;
//! - the local GitHub and DigitalOcean API stand-ins, with recording, scripting, fault injection and
//!   contract checks against the official API descriptions (see this crate's README);
//! - [`kubernetes`]: a stateful Kubernetes API stand-in (Deployments, ReplicaSets and Pods whose fate a
//!   test scripts, watches, server-side apply, Leases, access reviews), checked against the official
//!   description and driven by kubectl in tests;
//! - [`droplet`]: a real test ground for deploys to Droplets over SSH (network namespaces running sshd,
//!   dockerd and nginx, and a registry; needs root and `scripts/setup-droplet`).

pub mod digitalocean;
pub mod droplet;
pub mod github;
pub mod harness;
pub mod kubernetes;
pub mod sarif;
pub mod sim;
