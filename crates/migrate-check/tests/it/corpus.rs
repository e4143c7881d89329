//! The shared real-world corpus (1,355 files, 7 projects, 7 tools): every file parsed without a crash,
//! every folder's framework detected, versions in the order each tool applies them, and none of the
//! false positives squawk reports there (findings in down migrations, `CONCURRENTLY` in files whose
//! framework directive turns the transaction off).

use std::path::{Path, PathBuf};

use migrate_check::framework::{Framework, MigrationSet, detect};

use crate::support::{self, run_in};

/// The corpus folder: `OPS_MIGRATIONS_CORPUS`, or `../shared/corpus/migrations` next to the repository.
pub(crate) fn corpus() -> PathBuf {
    let path = std::env::var_os("OPS_MIGRATIONS_CORPUS").map_or_else(
        || support::crate_dir().join("../../../shared/corpus/migrations"),
        PathBuf::from,
    );
    assert!(
        path.join("README.md").is_file(),
        "the migrations corpus is missing at `{}`: set OPS_MIGRATIONS_CORPUS to the folder that holds it (the 7 project folders and README.md)",
        path.display()
    );
    path
}

/// `(project, migrations folder inside it, framework)`.
pub(crate) const PROJECTS: [(&str, &str, Framework); 7] = [
    ("documenso", "packages/prisma/migrations", Framework::Prisma),
    ("dokploy", "apps/dokploy/drizzle", Framework::Drizzle),
    ("harbor", "make/migrations/postgresql", Framework::GolangMigrate),
    ("svix", "server/svix-server/migrations", Framework::Sqlx),
    (
        "kestra",
        "jdbc-postgres/src/main/resources/migrations/postgres",
        Framework::Flyway,
    ),
    (
        "hatchet",
        "cmd/hatchet-migrate/migrate/migrations",
        Framework::Goose,
    ),
    ("lemmy", "migrations", Framework::Diesel),
];

fn sql_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sql_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "sql") {
            out.push(path);
        }
    }
}

