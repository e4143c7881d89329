//! `ban-duplicate-column-assignments`: a column defined or assigned twice in one statement.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-duplicate-column-assignments",
    level: Level::Error,
    group: Group::Correctness,
    summary: "a column defined or assigned twice in one statement",
    why: "`CREATE TABLE t (a int, a text)` and `UPDATE t SET a = 1, a = 2` fail at run time.",
    rewrite: "Remove the duplicate.",
    squawk: &["ban-duplicate-column-assignments"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let names: Vec<(String, squawk_syntax::SyntaxNode)> = match ctx.stmt {
        ast::Stmt::CreateTable(create) => create
            .table_arg_list()
            .map(|args| {
                args.args()
                    .filter_map(|a| match a {
                        ast::TableArg::Column(c) => c
                            .name()
                            .map(|n| (crate::sql::names::text(&n), c.syntax().clone())),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        ast::Stmt::Update(update) => update
            .set_clause()
            .and_then(|s| s.set_column_list())
            .map(|list| {
                list.set_columns()
                    .filter_map(|c| {
                        let name = c.syntax().descendants().find_map(ast::ColumnName::cast)?;
                        Some((crate::sql::names::text(&name), c.syntax().clone()))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        _ => return,
    };
    let mut seen = std::collections::BTreeSet::new();
    for (name, node) in names {
        if !seen.insert(name.clone()) {
            out.report(&RULE, &node, format!("column `{name}` appears twice"));
        }
    }
}
