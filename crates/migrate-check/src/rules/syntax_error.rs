//! `syntax-error`: statement PostgreSQL would not parse.

use ops_core::Level;

use super::{Check, Group, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "syntax-error",
    level: Level::Error,
    group: Group::Meta,
    summary: "statement PostgreSQL would not parse",
    why: "A statement that does not parse fails the deploy. Each statement is parsed on its own, so one syntax error never hides findings in the rest of the file.",
    rewrite: "Fix the statement; for templated SQL, placeholders written `${name}` are accepted.",
    squawk: &[],
    check: Check::Engine,
};
