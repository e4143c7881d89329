//! `renamed-migration`: migration already merged into the base was renamed.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "renamed-migration",
    level: Level::Error,
    group: Group::History,
    summary: "migration already merged into the base was renamed",
    why: "The runner identifies applied migrations by version or name: a renamed migration looks new, runs again and fails (or, for version-only runners, the old one looks missing).",
    rewrite: "Keep the name; write a new migration for new changes.",
    squawk: &[],
    check: Check::History,
};
