//! `constraint-missing-not-valid`: check constraint added to an existing table without `NOT VALID`, or validated in the transaction that added it.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Fix, Span};
use crate::sql::names;

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "constraint-missing-not-valid",
    level: Level::Error,
    group: Group::Locking,
    summary: "check constraint added to an existing table without `NOT VALID`, or validated in the transaction that added it",
    why: "Adding a `CHECK` (or PostgreSQL 18 `NOT NULL`) constraint scans the whole table to validate existing rows while holding `ACCESS EXCLUSIVE`: no reads, no writes. Validating it in the same transaction that added it `NOT VALID` keeps that lock through the scan too.",
    rewrite: "Add the constraint `NOT VALID` (instant; new rows are checked), commit, then `ALTER TABLE … VALIDATE CONSTRAINT …` in a later transaction: validation takes only `SHARE UPDATE EXCLUSIVE`.",
    squawk: &["constraint-missing-not-valid"],
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
                if constraint.is_not_valid() {
                    continue;
                }
                if !matches!(
                    constraint,
                    ast::Constraint::CheckConstraint(_) | ast::Constraint::NotNullConstraint(_)
                ) {
                    continue;
                }
                let end = Span::node(constraint.syntax()).end;
                out.report(
                    &RULE,
                    add.syntax(),
                    format!(
                        "adding a constraint to `{table}` scans the whole table under `ACCESS EXCLUSIVE`"
                    ),
                )
                .help("add it `NOT VALID`, then `VALIDATE CONSTRAINT` in a later transaction")
                .fix(Some(Fix::insert("add `NOT VALID`", end, " NOT VALID")));
            }
            ast::AlterTableAction::ValidateConstraint(validate) => {
                let Some(name) = names::constraint_ref(validate.constraint_name_ref()) else {
                    continue;
                };
                if ctx.tx.in_tx() && ctx.tx.not_valid.contains(&name) {
                    out.report(
                        &RULE,
                        validate.syntax(),
                        format!("`{name}` is validated in the transaction that added it `NOT VALID`, so the scan runs under `ACCESS EXCLUSIVE`"),
                    )
                    .help("validate it in a later migration (or after a `COMMIT`)");
                }
            }
            _ => {}
        }
    }
}
