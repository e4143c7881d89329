//! `prefer-text-field`: `varchar(n)` column.

use ops_core::Level;
use squawk_syntax::ast::AstNode;

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "prefer-text-field",
    level: Level::Notice,
    group: Group::Types,
    summary: "`varchar(n)` column",
    why: "A length limit on `varchar` has no storage benefit in PostgreSQL, and raising it later can require a rewrite on old versions and always takes `ACCESS EXCLUSIVE`.",
    rewrite: "Use `text`, with a `CHECK (length(col) <= n)` constraint if the limit matters (it can be changed `NOT VALID`).",
    squawk: &["prefer-text-field"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    for (ty, parsed) in ctx.types() {
        let matched: bool = {
            let t = parsed;
            t.base == "varchar" && !t.args.is_empty()
        };
        if matched {
            out.report(
                &RULE,
                ty.syntax(),
                format!(
                    "`{}` limits the length in the type",
                    ty.syntax().to_string().trim()
                ),
            )
            .help("use `text` with a `CHECK` constraint if needed");
        }
    }
}
