//! Integration tests of the `lint-gate` binary: one binary, a module per area.

mod cli;
mod fixtures;
mod git;
mod github;
mod integrity;
mod props;
mod support;
