//! The `droplet-compose` target: Docker Compose on Droplets over SSH.

use ops_core::{Env, ExitStatus, Runner};

use crate::cli::Args;
use crate::clock::Clock;
use crate::error::Error;

/// Runs a droplet-compose action.
pub fn run(_args: &Args, _env: &Env, _runner: &Runner, _clock: Clock) -> Result<ExitStatus, Error> {
    Err(Error::Unsupported {
        target: "droplet-compose",
    })
}
