//! The command line. Every flag is an action input (`--foo-bar` ⇔ `foo-bar` ⇔ `INPUT_FOO_BAR`); the
//! doc comments are the help text.

use std::time::Duration;

use clap::{CommandFactory, Parser, ValueEnum};
use ops_core::Secret;

/// The clap command, for the contract tests.
pub fn command() -> clap::Command {
    Args::command()
}

/// How the gate gets its decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Open an approval issue and wait for approving or denying comments.
    Issue,
    /// Report (or give) the reviews of a run's deployments to GitHub Environments.
    Environment,
}

/// What a timeout decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnTimeout {
    /// Decision `denied`, exit 1.
    Deny,
    /// Decision `approved`, exit 0.
    Approve,
    /// Decision `timed-out`, exit 1.
    Fail,
}

impl OnTimeout {
    /// The input's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deny => "deny",
            Self::Approve => "approve",
            Self::Fail => "fail",
        }
    }
}

/// A review to give in environment mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Review {
    /// Approve the waiting deployments.
    Approve,
    /// Reject them.
    Reject,
}

/// A duration input: `90s`, `30m`, `1h30m`, `2d`; units s, m, h, d.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub Duration);

impl std::str::FromStr for Span {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        parse_span(raw).map(Self)
    }
}

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_span(self.0))
    }
}

/// Parses a duration in the toolkit's grammar (`90s`, `30m`, `1h30m`, `2d`; see `ops_core::duration`).
/// A bare number is refused: minutes or seconds would be a guess.
pub fn parse_span(raw: &str) -> Result<Duration, String> {
    ops_core::duration::parse(raw)
}

/// `1h30m`, `45s`, `0s`.
pub fn format_span(d: Duration) -> String {
    let mut secs = d.as_secs();
    if secs == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out
}

/// Pause the pipeline until the right people approve: an approval issue with N-of-M approvers,
/// team quorums and a timeout (the issue is closed on every exit), or a report of the reviews of a
/// run's GitHub Environment deployments.
#[derive(Debug, Parser)]
#[command(name = "approve-gate", version, about, long_about = None)]
pub struct Args {
    /// `issue`: open an approval issue and wait for comments; `environment`: report (or give) the
    /// reviews of a run's GitHub Environment deployments.
    #[arg(long, env = "INPUT_MODE", value_enum, default_value_t = Mode::Issue)]
    pub mode: Mode,

    /// Token for the GitHub API. Issue mode needs `issues: write`; team approvers need a token that
    /// can read team membership (a GitHub App token with organization `Members: read`).
    #[arg(long, env = "INPUT_GITHUB_TOKEN", value_name = "TOKEN")]
    pub github_token: Option<Secret>,

    /// Who may approve, one per line or comma-separated: user logins (`alice`, `@bob`) and teams
    /// (`org/team`); `org/team=2` also requires two approvals from that team.
    #[arg(long, env = "INPUT_APPROVERS", value_name = "LINE")]
    pub approvers: Vec<String>,

    /// Distinct approvals needed in total (N of M).
    #[arg(long, env = "INPUT_MINIMUM_APPROVALS", value_name = "N", default_value_t = 1)]
    pub minimum_approvals: u32,

    /// Distinct denials that deny the request; the default 1 means any denial wins.
    #[arg(long, env = "INPUT_MINIMUM_DENIALS", value_name = "N", default_value_t = 1)]
    pub minimum_denials: u32,

    /// Let the workflow's actor and triggering actor approve their own run.
    #[arg(long, env = "INPUT_ALLOW_SELF_APPROVAL")]
    pub allow_self_approval: bool,

    /// More words that approve, one per line, matched literally and case-insensitively against a
    /// comment's first line (`ship it`, `+1`).
    #[arg(long, env = "INPUT_APPROVE_WORDS", value_name = "WORD")]
    pub approve_words: Vec<String>,

    /// More words that deny, one per line, matched like `approve-words`.
    #[arg(long, env = "INPUT_DENY_WORDS", value_name = "WORD")]
    pub deny_words: Vec<String>,

