//! `require-concurrent-partition-detach`: partition detached without `CONCURRENTLY`.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "require-concurrent-partition-detach",
    level: Level::Warning,
    group: Group::Locking,
    summary: "partition detached without `CONCURRENTLY`",
    why: "`DETACH PARTITION` takes `ACCESS EXCLUSIVE` on the partitioned table (PostgreSQL 14+ offers a concurrent form).",
    rewrite: "Use `ALTER TABLE … DETACH PARTITION … CONCURRENTLY` outside a transaction.",
    squawk: &["require-concurrent-partition-detach"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let Some((alter, table)) = super::alter_existing(ctx) else {
        return;
    };
    for action in alter.actions() {
        if let ast::AlterTableAction::DetachPartition(detach) = action
            && detach.detach_partition_option().is_none()
        {
            out.report(
                &RULE,
                detach.syntax(),
                format!("detaching a partition of `{table}` takes `ACCESS EXCLUSIVE` on it"),
            )
            .help(format!(
                "use `DETACH PARTITION … CONCURRENTLY` ({})",
                ctx.outside_tx_hint()
            ));
        }
    }
}
