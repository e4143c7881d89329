//! `atlas-sum`: `atlas.sum` does not match the migration files.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "atlas-sum",
    level: Level::Error,
    group: Group::History,
    summary: "`atlas.sum` does not match the migration files",
    why: "Atlas refuses to apply a directory whose `atlas.sum` does not match: an edited migration, a file added without `atlas migrate hash`, or two branches that both added files.",
    rewrite: "Run `atlas migrate hash` after rebasing on the base branch.",
    squawk: &[],
    check: Check::History,
};
