//! `ops-migrations-sum`: `ops-migrations.sum` does not match the migration files.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ops-migrations-sum",
    level: Level::Error,
    group: Group::History,
    summary: "`ops-migrations.sum` does not match the migration files",
    why: "The same chained-hash protection as `atlas.sum`, for frameworks without one (opt in by creating the file with `write-sum`): an edited or reordered migration changes every later line, and two branches that each add a migration conflict in git instead of merging silently.",
    rewrite: "Rebase on the base branch and run migrate-check with `write-sum: true` to rewrite the file.",
    squawk: &[],
    check: Check::History,
};
