//! `ban-drop-view`: existing view dropped.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-drop-view",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "existing view or materialized view dropped",
    why: "Queries and application code that select from the view fail as soon as it is gone.",
    rewrite: "Stop using the view, deploy, then drop it in a later release; to change a view, `CREATE OR REPLACE VIEW` keeps its name.",
    squawk: &["ban-drop-view"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let drop = match ctx.stmt {
        ast::Stmt::DropView(drop) => drop.syntax().clone(),
        ast::Stmt::DropMaterializedView(drop) => drop.syntax().clone(),
        _ => return,
    };
    let name = drop
        .descendants()
        .find_map(ast::PathRef::cast)
        .and_then(|p| crate::sql::names::path_ref(&p));
    if name.as_ref().is_some_and(|n| ctx.schema.is_new_object("view", n)) {
        return;
    }
    let shown = name.map(|n| format!(" `{n}`")).unwrap_or_default();
    out.report(
        &RULE,
        &drop,
        format!("dropping view{shown} breaks clients and objects that still use it"),
    )
    .help("stop using it, deploy, then drop it in a later release");
}