/// migrate-check's report for each project (no base: every migration checked), computed once per test
/// binary and shared by the corpus and differential tests.
pub(crate) fn reports() -> &'static [(&'static str, support::Run)] {
    static REPORTS: std::sync::OnceLock<Vec<(&'static str, support::Run)>> = std::sync::OnceLock::new();
    REPORTS.get_or_init(|| {
        let handles: Vec<_> = PROJECTS
            .iter()
            .map(|(project, _, _)| {
                let project: &'static str = project;
                let root = corpus().join(project);
                std::thread::spawn(move || (project, run_in(&root, &["--pg-version=15"])))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("corpus run"))
            .collect()
    })
}

fn load(project: &str, folder: &str, framework: Framework) -> MigrationSet {
    framework.load(&corpus().join(project).join(folder)).unwrap()
}

#[test]
fn every_file_parses_without_a_crash() {
    let mut files = Vec::new();
    sql_files(&corpus(), &mut files);
    assert_eq!(files.len(), 1355, "the corpus holds 1,355 `.sql` files");
    let mut statements = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for segment in migrate_check::sql::split::split(
            &text,
            migrate_check::sql::split::SplitOptions { placeholders: true },
        ) {
            statements += squawk_syntax::SourceFile::parse(&segment.text)
                .tree()
                .stmts()
                .count();
        }
    }
    assert!(statements > 8000, "{statements} statements");
    // Through the whole pipeline, project by project: no crash, and only the goose file that is
    // valid goose but not plain SQL would be a syntax error, which goose's own splitting avoids.
    for (project, run) in reports() {
        assert!(run.error.is_none(), "{project}: {:?}", run.error);
        let syntax: Vec<_> = run
            .findings()
            .into_iter()
            .filter(|(r, _, _)| r == "syntax-error")
            .collect();
        assert!(syntax.is_empty(), "{project}: {syntax:?}");
    }
}

/// The nesting limit (`sql::depth`) is far above what real migrations need: the deepest statement
/// of the corpus stays under a tenth of it.
#[test]
fn real_statements_nest_far_below_the_limit() {
    let mut files = Vec::new();
    sql_files(&corpus(), &mut files);
    let mut deepest = (0, String::new());
    for file in &files {
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        for segment in migrate_check::sql::split::split(
            &text,
            migrate_check::sql::split::SplitOptions { placeholders: true },
        ) {
            let depth = migrate_check::sql::depth::nesting(&segment.text);
            if depth > deepest.0 {
                deepest = (depth, format!("{}:{}", file.display(), segment.line));
            }
            assert!(migrate_check::sql::depth::check(&segment.text).is_ok());
        }
    }
    println!("deepest statement: {} at {}", deepest.0, deepest.1);
    assert!(
        deepest.0 < migrate_check::sql::depth::MAX_NESTING / 10,
        "{deepest:?}"
    );
}

#[test]
fn every_folder_s_framework_is_detected() {
    for (project, folder, framework) in PROJECTS {
        let root = corpus().join(project);
        let found = detect::discover(&root).unwrap();
        assert_eq!(found.framework, framework, "{project}: {}", found.reason);
        assert!(
            found.root.ends_with(folder),
            "{project}: found {}",
            found.root.display()
        );
        let direct = detect::detect(&root.join(folder), &root).unwrap().unwrap();
        assert_eq!(direct.framework, framework, "{project} (given the folder)");
    }
}

fn names(set: &MigrationSet) -> Vec<String> {
    set.migrations.iter().map(|m| m.id.clone()).collect()
}

/// Independent re-implementations of each tool's ordering, checked against the loaders.
#[test]
fn versions_are_ordered_as_each_tool_orders_them() {
    // Prisma: folder names, byte order.
    let set = load("documenso", PROJECTS[0].1, Framework::Prisma);
    let mut expected = names(&set);
    expected.sort();
    assert_eq!(names(&set), expected);
    assert_eq!(set.migrations.len(), 163);

    // Drizzle 0.x: the journal's entry order, which is not file-name order everywhere.
    let set = load("dokploy", PROJECTS[1].1, Framework::Drizzle);
    let journal: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            corpus()
                .join("dokploy")
                .join(PROJECTS[1].1)
                .join("meta/_journal.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let tags: Vec<String> = journal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}.sql", e["tag"].as_str().unwrap()))
        .collect();
    assert_eq!(names(&set), tags);
    // 187 files, 186 journal entries: `0130_abandoned_dagger.sql` is not in the journal, so drizzle
    // never runs it, and the loader says so.
    assert_eq!(set.migrations.len(), 186);
    assert!(
        set.problems
            .iter()
            .any(|p| p.rule == "drizzle-journal" && p.path.as_deref() == Some("0130_abandoned_dagger.sql")),
        "{:?}",
        set.problems
    );

    // golang-migrate: numeric versions (gapped 0001..0190), up files only here.
    let set = load("harbor", PROJECTS[2].1, Framework::GolangMigrate);
    let versions: Vec<u64> = set
        .migrations
        .iter()
        .map(|m| m.version.parse().unwrap())
        .collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    assert_eq!(set.migrations.len(), 39);
    assert!(set.migrations.iter().all(|m| m.up.is_some() && m.down.is_none()));

    // sqlx: i64 versions, reversible pairs.
    let set = load("svix", PROJECTS[3].1, Framework::Sqlx);
    let versions: Vec<i64> = set
        .migrations
        .iter()
        .map(|m| m.version.parse().unwrap())
        .collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(set.migrations.len(), 16);
    assert!(set.migrations.iter().all(|m| m.up.is_some() && m.down.is_some()));

    // Flyway: `V1_2` < `V1_10` (numeric parts), unlike a lexical sort.
    let set = load("kestra", PROJECTS[4].1, Framework::Flyway);
    let parts: Vec<Vec<u64>> = names(&set)
        .iter()
        .map(|n| {
            n.trim_start_matches('V')
                .split("__")
                .next()
                .unwrap()
                .split(['_', '.'])
                .map(|p| p.parse().unwrap())
                .collect()
        })
        .collect();
    assert!(parts.windows(2).all(|w| w[0] < w[1]), "{parts:?}");
    let mut lexical = names(&set);
    lexical.sort();
    assert_ne!(
        names(&set),
        lexical,
        "a lexical sort would misorder V1_2 and V1_10"
    );
    assert_eq!(set.migrations.len(), 26);

    // goose: int64 versions; the Up section of every file; the Down section where present.
    let set = load("hatchet", PROJECTS[5].1, Framework::Goose);
    let versions: Vec<i64> = set
        .migrations
        .iter()
        .map(|m| m.version.parse().unwrap())
        .collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(set.migrations.len(), 224);
    assert!(set.migrations.iter().all(|m| m.up.is_some()));
    assert_eq!(set.migrations.iter().filter(|m| m.down.is_some()).count(), 136);

    // Diesel: the version is the text before the first `_` with `-` removed, three shapes mixed.
    let set = load("lemmy", PROJECTS[6].1, Framework::Diesel);
    let versions: Vec<String> = names(&set)
        .iter()
        .map(|n| n.split('_').next().unwrap().replace('-', ""))
        .collect();
    assert!(
        versions.windows(2).all(|w| w[0] < w[1]),
        "diesel versions out of order"
    );
    assert_eq!(versions[0], "00000000000000");
    assert_eq!(set.migrations.len(), 342);
    assert!(set.migrations.iter().all(|m| m.up.is_some() && m.down.is_some()));
}

