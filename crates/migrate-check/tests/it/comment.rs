//! The pull-request comment against the GitHub stand-in, every exchange checked against GitHub's
//! OpenAPI description: created once, edited in place, left alone when unchanged, and a read-only
//! token that degrades to a notice.

use ops_test::github::{GithubSim, NewPull};
use ops_test::sim::{Contract, ContractMode, Fault, Spec};
use serde_json::json;

use crate::support::{bin, fake, write_tree};

const TOKEN: &str = "ghs_migrate_check_test_token";

fn github() -> (GithubSim, u64) {
    let gh = GithubSim::start();
    gh.check_contract(
        Contract::vendored(Spec::Github).expect("vendored GitHub description"),
        ContractMode::Enforce,
    );
    let number = gh.with(|s| {
        s.add_repo("octo", "app");
        s.set_token_user(TOKEN, "migrate-bot");
        s.add_pull("octo", "app", NewPull::default())
    });
    (gh, number)
}

fn run(gh: &GithubSim, number: u64, index: &str) -> ops_test::harness::RunOutput {
    let runner = fake()
        .event(
            "pull_request",
            &json!({"number": number, "pull_request": {"number": number}}),
        )
        .unwrap()
        .env("GITHUB_API_URL", gh.url())
        .input("path", "db/migrations")
        .input("comment", "true")
        .input("github-token", TOKEN);
    write_tree(
        &runner.workspace(),
        &[
            (
                "db/migrations/0001_init.sql".to_owned(),
                "create table if not exists users (id bigint primary key, email text);\n".to_owned(),
            ),
            ("db/migrations/0002_index.sql".to_owned(), index.to_owned()),
        ],
    );
    runner.run(bin(), &[]).unwrap()
}

fn calls(gh: &GithubSim) -> Vec<String> {
    gh.exchanges().iter().map(|e| e.line()).collect()
}

#[test]
fn one_comment_is_created_then_edited_in_place() {
    let (gh, number) = github();
    let risky = "create index users_email on users (email);\n";
    let out = run(&gh, number, risky);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let bodies = gh.with(|s| s.comment_bodies("octo", "app", number));
    assert_eq!(bodies.len(), 1);
    assert!(
        bodies[0].contains("require-concurrent-index-creation"),
        "{}",
        bodies[0]
    );
    assert!(
        bodies[0].ends_with("<!-- migrate-check: db/migrations -->"),
        "{}",
        bodies[0]
    );
    assert!(
        out.all_text()
            .lines()
            .all(|l| l.starts_with("::add-mask::") || !l.contains(TOKEN)),
        "the token is masked, never printed"
    );
    // The same findings again: the comment is read, not rewritten.
    let before = calls(&gh).len();
    run(&gh, number, risky);
    let again: Vec<String> = calls(&gh)[before..].to_vec();
    assert_eq!(again, [format!("GET /repos/octo/app/issues/{number}/comments")]);
    // Fixed: the same comment now says so.
    let safe = "create index concurrently if not exists users_email on users (email);\n";
    let out = run(&gh, number, safe);
    let bodies = gh.with(|s| s.comment_bodies("octo", "app", number));
    assert_eq!(bodies.len(), 1, "edited, not a second comment");
    assert!(
        !bodies[0].contains("require-concurrent-index-creation"),
        "{}",
        bodies[0]
    );
    assert!(
        out.stderr.contains("pull-request comment: updated"),
        "{}",
        out.stderr
    );
    let violations = gh.violations();
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn a_clean_pull_request_gets_no_comment() {
    let (gh, number) = github();
    let out = run(
        &gh,
        number,
        "create index concurrently if not exists users_email on users (email);\n",
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(gh.with(|s| s.comment_bodies("octo", "app", number)).is_empty());
    assert!(
        out.stderr.contains("pull-request comment: skipped"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_read_only_token_degrades_to_a_notice() {
    let (gh, number) = github();
    gh.inject(
        &format!("POST /repos/octo/app/issues/{number}/comments"),
        Fault::Status(403),
        1,
    );
    let out = run(&gh, number, "create index users_email on users (email);\n");
    assert_eq!(out.code, Some(1), "the gate still decides: {}", out.stderr);
    let notices = out.commands_named("notice");
    assert!(
        notices
            .iter()
            .any(|n| n.message.contains("may not comment on this pull request")),
        "{notices:#?}"
    );
    assert_eq!(out.outputs["decision"], "fail");
}
