//! Migration frameworks: how each one lays out, orders and runs its migrations.
//!
//! A [`MigrationSet`] is what one framework would apply, in the order it would apply it. Each
//! [`Migration`] has an up [`Script`] (what is linted) and maybe a down one (checked for syntax and for
//! undoing the up), and each script carries the transaction mode the runner wraps it in, so a rule
//! such as `not-allowed-in-transaction` fires exactly when the runner would fail.
//!
//! One file per framework (`drizzle.rs`, `goose.rs`, …) holds its naming, ordering and directives;
//! [`detect`] picks the framework from layout and markers.

pub mod atlas;
pub mod dbmate;
pub mod detect;
pub mod diesel;
pub mod drizzle;
pub mod flyway;
pub mod golang_migrate;
pub mod goose;
pub mod node_pg_migrate;
pub mod plain;
pub mod prisma;
pub mod sqlx;

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// A migration framework (the runner that applies the files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Framework {
    /// drizzle-kit: `meta/_journal.json` (0.x) or `<timestamp>_<name>/migration.sql` folders (v1).
    Drizzle,
    /// Prisma Migrate: `<timestamp>_<name>/migration.sql` and `migration_lock.toml`.
    Prisma,
    /// golang-migrate: `<version>_<name>.up.sql` / `.down.sql`.
    GolangMigrate,
    /// sqlx: `<version>_<name>.sql` or `.up.sql` / `.down.sql`.
    Sqlx,
    /// Flyway: `V<version>__<description>.sql`, `R__<description>.sql`.
    Flyway,
    /// goose: `<version>_<name>.sql` with `-- +goose Up` / `Down` sections.
    Goose,
    /// dbmate: `<version>_<name>.sql` with `-- migrate:up` / `-- migrate:down` sections.
    Dbmate,
    /// node-pg-migrate: `<prefix>_<name>.sql` with `-- Up Migration` / `-- Down Migration` sections.
    NodePgMigrate,
    /// Diesel: `<version>_<name>/up.sql` and `down.sql` folders.
    Diesel,
    /// Atlas: `<version>_<name>.sql` and `atlas.sum`.
    Atlas,
    /// Plain SQL files applied in file-name order.
    Sql,
}

impl Framework {
    /// Every framework, in the order `--framework` documents them.
    pub const ALL: [Self; 11] = [
        Self::Drizzle,
        Self::Prisma,
        Self::GolangMigrate,
        Self::Sqlx,
        Self::Flyway,
        Self::Goose,
        Self::Dbmate,
        Self::NodePgMigrate,
        Self::Diesel,
        Self::Atlas,
        Self::Sql,
    ];

    /// The name used in inputs, outputs and messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Drizzle => "drizzle",
            Self::Prisma => "prisma",
            Self::GolangMigrate => "golang-migrate",
            Self::Sqlx => "sqlx",
            Self::Flyway => "flyway",
            Self::Goose => "goose",
            Self::Dbmate => "dbmate",
            Self::NodePgMigrate => "node-pg-migrate",
            Self::Diesel => "diesel",
            Self::Atlas => "atlas",
            Self::Sql => "sql",
        }
    }

    /// Parses a `framework` input value (`auto` is handled by the caller).
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|f| f.name() == value)
            .or(match value.as_str() {
                "golang_migrate" | "migrate" => Some(Self::GolangMigrate),
                "node_pg_migrate" | "pg-migrate" => Some(Self::NodePgMigrate),
                "plain" | "psql" => Some(Self::Sql),
                _ => None,
            })
    }

    /// Loads the set of migrations in `root` the way this framework reads it.
    pub fn load(self, root: &Path) -> Result<MigrationSet, Error> {
        let mut set = match self {
            Self::Drizzle => drizzle::load(root),
            Self::Prisma => prisma::load(root),
            Self::GolangMigrate => golang_migrate::load(root),
            Self::Sqlx => sqlx::load(root),
            Self::Flyway => flyway::load(root),
            Self::Goose => goose::load(root),
            Self::Dbmate => dbmate::load(root),
            Self::NodePgMigrate => node_pg_migrate::load(root),
            Self::Diesel => diesel::load(root),
            Self::Atlas => atlas::load(root),
            Self::Sql => plain::load(root),
        }?;
        set.framework = self;
        set.root = root.to_path_buf();
        set.single_file = root.is_file();
        set.migrations.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(set)
    }
}

