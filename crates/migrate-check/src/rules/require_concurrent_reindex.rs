//! `require-concurrent-reindex`: `REINDEX` without `CONCURRENTLY`.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "require-concurrent-reindex",
    level: Level::Warning,
    group: Group::Locking,
    summary: "`REINDEX` without `CONCURRENTLY`",
    why: "`REINDEX` blocks writes to the table (and reads that would use the index) while it rebuilds.",
    rewrite: "Use `REINDEX … CONCURRENTLY` (PostgreSQL 12+) outside a transaction.",
    squawk: &["require-concurrent-reindex"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let ast::Stmt::Reindex(reindex) = ctx.stmt else {
        return;
    };
    if reindex
        .syntax()
        .to_string()
        .to_ascii_lowercase()
        .contains("concurrently")
    {
        return;
    }
    out.report(
        &RULE,
        reindex.syntax(),
        "`REINDEX` blocks writes while it rebuilds",
    )
    .help(format!(
        "use `REINDEX … CONCURRENTLY` ({})",
        ctx.outside_tx_hint()
    ));
}
