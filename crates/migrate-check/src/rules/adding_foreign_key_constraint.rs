//! `adding-foreign-key-constraint`: foreign key added to an existing table without `NOT VALID`.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Fix, Span};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "adding-foreign-key-constraint",
    level: Level::Error,
    group: Group::Locking,
    summary: "foreign key added to an existing table without `NOT VALID`",
    why: "Adding a foreign key takes `SHARE ROW EXCLUSIVE` on both tables and scans the referencing table to validate every row: writes to both tables wait for the whole scan.",
    rewrite: "Add it `NOT VALID` (checks new rows only, instant), then `VALIDATE CONSTRAINT` in a later transaction, which takes only `SHARE UPDATE EXCLUSIVE` on the referencing table and `ROW SHARE` on the referenced one.",
    squawk: &["adding-foreign-key-constraint", "constraint-missing-not-valid"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let Some((alter, table)) = super::alter_existing(ctx) else {
        return;
    };
    for action in alter.actions() {
        match action {
            ast::AlterTableAction::AddConstraint(add) => {
                let Some(constraint) = add.constraint() else {
                    continue;
                };
                if constraint.is_not_valid()
                    || !matches!(
                        constraint,
                        ast::Constraint::ForeignKeyConstraint(_) | ast::Constraint::ReferencesConstraint(_)
                    )
                {
                    continue;
                }
                let end = Span::node(constraint.syntax()).end;
                out.report(
                    &RULE,
                    add.syntax(),
                    format!("adding a foreign key to `{table}` blocks writes to it and to the referenced table while every row is checked"),
                )
                .help("add it `NOT VALID`, then `VALIDATE CONSTRAINT` in a later transaction")
                .fix(Some(Fix::insert("add `NOT VALID`", end, " NOT VALID")));
            }
            ast::AlterTableAction::AddColumn(add) => {
                for constraint in add.constraints() {
                    if matches!(
                        constraint,
                        ast::Constraint::ForeignKeyConstraint(_) | ast::Constraint::ReferencesConstraint(_)
                    ) {
                        out.report(
                            &RULE,
                            constraint.syntax(),
                            format!("a column with `REFERENCES` on `{table}` adds a validated foreign key, locking both tables against writes"),
                        )
                        .help("add the column first, then the foreign key with `NOT VALID` and a later `VALIDATE CONSTRAINT`");
                    }
                }
            }
            _ => {}
        }
    }
}
