//! Command-line flags; each is also an action input (`--fail-level` ⇔ `fail-level` ⇔
//! `INPUT_FAIL_LEVEL`).

use std::path::PathBuf;

use clap::{CommandFactory, Parser, ValueEnum};
use ops_core::Level;

use crate::diff::FilterMode;
use crate::gate::FailLevel;

/// A level name for `unknown-level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LevelArg {
    /// Error.
    Error,
    /// Warning.
    Warning,
    /// Notice.
    #[value(alias = "info", alias = "note")]
    Notice,
}

impl From<LevelArg> for Level {
    fn from(value: LevelArg) -> Self {
        match value {
            LevelArg::Error => Self::Error,
            LevelArg::Warning => Self::Warning,
            LevelArg::Notice => Self::Notice,
        }
    }
}

/// Turns linter and scanner reports into a pull-request gate: annotations, a check run, review
/// comments, a sticky comment, the step summary, SARIF and a pass/fail exit code.
///
/// Exit codes: 0 passed, 1 the gate failed, 2 bad input (a malformed report, an unknown format, a
/// pattern that matched no file), 3 a dependency broke (git, the GitHub API, a linter that crashed).
#[derive(Debug, Parser)]
#[command(name = "lint-gate", version, about, long_about = None)]
pub struct Args {
    /// Report files to read, one glob per line, relative to `working-directory`. Prefix a line
    /// with `name:` or `name [format]:` to name the linter and its format (`clippy [cargo]:
    /// target/clippy.json`).
    #[arg(long, env = "INPUT_REPORTS", value_name = "GLOB")]
    pub reports: Vec<String>,

    /// Commands to run, one per line, in `working-directory`; their standard output is read as a
    /// report and their exit code is kept. Prefix a line with `name:` or `name [format]:` (`eslint
    /// [eslint]: npx eslint -f json .`).
    #[arg(long, env = "INPUT_RUN", value_name = "COMMAND")]
    pub run: Vec<String>,

    /// Format of sources that do not name one: `auto` (detected), `sarif`, `checkstyle`, `rdjson`,
    /// `rdjsonl`, `cargo`, `eslint`, `golangci-lint`, `ruff-json`, `shellcheck-json`, `errorformat`,
    /// or a text preset (`plain`, `tsc`, `mypy`, `flake8`, `ruff`, `pylint`, `shellcheck`, `gcc`,
    /// `hadolint`, `rubocop`, `go-vet`, `staticcheck`, `yamllint`, `actionlint`, `eslint-compact`,
    /// `markdownlint`, `cargo-short`).
    #[arg(long, env = "INPUT_FORMAT", default_value = "auto", value_name = "FORMAT")]
    pub format: String,

    /// Vim errorformat patterns, one per line, for sources whose format is `errorformat`.
    #[arg(long, env = "INPUT_ERRORFORMAT", value_name = "PATTERN")]
    pub errorformat: Vec<String>,

    /// Directory the linters run in and report paths relative to (a monorepo package), relative to
    /// the workspace. Defaults to the workspace.
    #[arg(long, env = "INPUT_WORKING_DIRECTORY", value_name = "DIR")]
    pub working_directory: Option<PathBuf>,

