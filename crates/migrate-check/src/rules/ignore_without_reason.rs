//! `ignore-without-reason`: `migrate-check-ignore` comment without a reason.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ignore-without-reason",
    level: Level::Error,
    group: Group::Meta,
    summary: "`migrate-check-ignore` comment without a reason",
    why: "An ignore is a decision someone made; without the reason the next reader cannot tell whether it still holds. The comment has no effect until it says why.",
    rewrite: "Write the reason after ` -- `: `-- migrate-check-ignore ban-drop-column -- column unused since v2.3`.",
    squawk: &[],
    check: Check::Engine,
};
