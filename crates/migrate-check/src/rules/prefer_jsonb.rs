//! `prefer-jsonb`: `json` column.

use ops_core::Level;
use squawk_syntax::ast::AstNode;

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "prefer-jsonb",
    level: Level::Notice,
    group: Group::Types,
    summary: "`json` column",
    why: "`json` stores the text as written: no indexing, no equality operator (so `DISTINCT`, `GROUP BY` and `UNION` fail), re-parsed on every access.",
    rewrite: "Use `jsonb`.",
    squawk: &[],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    for (ty, parsed) in ctx.types() {
        let matched: bool = {
            let t = parsed;
            t.base == "json"
        };
        if matched {
            out.report(
                &RULE,
                ty.syntax(),
                format!(
                    "`{}` cannot be indexed or compared",
                    ty.syntax().to_string().trim()
                ),
            )
            .help("use `jsonb`");
        }
    }
}
