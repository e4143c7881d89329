//! `renaming-object`: view, type, function, constraint, schema or other object renamed.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "renaming-object",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "view, type, function, constraint, schema or other object renamed",
    why: "Clients and other database objects refer to it by name; the running version breaks when the name changes.",
    rewrite: "Create the object under the new name next to the old one, move clients over, then drop the old one.",
    squawk: &["renaming-object"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    // Cheap gate: only statements that say `RENAME` can rename anything.
    if !ctx.mentions("rename") {
        return;
    }
    for node in ctx.stmt.syntax().descendants() {
        let kind = format!("{:?}", node.kind());
        let what = match kind.as_str() {
            "TABLE_RENAME_TO" | "RENAME_COLUMN" | "INDEX_RENAME_TO" => continue,
            "RENAME_CONSTRAINT" => "constraint",
            "RENAME_VALUE" => "enum value",
            "RENAME_ATTRIBUTE" => "attribute",
            k if k.ends_with("_RENAME_TO") => {
                let object = k
                    .trim_end_matches("_RENAME_TO")
                    .to_ascii_lowercase()
                    .replace('_', " ");
                if object == "table" {
                    continue;
                }
                if let ast::Stmt::AlterView(_) | ast::Stmt::AlterType(_) = ctx.stmt
                    && is_new(ctx)
                {
                    return;
                }
                out.report(
                    &RULE,
                    &node,
                    format!("renaming a {object} breaks clients that use the old name"),
                )
                .help("create it under the new name alongside the old one and move clients over");
                continue;
            }
            _ => continue,
        };
        if let ast::Stmt::AlterTable(alter) = ctx.stmt
            && super::alter_table_name(alter).is_some_and(|t| !ctx.existing(&t))
        {
            continue;
        }
        out.report(
            &RULE,
            &node,
            format!("renaming a {what} breaks clients that use the old name"),
        )
        .help("create it under the new name alongside the old one and move clients over");
    }
}

fn is_new(ctx: &Ctx<'_>) -> bool {
    let path = ctx
        .stmt
        .syntax()
        .children()
        .find_map(|c| c.descendants().find_map(ast::PathRef::cast))
        .and_then(|p| crate::sql::names::path_ref(&p));
    path.is_some_and(|p| ctx.schema.is_new_object("view", &p) || ctx.schema.is_new_object("type", &p))
}
