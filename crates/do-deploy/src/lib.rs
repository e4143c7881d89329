//! do-deploy: deploy to DigitalOcean and wait for the truth, with one deploy contract and three targets.
//!
//! Every target follows the same flow ([`flow`]): check the inputs and plan (nothing changed), apply,
//! follow to the truth, verify, roll back on failure, report (summary, outputs, GitHub deployment).
//! The shared parts (outputs, the outcome and its exit status, the GitHub deployment record, named
//! time limits, the run's identity for locks, cancellation) live in [`flow`]; each target is its own
//! module: [`app_platform`] (App Platform, `/v2/apps`), [`droplet`] (Docker Compose over SSH) and
//! [`doks`] (Kubernetes manifests on DigitalOcean Kubernetes).

pub mod app_platform;
pub mod cli;
pub mod clock;
pub mod do_api;
pub mod doks;
pub mod droplet;
pub mod duration;
pub mod error;
pub mod flow;

// The App Platform modules keep their old paths (`do_deploy::spec`, `do_deploy::api`, …).
pub use crate::app_platform::{actions, api, deploy, report, rollback, spec, watch};

use ops_core::{Env, ExitStatus, Runner};
use ops_net::RetryPolicy;

use crate::cli::{Args, Target};
use crate::clock::Clock;
pub use crate::error::Error;

/// Runs do-deploy with the production clock (sleeps scaled by `OPS_RETRY_DELAY_SCALE`).
pub fn run(args: &Args, env: &Env, runner: &Runner) -> Result<ExitStatus, Error> {
    let policy = retry_policy(env)?;
    run_with_clock(args, env, runner, Clock::new(policy.delay_scale))
}

/// Runs do-deploy with a given clock (the benchmark moves a stand-in along with it).
pub fn run_with_clock(args: &Args, env: &Env, runner: &Runner, clock: Clock) -> Result<ExitStatus, Error> {
    match args.target {
        Target::AppPlatform => app_platform::run(args, env, runner, clock),
        Target::DropletCompose => droplet::run(args, env, runner, clock),
        Target::Doks => doks::run(args, env, runner, clock),
    }
}

fn retry_policy(env: &Env) -> Result<RetryPolicy, Error> {
    RetryPolicy::from_env(env).map_err(|e| Error::input(e.to_string(), None))
}

/// Letters, digits and dashes: safe in a URL path.
fn is_id(value: &str) -> bool {
    !value.is_empty() && value.len() <= 64 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}
