//! `adding-serial-primary-key-field`: primary key added to an existing table by building its index under lock.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "adding-serial-primary-key-field",
    level: Level::Error,
    group: Group::Locking,
    summary: "primary key added to an existing table by building its index under lock",
    why: "`ADD PRIMARY KEY` (or a column added with `PRIMARY KEY`) builds a unique index while holding `ACCESS EXCLUSIVE`, and sets the key columns `NOT NULL`, which scans the table too.",
    rewrite: "Build the index with `CREATE UNIQUE INDEX CONCURRENTLY`, make the columns `NOT NULL` without a scan (a validated `CHECK (col IS NOT NULL)`, then `SET NOT NULL`), then `ADD CONSTRAINT … PRIMARY KEY USING INDEX …`.",
    squawk: &["adding-serial-primary-key-field"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let Some((alter, table)) = super::alter_existing(ctx) else {
        return;
    };
    for action in alter.actions() {
        match action {
            ast::AlterTableAction::AddConstraint(add) => {
                if let Some(ast::Constraint::PrimaryKeyConstraint(pk)) = add.constraint()
                    && pk.using_index().is_none()
                {
                    out.report(
                        &RULE,
                        add.syntax(),
                        format!("adding a primary key to `{table}` builds its index under `ACCESS EXCLUSIVE`, blocking reads and writes"),
                    )
                    .help("create a unique index `CONCURRENTLY`, then `ADD CONSTRAINT … PRIMARY KEY USING INDEX …`");
                }
            }
            ast::AlterTableAction::AddColumn(add) => {
                for constraint in add.constraints() {
                    if let ast::Constraint::PrimaryKeyConstraint(_) = constraint {
                        out.report(
                            &RULE,
                            constraint.syntax(),
                            format!("a column added with `PRIMARY KEY` to `{table}` rewrites it and builds the index under `ACCESS EXCLUSIVE`"),
                        )
                        .help("add the column, fill it in batches, index it `CONCURRENTLY`, then `ADD CONSTRAINT … PRIMARY KEY USING INDEX …`");
                    }
                }
            }
            _ => {}
        }
    }
}
