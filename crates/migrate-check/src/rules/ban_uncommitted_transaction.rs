//! `ban-uncommitted-transaction`: `BEGIN` without a matching `COMMIT`.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-uncommitted-transaction",
    level: Level::Error,
    group: Group::Transactions,
    summary: "`BEGIN` without a matching `COMMIT`",
    why: "A transaction the script opens and never commits is rolled back when the connection closes (or left open by the runner), so the migration silently does nothing or holds its locks.",
    rewrite: "End every `BEGIN` with `COMMIT` in the same script.",
    squawk: &["ban-uncommitted-transaction"],
    check: Check::Engine,
};
