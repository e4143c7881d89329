//! `duplicate-version`: two migrations with the same version.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "duplicate-version",
    level: Level::Error,
    group: Group::History,
    summary: "two migrations with the same version",
    why: "Runners refuse duplicate versions (Flyway treats `1.0` and `1` as the same), or apply only one of them.",
    rewrite: "Give each migration its own version.",
    squawk: &[],
    check: Check::History,
};
