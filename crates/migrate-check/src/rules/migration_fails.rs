//! `migration-fails`: migration fails on a real PostgreSQL.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "migration-fails",
    level: Level::Error,
    group: Group::Trace,
    summary: "migration fails on a real PostgreSQL",
    why: "The statement failed when applied, in the runner's transaction mode, on a database built from the base migrations: it will fail the deploy.",
    rewrite: "Fix the statement; the error names the file and the statement.",
    squawk: &[],
    check: Check::Trace,
};
