//! History gates and the base/head split, in temporary git repositories.

use std::path::Path;

use crate::support::{self, git, run_in, write_tree};

fn tree(dir: &Path, files: &[(&str, &str)]) {
    write_tree(
        dir,
        &files
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
            .collect::<Vec<_>>(),
    );
}

/// A repository with `base` on `main` and `head` on top of it on branch `pr` (files are added or
/// replaced; `None` deletes).
fn repo(base: &[(&str, &str)], head: &[(&str, Option<&str>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    tree(dir.path(), base);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    git(dir.path(), &["checkout", "-q", "-b", "pr"]);
    for (path, text) in head {
        let target = dir.path().join(path);
        match text {
            Some(text) => {
                std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                std::fs::write(target, text).unwrap();
            }
            None => std::fs::remove_file(target).unwrap(),
        }
    }
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "--allow-empty", "-m", "head"]);
    dir
}

const USERS: &str = "create table users (id bigint primary key, email text);\n";

#[test]
fn only_new_migrations_are_linted_against_the_base_schema() {
    let dir = repo(
        &[
            ("m/0001_init.up.sql", USERS),
            (
                "m/0002_bad_old.up.sql",
                "create index old_idx on users (email);\n",
            ),
        ],
        &[(
            "m/0003_index.up.sql",
            Some("create index users_email on users (email);\n"),
        )],
    );
    let run = run_in(dir.path(), &["--path=m", "--base-ref=main"]);
    assert!(run.error.is_none(), "{:?}", run.error);
    assert_eq!(run.report["migrations"], 1);
    let files: Vec<String> = run.findings().into_iter().map(|(_, p, _)| p).collect();
    assert!(files.iter().all(|p| p == "m/0003_index.up.sql"), "{files:?}");
    assert!(
        run.rules_in("0003")
            .contains(&"require-concurrent-index-creation".to_owned())
    );
}

#[test]
fn tables_created_anywhere_in_the_change_are_new() {
    let dir = repo(
        &[("m/0001_init.up.sql", USERS)],
        &[
            (
                "m/0002_orders.up.sql",
                Some("create table orders (id bigint primary key, user_id bigint);\n"),
            ),
            (
                "m/0003_orders_index.up.sql",
                Some("create index orders_user_idx on orders (user_id);\n"),
            ),
        ],
    );
    let run = run_in(dir.path(), &["--path=m", "--base-ref=main"]);
    let rules: Vec<String> = run.findings().into_iter().map(|(r, _, _)| r).collect();
    assert!(
        !rules.contains(&"require-concurrent-index-creation".to_owned()),
        "{rules:?}"
    );
    // Without the base, each migration is checked against the ones before it: the index now locks an
    // existing table.
    let run = run_in(dir.path(), &["--path=m"]);
    assert!(
        run.rules_in("0003")
            .contains(&"require-concurrent-index-creation".to_owned())
    );
}

#[test]
fn the_base_defaults_to_origin_of_github_base_ref() {
    let upstream = repo(&[("m/0001_init.up.sql", USERS)], &[]);
    let clone = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("git")
        .args(["clone", "-q", "--branch", "pr"])
        .arg(upstream.path())
        .arg(clone.path())
        .status()
        .unwrap();
    assert!(status.success());
    tree(
        clone.path(),
        &[(
            "m/0001_init.up.sql",
            "create table users (id bigint primary key);\n",
        )],
    );
    let runner = support::fake().input("path", "m").env("GITHUB_BASE_REF", "main");
    support::copy_dir(clone.path(), &runner.workspace());
    let out = runner.run(support::bin(), &[]).unwrap();
    let annotations = out.commands_named("error");
    assert!(
        annotations
            .iter()
            .any(|a| a.properties.get("title").is_some_and(|t| t == "edited-migration")),
        "{}",
        out.stderr
    );
    assert_eq!(out.code, Some(1));
}

#[test]
fn an_unknown_base_is_bad_input_with_a_fetch_hint() {
    let dir = repo(&[("m/0001_init.up.sql", USERS)], &[]);
    let run = run_in(dir.path(), &["--path=m", "--base-ref=origin/nope"]);
    assert_eq!(run.code, 2);
    let error = run.error.unwrap();
    assert!(
        error.contains("no merge base between `HEAD` and `origin/nope`"),
        "{error}"
    );
    let runner = support::fake()
        .input("path", "m")
        .input("base-ref", "origin/nope");
    support::copy_dir(dir.path(), &runner.workspace());
    let out = runner.run(support::bin(), &[]).unwrap();
    assert!(out.stderr.contains("fetch-depth: 0"), "{}", out.stderr);
}

