//! `renaming-table`: existing table renamed.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "renaming-table",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "existing table renamed",
    why: "The running application version still queries the old name and fails until the new version is everywhere.",
    rewrite: "Create the new table (or a view with the old name over the renamed table) and move clients over in steps.",
    squawk: &["renaming-table"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let Some((alter, table)) = super::alter_existing(ctx) else {
        return;
    };
    for action in alter.actions() {
        if let ast::AlterTableAction::TableRenameTo(rename) = action {
            out.report(
                &RULE,
                rename.syntax(),
                format!("renaming table `{table}` breaks the application version still running"),
            )
            .help(
                "rename it and create a view with the old name until every client moved, or migrate in steps",
            );
        }
    }
}
