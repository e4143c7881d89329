//! `changing-column-type`: column type changed in a way that rewrites an existing table.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use crate::sql::types::ColType;
use ops_core::Level as HitLevel;

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "changing-column-type",
    level: Level::Error,
    group: Group::Locking,
    summary: "column type changed in a way that rewrites an existing table",
    why: "Most type changes rewrite the table and rebuild its indexes under `ACCESS EXCLUSIVE`, and the new type can break the version of the application still running. Binary-coercible changes do neither: `varchar(n)` to a longer `varchar` or `text`, `numeric(p,s)` to a larger precision with the same scale, `cidr` to `inet`, a longer `timestamp` precision. The rule knows the old type from the schema replayed out of earlier migrations and stays quiet for those; `timestamp` to `timestamptz` is reported as a warning because it avoids the rewrite only when the session time zone is UTC.",
    rewrite: "Add a new column of the new type, write both (trigger or application), backfill in batches, switch reads, then drop the old column (expand and contract).",
    squawk: &["changing-column-type"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    if let ast::Stmt::AlterType(alter) = ctx.stmt {
        if let Some(ast::AlterTypeAction::AlterTypeAttributeActionList(list)) = alter.action() {
            for action in list.actions() {
                if let ast::AlterTypeAttributeAction::AlterAttribute(attribute) = action {
                    out.report(
                        &RULE,
                        attribute.syntax(),
                        "changing a composite type's attribute type rewrites every table that stores it",
                    );
                }
            }
        }
        return;
    }
    let Some((alter, table)) = super::alter_existing(ctx) else {
        return;
    };
    for action in alter.actions() {
        let ast::AlterTableAction::AlterColumn(column) = action else {
            continue;
        };
        let Some(ast::AlterColumnOption::SetType(set)) = column.option() else {
            continue;
        };
        let Some(name) = column.column_name_ref().map(|c| crate::sql::names::text(&c)) else {
            continue;
        };
        let to = set.ty().map(|t| ColType::from_ast(&t));
        let from = ctx
            .schema
            .table(&table)
            .and_then(|t| t.column(&name))
            .and_then(|c| c.ty.clone());
        if let (Some(from), Some(to)) = (&from, &to) {
            if set.using_expr().is_none() && from.changes_without_rewrite(to) {
                continue;
            }
            if set.using_expr().is_none() && from.rewrite_depends_on_timezone(to) {
                let hit = out.report(
                    &RULE,
                    set.syntax(),
                    format!("`{table}.{name}` from `timestamp` to `timestamptz` avoids a rewrite only when the session `TimeZone` is UTC"),
                );
                hit.help("run `SET LOCAL TimeZone = 'UTC'` before it, or add a new column");
                hit.level = Some(HitLevel::Warning);
                continue;
            }
        }
        let change = match (&from, &to) {
            (Some(from), Some(to)) => format!(" from `{from}` to `{to}`"),
            (None, Some(to)) => format!(" to `{to}`"),
            _ => String::new(),
        };
        out.report(
            &RULE,
            set.syntax(),
            format!("changing `{table}.{name}`{change} rewrites the table and its indexes under `ACCESS EXCLUSIVE` and may break running clients"),
        )
        .help("add a new column, backfill it in batches, switch reads and writes, then drop the old one");
    }
}
