//! `ban-alter-domain-with-add-constraint`: constraint added to an existing domain.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-alter-domain-with-add-constraint",
    level: Level::Warning,
    group: Group::Locking,
    summary: "constraint added to an existing domain",
    why: "`ALTER DOMAIN … ADD CONSTRAINT` validates every column of every table that uses the domain, holding locks on all of them.",
    rewrite: "Add the constraint `NOT VALID` and validate later, or put `CHECK` constraints on the columns.",
    squawk: &["ban-alter-domain-with-add-constraint"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let ast::Stmt::AlterDomain(alter) = ctx.stmt else {
        return;
    };
    let text = alter.syntax().to_string().to_ascii_lowercase();
    let words: Vec<&str> = text.split_whitespace().collect();
    if words
        .windows(2)
        .any(|w| w == ["add", "constraint"] || w[0] == "add" && w[1].starts_with("check"))
        && !text.contains("not valid")
    {
        out.report(
            &RULE,
            alter.syntax(),
            "adding a constraint to a domain validates every column that uses it",
        )
        .help("add it `NOT VALID` and validate later, or constrain the columns instead");
    }
}
