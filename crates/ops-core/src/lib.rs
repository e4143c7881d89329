//! ops-core: what every ops-actions tool stands on.
//!
//! - [`env`]: the environment captured once, and input lookup with `@actions/core` semantics;
//! - [`runner`]: GITHUB_OUTPUT / GITHUB_ENV / GITHUB_PATH / GITHUB_STEP_SUMMARY, workflow commands,
//!   annotations, masking, groups and stop-commands, with readable terminal output outside Actions;
//! - [`cli`]: clap parsing that reads `INPUT_*` the way the runner sets them;
//! - [`finding`] and [`render`]: one Finding model, rendered as annotations, summary, SARIF, JUnit, JSON;
//! - [`secret`]: the `Secret` type and redaction;
//! - [`exit`]: the exit-code contract;
//! - [`duration`]: durations as users write them (`90s`, `1h30m`, `300ms`), one grammar for all tools.
//!
//! No network and no async runtime here: those live in `ops-net`.

pub mod cli;
pub mod duration;
pub mod env;
pub mod exit;
pub mod finding;
pub mod render;
pub mod runner;
pub mod secret;

pub use env::{Env, InputError};
pub use exit::{ExitStatus, Report, ToolError};
pub use finding::{Finding, Level, Region, RuleInfo};
pub use runner::Runner;
pub use secret::Secret;
