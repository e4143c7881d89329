//! `not-allowed-in-transaction`: statement that PostgreSQL refuses inside a transaction block, where the runner opens one.

use ops_core::Level;
use squawk_syntax::ast::AstNode;

use crate::framework::TxMode;
use ops_core::Level as HitLevel;

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "not-allowed-in-transaction",
    level: Level::Error,
    group: Group::Transactions,
    summary: "statement that PostgreSQL refuses inside a transaction block, where the runner opens one",
    why: "`CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX CONCURRENTLY`, `DETACH PARTITION CONCURRENTLY`, `VACUUM` and a few others fail with `cannot run inside a transaction block` (SQLSTATE 25001). Whether a migration runs in one depends on the runner: goose, sqlx, dbmate, diesel, Atlas and node-pg-migrate wrap each migration; Drizzle wraps all pending migrations together; golang-migrate and older Prisma send the file as one query, which PostgreSQL runs in one implicit transaction when it holds several statements; Flyway runs such a migration without a transaction only when every statement in it needs that. The rule reads the framework's directives (`-- +goose NO TRANSACTION`, `-- atlas:txmode none`, sqlx `-- no-transaction`, dbmate `transaction:false`, diesel `metadata.toml`), so it fires exactly when the deploy would fail.",
    rewrite: "Give the statement a migration of its own that the runner does not wrap in a transaction; the finding names the framework's switch.",
    squawk: &["ban-concurrent-index-creation-in-transaction"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let Some(what) = super::non_transactional(ctx.stmt, ctx.pg_version) else {
        return;
    };
    if !ctx.tx.in_tx() {
        return;
    }
    let span = ctx
        .stmt
        .syntax()
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
        .find(|t| t.text().eq_ignore_ascii_case("concurrently"))
        .map_or_else(
            || super::Span::node(ctx.stmt.syntax()),
            |t| super::Span::token(&t),
        );
    let explicit = ctx.tx.explicit && !ctx.tx.runner;
    let (message, level) = match ctx.script.mode {
        TxMode::FlywayAuto { .. } if !explicit => (
            format!(
                "{what} in a migration with statements that need a transaction: Flyway refuses to mix them unless `mixed` is on"
            ),
            None,
        ),
        TxMode::Prisma if !explicit && what == "`CREATE INDEX CONCURRENTLY`" => (
            format!(
                "{what} in a migration with other statements fails on Prisma engines that send the script as one query (before prisma-engines#5767)"
            ),
            Some(HitLevel::Warning),
        ),
        _ => (
            format!(
                "{what} cannot run inside a transaction block, and {}: the migration fails (SQLSTATE 25001)",
                ctx.tx_reason()
            ),
            None,
        ),
    };
    let hit = out.report_span(&RULE, span, message);
    hit.help(ctx.outside_tx_hint());
    hit.level = level;
}