impl std::fmt::Display for Framework {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How the runner wraps a script in transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxMode {
    /// `BEGIN` … script … `COMMIT`, one transaction per migration.
    PerMigration,
    /// One transaction around every pending migration (Drizzle; Atlas `txmode all`).
    AllPending,
    /// The whole script is sent as one query: PostgreSQL runs a multi-statement query in one implicit
    /// transaction, a single statement on its own (golang-migrate, dbmate `transaction:false`).
    Implicit,
    /// No transaction: each statement commits on its own unless the script says `BEGIN`.
    None,
    /// Flyway: a transaction, except that a migration made only of statements that cannot run in one
    /// runs without (mixing both fails unless `mixed` is on).
    FlywayAuto {
        /// `flyway.mixed=true`.
        mixed: bool,
    },
    /// Prisma: recent engines split the script and run statements one by one, older ones send it as
    /// one query (prisma-engines#5767); `DROP INDEX CONCURRENTLY` still takes the single-query path
    /// (prisma-engines#5847).
    Prisma,
}

impl TxMode {
    /// A short description for messages.
    pub fn describe(self, framework: Framework) -> String {
        match self {
            Self::PerMigration => format!("{framework} runs each migration in a transaction"),
            Self::AllPending => format!("{framework} runs all pending migrations in one transaction"),
            Self::Implicit => format!(
                "{framework} sends the whole file as one query, which PostgreSQL runs in one implicit transaction when it holds more than one statement"
            ),
            Self::None => "the file runs without a transaction".to_owned(),
            Self::FlywayAuto { .. } => {
                "Flyway runs a migration in a transaction unless all its statements must run outside one"
                    .to_owned()
            }
            Self::Prisma => {
                "older Prisma engines send the whole file as one query (one implicit transaction)".to_owned()
            }
        }
    }
}

/// How a script is cut into the pieces the runner sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitKind {
    /// PostgreSQL's own lexical rules.
    Lexical,
    /// goose: a statement ends at a line ending in `;`, or spans `StatementBegin` … `StatementEnd`.
    Goose,
}

/// Up or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Applies the change.
    Up,
    /// Reverts it.
    Down,
}

/// A part of a file that the runner executes as one script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// Path relative to the migrations root, `/`-separated.
    pub path: String,
    /// Byte range inside the file; `None` is the whole file.
    pub range: Option<(usize, usize)>,
    /// Line of the range's first byte (1 for whole files).
    pub line: u32,
    /// The runner's transaction mode for this script.
    pub tx: TxMode,
    /// How the runner splits it.
    pub split: SplitKind,
    /// Whether `${…}` placeholders are substituted by the runner.
    pub placeholders: bool,
    /// Up or down.
    pub direction: Direction,
}

impl Script {
    /// A whole-file script.
    pub fn file(path: impl Into<String>, tx: TxMode, direction: Direction) -> Self {
        Self {
            path: path.into(),
            range: None,
            line: 1,
            tx,
            split: SplitKind::Lexical,
            placeholders: false,
            direction,
        }
    }
}

/// What orders migrations, per framework.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    /// A number (golang-migrate, sqlx, goose, node-pg-migrate prefixes).
    Number(u128),
    /// Dot/underscore-separated numbers with trailing zeros dropped (Flyway: `1.0` == `1`).
    Parts(Vec<u128>),
    /// Text compared byte by byte (Prisma, Atlas, diesel, dbmate, plain SQL).
    Text(String),
    /// Position in a journal (Drizzle 0.x).
    Index(u64),
    /// After every versioned migration (Flyway repeatables, by description).
    Repeatable(String),
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Parts(parts) => {
                let text: Vec<String> = parts.iter().map(u128::to_string).collect();
                f.write_str(&text.join("."))
            }
            Self::Text(text) | Self::Repeatable(text) => f.write_str(text),
            Self::Index(i) => write!(f, "#{i}"),
        }
    }
}

/// The full ordering key: the framework's key, then a tie-breaker the framework uses (usually the name).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderKey {
    /// The version as the framework compares it.
    pub key: Key,
    /// What breaks ties (file name).
    pub tie: String,
}

impl PartialOrd for OrderKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrderKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key).then_with(|| self.tie.cmp(&other.tie))
    }
}

/// One migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// Identity across commits: the file or folder name, relative to the root.
    pub id: String,
    /// The version as written (`0042`, `1.2`, `2024-01-01-000000`).
    pub version: String,
    /// Ordering key.
    pub key: OrderKey,
    /// The script that applies it.
    pub up: Option<Script>,
    /// The script that reverts it.
    pub down: Option<Script>,
    /// Every file that belongs to it, relative to the root (for history and checksums).
    pub files: Vec<String>,
    /// Drizzle's journal `when` (ms), which decides what the migrator runs.
    pub when: Option<u64>,
}

/// A problem with the layout itself (a file the runner would reject or ignore).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutProblem {
    /// Rule id (`invalid-migration-file`, `duplicate-version`, `drizzle-journal`).
    pub rule: &'static str,
    /// Path relative to the migrations root, when about a file.
    pub path: Option<String>,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// What is wrong.
    pub message: String,
}

