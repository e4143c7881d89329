//! The rules: one file per rule, id = file name = fixture folder = docs anchor.
//!
//! A [`Rule`] is metadata (level, why, safe rewrite, the squawk rules it corresponds to) plus, for
//! statement rules, a check that looks at one statement in its context ([`Ctx`]): the schema replayed so
//! far, the transaction the runner has open, the framework. Rules produced elsewhere (history gates, the
//! PostgreSQL trace, the engine's own syntax and ignore checks) are registered here too, so levels,
//! ignores, docs and SARIF treat every finding alike.

use std::collections::BTreeSet;

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};
use squawk_syntax::{SyntaxNode, SyntaxToken};

use crate::framework::{Direction, Framework, TxMode};
use crate::schema::Schema;
use crate::sql::names::QName;

pub mod adding_field_with_default;
pub mod adding_foreign_key_constraint;
pub mod adding_not_nullable_field;
pub mod adding_required_field;
pub mod adding_serial_primary_key_field;
pub mod atlas_sum;
pub mod ban_alter_domain_with_add_constraint;
pub mod ban_alter_identity;
pub mod ban_char_field;
pub mod ban_create_domain_with_constraint;
pub mod ban_disable_trigger;
pub mod ban_drop_column;
pub mod ban_drop_constraint;
pub mod ban_drop_database;
pub mod ban_drop_default;
pub mod ban_drop_domain;
pub mod ban_drop_extension;
pub mod ban_drop_function;
pub mod ban_drop_generated_expression;
pub mod ban_drop_index;
pub mod ban_drop_not_null;
pub mod ban_drop_policy;
pub mod ban_drop_schema;
pub mod ban_drop_sequence;
pub mod ban_drop_table;
pub mod ban_drop_trigger;
pub mod ban_drop_type;
pub mod ban_drop_view;
pub mod ban_duplicate_column_assignments;
pub mod ban_replica_identity;
pub mod ban_revoke;
pub mod ban_set_default;
pub mod ban_set_schema;
pub mod ban_truncate_cascade;
pub mod ban_uncommitted_transaction;
pub mod changing_column_type;
pub mod constraint_missing_not_valid;
pub mod deleted_migration;
pub mod disallowed_unique_constraint;
pub mod down_does_not_revert;
pub mod drizzle_journal;
pub mod duplicate_version;
pub mod edited_migration;
pub mod foreign_key_without_index;
pub mod identifier_too_long;
pub mod ignore_without_reason;
pub mod invalid_migration_file;
pub mod migration_fails;
pub mod not_allowed_in_transaction;
pub mod ops_migrations_sum;
pub mod prefer_bigint_over_int;
pub mod prefer_bigint_over_smallint;
pub mod prefer_identity;
pub mod prefer_jsonb;
pub mod prefer_repack;
pub mod prefer_robust_stmts;
pub mod prefer_text_field;
pub mod prefer_timestamp_tz;
pub mod primary_key_on_nullable_column;
pub mod prisma_lock_provider;
pub mod renamed_migration;
pub mod renaming_column;
pub mod renaming_object;
pub mod renaming_table;
pub mod require_concurrent_index_creation;
pub mod require_concurrent_index_deletion;
pub mod require_concurrent_partition_detach;
pub mod require_concurrent_reindex;
pub mod require_enum_value_ordering;
pub mod require_lock_timeout;
pub mod require_statement_timeout;
pub mod syntax_error;
pub mod trace_blocking_lock;
pub mod trace_table_rewrite;
pub mod transaction_nesting;
pub mod unfiltered_data_change;
pub mod unused_ignore;
pub mod version_not_above_base;
pub mod work_after_access_exclusive;

/// What part of safety a rule is about (docs sections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// Locks and table rewrites that block production traffic.
    Locking,
    /// Changes that break the application version still running during a deploy.
    Compatibility,
    /// Changes that lose or mass-modify data.
    DataSafety,
    /// Transactions, as the runner and the script open them.
    Transactions,
    /// Statements that fail or misbehave.
    Correctness,
    /// Column type choices.
    Types,
    /// The migration history against the pull request's base.
    History,
    /// Observed on a real PostgreSQL.
    Trace,
    /// The check itself: syntax and ignore comments.
    Meta,
}

