//! `trace-table-rewrite`: statement rewrote an existing table on a real PostgreSQL.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "trace-table-rewrite",
    level: Level::Error,
    group: Group::Trace,
    summary: "statement rewrote an existing table on a real PostgreSQL",
    why: "The table's `relfilenode` changed: PostgreSQL wrote a new copy of the table (and rebuilt its indexes) under `ACCESS EXCLUSIVE`. Time grows with table size; with `seed-rows` the duration shows a first estimate.",
    rewrite: "Use an expand/contract change instead (new column, backfill in batches, switch, drop).",
    squawk: &[],
    check: Check::Trace,
};
