//! `require-concurrent-index-deletion`: index dropped without `CONCURRENTLY`.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Fix, Span};
use crate::sql::names::{self, QName};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "require-concurrent-index-deletion",
    level: Level::Warning,
    group: Group::Locking,
    summary: "index dropped without `CONCURRENTLY`",
    why: "`DROP INDEX` takes an `ACCESS EXCLUSIVE` lock on the index's table. The drop itself is quick, but the lock request queues behind any running query and every later query queues behind it.",
    rewrite: "Use `DROP INDEX CONCURRENTLY` in a migration that runs outside a transaction.",
    squawk: &["require-concurrent-index-deletion"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let ast::Stmt::DropIndex(drop) = ctx.stmt else {
        return;
    };
    if drop.concurrently_token().is_some() {
        return;
    }
    let Some(index) = drop
        .index_refs()
        .next()
        .and_then(|i| i.path_ref())
        .and_then(|p| names::path_ref(&p))
    else {
        return;
    };
    if ctx.schema.is_new_object("index", &index) {
        return;
    }
    if let Some(known) = ctx.schema.index(&index) {
        let table = QName {
            schema: Some(known.table.0.clone()),
            name: known.table.1.clone(),
        };
        if !ctx.existing(&table) {
            return;
        }
    }
    let fix = drop
        .index_token()
        .map(|t| Fix::insert("add `CONCURRENTLY`", Span::token(&t).end, " CONCURRENTLY"));
    out.report(
        &RULE,
        drop.syntax(),
        format!("`DROP INDEX {index}` takes `ACCESS EXCLUSIVE` on its table, queueing every query behind it"),
    )
    .help(format!(
        "use `DROP INDEX CONCURRENTLY` outside a transaction ({})",
        ctx.outside_tx_hint()
    ))
    .fix(fix);
}