impl Group {
    /// Heading in the docs.
    pub fn title(self) -> &'static str {
        match self {
            Self::Locking => "Locking and rewrites",
            Self::Compatibility => "Compatibility with the running version",
            Self::DataSafety => "Data safety",
            Self::Transactions => "Transactions",
            Self::Correctness => "Correctness",
            Self::Types => "Column types",
            Self::History => "History gates",
            Self::Trace => "Real PostgreSQL trace",
            Self::Meta => "Syntax and ignores",
        }
    }
}

/// A statement check.
pub type StatementCheck = fn(&Ctx<'_>, &mut Out);

/// Where a rule's findings come from.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// Looks at each statement of an up script.
    Statement(StatementCheck),
    /// Produced by the lint engine itself (syntax, ignores, end-of-script checks).
    Engine,
    /// Produced by loading the migrations and comparing with the base.
    History,
    /// Produced by running the migrations on PostgreSQL.
    Trace,
}

/// A rule.
#[derive(Debug)]
pub struct Rule {
    /// Id: the file name with `-`, the fixture folder, the docs anchor.
    pub id: &'static str,
    /// Default level.
    pub level: Level,
    /// Docs section.
    pub group: Group,
    /// One line: what it reports.
    pub summary: &'static str,
    /// Why it matters (Markdown).
    pub why: &'static str,
    /// How to do it safely (Markdown); the fixture's `good.sql` is the worked example.
    pub rewrite: &'static str,
    /// squawk rules it corresponds to (for `squawk-ignore` and the differential test).
    pub squawk: &'static [&'static str],
    /// Where its findings come from.
    pub check: Check,
}

/// Rules that are off unless the `rules` input gives them a level: they flag changes that are often
/// deliberate (dropping an index, a trigger, a policy), which some teams want reviewed and others not.
/// The same rules are opt-in in squawk.
pub static OPT_IN: &[&str] = &[
    "ban-disable-trigger",
    "ban-drop-index",
    "ban-drop-policy",
    "ban-drop-trigger",
    "ban-replica-identity",
    "ban-revoke",
    "ban-set-default",
];

impl Rule {
    /// Whether the rule is off unless turned on (see [`OPT_IN`]).
    pub fn opt_in(&self) -> bool {
        OPT_IN.contains(&self.id)
    }

    /// Metadata for SARIF and the JSON report.
    pub fn info(&self) -> ops_core::RuleInfo {
        let mut info = ops_core::RuleInfo::new(self.id, self.summary, self.level);
        info.help = Some(format!("{}\n\n**Safe rewrite.** {}", self.why, self.rewrite));
        info.help_uri = Some(format!(
            "https://github.com/ops-actions/ops-actions/blob/main/docs/tools/migrate-check.md#{}",
            self.id
        ));
        info.tags = vec![format!("{:?}", self.group).to_ascii_lowercase()];
        info
    }
}

