//! `ban-drop-trigger`: trigger dropped (opt-in).

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-drop-trigger",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "trigger dropped (opt-in)",
    why: "A trigger's side effects (audit rows, denormalised columns, `updated_at`) stop at once, while the running version may still rely on them. Off unless turned on in `rules`.",
    rewrite: "Move the side effect into the application (or a replacement trigger) and deploy that first; drop the trigger in a later release.",
    squawk: &["ban-drop-trigger"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let ast::Stmt::DropTrigger(drop) = ctx.stmt else {
        return;
    };
    out.report(
        &RULE,
        drop.syntax(),
        "dropping a trigger silently stops side effects the running version may rely on",
    )
    .help("replace what the trigger does first, then drop it in a later release");
}
