//! Differential test against squawk-linter (the same pinned version as our parser) on the corpus: every
//! statement where the two disagree about a rule must be explained by a reason from [`REASONS`], and
//! each reason is checked against the SQL, not just asserted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use migrate_check::framework::Framework;
use migrate_check::rules;
use squawk_syntax::SourceFile;
use squawk_syntax::ast::{self, AstNode};

use crate::corpus::{PROJECTS, corpus, reports};

/// Why the tools may disagree: `(id, direction, explanation)`.
const REASONS: &[(&str, &str, &str)] = &[
    (
        "down-migration",
        "squawk only",
        "migrate-check lints the up direction; down migrations are checked for syntax and for undoing the up",
    ),
    (
        "new-in-migration",
        "squawk only",
        "the table or object is created earlier in the same migration: it is new and empty, so its locks and compatibility do not matter",
    ),
    (
        "runner-transaction",
        "squawk only",
        "the framework runs the migration in a transaction, so a failed run rolls back and can be repeated (`prefer-robust-stmts`)",
    ),
    (
        "timeout-elsewhere",
        "either",
        "`require-*-timeout` is reported once per file; migrate-check picks the first statement that takes a traffic-blocking lock on an existing table, squawk the first DDL",
    ),
    (
        "no-blocking-lock",
        "squawk only",
        "no statement in the file takes a traffic-blocking lock on an existing table, so no timeout is needed",
    ),
    (
        "not-valid-impossible",
        "squawk only",
        "`NOT VALID` is not accepted for `UNIQUE`, `PRIMARY KEY` and `EXCLUDE`; migrate-check reports those as `disallowed-unique-constraint` / `adding-serial-primary-key-field`",
    ),
    (
        "no-rewrite",
        "squawk only",
        "the schema model knows the old type and the change is binary-coercible (no rewrite), or the column is new",
    ),
    (
        "non-volatile-default",
        "squawk only",
        "the default is a constant or non-volatile expression, added without a rewrite on PostgreSQL 11+",
    ),
    (
        "new-rule",
        "migrate-check only",
        "the rule has no squawk counterpart",
    ),
    (
        "inside-do-block",
        "migrate-check only",
        "the statement is inside a `DO` block, which squawk does not look into",
    ),
    (
        "runner-transaction-concurrently",
        "migrate-check only",
        "the runner wraps the file in a transaction, where `CONCURRENTLY` fails; squawk assumes no transaction",
    ),
    (
        "drop-of-new-object",
        "squawk only",
        "the object dropped or renamed was created earlier in the same migration",
    ),
    (
        "idempotent-action",
        "squawk only",
        "`prefer-robust-stmts` outside a transaction, on an action that can simply run again (`VALIDATE CONSTRAINT`, `SET NOT NULL`, `SET DEFAULT`, `TYPE`…)",
    ),
    (
        "serial-is-not-required",
        "squawk only",
        "a `serial` column gets its values from a sequence, so it is not a required field without a default; migrate-check reports the rewrite instead (`adding-field-with-default`)",
    ),
    (
        "serial-rewrites",
        "migrate-check only",
        "adding a `serial` column fills it from a sequence for every row, a rewrite squawk does not count as a default",
    ),
    (
        "identifier-in-reference",
        "squawk only",
        "only names being defined are checked: a too-long name in a `DROP` is truncated exactly as it was at its definition, so it still matches",
    ),
    (
        "index-rename",
        "squawk only",
        "an index name is not part of any client's contract: queries never name indexes (`ON CONFLICT ON CONSTRAINT` names constraints)",
    ),
    (
        "existing-default-not-null",
        "squawk only",
        "`SET NOT NULL` on a column proven non-null by a validated `CHECK (col IS NOT NULL)` (PostgreSQL 12+)",
    ),
];

