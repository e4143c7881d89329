//! Which framework owns a folder, from its layout and markers, and where the folder is when the user
//! did not say.
//!
//! Markers, strongest first: `meta/_journal.json` or `<timestamp>_<name>/migration.sql` +
//! `snapshot.json` (Drizzle), `migration_lock.toml` or `<timestamp>_<name>/migration.sql` (Prisma),
//! `atlas.sum` (Atlas), `<version>_<name>/up.sql` folders (Diesel), `V<version>__<name>.sql` (Flyway),
//! `-- +goose Up` (goose), `-- migrate:up` (dbmate), `-- Up Migration` (node-pg-migrate). Files named
//! `<digits>_<name>.up.sql` / `.down.sql` fit golang-migrate, sqlx and node-pg-migrate alike: the project
//! manifests decide (`go.mod` requiring golang-migrate, `Cargo.toml` with sqlx, `package.json` with
//! node-pg-migrate), and without one, 14-digit timestamp versions mean sqlx (`sqlx migrate add -r`) and
//! anything else golang-migrate (`migrate create -seq`). Set `framework` when the guess is wrong.

use std::path::{Path, PathBuf};

use super::{Framework, dirs_in, drizzle, files_in, flyway, read_head};
use crate::error::Error;

/// A detected framework and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// The framework.
    pub framework: Framework,
    /// The migrations folder (or file).
    pub root: PathBuf,
    /// The evidence, for the log.
    pub reason: String,
}

/// How sure a detection is: discovery only trusts strong ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Strength {
    /// Only `.sql` files.
    Weak,
    /// A marker file or naming scheme.
    Strong,
}

/// Detects the framework of `dir` (`workspace` bounds the search for manifests).
pub fn detect(dir: &Path, workspace: &Path) -> Result<Option<Detection>, Error> {
    Ok(detect_with_strength(dir, workspace, 3)?.map(|(d, _)| d))
}

fn found(framework: Framework, dir: &Path, reason: impl Into<String>) -> Option<(Detection, Strength)> {
    Some((
        Detection {
            framework,
            root: dir.to_path_buf(),
            reason: reason.into(),
        },
        if framework == Framework::Sql {
            Strength::Weak
        } else {
            Strength::Strong
        },
    ))
}

/// `flyway_depth`: how deep to look for Flyway scripts below `dir` (Flyway searches recursively; discovery
/// wants the folder that holds them).
fn detect_with_strength(
    dir: &Path,
    workspace: &Path,
    flyway_depth: u32,
) -> Result<Option<(Detection, Strength)>, Error> {
    if dir.is_file() {
        return Ok(found(Framework::Sql, dir, "a single SQL file"));
    }
    if let Some(layout) = drizzle::layout(dir) {
        return Ok(found(
            Framework::Drizzle,
            dir,
            match layout {
                drizzle::Layout::Journal => "`meta/_journal.json`",
                drizzle::Layout::Folders => "`<timestamp>_<name>/migration.sql` folders with `snapshot.json`",
            },
        ));
    }
    if dir.join(super::prisma::LOCK).is_file() {
        return Ok(found(Framework::Prisma, dir, "`migration_lock.toml`"));
    }
    if dir.join(super::atlas::SUM).is_file() {
        return Ok(found(Framework::Atlas, dir, "`atlas.sum`"));
    }
    let subdirs = dirs_in(dir)?;
    let diesel = subdirs
        .iter()
        .filter(|(name, path)| {
            super::leading_digits(name).len() >= 4
                && (path.join("up.sql").is_file() || path.join("down.sql").is_file())
        })
        .count();
    if diesel > 0 {
        return Ok(found(Framework::Diesel, dir, "`<version>_<name>/up.sql` folders"));
    }
    let prisma = subdirs
        .iter()
        .filter(|(name, path)| {
            super::leading_digits(name).len() == 14 && path.join("migration.sql").is_file()
        })
        .count();
    if prisma > 0 {
        return Ok(found(
            Framework::Prisma,
            dir,
            "`<timestamp>_<name>/migration.sql` folders without snapshots",
        ));
    }
    let files = files_in(dir)?;
    let sql: Vec<&(String, PathBuf)> = files.iter().filter(|(n, _)| n.ends_with(".sql")).collect();
    if sql.is_empty() {
        // Flyway also searches sub-folders.
        if has_flyway_names(dir, flyway_depth)? {
            return Ok(found(Framework::Flyway, dir, "`V<version>__<name>.sql` files"));
        }
        return Ok(None);
    }
    if sql
        .iter()
        .any(|(n, _)| matches!(flyway::parse_name(n), Some(flyway::Name::Versioned(..))))
    {
        return Ok(found(Framework::Flyway, dir, "`V<version>__<name>.sql` files"));
    }
    for (name, path) in &sql {
        let head = read_head(path, 16 * 1024)?;
        for line in head.lines() {
            if super::goose::annotation(line) == Some(super::goose::Annotation::Up) {
                return Ok(found(
                    Framework::Goose,
                    dir,
                    format!("`-- +goose Up` in `{name}`"),
                ));
            }
            if super::dbmate::directive(line).is_some() {
                return Ok(found(
                    Framework::Dbmate,
                    dir,
                    format!("`-- migrate:up` in `{name}`"),
                ));
            }
            if super::node_pg_migrate::marker(line).is_some() {
                return Ok(found(
                    Framework::NodePgMigrate,
                    dir,
                    format!("`-- Up Migration` in `{name}`"),
                ));
            }
        }
    }
    let paired: Vec<&str> = sql
        .iter()
        .filter(|(n, _)| super::golang_migrate::parse_name(n).is_some())
        .map(|(n, _)| n.as_str())
        .collect();
    let manifests = Manifests::find(dir, workspace);
    if !paired.is_empty() {
        if let Some((framework, file)) = manifests.runner() {
            return Ok(found(
                framework,
                dir,
                format!(
                    "`<version>_<name>.up.sql` files and {} in `{}`",
                    framework,
                    file.display()
                ),
            ));
        }
        let timestamps = paired
            .iter()
            .all(|n| super::leading_digits(n).len() == 14 && n.starts_with('2'));
        return Ok(if timestamps {
            found(
                Framework::Sqlx,
                dir,
                "`<14-digit timestamp>_<name>.up.sql` files (the shape `sqlx migrate add -r` writes; set `framework` if this is golang-migrate)",
            )
        } else {
            found(
                Framework::GolangMigrate,
                dir,
                "`<version>_<name>.up.sql` files (set `framework` if this is sqlx or node-pg-migrate)",
            )
        });
    }
    let versioned = sql.iter().all(|(n, _)| super::sqlx::parse_name(n).is_some());
    if versioned {
        if matches!(manifests.runner(), Some((Framework::Sqlx, _))) {
            return Ok(found(
                Framework::Sqlx,
                dir,
                "`<version>_<name>.sql` files and sqlx in `Cargo.toml`",
            ));
        }
        for (name, path) in &sql {
            if super::sqlx::no_transaction(&read_head(path, 64)?) {
                return Ok(found(
                    Framework::Sqlx,
                    dir,
                    format!("`-- no-transaction` in `{name}`"),
                ));
            }
        }
    }
    Ok(found(Framework::Sql, dir, "`.sql` files"))
}