#[test]
fn editing_only_a_down_migration_is_not_an_edit_of_history() {
    let dir = repo(
        &[
            ("m/0001_init.up.sql", USERS),
            ("m/0001_init.down.sql", "drop table users;\n"),
        ],
        &[("m/0001_init.down.sql", Some("drop table if exists users;\n"))],
    );
    let run = run_in(dir.path(), &["--path=m", "--base-ref=main"]);
    let rules: Vec<String> = run.findings().into_iter().map(|(r, _, _)| r).collect();
    assert!(!rules.contains(&"edited-migration".to_owned()), "{rules:?}");
}

fn journal(entries: &[(&str, u64)]) -> String {
    let entries: Vec<String> = entries
        .iter()
        .enumerate()
        .map(|(i, (tag, when))| {
            format!("{{\"idx\": {i}, \"version\": \"7\", \"when\": {when}, \"tag\": \"{tag}\", \"breakpoints\": true}}")
        })
        .collect();
    format!(
        "{{\"version\": \"7\", \"dialect\": \"postgresql\", \"entries\": [{}]}}\n",
        entries.join(", ")
    )
}

#[test]
fn drizzle_silently_skips_an_entry_older_than_the_base_s_newest() {
    // Two branches generated migrations; ours was generated first (older `when`) but merged second.
    let dir = repo(
        &[
            (
                "drizzle/meta/_journal.json",
                &journal(&[("0000_init", 1_000), ("0001_theirs", 3_000)]),
            ),
            ("drizzle/0000_init.sql", USERS),
            (
                "drizzle/0001_theirs.sql",
                "alter table users add column name text;\n",
            ),
        ],
        &[
            (
                "drizzle/meta/_journal.json",
                Some(&journal(&[
                    ("0000_init", 1_000),
                    ("0001_theirs", 3_000),
                    ("0002_ours", 2_000),
                ])),
            ),
            (
                "drizzle/0002_ours.sql",
                Some("alter table users add column plan text;\n"),
            ),
        ],
    );
    let run = run_in(dir.path(), &["--path=drizzle", "--base-ref=main"]);
    let found = run.report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "version-not-above-base")
        .unwrap_or_else(|| panic!("{:?}", run.findings()))
        .clone();
    assert_eq!(found["path"], "drizzle/0002_ours.sql");
    assert!(
        found["message"].as_str().unwrap().contains("silently skip"),
        "{found}"
    );
    // The journal's own `when` order is reported too, once: it is new in this change.
    assert_eq!(
        run.findings()
            .iter()
            .filter(|(r, _, _)| r == "drizzle-journal")
            .count(),
        1
    );
}

#[test]
fn problems_already_in_the_base_are_not_reported_again() {
    let dir = repo(
        &[
            ("drizzle/meta/_journal.json", &journal(&[("0000_init", 1_000)])),
            ("drizzle/0000_init.sql", USERS),
            ("drizzle/0001_stray.sql", "select 1;\n"),
        ],
        &[
            (
                "drizzle/meta/_journal.json",
                Some(&journal(&[("0000_init", 1_000), ("0002_next", 2_000)])),
            ),
            (
                "drizzle/0002_next.sql",
                Some("alter table users add column name text;\n"),
            ),
        ],
    );
    let run = run_in(dir.path(), &["--path=drizzle", "--base-ref=main"]);
    assert!(
        !run.findings().iter().any(|(r, _, _)| r == "drizzle-journal"),
        "{:?}",
        run.findings()
    );
}

#[test]
fn a_changed_prisma_provider_is_reported() {
    let dir = repo(
        &[
            ("p/migration_lock.toml", "provider = \"postgresql\"\n"),
            ("p/20240101000000_init/migration.sql", USERS),
        ],
        &[("p/migration_lock.toml", Some("provider = \"cockroachdb\"\n"))],
    );
    let run = run_in(dir.path(), &["--path=p", "--base-ref=main"]);
    let rules: Vec<String> = run.findings().into_iter().map(|(r, _, _)| r).collect();
    assert_eq!(
        rules.iter().filter(|r| *r == "prisma-lock-provider").count(),
        2,
        "{rules:?}"
    );
}

#[test]
fn atlas_sum_is_verified_like_atlas_does() {
    // A sum written by our implementation of Atlas's algorithm verifies; editing a file breaks it.
    let dir = tempfile::tempdir().unwrap();
    tree(
        dir.path(),
        &[
            ("a/20240101000000_init.sql", USERS),
            ("a/20240102000000_ignored.sql", "-- atlas:sum ignore\nselect 1;\n"),
            (
                "a/20240103000000_email.sql",
                "alter table users add column name text;\n",
            ),
        ],
    );
    let set = migrate_check::framework::Framework::Atlas
        .load(&dir.path().join("a"))
        .unwrap();
    let sum = migrate_check::history::sums::atlas(&set).unwrap();
    assert_eq!(sum.entries.len(), 2, "the ignored file contributes its name only");
    std::fs::write(dir.path().join("a/atlas.sum"), sum.render()).unwrap();
    let run = run_in(dir.path(), &["--path=a"]);
    assert!(
        !run.findings().iter().any(|(r, _, _)| r == "atlas-sum"),
        "{:?}",
        run.findings()
    );
    std::fs::write(
        dir.path().join("a/20240101000000_init.sql"),
        "create table users (id int);\n",
    )
    .unwrap();
    let run = run_in(dir.path(), &["--path=a"]);
    let found: Vec<_> = run
        .findings()
        .into_iter()
        .filter(|(r, _, _)| r == "atlas-sum")
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].2, 2, "points at the first changed line of atlas.sum");
}

