//! `work-after-access-exclusive`: slow statement run while the transaction holds `ACCESS EXCLUSIVE` on an existing table.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use crate::sql::names;

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "work-after-access-exclusive",
    level: Level::Warning,
    group: Group::Locking,
    summary: "slow statement run while the transaction holds `ACCESS EXCLUSIVE` on an existing table",
    why: "Locks are held until the transaction commits. Once a statement has taken `ACCESS EXCLUSIVE` on a table (most `ALTER TABLE` forms), every later statement in the same transaction runs with that table unreadable: a backfill, an index build or a constraint validation after a quick `ALTER TABLE` turns milliseconds of blocking into minutes. With Drizzle or Atlas `txmode all` this spans every pending migration.",
    rewrite: "Commit right after the statement that takes `ACCESS EXCLUSIVE` (split the migration), and run the slow work in its own transaction or outside the migration.",
    squawk: &[],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let Some(held) = &ctx.tx.held else { return };
    if !ctx.tx.in_tx() {
        return;
    }
    let Some(what) = slow_work(ctx) else { return };
    out.report(
        &RULE,
        ctx.stmt.syntax(),
        format!(
            "{what} runs while this transaction holds `ACCESS EXCLUSIVE` on `{}` (taken at {}): reads and writes of it wait until commit",
            held.table, held.at
        ),
    )
    .help("commit after the statement that takes the lock, and do this work in a separate transaction");
}

/// What makes the statement slow on existing data, if it is.
fn slow_work(ctx: &Ctx<'_>) -> Option<String> {
    match ctx.stmt {
        ast::Stmt::CreateIndex(create) => {
            let table = names::table_relation(create.table_relation_name())?;
            (create.concurrently_token().is_none() && ctx.existing(&table))
                .then(|| format!("building an index on `{table}`"))
        }
        ast::Stmt::Update(update) => {
            let table = names::relation(update.relation_name())?;
            ctx.existing(&table).then(|| format!("`UPDATE` of `{table}`"))
        }
        ast::Stmt::Delete(delete) => {
            let table = names::relation(delete.relation_name())?;
            ctx.existing(&table).then(|| format!("`DELETE` from `{table}`"))
        }
        ast::Stmt::Insert(insert) => {
            let select = insert
                .syntax()
                .descendants()
                .any(|n| ast::Select::can_cast(n.kind()));
            select.then(|| "`INSERT … SELECT`".to_owned())
        }
        ast::Stmt::Refresh(_) => Some("`REFRESH MATERIALIZED VIEW`".to_owned()),
        ast::Stmt::Cluster(_) => Some("`CLUSTER`".to_owned()),
        ast::Stmt::Reindex(_) => Some("`REINDEX`".to_owned()),
        ast::Stmt::AlterTable(alter) => {
            let table = super::alter_table_name(alter)?;
            if !ctx.existing(&table) {
                return None;
            }
            alter.actions().find_map(|action| match action {
                ast::AlterTableAction::ValidateConstraint(_) => {
                    Some(format!("validating a constraint on `{table}`"))
                }
                ast::AlterTableAction::AddConstraint(add) => {
                    let c = add.constraint()?;
                    let instant = c.is_not_valid()
                        || matches!(
                            &c,
                            ast::Constraint::UniqueConstraint(u) if u.using_index().is_some()
                        )
                        || matches!(
                            &c,
                            ast::Constraint::PrimaryKeyConstraint(p) if p.using_index().is_some()
                        );
                    (!instant).then(|| format!("adding a validated constraint to `{table}`"))
                }
                ast::AlterTableAction::AlterColumn(column) => match column.option()? {
                    ast::AlterColumnOption::SetNotNull(_) => Some(format!("`SET NOT NULL` on `{table}`")),
                    ast::AlterColumnOption::SetType(_) => {
                        Some(format!("changing a column type of `{table}`"))
                    }
                    _ => None,
                },
                _ => None,
            })
        }
        _ => None,
    }
}