/// Every rule, sorted by id.
pub static RULES: &[&Rule] = &[
    &adding_field_with_default::RULE,
    &adding_foreign_key_constraint::RULE,
    &adding_not_nullable_field::RULE,
    &adding_required_field::RULE,
    &adding_serial_primary_key_field::RULE,
    &atlas_sum::RULE,
    &ban_alter_domain_with_add_constraint::RULE,
    &ban_alter_identity::RULE,
    &ban_char_field::RULE,
    &ban_create_domain_with_constraint::RULE,
    &ban_disable_trigger::RULE,
    &ban_drop_column::RULE,
    &ban_drop_constraint::RULE,
    &ban_drop_database::RULE,
    &ban_drop_default::RULE,
    &ban_drop_domain::RULE,
    &ban_drop_extension::RULE,
    &ban_drop_function::RULE,
    &ban_drop_generated_expression::RULE,
    &ban_drop_index::RULE,
    &ban_drop_not_null::RULE,
    &ban_drop_policy::RULE,
    &ban_drop_schema::RULE,
    &ban_drop_sequence::RULE,
    &ban_drop_table::RULE,
    &ban_drop_trigger::RULE,
    &ban_drop_type::RULE,
    &ban_drop_view::RULE,
    &ban_duplicate_column_assignments::RULE,
    &ban_replica_identity::RULE,
    &ban_revoke::RULE,
    &ban_set_default::RULE,
    &ban_set_schema::RULE,
    &ban_truncate_cascade::RULE,
    &ban_uncommitted_transaction::RULE,
    &changing_column_type::RULE,
    &constraint_missing_not_valid::RULE,
    &deleted_migration::RULE,
    &disallowed_unique_constraint::RULE,
    &down_does_not_revert::RULE,
    &drizzle_journal::RULE,
    &duplicate_version::RULE,
    &edited_migration::RULE,
    &foreign_key_without_index::RULE,
    &identifier_too_long::RULE,
    &ignore_without_reason::RULE,
    &invalid_migration_file::RULE,
    &migration_fails::RULE,
    &not_allowed_in_transaction::RULE,
    &ops_migrations_sum::RULE,
    &prefer_bigint_over_int::RULE,
    &prefer_bigint_over_smallint::RULE,
    &prefer_identity::RULE,
    &prefer_jsonb::RULE,
    &prefer_repack::RULE,
    &prefer_robust_stmts::RULE,
    &prefer_text_field::RULE,
    &prefer_timestamp_tz::RULE,
    &primary_key_on_nullable_column::RULE,
    &prisma_lock_provider::RULE,
    &renamed_migration::RULE,
    &renaming_column::RULE,
    &renaming_object::RULE,
    &renaming_table::RULE,
    &require_concurrent_index_creation::RULE,
    &require_concurrent_index_deletion::RULE,
    &require_concurrent_partition_detach::RULE,
    &require_concurrent_reindex::RULE,
    &require_enum_value_ordering::RULE,
    &require_lock_timeout::RULE,
    &require_statement_timeout::RULE,
    &syntax_error::RULE,
    &trace_blocking_lock::RULE,
    &trace_table_rewrite::RULE,
    &transaction_nesting::RULE,
    &unfiltered_data_change::RULE,
    &unused_ignore::RULE,
    &version_not_above_base::RULE,
    &work_after_access_exclusive::RULE,
];

/// A rule by id.
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.id == id)
}

/// Our rules a squawk rule id stands for (`squawk-ignore`): exact matches, plus squawk's aliases.
pub fn from_squawk(id: &str) -> Vec<&'static Rule> {
    let id = match id {
        "prefer-timestamptz" => "prefer-timestamp-tz",
        "require-timeout-settings" => {
            return vec![&require_lock_timeout::RULE, &require_statement_timeout::RULE];
        }
        other => other,
    };
    RULES.iter().copied().filter(|r| r.squawk.contains(&id)).collect()
}

/// A byte range inside the statement text being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Start (inclusive).
    pub start: usize,
    /// End (exclusive).
    pub end: usize,
}

impl Span {
    /// The range of a node.
    pub fn node(node: &SyntaxNode) -> Self {
        let range = node.text_range();
        Self {
            start: usize::from(range.start()),
            end: usize::from(range.end()),
        }
    }

    /// The range of a token.
    pub fn token(token: &SyntaxToken) -> Self {
        let range = token.text_range();
        Self {
            start: usize::from(range.start()),
            end: usize::from(range.end()),
        }
    }

    /// An empty range at an offset (an insertion point).
    pub fn at(offset: usize) -> Self {
        Self {
            start: offset,
            end: offset,
        }
    }
}

/// One text edit of a fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// What to replace (empty: insert).
    pub span: Span,
    /// The replacement.
    pub text: String,
}

/// A machine-applicable fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// What it does.
    pub title: String,
    /// The edits, inside the statement's text.
    pub edits: Vec<Edit>,
}

impl Fix {
    /// A fix that inserts `text` at `offset`.
    pub fn insert(title: impl Into<String>, offset: usize, text: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            edits: vec![Edit {
                span: Span::at(offset),
                text: text.into(),
            }],
        }
    }
}

