//! `prisma-lock-provider`: `migration_lock.toml` missing, changed, or not PostgreSQL.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "prisma-lock-provider",
    level: Level::Error,
    group: Group::History,
    summary: "`migration_lock.toml` missing, changed, or not PostgreSQL",
    why: "Prisma refuses to apply migrations whose lock file names another provider; a changed provider means the migrations were generated for another database.",
    rewrite: "Keep `provider = \"postgresql\"` and do not edit the lock file by hand.",
    squawk: &[],
    check: Check::History,
};
