//! `renaming-column`: column of an existing table renamed.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "renaming-column",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "column of an existing table renamed",
    why: "The running application version still uses the old name: it fails from the moment the migration commits until the new version is everywhere.",
    rewrite: "Add the new column, write both, backfill, switch reads, then drop the old one; or keep the old name and map it in the ORM.",
    squawk: &["renaming-column"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let Some((alter, table)) = super::alter_existing(ctx) else {
        return;
    };
    for action in alter.actions() {
        if let ast::AlterTableAction::RenameColumn(rename) = action {
            let from = rename
                .column_name_ref()
                .map(|c| c.syntax().to_string())
                .unwrap_or_default();
            let to = rename
                .column_name()
                .map(|c| c.syntax().to_string())
                .unwrap_or_default();
            out.report(
                &RULE,
                rename.syntax(),
                format!("renaming `{table}.{from}` to `{to}` breaks the application version still running"),
            )
            .help("add the new column and migrate to it in steps, or map the old name in the ORM");
        }
    }
}
