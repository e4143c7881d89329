//! The trace on a real PostgreSQL (`database-url`).
//!
//! A throwaway database is created next to the given one (and dropped at the end, even on failure),
//! the runner's bookkeeping table is created where migrations expect it, the base migrations are
//! applied, and optionally every table is seeded with rows (`seed-rows`). Then the migrations under
//! review run statement by statement in the runner's transaction mode; after each statement the trace
//! reads, for the session's own backend:
//!
//! - `pg_locks`: locks held on relations that existed before the change (new ones are this statement's);
//! - `pg_class.relfilenode` of those relations: a change means the table was rewritten;
//! - the columns, constraints and indexes of those tables (`pg_attribute`, `pg_attrdef`,
//!   `pg_constraint`, `pg_index`), compared with their last reading: columns added, dropped or changed
//!   in type, nullability or default, constraints added, dropped or validated, indexes built. Only the
//!   tables this transaction holds a lock on that could change the catalog are read again (every
//!   pre-existing one after a statement whose locks cannot be observed), so the cost follows what the
//!   change touches, not the size of the schema, and never the seeded rows;
//! - the wall time.
//!
//! A statement that runs outside any transaction is wrapped in its own `BEGIN … COMMIT` so its locks can
//! be observed (statements PostgreSQL refuses in a transaction run bare). Finally the down migrations are
//! applied in reverse and the catalog compared with what it was before each up migration.

mod catalog;
mod seed;

pub use catalog::{Change, ChangeKind, Object};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ops_core::{Runner, Secret};
use serde_json::{Value, json};

use crate::error::Error;
use crate::framework::{Framework, Migration, MigrationSet, Script, TxMode};
use crate::lint::{Item, Pos, Settings};
use crate::rules::{self, Rule};
use crate::sql::locks::LockMode;

/// What to trace.
#[derive(Debug)]
pub struct Plan<'a> {
    /// The server.
    pub url: &'a Secret,
    /// The migrations.
    pub set: &'a MigrationSet,
    /// The base's migrations, when history gates ran.
    pub base: Option<&'a MigrationSet>,
    /// The migrations under review (indices into `set`).
    pub reviewed: &'a [usize],
    /// Rows to seed per existing table.
    pub seed_rows: u64,
    /// Levels.
    pub settings: &'a Settings,
    /// Path prefix for findings.
    pub prefix: &'a str,
}

/// One traced statement.
#[derive(Debug, Clone, PartialEq)]
pub struct TracedStatement {
    /// `path:line`.
    pub at: String,
    /// The statement's first line.
    pub sql: String,
    /// Wall time.
    pub duration: Duration,
    /// New locks on pre-existing tables: `(table, mode)`.
    pub locks: Vec<(String, LockMode)>,
    /// Pre-existing tables rewritten.
    pub rewrites: Vec<String>,
    /// Columns, constraints and indexes of pre-existing tables the statement changed.
    pub changes: Vec<Change>,
    /// Whether locks could be observed (not for statements that must run outside a transaction).
    pub observed: bool,
}

/// What the trace saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceReport {
    /// Statements, in order.
    pub statements: Vec<TracedStatement>,
    /// Down migrations were applied and compared.
    pub downs_checked: bool,
    /// The server version.
    pub server_version: String,
    /// Tables seeded, and tables that could not be.
    pub seeded: (usize, Vec<String>),
    /// The throwaway database (dropped at the end).
    pub database: String,
}

