//! `ban-drop-policy`: row-level security policy or rewrite rule dropped (opt-in).

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-drop-policy",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "row-level security policy or rewrite rule dropped (opt-in)",
    why: "Without the policy, rows it let through are hidden or rows it hid are shown (depending on the other policies); without the rule, writes it redirected go to the table itself. Off unless turned on in `rules`.",
    rewrite: "Create the replacement policy or rule first (`CREATE POLICY`, `ALTER POLICY`, `CREATE OR REPLACE RULE`), then drop the old one.",
    squawk: &["ban-drop-policy"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let (node, what) = match ctx.stmt {
        ast::Stmt::DropPolicy(drop) => (drop.syntax(), "policy"),
        ast::Stmt::DropRule(drop) => (drop.syntax(), "rule"),
        _ => return,
    };
    out.report(
        &RULE,
        node,
        format!("dropping a {what} silently changes which rows existing clients see or write"),
    )
    .help("create its replacement first, then drop it");
}
