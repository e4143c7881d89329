//! `ban-drop-index`: existing index dropped (opt-in).

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};

use super::{Check, Ctx, Group, Out, Rule};
use crate::sql::names;

/// The rule.
pub static RULE: Rule = Rule {
    id: "ban-drop-index",
    level: Level::Warning,
    group: Group::Compatibility,
    summary: "existing index dropped (opt-in)",
    why: "An index can carry a guarantee (a unique index rejects duplicates) and the plans of queries the running version sends; without it, those queries may scan the table. Off unless turned on in `rules`.",
    rewrite: "Check that no query needs the index (e.g. `pg_stat_user_indexes.idx_scan`) and that no uniqueness depends on it, then drop it `CONCURRENTLY`; an index created in the same change can be dropped freely.",
    squawk: &["ban-drop-index"],
    check: Check::Statement(check),
};

fn check(ctx: &Ctx<'_>, out: &mut Out) {
    let ast::Stmt::DropIndex(drop) = ctx.stmt else {
        return;
    };
    for index in drop
        .index_refs()
        .filter_map(|i| i.path_ref())
        .filter_map(|p| names::path_ref(&p))
    {
        if ctx.schema.is_new_object("index", &index) {
            continue;
        }
        out.report(
            &RULE,
            drop.syntax(),
            format!(
                "dropping index `{index}` may remove a uniqueness guarantee or slow the queries that use it"
            ),
        )
        .help("check that no query or guarantee depends on it, then drop it `CONCURRENTLY`");
    }
}