fn has_flyway_names(dir: &Path, depth: u32) -> Result<bool, Error> {
    for (name, _) in files_in(dir)? {
        if matches!(flyway::parse_name(&name), Some(flyway::Name::Versioned(..))) {
            return Ok(true);
        }
    }
    if depth == 0 {
        return Ok(false);
    }
    for (_, path) in dirs_in(dir)? {
        if has_flyway_names(&path, depth - 1)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Project manifests that name a migration runner.
#[derive(Debug, Default)]
struct Manifests {
    go_migrate: Option<PathBuf>,
    sqlx: Option<PathBuf>,
    node_pg_migrate: Option<PathBuf>,
}

impl Manifests {
    /// Looks in `dir` and its ancestors up to `workspace`.
    fn find(dir: &Path, workspace: &Path) -> Self {
        let mut out = Self::default();
        for ancestor in dir.ancestors() {
            let check = |file: &str, needle: &str| -> Option<PathBuf> {
                let path = ancestor.join(file);
                let text = std::fs::read_to_string(&path).ok()?;
                text.contains(needle).then_some(path)
            };
            out.go_migrate = out
                .go_migrate
                .take()
                .or_else(|| check("go.mod", "github.com/golang-migrate/migrate"));
            out.sqlx = out.sqlx.take().or_else(|| check("Cargo.toml", "sqlx"));
            out.node_pg_migrate = out
                .node_pg_migrate
                .take()
                .or_else(|| check("package.json", "\"node-pg-migrate\""));
            if ancestor == workspace {
                break;
            }
        }
        out
    }

    /// The one runner the manifests name, if exactly one.
    fn runner(&self) -> Option<(Framework, &Path)> {
        let named: Vec<(Framework, &Path)> = [
            (Framework::GolangMigrate, self.go_migrate.as_deref()),
            (Framework::Sqlx, self.sqlx.as_deref()),
            (Framework::NodePgMigrate, self.node_pg_migrate.as_deref()),
        ]
        .into_iter()
        .filter_map(|(f, p)| p.map(|p| (f, p)))
        .collect();
        (named.len() == 1).then(|| named[0])
    }
}

/// Folders never searched.
const SKIP: [&str; 8] = [
    "node_modules",
    "target",
    "vendor",
    "dist",
    "build",
    "out",
    "coverage",
    "tmp",
];

/// Finds the migrations folder under `workspace` when `path` is not given.
pub fn discover(workspace: &Path) -> Result<Detection, Error> {
    let mut candidates: Vec<(Detection, Strength)> = Vec::new();
    walk(workspace, workspace, 0, &mut candidates)?;
    let strong: Vec<&Detection> = candidates
        .iter()
        .filter(|(_, s)| *s == Strength::Strong)
        .map(|(d, _)| d)
        .collect();
    let pick: Vec<&Detection> = if strong.is_empty() {
        candidates
            .iter()
            .filter(|(d, _)| {
                d.root
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.contains("migration"))
            })
            .map(|(d, _)| d)
            .collect()
    } else {
        strong
    };
    match pick.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::usage_hint(
            format!("no migrations folder found under `{}`", workspace.display()),
            "set the `path` input to the folder that holds your migrations",
        )),
        many => {
            let list: Vec<String> = many
                .iter()
                .map(|d| {
                    format!(
                        "`{}` ({})",
                        d.root.strip_prefix(workspace).unwrap_or(&d.root).display(),
                        d.framework
                    )
                })
                .collect();
            Err(Error::usage_hint(
                format!("several migrations folders found: {}", list.join(", ")),
                "set the `path` input to the one to check (run the action once per folder)",
            ))
        }
    }
}