/// A finding inside a statement, before it gets a file position.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The rule.
    pub rule: &'static Rule,
    /// Where.
    pub span: Span,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when it depends on the case.
    pub help: Option<String>,
    /// A machine-applicable fix.
    pub fix: Option<Fix>,
    /// A level for this case, when it differs from the rule's (a configured level still wins).
    pub level: Option<Level>,
}

impl Hit {
    /// Sets the help text.
    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the fix.
    pub fn fix(&mut self, fix: Option<Fix>) -> &mut Self {
        self.fix = fix;
        self
    }
}

/// Where checks put their hits.
#[derive(Debug, Default)]
pub struct Out {
    /// Hits so far.
    pub hits: Vec<Hit>,
}

impl Out {
    /// Reports a hit on a node.
    pub fn report(&mut self, rule: &'static Rule, node: &SyntaxNode, message: impl Into<String>) -> &mut Hit {
        self.report_span(rule, Span::node(node), message)
    }

    /// Reports a hit on a span.
    pub fn report_span(&mut self, rule: &'static Rule, span: Span, message: impl Into<String>) -> &mut Hit {
        self.hits.push(Hit {
            rule,
            span,
            message: message.into(),
            help: None,
            fix: None,
            level: None,
        });
        let last = self.hits.len() - 1;
        &mut self.hits[last]
    }
}

/// A lock held on an existing table in the open transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldLock {
    /// The table.
    pub table: String,
    /// Where it was taken (`path:line`).
    pub at: String,
}

/// The transaction state before a statement runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxState {
    /// The runner's transaction (or PostgreSQL's implicit one for a multi-statement query) is open.
    pub runner: bool,
    /// The script opened one with `BEGIN`.
    pub explicit: bool,
    /// `SET lock_timeout` seen.
    pub lock_timeout: bool,
    /// `SET statement_timeout` seen.
    pub statement_timeout: bool,
    /// `ACCESS EXCLUSIVE` held on an existing table.
    pub held: Option<HeldLock>,
    /// Constraints added `NOT VALID` in this transaction.
    pub not_valid: BTreeSet<String>,
    /// Constraints the script dropped so far (a later `ADD CONSTRAINT` of the same name re-runs cleanly).
    pub dropped_constraints: BTreeSet<String>,
}

impl TxState {
    /// Whether the statement runs inside a transaction block.
    pub fn in_tx(&self) -> bool {
        self.runner || self.explicit
    }
}

/// The script being checked.
#[derive(Debug, Clone)]
pub struct ScriptInfo {
    /// Framework.
    pub framework: Framework,
    /// The runner's transaction mode.
    pub mode: TxMode,
    /// Path for messages (relative to the repository).
    pub path: String,
    /// Statements in the script, when counted up front (transaction modes that depend on it).
    pub statements: Option<usize>,
    /// Up or down.
    pub direction: Direction,
}

/// What a statement check sees.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The statement.
    pub stmt: &'a ast::Stmt,
    /// The schema before it.
    pub schema: &'a Schema,
    /// The transaction before it.
    pub tx: &'a TxState,
    /// The script.
    pub script: &'a ScriptInfo,
    /// Target PostgreSQL major version.
    pub pg_version: u32,
    /// The text the statement was parsed from (for cheap keyword gates).
    pub text: &'a str,
    /// The column types the statement defines, computed on first use.
    pub types: std::cell::OnceCell<Vec<(ast::Type, crate::sql::types::ColType)>>,
    /// For `ALTER TABLE`, the table when it exists from before the change; computed on first use
    /// (most statement rules ask, and naming the table walks the tree).
    pub altered: std::cell::OnceCell<Option<QName>>,
}

