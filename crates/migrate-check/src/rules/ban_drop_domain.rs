//! `ban-drop-domain`: existing domain dropped.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-drop-domain",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "existing domain dropped",
    why: "Columns typed with the domain, and code that casts to it, fail as soon as it is gone.",
    rewrite: "Move columns to the base type first, deploy, then drop it.",
    squawk: &["ban-drop-domain"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let ast::Stmt::DropDomain(drop) = ctx.stmt else {
        return;
    };
    let name = drop
        .syntax()
        .descendants()
        .find_map(ast::PathRef::cast)
        .and_then(|p| crate::sql::names::path_ref(&p));
    if name
        .as_ref()
        .is_some_and(|n| ctx.schema.is_new_object("domain", n))
    {
        return;
    }
    let shown = name.map(|n| format!(" `{n}`")).unwrap_or_default();
    out.report(
        &RULE,
        drop.syntax(),
        format!("dropping domain{shown} breaks clients and objects that still use it"),
    )
    .help("stop using it, deploy, then drop it in a later release");
}
