//! `ban-drop-database`: database dropped from a migration.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-drop-database",
    level: Level::Error,
    group: Group::DataSafety,
    summary: "database dropped from a migration",
    why: "A migration that drops a database destroys everything in it, and cannot be rolled back.",
    rewrite: "Drop databases by hand, never from a migration.",
    squawk: &["ban-drop-database"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    if let ast::Stmt::DropDatabase(drop) = ctx.stmt {
        out.report(
            &RULE,
            drop.syntax(),
            "`DROP DATABASE` in a migration destroys all its data",
        );
    }
}
