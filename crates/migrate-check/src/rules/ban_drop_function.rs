//! `ban-drop-function`: existing function dropped.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-drop-function",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "existing function dropped",
    why: "Callers, triggers, defaults and views that use the function fail as soon as it is gone.",
    rewrite: "Stop calling it, deploy, then drop it; to change a body, `CREATE OR REPLACE FUNCTION` keeps its identity.",
    squawk: &["ban-drop-function"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let ast::Stmt::DropFunction(drop) = ctx.stmt else {
        return;
    };
    let name = drop
        .syntax()
        .descendants()
        .find_map(ast::PathRef::cast)
        .and_then(|p| crate::sql::names::path_ref(&p));
    if name
        .as_ref()
        .is_some_and(|n| ctx.schema.is_new_object("function", n))
    {
        return;
    }
    let shown = name.map(|n| format!(" `{n}`")).unwrap_or_default();
    out.report(
        &RULE,
        drop.syntax(),
        format!("dropping function{shown} breaks clients and objects that still use it"),
    )
    .help("stop using it, deploy, then drop it in a later release");
}
