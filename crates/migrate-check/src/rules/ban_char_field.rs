//! `ban-char-field`: `char(n)` column.

use ops_core::Level;
use squawk_syntax::ast::AstNode;

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-char-field",
    level: Level::Warning,
    group: Group::Types,
    summary: "`char(n)` column",
    why: "`char(n)` pads values with spaces and compares them surprisingly; it has no advantage over `text`.",
    rewrite: "Use `text` (with a `CHECK` constraint for a fixed length).",
    squawk: &["ban-char-field"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    for (ty, parsed) in ctx.types() {
        let matched: bool = {
            let t = parsed;
            t.base == "char"
        };
        if matched {
            out.report(
                &RULE,
                ty.syntax(),
                format!("`{}` pads with spaces", ty.syntax().to_string().trim()),
            )
            .help("use `text`");
        }
    }
}
