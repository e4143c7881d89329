//! `adding-required-field`: `NOT NULL` column without a default added to an existing table.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "adding-required-field",
    level: Level::Error,
    group: Group::Compatibility,
    summary: "`NOT NULL` column without a default added to an existing table",
    why: "Existing rows have no value for the column, so the statement fails on any non-empty table; and the running application version, which does not know the column, can no longer insert rows.",
    rewrite: "Add the column nullable (or with a constant default, instant since PostgreSQL 11), backfill, then make it `NOT NULL` without a scan (see `adding-not-nullable-field`).",
    squawk: &["adding-required-field"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let Some((alter, table)) = super::alter_existing(ctx) else {
        return;
    };
    for action in alter.actions() {
        let ast::AlterTableAction::AddColumn(add) = action else {
            continue;
        };
        let (mut not_null, mut default) = (false, false);
        for constraint in add.constraints() {
            match constraint {
                ast::Constraint::NotNullConstraint(_) | ast::Constraint::PrimaryKeyConstraint(_) => {
                    not_null = true
                }
                ast::Constraint::DefaultConstraint(_) | ast::Constraint::GeneratedConstraint(_) => {
                    default = true
                }
                _ => {}
            }
        }
        let serial = add
            .ty()
            .is_some_and(|t| crate::sql::types::ColType::from_ast(&t).serial);
        if not_null && !default && !serial {
            let column = add
                .column_name()
                .map(|c| c.syntax().to_string())
                .unwrap_or_default();
            out.report(
                &RULE,
                add.syntax(),
                format!("`NOT NULL` column `{column}` without a default fails on a non-empty `{table}` and breaks inserts by the running version"),
            )
            .help("add it nullable or with a constant default, backfill, then set `NOT NULL`");
        }
    }
}