/// Rules whose verdict does not depend on whether a table is new.
const STYLE_RULES: &[&str] = &[
    "prefer-robust-stmts",
    "prefer-bigint-over-int",
    "prefer-bigint-over-smallint",
    "prefer-identity",
    "prefer-text-field",
    "prefer-timestamp-tz",
    "ban-char-field",
    "identifier-too-long",
];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Finding {
    file: String,
    stmt: usize,
    rule: String,
}

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

/// Statement spans of a file: `(first line, last line, text)`.
fn statements(text: &str) -> Vec<(u64, u64, String)> {
    migrate_check::sql::split::split(
        text,
        migrate_check::sql::split::SplitOptions { placeholders: true },
    )
    .into_iter()
    .filter(|s| !s.is_trivia())
    .map(|s| {
        let lines = s.text.bytes().filter(|&b| b == b'\n').count() as u64;
        // The statement starts at its first line of code, not at the trivia before it.
        let skipped = s
            .text
            .lines()
            .position(|l| {
                let l = l.trim();
                !l.is_empty() && !l.starts_with("--")
            })
            .unwrap_or(0) as u64;
        (u64::from(s.line) + skipped, u64::from(s.line) + lines, s.text)
    })
    .collect()
}

fn statement_at(spans: &[(u64, u64, String)], line: u64) -> usize {
    spans
        .iter()
        .position(|(a, b, _)| line >= *a && line <= *b)
        .unwrap_or(usize::MAX)
}

fn line_of(text: &str, offset: usize) -> u64 {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count() as u64
        + 1
}

/// Lowercased, unquoted name of the table (or other object) a statement is about.
fn target(text: &str) -> Option<String> {
    let parse = SourceFile::parse(text);
    let stmt = parse.tree().stmts().next()?;
    let name = match &stmt {
        ast::Stmt::AlterTable(a) => migrate_check::sql::names::table_relation(a.table_relation_name()),
        ast::Stmt::CreateIndex(c) => migrate_check::sql::names::table_relation(c.table_relation_name()),
        ast::Stmt::DropTable(d) => migrate_check::sql::names::table_ref(d.table_name_refs().next()),
        _ => stmt
            .syntax()
            .descendants()
            .find_map(ast::PathRef::cast)
            .and_then(|p| migrate_check::sql::names::path_ref(&p)),
    }?;
    Some(name.name.to_ascii_lowercase())
}

/// Names created (tables, views, types, functions, indexes…) by statements before `stmt`.
fn created_before(spans: &[(u64, u64, String)], stmt: usize) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, _, text) in spans.iter().take(stmt) {
        let lower = text.to_ascii_lowercase();
        if !lower.contains("create") {
            continue;
        }
        let parse = SourceFile::parse(text);
        for stmt in parse.tree().stmts() {
            let name = match &stmt {
                ast::Stmt::CreateTable(c) => migrate_check::sql::names::created_table(c).map(|n| n.name),
                _ if format!("{:?}", stmt.syntax().kind()).starts_with("CREATE") => stmt
                    .syntax()
                    .descendants()
                    .find_map(ast::Path::cast)
                    .and_then(|p| p.segment())
                    .map(|s| s.text()),
                _ => None,
            };
            if let Some(name) = name {
                out.insert(name.to_ascii_lowercase());
            }
        }
    }
    out
}

/// Constraint names added (`ADD CONSTRAINT name`) by statements before `stmt`.
fn constraints_added_before(spans: &[(u64, u64, String)], stmt: usize) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, _, text) in spans.iter().take(stmt) {
        let words: Vec<String> = text
            .split_whitespace()
            .map(|w| {
                w.trim_matches(|c| c == '"' || c == ',' || c == ';')
                    .to_ascii_lowercase()
            })
            .collect();
        for w in words.windows(3) {
            if w[0] == "add" && w[1] == "constraint" {
                out.insert(w[2].clone());
            }
        }
    }
    out
}

