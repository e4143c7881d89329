//! `ban-truncate-cascade`: `TRUNCATE … CASCADE`.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-truncate-cascade",
    level: Level::Error,
    group: Group::DataSafety,
    summary: "`TRUNCATE … CASCADE`",
    why: "`CASCADE` also empties every table with a foreign key to the truncated one, and theirs, silently.",
    rewrite: "Truncate the tables you mean by name, without `CASCADE`.",
    squawk: &["ban-truncate-cascade"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let ast::Stmt::Truncate(truncate) = ctx.stmt else {
        return;
    };
    if let Some(ast::DropBehavior::Cascade(cascade)) = truncate.drop_behavior() {
        out.report(
            &RULE,
            cascade.syntax(),
            "`TRUNCATE … CASCADE` also empties every table that references these, recursively",
        )
        .help("list the tables to truncate explicitly");
    }
}