impl Ctx<'_> {
    /// Whether the statement's text contains `word` (ASCII, any case): a cheap gate before walking the tree.
    pub fn mentions(&self, word: &str) -> bool {
        mentions(self.text, word)
    }

    /// The column types the statement defines, with their parsed form.
    pub fn types(&self) -> &[(ast::Type, crate::sql::types::ColType)] {
        self.types.get_or_init(|| {
            defined_types(self.stmt)
                .into_iter()
                .map(|ty| {
                    let parsed = crate::sql::types::ColType::from_ast(&ty);
                    (ty, parsed)
                })
                .collect()
        })
    }

    /// Whether a table exists from before the change (unknown tables count as existing).
    pub fn existing(&self, table: &QName) -> bool {
        self.schema.is_existing_table(table)
    }

    /// How to run a statement outside a transaction with this framework.
    pub fn outside_tx_hint(&self) -> String {
        outside_tx_hint(self.script.framework)
    }

    /// Why the statement is inside a transaction, for messages.
    pub fn tx_reason(&self) -> String {
        if self.tx.explicit && !self.tx.runner {
            "the script opened a transaction with `BEGIN`".to_owned()
        } else {
            self.script.mode.describe(self.script.framework)
        }
    }
}

/// Whether `text` contains `word`, ignoring ASCII case.
pub fn mentions(text: &str, word: &str) -> bool {
    let (text, word) = (text.as_bytes(), word.as_bytes());
    !word.is_empty() && text.windows(word.len()).any(|w| w.eq_ignore_ascii_case(word))
}

/// How to make a migration run outside a transaction, per framework.
pub fn outside_tx_hint(framework: Framework) -> String {
    match framework {
        Framework::Goose => "add `-- +goose NO TRANSACTION` to the migration".to_owned(),
        Framework::Sqlx => "start the migration file with `-- no-transaction`".to_owned(),
        Framework::Dbmate => "write `-- migrate:up transaction:false` and keep the statement alone in the migration".to_owned(),
        Framework::Atlas => "add `-- atlas:txmode none` to the file header".to_owned(),
        Framework::Diesel => "add `run_in_transaction = false` to the migration's `metadata.toml`".to_owned(),
        Framework::GolangMigrate => "put the statement alone in its own migration file".to_owned(),
        Framework::Flyway => "put the statement in a migration of its own (or set `mixed=true`)".to_owned(),
        Framework::Prisma => "put the statement alone in its own migration".to_owned(),
        Framework::Drizzle => {
            "drizzle runs every pending migration in one transaction, so run this statement outside drizzle's migrator (for example a separate script step)".to_owned()
        }
        Framework::NodePgMigrate => "write this migration in JavaScript and call `pgm.noTransaction()`".to_owned(),
        Framework::Sql => "run it outside `BEGIN` … `COMMIT`".to_owned(),
    }
}

/// Whether a statement cannot run inside a transaction block; the description names the form.
pub fn non_transactional(stmt: &ast::Stmt, pg_version: u32) -> Option<&'static str> {
    match stmt {
        ast::Stmt::CreateIndex(c) if c.concurrently_token().is_some() => Some("`CREATE INDEX CONCURRENTLY`"),
        ast::Stmt::DropIndex(d) if d.concurrently_token().is_some() => Some("`DROP INDEX CONCURRENTLY`"),
        ast::Stmt::Reindex(r) => match r.reindex_target() {
            Some(ast::ReindexTarget::ReindexTargetTable(t)) if t.concurrently_token().is_some() => {
                Some("`REINDEX CONCURRENTLY`")
            }
            Some(ast::ReindexTarget::ReindexTargetIndex(i)) if i.concurrently_token().is_some() => {
                Some("`REINDEX CONCURRENTLY`")
            }
            Some(
                ast::ReindexTarget::ReindexTargetDatabase(_) | ast::ReindexTarget::ReindexTargetSystem(_),
            ) => Some("`REINDEX DATABASE`"),
            _ if r
                .syntax()
                .to_string()
                .to_ascii_lowercase()
                .contains("concurrently") =>
            {
                Some("`REINDEX CONCURRENTLY`")
            }
            _ => None,
        },
        ast::Stmt::AlterTable(alter) => alter.actions().find_map(|a| match a {
            ast::AlterTableAction::DetachPartition(d)
                if matches!(
                    d.detach_partition_option(),
                    Some(ast::DetachPartitionOption::DetachConcurrently(_))
                ) =>
            {
                Some("`DETACH PARTITION CONCURRENTLY`")
            }
            _ => None,
        }),
        ast::Stmt::Vacuum(_) => Some("`VACUUM`"),
        ast::Stmt::CreateDatabase(_) => Some("`CREATE DATABASE`"),
        ast::Stmt::DropDatabase(_) => Some("`DROP DATABASE`"),
        ast::Stmt::CreateTablespace(_) => Some("`CREATE TABLESPACE`"),
        ast::Stmt::DropTablespace(_) => Some("`DROP TABLESPACE`"),
        ast::Stmt::AlterSystem(_) => Some("`ALTER SYSTEM`"),
        ast::Stmt::AlterType(t)
            if pg_version < 12 && matches!(t.action(), Some(ast::AlterTypeAction::AddValue(_))) =>
        {
            Some("`ALTER TYPE … ADD VALUE` (before PostgreSQL 12)")
        }
        _ => None,
    }
}