    /// Which findings of a pull request or a push to report: `added` (on added or changed lines),
    /// `diff_context` (anywhere in a diff hunk), `file` (in a changed file) or `nofilter`.
    #[arg(
        long,
        env = "INPUT_FILTER_MODE",
        value_enum,
        default_value = "added",
        value_name = "MODE"
    )]
    pub filter_mode: FilterMode,

    /// The least severe reported finding that fails the gate: `none`, `any`, `info`, `warning`,
    /// `error`.
    #[arg(
        long,
        env = "INPUT_FAIL_LEVEL",
        value_enum,
        default_value = "error",
        value_name = "LEVEL"
    )]
    pub fail_level: FailLevel,

    /// Fail when more findings than this are reported (with a baseline: more new findings).
    #[arg(long, env = "INPUT_MAX_FINDINGS", value_name = "N")]
    pub max_findings: Option<u64>,

    /// Level of findings whose severity is missing or not recognised: `error`, `warning` or
    /// `notice`. They are counted in the summary.
    #[arg(
        long,
        env = "INPUT_UNKNOWN_LEVEL",
        value_enum,
        default_value = "error",
        value_name = "LEVEL"
    )]
    pub unknown_level: LevelArg,

    /// A previous lint-gate JSON (`json-output`) or SARIF file, e.g. from the base branch: only
    /// findings not in it count toward the gate, wherever they are.
    #[arg(long, env = "INPUT_BASELINE", value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Where to report, comma or line separated: `annotations`, `summary`, `check` (a check
    /// run), `review` (pull-request review comments), `comment` (one sticky pull-request comment).
    #[arg(long, env = "INPUT_REPORTERS", value_name = "LIST")]
    pub reporters: Vec<String>,

    /// Name of the check run, and the key that tells this step's comments from other lint-gate
    /// steps' on re-runs.
    #[arg(long, env = "INPUT_NAME", default_value = "lint-gate", value_name = "NAME")]
    pub name: String,

    /// Token for the GitHub API (check runs, comments, the pull-request files fallback).
    #[arg(
        long,
        env = "INPUT_GITHUB_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub github_token: Option<String>,

    /// Write the reported findings as SARIF 2.1.0 to this file (for code scanning upload).
    #[arg(long, env = "INPUT_SARIF_OUTPUT", value_name = "FILE")]
    pub sarif_output: Option<PathBuf>,

    /// Write the reported findings as lint-gate JSON (version 1) to this file (a later run's
    /// `baseline`).
    #[arg(long, env = "INPUT_JSON_OUTPUT", value_name = "FILE")]
    pub json_output: Option<PathBuf>,

    /// At most this many new review comments per run (the most severe first); the rest are in the
    /// check run and the summary.
    #[arg(long, env = "INPUT_MAX_COMMENTS", default_value_t = 30, value_name = "N")]
    pub max_comments: usize,
}

/// The clap command, for the contract test.
pub fn command() -> clap::Command {
    Args::command()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ops_core::Env;

    #[test]
    fn inputs_parse() {
        let env = Env::from_pairs([
            ("INPUT_REPORTS", "a.sarif\nclippy [cargo]: target/c.json\n"),
            ("INPUT_FILTER_MODE", "diff_context"),
            ("INPUT_FAIL_LEVEL", "warning"),
            ("INPUT_UNKNOWN_LEVEL", "info"),
            ("INPUT_REPORTERS", "check, summary"),
            ("INPUT_MAX_FINDINGS", ""),
        ]);
        let args = ops_core::cli::parse::<Args>(["lint-gate"], &env).unwrap();
        assert_eq!(args.reports, vec!["a.sarif", "clippy [cargo]: target/c.json"]);
        assert_eq!(args.filter_mode, FilterMode::DiffContext);
        assert_eq!(args.fail_level, FailLevel::Warning);
        assert_eq!(args.unknown_level, LevelArg::Notice);
        assert_eq!(args.reporters, vec!["check, summary"]);
        assert_eq!(args.max_findings, None);
        assert_eq!(args.name, "lint-gate");
        let err = ops_core::cli::parse::<Args>(["lint-gate", "--filter-mode", "lines"], &env).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn every_flag_is_an_input() {
        for arg in command().get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if matches!(long, "help" | "version") {
                continue;
            }
            let env = arg
                .get_env()
                .and_then(|e| e.to_str())
                .unwrap_or_default()
                .to_owned();
            assert_eq!(
                env,
                format!("INPUT_{}", long.to_ascii_uppercase().replace('-', "_")),
                "{long}"
            );
            assert!(arg.get_help().is_some(), "{long} has help");
        }
    }
}