/// The constraint a `DROP CONSTRAINT` statement names.
fn dropped_constraint(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c| c == '"' || c == ',' || c == ';')
                .to_ascii_lowercase()
        })
        .collect();
    words
        .windows(3)
        .find(|w| w[0] == "drop" && w[1] == "constraint")
        .map(|w| {
            if w[2] == "if" {
                words
                    .iter()
                    .skip_while(|x| *x != "exists")
                    .nth(1)
                    .cloned()
                    .unwrap_or_default()
            } else {
                w[2].clone()
            }
        })
}

/// Whether every action of an `ALTER TABLE` can run twice without failing.
fn is_idempotent_alter(text: &str) -> bool {
    let parse = SourceFile::parse(text);
    let Some(ast::Stmt::AlterTable(alter)) = parse.tree().stmts().next() else {
        return false;
    };
    alter.actions().all(|action| match action {
        ast::AlterTableAction::ValidateConstraint(_)
        | ast::AlterTableAction::SetOptions(_)
        | ast::AlterTableAction::ResetOptions(_)
        | ast::AlterTableAction::OptionItemList(_)
        | ast::AlterTableAction::AlterOptionList(_)
        | ast::AlterTableAction::SetLogged(_)
        | ast::AlterTableAction::SetUnlogged(_)
        | ast::AlterTableAction::OwnerTo(_)
        | ast::AlterTableAction::ReplicaIdentity(_)
        | ast::AlterTableAction::EnableTrigger(_)
        | ast::AlterTableAction::DisableTrigger(_)
        | ast::AlterTableAction::EnableRls(_)
        | ast::AlterTableAction::DisableRls(_)
        | ast::AlterTableAction::ClusterOn(_)
        | ast::AlterTableAction::SetWithoutCluster(_) => true,
        ast::AlterTableAction::AlterColumn(column) => matches!(
            column.option(),
            Some(
                ast::AlterColumnOption::SetNotNull(_)
                    | ast::AlterColumnOption::DropNotNull(_)
                    | ast::AlterColumnOption::SetDefault(_)
                    | ast::AlterColumnOption::DropDefault(_)
                    | ast::AlterColumnOption::SetType(_)
                    | ast::AlterColumnOption::SetStatistics(_)
            )
        ),
        ast::AlterTableAction::AddColumn(add) => add.if_not_exists().is_some(),
        ast::AlterTableAction::DropColumn(drop) => drop.if_exists().is_some(),
        ast::AlterTableAction::DropConstraint(drop) => drop.if_exists().is_some(),
        _ => false,
    })
}

fn in_transaction_runner(framework: Framework, text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    match framework {
        Framework::Goose => !lower.contains("-- +goose no transaction"),
        Framework::Sqlx => !lower.starts_with("-- no-transaction"),
        Framework::Drizzle
        | Framework::Diesel
        | Framework::Flyway
        | Framework::Prisma
        | Framework::GolangMigrate => true,
        _ => false,
    }
}

