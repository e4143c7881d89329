//! `adding-field-with-default`: column added to an existing table with a volatile default, a stored generated expression, a serial type or an identity.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use crate::sql::types::ColType;

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "adding-field-with-default",
    level: Level::Error,
    group: Group::Locking,
    summary: "column added to an existing table with a volatile default, a stored generated expression, a serial type or an identity",
    why: "Since PostgreSQL 11 a column with a constant or non-volatile default is added instantly. A volatile default (`gen_random_uuid()`, `random()`, `nextval()`, a serial type, `GENERATED … AS IDENTITY`) or a `GENERATED ALWAYS AS (…) STORED` expression must be computed for every row, so the table and its indexes are rewritten under `ACCESS EXCLUSIVE`.",
    rewrite: "Add the column without a default (or with a constant one), set the volatile default afterwards (`ALTER COLUMN … SET DEFAULT`, which affects new rows only), and backfill existing rows in batches outside the migration.",
    squawk: &["adding-field-with-default"],
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
        let column = add
            .column_name()
            .map(|c| c.syntax().to_string())
            .unwrap_or_default();
        if let Some(ty) = add.ty().map(|t| ColType::from_ast(&t))
            && ty.serial
        {
            out.report(
                &RULE,
                add.syntax(),
                format!("adding serial column `{column}` to `{table}` fills it from a sequence, rewriting the table under `ACCESS EXCLUSIVE`"),
            )
            .help("add a nullable `bigint` column, attach the sequence default, and backfill in batches");
            continue;
        }
        for constraint in add.constraints() {
            match &constraint {
                ast::Constraint::DefaultConstraint(default) => {
                    let Some(expr) = default.expr() else { continue };
                    if ctx.pg_version >= 11 && super::non_volatile(&expr) {
                        continue;
                    }
                    let why = if ctx.pg_version < 11 {
                        "before PostgreSQL 11 any default"
                    } else {
                        "a volatile default"
                    };
                    out.report(
                        &RULE,
                        expr.syntax(),
                        format!("{why} on new column `{column}` rewrites `{table}` under `ACCESS EXCLUSIVE`"),
                    )
                    .help("add the column without it, then `ALTER COLUMN … SET DEFAULT`, and backfill existing rows in batches");
                }
                ast::Constraint::GeneratedConstraint(generated) => {
                    let text = generated.syntax().to_string().to_ascii_lowercase();
                    let what = if text.contains("identity") {
                        "an identity column"
                    } else {
                        "a stored generated column"
                    };
                    out.report(
                        &RULE,
                        generated.syntax(),
                        format!("adding {what} `{column}` computes it for every row, rewriting `{table}` under `ACCESS EXCLUSIVE`"),
                    )
                    .help("add a plain column, keep it filled with a trigger, and backfill in batches");
                }
                _ => {}
            }
        }
    }
}
