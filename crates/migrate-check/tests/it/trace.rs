//! The trace on a real PostgreSQL, started by this test binary on a free loopback port in a temp dir.
//!
//! The server's lifetime is tied to the test process: it runs under a small shell that waits for its
//! stdin (a pipe this process holds) to close, then stops the server and removes the data folder, so
//! nothing is left running when the tests end, however they end.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use migrate_check::rules::RULES;

use crate::support::{self, fixtures, run_in, write_tree};

/// A running server.
pub(crate) struct Server {
    pub(crate) port: u16,
    _child: Mutex<Child>,
    _stdin: Mutex<ChildStdin>,
}

fn pg_bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let e = e.ok()?;
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found under /usr/lib/postgresql/<version>/bin: run `scripts/setup-migrate-check` (installs Debian's `postgresql` package)"
        ),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The shared server (started on first use).
pub(crate) fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(start)
}

fn start() -> Server {
    let bin = pg_bin_dir();
    let dir = tempfile::Builder::new()
        .prefix("mc-pg-")
        .tempdir()
        .unwrap()
        .keep();
    let data = dir.join("data");
    let port = free_port();
    let root = is_root();
    if root {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "chown the PostgreSQL temp dir to `postgres` (run `scripts/setup-migrate-check`)"
        );
    }
    let q = |p: &Path| format!("'{}'", p.display());
    let script = format!(
        "set -e; {initdb} -D {data} -U postgres --auth=trust -E UTF8 --no-sync >{log}.init 2>&1; \
         {pg_ctl} -D {data} -l {log} -w -o \"-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off\" start >/dev/null; \
         echo ready; cat >/dev/null; {pg_ctl} -D {data} -m fast -w stop >/dev/null 2>&1; rm -rf {dir}",
        initdb = q(&bin.join("initdb")),
        pg_ctl = q(&bin.join("pg_ctl")),
        data = q(&data),
        log = q(&dir.join("server.log")),
        dir = q(&dir),
    );
    let mut command = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", "sh", "-c", &script]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", &script]);
        c
    };
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start PostgreSQL ({e}): run `scripts/setup-migrate-check`"));
    let stdin = child.stdin.take().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(
        line.trim(),
        "ready",
        "PostgreSQL did not start (see {}): run `scripts/setup-migrate-check`",
        dir.join("server.log").display()
    );
    Server {
        port,
        _child: Mutex::new(child),
        _stdin: Mutex::new(stdin),
    }
}

impl Server {
    /// A URL with a password (trust auth ignores it; the tests check it never leaks).
    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres:{SECRET}@127.0.0.1:{}/postgres", self.port)
    }

    /// Whether a database exists.
    pub(crate) fn has_database(&self, name: &str) -> bool {
        let mut client = postgres::Client::connect(&self.url(), postgres::NoTls).unwrap();
        client
            .query_one("SELECT count(*) FROM pg_database WHERE datname = $1", &[&name])
            .unwrap()
            .get::<_, i64>(0)
            > 0
    }
}

const SECRET: &str = "pw-never-printed-7f3a";

/// Runs a plain-SQL migration (`change`) after a base (`base`) against the server.
fn trace_sql(base: &str, change: &str, seed: u64) -> support::Run {
    let workspace = tempfile::tempdir().unwrap();
    write_tree(
        workspace.path(),
        &[
            ("migrations/0001_base.sql".to_owned(), base.to_owned()),
            ("migrations/0002_change.sql".to_owned(), change.to_owned()),
        ],
    );
    let url = format!("--database-url={}", server().url());
    let seed = format!("--seed-rows={seed}");
    run_in(workspace.path(), &["--path=migrations", &url, &seed])
}

fn trace_of(run: &support::Run) -> &serde_json::Value {
    &run.report["trace"]
}