    /// Environment names: shown in the issue title in issue mode; the environments to report on in
    /// environment mode (default: every environment the run waits on or was reviewed for).
    #[arg(long, env = "INPUT_ENVIRONMENT", value_name = "NAME")]
    pub environment: Vec<String>,

    /// Title of the approval issue (default: `Approve deployment of <repo>@<sha>[ to <environment>]`).
    #[arg(long, env = "INPUT_ISSUE_TITLE", value_name = "TEXT")]
    pub issue_title: Option<String>,

    /// Labels of the approval issue, one per line or comma-separated.
    #[arg(long, env = "INPUT_LABELS", value_name = "LABEL")]
    pub labels: Vec<String>,

    /// What will be deployed (Markdown), put in the issue body.
    #[arg(long, env = "INPUT_DEPLOY_SUMMARY", value_name = "MARKDOWN")]
    pub deploy_summary: Option<String>,

    /// Smoke-test results (Markdown, such as smoke-test's summary), put in the issue body.
    #[arg(long, env = "INPUT_SMOKE_RESULTS", value_name = "MARKDOWN")]
    pub smoke_results: Option<String>,

    /// What production runs now (a tag or commit): the issue links the comparison with this commit.
    #[arg(long, env = "INPUT_COMPARE_BASE", value_name = "REF")]
    pub compare_base: Option<String>,

    /// How long to wait for a decision (`90s`, `30m`, `1h30m`, `2d`).
    #[arg(long, env = "INPUT_TIMEOUT", value_name = "DURATION", default_value = "1h")]
    pub timeout: Span,

    /// What a timeout decides: `deny`, `approve` or `fail` (decision `timed-out`).
    #[arg(long, env = "INPUT_ON_TIMEOUT", value_enum, default_value_t = OnTimeout::Fail)]
    pub on_timeout: OnTimeout,

    /// Wait between polls at first and again after any activity.
    #[arg(
        long,
        env = "INPUT_POLL_INTERVAL",
        value_name = "DURATION",
        default_value = "10s"
    )]
    pub poll_interval: Span,

    /// Longest wait between polls: the wait doubles up to it while nothing changes.
    #[arg(
        long,
        env = "INPUT_MAX_POLL_INTERVAL",
        value_name = "DURATION",
        default_value = "60s"
    )]
    pub max_poll_interval: Span,

    /// Environment mode: the workflow run (default: this run, `GITHUB_RUN_ID`).
    #[arg(long, env = "INPUT_RUN_ID", value_name = "ID")]
    pub run_id: Option<u64>,

    /// Environment mode: review the run's waiting deployments (`approve` or `reject`) with a token
    /// of a required reviewer, instead of waiting for people to do it.
    #[arg(long, env = "INPUT_REVIEW", value_enum)]
    pub review: Option<Review>,

    /// Environment mode: the comment that goes with `review`.
    #[arg(long, env = "INPUT_REVIEW_COMMENT", value_name = "TEXT")]
    pub review_comment: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_table() {
        for (raw, want) in [
            ("90s", Ok(90)),
            ("30m", Ok(1_800)),
            ("1h30m", Ok(5_400)),
            ("2d", Ok(172_800)),
            (" 1H ", Ok(3_600)),
            ("0s", Ok(0)),
            ("90", Err("has no unit")),
            ("1h30", Err("ends without a unit")),
            ("soon", Err("expected a duration such as")),
            ("h", Err("expected a duration such as")),
            ("", Err("expected a duration such as")),
        ] {
            match (parse_span(raw), want) {
                (Ok(got), Ok(secs)) => assert_eq!(got, Duration::from_secs(secs), "{raw}"),
                (Err(e), Err(part)) => assert!(e.contains(part), "{raw}: {e}"),
                (got, want) => panic!("{raw}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn spans_print_compactly() {
        for (secs, want) in [(0, "0s"), (45, "45s"), (5_400, "1h30m"), (90_061, "1d1h1m1s")] {
            assert_eq!(format_span(Duration::from_secs(secs)), want);
        }
    }

    #[test]
    fn the_command_is_consistent() {
        command().debug_assert();
    }
}
