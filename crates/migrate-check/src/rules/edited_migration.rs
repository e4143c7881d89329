//! `edited-migration`: migration already merged into the base was edited.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "edited-migration",
    level: Level::Error,
    group: Group::History,
    summary: "migration already merged into the base was edited",
    why: "Databases that already applied the migration never see the edit, so environments drift apart; sqlx, Flyway and Atlas also refuse to run when the checksum of an applied migration changes.",
    rewrite: "Leave merged migrations alone and write a new migration with the change.",
    squawk: &[],
    check: Check::History,
};
