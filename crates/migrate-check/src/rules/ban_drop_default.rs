//! `ban-drop-default`: default dropped from a column of an existing table.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-drop-default",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "default dropped from a column of an existing table",
    why: "The running application version may omit the column in `INSERT`s and rely on the default: once it is gone those inserts store null or fail a `NOT NULL` constraint.",
    rewrite: "Make every writer set the column explicitly, deploy, then drop the default.",
    squawk: &["ban-drop-default"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let Some((alter, table)) = super::alter_existing(ctx) else {
        return;
    };
    for action in alter.actions() {
        if let ast::AlterTableAction::AlterColumn(column) = action
            && let Some(ast::AlterColumnOption::DropDefault(drop)) = column.option()
        {
            let name = column
                .column_name_ref()
                .map(|c| c.syntax().to_string())
                .unwrap_or_default();
            out.report(
                &RULE,
                drop.syntax(),
                format!("dropping the default of `{table}.{name}` breaks inserts that rely on it"),
            )
            .help("make every writer set the column first");
        }
    }
}
