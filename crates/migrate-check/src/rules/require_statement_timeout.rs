//! `require-statement-timeout`: long-running lock taken without a `statement_timeout`.

use ops_core::Level;
use squawk_syntax::ast::AstNode;

use crate::sql::locks;

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "require-statement-timeout",
    level: Level::Notice,
    group: Group::Locking,
    summary: "long-running lock taken without a `statement_timeout`",
    why: "Without a `statement_timeout`, a statement that holds a traffic-blocking lock (an index build, a table rewrite) runs as long as it takes while the application waits. Reported once per script.",
    rewrite: "Set `statement_timeout` for the migration (`SET statement_timeout = '5min';`), sized for the largest table, so a surprise does not become an outage.",
    squawk: &["require-statement-timeout", "require-timeout-settings"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    if ctx.tx.statement_timeout {
        return;
    }
    let Some((mode, table)) = locks::statement_lock(ctx.stmt, ctx.schema) else {
        return;
    };
    if !mode.blocks_traffic() || !ctx.existing(&table) {
        return;
    }
    out.report(
        &RULE,
        ctx.stmt.syntax(),
        format!(
            "`{}` lock on `{table}` held without a `statement_timeout`",
            mode.name()
        ),
    )
    .help("set `statement_timeout` for the migration, sized for your largest table");
}
