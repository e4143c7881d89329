//! `require-enum-value-ordering`: enum value added without `BEFORE` or `AFTER`.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "require-enum-value-ordering",
    level: Level::Notice,
    group: Group::Correctness,
    summary: "enum value added without `BEFORE` or `AFTER`",
    why: "`ADD VALUE` appends to the end of the enum's sort order; comparisons and `ORDER BY` on the column use that order, which is rarely what was meant for a value added later.",
    rewrite: "Say where it goes: `ALTER TYPE … ADD VALUE 'x' BEFORE 'y'` (or `AFTER`).",
    squawk: &["require-enum-value-ordering"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let ast::Stmt::AlterType(alter) = ctx.stmt else {
        return;
    };
    if let Some(ast::AlterTypeAction::AddValue(add)) = alter.action()
        && add.value_position().is_none()
    {
        out.report(
            &RULE,
            add.syntax(),
            "enum value added at the end of the sort order",
        )
        .help("add `BEFORE` or `AFTER` an existing value");
    }
}
