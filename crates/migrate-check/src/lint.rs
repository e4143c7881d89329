//! The lint engine: reads each script the way its runner cuts it, parses one statement at a time
//! (so a syntax error costs only its own statement, and memory is bounded by the largest statement),
//! tracks the transaction the runner and the script open, replays the schema, and runs the rules.
//!
//! Base migrations are replayed (schema only); migrations under review are linted: their up script
//! goes through every statement rule, their down script is checked for syntax and for undoing the up.

use std::collections::BTreeMap;
use std::io::BufReader;
use std::sync::Arc;

use ops_core::Level;
use squawk_syntax::ast::{self, AstNode};
use squawk_syntax::{SourceFile, SyntaxKind};

use crate::ahead::{Ahead, Job, Parsed, ScriptStream, parse_segment};
use crate::error::Error;
use crate::framework::{Migration, MigrationSet, Script, SplitKind, TxMode, goose};
use crate::ignore::{self, Directive, Scope};
use crate::rules::{self, Check, Ctx, Fix, HeldLock, Hit, Out, Rule, ScriptInfo, TxState};
use crate::schema::Schema;
use crate::sql::locks::{self, LockMode};
use crate::sql::names::{self, QName};
use crate::sql::split::{Segment, SplitOptions, Splitter};

/// Rule levels and the target PostgreSQL version.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Target PostgreSQL major version.
    pub pg_version: u32,
    /// Configured levels: `None` turns a rule off.
    pub levels: BTreeMap<&'static str, Option<Level>>,
    /// Compare down migrations with the schema model (off when a real database does it).
    pub static_down: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            pg_version: 16,
            levels: BTreeMap::new(),
            static_down: true,
        }
    }
}

impl Settings {
    /// The level a finding of `rule` gets, or `None` when the rule is off.
    pub fn level(&self, rule: &Rule, suggested: Option<Level>) -> Option<Level> {
        match self.levels.get(rule.id) {
            Some(configured) => *configured,
            None if rule.opt_in() => None,
            None => Some(suggested.unwrap_or(rule.level)),
        }
    }

    /// Whether a rule is on.
    pub fn enabled(&self, rule: &Rule) -> bool {
        match self.levels.get(rule.id) {
            Some(level) => level.is_some(),
            None => !rule.opt_in(),
        }
    }
}

/// A position in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (UTF-16 code units).
    pub column: u32,
}

/// One edit of a fix, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileEdit {
    /// Byte range in the file.
    pub start: usize,
    /// End of the range (exclusive).
    pub end: usize,
    /// Where the range starts.
    pub from: Pos,
    /// Where it ends.
    pub to: Pos,
    /// Replacement.
    pub text: String,
}

/// A fix, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileFix {
    /// What it does.
    pub title: String,
    /// The edits.
    pub edits: Vec<FileEdit>,
}

/// A finding, before it becomes an `ops_core::Finding`.
#[derive(Debug, Clone)]
pub struct Item {
    /// The rule.
    pub rule: &'static Rule,
    /// The level.
    pub level: Level,
    /// Path relative to the repository (`/`-separated); empty for findings about no file.
    pub path: Arc<str>,
    /// Start.
    pub from: Pos,
    /// End (inclusive column).
    pub to: Pos,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// A machine-applicable fix.
    pub fix: Option<FileFix>,
}

impl Item {
    /// Converts to the shared Finding model.
    pub fn finding(&self) -> ops_core::Finding {
        let mut finding = ops_core::Finding::new(self.rule.id, self.level, self.message.clone())
            .with_source("migrate-check");
        if !self.path.is_empty() {
            let region = (self.from.line > 0).then(|| ops_core::Region {
                start_line: self.from.line,
                start_column: Some(self.from.column),
                end_line: Some(self.to.line.max(self.from.line)),
                end_column: (self.to.line > self.from.line || self.to.column >= self.from.column)
                    .then_some(self.to.column),
            });
            finding = finding.at(self.path.to_string(), region);
        }
        let mut help = self
            .help
            .clone()
            .unwrap_or_else(|| first_sentence(self.rule.rewrite));
        if let Some(fix) = &self.fix {
            help.push_str(&format!(" (fix available: {})", fix.title));
        }
        finding.with_help(help).with_title(self.rule.id)
    }
}

fn first_sentence(text: &str) -> String {
    let end = text.find(". ").map_or(text.len(), |i| i + 1);
    text[..end].trim_end_matches('.').to_owned()
}

/// Where the engine puts findings as it makes them (so a huge file never holds all of them).
pub trait Sink {
    /// Takes one finding.
    fn push(&mut self, item: Item);
}

impl Sink for Vec<Item> {
    fn push(&mut self, item: Item) {
        Self::push(self, item);
    }
}

/// A foreign key added by the change, waiting for the end of the change to see whether an index covers it.
#[derive(Debug, Clone)]
struct PendingFk {
    table: QName,
    columns: Vec<String>,
    item: Item,
}

/// What the engine does with a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Schema only (base migrations).
    Replay,
    /// Every rule (up scripts under review).
    Lint,
    /// Syntax only, applied to a copy of the schema (down scripts).
    Down,
}

/// Counters for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Scripts read.
    pub scripts: usize,
    /// Statements parsed.
    pub statements: usize,
}

/// The engine.
pub struct Engine<'s> {
    settings: &'s Settings,
    /// The schema so far.
    pub schema: Schema,
    sink: &'s mut dyn Sink,
    /// Counters.
    pub stats: Stats,
    carry: Option<TxState>,
    pending_fks: Vec<PendingFk>,
    /// The last script run had statements whose effect on the schema the model cannot follow.
    opaque: bool,
    /// Path prefix (the migrations root, relative to the repository).
    prefix: String,
    /// Scripts announced with [`Engine::expect_replay`] / [`Engine::expect_lint`], not yet started.
    planned: Vec<Job>,
    /// The parsing threads working through the announced scripts.
    ahead: Option<Ahead>,
    /// The checks of the statement rules that are on (settings looked up once, not per statement).
    checks: Vec<rules::StatementCheck>,
}

