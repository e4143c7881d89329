//! `ban-alter-identity`: identity of a column of an existing table changed.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-alter-identity",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "identity of a column of an existing table changed",
    why: "Adding, changing or dropping an identity (or restarting it) changes how the running version's inserts get their keys; restarting a sequence below existing values causes duplicate-key failures.",
    rewrite: "Change identities in a release of their own, after checking every writer.",
    squawk: &["ban-alter-identity"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let Some((alter, table)) = super::alter_existing(ctx) else {
        return;
    };
    for action in alter.actions() {
        let ast::AlterTableAction::AlterColumn(column) = action else {
            continue;
        };
        let Some(option) = column.option() else { continue };
        if matches!(
            option,
            ast::AlterColumnOption::AddGenerated(_)
                | ast::AlterColumnOption::SetGenerated(_)
                | ast::AlterColumnOption::SetGeneratedOptions(_)
                | ast::AlterColumnOption::DropIdentity(_)
                | ast::AlterColumnOption::Restart(_)
        ) {
            out.report(
                &RULE,
                option.syntax(),
                format!("changing an identity of `{table}` changes how running inserts get their keys"),
            );
        }
    }
}
