//! `invalid-migration-file`: migration file the runner rejects or ignores.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "invalid-migration-file",
    level: Level::Error,
    group: Group::History,
    summary: "migration file the runner rejects or ignores",
    why: "A goose file without `-- +goose Up`, a dbmate file with SQL before `-- migrate:up`, a down migration without its up: the runner refuses or silently skips them.",
    rewrite: "Fix the file to the framework's format.",
    squawk: &[],
    check: Check::History,
};