impl LayoutProblem {
    /// A problem about a file.
    pub fn new(rule: &'static str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            rule,
            path: Some(path.into()),
            line: None,
            message: message.into(),
        }
    }
}

/// The migrations one framework would apply from one folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationSet {
    /// The framework.
    pub framework: Framework,
    /// The migrations folder (or the single file for plain SQL).
    pub root: PathBuf,
    /// In the order the framework applies them.
    pub migrations: Vec<Migration>,
    /// Layout problems found while loading.
    pub problems: Vec<LayoutProblem>,
    /// Files the framework keeps beside the migrations (journal, lock, sums), relative to the root.
    pub metadata_files: Vec<String>,
    /// The root is a single file, not a folder.
    pub single_file: bool,
}

impl MigrationSet {
    pub(crate) fn empty(framework: Framework, root: &Path) -> Self {
        Self {
            framework,
            root: root.to_path_buf(),
            migrations: Vec::new(),
            problems: Vec::new(),
            metadata_files: Vec::new(),
            single_file: root.is_file(),
        }
    }

    /// The absolute path of a root-relative path. For a single-file set, the root is the file.
    pub fn abs(&self, rel: &str) -> PathBuf {
        if self.single_file {
            self.root.clone()
        } else {
            self.root.join(rel)
        }
    }

    /// Adds a problem.
    pub(crate) fn problem(&mut self, problem: LayoutProblem) {
        self.problems.push(problem);
    }

    /// Adds migrations kept as separate up and down files, in order, reporting a down file whose
    /// version has no up file (the runner would never apply it, nor anything that undoes it).
    pub(crate) fn push_paired(&mut self, migrations: impl IntoIterator<Item = Migration>) {
        for migration in migrations {
            if migration.up.is_none()
                && let Some(down) = &migration.down
            {
                self.problems.push(LayoutProblem::new(
                    "invalid-migration-file",
                    down.path.clone(),
                    format!("down migration `{}` has no up migration", down.path),
                ));
            }
            self.migrations.push(migration);
        }
    }
}

/// Files directly in `dir` (not recursive), sorted by name, as `(name, path)`.
pub(crate) fn files_in(dir: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
    entries(dir, false)
}

/// Folders directly in `dir`, sorted by name.
pub(crate) fn dirs_in(dir: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
    entries(dir, true)
}

fn entries(dir: &Path, want_dirs: bool) -> Result<Vec<(String, PathBuf)>, Error> {
    let read = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut out = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let is_dir = path.is_dir();
        if is_dir != want_dirs {
            continue;
        }
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        out.push((name, path));
    }
    out.sort();
    Ok(out)
}

/// Reads a file as UTF-8 (lossy: migration files are text; a stray byte must not stop the check).
pub(crate) fn read_text(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Reads at most `limit` bytes of a file (for markers near the top).
pub(crate) fn read_head(path: &Path, limit: usize) -> Result<String, Error> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = Vec::with_capacity(limit.min(64 * 1024));
    file.take(limit as u64)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Leading ASCII digits of `name`.
pub(crate) fn leading_digits(name: &str) -> &str {
    let end = name
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(name.len());
    &name[..end]
}

/// Parses a run of digits as a number (versions longer than 38 digits do not occur).
pub(crate) fn number(digits: &str) -> Option<u128> {
    if digits.is_empty() {
        return None;
    }
    digits.parse().ok()
}

/// Line-by-line view of a text with byte offsets: `(offset, line_number, line_with_newline)`.
pub(crate) fn lines_with_offsets(text: &str) -> impl Iterator<Item = (usize, u32, &str)> {
    let mut offset = 0;
    let mut line = 0u32;
    text.split_inclusive('\n').map(move |l| {
        let at = offset;
        offset += l.len();
        line += 1;
        (at, line, l)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Framework::ALL {
            assert_eq!(Framework::parse(f.name()), Some(f));
        }
        assert_eq!(Framework::parse("Golang_Migrate"), Some(Framework::GolangMigrate));
        assert_eq!(Framework::parse("liquibase"), None);
    }

    #[test]
    fn keys_order_within_a_kind() {
        let parts = |p: &[u128]| OrderKey {
            key: Key::Parts(p.to_vec()),
            tie: String::new(),
        };
        assert!(parts(&[1, 2]) < parts(&[1, 10]));
        assert!(
            parts(&[9])
                < OrderKey {
                    key: Key::Repeatable("a".into()),
                    tie: String::new()
                }
        );
        assert_eq!(leading_digits("0042_x"), "0042");
        assert_eq!(number("00000000000000"), Some(0));
    }
}