impl std::fmt::Debug for Engine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<'s> Engine<'s> {
    /// An engine; `prefix` is the migrations root relative to the repository, with a trailing `/`
    /// (or, for a single-file set, the file's own path).
    pub fn new(settings: &'s Settings, prefix: impl Into<String>, sink: &'s mut dyn Sink) -> Self {
        Self {
            settings,
            schema: Schema::default(),
            sink,
            stats: Stats::default(),
            carry: None,
            pending_fks: Vec::new(),
            opaque: false,
            prefix: prefix.into(),
            planned: Vec::new(),
            ahead: None,
            checks: rules::RULES
                .iter()
                .filter(|rule| settings.enabled(rule))
                .filter_map(|rule| match rule.check {
                    Check::Statement(check) => Some(check),
                    _ => None,
                })
                .collect(),
        }
    }

    /// Announces that [`Engine::replay`] will be called with `migration` (after everything announced
    /// before it), so its statements are parsed ahead on the other cores.
    pub fn expect_replay(&mut self, set: &MigrationSet, migration: &Migration) {
        if let Some(up) = &migration.up {
            self.plan(set, up, Pass::Replay);
        }
    }

    /// Announces that [`Engine::lint`] will be called with `migration` (after everything announced
    /// before it), so its statements are parsed ahead on the other cores.
    pub fn expect_lint(&mut self, set: &MigrationSet, migration: &Migration) {
        if let Some(up) = &migration.up {
            self.plan(set, up, Pass::Lint);
        }
        if let Some(down) = &migration.down {
            self.plan(set, down, Pass::Down);
        }
    }

    fn plan(&mut self, set: &MigrationSet, script: &Script, pass: Pass) {
        let needs_count = matches!(
            script.tx,
            TxMode::Implicit | TxMode::Prisma | TxMode::FlywayAuto { .. }
        );
        self.planned.push(Job {
            path: set.abs(&script.path),
            script: script.clone(),
            count: (needs_count && pass != Pass::Replay).then_some(self.settings.pg_version),
        });
    }

    fn display(&self, set: &MigrationSet, path: &str) -> String {
        if set.single_file {
            self.prefix.clone()
        } else {
            format!("{}{path}", self.prefix)
        }
    }

    /// Replays a migration's up script into the schema, as existing objects.
    pub fn replay(&mut self, set: &MigrationSet, migration: &Migration) -> Result<(), Error> {
        if let Some(up) = &migration.up {
            let mut schema = std::mem::take(&mut self.schema);
            let result = self.run_script(set, up, Pass::Replay, &mut schema);
            self.schema = schema;
            result?;
        }
        Ok(())
    }

    /// Lints a migration: the up script through every rule, the down script for syntax and for undoing
    /// the up.
    pub fn lint(&mut self, set: &MigrationSet, migration: &Migration) -> Result<(), Error> {
        let before = migration.down.as_ref().map(|_| self.schema.clone());
        let mut up_opaque = false;
        if let Some(up) = &migration.up {
            let mut schema = std::mem::take(&mut self.schema);
            let result = self.run_script(set, up, Pass::Lint, &mut schema);
            self.schema = schema;
            result?;
            up_opaque = self.opaque;
        }
        if let (Some(down), Some(before)) = (&migration.down, before) {
            let mut copy = self.schema.clone();
            self.run_script(set, down, Pass::Down, &mut copy)?;
            // Only claim what the model can follow: no dynamic SQL, function calls or cascades.
            if migration.up.is_some() && !up_opaque && !self.opaque && self.settings.static_down {
                self.compare_down(set, migration, down, &before, &copy);
            }
        }
        Ok(())
    }

