//! `require-lock-timeout`: lock that blocks traffic requested without a `lock_timeout`.

use ops_core::Level;
use squawk_syntax::ast::AstNode;

use super::{Fix, Span};
use crate::sql::locks;

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "require-lock-timeout",
    level: Level::Warning,
    group: Group::Locking,
    summary: "lock that blocks traffic requested without a `lock_timeout`",
    why: "A statement that needs a lock conflicting with ordinary queries (`ACCESS EXCLUSIVE`, `SHARE`…) waits behind any long-running query on the table, and while it waits every new query queues behind it: a one-millisecond `ALTER TABLE` can stall the application for minutes. A `lock_timeout` makes it give up instead, so the deploy retries rather than the site going down. Reported once per script, at the first such statement on an existing table.",
    rewrite: "Start the migration with `SET lock_timeout = '2s';` (or `SET LOCAL` inside the transaction) and retry the deploy when it times out.",
    squawk: &["require-lock-timeout", "require-timeout-settings"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    if ctx.tx.lock_timeout {
        return;
    }
    let Some((mode, table)) = locks::statement_lock(ctx.stmt, ctx.schema) else {
        return;
    };
    if !mode.blocks_traffic() || !ctx.existing(&table) {
        return;
    }
    let start = Span::node(ctx.stmt.syntax()).start;
    out.report(
        &RULE,
        ctx.stmt.syntax(),
        format!(
            "`{}` lock on `{table}` requested without a `lock_timeout`: while it waits, every query on `{table}` queues behind it",
            mode.name()
        ),
    )
    .help("start the migration with `SET lock_timeout = '2s';` and retry on timeout")
    .fix(Some(Fix::insert("set a lock timeout", start, "SET lock_timeout = '2s';\n")));
}