#[test]
fn a_shallow_checkout_fetches_the_base_branch() {
    // What actions/checkout leaves by default: one commit of the pull request's branch.
    let upstream = repo(
        &[("m/0001_init.up.sql", USERS)],
        &[(
            "m/0002_index.up.sql",
            Some("create index users_email on users (email);\n"),
        )],
    );
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", upstream.path().display());
    let status = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "1", "--branch", "pr", &url])
        .arg(clone.path())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        git(clone.path(), &["rev-parse", "--is-shallow-repository"]).trim(),
        "true"
    );
    let runner = support::fake().input("path", "m").env("GITHUB_BASE_REF", "main");
    support::copy_dir(clone.path(), &runner.workspace());
    let out = runner.run(support::bin(), &[]).unwrap();
    assert_eq!(
        out.outputs["migrations"], "1",
        "only the new migration: {}",
        out.stderr
    );
    assert_eq!(out.code, Some(1));
    // An explicit `base-ref` is not fetched: a missing one is an error with a hint.
    let runner = support::fake()
        .input("path", "m")
        .input("base-ref", "origin/main");
    support::copy_dir(clone.path(), &runner.workspace());
    let out = runner.run(support::bin(), &[]).unwrap();
    assert_eq!(out.code, Some(2), "{}", out.stderr);
}

/// Pins a wrong `deleted-migration` finding beside the right `drizzle-journal` one when a bad merge
/// drops a journal entry whose file is still there.
#[test]
fn a_journal_entry_lost_in_a_merge_is_not_a_deleted_migration() {
    let dir = repo(
        &[
            (
                "drizzle/meta/_journal.json",
                &journal(&[("0000_init", 1_000), ("0001_name", 2_000)]),
            ),
            ("drizzle/0000_init.sql", USERS),
            (
                "drizzle/0001_name.sql",
                "alter table users add column name text;\n",
            ),
        ],
        &[
            (
                "drizzle/meta/_journal.json",
                Some(&journal(&[("0000_init", 1_000), ("0002_plan", 3_000)])),
            ),
            (
                "drizzle/0002_plan.sql",
                Some("alter table users add column plan text;\n"),
            ),
        ],
    );
    let run = run_in(dir.path(), &["--path=drizzle", "--base-ref=main"]);
    let about_name: Vec<String> = run.rules_in("0001_name");
    assert_eq!(
        about_name,
        vec!["drizzle-journal".to_owned()],
        "{:?}",
        run.findings()
    );
    // A file really deleted is still reported.
    let dir = repo(
        &[
            (
                "drizzle/meta/_journal.json",
                &journal(&[("0000_init", 1_000), ("0001_name", 2_000)]),
            ),
            ("drizzle/0000_init.sql", USERS),
            (
                "drizzle/0001_name.sql",
                "alter table users add column name text;\n",
            ),
        ],
        &[
            (
                "drizzle/meta/_journal.json",
                Some(&journal(&[("0000_init", 1_000)])),
            ),
            ("drizzle/0001_name.sql", None),
        ],
    );
    let run = run_in(dir.path(), &["--path=drizzle", "--base-ref=main"]);
    assert_eq!(
        run.rules_in("0001_name"),
        vec!["deleted-migration".to_owned()],
        "{:?}",
        run.findings()
    );
}

/// Pins "leave `base-ref` empty" on a pull request whose checkout has no history, where the base
/// came from `GITHUB_BASE_REF` and the user never set `base-ref`.
#[test]
fn a_pull_request_base_that_cannot_be_read_says_where_it_came_from() {
    let runner = support::fake().input("path", "m").env("GITHUB_BASE_REF", "main");
    tree(&runner.workspace(), &[("m/0001_init.up.sql", USERS)]);
    let out = runner.run(support::bin(), &[]).unwrap();
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(!out.stderr.contains("leave `base-ref` empty"), "{}", out.stderr);
    assert!(
        out.stderr.contains("`GITHUB_BASE_REF` is `main`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("`base-ref` is not set"), "{}", out.stderr);
    assert!(out.stderr.contains("fetch-depth: 0"), "{}", out.stderr);
    // A `base-ref` the user gave keeps its own advice.
    let runner = support::fake()
        .input("path", "m")
        .input("base-ref", "origin/main");
    tree(&runner.workspace(), &[("m/0001_init.up.sql", USERS)]);
    let out = runner.run(support::bin(), &[]).unwrap();
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(!out.stderr.contains("GITHUB_BASE_REF"), "{}", out.stderr);
}
