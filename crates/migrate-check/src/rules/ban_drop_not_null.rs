//! `ban-drop-not-null`: `NOT NULL` dropped from a column of an existing table.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-drop-not-null",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "`NOT NULL` dropped from a column of an existing table",
    why: "Readers of the running version assume the column is never null; once nulls appear they fail or misbehave.",
    rewrite: "Make sure every reader handles nulls first, deploy, then drop the constraint.",
    squawk: &["ban-drop-not-null"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let Some((alter, table)) = super::alter_existing(ctx) else {
        return;
    };
    for action in alter.actions() {
        if let ast::AlterTableAction::AlterColumn(column) = action
            && let Some(ast::AlterColumnOption::DropNotNull(drop)) = column.option()
        {
            let name = column
                .column_name_ref()
                .map(|c| c.syntax().to_string())
                .unwrap_or_default();
            out.report(
                &RULE,
                drop.syntax(),
                format!(
                    "`{table}.{name}` may now be null, which readers of the running version do not expect"
                ),
            )
            .help("make readers handle nulls first, then drop the constraint");
        }
    }
}
