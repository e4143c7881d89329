//! `adding-not-nullable-field`: `SET NOT NULL` on an existing table without a validated `CHECK (col IS NOT NULL)`.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use crate::schema::ConstraintKind;

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "adding-not-nullable-field",
    level: Level::Error,
    group: Group::Locking,
    summary: "`SET NOT NULL` on an existing table without a validated `CHECK (col IS NOT NULL)`",
    why: "`ALTER COLUMN … SET NOT NULL` scans the whole table to prove there are no nulls, holding `ACCESS EXCLUSIVE` (no reads, no writes) the whole time. From PostgreSQL 12 the scan is skipped when a validated `CHECK (col IS NOT NULL)` constraint already proves it.",
    rewrite: "Add `CHECK (col IS NOT NULL) NOT VALID`, `VALIDATE CONSTRAINT` in a later transaction, then `SET NOT NULL` (instant) and drop the check.",
    squawk: &["adding-not-nullable-field"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let Some((alter, table)) = super::alter_existing(ctx) else {
        return;
    };
    for action in alter.actions() {
        let ast::AlterTableAction::AlterColumn(column) = action else {
            continue;
        };
        let Some(ast::AlterColumnOption::SetNotNull(set)) = column.option() else {
            continue;
        };
        let Some(name) = column.column_name_ref().map(|c| crate::sql::names::text(&c)) else {
            continue;
        };
        let proven = ctx.pg_version >= 12
            && ctx.schema.table(&table).is_some_and(|t| {
                t.constraints.iter().any(|c| {
                    c.kind == ConstraintKind::Check
                        && c.valid
                        && c.not_null_check.as_deref() == Some(name.as_str())
                })
            });
        if proven {
            continue;
        }
        out.report(
            &RULE,
            set.syntax(),
            format!("`SET NOT NULL` on `{table}.{name}` scans the whole table under `ACCESS EXCLUSIVE`"),
        )
        .help(format!(
            "add `CHECK ({name} IS NOT NULL) NOT VALID`, validate it in a later transaction, then `SET NOT NULL`"
        ));
    }
}
