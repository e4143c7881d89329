//! Every rule has a fixture folder, a docs section and a registry entry, and they agree: each `bad`
//! case triggers its rule, each `good` case does not.

use std::path::Path;

use migrate_check::rules::{Check, RULES};

use crate::support::{self, fixtures, run_in, write_tree};

/// Lays out a fixture's base and change as a migrations folder of the fixture's framework.
fn layout(framework: &str, base: Option<&str>, change: &str) -> Vec<(String, String)> {
    let names: (&str, &str) = match framework {
        "sql" => ("0001_base.sql", "0002_change.sql"),
        "sqlx" | "goose" => ("20240101000000_base.sql", "20240102000000_change.sql"),
        "golang-migrate" => ("0001_base.up.sql", "0002_change.up.sql"),
        "flyway" => ("V1__base.sql", "V2__change.sql"),
        other => panic!("fixture framework `{other}` is not supported by the fixture runner"),
    };
    let mut out = Vec::new();
    if let Some(base) = base {
        out.push((format!("migrations/{}", names.0), base.to_owned()));
    }
    out.push((format!("migrations/{}", names.1), change.to_owned()));
    out
}

fn read(dir: &Path, name: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(name)).ok()
}

fn lint_case(dir: &Path, which: &str) -> Vec<String> {
    let framework = read(dir, "framework").map_or_else(|| "sql".to_owned(), |f| f.trim().to_owned());
    let base = read(dir, "base.sql");
    let change = read(dir, which).unwrap_or_else(|| panic!("{}: no {which}", dir.display()));
    let workspace = tempfile::tempdir().unwrap();
    write_tree(workspace.path(), &layout(&framework, base.as_deref(), &change));
    let mut args = vec!["--path=migrations".to_owned(), format!("--framework={framework}")];
    // An opt-in rule's fixture turns its rule on, as a user would.
    let id = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    if let Some(rule) = migrate_check::rules::find(id).filter(|r| r.opt_in()) {
        args.push(format!("--rules={}={}", rule.id, rule.level));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run_in(workspace.path(), &args);
    assert!(run.error.is_none(), "{}: {:?}", dir.display(), run.error);
    run.rules_in("change")
}

#[test]
fn registry_fixtures_and_docs_agree() {
    let mut folders: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    folders.sort();
    let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    assert_eq!(folders, ids, "one fixture folder per rule, named after it");

    let docs_path = support::crate_dir().join("../../docs/tools/migrate-check.md");
    let docs = std::fs::read_to_string(&docs_path).expect("docs/tools/migrate-check.md exists");
    let generated = migrate_check::report::rules_markdown(&|id, file| {
        std::fs::read_to_string(fixtures().join(id).join(file)).ok()
    });
    let (begin, end) = ("<!-- rules:begin -->\n", "<!-- rules:end -->");
    let start = docs.find(begin).expect("rules:begin marker") + begin.len();
    let stop = docs.find(end).expect("rules:end marker");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let updated = format!("{}{generated}{}", &docs[..start], &docs[stop..]);
        std::fs::write(&docs_path, updated).unwrap();
    } else {
        let current = &docs[start..stop];
        let first_difference = current
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || "(one is a prefix of the other)".to_owned(),
                |i| format!("line {}: {:?}", i + 1, generated.lines().nth(i)),
            );
        assert!(
            current == generated,
            "docs/tools/migrate-check.md is out of date with the rule registry and fixtures ({first_difference}): run `UPDATE_DOCS=1 cargo test -p migrate-check --test it rules`"
        );
    }
    for rule in RULES {
        assert!(
            docs.contains(&format!("#### {}\n", rule.id)),
            "docs anchor for {}",
            rule.id
        );
    }
}

#[test]
fn every_statement_and_engine_fixture_behaves() {
    let mut failures = Vec::new();
    for rule in RULES {
        let dir = fixtures().join(rule.id);
        if !dir.join("bad.sql").exists() || dir.join("trace").exists() {
            continue;
        }
        assert!(
            matches!(rule.check, Check::Statement(_) | Check::Engine | Check::History),
            "{}: sql fixture for a trace rule",
            rule.id
        );
        let bad = lint_case(&dir, "bad.sql");
        if !bad.iter().any(|r| r == rule.id) {
            failures.push(format!("{}: bad.sql does not trigger it (got {bad:?})", rule.id));
        }
        let good = lint_case(&dir, "good.sql");
        if good.iter().any(|r| r == rule.id) {
            failures.push(format!("{}: good.sql triggers it (got {good:?})", rule.id));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_history_fixture_behaves() {
    let mut count = 0;
    for rule in RULES {
        let dir = fixtures().join(rule.id);
        let head = dir.join("head");
        if !head.exists() {
            continue;
        }
        count += 1;
        let base = dir.join("base");
        let repo = support::repo_with_history(&base, &head, "db/migrations");
        let mut args = vec!["--path=db/migrations"];
        if base.exists() {
            args.push("--base-ref=main");
        }
        let run = run_in(repo.path(), &args);
        assert!(run.error.is_none(), "{}: {:?}", rule.id, run.error);
        let rules: Vec<String> = run.findings().into_iter().map(|(r, _, _)| r).collect();
        assert!(
            rules.iter().any(|r| r == rule.id),
            "{}: head/ does not trigger it (got {rules:?})",
            rule.id
        );
        // The same tree without the change is clean of this rule.
        if base.exists() {
            let same = support::repo_with_history(&base, &base, "db/migrations");
            let run = run_in(same.path(), &["--path=db/migrations", "--base-ref=main"]);
            let rules: Vec<String> = run.findings().into_iter().map(|(r, _, _)| r).collect();
            assert!(
                !rules.iter().any(|r| r == rule.id),
                "{}: an unchanged base triggers it ({rules:?})",
                rule.id
            );
        }
    }
    assert!(count >= 8, "history fixtures found: {count}");
}

#[test]
fn opt_in_rules_stay_off_unless_turned_on() {
    let opt_in: Vec<_> = RULES.iter().filter(|r| r.opt_in()).collect();
    assert!(!opt_in.is_empty());
    for rule in opt_in {
        let dir = fixtures().join(rule.id);
        let base = read(&dir, "base.sql");
        let bad = read(&dir, "bad.sql").unwrap();
        let workspace = tempfile::tempdir().unwrap();
        write_tree(workspace.path(), &layout("sql", base.as_deref(), &bad));
        let run = run_in(workspace.path(), &["--path=migrations", "--framework=sql"]);
        assert!(run.error.is_none(), "{}: {:?}", rule.id, run.error);
        let found = run.rules_in("change");
        assert!(
            !found.iter().any(|r| r == rule.id),
            "{}: on by default ({found:?})",
            rule.id
        );
    }
}
