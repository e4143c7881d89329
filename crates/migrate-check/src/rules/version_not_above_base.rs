//! `version-not-above-base`: new migration ordered before the base's newest.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "version-not-above-base",
    level: Level::Error,
    group: Group::History,
    summary: "new migration ordered before the base's newest",
    why: "A branch that adds a migration with an older version than one merged meanwhile: Drizzle silently skips it (it runs only entries newer than the last applied), golang-migrate never applies it (it tracks only the newest version), Flyway, goose, dbmate `--strict`, node-pg-migrate and Atlas refuse to migrate. Prisma and Diesel apply it out of order.",
    rewrite: "Regenerate or rename the migration so it sorts after the newest one in the base branch.",
    squawk: &[],
    check: Check::History,
};