fn walk(dir: &Path, workspace: &Path, depth: u32, out: &mut Vec<(Detection, Strength)>) -> Result<(), Error> {
    if depth > 8 {
        return Ok(());
    }
    if depth > 0
        && let Some(found) = detect_with_strength(dir, workspace, 0)?
    {
        out.push(found);
        return Ok(());
    }
    for (name, path) in dirs_in(dir)? {
        if SKIP.contains(&name.as_str()) {
            continue;
        }
        walk(&path, workspace, depth + 1, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn detects_each_layout() {
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, Framework);
        let cases: &[Case<'_>] = &[
            (
                &[("m/meta/_journal.json", "{}"), ("m/0000_a.sql", "")],
                "m",
                Framework::Drizzle,
            ),
            (
                &[
                    ("m/20250101000000_a/migration.sql", ""),
                    ("m/20250101000000_a/snapshot.json", "{}"),
                ],
                "m",
                Framework::Drizzle,
            ),
            (
                &[
                    ("m/migration_lock.toml", "provider = \"postgresql\""),
                    ("m/20250101000000_a/migration.sql", ""),
                ],
                "m",
                Framework::Prisma,
            ),
            (
                &[("m/atlas.sum", "h1:x"), ("m/1_a.sql", "")],
                "m",
                Framework::Atlas,
            ),
            (
                &[
                    ("m/2019-01-01-000000_a/up.sql", ""),
                    ("m/2019-01-01-000000_a/down.sql", ""),
                ],
                "m",
                Framework::Diesel,
            ),
            (&[("m/V1__a.sql", "")], "m", Framework::Flyway),
            (&[("m/db/V1_1__a.sql", "")], "m", Framework::Flyway),
            (&[("m/1_a.sql", "-- +goose Up\nselect 1;")], "m", Framework::Goose),
            (
                &[("m/1_a.sql", "-- migrate:up\nselect 1;\n-- migrate:down\n")],
                "m",
                Framework::Dbmate,
            ),
            (
                &[("m/1700000000000_a.sql", "-- Up Migration\nselect 1;")],
                "m",
                Framework::NodePgMigrate,
            ),
            (
                &[("m/0001_a.up.sql", ""), ("m/0001_a.down.sql", "")],
                "m",
                Framework::GolangMigrate,
            ),
            (&[("m/20240101000000_a.up.sql", "")], "m", Framework::Sqlx),
            (
                &[
                    ("go.mod", "require github.com/golang-migrate/migrate/v4 v4.17.0"),
                    ("m/20240101000000_a.up.sql", ""),
                ],
                "m",
                Framework::GolangMigrate,
            ),
            (
                &[(
                    "m/1_a.sql",
                    "-- no-transaction\ncreate index concurrently i on t (a);",
                )],
                "m",
                Framework::Sqlx,
            ),
            (&[("m/init.sql", "select 1;")], "m", Framework::Sql),
        ];
        for (files, dir, expected) in cases {
            let root = tree(files);
            let detection = detect(&root.path().join(dir), root.path()).unwrap().unwrap();
            assert_eq!(detection.framework, *expected, "{files:?}: {}", detection.reason);
        }
    }

    #[test]
    fn discovery_finds_one_folder_or_explains() {
        let root = tree(&[
            ("README.md", "x"),
            ("node_modules/x/migrations/1_a.up.sql", ""),
            ("db/migrations/20240101000000_a.sql", "-- migrate:up\nselect 1;\n"),
            ("scripts/seed.sql", "select 1;"),
        ]);
        let found = discover(root.path()).unwrap();
        assert_eq!(found.framework, Framework::Dbmate);
        assert!(found.root.ends_with("db/migrations"));

        let two = tree(&[("a/V1__x.sql", ""), ("b/meta/_journal.json", "{}")]);
        let error = discover(two.path()).unwrap_err().to_string();
        assert!(error.contains("several migrations folders"), "{error}");

        let none = tree(&[("README.md", "x")]);
        assert!(discover(none.path()).is_err());
    }
}
