//! `prefer-robust-stmts`: DDL outside a transaction without `IF [NOT] EXISTS`.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Fix, Span};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "prefer-robust-stmts",
    level: Level::Notice,
    group: Group::Correctness,
    summary: "schema change outside a transaction without `IF [NOT] EXISTS`",
    why: "When a migration runs without a transaction and fails half-way, its first statements stay applied; re-running it then fails on them. `IF NOT EXISTS` / `IF EXISTS` make the re-run possible. (Inside a transaction a failure rolls everything back, so the rule is quiet there.)",
    rewrite: "Add `IF NOT EXISTS` / `IF EXISTS`; for `CREATE INDEX CONCURRENTLY`, also drop an invalid index left by a failed build before retrying.",
    squawk: &["prefer-robust-stmts"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let concurrent = matches!(ctx.stmt, ast::Stmt::CreateIndex(c) if c.concurrently_token().is_some());
    if ctx.tx.in_tx() && !concurrent {
        return;
    }
    let insert = |after: Option<squawk_syntax::SyntaxToken>, text: &str| {
        after.map(|t| {
            Fix::insert(
                format!("add `{}`", text.trim()),
                Span::token(&t).end,
                text.to_owned(),
            )
        })
    };
    let (node, fix, exists) = match ctx.stmt {
        ast::Stmt::CreateTable(c) if c.if_not_exists().is_none() => (
            c.syntax(),
            insert(c.table_token(), " IF NOT EXISTS"),
            "IF NOT EXISTS",
        ),
        ast::Stmt::CreateIndex(c) if c.if_not_exists().is_none() && c.index().is_some() => {
            // Before the name, so it composes with `require-concurrent-index-creation`'s fix.
            let fix = c.index().map(|name| {
                Fix::insert(
                    "add `IF NOT EXISTS`",
                    Span::node(name.syntax()).start,
                    "IF NOT EXISTS ",
                )
            });
            (c.syntax(), fix, "IF NOT EXISTS")
        }
        ast::Stmt::DropTable(d) if d.if_exists().is_none() => {
            (d.syntax(), insert(d.table_token(), " IF EXISTS"), "IF EXISTS")
        }
        ast::Stmt::DropIndex(d) if d.if_exists().is_none() => {
            let fix = d
                .index_refs()
                .next()
                .map(|name| Fix::insert("add `IF EXISTS`", Span::node(name.syntax()).start, "IF EXISTS "));
            (d.syntax(), fix, "IF EXISTS")
        }
        ast::Stmt::DropType(d) if d.if_exists().is_none() => {
            (d.syntax(), insert(d.type_token(), " IF EXISTS"), "IF EXISTS")
        }
        ast::Stmt::AlterTable(alter) => {
            for action in alter.actions() {
                match &action {
                    ast::AlterTableAction::AddColumn(a) if a.if_not_exists().is_none() => {
                        let token = a.column_token().or_else(|| a.add_token());
                        out.report(
                            &RULE,
                            a.syntax(),
                            "missing `IF NOT EXISTS`: a failed run cannot be repeated",
                        )
                        .fix(insert(token, " IF NOT EXISTS"));
                    }
                    ast::AlterTableAction::DropColumn(d) if d.if_exists().is_none() => {
                        let token = d.column_token().or_else(|| d.drop_token());
                        out.report(
                            &RULE,
                            d.syntax(),
                            "missing `IF EXISTS`: a failed run cannot be repeated",
                        )
                        .fix(insert(token, " IF EXISTS"));
                    }
                    ast::AlterTableAction::DropConstraint(d) if d.if_exists().is_none() => {
                        out.report(
                            &RULE,
                            d.syntax(),
                            "missing `IF EXISTS`: a failed run cannot be repeated",
                        )
                        .fix(insert(d.constraint_token(), " IF EXISTS"));
                    }
                    ast::AlterTableAction::AddConstraint(add) => {
                        let name = add
                            .constraint()
                            .and_then(|c| crate::sql::names::constraint_name(&c));
                        if name.is_some_and(|n| ctx.tx.dropped_constraints.contains(&n)) {
                            continue;
                        }
                        out.report(
                            &RULE,
                            add.syntax(),
                            "`ADD CONSTRAINT` has no `IF NOT EXISTS`: a failed run cannot be repeated",
                        )
                        .help("drop the constraint `IF EXISTS` first, in the same migration");
                    }
                    _ => {}
                }
            }
            return;
        }
        _ => return,
    };
    out.report(
        &RULE,
        node,
        format!("missing `{exists}`: without a transaction, a failed run cannot be repeated"),
    )
    .fix(fix);
}
