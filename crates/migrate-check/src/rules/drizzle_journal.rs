//! `drizzle-journal`: Drizzle journal, files and snapshots disagree.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "drizzle-journal",
    level: Level::Error,
    group: Group::History,
    summary: "journal, files and snapshots of a Drizzle folder disagree",
    why: "Drizzle's migrator runs what `meta/_journal.json` lists: a listed file that is missing fails the deploy, an unlisted `.sql` file never runs, an entry whose `when` is not after its predecessor's is skipped, and a broken snapshot `prevId` chain means two branches generated migrations from the same parent.",
    rewrite: "Regenerate the migration with `drizzle-kit generate` after merging the base branch.",
    squawk: &[],
    check: Check::History,
};
