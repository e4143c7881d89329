//! `identifier-too-long`: identifier longer than 63 bytes.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "identifier-too-long",
    level: Level::Warning,
    group: Group::Correctness,
    summary: "identifier longer than 63 bytes",
    why: "PostgreSQL silently truncates identifiers to 63 bytes: two long names can collide, and the name in the database differs from the one in the code.",
    rewrite: "Use a name of at most 63 bytes.",
    squawk: &["identifier-too-long"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    if !matches!(
        ctx.stmt,
        ast::Stmt::CreateTable(_)
            | ast::Stmt::AlterTable(_)
            | ast::Stmt::CreateIndex(_)
            | ast::Stmt::CreateView(_)
            | ast::Stmt::CreateMaterializedView(_)
            | ast::Stmt::CreateSequence(_)
            | ast::Stmt::CreateType(_)
            | ast::Stmt::CreateFunction(_)
            | ast::Stmt::CreateTrigger(_)
            | ast::Stmt::CreateSchema(_)
    ) {
        return;
    }
    for node in ctx.stmt.syntax().descendants() {
        let defines = ast::Path::can_cast(node.kind())
            || ast::ColumnName::can_cast(node.kind())
            || ast::ConstraintName::can_cast(node.kind());
        if !defines {
            continue;
        }
        let text = if let Some(path) = ast::Path::cast(node.clone()) {
            match path.segment() {
                Some(segment) => segment.text(),
                None => continue,
            }
        } else {
            ast::normalize_name_node(&node)
        };
        if text.len() > 63 {
            out.report(
                &RULE,
                &node,
                format!("`{text}` is {} bytes; PostgreSQL truncates it to 63", text.len()),
            );
        }
    }
}
