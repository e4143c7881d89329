//! `disallowed-unique-constraint`: `UNIQUE` or `EXCLUDE` constraint added to an existing table by building its index under lock.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "disallowed-unique-constraint",
    level: Level::Error,
    group: Group::Locking,
    summary: "`UNIQUE` or `EXCLUDE` constraint added to an existing table by building its index under lock",
    why: "`ADD CONSTRAINT … UNIQUE` (or a column added with `UNIQUE`, or an `EXCLUDE` constraint) builds the index while holding `ACCESS EXCLUSIVE`: the table is unreadable and unwritable for the whole build.",
    rewrite: "Build a unique index with `CREATE UNIQUE INDEX CONCURRENTLY`, then attach it: `ALTER TABLE … ADD CONSTRAINT … UNIQUE USING INDEX …` (instant).",
    squawk: &["disallowed-unique-constraint"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let Some((alter, table)) = super::alter_existing(ctx) else {
        return;
    };
    let help = "create the index with `CREATE UNIQUE INDEX CONCURRENTLY`, then `ADD CONSTRAINT … UNIQUE USING INDEX …`";
    for action in alter.actions() {
        match action {
            ast::AlterTableAction::AddConstraint(add) => match add.constraint() {
                Some(ast::Constraint::UniqueConstraint(unique)) if unique.using_index().is_none() => {
                    out.report(
                        &RULE,
                        add.syntax(),
                        format!("adding a `UNIQUE` constraint to `{table}` builds its index under `ACCESS EXCLUSIVE`, blocking reads and writes"),
                    )
                    .help(help);
                }
                Some(ast::Constraint::ExcludeConstraint(_)) => {
                    out.report(
                        &RULE,
                        add.syntax(),
                        format!("adding an `EXCLUDE` constraint to `{table}` builds its index under `ACCESS EXCLUSIVE`, blocking reads and writes"),
                    )
                    .help("there is no concurrent form: schedule it for a maintenance window or build it on a new table");
                }
                _ => {}
            },
            ast::AlterTableAction::AddColumn(add) => {
                for constraint in add.constraints() {
                    if let ast::Constraint::UniqueConstraint(_) = constraint {
                        out.report(
                            &RULE,
                            constraint.syntax(),
                            format!("a column added with `UNIQUE` to `{table}` builds its index under `ACCESS EXCLUSIVE`"),
                        )
                        .help(help);
                    }
                }
            }
            _ => {}
        }
    }
}
