//! `ban-drop-constraint`: constraint dropped from an existing table.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use crate::sql::names;

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-drop-constraint",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "constraint dropped from an existing table",
    why: "Dropping a constraint lets data in that the running application assumes cannot exist (duplicates, orphans, out-of-range values), and dropping a primary key or unique constraint also drops the index queries use.",
    rewrite: "Make sure nothing depends on the constraint; when replacing it, add the new one (`NOT VALID`, then validate) before dropping the old.",
    squawk: &["ban-drop-constraint"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let Some((alter, table)) = super::alter_existing(ctx) else {
        return;
    };
    for action in alter.actions() {
        if let ast::AlterTableAction::DropConstraint(drop) = action {
            let name = names::constraint_ref(drop.constraint_name_ref()).unwrap_or_default();
            let new = ctx.schema.table(&table).is_some_and(|t| {
                t.constraints
                    .iter()
                    .any(|c| c.new && c.name.as_deref() == Some(name.as_str()))
            });
            if new {
                continue;
            }
            out.report(&RULE, drop.syntax(), format!("dropping constraint `{name}` of `{table}` lets in data the running version assumes impossible"))
                .help("when replacing it, add the new constraint first");
        }
    }
}
