//! `down-does-not-revert`: down migration that does not undo its up migration.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "down-does-not-revert",
    level: Level::Warning,
    group: Group::Correctness,
    summary: "down migration that does not undo its up migration",
    why: "A rollback runs the down migration; if it leaves tables, columns, types or views the up created (or fails to restore what it dropped), the schema after rollback is not the one the previous release expects. Checked statically against the schema model when both scripts stay within what the model follows (no dynamic SQL, function calls or cascades), and on a real PostgreSQL, for every object, when `database-url` is set.",
    rewrite: "Make the down migration drop what the up creates and recreate what it drops, in reverse order.",
    squawk: &[],
    check: Check::Engine,
};
