//! The action contract: every action in the tree, plus fixtures proving each defect is caught.

use clap::{Arg, ArgAction, Command};
use ops_contract_tests::{check_action, check_wiring, load_action, repo_root, tool_actions};

/// The clap Command of each tool binary, by action directory name. A tool's crate adds itself here when
/// its action lands; an action without an entry fails `every_tool_action_matches_its_binary`.
type CommandFn = fn() -> Command;

fn command_for(tool: &str) -> Option<Command> {
    let registry: &[(&str, CommandFn)] = &[
        ("smoke-test", smoke_test::cli::command),
        ("approve-gate", approve_gate::cli::command),
        ("image-build-tag", image_build_tag::cli::command),
        ("do-deploy", do_deploy::cli::command),
        ("lint-gate", lint_gate::cli::command),
        ("migrate-check", migrate_check::cli::command),
    ];
    registry
        .iter()
        .find(|(name, _)| *name == tool)
        .map(|(_, command)| command())
}

fn fixture_command() -> Command {
    Command::new("fixture")
        .arg(
            Arg::new("environment")
                .long("environment")
                .env("INPUT_ENVIRONMENT")
                .help("where to deploy"),
        )
        .arg(
            Arg::new("dry-run")
                .long("dry-run")
                .env("INPUT_DRY_RUN")
                .action(ArgAction::SetTrue)
                .help("plan only"),
        )
        .arg(
            Arg::new("secret-flag")
                .long("secret-flag")
                .env("INPUT_SECRET_FLAG")
                .help("not an input"),
        )
}

#[test]
fn a_well_wired_action_has_no_problems() {
    let dir = repo_root().join("tests/fixtures/contract/good");
    let command = fixture_command().mut_args(|a| {
        if a.get_id() == "secret-flag" {
            a.env(None::<&str>)
        } else {
            a
        }
    });
    assert_eq!(check_action(&dir, &command), Vec::<String>::new());
}

#[test]
fn every_wiring_defect_is_caught() {
    let dir = repo_root().join("tests/fixtures/contract/bad");
    let problems = check_action(&dir, &fixture_command());
    for expected in [
        "step run: `${{ }}` inside `run:` (pass it through `env:`)",
        "step noshell: `run:` without `shell:`",
        "input `dry-run` is never mapped through `env:`",
        "input `environment` is mapped to `ENVIRONMENT`, expected `INPUT_ENVIRONMENT`",
        "input `token` has no flag `--token` in the binary",
        "`--help` does not list `--token`",
        "flag reading `INPUT_SECRET_FLAG` has no input in action.yml",
        "README.md has no table row for input `dry-run`",
        "README.md has no table row for output `url`",
        "README.md has no copy-paste `uses:` block",
        "README.md has no `uses:` block line `    dry-run: …` for input `dry-run`",
    ] {
        assert!(
            problems.iter().any(|p| p == expected),
            "not caught: {expected}\nall: {problems:#?}"
        );
    }
}

#[test]
fn every_tool_action_matches_its_binary() {
    let root = repo_root();
    let mut failures = Vec::new();
    for dir in tool_actions(&root) {
        let tool = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match command_for(&tool) {
            None => failures.push(format!(
                "actions/{tool}: no binary registered in tests/tests/contract.rs"
            )),
            Some(command) => {
                for problem in check_action(&dir, &command) {
                    failures.push(format!("actions/{tool}: {problem}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn root_action_is_wired_safely() {
    let root = repo_root();
    let action = load_action(&root.join("action.yml")).expect("root action.yml");
    assert_eq!(check_wiring(&action), Vec::<String>::new());
    assert!(
        action.outputs.contains_key("path"),
        "the root action outputs the binaries' directory"
    );
}
