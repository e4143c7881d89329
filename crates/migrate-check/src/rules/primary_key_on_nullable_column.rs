//! `primary-key-on-nullable-column`: primary key added over nullable columns of an existing table.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "primary-key-on-nullable-column",
    level: Level::Warning,
    group: Group::Locking,
    summary: "primary key added over nullable columns of an existing table",
    why: "A primary key implies `NOT NULL`. When its columns are nullable, PostgreSQL sets them `NOT NULL` as part of `ADD PRIMARY KEY` (even `USING INDEX`), scanning the whole table under `ACCESS EXCLUSIVE`. The schema model knows which columns are nullable from the earlier migrations.",
    rewrite: "Make the columns `NOT NULL` first without a scan: `ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID`, `VALIDATE CONSTRAINT` in a later transaction, `ALTER COLUMN … SET NOT NULL` (PostgreSQL 12+ uses the check), then add the key `USING INDEX`.",
    squawk: &[],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let Some((alter, table)) = super::alter_existing(ctx) else {
        return;
    };
    let Some(model) = ctx.schema.table(&table) else {
        return;
    };
    for action in alter.actions() {
        let ast::AlterTableAction::AddConstraint(add) = action else {
            continue;
        };
        let Some(ast::Constraint::PrimaryKeyConstraint(pk)) = add.constraint() else {
            continue;
        };
        let columns: Vec<String> = match pk.using_index() {
            Some(using) => {
                let Some(index) = using
                    .index_ref()
                    .and_then(|i| i.path_ref())
                    .and_then(|p| crate::sql::names::path_ref(&p))
                else {
                    continue;
                };
                ctx.schema
                    .index(&index)
                    .map(|i| i.columns.clone())
                    .unwrap_or_default()
            }
            None => crate::sql::names::constraint_columns(&pk),
        };
        let nullable: Vec<&String> = columns
            .iter()
            .filter(|c| model.column(c).is_some_and(|col| !col.not_null))
            .collect();
        if nullable.is_empty() {
            continue;
        }
        let list: Vec<String> = nullable.iter().map(|c| format!("`{c}`")).collect();
        out.report(
            &RULE,
            add.syntax(),
            format!(
                "primary key on nullable {} of `{table}`: PostgreSQL sets {} `NOT NULL`, scanning the table under `ACCESS EXCLUSIVE`",
                list.join(", "),
                if nullable.len() == 1 { "it" } else { "them" }
            ),
        )
        .help("prove `NOT NULL` first with a validated `CHECK (col IS NOT NULL)` and `SET NOT NULL`");
    }
}