#[test]
fn every_difference_with_squawk_is_explained() {
    let reports = reports();
    let mut counts: BTreeMap<(String, &str, String), usize> = BTreeMap::new();
    let mut unexplained = Vec::new();
    let (mut total_squawk, mut total_ours, mut agreed) = (0usize, 0usize, 0usize);
    for (project, _, framework) in PROJECTS {
        let root = corpus().join(project);
        let run = &reports.iter().find(|(p, _)| *p == project).expect("report").1;
        let mut files = Vec::new();
        sql_files(&root, &mut files);
        let mut texts: BTreeMap<String, String> = BTreeMap::new();
        let mut squawk: BTreeSet<Finding> = BTreeSet::new();
        let mut spans_of: BTreeMap<String, Vec<(u64, u64, String)>> = BTreeMap::new();
        for file in &files {
            let rel = file
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(file).unwrap();
            let spans = statements(&text);
            let parse = SourceFile::parse(&text);
            let mut linter = squawk_linter::Linter::with_default_rules();
            for violation in linter.lint(&parse, &text) {
                let line = line_of(&text, usize::from(violation.text_range.start()));
                squawk.insert(Finding {
                    file: rel.clone(),
                    stmt: statement_at(&spans, line),
                    rule: violation.code.to_string(),
                });
            }
            spans_of.insert(rel.clone(), spans);
            texts.insert(rel, text);
        }
        let ours: BTreeSet<Finding> = run
            .findings()
            .into_iter()
            .filter(|(_, path, _)| path.ends_with(".sql"))
            .map(|(rule, path, line)| {
                let stmt = spans_of.get(&path).map_or(usize::MAX, |s| statement_at(s, line));
                Finding {
                    file: path,
                    stmt,
                    rule,
                }
            })
            .collect();
        total_squawk += squawk.len();
        total_ours += ours.len();
        let ours_has = |file: &str, stmt: usize, ids: &[&str]| {
            ours.iter()
                .any(|o| o.file == file && o.stmt == stmt && ids.contains(&o.rule.as_str()))
        };
        for s in &squawk {
            let ids: Vec<&str> = rules::from_squawk(&s.rule).iter().map(|r| r.id).collect();
            if ours_has(&s.file, s.stmt, &ids) {
                agreed += 1;
                continue;
            }
            let text = &texts[&s.file];
            let spans = &spans_of[&s.file];
            let stmt_text = spans.get(s.stmt).map_or("", |(_, _, t)| t.as_str());
            let stmt_line = spans.get(s.stmt).map_or(0, |(a, _, _)| *a);
            let lower = stmt_text.to_ascii_lowercase();
            let down = s.file.ends_with(".down.sql")
                || s.file.ends_with("/down.sql")
                || text
                    .lines()
                    .position(|l| l.to_ascii_lowercase().starts_with("-- +goose down"))
                    .is_some_and(|d| stmt_line > d as u64 + 1);
            let mut created = created_before(spans, s.stmt);
            created.extend(constraints_added_before(spans, s.stmt));
            let is_new = target(stmt_text).is_some_and(|t| created.contains(&t))
                || (s.rule == "ban-drop-constraint"
                    && dropped_constraint(stmt_text).is_some_and(|c| created.contains(&c)));
            let reason = if down {
                Some("down-migration")
            } else if is_new && (s.rule.starts_with("ban-drop") || s.rule.starts_with("renaming")) {
                Some("drop-of-new-object")
            } else if is_new && !STYLE_RULES.contains(&s.rule.as_str()) {
                Some("new-in-migration")
            } else if s.rule == "prefer-robust-stmts" && in_transaction_runner(framework, text) {
                Some("runner-transaction")
            } else if s.rule.starts_with("require-") && s.rule.ends_with("-timeout") {
                let ours_rule = if s.rule.contains("lock") {
                    "require-lock-timeout"
                } else {
                    "require-statement-timeout"
                };
                if ours.iter().any(|o| o.file == s.file && o.rule == ours_rule) {
                    Some("timeout-elsewhere")
                } else {
                    Some("no-blocking-lock")
                }
            } else if s.rule == "constraint-missing-not-valid"
                && (lower.contains("unique") || lower.contains("primary key") || lower.contains("exclude"))
            {
                Some("not-valid-impossible")
            } else if s.rule == "prefer-robust-stmts" && is_idempotent_alter(stmt_text) {
                Some("idempotent-action")
            } else if s.rule == "adding-required-field" && lower.contains("serial") {
                Some("serial-is-not-required")
            } else if s.rule == "renaming-object"
                && first_line(stmt_text)
                    .to_ascii_lowercase()
                    .starts_with("alter index")
            {
                Some("index-rename")
            } else if s.rule == "identifier-too-long"
                && first_line(stmt_text).to_ascii_lowercase().starts_with("drop")
            {
                Some("identifier-in-reference")
            } else if s.rule == "changing-column-type" {
                Some("no-rewrite")
            } else if s.rule == "adding-field-with-default" && !lower.contains("generated") {
                Some("non-volatile-default")
            } else if s.rule == "adding-not-nullable-field"
                && text.to_ascii_lowercase().contains("is not null")
            {
                Some("existing-default-not-null")
            } else {
                None
            };
            match reason {
                Some(reason) => {
                    *counts
                        .entry((s.rule.clone(), "squawk only", reason.to_owned()))
                        .or_default() += 1
                }
                None => unexplained.push(format!(
                    "squawk only: {project}/{}:{} {} — {}",
                    s.file,
                    stmt_line,
                    s.rule,
                    first_line(stmt_text)
                )),
            }
        }
        for o in &ours {
            let Some(rule) = rules::find(&o.rule) else {
                continue;
            };
            let matched = squawk.iter().any(|s| {
                s.file == o.file
                    && s.stmt == o.stmt
                    && rules::from_squawk(&s.rule).iter().any(|r| r.id == rule.id)
            });
            if matched {
                continue;
            }
            let spans = &spans_of[&o.file];
            let stmt_text = spans.get(o.stmt).map_or("", |(_, _, t)| t.as_str());
            let stmt_line = spans.get(o.stmt).map_or(0, |(a, _, _)| *a);
            let first_word = stmt_text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with("--"))
                .unwrap_or("")
                .to_ascii_lowercase();
            let reason = if rule.squawk.is_empty() {
                Some("new-rule")
            } else if first_word.starts_with("do ") || first_word.starts_with("do$") {
                Some("inside-do-block")
            } else if o.rule == "require-lock-timeout" || o.rule == "require-statement-timeout" {
                Some("timeout-elsewhere")
            } else if o.rule == "adding-field-with-default"
                && stmt_text.to_ascii_lowercase().contains("serial")
            {
                Some("serial-rewrites")
            } else if o.rule == "not-allowed-in-transaction"
                && in_transaction_runner(framework, &texts[&o.file])
            {
                Some("runner-transaction-concurrently")
            } else {
                None
            };
            match reason {
                Some(reason) => {
                    *counts
                        .entry((o.rule.clone(), "migrate-check only", reason.to_owned()))
                        .or_default() += 1
                }
                None => unexplained.push(format!(
                    "migrate-check only: {project}/{}:{} {} — {}",
                    o.file,
                    stmt_line,
                    o.rule,
                    first_line(stmt_text)
                )),
            }
        }
    }
    let mut table = String::from("| rule | only in | reason | statements |\n|---|---|---|---:|\n");
    for ((rule, side, reason), n) in &counts {
        table.push_str(&format!("| `{rule}` | {side} | {reason} | {n} |\n"));
    }
    println!(
        "squawk findings {total_squawk}, migrate-check findings {total_ours}, agreeing {agreed}\n{table}"
    );
    for (_, side, reason) in counts.keys() {
        let known = REASONS
            .iter()
            .find(|(id, _, _)| id == reason)
            .expect("reason listed in REASONS");
        assert!(
            known.1 == "either" || known.1 == *side,
            "{reason} is not a `{side}` reason"
        );
    }
    assert!(
        unexplained.is_empty(),
        "{} unexplained differences, e.g.:\n{}",
        unexplained.len(),
        unexplained
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("--"))
        .unwrap_or("")
        .chars()
        .take(100)
        .collect()
}

