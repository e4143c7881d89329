//! `ban-drop-extension`: existing extension dropped.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-drop-extension",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "existing extension dropped",
    why: "Dropping an extension removes its types, functions and operators, and with `CASCADE` the columns and indexes that use them.",
    rewrite: "Remove every use first, deploy, then drop it.",
    squawk: &["ban-drop-extension"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let ast::Stmt::DropExtension(drop) = ctx.stmt else {
        return;
    };
    let name = drop
        .syntax()
        .descendants()
        .find_map(ast::PathRef::cast)
        .and_then(|p| crate::sql::names::path_ref(&p));
    if name
        .as_ref()
        .is_some_and(|n| ctx.schema.is_new_object("extension", n))
    {
        return;
    }
    let shown = name.map(|n| format!(" `{n}`")).unwrap_or_default();
    out.report(
        &RULE,
        drop.syntax(),
        format!("dropping extension{shown} breaks clients and objects that still use it"),
    )
    .help("stop using it, deploy, then drop it in a later release");
}