    fn compare_down(
        &mut self,
        set: &MigrationSet,
        migration: &Migration,
        down: &Script,
        before: &Schema,
        after: &Schema,
    ) {
        let rule = &rules::down_does_not_revert::RULE;
        let Some(level) = self.settings.level(rule, None) else {
            return;
        };
        let (left, missing) = before.diff(after);
        let left: Vec<&String> = left.iter().take(5).collect();
        let missing: Vec<&String> = missing.iter().take(5).collect();
        if left.is_empty() && missing.is_empty() {
            return;
        }
        let mut parts = Vec::new();
        if !left.is_empty() {
            parts.push(format!(
                "leaves {}",
                left.iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !missing.is_empty() {
            parts.push(format!(
                "does not restore {}",
                missing
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        self.sink.push(Item {
            rule,
            level,
            path: Arc::from(self.display(set, &down.path)),
            from: Pos {
                line: down.line,
                column: 1,
            },
            to: Pos {
                line: down.line,
                column: 1,
            },
            message: format!(
                "the down migration of `{}` {} (compared with the schema before its up migration)",
                migration.id,
                parts.join(" and ")
            ),
            help: None,
            fix: None,
        });
    }

    /// Marks everything created so far as existing (between deploy units).
    pub fn settle(&mut self) {
        self.schema.settle();
    }

    /// Ends a deploy unit: the shared transaction commits, and foreign keys added in the unit are
    /// checked for a covering index.
    pub fn finish_unit(&mut self) {
        self.carry = None;
        for pending in std::mem::take(&mut self.pending_fks) {
            if self.schema.table(&pending.table).is_some()
                && !self.schema.has_index_leading(&pending.table, &pending.columns)
            {
                self.sink.push(pending.item);
            }
        }
    }

    fn run_script(
        &mut self,
        set: &MigrationSet,
        script: &Script,
        pass: Pass,
        schema: &mut Schema,
    ) -> Result<(), Error> {
        self.stats.scripts += 1;
        let path = self.display(set, &script.path);
        let path_arc: Arc<str> = Arc::from(path.as_str());
        let needs_count = matches!(
            script.tx,
            TxMode::Implicit | TxMode::Prisma | TxMode::FlywayAuto { .. }
        );
        let abs = set.abs(&script.path);
        let count = (needs_count && pass != Pass::Replay).then_some(self.settings.pg_version);
        if !self.planned.is_empty() {
            self.ahead = Some(Ahead::start(std::mem::take(&mut self.planned)));
        }
        let mut planned = self.ahead.take();
        let mut one_off = None;
        let mut source = match planned.as_mut().and_then(|a| a.script(&abs, script)) {
            Some(stream) => Source::Ahead(stream),
            None if std::fs::metadata(&abs).is_ok_and(|m| m.len() > PARSE_AHEAD_ABOVE) => {
                let job = Job {
                    path: abs.clone(),
                    script: script.clone(),
                    count,
                };
                one_off
                    .insert(Ahead::start(vec![job]))
                    .script(&abs, script)
                    .map_or_else(|| Source::Here(Box::new(std::iter::empty())), Source::Ahead)
            }
            None => Source::Here(segments_at(&abs, script)?),
        };
        let counted = match &mut source {
            Source::Ahead(stream) => stream.start()?,
            Source::Here(_) => None,
        };
        let (statements, non_tx) = match (counted, count) {
            (Some(counts), _) => counts,
            (None, Some(_)) => self.prepass(set, script)?,
            (None, None) => (0, 0),
        };
        let runner = match script.tx {
            TxMode::PerMigration | TxMode::AllPending => true,
            TxMode::None => false,
            TxMode::Implicit | TxMode::Prisma => statements > 1,
            TxMode::FlywayAuto { mixed } => !(non_tx > 0 && (non_tx == statements || mixed)),
        };
        let info = ScriptInfo {
            framework: set.framework,
            mode: script.tx,
            path: path.clone(),
            statements: needs_count.then_some(statements),
            direction: script.direction,
        };
        let mut tx = match (&self.carry, script.tx) {
            (Some(carried), TxMode::AllPending) => TxState {
                lock_timeout: false,
                statement_timeout: false,
                ..carried.clone()
            },
            _ => TxState {
                runner,
                ..TxState::default()
            },
        };
        let mut fk_candidates: Vec<(usize, PendingFk)> = Vec::new();
        let mut directives = Directives::default();
        let mut begin_at: Option<Pos> = None;
        let mut index = 0usize;
        let mut once: Vec<&'static str> = Vec::new();
        self.opaque = false;
        while let Some(parsed) = source.next(&abs) {
            let parsed = parsed?;
            'piece: {
                let segment = &parsed.segment;
                let Some((parse, errors)) = &parsed.parse else {
                    if pass == Pass::Lint {
                        collect_directives(segment, None, index, None, &mut directives.list);
                    }
                    break 'piece;
                };
                let file = parse.tree();
                if pass != Pass::Replay && !errors.is_empty() {
                    let rule = &rules::syntax_error::RULE;
                    if let Some(level) = self.settings.level(rule, None) {
                        let error = &errors[0];
                        let at = usize::from(error.range().start());
                        let (line, column) = segment.position(at);
                        let more = if errors.len() > 1 {
                            format!(" ({} more in this statement)", errors.len() - 1)
                        } else {
                            String::new()
                        };
                        let item = Item {
                            rule,
                            level,
                            path: path_arc.clone(),
                            from: Pos { line, column },
                            to: Pos { line, column },
                            message: format!("syntax error: {}{more}", error.message()),
                            help: Some("fix the statement; the rest of the file is still checked".to_owned()),
                            fix: None,
                        };
                        if pass == Pass::Replay || !directives.suppresses(index, rule) {
                            self.sink.push(item);
                        }
                    }
                }
                let error_starts: Vec<usize> =
                    errors.iter().map(|e| usize::from(e.range().start())).collect();
                let first_stmt = file
                    .stmts()
                    .next()
                    .map(|s| usize::from(s.syntax().text_range().start()));
                if pass == Pass::Lint {
                    collect_directives(segment, Some(&file), index, first_stmt, &mut directives.list);
                }
                for stmt in file.stmts() {
                    self.stats.statements += 1;
                    let range = stmt.syntax().text_range();
                    let broken = error_starts
                        .iter()
                        .any(|&e| e >= usize::from(range.start()) && e <= usize::from(range.end()));
                    if broken {
                        self.opaque = true;
                        index += 1;
                        continue;
                    }
                    if opaque_to_model(&stmt) {
                        self.opaque = true;
                    }
                    let inner_blocks = do_block_statements(&stmt);
                    if pass == Pass::Lint {
                        let mut out = Out::default();
                        self.check_statement(&stmt, &segment.text, schema, &tx, &info, &mut out);
                        for (inner, offset, code) in &inner_blocks {
                            for inner_stmt in inner.tree().stmts() {
                                let mut inner_out = Out::default();
                                self.check_statement(&inner_stmt, code, schema, &tx, &info, &mut inner_out);
                                for mut hit in inner_out.hits {
                                    hit.span.start += offset;
                                    hit.span.end += offset;
                                    if let Some(fix) = &mut hit.fix {
                                        for edit in &mut fix.edits {
                                            edit.span.start += offset;
                                            edit.span.end += offset;
                                        }
                                    }
                                    out.hits.push(hit);
                                }
                                schema.apply(&inner_stmt, true);
                            }
                        }
                        for hit in out.hits {
                            if matches!(hit.rule.id, "require-lock-timeout" | "require-statement-timeout") {
                                if once.contains(&hit.rule.id) {
                                    continue;
                                }
                                once.push(hit.rule.id);
                            }
                            if hit.rule.id == "work-after-access-exclusive" {
                                tx.held = None;
                            }
                            if let Some(item) = self.item(&hit, segment, &path_arc)
                                && !directives.suppresses(index, item.rule)
                            {
                                self.sink.push(item);
                            }
                        }
                        self.foreign_keys(&stmt, segment, &path_arc, index, &mut fk_candidates);
                    } else {
                        for (inner, _, _) in &inner_blocks {
                            for inner_stmt in inner.tree().stmts() {
                                schema.apply(&inner_stmt, false);
                            }
                        }
                    }
                    let pos = {
                        let (line, column) = segment.position(usize::from(range.start()));
                        Pos { line, column }
                    };
                    update_tx(&mut tx, &stmt, schema, &path, pos, &mut begin_at);
                    schema.apply(&stmt, pass == Pass::Lint);
                    index += 1;
                }
            }
            source.give_back(parsed);
        }
        drop(source);
        drop(one_off);
        // A plan the engine strayed from is of no further use (its threads stop once it is dropped).
        self.ahead = planned.filter(Ahead::has_more);
        if pass == Pass::Lint
            && tx.explicit
            && let Some(at) = begin_at
            && let Some(level) = self
                .settings
                .level(&rules::ban_uncommitted_transaction::RULE, None)
            && !directives.suppresses(usize::MAX, &rules::ban_uncommitted_transaction::RULE)
        {
            self.sink.push(Item {
                rule: &rules::ban_uncommitted_transaction::RULE,
                level,
                path: path_arc.clone(),
                from: at,
                to: at,
                message: "`BEGIN` is never committed in this script: the migration's changes are rolled back or left open"
                    .to_owned(),
                help: Some("add `COMMIT` at the end of the transaction".to_owned()),
                fix: None,
            });
        }
        if script.tx == TxMode::AllPending {
            tx.explicit = false;
            self.carry = Some(tx);
        }
        if pass == Pass::Lint {
            for (index, fk) in fk_candidates {
                if !directives.suppresses(index, fk.item.rule) {
                    self.pending_fks.push(fk);
                }
            }
            self.report_directives(directives, &path_arc);
        }
        Ok(())
    }

    fn check_statement(
        &self,
        stmt: &ast::Stmt,
        text: &str,
        schema: &Schema,
        tx: &TxState,
        info: &ScriptInfo,
        out: &mut Out,
    ) {
        let ctx = Ctx {
            stmt,
            schema,
            tx,
            script: info,
            pg_version: self.settings.pg_version,
            text,
            types: std::cell::OnceCell::new(),
            altered: std::cell::OnceCell::new(),
        };
        for check in &self.checks {
            check(&ctx, out);
        }
    }

    fn item(&self, hit: &Hit, segment: &Segment, path: &Arc<str>) -> Option<Item> {
        let level = self.settings.level(hit.rule, hit.level)?;
        let (line, column) = segment.position(hit.span.start);
        let (end_line, end_column) = segment.position(hit.span.end);
        let end_column = if (end_line, end_column) > (line, column) {
            end_column.saturating_sub(1).max(1)
        } else {
            column
        };
        Some(Item {
            rule: hit.rule,
            level,
            path: path.clone(),
            from: Pos { line, column },
            to: Pos {
                line: end_line,
                column: end_column,
            },
            message: hit.message.clone(),
            help: hit.help.clone(),
            fix: hit.fix.as_ref().map(|fix| file_fix(fix, segment)),
        })
    }

    fn foreign_keys(
        &self,
        stmt: &ast::Stmt,
        segment: &Segment,
        path: &Arc<str>,
        index: usize,
        out: &mut Vec<(usize, PendingFk)>,
    ) {
        let rule = &rules::foreign_key_without_index::RULE;
        let Some(level) = self.settings.level(rule, None) else {
            return;
        };
        let mut add = |table: &QName, columns: Vec<String>, node: &squawk_syntax::SyntaxNode| {
            if columns.is_empty() {
                return;
            }
            let (line, column) = segment.position(usize::from(node.text_range().start()));
            let list = columns.join(", ");
            out.push((
                index,
                PendingFk {
                    table: table.clone(),
                    columns: columns.clone(),
                    item: Item {
                        rule,
                        level,
                        path: path.clone(),
                        from: Pos { line, column },
                        to: Pos { line, column },
                        message: format!(
                            "foreign key on `{table}` ({list}) has no index starting with its columns: deletes and key updates on the referenced table scan `{table}`"
                        ),
                        help: Some(format!(
                            "create an index on `{table}` ({list}), `CONCURRENTLY` if the table exists"
                        )),
                        fix: None,
                    },
                },
            ));
        };
        match stmt {
            ast::Stmt::CreateTable(create) => {
                let Some(table) = names::created_table(create) else {
                    return;
                };
                let Some(args) = create.table_arg_list() else {
                    return;
                };
                for arg in args.args() {
                    match arg {
                        ast::TableArg::Column(column) => {
                            let references = column.clauses().any(|c| {
                                matches!(
                                    c,
                                    ast::ColumnClause::ColumnConstraint(
                                        ast::ColumnConstraint::ReferencesConstraint(_)
                                    )
                                )
                            });
                            if references && let Some(name) = column.name() {
                                add(&table, vec![names::text(&name)], column.syntax());
                            }
                        }
                        ast::TableArg::TableConstraint(ast::TableConstraint::ForeignKeyConstraint(fk)) => {
                            let columns = fk
                                .from_columns()
                                .map(|l| l.column_name_refs().map(|c| names::text(&c)).collect())
                                .unwrap_or_default();
                            add(&table, columns, fk.syntax());
                        }
                        _ => {}
                    }
                }
            }
            ast::Stmt::AlterTable(alter) => {
                let Some(table) = rules::alter_table_name(alter) else {
                    return;
                };
                for action in alter.actions() {
                    match action {
                        ast::AlterTableAction::AddConstraint(add_constraint) => {
                            if let Some(ast::Constraint::ForeignKeyConstraint(fk)) =
                                add_constraint.constraint()
                            {
                                let columns = fk
                                    .from_columns()
                                    .map(|l| l.column_name_refs().map(|c| names::text(&c)).collect())
                                    .unwrap_or_default();
                                add(&table, columns, add_constraint.syntax());
                            }
                        }
                        ast::AlterTableAction::AddColumn(add_column) => {
                            let references = add_column.constraints().any(|c| {
                                matches!(
                                    c,
                                    ast::Constraint::ReferencesConstraint(_)
                                        | ast::Constraint::ForeignKeyConstraint(_)
                                )
                            });
                            if references && let Some(name) = add_column.column_name() {
                                add(&table, vec![names::text(&name)], add_column.syntax());
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    /// Adds a finding made outside the engine (history gates), in order with its own.
    pub fn push(&mut self, item: Item) {
        self.sink.push(item);
    }

    fn report_directives(&mut self, directives: Directives, path: &Arc<str>) {
        let mut used = directives.used;
        used.resize(directives.list.len(), false);
        for ((_, directive, pos), used) in directives.list.into_iter().zip(used) {
            if directive.flavor == ignore::Flavor::Ours && directive.reason.is_none() {
                if let Some(level) = self.settings.level(&rules::ignore_without_reason::RULE, None) {
                    self.sink.push(Item {
                        rule: &rules::ignore_without_reason::RULE,
                        level,
                        path: path.clone(),
                        from: pos,
                        to: pos,
                        message: "ignore comment without a reason has no effect".to_owned(),
                        help: Some(
                            "add the reason after ` -- `, e.g. `-- migrate-check-ignore ban-drop-column -- unused since v2`"
                                .to_owned(),
                        ),
                        fix: None,
                    });
                }
                continue;
            }
            let problem = if !directive.unknown.is_empty() {
                Some(format!(
                    "ignore comment names unknown rule{} {}",
                    if directive.unknown.len() > 1 { "s" } else { "" },
                    directive
                        .unknown
                        .iter()
                        .map(|u| format!("`{u}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            } else if !used {
                Some(format!(
                    "ignore comment for {} suppresses nothing",
                    if directive.all {
                        "every rule".to_owned()
                    } else {
                        directive
                            .rules
                            .iter()
                            .map(|r| format!("`{}`", r.id))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ))
            } else {
                None
            };
            if let Some(message) = problem
                && let Some(level) = self.settings.level(&rules::unused_ignore::RULE, None)
            {
                self.sink.push(Item {
                    rule: &rules::unused_ignore::RULE,
                    level,
                    path: path.clone(),
                    from: pos,
                    to: pos,
                    message,
                    help: Some("remove the comment or fix the rule name".to_owned()),
                    fix: None,
                });
            }
        }
    }

    /// Counts statements, and those that cannot run in a transaction, without linting.
    fn prepass(&self, set: &MigrationSet, script: &Script) -> Result<(usize, usize), Error> {
        let (mut count, mut non_tx) = (0, 0);
        for segment in self.segments(set, script)? {
            let segment = segment.map_err(|e| Error::io(&set.abs(&script.path), e))?;
            if segment.is_trivia() {
                continue;
            }
            for stmt in SourceFile::parse(&segment.text).tree().stmts() {
                count += 1;
                if rules::non_transactional(&stmt, self.settings.pg_version).is_some() {
                    non_tx += 1;
                }
            }
        }
        Ok((count, non_tx))
    }

    /// The pieces of a script, as its runner cuts them.
    fn segments(
        &self,
        set: &MigrationSet,
        script: &Script,
    ) -> Result<Box<dyn Iterator<Item = std::io::Result<Segment>> + Send>, Error> {
        segments(set, script)
    }
}

/// Where a script's parsed statements come from: the parsing threads, or parsed here as read.
enum Source<'a> {
    Ahead(ScriptStream<'a>),
    Here(Box<dyn Iterator<Item = std::io::Result<Segment>> + Send>),
}

impl Source<'_> {
    fn next(&mut self, path: &std::path::Path) -> Option<Result<Parsed, Error>> {
        match self {
            Self::Ahead(stream) => stream.next(),
            Self::Here(pieces) => pieces
                .next()
                .map(|piece| piece.map(parse_segment).map_err(|e| Error::io(path, e))),
        }
    }

    fn give_back(&mut self, parsed: Parsed) {
        if let Self::Ahead(stream) = self {
            stream.give_back(parsed);
        }
    }
}

/// Files above this size are parsed ahead on worker threads even when the engine was given no plan.
const PARSE_AHEAD_ABOVE: u64 = 1024 * 1024;

/// The pieces of a script, as its runner cuts them.
pub fn segments(
    set: &MigrationSet,
    script: &Script,
) -> Result<Box<dyn Iterator<Item = std::io::Result<Segment>> + Send>, Error> {
    segments_at(&set.abs(&script.path), script)
}

/// The pieces of `script` in the file at `path`. A piece that nests too deeply to parse is an error
/// (see [`crate::sql::depth`]), and so is text that is not UTF-8.
pub(crate) fn segments_at(
    path: &std::path::Path,
    script: &Script,
) -> Result<Box<dyn Iterator<Item = std::io::Result<Segment>> + Send>, Error> {
    let options = SplitOptions { placeholders: true };
    let pieces: Box<dyn Iterator<Item = std::io::Result<Segment>> + Send> = match (script.split, script.range)
    {
        (SplitKind::Lexical, None) => {
            let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            Box::new(Splitter::new(BufReader::with_capacity(64 * 1024, file), options))
        }
        (SplitKind::Lexical, Some((start, end))) => {
            let text = read_utf8(path)?;
            let section = text.get(start..end).unwrap_or("").to_owned();
            Box::new(Splitter::new(std::io::Cursor::new(section), options).starting_at(start, script.line))
        }
        (SplitKind::Goose, range) => {
            let text = read_utf8(path)?;
            let (start, end) = range.unwrap_or((0, text.len()));
            let section = text.get(start..end).unwrap_or("");
            let mut pieces = goose::split(section, start, script.line);
            if script.placeholders {
                for piece in &mut pieces {
                    piece.text = piece
                        .text
                        .split_inclusive('\n')
                        .map(crate::sql::split::mask_placeholders)
                        .collect();
                }
            }
            Box::new(pieces.into_iter().map(Ok))
        }
    };
    Ok(Box::new(
        pieces.map(|piece| piece.and_then(crate::sql::split::check_depth)),
    ))
}

/// A migration file's text; a byte that is not UTF-8 is bad input naming its line.
fn read_utf8(path: &std::path::Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let line = u32::try_from(line).unwrap_or(u32::MAX);
        Error::io(path, crate::sql::split::BadText::not_utf8(line).into_io())
    })
}

fn file_fix(fix: &Fix, segment: &Segment) -> FileFix {
    FileFix {
        title: fix.title.clone(),
        edits: fix
            .edits
            .iter()
            .map(|edit| {
                let (l1, c1) = segment.position(edit.span.start);
                let (l2, c2) = segment.position(edit.span.end);
                FileEdit {
                    start: segment.offset + edit.span.start,
                    end: segment.offset + edit.span.end,
                    from: Pos { line: l1, column: c1 },
                    to: Pos { line: l2, column: c2 },
                    text: edit.text.clone(),
                }
            })
            .collect(),
    }
}

/// The ignore comments of a script so far, and which have suppressed something.
#[derive(Debug, Default)]
struct Directives {
    list: Vec<(usize, Directive, Pos)>,
    used: Vec<bool>,
}

impl Directives {
    /// Whether a finding of `rule` on statement `index` is ignored: by a statement ignore just before
    /// it, or a file ignore earlier in the script. Marks the ignores that apply as used.
    fn suppresses(&mut self, index: usize, rule: &Rule) -> bool {
        self.used.resize(self.list.len(), false);
        let mut hit = false;
        for (i, (at, directive, _)) in self.list.iter().enumerate() {
            let applies = directive.scope == Scope::File || *at == index;
            if applies && directive.effective() && directive.covers(rule) {
                self.used[i] = true;
                hit = true;
            }
        }
        hit
    }
}

/// Ignore directives in a segment's comments: those before `first_stmt` apply to statement `index`.
fn collect_directives(
    segment: &Segment,
    tree: Option<&SourceFile>,
    index: usize,
    first_stmt: Option<usize>,
    out: &mut Vec<(usize, Directive, Pos)>,
) {
    // Cheap test first: parsing the comments of every statement twice would double the work.
    if !segment.text.contains("-ignore") {
        return;
    }
    let parsed;
    let tree = match tree {
        Some(tree) => tree,
        None => {
            parsed = SourceFile::parse(&segment.text).tree();
            &parsed
        }
    };
    for token in tree
        .syntax()
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
        .filter(|t| t.kind() == SyntaxKind::COMMENT)
    {
        let Some(directive) = ignore::parse(token.text()) else {
            continue;
        };
        let start = usize::from(token.text_range().start());
        if directive.scope == Scope::Statement && first_stmt.is_some_and(|s| start > s) {
            // A comment inside or after the statement belongs to the next one.
            let (line, column) = segment.position(start);
            out.push((index + 1, directive, Pos { line, column }));
            continue;
        }
        let (line, column) = segment.position(start);
        out.push((index, directive, Pos { line, column }));
    }
}

fn update_tx(
    tx: &mut TxState,
    stmt: &ast::Stmt,
    schema: &Schema,
    path: &str,
    pos: Pos,
    begin_at: &mut Option<Pos>,
) {
    match stmt {
        ast::Stmt::Begin(_) if !tx.in_tx() => {
            tx.explicit = true;
            *begin_at = Some(pos);
        }
        ast::Stmt::Commit(_) | ast::Stmt::Rollback(_) => {
            if tx.explicit {
                tx.explicit = false;
            } else {
                tx.runner = false;
            }
            tx.held = None;
            tx.not_valid.clear();
            *begin_at = None;
        }
        ast::Stmt::Set(set) => {
            if let Some(ast::SetTarget::SetConfig(config)) = set.set_target()
                && let Some(name) = config
                    .config_parameter_ref()
                    .and_then(|c| c.path_ref())
                    .and_then(|p| p.segment())
                    .map(|s| s.text())
            {
                let text = config.syntax().to_string();
                let value = text
                    .split_once(['=', ' '])
                    .map(|(_, v)| v.trim_start_matches(|c: char| c == '=' || c.is_whitespace()))
                    .unwrap_or("")
                    .trim_start_matches("to ")
                    .trim_start_matches("TO ")
                    .trim()
                    .trim_matches('\'');
                let on = !(value == "0"
                    || value.eq_ignore_ascii_case("default")
                    || value.starts_with("0 ")
                    || value == "0ms");
                match name.as_str() {
                    "lock_timeout" => tx.lock_timeout = on,
                    "statement_timeout" => tx.statement_timeout = on,
                    _ => {}
                }
            }
        }
        _ => {}
    }
    if let ast::Stmt::AlterTable(alter) = stmt {
        for action in alter.actions() {
            if let ast::AlterTableAction::DropConstraint(drop) = action
                && let Some(name) = names::constraint_ref(drop.constraint_name_ref())
            {
                tx.dropped_constraints.insert(name);
            }
        }
    }
    if tx.in_tx() {
        if tx.held.is_none()
            && let Some((LockMode::AccessExclusive, table)) = locks::statement_lock(stmt, schema)
            && schema.is_existing_table(&table)
            && !matches!(stmt, ast::Stmt::DropTable(_))
        {
            tx.held = Some(HeldLock {
                table: table.to_string(),
                at: format!("{path}:{}", pos.line),
            });
        }
        if let ast::Stmt::AlterTable(alter) = stmt {
            for action in alter.actions() {
                if let ast::AlterTableAction::AddConstraint(add) = action
                    && let Some(constraint) = add.constraint()
                    && constraint.is_not_valid()
                    && let Some(name) = names::constraint_name(&constraint)
                {
                    tx.not_valid.insert(name);
                }
            }
        }
    }
}

/// Whether a statement may change the schema in ways the model does not follow: dynamic SQL, function
/// calls, cascades, tables built from queries or other tables.
fn opaque_to_model(stmt: &ast::Stmt) -> bool {
    let cascades = stmt
        .syntax()
        .children()
        .any(|c| ast::DropBehavior::cast(c).is_some_and(|b| matches!(b, ast::DropBehavior::Cascade(_))));
    cascades
        || match stmt {
            ast::Stmt::Do(_)
            | ast::Stmt::Call(_)
            | ast::Stmt::CreateTableAs(_)
            | ast::Stmt::SelectInto(_) => true,
            ast::Stmt::Select(select) => select
                .syntax()
                .descendants()
                .any(|n| ast::CallExpr::can_cast(n.kind())),
            ast::Stmt::CreateTable(create) => {
                create.inherits().is_some()
                    || create.partition_of().is_some()
                    || create
                        .table_arg_list()
                        .is_some_and(|args| args.args().any(|a| matches!(a, ast::TableArg::LikeClause(_))))
            }
            ast::Stmt::AlterTable(alter) => alter.actions().any(|a| {
                matches!(
                    a,
                    ast::AlterTableAction::InheritTable(_)
                        | ast::AlterTableAction::NoInheritTable(_)
                        | ast::AlterTableAction::AttachPartition(_)
                        | ast::AlterTableAction::DetachPartition(_)
                )
            }),
            _ => false,
        }
}

/// The SQL statements inside a `DO $$ BEGIN … END $$` block (what Drizzle and hand-written migrations
/// wrap `ADD CONSTRAINT` in), each parsed on its own with its offset in the statement's text.
/// PL/pgSQL control statements (`IF`, `PERFORM`, `EXCEPTION`…) are skipped.
fn do_block_statements(stmt: &ast::Stmt) -> Vec<(squawk_syntax::Parse<SourceFile>, usize, String)> {
    let ast::Stmt::Do(block) = stmt else {
        return Vec::new();
    };
    let Some(body) = block.body() else {
        return Vec::new();
    };
    let text = body.syntax().to_string();
    let base = usize::from(body.syntax().text_range().start());
    let Some(tag_end) = text.get(1..).and_then(|t| t.find('$')).map(|i| i + 2) else {
        return Vec::new();
    };
    if !text.starts_with('$') || text.len() < 2 * tag_end {
        return Vec::new();
    }
    let inner = &text[tag_end..text.len() - tag_end];
    let mut out = Vec::new();
    for segment in crate::sql::split::split(inner, SplitOptions::default()) {
        let trimmed_start = segment.text.len() - segment.text.trim_start().len();
        let mut code = &segment.text[trimmed_start..];
        let mut skip = trimmed_start;
        for keyword in ["begin", "declare"] {
            if code.len() > keyword.len()
                && code[..keyword.len()].eq_ignore_ascii_case(keyword)
                && code[keyword.len()..].starts_with(char::is_whitespace)
            {
                let after = &code[keyword.len()..];
                let ws = after.len() - after.trim_start().len();
                skip += keyword.len() + ws;
                code = &code[keyword.len() + ws..];
            }
        }
        let first = code
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if !matches!(
            first.as_str(),
            "alter" | "create" | "drop" | "update" | "delete" | "comment" | "truncate"
        ) {
            continue;
        }
        let parse = SourceFile::parse(code);
        if !parse.errors().is_empty() {
            continue;
        }
        out.push((parse, base + tag_end + segment.offset + skip, code.to_owned()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Framework;

    /// Lints `sql` as one plain-SQL migration after replaying `base`.
    pub(crate) fn lint_sql(base: &str, sql: &str) -> Vec<Item> {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::default();
        let mut items: Vec<Item> = Vec::new();
        let mut engine = Engine::new(&settings, "", &mut items);
        if !base.is_empty() {
            std::fs::write(dir.path().join("0_base.sql"), base).unwrap();
        }
        std::fs::write(dir.path().join("1_change.sql"), sql).unwrap();
        let set = Framework::Sql.load(dir.path()).unwrap();
        for migration in &set.migrations {
            if migration.id == "0_base.sql" {
                engine.replay(&set, migration).unwrap();
                engine.settle();
            } else {
                engine.lint(&set, migration).unwrap();
            }
        }
        engine.finish_unit();
        drop(engine);
        items
    }

    /// Lints `sql` as one plain-SQL migration after replaying `base`, parsing ahead as `run` does.
    fn lint_sql_ahead(base: &str, sql: &str) -> Vec<Item> {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::default();
        let mut items: Vec<Item> = Vec::new();
        let mut engine = Engine::new(&settings, "", &mut items);
        if !base.is_empty() {
            std::fs::write(dir.path().join("0_base.sql"), base).unwrap();
        }
        std::fs::write(dir.path().join("1_change.sql"), sql).unwrap();
        let set = Framework::Sql.load(dir.path()).unwrap();
        for migration in &set.migrations {
            if migration.id == "0_base.sql" {
                engine.expect_replay(&set, migration);
            } else {
                engine.expect_lint(&set, migration);
            }
        }
        for migration in &set.migrations {
            if migration.id == "0_base.sql" {
                engine.replay(&set, migration).unwrap();
                engine.settle();
            } else {
                engine.lint(&set, migration).unwrap();
            }
        }
        engine.finish_unit();
        drop(engine);
        items
    }

    #[test]
    fn parsing_ahead_finds_what_parsing_in_place_finds() {
        let base: String = (0..400)
            .map(|i| {
                format!(
                    "create table t{i} (a int, b int);
"
                )
            })
            .collect();
        let change: String = (0..400)
            .map(|i| {
                format!(
                    "create index i{i} on t{i} (a);
alter table t{i} drop column b;
create tabel oops{i} (x int);
"
                )
            })
            .collect();
        let describe = |items: Vec<Item>| -> Vec<(&'static str, u32, u32, String)> {
            items
                .into_iter()
                .map(|i| (i.rule.id, i.from.line, i.from.column, i.message))
                .collect()
        };
        let here = describe(lint_sql(&base, &change));
        let ahead = describe(lint_sql_ahead(&base, &change));
        assert!(here.len() > 1200, "{}", here.len());
        assert_eq!(here, ahead);
    }

    fn rules_of(items: &[Item]) -> Vec<&'static str> {
        items.iter().map(|i| i.rule.id).collect()
    }

    #[test]
    fn a_syntax_error_hides_nothing_else() {
        let items = lint_sql(
            "create table t (a int);",
            "create index i on t (a);\ncreate tabel oops (x int);\nalter table t drop column a;\n",
        );
        let rules = rules_of(&items);
        assert!(rules.contains(&"syntax-error"), "{rules:?}");
        assert!(rules.contains(&"require-concurrent-index-creation"), "{rules:?}");
        assert!(rules.contains(&"ban-drop-column"), "{rules:?}");
        let syntax = items.iter().find(|i| i.rule.id == "syntax-error").unwrap();
        assert_eq!(syntax.from.line, 2);
    }

    #[test]
    fn tables_created_in_the_change_are_exempt() {
        let items = lint_sql(
            "",
            "create table t (a int);\ncreate index i on t (a);\nalter table t add constraint c check (a > 0);\n",
        );
        let rules = rules_of(&items);
        assert!(!rules.contains(&"require-concurrent-index-creation"), "{rules:?}");
        assert!(!rules.contains(&"constraint-missing-not-valid"), "{rules:?}");
    }

    #[test]
    fn placeholders_are_tolerated() {
        let items = lint_sql("", "create table ${schema}.t (a int default ${value});\n");
        assert!(
            !rules_of(&items).contains(&"syntax-error"),
            "{:?}",
            rules_of(&items)
        );
    }

    #[test]
    fn ignores_need_reasons_and_unused_ones_are_reported() {
        let items = lint_sql(
            "create table t (a int, b int);",
            "-- migrate-check-ignore ban-drop-column -- b was unused since v2\nalter table t drop column b;\n\
             -- migrate-check-ignore ban-drop-column\nalter table t drop column a;\n\
             -- squawk-ignore renaming-table\nselect 1;\n",
        );
        let rules = rules_of(&items);
        assert_eq!(
            rules.iter().filter(|r| **r == "ban-drop-column").count(),
            1,
            "{rules:?}"
        );
        assert!(rules.contains(&"ignore-without-reason"), "{rules:?}");
        assert!(rules.contains(&"unused-ignore"), "{rules:?}");
    }

    #[test]
    fn lock_timeout_is_reported_once_and_set_silences_it() {
        let items = lint_sql(
            "create table t (a int, b int);",
            "alter table t add column c int;\nalter table t add column d int;\n",
        );
        assert_eq!(
            rules_of(&items)
                .iter()
                .filter(|r| **r == "require-lock-timeout")
                .count(),
            1
        );
        let items = lint_sql(
            "create table t (a int);",
            "set lock_timeout = '2s';\nalter table t add column c int;\n",
        );
        assert!(!rules_of(&items).contains(&"require-lock-timeout"));
    }

    #[test]
    fn statements_inside_do_blocks_are_checked() {
        let items = lint_sql(
            "create table a (id int primary key); create table b (a_id int);",
            "DO $$ BEGIN\n ALTER TABLE b ADD CONSTRAINT fk FOREIGN KEY (a_id) REFERENCES a(id);\nEXCEPTION\n WHEN duplicate_object THEN null;\nEND $$;\n",
        );
        let fk = items
            .iter()
            .find(|i| i.rule.id == "adding-foreign-key-constraint")
            .unwrap_or_else(|| panic!("{:?}", rules_of(&items)));
        assert_eq!(fk.from.line, 2);
    }

    #[test]
    fn foreign_keys_need_an_index_by_the_end_of_the_change() {
        let items = lint_sql(
            "create table a (id int primary key);",
            "create table b (id int, a_id int references a(id));\ncreate table c (id int, a_id int references a(id));\ncreate index on c (a_id);\n",
        );
        let fks: Vec<&Item> = items
            .iter()
            .filter(|i| i.rule.id == "foreign-key-without-index")
            .collect();
        assert_eq!(fks.len(), 1, "{:?}", rules_of(&items));
        assert!(fks[0].message.contains("`b`"));
    }

    #[test]
    fn uncommitted_begin_is_reported() {
        let items = lint_sql("", "begin;\ncreate table t (a int);\n");
        assert!(rules_of(&items).contains(&"ban-uncommitted-transaction"));
        let items = lint_sql("", "begin;\ncreate table t (a int);\ncommit;\n");
        assert!(!rules_of(&items).contains(&"ban-uncommitted-transaction"));
    }

    #[test]
    fn work_after_access_exclusive_in_a_transaction() {
        let items = lint_sql(
            "create table t (a int); create table u (b int);",
            "begin;\nalter table t add column c int;\nupdate u set b = 1;\ncommit;\n",
        );
        assert!(
            rules_of(&items).contains(&"work-after-access-exclusive"),
            "{:?}",
            rules_of(&items)
        );
    }

    #[test]
    fn positions_and_fixes() {
        let items = lint_sql("create table t (a int);", "\n\n  create index i on t (a);\n");
        let item = items
            .iter()
            .find(|i| i.rule.id == "require-concurrent-index-creation")
            .unwrap();
        assert_eq!((item.from.line, item.from.column), (3, 3));
        let fix = item.fix.as_ref().unwrap();
        assert_eq!(fix.edits[0].text, " CONCURRENTLY");
        assert_eq!((fix.edits[0].from.line, fix.edits[0].from.column), (3, 15));
    }
}
