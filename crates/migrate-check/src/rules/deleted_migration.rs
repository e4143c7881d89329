//! `deleted-migration`: migration already merged into the base was deleted.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "deleted-migration",
    level: Level::Error,
    group: Group::History,
    summary: "migration already merged into the base was deleted",
    why: "Databases that applied it keep its changes while new ones never get them, and sqlx, Flyway, goose and Atlas stop on a missing applied migration.",
    rewrite: "Restore it; undo its effect with a new migration.",
    squawk: &[],
    check: Check::History,
};
