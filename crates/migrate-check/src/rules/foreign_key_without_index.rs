//! `foreign-key-without-index`: foreign key whose referencing columns have no index.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "foreign-key-without-index",
    level: Level::Warning,
    group: Group::Locking,
    summary: "foreign key whose referencing columns have no index",
    why: "Every `DELETE` or key `UPDATE` on the referenced table must find the referencing rows: without an index on the foreign key columns that is a sequential scan of the referencing table, under lock, per row. Checked at the end of the change, so an index created later in the same change counts.",
    rewrite: "Create an index (`CONCURRENTLY` on an existing table) whose leading columns are the foreign key's columns.",
    squawk: &[],
    check: Check::Engine,
};
