//! `ban-set-default`: default changed on an existing column (opt-in).

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-set-default",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "default set on an existing column, domain or view column (opt-in)",
    why: "Inserts from the running version that leave the column out start writing the new default at once, which that version may not expect. Off unless turned on in `rules`.",
    rewrite: "Have the application write the value explicitly first, then change the default in a later release.",
    squawk: &["ban-set-default"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let message = "setting a default changes the values inserts from the running version write";
    let help = "write the value explicitly in the application first, then change the default";
    match ctx.stmt {
        ast::Stmt::AlterTable(_) => {
            let Some((alter, table)) = super::alter_existing(ctx) else {
                return;
            };
            for action in alter.actions() {
                if let ast::AlterTableAction::AlterColumn(column) = action
                    && let Some(ast::AlterColumnOption::SetDefault(node)) = column.option()
                {
                    out.report(&RULE, node.syntax(), format!("on `{table}`: {message}"))
                        .help(help);
                }
            }
        }
        ast::Stmt::AlterDomain(domain) => {
            if let Some(ast::AlterDomainAction::SetDefault(node)) = domain.action() {
                out.report(&RULE, node.syntax(), message).help(help);
            }
        }
        ast::Stmt::AlterView(view) => {
            if let Some(ast::AlterViewAction::AlterViewColumn(column)) = view.action()
                && let Some(ast::AlterViewColumnAction::SetDefault(node)) = column.alter_view_column_action()
            {
                out.report(&RULE, node.syntax(), message).help(help);
            }
        }
        _ => {}
    }
}
