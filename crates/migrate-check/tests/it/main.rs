//! migrate-check integration tests: the binary and the library against fixtures, temporary git
//! repositories, the shared real-world corpus, squawk-linter, and a real PostgreSQL.

// Helpers outside `#[test]` functions panic on setup failures too; that is what a test should do.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "test helpers fail the test on setup errors"
)]

mod cli;
mod comment;
mod corpus;
mod differential;
mod history;
mod robustness;
mod rules;
mod support;
mod trace;
