//! `ban-replica-identity`: replica identity or publication changed (opt-in).

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-replica-identity",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "replica identity or publication changed (opt-in)",
    why: "Logical replication and change-data-capture consumers read what the replica identity and the publications say: changing them stops or changes the stream those consumers get. Off unless turned on in `rules`.",
    rewrite: "Coordinate with the consumers: add the new publication or table first, move the consumers, then drop or narrow the old one.",
    squawk: &["ban-replica-identity"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    match ctx.stmt {
        ast::Stmt::AlterTable(alter) => {
            for action in alter.actions() {
                if let ast::AlterTableAction::ReplicaIdentity(node) = action {
                    out.report(
                        &RULE,
                        node.syntax(),
                        "changing the replica identity changes what logical replication sends for updates and deletes",
                    )
                    .help("coordinate with the replication consumers first");
                }
            }
        }
        ast::Stmt::DropPublication(drop) => {
            out.report(
                &RULE,
                drop.syntax(),
                "dropping a publication stops replication for its consumers",
            )
            .help("move the consumers to another publication first");
        }
        ast::Stmt::AlterPublication(publication) => {
            if let Some(action) = publication.action()
                && matches!(
                    action,
                    ast::AlterPublicationAction::DropPublicationObjects(_)
                        | ast::AlterPublicationAction::SetPublicationObjects(_)
                        | ast::AlterPublicationAction::SetAllPublicationObjectList(_)
                        | ast::AlterPublicationAction::SetOptions(_)
                )
            {
                out.report(
                    &RULE,
                    action.syntax(),
                    "changing a publication's tables or options changes the stream its consumers get",
                )
                .help("add what is new first, move the consumers, then remove the old");
            }
        }
        _ => {}
    }
}
