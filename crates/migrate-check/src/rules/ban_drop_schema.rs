//! `ban-drop-schema`: schema dropped.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-drop-schema",
    level: Level::Warning,
    group: Group::DataSafety,
    summary: "schema dropped",
    why: "Dropping a schema removes what it holds (with `CASCADE`, everything) and breaks every client that uses it.",
    rewrite: "Move or drop its objects one by one in earlier releases; drop the empty schema last.",
    squawk: &["ban-drop-schema"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let ast::Stmt::DropSchema(drop) = ctx.stmt else {
        return;
    };
    for schema in drop.schema_refs() {
        let name = crate::sql::names::text(&schema);
        if ctx
            .schema
            .is_new_object("schema", &crate::sql::names::QName::bare(name.clone()))
        {
            continue;
        }
        out.report(
            &RULE,
            schema.syntax(),
            format!("dropping schema `{name}` removes what it holds and breaks its clients"),
        )
        .help("empty it in earlier releases, then drop it");
    }
}
