//! `prefer-bigint-over-int`: `integer` column.

use ops_core::Level;
use squawk_syntax::ast::AstNode;

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "prefer-bigint-over-int",
    level: Level::Notice,
    group: Group::Types,
    summary: "`integer` column",
    why: "A 32-bit key or counter runs out at 2,147,483,647; changing the type later rewrites the table under `ACCESS EXCLUSIVE`. Eight bytes per row are cheaper than that migration.",
    rewrite: "Use `bigint` (or `bigint GENERATED … AS IDENTITY` for keys).",
    squawk: &["prefer-bigint-over-int"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    for (ty, parsed) in ctx.types() {
        let matched: bool = {
            let t = parsed;
            t.base == "integer"
        };
        if matched {
            out.report(
                &RULE,
                ty.syntax(),
                format!("`{}` is 32-bit and can run out", ty.syntax().to_string().trim()),
            )
            .help("use `bigint`");
        }
    }
}
