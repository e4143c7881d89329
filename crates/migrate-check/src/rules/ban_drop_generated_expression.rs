//! `ban-drop-generated-expression`: generation expression dropped from a column.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-drop-generated-expression",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "generation expression dropped from a column",
    why: "`DROP EXPRESSION` turns a generated column into a plain one: the running version stops getting computed values for new rows.",
    rewrite: "Make writers compute the value first, deploy, then drop the expression.",
    squawk: &["ban-drop-generated-expression"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let Some((alter, table)) = super::alter_existing(ctx) else {
        return;
    };
    for action in alter.actions() {
        if let ast::AlterTableAction::AlterColumn(column) = action
            && let Some(ast::AlterColumnOption::DropExpression(drop)) = column.option()
        {
            out.report(
                &RULE,
                drop.syntax(),
                format!("dropping a generation expression of `{table}` stops computing it for new rows"),
            );
        }
    }
}
