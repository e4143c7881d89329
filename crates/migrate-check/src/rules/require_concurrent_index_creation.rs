//! `require-concurrent-index-creation`: index built without `CONCURRENTLY` on an existing table.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Fix, Span};
use crate::sql::names;

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "require-concurrent-index-creation",
    level: Level::Error,
    group: Group::Locking,
    summary: "index built without `CONCURRENTLY` on an existing table",
    why: "`CREATE INDEX` takes a `SHARE` lock on the table for as long as the build runs: reads go on, but every `INSERT`, `UPDATE` and `DELETE` waits, for minutes on a large table. Tables created in the same change are exempt: nobody writes to them yet.",
    rewrite: "Build the index with `CREATE INDEX CONCURRENTLY` (it takes `SHARE UPDATE EXCLUSIVE`, which does not block writes). It cannot run inside a transaction, so give it a migration the runner does not wrap in one, and add `IF NOT EXISTS` only together with a check for an invalid leftover index from a failed build.",
    squawk: &["require-concurrent-index-creation"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let ast::Stmt::CreateIndex(create) = ctx.stmt else {
        return;
    };
    if create.concurrently_token().is_some() {
        return;
    }
    let Some(table) = names::table_relation(create.table_relation_name()) else {
        return;
    };
    if !ctx.existing(&table) {
        return;
    }
    let fix = create
        .index_token()
        .map(|t| Fix::insert("add `CONCURRENTLY`", Span::token(&t).end, " CONCURRENTLY"));
    let mut help = "use `CREATE INDEX CONCURRENTLY`".to_owned();
    if ctx.tx.in_tx() {
        help.push_str(&format!(
            "; it cannot run inside a transaction and {}: {}",
            ctx.tx_reason(),
            ctx.outside_tx_hint()
        ));
    }
    out.report(
        &RULE,
        create.syntax(),
        format!("`CREATE INDEX` on existing table `{table}` blocks writes to it until the index is built"),
    )
    .help(help)
    .fix(fix);
}
