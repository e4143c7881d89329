//! `transaction-nesting`: `BEGIN`, `COMMIT` or `ROLLBACK` that fights the runner's transaction.

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};

/// The rule.
pub static RULE: Rule = Rule {
    id: "transaction-nesting",
    level: Level::Warning,
    group: Group::Transactions,
    summary: "`BEGIN`, `COMMIT` or `ROLLBACK` that fights the runner's transaction",
    why: "When the runner already wraps the migration in a transaction, a `BEGIN` in the file only warns and does nothing, and a `COMMIT` ends the runner's transaction early: what follows runs without one, so a failure leaves the migration half-applied and the runner's bookkeeping wrong. Outside a transaction, `COMMIT` without `BEGIN` does nothing.",
    rewrite: "Let the runner manage the transaction: remove `BEGIN`/`COMMIT` from the file, or switch the runner's transaction off for this migration and keep your own.",
    squawk: &["transaction-nesting"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    match ctx.stmt {
        ast::Stmt::Begin(begin) => {
            if ctx.tx.runner {
                out.report(
                    &RULE,
                    begin.syntax(),
                    format!(
                        "`BEGIN` inside the runner's transaction ({}) does nothing",
                        ctx.tx_reason()
                    ),
                )
                .help("remove it and let the runner manage the transaction");
            } else if ctx.tx.explicit {
                out.report(
                    &RULE,
                    begin.syntax(),
                    "`BEGIN` inside a transaction that is already open does nothing",
                );
            }
        }
        other if is_end(other) => {
            if ctx.tx.runner && !ctx.tx.explicit {
                out.report(
                    &RULE,
                    other.syntax(),
                    format!(
                        "this ends the runner's transaction early ({}): what follows runs without one",
                        ctx.tx_reason()
                    ),
                )
                .help("remove it and let the runner manage the transaction");
            } else if !ctx.tx.in_tx() {
                out.report(&RULE, other.syntax(), "there is no transaction to end here");
            }
        }
        _ => {}
    }
}

fn is_end(stmt: &ast::Stmt) -> bool {
    matches!(stmt, ast::Stmt::Commit(_) | ast::Stmt::Rollback(_))
}
