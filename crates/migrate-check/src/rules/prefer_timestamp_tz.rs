//! `prefer-timestamp-tz`: `timestamp` without time zone.

use ops_core::Level;
use squawk_syntax::ast::AstNode;

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "prefer-timestamp-tz",
    level: Level::Notice,
    group: Group::Types,
    summary: "`timestamp` without time zone",
    why: "`timestamp without time zone` stores wall-clock time with no zone, so values shift meaning when servers or sessions use different time zones.",
    rewrite: "Use `timestamptz` (`timestamp with time zone`).",
    squawk: &["prefer-timestamp-tz", "prefer-timestamptz"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    for (ty, parsed) in ctx.types() {
        let matched: bool = {
            let t = parsed;
            t.base == "timestamp"
        };
        if matched {
            out.report(
                &RULE,
                ty.syntax(),
                format!("`{}` has no time zone", ty.syntax().to_string().trim()),
            )
            .help("use `timestamptz`");
        }
    }
}
