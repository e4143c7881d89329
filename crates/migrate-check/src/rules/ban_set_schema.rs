//! `ban-set-schema`: object moved to another schema.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-set-schema",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "object moved to another schema",
    why: "`SET SCHEMA` changes the qualified name clients use; the running version fails to find the object.",
    rewrite: "Create the object in the new schema (or a view there), move clients, then drop the old one.",
    squawk: &["ban-set-schema"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    if let ast::Stmt::AlterTable(alter) = ctx.stmt
        && super::alter_table_name(alter).is_some_and(|t| !ctx.existing(&t))
    {
        return;
    }
    for node in ctx.stmt.syntax().descendants().filter_map(ast::SetSchema::cast) {
        out.report(
            &RULE,
            node.syntax(),
            "moving an object to another schema breaks clients that use its qualified name",
        );
    }
}