/// Traced statements of the change file.
fn changed(run: &support::Run) -> Vec<serde_json::Value> {
    trace_of(run)["statements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["at"].as_str().unwrap().contains("0002_change.sql"))
        .cloned()
        .collect()
}

#[test]
fn every_trace_fixture_behaves() {
    let mut failures = Vec::new();
    for rule in RULES {
        let dir = fixtures().join(rule.id);
        if !dir.join("trace").exists() {
            continue;
        }
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        let bad = trace_sql(&read("base.sql"), &read("bad.sql"), 20);
        assert!(bad.error.is_none(), "{}: {:?}", rule.id, bad.error);
        let database = trace_of(&bad)["database"].as_str().unwrap();
        assert!(database.starts_with("migrate_check_"), "{database}");
        assert!(
            !server().has_database(database),
            "{}: throwaway database `{database}` left behind",
            rule.id
        );
        if !bad.rules_in("change").iter().any(|r| r == rule.id) {
            failures.push(format!(
                "{}: bad.sql does not trigger it: {:?}",
                rule.id,
                bad.findings()
            ));
        }
        let good = trace_sql(&read("base.sql"), &read("good.sql"), 20);
        if good.rules_in("change").iter().any(|r| r == rule.id) {
            failures.push(format!(
                "{}: good.sql triggers it: {:?}",
                rule.id,
                good.findings()
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn a_rewrite_is_seen_through_relfilenode() {
    let run = trace_sql(
        "create table accounts (id bigint primary key, balance integer not null);",
        "alter table accounts alter column balance type bigint;\nalter table accounts add column note text;\n",
        1000,
    );
    assert!(run.error.is_none(), "{:?}", run.error);
    let statements = changed(&run);
    assert_eq!(statements.len(), 2, "{statements:#?}");
    assert_eq!(statements[0]["rewrites"], serde_json::json!(["accounts"]));
    assert_eq!(
        statements[1]["rewrites"],
        serde_json::json!([]),
        "adding a nullable column does not rewrite"
    );
    assert!(
        run.findings()
            .iter()
            .any(|(r, p, l)| r == "trace-table-rewrite" && p.ends_with("0002_change.sql") && *l == 1)
    );
    assert_eq!(trace_of(&run)["seeded_tables"], 1);
    assert!(changed(&run)[0]["duration_ms"].is_u64());
}

#[test]
fn a_non_concurrent_index_on_a_seeded_table_blocks_writes() {
    let run = trace_sql(
        "create table events (id bigint primary key, kind text, at timestamptz);",
        "create index events_kind_idx on events (kind);\n",
        5000,
    );
    assert!(run.error.is_none(), "{:?}", run.error);
    let statement = &changed(&run)[0];
    assert_eq!(
        statement["locks"],
        serde_json::json!([{"table": "events", "mode": "SHARE"}])
    );
    assert!(run.findings().iter().any(|(r, _, _)| r == "trace-blocking-lock"));
    // The concurrent form runs outside a transaction and blocks nothing.
    let run = trace_sql(
        "create table events (id bigint primary key, kind text, at timestamptz);",
        "create index concurrently events_kind_idx on events (kind);\n",
        5000,
    );
    assert!(
        !run.findings().iter().any(|(r, _, _)| r.starts_with("trace-")),
        "{:?}",
        run.findings()
    );
    assert_eq!(changed(&run)[0]["observed"], false);
}

#[test]
fn a_failing_migration_names_file_and_statement_and_leaves_nothing_behind() {
    let run = trace_sql(
        "create table users (id bigint primary key, email text);",
        "alter table users add column nickname text;\nalter table users add column plan text not null;\n",
        10,
    );
    assert!(run.error.is_none(), "{:?}", run.error);
    let failure = run.report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "migration-fails")
        .expect("a migration-fails finding");
    assert_eq!(failure["path"], "migrations/0002_change.sql");
    assert_eq!(failure["region"]["start_line"], 2);
    let message = failure["message"].as_str().unwrap();
    assert!(
        message.contains("alter table users add column plan text not null"),
        "{message}"
    );
    assert!(message.contains("23502"), "names the SQLSTATE: {message}");
    let database = trace_of(&run)["database"].as_str().unwrap();
    assert!(
        !server().has_database(database),
        "throwaway database `{database}` dropped"
    );
}

#[test]
fn a_down_migration_that_does_not_restore_the_base_is_reported() {
    let workspace = tempfile::tempdir().unwrap();
    write_tree(
        workspace.path(),
        &[
            (
                "migrations/20240101000000_base.sql".to_owned(),
                "-- +goose Up\ncreate table users (id bigint primary key);\n".to_owned(),
            ),
            (
                "migrations/20240102000000_change.sql".to_owned(),
                "-- +goose Up\nalter table users add column email text;\ncreate index users_email_idx on users (email);\n\n-- +goose Down\nalter table users drop column email;\nalter table users add column email varchar(10);\n".to_owned(),
            ),
        ],
    );
    let url = format!("--database-url={}", server().url());
    let run = run_in(workspace.path(), &["--path=migrations", &url]);
    assert!(run.error.is_none(), "{:?}", run.error);
    let down: Vec<_> = run.report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "down-does-not-revert")
        .collect();
    assert_eq!(down.len(), 1, "{down:#?}");
    let message = down[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("on PostgreSQL"),
        "the trace's verdict replaces the static one: {message}"
    );
    assert!(
        message.contains("public.users.email character varying(10)"),
        "{message}"
    );
    assert_eq!(run.report["trace"]["downs_checked"], true);
}

#[test]
fn the_password_never_reaches_logs_outputs_or_reports() {
    let fake = support::fake();
    let workspace = fake.workspace();
    write_tree(
        &workspace,
        &[(
            "migrations/0001_a.sql".to_owned(),
            "create table t (a int);\n".to_owned(),
        )],
    );
    // A port nothing listens on: the connection fails and the error is printed.
    let url = format!("postgres://postgres:{SECRET}@127.0.0.1:{}/postgres", free_port());
    // The runner (and its workspace) stays alive until the report has been read.
    let fake = fake
        .input("path", "migrations")
        .input("database-url", &url)
        .input("json-output", "report.json");
    let out = fake.run(support::bin(), &[]).unwrap();
    assert_eq!(
        out.code,
        Some(3),
        "a database that cannot be reached is a tool failure: {}",
        out.stderr
    );
    // `::add-mask::` is how the runner learns the value to hide; every other line must not show it.
    let log: String = format!("{}{}", out.stdout, out.stderr)
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    // A run that could not reach the database writes no report (reports with the password in the
    // database URL are checked against a real PostgreSQL in the percent-encoding test).
    assert!(
        !fake.workspace().join("report.json").exists(),
        "no report from a run that failed before checking anything"
    );
    let everything = format!("{log}{:?}{}", out.outputs, out.summary);
    assert!(!everything.contains(SECRET), "{everything}");
    assert!(
        out.stderr.contains("cannot connect to PostgreSQL"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("***@127.0.0.1"),
        "the URL is shown redacted: {}",
        out.stderr
    );
}

#[test]
fn the_change_is_traced_on_top_of_the_base_from_git() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    let head = dir.path().join("head");
    write_tree(
        &base,
        &[(
            "0001_init.up.sql".to_owned(),
            "create table users (id bigint primary key, email text);\n".to_owned(),
        )],
    );
    write_tree(
        &head,
        &[
            (
                "0001_init.up.sql".to_owned(),
                "create table users (id bigint primary key, email text);\n".to_owned(),
            ),
            (
                "0002_index.up.sql".to_owned(),
                "create index users_email on users (email);\n".to_owned(),
            ),
        ],
    );
    let repo = support::repo_with_history(&base, &head, "db/migrations");
    let url = format!("--database-url={}", server().url());
    let run = run_in(
        repo.path(),
        &["--path=db/migrations", "--base-ref=main", &url, "--seed-rows=100"],
    );
    assert!(run.error.is_none(), "{:?}", run.error);
    let statements = trace_of(&run)["statements"].as_array().unwrap().clone();
    assert_eq!(statements.len(), 1, "only the change is traced: {statements:#?}");
    assert_eq!(statements[0]["at"], "db/migrations/0002_index.up.sql:1");
    assert_eq!(
        statements[0]["locks"],
        serde_json::json!([{"table": "users", "mode": "SHARE"}])
    );
    assert_eq!(trace_of(&run)["seeded_tables"], 1, "the base's table got rows");
}

/// The `changes` each statement of the change file recorded, in order.
fn changes(run: &support::Run) -> Vec<serde_json::Value> {
    changed(run).iter().map(|s| s["changes"].clone()).collect()
}

/// One recorded change, as the JSON report spells it.
fn change(
    table: &str,
    object: &str,
    name: &str,
    kind: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> serde_json::Value {
    serde_json::json!({
        "table": table,
        "object": object,
        "name": name,
        "change": kind,
        "before": before,
        "after": after,
    })
}

#[test]
fn column_and_constraint_changes_are_recorded_per_statement() {
    let run = trace_sql(
        "create table accounts (id bigint primary key, balance integer, email text, legacy text);\n\
         create index accounts_balance_idx on accounts (balance);",
        "alter table accounts add column status text not null default 'active';\n\
         alter table accounts alter column email set not null;\n\
         alter table accounts add constraint balance_positive check (balance >= 0) not valid;\n\
         alter table accounts validate constraint balance_positive;\n\
         alter table accounts alter column balance type bigint;\n\
         alter table accounts drop column legacy;\n\
         alter table accounts alter column status drop default;\n\
         update accounts set email = lower(email);\n",
        100,
    );
    assert!(run.error.is_none(), "{:?}", run.error);
    assert_eq!(trace_of(&run)["seeded_tables"], 1);
    // The type change rebuilds `accounts_balance_idx` and re-creates the check under new oids with the
    // same names and definitions: only the column's type is a change.
    let column = |name, kind, before, after| change("accounts", "column", name, kind, before, after);
    let constraint =
        |kind, before, after| change("accounts", "constraint", "balance_positive", kind, before, after);
    assert_eq!(
        changes(&run),
        vec![
            serde_json::json!([column(
                "status",
                "added",
                None,
                Some("text not null default 'active'::text")
            )]),
            serde_json::json!([column("email", "nullability", Some("nullable"), Some("not null"))]),
            serde_json::json!([constraint(
                "added",
                None,
                Some("CHECK ((balance >= 0)) NOT VALID")
            )]),
            serde_json::json!([constraint("validated", Some("not valid"), Some("valid"))]),
            serde_json::json!([column("balance", "type", Some("integer"), Some("bigint"))]),
            serde_json::json!([column("legacy", "dropped", Some("text"), None)]),
            serde_json::json!([column("status", "default", Some("'active'::text"), None)]),
            serde_json::json!([]),
        ]
    );
}

#[test]
fn a_foreign_key_added_not_valid_then_validated_is_recorded_on_its_table() {
    let run = trace_sql(
        "create table users (id bigint primary key);\ncreate table orders (id bigint primary key, user_id bigint);",
        "alter table orders add constraint orders_user_fk foreign key (user_id) references users (id) not valid;\n\
         alter table orders validate constraint orders_user_fk;\n\
         alter table orders rename column user_id to customer_id;\n",
        50,
    );
    assert!(run.error.is_none(), "{:?}", run.error);
    let fk = |kind, before, after| change("orders", "constraint", "orders_user_fk", kind, before, after);
    assert_eq!(
        changes(&run),
        vec![
            serde_json::json!([fk(
                "added",
                None,
                Some("FOREIGN KEY (user_id) REFERENCES users(id) NOT VALID")
            )]),
            serde_json::json!([fk("validated", Some("not valid"), Some("valid"))]),
            serde_json::json!([
                change(
                    "orders",
                    "column",
                    "customer_id",
                    "renamed",
                    Some("user_id"),
                    Some("customer_id")
                ),
                fk(
                    "definition",
                    Some("FOREIGN KEY (user_id) REFERENCES users(id)"),
                    Some("FOREIGN KEY (customer_id) REFERENCES users(id)")
                ),
            ]),
        ]
    );
    // Both tables were locked by the foreign key, only `orders` changed.
    assert_eq!(
        changed(&run)[0]["locks"],
        serde_json::json!([
            {"table": "users", "mode": "SHARE ROW EXCLUSIVE"},
            {"table": "orders", "mode": "SHARE ROW EXCLUSIVE"},
        ])
    );
}

#[test]
fn an_index_built_outside_a_transaction_is_still_recorded() {
    // `CONCURRENTLY` runs bare, so its locks are gone when the statement ends: the trace reads every
    // existing table's catalog again instead.
    let run = trace_sql(
        "create table events (id bigint primary key, kind text);\ncreate table other (id bigint);",
        "create index concurrently events_kind_idx on events (kind);\n",
        100,
    );
    assert!(run.error.is_none(), "{:?}", run.error);
    assert_eq!(changed(&run)[0]["observed"], false);
    assert_eq!(
        changes(&run),
        vec![serde_json::json!([change(
            "events",
            "index",
            "events_kind_idx",
            "added",
            None,
            Some("CREATE INDEX events_kind_idx ON public.events USING btree (kind)")
        )])]
    );
}

#[test]
fn only_tables_that_existed_before_the_change_are_followed() {
    let run = trace_sql(
        "create table users (id bigint primary key, nickname text);\ncreate table audit (id bigint);",
        "create table plans (id bigint primary key);\n\
         alter table plans add column name text not null;\n\
         alter table users add column plan_id bigint references plans (id);\n\
         drop table audit;\n\
         alter table users rename to members;\n",
        10,
    );
    assert!(run.error.is_none(), "{:?}", run.error);
    assert_eq!(
        changes(&run),
        vec![
            serde_json::json!([]),
            serde_json::json!([]),
            serde_json::json!([
                change("users", "column", "plan_id", "added", None, Some("bigint")),
                change(
                    "users",
                    "constraint",
                    "users_plan_id_fkey",
                    "added",
                    None,
                    Some("FOREIGN KEY (plan_id) REFERENCES plans(id)")
                ),
            ]),
            serde_json::json!([change("audit", "table", "audit", "dropped", None, None)]),
            serde_json::json!([change(
                "members",
                "table",
                "members",
                "renamed",
                Some("users"),
                Some("members")
            )]),
        ]
    );
    assert_eq!(
        changed(&run)[4]["locks"],
        serde_json::json!([{"table": "users", "mode": "ACCESS EXCLUSIVE"}]),
        "the lock is on the table the statement named"
    );
}

#[test]
fn statements_in_the_files_own_transaction_run_in_it_and_its_commit_is_unobserved() {
    // The file opens and commits its own transaction: the statements inside run in it (not each in one
    // the trace opens and commits), so their locks are seen while it is open; the COMMIT releases them
    // before they can be read, and says so instead of reporting "no locks".
    let run = trace_sql(
        "create table accounts (id bigint primary key);",
        "begin;\nalter table accounts add column note text;\ncreate index accounts_note on accounts (note);\ncommit;\n",
        0,
    );
    assert!(run.error.is_none(), "{:?}", run.error);
    let traced = changed(&run);
    let summary: Vec<(String, bool, serde_json::Value)> = traced
        .iter()
        .map(|s| {
            (
                s["sql"].as_str().unwrap().to_owned(),
                s["observed"].as_bool().unwrap(),
                s["locks"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("begin;".to_owned(), true, serde_json::json!([])),
            (
                "alter table accounts add column note text;".to_owned(),
                true,
                serde_json::json!([{"table": "accounts", "mode": "ACCESS EXCLUSIVE"}])
            ),
            // ACCESS EXCLUSIVE is already held in this transaction: nothing new to report
            (
                "create index accounts_note on accounts (note);".to_owned(),
                true,
                serde_json::json!([])
            ),
            ("commit;".to_owned(), false, serde_json::json!([])),
        ]
    );
    assert_eq!(
        traced[1]["changes"],
        serde_json::json!([change("accounts", "column", "note", "added", None, Some("text"))])
    );
    assert_eq!(
        traced[2]["changes"],
        serde_json::json!([change(
            "accounts",
            "index",
            "accounts_note",
            "added",
            None,
            Some("CREATE INDEX accounts_note ON public.accounts USING btree (note)")
        )])
    );
}

/// Only the percent-encoded form of a `database-url` password was masked, so the decoded one (what
/// PostgreSQL echoes back, here in a failing statement's error) reached the log and the summary, and
/// `json-output` and `sarif-output` were not redacted at all.
#[test]
fn a_percent_encoded_password_is_hidden_as_postgresql_echoes_it_in_every_report() {
    const DECODED: &str = "S3cr@t/pw-x9";
    let fake = support::fake();
    let workspace = fake.workspace();
    write_tree(
        &workspace,
        &[
            (
                "migrations/0001_a.sql".to_owned(),
                "create table t (a int);\n".to_owned(),
            ),
            (
                "migrations/0002_b.sql".to_owned(),
                format!("select '{DECODED}'::int;\n"),
            ),
        ],
    );
    let url = format!(
        "postgres://postgres:S3cr%40t%2Fpw-x9@127.0.0.1:{}/postgres",
        server().port
    );
    // kept until the end: dropping the runner removes the workspace with the reports
    let fake = fake
        .input("path", "migrations")
        .input("database-url", &url)
        .input("json-output", "report.json")
        .input("sarif-output", "report.sarif")
        .input("fail-level", "never");
    let out = fake.run(support::bin(), &[]).unwrap();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let read = |name: &str| {
        std::fs::read_to_string(workspace.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}\n{}", out.stderr))
    };
    let (json, sarif) = (read("report.json"), read("report.sarif"));
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let failure = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "migration-fails")
        .expect("the statement that echoes the password fails");
    assert!(
        failure["message"].as_str().unwrap().contains("select '***'::int"),
        "{failure}"
    );
    serde_json::from_str::<serde_json::Value>(&sarif).expect("the SARIF is still JSON");
    let log: String = format!("{}{}", out.stdout, out.stderr)
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    for (artefact, text) in [
        ("log", log.as_str()),
        ("summary", out.summary.as_str()),
        ("json-output", json.as_str()),
        ("sarif-output", sarif.as_str()),
    ] {
        for form in [DECODED, "S3cr%40t%2Fpw-x9"] {
            assert!(!text.contains(form), "`{form}` in the {artefact}:\n{text}");
        }
    }
}

/// The templates' `postgres://postgres:postgres@…` registered `::add-mask::postgres`, which blanked the
/// word everywhere in the rest of the job log. The URL and its user info are masked; the bare
/// password is not, and the log says why.
#[test]
fn a_password_that_is_an_ordinary_word_is_not_masked_on_its_own() {
    let fake = support::fake();
    let workspace = fake.workspace();
    write_tree(
        &workspace,
        &[(
            "migrations/0001_a.sql".to_owned(),
            "create table t (a int);\n".to_owned(),
        )],
    );
    let url = format!(
        "postgres://postgres:postgres@127.0.0.1:{}/postgres",
        server().port
    );
    let out = fake
        .input("path", "migrations")
        .input("database-url", &url)
        .run(support::bin(), &[])
        .unwrap();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let masked: Vec<&str> = out
        .commands_named("add-mask")
        .iter()
        .map(|c| c.message.as_str())
        .collect();
    assert!(!masked.contains(&"postgres"), "{masked:?}");
    assert!(masked.contains(&url.as_str()), "{masked:?}");
    assert!(masked.contains(&"postgres:postgres@"), "{masked:?}");
    assert!(
        out.stderr
            .contains("the password in `database-url` is not masked on its own (it is the user name"),
        "{}",
        out.stderr
    );
}
