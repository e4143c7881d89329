//! `ban-drop-type`: existing type dropped.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-drop-type",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "existing type dropped",
    why: "Columns, functions and casts in the running application that use the type fail as soon as it is gone.",
    rewrite: "Stop using the type, deploy, then drop it in a later release.",
    squawk: &["ban-drop-type"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let ast::Stmt::DropType(drop) = ctx.stmt else {
        return;
    };
    let name = drop
        .syntax()
        .descendants()
        .find_map(ast::PathRef::cast)
        .and_then(|p| crate::sql::names::path_ref(&p));
    if name.as_ref().is_some_and(|n| ctx.schema.is_new_object("type", n)) {
        return;
    }
    let shown = name.map(|n| format!(" `{n}`")).unwrap_or_default();
    out.report(
        &RULE,
        drop.syntax(),
        format!("dropping type{shown} breaks clients and objects that still use it"),
    )
    .help("stop using it, deploy, then drop it in a later release");
}
