//! `unfiltered-data-change`: `UPDATE` or `DELETE` without `WHERE` on an existing table.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use crate::sql::names;

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "unfiltered-data-change",
    level: Level::Warning,
    group: Group::DataSafety,
    summary: "`UPDATE` or `DELETE` without `WHERE` on an existing table",
    why: "A migration that updates or deletes every row does it in one transaction: every row stays locked until commit, the table bloats, replicas lag, and a mistake cannot be undone. Backfills belong outside schema migrations (strong_migrations' advice).",
    rewrite: "Backfill in batches from a separate job (`UPDATE … WHERE id BETWEEN …`), committing as you go; keep the migration to schema changes.",
    squawk: &[],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let (table, what, filtered, node) = match ctx.stmt {
        ast::Stmt::Update(update) => (
            names::relation(update.relation_name()),
            "`UPDATE`",
            update.where_clause_or_current_of().is_some(),
            update.syntax(),
        ),
        ast::Stmt::Delete(delete) => (
            names::relation(delete.relation_name()),
            "`DELETE`",
            delete.where_clause_or_current_of().is_some(),
            delete.syntax(),
        ),
        _ => return,
    };
    let Some(table) = table else { return };
    if filtered || !ctx.existing(&table) {
        return;
    }
    out.report(
        &RULE,
        node,
        format!("{what} of every row of `{table}` in one transaction locks all of them until commit"),
    )
    .help("backfill in batches outside the migration");
}
