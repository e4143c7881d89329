//! `ban-drop-column`: column dropped from an existing table.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-drop-column",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "column dropped from an existing table",
    why: "The application version still running during the deploy selects and inserts the column: it fails from the moment the migration commits until the new version is everywhere. ORMs that list columns explicitly break even on reads.",
    rewrite: "Contract in steps: stop using the column in the application (and tell the ORM to ignore it), deploy, then drop it in a later release.",
    squawk: &["ban-drop-column"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let Some((alter, table)) = super::alter_existing(ctx) else {
        return;
    };
    for action in alter.actions() {
        if let ast::AlterTableAction::DropColumn(drop) = action {
            let column = drop
                .column_name_ref()
                .map(|c| c.syntax().to_string())
                .unwrap_or_default();
            out.report(
                &RULE,
                drop.syntax(),
                format!("dropping `{table}.{column}` breaks the application version still running during the deploy"),
            )
            .help("remove every use of the column first, deploy, then drop it in a later release");
        }
    }
}
