//! `ban-revoke`: privileges, ownership or roles taken away (opt-in).

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-revoke",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "privileges, ownership, roles or role membership taken away (opt-in)",
    why: "`REVOKE`, `OWNER TO`, `REASSIGN OWNED`, `DROP OWNED`, `DROP ROLE`/`USER` and removing group members change who may do what at once: the running version's queries start failing with permission errors. Off unless turned on in `rules`.",
    rewrite: "Grant what the new arrangement needs first, deploy the application that uses it, then revoke the old privileges in a later release.",
    squawk: &["ban-revoke"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let help = "grant what is needed first, then revoke in a later release";
    for owner in ctx.stmt.syntax().descendants().filter_map(ast::OwnerTo::cast) {
        out.report(
            &RULE,
            owner.syntax(),
            "changing an owner may take privileges away from existing clients",
        )
        .help(help);
    }
    let (node, message) = match ctx.stmt {
        ast::Stmt::Revoke(node) => (node.syntax().clone(), "revoking privileges"),
        ast::Stmt::DropOwned(node) => (node.syntax().clone(), "dropping owned objects and privileges"),
        ast::Stmt::Reassign(node) => (node.syntax().clone(), "reassigning owned objects"),
        ast::Stmt::DropUser(node) => (node.syntax().clone(), "dropping a user"),
        ast::Stmt::DropRole(node) => (node.syntax().clone(), "dropping a role"),
        ast::Stmt::AlterGroup(node) => match node.action() {
            Some(ast::AlterGroupAction::DropUsers(users)) => {
                (users.syntax().clone(), "removing role members")
            }
            _ => return,
        },
        ast::Stmt::AlterDefaultPrivileges(node) => match node.action() {
            Some(ast::AlterDefaultPrivilegesAction::RevokeDefaultPrivileges(_)) => {
                (node.syntax().clone(), "revoking default privileges")
            }
            _ => return,
        },
        _ => return,
    };
    out.report(
        &RULE,
        &node,
        format!("{message} may break existing clients with permission errors"),
    )
    .help(help);
}
