//! `trace-blocking-lock`: statement took a lock that blocks traffic on an existing table, on a real PostgreSQL.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "trace-blocking-lock",
    level: Level::Warning,
    group: Group::Trace,
    summary: "statement took a lock that blocks traffic on an existing table, on a real PostgreSQL",
    why: "Observed in `pg_locks`: the statement took a lock on a table that existed before the change, in a mode that blocks reads (`ACCESS EXCLUSIVE`) or writes (`SHARE` and stronger), and held it until its transaction ended.",
    rewrite: "Use the lock-friendly form (`CONCURRENTLY`, `NOT VALID` + `VALIDATE`), keep the transaction short, and set `lock_timeout`.",
    squawk: &[],
    check: Check::Trace,
};
