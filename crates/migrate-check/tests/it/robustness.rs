//! Inputs that broke the binary: statements nested too deeply to parse, files that are not UTF-8,
//! folders outside the workspace. Each is bad input (exit 2, file and line named) or a correct
//! result, never an abort.

use crate::support::{bin, fake, run_in, write_tree};

fn nested(n: usize) -> String {
    format!("select {}1{};\n", "(".repeat(n), ")".repeat(n))
}

/// Pins the abort (SIGABRT, exit 134: a parsing thread's stack overflowed) on ~1,000 nested
/// parentheses.
#[test]
fn deeply_nested_statements_are_read_or_refused_never_a_crash() {
    let cases: Vec<(&str, String, Option<u8>)> = vec![
        ("1,000 parentheses", nested(1_000), Some(0)),
        ("100,000 parentheses", nested(100_000), None),
        (
            "100,000 `not`s",
            format!("select {}true;\n", "not ".repeat(100_000)),
            None,
        ),
        (
            "100,000 `+`s",
            format!("select 1{};\n", " + 1".repeat(100_000)),
            None,
        ),
        (
            "100,000 parentheses in a SQL function's body",
            format!(
                "create function f() returns int language sql as $$ {}$$;\n",
                nested(100_000)
            ),
            None,
        ),
    ];
    for (name, statement, code) in cases {
        let runner = fake().input("path", "db/migrations").input("framework", "sql");
        write_tree(
            &runner.workspace(),
            &[(
                "db/migrations/0001_deep.sql".to_owned(),
                format!("create table t (id bigint primary key);\n{statement}"),
            )],
        );
        let out = runner.run(bin(), &[]).unwrap();
        match code {
            Some(code) => assert_eq!(out.code, Some(i32::from(code)), "{name}: {}", out.stderr),
            None => {
                assert_eq!(out.code, Some(2), "{name}: {}", out.stderr);
                assert!(
                    out.stderr.contains("0001_deep.sql` line 2, column")
                        && out.stderr.contains("nests deeper than migrate-check can parse"),
                    "{name}: {}",
                    out.stderr
                );
                assert!(
                    out.stderr.contains("hint: split the statement"),
                    "{name}: {}",
                    out.stderr
                );
            }
        }
    }
}

/// Pins exit 3 ("cannot access …: stream did not contain valid UTF-8") for a migration that is not
/// UTF-8: it is bad input, named by file and line.
#[test]
fn a_migration_that_is_not_utf8_is_bad_input_naming_the_line() {
    let latin1 = b"create table t (id bigint primary key);\n-- caf\xe9\nselect 1;\n".to_vec();
    for (framework, file, text) in [
        ("sql", "db/migrations/0001_a.sql", latin1.clone()),
        (
            "goose",
            "db/migrations/00001_a.sql",
            [b"-- +goose Up\n".as_slice(), &latin1].concat(),
        ),
    ] {
        let runner = fake()
            .input("path", "db/migrations")
            .input("framework", framework);
        let path = runner.workspace().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        let out = runner.run(bin(), &[]).unwrap();
        assert_eq!(out.code, Some(2), "{framework}: {}", out.stderr);
        let line = if framework == "goose" { 3 } else { 2 };
        assert!(
            out.stderr.contains(&format!("` line {line}: is not valid UTF-8")),
            "{framework}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains("hint: save the migration as UTF-8"),
            "{}",
            out.stderr
        );
    }
}

/// Pins `//home/…` in paths when the folder is outside the workspace (an absolute `path` with
/// `GITHUB_WORKSPACE` unset).
#[test]
fn a_folder_outside_the_workspace_keeps_one_leading_slash() {
    let workspace = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    write_tree(
        elsewhere.path(),
        &[(
            "m/0001_a.sql".to_owned(),
            "create table t (id int primary key);\ncreate index i on t (id);\n".to_owned(),
        )],
    );
    let folder = elsewhere.path().join("m");
    let run = run_in(
        workspace.path(),
        &[&format!("--path={}", folder.display()), "--framework=sql"],
    );
    let paths: Vec<String> = run.findings().into_iter().map(|(_, p, _)| p).collect();
    assert!(!paths.is_empty(), "{run:?}");
    for path in paths {
        assert!(path.starts_with('/') && !path.starts_with("//"), "{path}");
        assert!(path.ends_with("/m/0001_a.sql"), "{path}");
    }
}