impl TraceReport {
    /// Markdown for the step summary (capped at 100 rows).
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "\n#### Trace on PostgreSQL {}\n\n{} statement{} traced{}.\n\n",
            self.server_version,
            self.statements.len(),
            if self.statements.len() == 1 { "" } else { "s" },
            if self.seeded.0 > 0 {
                format!(
                    ", {} existing table{} seeded",
                    self.seeded.0,
                    if self.seeded.0 == 1 { "" } else { "s" }
                )
            } else {
                String::new()
            }
        );
        if self.statements.is_empty() {
            return out;
        }
        out.push_str(
            "| statement | location | ms | locks on existing tables | rewrites | changes to existing tables |\n|---|---|---:|---|---|---|\n",
        );
        for s in self.statements.iter().take(100) {
            let locks = if !s.observed {
                "(outside a transaction)".to_owned()
            } else {
                s.locks
                    .iter()
                    .map(|(t, m)| format!("`{t}`: {}", m.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut changes: Vec<String> = s
                .changes
                .iter()
                .take(MAX_CHANGES_SHOWN)
                .map(Change::describe)
                .collect();
            if s.changes.len() > MAX_CHANGES_SHOWN {
                changes.push(format!(
                    "{} more in the JSON report",
                    s.changes.len() - MAX_CHANGES_SHOWN
                ));
            }
            out.push_str(&format!(
                "| `{}` | `{}` | {} | {} | {} | {} |\n",
                ops_core::render::summary::escape_cell(&s.sql.replace('`', "'")),
                s.at,
                s.duration.as_millis(),
                ops_core::render::summary::escape_cell(&locks),
                s.rewrites
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                ops_core::render::summary::escape_cell(&changes.join("; "))
            ));
        }
        if self.statements.len() > 100 {
            out.push_str(&format!(
                "\n{} more statements are in the JSON report.\n",
                self.statements.len() - 100
            ));
        }
        out
    }

    /// JSON for the report.
    pub fn json(&self) -> Value {
        json!({
            "database": self.database,
            "server_version": self.server_version,
            "downs_checked": self.downs_checked,
            "seeded_tables": self.seeded.0,
            "unseeded_tables": self.seeded.1,
            "statements": self.statements.iter().map(|s| json!({
                "at": s.at,
                "sql": s.sql,
                "duration_ms": u64::try_from(s.duration.as_millis()).unwrap_or(u64::MAX),
                "locks": s.locks.iter().map(|(t, m)| json!({"table": t, "mode": m.name()})).collect::<Vec<_>>(),
                "rewrites": s.rewrites,
                "changes": s.changes.iter().map(|c| json!({
                    "table": c.table,
                    "object": c.object.name(),
                    "name": c.name,
                    "change": c.kind.name(),
                    "before": c.before,
                    "after": c.after,
                })).collect::<Vec<_>>(),
                "observed": s.observed,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Changes listed per statement in the step summary; the JSON report has them all.
const MAX_CHANGES_SHOWN: usize = 5;

/// The password of a PostgreSQL URL, to mask.
pub fn url_password(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    userinfo
        .split_once(':')
        .map(|(_, p)| p.to_owned())
        .filter(|p| !p.is_empty())
}

fn db_error(what: &str, url: &Secret, error: &postgres::Error) -> Error {
    let message = format!(
        "{what} (`{}`): {error}",
        ops_core::secret::redact_url(url.expose())
    );
    // What `Runner::mask_url` masks, in every form: a password that is an ordinary word (`postgres`)
    // stays, or `password authentication failed for user "postgres"` would lose its user.
    let masks: Vec<String> = ops_core::secret::url_masks(url.expose())
        .masks
        .iter()
        .flat_map(|m| ops_core::secret::derived_forms(m))
        .collect();
    let message = ops_core::secret::redact(&message, &masks);
    Error::database(
        message,
        Some("check `database-url` (a role allowed to create databases, e.g. the job's `postgres` service container)".to_owned()),
    )
}

/// Drops the throwaway database when it goes out of scope.
struct Throwaway {
    admin: postgres::Config,
    name: String,
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        if let Ok(mut client) = self.admin.connect(postgres::NoTls) {
            let drop = format!("DROP DATABASE IF EXISTS \"{}\"", self.name);
            if client.batch_execute(&format!("{drop} WITH (FORCE)")).is_err() {
                let _ = client.batch_execute(&drop);
            }
        }
    }
}

/// Runs the trace.
pub fn run(plan: &Plan<'_>, runner: &Runner) -> Result<(TraceReport, Vec<Item>), Error> {
    let admin: postgres::Config = plan.url.expose().parse().map_err(|e: postgres::Error| {
        Error::usage_hint(
            format!(
                "invalid `database-url` `{}`: {e}",
                ops_core::secret::redact_url(plan.url.expose())
            ),
            "use `postgres://user:password@host:port/database`",
        )
    })?;
    let mut admin_client = admin
        .connect(postgres::NoTls)
        .map_err(|e| db_error("cannot connect to PostgreSQL", plan.url, &e))?;
    let server_version = admin_client
        .query_one("SHOW server_version", &[])
        .map(|r| r.get::<_, String>(0))
        .map_err(|e| db_error("cannot read the server version", plan.url, &e))?;
    let mut suffix = [0u8; 6];
    getrandom::fill(&mut suffix)
        .map_err(|e| Error::database(format!("no randomness for a database name: {e}"), None))?;
    let name = format!("migrate_check_{}", hex::encode(suffix));
    admin_client
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .map_err(|e| db_error("cannot create a throwaway database", plan.url, &e))?;
    let guard = Throwaway {
        admin: admin.clone(),
        name: name.clone(),
    };
    drop(admin_client);
    runner.info(&format!(
        "tracing on PostgreSQL {server_version} in throwaway database `{name}`"
    ));
    let mut config = admin.clone();
    config.dbname(&name);
    let mut client = config
        .connect(postgres::NoTls)
        .map_err(|e| db_error("cannot connect to the throwaway database", plan.url, &e))?;
    let mut tracer = Tracer {
        client: &mut client,
        plan,
        report: TraceReport {
            server_version,
            database: name.clone(),
            ..TraceReport::default()
        },
        items: Vec::new(),
        existing: BTreeMap::new(),
        tables: BTreeMap::new(),
        failed: false,
    };
    let result = tracer.trace();
    let Tracer { report, items, .. } = tracer;
    drop(client);
    drop(guard);
    result?;
    Ok((report, items))
}

/// A relation that existed before the unit: name and kind.
#[derive(Debug, Clone)]
struct Existing {
    name: String,
    relfilenode: u32,
    table: bool,
    /// An index's table.
    on: Option<u32>,
}

struct Tracer<'a, 'p> {
    client: &'a mut postgres::Client,
    plan: &'a Plan<'p>,
    report: TraceReport,
    items: Vec<Item>,
    existing: BTreeMap<u32, Existing>,
    /// The catalog of the pre-existing tables as last read.
    tables: BTreeMap<u32, catalog::Table>,
    failed: bool,
}

/// How a script's statements are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrap {
    /// Inside one transaction opened by the runner.
    Transaction,
    /// Each statement on its own.
    None,
}

impl Tracer<'_, '_> {
    fn sql_error(&self, what: &str, error: &postgres::Error) -> Error {
        db_error(what, self.plan.url, error)
    }

    fn trace(&mut self) -> Result<(), Error> {
        let plan = self.plan;
        self.client
            .batch_execute(bookkeeping(plan.set.framework))
            .map_err(|e| self.sql_error("cannot create the runner's bookkeeping table", &e))?;
        // The base: from git when history gates ran, else the migrations before the first one reviewed.
        let units: Vec<Vec<usize>> = if plan.base.is_some() {
            vec![plan.reviewed.to_vec()]
        } else {
            plan.reviewed.iter().map(|&i| vec![i]).collect()
        };
        if let Some(base) = plan.base {
            for migration in &base.migrations {
                if let Some(up) = &migration.up {
                    self.apply(base, up, false)?;
                    if self.failed {
                        return Ok(());
                    }
                }
            }
        }
        let mut seeded: BTreeSet<u32> = BTreeSet::new();
        for unit in units {
            if plan.seed_rows > 0 {
                // Every table that exists before the unit gets rows once.
                self.exec("BEGIN")?;
                let (done, skipped) = seed::seed(self.client, plan.seed_rows, &seeded)
                    .map_err(|e| self.sql_error("cannot seed rows", &e))?;
                self.exec("COMMIT")?;
                self.report.seeded.0 += done.len();
                self.report.seeded.1.extend(
                    skipped
                        .iter()
                        .filter(|s| !self.report.seeded.1.contains(s))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
                seeded.extend(done);
            }
            self.existing = self.relations()?;
            let oids: Vec<u32> = self
                .existing
                .iter()
                .filter(|(_, e)| e.table)
                .map(|(o, _)| *o)
                .collect();
            self.tables = catalog::tables(self.client, &oids)
                .map_err(|e| self.sql_error("cannot read the catalog", &e))?;
            let mut before: Vec<(usize, BTreeSet<String>)> = Vec::new();
            let all_pending = unit.iter().any(|&i| {
                plan.set.migrations[i]
                    .up
                    .as_ref()
                    .is_some_and(|s| s.tx == TxMode::AllPending)
            });
            if all_pending {
                self.exec("BEGIN")?;
            }
            for &i in &unit {
                let migration = &plan.set.migrations[i];
                before.push((
                    i,
                    catalog::snapshot(self.client)
                        .map_err(|e| self.sql_error("cannot read the catalog", &e))?,
                ));
                if let Some(up) = &migration.up {
                    self.apply(plan.set, up, true)?;
                    if self.failed {
                        return Ok(());
                    }
                }
            }
            if all_pending {
                self.exec("COMMIT")?;
            }
            // Downs, newest first, each compared with the catalog before its up.
            for (i, snapshot) in before.iter().rev() {
                let migration = &plan.set.migrations[*i];
                let Some(down) = &migration.down else { break };
                self.apply(plan.set, down, false)?;
                if self.failed {
                    return Ok(());
                }
                self.report.downs_checked = true;
                let after = catalog::snapshot(self.client)
                    .map_err(|e| self.sql_error("cannot read the catalog", &e))?;
                self.compare(migration, down, snapshot, &after);
            }
            if plan.base.is_none() {
                // Without a base every migration is a unit of its own: re-apply what its down undid,
                // so the next migration finds the schema it expects.
                for (i, _) in &before {
                    let migration = &plan.set.migrations[*i];
                    if let (Some(_), Some(up)) = (&migration.down, &migration.up) {
                        self.apply(plan.set, up, false)?;
                        if self.failed {
                            return Ok(());
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn exec(&mut self, sql: &str) -> Result<(), Error> {
        self.client
            .batch_execute(sql)
            .map_err(|e| self.sql_error("a statement of the trace failed", &e))
    }

    fn relations(&mut self) -> Result<BTreeMap<u32, Existing>, Error> {
        let rows = self
            .client
            .query(
                "SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.relfilenode, i.indrelid \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 LEFT JOIN pg_index i ON i.indexrelid = c.oid \
                 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' \
                 AND c.relkind IN ('r', 'p', 'm', 'i')",
                &[],
            )
            .map_err(|e| self.sql_error("cannot read pg_class", &e))?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let oid: u32 = row.get(0);
                let schema: String = row.get(1);
                let name: String = row.get(2);
                let kind: String = row.get(3);
                let relfilenode: u32 = row.get(4);
                let on: Option<u32> = row.get(5);
                let shown = if schema == "public" {
                    name
                } else {
                    format!("{schema}.{name}")
                };
                (
                    oid,
                    Existing {
                        name: shown,
                        relfilenode,
                        table: kind != "i",
                        on,
                    },
                )
            })
            .collect())
    }

    /// Locks this backend holds on pre-existing tables, strongest per table; and the pre-existing
    /// tables whose catalog entries this transaction may have changed: locked, themselves or through
    /// an index, in a mode stronger than the ones reads and writes of rows take.
    fn locks(&mut self) -> Result<(BTreeMap<u32, LockMode>, BTreeSet<u32>), Error> {
        let rows = self
            .client
            .query(
                "SELECT relation, mode FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation' AND granted",
                &[],
            )
            .map_err(|e| self.sql_error("cannot read pg_locks", &e))?;
        let mut out: BTreeMap<u32, LockMode> = BTreeMap::new();
        let mut touched = BTreeSet::new();
        for row in rows {
            let Some(oid) = row.get::<_, Option<u32>>(0) else {
                continue;
            };
            let Some(existing) = self.existing.get(&oid) else {
                continue;
            };
            let mode: String = row.get(1);
            let Some(mode) = LockMode::from_pg(&mode) else {
                continue;
            };
            if mode > LockMode::RowExclusive {
                touched.extend(if existing.table { Some(oid) } else { existing.on });
            }
            if existing.table {
                let entry = out.entry(oid).or_insert(mode);
                *entry = (*entry).max(mode);
            }
        }
        Ok((out, touched))
    }

    fn rewritten(&mut self) -> Result<Vec<String>, Error> {
        let oids: Vec<u32> = self
            .existing
            .iter()
            .filter(|(_, e)| e.table)
            .map(|(o, _)| *o)
            .collect();
        let rows = self
            .client
            .query(
                "SELECT oid, relfilenode FROM pg_class WHERE oid = ANY($1)",
                &[&oids],
            )
            .map_err(|e| self.sql_error("cannot read pg_class", &e))?;
        let mut out = Vec::new();
        for row in rows {
            let oid: u32 = row.get(0);
            let node: u32 = row.get(1);
            if let Some(existing) = self.existing.get_mut(&oid)
                && existing.relfilenode != node
            {
                out.push(existing.name.clone());
                existing.relfilenode = node;
            }
        }
        Ok(out)
    }

    /// What the last statement changed on the pre-existing tables `touched` (all of them when `None`),
    /// compared with their last reading, which is brought up to date.
    fn changes(&mut self, touched: Option<BTreeSet<u32>>) -> Result<Vec<Change>, Error> {
        let oids: Vec<u32> = match touched {
            Some(touched) => touched
                .into_iter()
                .filter(|o| self.tables.contains_key(o))
                .collect(),
            None => self.tables.keys().copied().collect(),
        };
        if oids.is_empty() {
            return Ok(Vec::new());
        }
        let mut now =
            catalog::tables(self.client, &oids).map_err(|e| self.sql_error("cannot read the catalog", &e))?;
        let mut out = Vec::new();
        for oid in oids {
            let Some(before) = self.tables.get(&oid) else {
                continue;
            };
            let after = now.remove(&oid);
            out.extend(catalog::diff(before, after.as_ref()));
            match after {
                Some(after) => {
                    // Later lock and rewrite facts name the table as it is called now.
                    if let Some(existing) = self.existing.get_mut(&oid) {
                        existing.name.clone_from(&after.name);
                    }
                    self.tables.insert(oid, after);
                }
                None => {
                    self.tables.remove(&oid);
                }
            }
        }
        Ok(out)
    }

    /// Applies a script in the runner's transaction mode. With `record`, traces each statement.
    fn apply(&mut self, set: &MigrationSet, script: &Script, record: bool) -> Result<(), Error> {
        let path = if set.single_file {
            self.plan.prefix.to_owned()
        } else {
            format!("{}{}", self.plan.prefix, script.path)
        };
        let mut pieces = Vec::new();
        for segment in crate::lint::segments(set, script)? {
            let segment = segment.map_err(|e| Error::io(&set.abs(&script.path), e))?;
            if !segment.is_trivia() {
                pieces.push(segment);
            }
        }
        let non_tx: Vec<bool> = pieces.iter().map(|p| is_non_transactional(&p.text)).collect();
        let wrap = match script.tx {
            TxMode::PerMigration => Wrap::Transaction,
            TxMode::AllPending => Wrap::None, // the unit's transaction is already open
            TxMode::None => Wrap::None,
            TxMode::Implicit | TxMode::Prisma => {
                if pieces.len() > 1 {
                    Wrap::Transaction
                } else {
                    Wrap::None
                }
            }
            TxMode::FlywayAuto { mixed } => {
                let n = non_tx.iter().filter(|&&b| b).count();
                if n > 0 && (n == pieces.len() || mixed) {
                    Wrap::None
                } else {
                    Wrap::Transaction
                }
            }
        };
        let in_unit_tx = script.tx == TxMode::AllPending && record;
        if wrap == Wrap::Transaction {
            self.exec("BEGIN")?;
        }
        let mut held: BTreeMap<u32, LockMode> = if in_unit_tx || wrap == Wrap::Transaction {
            self.locks()?.0
        } else {
            BTreeMap::new()
        };
        // Whether a transaction is open before the next piece: the runner's, or one the file's own
        // `BEGIN` opened (its statements run in it, as under the runner, not in one the trace opens
        // and commits). A file's `COMMIT` ends either.
        let mut tx_open = in_unit_tx || wrap == Wrap::Transaction;
        for (piece, bare) in pieces.iter().zip(&non_tx) {
            let control = tx_control(&piece.text);
            let own_tx = record && !tx_open && !bare && control == TxControl::None;
            if control != TxControl::None {
                held.clear();
            }
            if own_tx {
                self.exec("BEGIN")?;
                held.clear();
            }
            let start = Instant::now();
            let result = self.client.batch_execute(&piece.text);
            let duration = start.elapsed();
            let at_line = first_code_line(piece);
            if let Err(error) = result {
                let message = error.as_db_error().map_or_else(
                    || error.to_string(),
                    |db| format!("{} ({})", db.message(), db.code().code()),
                );
                let _ = self.client.batch_execute("ROLLBACK");
                self.failed = true;
                self.push(
                    &rules::migration_fails::RULE,
                    &path,
                    at_line,
                    format!(
                        "`{}` fails at `{}`: {message}{}",
                        path,
                        first_sql_line(&piece.text),
                        if record { "" } else { " (while applying the base)" }
                    ),
                );
                return Ok(());
            }
            let ends_tx = matches!(control, TxControl::Ends | TxControl::EndsThenOpens);
            let in_tx = tx_open || own_tx;
            tx_open = match control {
                TxControl::None => tx_open,
                TxControl::Opens | TxControl::EndsThenOpens => true,
                TxControl::Ends => false,
            };
            if record {
                // Locks are visible after a statement only while its transaction is still open.
                let observed = !bare && !ends_tx && (in_tx || control == TxControl::Opens);
                let (locks, rewrites, touched) = if observed {
                    let (now, touched) = self.locks()?;
                    let new: Vec<(u32, LockMode)> = now
                        .iter()
                        .filter(|(oid, mode)| held.get(oid).is_none_or(|m| m < *mode))
                        .map(|(o, m)| (*o, *m))
                        .collect();
                    held = now;
                    (new, self.rewritten()?, Some(touched))
                } else {
                    (Vec::new(), self.rewritten()?, None)
                };
                // Names as the statement knew them: a rename shows under the old name here, and as a change.
                let lock_names: Vec<(String, LockMode)> = locks
                    .iter()
                    .filter_map(|(oid, mode)| self.existing.get(oid).map(|e| (e.name.clone(), *mode)))
                    .collect();
                let changes = self.changes(touched)?;
                for table in &rewrites {
                    self.push(
                        &rules::trace_table_rewrite::RULE,
                        &path,
                        at_line,
                        format!(
                            "`{}` rewrote existing table `{table}` ({} ms here)",
                            first_sql_line(&piece.text),
                            duration.as_millis()
                        ),
                    );
                }
                for (table, mode) in &lock_names {
                    if mode.blocks_traffic() {
                        self.push(
                            &rules::trace_blocking_lock::RULE,
                            &path,
                            at_line,
                            format!(
                                "`{}` took `{}` on existing table `{table}`, blocking its {} until the transaction ends ({} ms here)",
                                first_sql_line(&piece.text),
                                mode.name(),
                                mode.blocks(),
                                duration.as_millis()
                            ),
                        );
                    }
                }
                self.report.statements.push(TracedStatement {
                    at: format!("{path}:{at_line}"),
                    sql: first_sql_line(&piece.text),
                    duration,
                    locks: lock_names,
                    rewrites,
                    changes,
                    observed,
                });
            }
            if own_tx {
                self.exec("COMMIT")?;
            }
        }
        if wrap == Wrap::Transaction {
            self.exec("COMMIT")?;
        }
        Ok(())
    }

    fn push(&mut self, rule: &'static Rule, path: &str, line: u32, message: String) {
        let Some(level) = self.plan.settings.level(rule, None) else {
            return;
        };
        self.items.push(Item {
            rule,
            level,
            path: Arc::from(path),
            from: Pos { line, column: 1 },
            to: Pos { line, column: 1 },
            message,
            help: None,
            fix: None,
        });
    }

    fn compare(
        &mut self,
        migration: &Migration,
        down: &Script,
        before: &BTreeSet<String>,
        after: &BTreeSet<String>,
    ) {
        let left: Vec<&String> = after.difference(before).take(5).collect();
        let missing: Vec<&String> = before.difference(after).take(5).collect();
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
        let path = format!("{}{}", self.plan.prefix, down.path);
        self.push(
            &rules::down_does_not_revert::RULE,
            &path,
            down.line,
            format!(
                "on PostgreSQL, the down migration of `{}` {} (compared with the catalog before its up migration)",
                migration.id,
                parts.join(" and ")
            ),
        );
    }
}

fn first_code_line(segment: &crate::sql::split::Segment) -> u32 {
    let skipped = segment
        .text
        .lines()
        .position(|l| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with("--")
        })
        .unwrap_or(0);
    segment.line + u32::try_from(skipped).unwrap_or(0)
}

fn first_sql_line(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("--"))
        .unwrap_or("");
    let mut out: String = line.chars().take(80).collect();
    if line.chars().count() > 80 {
        out.push('…');
    }
    out
}

fn is_non_transactional(text: &str) -> bool {
    squawk_syntax::SourceFile::parse(text)
        .tree()
        .stmts()
        .any(|s| rules::non_transactional(&s, 99).is_some())
}

/// Whether the piece opens or closes a transaction itself.
/// What a piece does to the transaction it runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxControl {
    /// Neither begins nor ends one.
    None,
    /// Leaves a transaction open (`BEGIN`, or `COMMIT; BEGIN`).
    Opens,
    /// Ends one and leaves none open (`COMMIT`, `ROLLBACK`, or `BEGIN; …; COMMIT`).
    Ends,
    /// Ends one and opens another (`COMMIT; BEGIN`).
    EndsThenOpens,
}

fn tx_control(text: &str) -> TxControl {
    use squawk_syntax::ast::Stmt;
    let (mut ended, mut open, mut any) = (false, false, false);
    for stmt in squawk_syntax::SourceFile::parse(text).tree().stmts() {
        match stmt {
            Stmt::Begin(_) => (open, any) = (true, true),
            Stmt::Commit(_) | Stmt::Rollback(_) => (ended, open, any) = (true, false, true),
            _ => {}
        }
    }
    match (any, ended, open) {
        (false, _, _) => TxControl::None,
        (true, true, true) => TxControl::EndsThenOpens,
        (true, true, false) => TxControl::Ends,
        (true, false, _) => TxControl::Opens,
    }
}

/// The table a runner keeps its history in, for migrations that expect it to exist.
fn bookkeeping(framework: Framework) -> &'static str {
    match framework {
        Framework::GolangMigrate => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"
        }
        Framework::Dbmate => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(128) PRIMARY KEY)"
        }
        Framework::Goose => {
            "CREATE TABLE IF NOT EXISTS goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp DEFAULT now())"
        }
        Framework::Sqlx => {
            "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version bigint PRIMARY KEY, description text NOT NULL, installed_on timestamptz NOT NULL DEFAULT now(), success boolean NOT NULL, checksum bytea NOT NULL, execution_time bigint NOT NULL)"
        }
        Framework::Flyway => {
            "CREATE TABLE IF NOT EXISTS flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum int, installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(), execution_time int NOT NULL, success boolean NOT NULL)"
        }
        Framework::Prisma => {
            "CREATE TABLE IF NOT EXISTS _prisma_migrations (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz, migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0)"
        }
        Framework::Drizzle => {
            "CREATE SCHEMA IF NOT EXISTS drizzle; CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (id serial PRIMARY KEY, hash text NOT NULL, created_at bigint)"
        }
        Framework::NodePgMigrate => {
            "CREATE TABLE IF NOT EXISTS pgmigrations (id serial PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL)"
        }
        Framework::Diesel => {
            "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (version varchar(50) PRIMARY KEY NOT NULL, run_on timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        }
        Framework::Atlas => {
            "CREATE SCHEMA IF NOT EXISTS atlas_schema_revisions; CREATE TABLE IF NOT EXISTS atlas_schema_revisions.atlas_schema_revisions (version varchar PRIMARY KEY, description varchar NOT NULL, type bigint NOT NULL DEFAULT 2, applied bigint NOT NULL DEFAULT 0, total bigint NOT NULL DEFAULT 0, executed_at timestamptz NOT NULL, execution_time bigint NOT NULL, error text, error_stmt text, hash varchar NOT NULL, partial_hashes jsonb, operator_version varchar NOT NULL)"
        }
        Framework::Sql => "SELECT 1",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_found_for_masking() {
        assert_eq!(
            url_password("postgres://u:s3cret@h:5432/db").as_deref(),
            Some("s3cret")
        );
        assert_eq!(url_password("postgres://u:p@ss@h/db").as_deref(), Some("p@ss"));
        assert_eq!(url_password("postgres://u@h/db"), None);
        assert_eq!(url_password("host=h"), None);
    }
}
