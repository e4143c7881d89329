//! `ban-drop-table`: existing table dropped.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use crate::sql::names;

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-drop-table",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "existing table dropped",
    why: "Dropping a table loses its data and breaks every running query and application version that still uses it.",
    rewrite: "Stop using the table, deploy, keep a backup (or rename it aside), and drop it in a later release.",
    squawk: &["ban-drop-table"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let ast::Stmt::DropTable(drop) = ctx.stmt else {
        return;
    };
    for table in drop.table_name_refs() {
        let Some(name) = names::table_ref(Some(table.clone())) else {
            continue;
        };
        if !ctx.existing(&name) {
            continue;
        }
        out.report(
            &RULE,
            table.syntax(),
            format!("dropping table `{name}` loses its data and breaks running clients"),
        )
        .help("stop using it, deploy, and drop it in a later release");
    }
}
