//! Integration tests of the `lint-gate` binary: one binary, a module per area.

mod cli;
mod fixtures;
mod git;
mod github;
mod props;
mod support;
