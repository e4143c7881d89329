//! `prefer-repack`: `VACUUM FULL` or `CLUSTER` in a migration.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "prefer-repack",
    level: Level::Warning,
    group: Group::Locking,
    summary: "`VACUUM FULL` or `CLUSTER` in a migration",
    why: "`VACUUM FULL` and `CLUSTER` rewrite the table under `ACCESS EXCLUSIVE`: no reads or writes until they finish.",
    rewrite: "Use an online tool (`pg_repack`, or `REPACK CONCURRENTLY` on PostgreSQL 19) outside the migration.",
    squawk: &["prefer-repack"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    match ctx.stmt {
        ast::Stmt::Vacuum(vacuum) => {
            let full = vacuum.full_token().is_some()
                || vacuum
                    .vacuum_option_list()
                    .is_some_and(|o| o.syntax().to_string().to_ascii_lowercase().contains("full"));
            if full {
                out.report(
                    &RULE,
                    vacuum.syntax(),
                    "`VACUUM FULL` rewrites the table under `ACCESS EXCLUSIVE`",
                )
                .help("use `pg_repack` outside the migration");
            }
        }
        ast::Stmt::Cluster(cluster) => {
            out.report(
                &RULE,
                cluster.syntax(),
                "`CLUSTER` rewrites the table under `ACCESS EXCLUSIVE`",
            )
            .help("use `pg_repack` outside the migration");
        }
        _ => {}
    }
}