/// The table an `ALTER TABLE` statement is about.
pub fn alter_table_name(alter: &ast::AlterTable) -> Option<QName> {
    crate::sql::names::table_relation(alter.table_relation_name())
}

/// The `ALTER TABLE` of the statement, with its table, when the table exists from before the change.
pub fn alter_existing<'a>(ctx: &Ctx<'a>) -> Option<(&'a ast::AlterTable, QName)> {
    let ast::Stmt::AlterTable(alter) = ctx.stmt else {
        return None;
    };
    let table = ctx
        .altered
        .get_or_init(|| alter_table_name(alter).filter(|table| ctx.existing(table)))
        .clone()?;
    Some((alter, table))
}

/// The column types a statement defines: `CREATE TABLE` columns, `ADD COLUMN`, `ALTER COLUMN … TYPE`.
pub fn defined_types(stmt: &ast::Stmt) -> Vec<ast::Type> {
    match stmt {
        ast::Stmt::CreateTable(create) => create
            .table_arg_list()
            .map(|args| {
                args.args()
                    .filter_map(|a| match a {
                        ast::TableArg::Column(c) => c.ty(),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        ast::Stmt::AlterTable(alter) => alter
            .actions()
            .filter_map(|a| match a {
                ast::AlterTableAction::AddColumn(add) => add.ty(),
                ast::AlterTableAction::AlterColumn(column) => match column.option() {
                    Some(ast::AlterColumnOption::SetType(set)) => set.ty(),
                    _ => None,
                },
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether a default expression is constant or non-volatile (so PostgreSQL 11+ adds the column
/// without rewriting the table).
pub fn non_volatile(expr: &ast::Expr) -> bool {
    match expr {
        ast::Expr::Literal(_) => true,
        ast::Expr::ArrayExpr(array) => array
            .syntax()
            .children()
            .filter_map(ast::Expr::cast)
            .all(|e| non_volatile(&e)),
        ast::Expr::CastExpr(cast) => cast
            .syntax()
            .children()
            .find_map(ast::Expr::cast)
            .is_none_or(|e| non_volatile(&e)),
        ast::Expr::ParenExpr(paren) => paren
            .syntax()
            .children()
            .find_map(ast::Expr::cast)
            .is_some_and(|e| non_volatile(&e)),
        ast::Expr::PrefixExpr(prefix) => prefix
            .syntax()
            .children()
            .find_map(ast::Expr::cast)
            .is_some_and(|e| non_volatile(&e)),
        ast::Expr::BinExpr(bin) => {
            bin.lhs().is_some_and(|e| non_volatile(&e)) && bin.rhs().is_some_and(|e| non_volatile(&e))
        }
        ast::Expr::Collate(c) => c
            .syntax()
            .children()
            .find_map(ast::Expr::cast)
            .is_some_and(|e| non_volatile(&e)),
        // `CURRENT_TIMESTAMP`, `CURRENT_DATE`, `LOCALTIMESTAMP`… are stable, evaluated once.
        ast::Expr::NameRef(name) => name.ident_token().is_none(),
        ast::Expr::CallExpr(call) => {
            let Some(ast::Expr::NameRef(name)) = call.expr() else {
                // `pg_catalog.now()` and special forms (`CURRENT_TIMESTAMP(3)`, `EXTRACT`…)
                let text = call.syntax().to_string().to_ascii_lowercase();
                return !VOLATILE.iter().any(|v| text.contains(&format!("{v}(")));
            };
            let fname = name.text();
            let args_ok = call.arg_list().is_none_or(|args| {
                args.syntax()
                    .descendants()
                    .filter_map(ast::Expr::cast)
                    .all(|e| non_volatile(&e))
            });
            !VOLATILE.contains(&fname.as_str()) && STABLE_OR_IMMUTABLE.contains(&fname.as_str()) && args_ok
        }
        _ => false,
    }
}

/// Built-in volatile functions commonly used as defaults (`pg_proc.provolatile = 'v'`).
const VOLATILE: &[&str] = &[
    "random",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "nextval",
    "clock_timestamp",
    "timeofday",
    "txid_current",
    "setseed",
    "gen_random_bytes",
];

/// Built-in stable or immutable functions seen as column defaults; other functions count as volatile
/// (their volatility is unknown to a static check).
const STABLE_OR_IMMUTABLE: &[&str] = &[
    "now",
    "current_timestamp",
    "statement_timestamp",
    "transaction_timestamp",
    "current_date",
    "localtimestamp",
    "current_user",
    "session_user",
    "current_setting",
    "timezone",
    "to_timestamp",
    "to_char",
    "to_date",
    "date_trunc",
    "lower",
    "upper",
    "coalesce",
    "concat",
    "jsonb_build_object",
    "json_build_object",
    "jsonb_build_array",
    "json_build_array",
    "array_fill",
    "make_interval",
    "make_date",
    "make_timestamp",
    "make_timestamptz",
    "abs",
    "length",
    "md5",
    "replace",
    "substring",
    "trim",
    "inet",
    "int4range",
    "int8range",
    "numrange",
    "tstzrange",
    "tsrange",
    "daterange",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_sorted_unique_and_named_after_files() {
        let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted, "sorted by id, no duplicates");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n != "mod.rs")
            .map(|n| n.trim_end_matches(".rs").replace('_', "-"))
            .collect();
        files.sort();
        assert_eq!(ids, files, "one file per rule, file name = id");
    }

    #[test]
    fn messages_follow_the_style() {
        for rule in RULES {
            for (what, text) in [
                ("summary", rule.summary),
                ("why", rule.why),
                ("rewrite", rule.rewrite),
            ] {
                assert!(!text.trim().is_empty(), "{}: empty {what}", rule.id);
            }
            assert!(
                !rule.summary.ends_with('.'),
                "{}: summary ends with a period",
                rule.id
            );
            assert!(
                rule.summary
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_lowercase() || c == '`'),
                "{}: summary starts lowercase",
                rule.id
            );
        }
    }

    #[test]
    fn squawk_names_map_to_rules() {
        assert_eq!(from_squawk("ban-drop-column")[0].id, "ban-drop-column");
        assert_eq!(
            from_squawk("ban-concurrent-index-creation-in-transaction")[0].id,
            "not-allowed-in-transaction"
        );
        assert_eq!(from_squawk("prefer-timestamptz")[0].id, "prefer-timestamp-tz");
        assert_eq!(from_squawk("require-timeout-settings").len(), 2);
        assert!(from_squawk("no-such-rule").is_empty());
    }

    #[test]
    fn volatility_of_defaults() {
        use squawk_syntax::SourceFile;
        let default_of = |sql: &str| {
            let file = SourceFile::parse(&format!("alter table t add column c int default {sql};"));
            file.tree()
                .syntax()
                .descendants()
                .find_map(ast::DefaultConstraint::cast)
                .and_then(|d| d.expr())
                .unwrap()
        };
        for (sql, expected) in [
            ("1", true),
            ("'x'::text", true),
            ("now()", true),
            ("CURRENT_TIMESTAMP", true),
            ("ARRAY[]::text[]", true),
            ("-1", true),
            ("gen_random_uuid()", false),
            ("random() * 10", false),
            ("nextval('s')", false),
            ("my_function()", false),
        ] {
            assert_eq!(non_volatile(&default_of(sql)), expected, "{sql}");
        }
    }
}