/// The line where a goose file's Down section starts, if any.
fn goose_down_line(text: &str) -> Option<u64> {
    text.lines()
        .position(|l| l.to_ascii_lowercase().starts_with("-- +goose down"))
        .map(|i| i as u64 + 1)
}

#[test]
fn no_findings_in_down_migrations_and_no_false_concurrently_errors() {
    let mut in_down = Vec::new();
    let mut false_concurrently = Vec::new();
    let mut directive_files_with_concurrently = 0;
    for (project, run) in reports() {
        let root = corpus().join(project);
        for (rule, path, line) in run.findings() {
            let text = std::fs::read_to_string(root.join(&path)).unwrap_or_default();
            let down_file = path.ends_with(".down.sql") || path.ends_with("/down.sql");
            let down_section = goose_down_line(&text).is_some_and(|d| line > d);
            if (down_file || down_section)
                && !matches!(rule.as_str(), "syntax-error" | "down-does-not-revert")
            {
                in_down.push(format!("{path}:{line} {rule}"));
            }
            let lower = text.to_ascii_lowercase();
            let no_tx = lower.contains("-- +goose no transaction")
                || lower.contains("-- atlas:txmode none")
                || lower.starts_with("-- no-transaction")
                || lower.contains("transaction:false");
            if rule == "not-allowed-in-transaction" && no_tx {
                false_concurrently.push(format!("{path}:{line}"));
            }
        }
        if *project == "hatchet" {
            let mut files = Vec::new();
            sql_files(&root, &mut files);
            for file in files {
                let lower = std::fs::read_to_string(&file).unwrap().to_ascii_lowercase();
                if lower.contains("-- +goose no transaction") && lower.contains("concurrently") {
                    directive_files_with_concurrently += 1;
                }
            }
        }
    }
    assert!(in_down.is_empty(), "findings in down migrations: {in_down:#?}");
    assert!(
        false_concurrently.is_empty(),
        "CONCURRENTLY reported despite a directive: {false_concurrently:#?}"
    );
    // The check above is meaningful: the corpus has such files (squawk reports 96 false errors there).
    assert_eq!(directive_files_with_concurrently, 28);
}

#[test]
fn removing_the_directive_makes_concurrently_an_error() {
    // Positive control for the test above: the same goose file without `NO TRANSACTION` fails.
    let root = corpus().join("hatchet").join(PROJECTS[5].1);
    let mut files = Vec::new();
    sql_files(&root, &mut files);
    files.sort();
    let file = files
        .iter()
        .find(|f| {
            let t = std::fs::read_to_string(f).unwrap();
            t.contains("-- +goose NO TRANSACTION")
                && t.to_ascii_lowercase().contains("create index concurrently")
        })
        .expect("a goose file with NO TRANSACTION and CREATE INDEX CONCURRENTLY");
    let text = std::fs::read_to_string(file)
        .unwrap()
        .replace("-- +goose NO TRANSACTION", "");
    let workspace = tempfile::tempdir().unwrap();
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    support::write_tree(workspace.path(), &[(format!("migrations/{name}"), text)]);
    let run = run_in(workspace.path(), &["--path=migrations"]);
    assert!(
        run.rules_in(&name)
            .iter()
            .any(|r| r == "not-allowed-in-transaction"),
        "{:?}",
        run.findings()
    );
}
