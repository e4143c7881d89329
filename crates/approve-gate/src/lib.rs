//! approve-gate: a manual approval before production that teams can trust.
//!
//! - **issue mode** ([`issue`]): opens an approval issue and waits for comments from listed
//!   approvers with write access (N of M, per-team quorums, denials first, no self-approval, no
//!   edited comments), polling with `If-None-Match` so an idle hour costs almost no rate-limit
//!   budget, and closes the issue on every exit, including a timeout and a cancelled job.
//! - **environment mode** ([`environment`]): reports, and can give, the reviews of a run's
//!   deployments to GitHub Environments.
//!
//! Outputs: `decision` (`approved`, `denied`, `timed-out`), `approvers`, `reason`, `issue-url`,
//! `issue-number`, `waited-seconds`, `votes` (JSON). Exit 0 only when approved.

pub mod api;
pub mod approvers;
pub mod cli;
pub mod clock;
pub mod environment;
pub mod error;
pub mod issue;
pub mod outcome;
pub mod signal;
pub mod tally;
pub mod words;

use ops_core::{Env, ExitStatus, Runner};
use ops_net::GitHub;

use crate::api::Api;
use crate::cli::{Args, Mode};
use crate::clock::Clock;
use crate::error::Error;
use crate::signal::Cancel;

/// What every part of a run shares.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) args: &'a Args,
    pub(crate) env: &'a Env,
    pub(crate) runner: &'a Runner,
    pub(crate) clock: Clock,
}

impl Ctx<'_> {
    /// The API client for `GITHUB_REPOSITORY`, with the token.
    pub(crate) fn api(&self) -> Result<Api, Error> {
        let (owner, repo) = self.env.repository().ok_or_else(|| {
            Error::input_hint(
                "`GITHUB_REPOSITORY` is not set",
                "run inside GitHub Actions, or set `GITHUB_REPOSITORY=owner/repo`",
            )
        })?;
        let token = self.args.github_token.clone().ok_or_else(|| {
            Error::input_hint(
                "input `github-token` is not set",
                "pass `github-token: ${{ github.token }}` (the action's default) or an App token",
            )
        })?;
        let gh = GitHub::from_env(self.env, Some(token))
            .map_err(|e| Error::api("cannot set up the GitHub client", e))?;
        Ok(Api::new(gh, &owner, &repo))
    }
}

/// Runs the gate on the clock `OPS_POLL_DELAY_SCALE` asks for (real time unless set).
pub fn run(args: &Args, env: &Env, runner: &Runner) -> Result<ExitStatus, Error> {
    let clock = Clock::from_env(env).map_err(Error::input)?;
    run_with_clock(args, env, runner, clock)
}

/// Runs the gate on `clock` (tests and the budget benchmark pass [`Clock::virtual_time`]).
pub fn run_with_clock(args: &Args, env: &Env, runner: &Runner, clock: Clock) -> Result<ExitStatus, Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime {
            message: format!("cannot start the async runtime: {e}"),
            hint: None,
        })?;
    let ctx = Ctx {
        args,
        env,
        runner,
        clock,
    };
    rt.block_on(async {
        let mut cancel = Cancel::listen()?;
        match args.mode {
            Mode::Issue => issue::run(&ctx, &mut cancel).await,
            Mode::Environment => environment::run(&ctx, &mut cancel).await,
        }
    })
}
