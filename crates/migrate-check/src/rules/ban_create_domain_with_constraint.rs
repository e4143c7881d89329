//! `ban-create-domain-with-constraint`: domain created with a constraint.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-create-domain-with-constraint",
    level: Level::Warning,
    group: Group::Locking,
    summary: "domain created with a constraint",
    why: "Constraints on domains are checked against every column using the domain whenever they change, and altering them later scans every such table; they are also invisible to most tooling.",
    rewrite: "Put `CHECK` constraints on the tables' columns instead.",
    squawk: &["ban-create-domain-with-constraint"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let ast::Stmt::CreateDomain(create) = ctx.stmt else {
        return;
    };
    if create
        .syntax()
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
        .any(|t| t.text().eq_ignore_ascii_case("check"))
    {
        out.report(&RULE, create.syntax(), "domain created with a `CHECK` constraint")
            .help("put the constraint on the columns instead");
    }
}
