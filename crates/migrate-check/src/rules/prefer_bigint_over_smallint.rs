//! `prefer-bigint-over-smallint`: `smallint` column.

use ops_core::Level;
use squawk_syntax::ast::AstNode;

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "prefer-bigint-over-smallint",
    level: Level::Notice,
    group: Group::Types,
    summary: "`smallint` column",
    why: "A 16-bit column runs out at 32,767; widening it later rewrites the table.",
    rewrite: "Use `bigint` (or `integer` when the range is truly bounded).",
    squawk: &["prefer-bigint-over-smallint"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    for (ty, parsed) in ctx.types() {
        let matched: bool = {
            let t = parsed;
            t.base == "smallint"
        };
        if matched {
            out.report(
                &RULE,
                ty.syntax(),
                format!("`{}` is 16-bit and can run out", ty.syntax().to_string().trim()),
            )
            .help("use `bigint`");
        }
    }
}
