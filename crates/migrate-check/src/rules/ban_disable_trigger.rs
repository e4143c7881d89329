//! `ban-disable-trigger`: trigger, rule or row-level security switched on a table (opt-in).

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-disable-trigger",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "trigger, rule or row-level security switched on an existing table (opt-in)",
    why: "`ALTER TABLE … DISABLE TRIGGER`, `ENABLE REPLICA TRIGGER`, the `RULE` forms and `DISABLE`/`FORCE ROW LEVEL SECURITY` change what every write does or which rows every query sees, for the running version too. Off unless turned on in `rules`.",
    rewrite: "Keep the switch out of migrations (do it in a maintenance script that switches it back), or replace the trigger or policy in a compatible way.",
    squawk: &["ban-disable-trigger"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let Some((alter, table)) = super::alter_existing(ctx) else {
        return;
    };
    for action in alter.actions() {
        let message = match action {
            ast::AlterTableAction::EnableReplicaTrigger(_) | ast::AlterTableAction::EnableReplicaRule(_) => {
                "making a trigger or rule replica-only stops it firing for the application's writes"
            }
            ast::AlterTableAction::DisableTrigger(_)
            | ast::AlterTableAction::EnableTrigger(_)
            | ast::AlterTableAction::EnableRule(_)
            | ast::AlterTableAction::DisableRule(_)
            | ast::AlterTableAction::EnableAlwaysTrigger(_)
            | ast::AlterTableAction::EnableAlwaysRule(_) => {
                "switching a trigger or rule changes the side effects of every write"
            }
            ast::AlterTableAction::DisableRls(_)
            | ast::AlterTableAction::ForceRls(_)
            | ast::AlterTableAction::NoForceRls(_) => {
                "switching row-level security changes which rows existing clients see or may write"
            }
            _ => continue,
        };
        out.report(&RULE, action.syntax(), format!("on `{table}`: {message}"))
            .help("keep the switch out of the migration, or replace the trigger or policy compatibly");
    }
}
