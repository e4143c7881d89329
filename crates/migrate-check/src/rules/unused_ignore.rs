//! `unused-ignore`: ignore comment that suppresses nothing.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "unused-ignore",
    level: Level::Warning,
    group: Group::Meta,
    summary: "ignore comment that suppresses nothing",
    why: "An ignore comment that no longer matches a finding hides the next real one and misleads readers.",
    rewrite: "Remove it, or fix the rule name.",
    squawk: &[],
    check: Check::Engine,
};