/// squawk's opt-in rules that migrate-check implements: on the statements each one is about, both tools
/// agree once the rule is turned on in both, except where migrate-check knows the object is new.
#[test]
fn opt_in_rules_agree_with_squawk_when_turned_on() {
    use squawk_linter::Rule as Squawk;
    let base = "create table users (id bigint primary key, email text);\n\
                create index users_email_idx on users (email);\n\
                create table documents (id bigint primary key, owner_id bigint);\n\
                create table events (id bigint primary key);\n";
    // (statement, rules both tools report on it)
    let cases: &[(&str, &[&str])] = &[
        ("drop index users_email_idx;", &["ban-drop-index"]),
        (
            "drop index concurrently if exists users_email_idx;",
            &["ban-drop-index"],
        ),
        ("drop trigger users_touch on users;", &["ban-drop-trigger"]),
        ("drop policy documents_owner on documents;", &["ban-drop-policy"]),
        ("drop rule documents_redirect on documents;", &["ban-drop-policy"]),
        ("alter table users disable trigger all;", &["ban-disable-trigger"]),
        (
            "alter table users enable replica trigger users_touch;",
            &["ban-disable-trigger"],
        ),
        (
            "alter table documents force row level security;",
            &["ban-disable-trigger"],
        ),
        (
            "alter table events replica identity full;",
            &["ban-replica-identity"],
        ),
        ("drop publication events_pub;", &["ban-replica-identity"]),
        (
            "alter publication events_pub set table events;",
            &["ban-replica-identity"],
        ),
        ("alter publication events_pub add table users;", &[]),
        ("revoke select on users from reporting;", &["ban-revoke"]),
        ("alter table users owner to app_owner;", &["ban-revoke"]),
        ("drop role reporting;", &["ban-revoke"]),
        ("reassign owned by old_app to app_owner;", &["ban-revoke"]),
        ("grant select on users to reporting;", &[]),
        (
            "alter table users alter column email set default '';",
            &["ban-set-default"],
        ),
        ("alter domain email_address set default '';", &["ban-set-default"]),
        ("alter table users alter column email drop default;", &[]),
        (
            "create index concurrently users_id_email_idx on users (id, email);",
            &[],
        ),
        ("alter table documents enable row level security;", &[]),
    ];
    let opt_in: Vec<&str> = rules::OPT_IN.to_vec();
    let include: Vec<Squawk> = opt_in
        .iter()
        .map(|id| {
            id.parse::<Squawk>()
                .unwrap_or_else(|_| panic!("squawk has no rule `{id}`"))
        })
        .collect();
    let mut failures = Vec::new();
    for (sql, expected) in cases {
        let parse = SourceFile::parse(sql);
        let mut linter = squawk_linter::Linter::with_rules(&include, &[]);
        let mut theirs: Vec<String> = linter
            .lint(&parse, sql)
            .into_iter()
            .map(|v| v.code.to_string())
            .filter(|code| opt_in.contains(&code.as_str()))
            .collect();
        theirs.sort();
        theirs.dedup();

        let workspace = tempfile::tempdir().unwrap();
        crate::support::write_tree(
            workspace.path(),
            &[
                ("migrations/0001_base.sql".to_owned(), base.to_owned()),
                ("migrations/0002_change.sql".to_owned(), (*sql).to_owned()),
            ],
        );
        let mut args = vec!["--path=migrations".to_owned(), "--framework=sql".to_owned()];
        args.extend(opt_in.iter().map(|id| format!("--rules={id}=warning")));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = crate::support::run_in(workspace.path(), &args);
        assert!(run.error.is_none(), "{sql}: {:?}", run.error);
        let mut ours: Vec<String> = run
            .rules_in("change")
            .into_iter()
            .filter(|r| opt_in.contains(&r.as_str()))
            .collect();
        ours.sort();
        ours.dedup();
        let expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        if theirs != expected || ours != expected {
            failures.push(format!(
                "{sql}: expected {expected:?}, squawk {theirs:?}, migrate-check {ours:?}"
            ));
        }
    }
    // An index created earlier in the same change is new: dropping it is not reported (squawk does).
    let workspace = tempfile::tempdir().unwrap();
    crate::support::write_tree(
        workspace.path(),
        &[(
            "migrations/0001_change.sql".to_owned(),
            "create table t (a int);\ncreate index t_a_idx on t (a);\ndrop index t_a_idx;\n".to_owned(),
        )],
    );
    let run = crate::support::run_in(
        workspace.path(),
        &[
            "--path=migrations",
            "--framework=sql",
            "--rules=ban-drop-index=warning",
        ],
    );
    assert!(!run.rules_in("change").iter().any(|r| r == "ban-drop-index"));
    assert!(failures.is_empty(), "{failures:#?}");
}
