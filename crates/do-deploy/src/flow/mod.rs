//! The one deploy contract every target follows, and the parts of it that are written once.
//!
//! A deploy goes through the same [`Stage`]s on every target: **plan** (check every input and work
//! out what will change; nothing is changed yet, so bad input is exit 2 with nothing half-done),
//! **apply**, **follow** to the truth, **verify**, **roll back** on failure, and **report** (summary,
//! outputs, GitHub deployment). How it ended is an [`Ending`], which alone decides the exit status
//! and the `rolled-back` output, so "failed and rolled back" (1) and "the rollback failed too" (3)
//! mean the same on every target. Time limits are [`Limit`]s that name themselves when they run
//! out; the run's [`Identity`] is what a lock or a release record says about who deployed; a
//! [`Cancel`] turns SIGINT/SIGTERM (a cancelled job) into a clean stop that still releases locks.

pub mod github;

use std::fmt;
use std::time::{Duration, Instant};

use ops_core::{Env, ExitStatus, Runner};

use crate::duration::human;
use crate::error::Error;

/// The stages of a deploy, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Check the inputs and work out what will change; nothing is changed.
    Plan,
    /// Make the change.
    Apply,
    /// Follow it until it is done, or has failed.
    Follow,
    /// Check that what runs is what was asked for, and healthy.
    Verify,
    /// Bring the previous release back.
    Rollback,
    /// Summary, outputs, GitHub deployment.
    Report,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Plan => "plan",
            Self::Apply => "apply",
            Self::Follow => "follow",
            Self::Verify => "verify",
            Self::Rollback => "rollback",
            Self::Report => "report",
        })
    }
}

/// How a deploy ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The new release is live and healthy.
    Live,
    /// It failed and the previous release serves again.
    RolledBack {
        /// Why it failed.
        reason: String,
    },
    /// It failed; nothing was rolled back (nothing had changed, no previous release, or rollback is off).
    Failed {
        /// Why it failed.
        reason: String,
    },
    /// It failed and so did the rollback: a person must look.
    RollbackFailed {
        /// Why the deploy failed.
        reason: String,
        /// Why the rollback failed.
        rollback: String,
    },
}

impl Ending {
    /// 0 live · 1 failed (rolled back or not) · 3 the rollback failed.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Live => ExitStatus::Success,
            Self::RolledBack { .. } | Self::Failed { .. } => ExitStatus::Failed,
            Self::RollbackFailed { .. } => ExitStatus::Runtime,
        }
    }

    /// The `rolled-back` output.
    pub fn rolled_back(&self) -> bool {
        matches!(self, Self::RolledBack { .. })
    }

    /// One line for the log and the GitHub deployment status.
    pub fn headline(&self) -> String {
        match self {
            Self::Live => "live".to_owned(),
            Self::RolledBack { reason } => format!("failed and rolled back: {reason}"),
            Self::Failed { reason } => format!("failed: {reason}"),
            Self::RollbackFailed { reason, rollback } => {
                format!("failed: {reason}; THE ROLLBACK FAILED TOO: {rollback}")
            }
        }
    }

    /// The GitHub deployment state.
    pub fn github_state(&self) -> &'static str {
        match self {
            Self::Live => "success",
            Self::RolledBack { .. } | Self::Failed { .. } => "failure",
            Self::RollbackFailed { .. } => "error",
        }
    }

    /// Logs the ending: an error annotation for a failure, a loud one when the rollback failed.
    pub fn announce(&self, runner: &Runner, what: &str) {
        match self {
            Self::Live => runner.info(&format!("{what} is live")),
            Self::RolledBack { reason } => {
                runner.error(&format!("{what} failed and was rolled back: {reason}"));
            }
            Self::Failed { reason } => runner.error(&format!("{what} failed: {reason}")),
            Self::RollbackFailed { reason, rollback } => {
                runner.error(&format!(
                    "{what} failed ({reason}) AND ITS ROLLBACK FAILED: {rollback} — the service may be down or \
                     mixed; check it now"
                ));
            }
        }
    }
}

/// The outputs every target writes (besides its own).
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// The release this run deployed (or tried to).
    pub release_id: String,
    /// The release that was live before.
    pub previous_release: String,
}

impl Outputs {
    /// Writes `release-id`, `previous-release` and `rolled-back`.
    pub fn write(&self, runner: &Runner, ending: &Ending) -> Result<(), Error> {
        runner.set_output("release-id", &self.release_id)?;
        runner.set_output("previous-release", &self.previous_release)?;
        runner.set_output("rolled-back", if ending.rolled_back() { "true" } else { "false" })?;
        Ok(())
    }
}

/// A named time limit: when it runs out, the error says which input and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// The input that sets it (`timeout`, `connect-timeout`, …).
    pub input: &'static str,
    /// Its value.
    pub value: Duration,
}

impl Limit {
    /// A limit set by `input`.
    pub const fn new(input: &'static str, value: Duration) -> Self {
        Self { input, value }
    }

    /// "the `connect-timeout` of 10s ran out while connecting to `root@10.0.0.2`".
    pub fn ran_out(&self, while_doing: &str) -> String {
        format!(
            "the `{}` of {} ran out while {while_doing}",
            self.input,
            human(self.value)
        )
    }
}

/// The deadline of the whole deploy, from the `timeout` input.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    limit: Limit,
    at: Instant,
}

impl Deadline {
    /// Starts now.
    pub fn start(limit: Limit) -> Self {
        Self {
            limit,
            at: Instant::now() + limit.value,
        }
    }

    /// Time left (zero when past).
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// The smaller of `limit` and the time left, with the name of whichever is smaller.
    pub fn bound(&self, limit: Limit) -> Limit {
        let left = self.remaining();
        if left < limit.value {
            Limit::new(self.limit.input, left)
        } else {
            limit
        }
    }

    /// The limit itself.
    pub fn limit(&self) -> Limit {
        self.limit
    }
}

/// Who is deploying: what a lock holder or a release record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `owner/repo`, or `local` outside Actions.
    pub repository: String,
    /// The workflow run's ID and attempt (`1234/1`), or a local process ID.
    pub run: String,
    /// The run's URL.
    pub run_url: Option<String>,
    /// The commit.
    pub sha: String,
    /// Who started the run.
    pub actor: String,
    /// RFC 3339 start time.
    pub started: String,
}

impl Identity {
    /// From the runner's environment.
    pub fn from_env(env: &Env) -> Self {
        let get = |k: &str| env.non_empty(k).map(str::to_owned);
        let run = match (get("GITHUB_RUN_ID"), get("GITHUB_RUN_ATTEMPT")) {
            (Some(id), Some(attempt)) => format!("{id}/{attempt}"),
            (Some(id), None) => id,
            _ => format!("pid-{}", std::process::id()),
        };
        Self {
            repository: get("GITHUB_REPOSITORY").unwrap_or_else(|| "local".to_owned()),
            run,
            run_url: env.run_url(),
            sha: get("GITHUB_SHA").unwrap_or_default(),
            actor: get("GITHUB_ACTOR").unwrap_or_default(),
            started: now_rfc3339(env),
        }
    }

    /// One line naming the run (`owner/repo run 1234/1 by octocat`).
    pub fn describe(&self) -> String {
        let mut s = format!("{} run {}", self.repository, self.run);
        if !self.actor.is_empty() {
            s.push_str(&format!(" by {}", self.actor));
        }
        s
    }
}

/// Now, honouring `SOURCE_DATE_EPOCH`.
pub fn now_rfc3339(env: &Env) -> String {
    let now = env
        .non_empty("SOURCE_DATE_EPOCH")
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .unwrap_or_else(jiff::Timestamp::now);
    now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Cancellation: SIGINT or SIGTERM (a cancelled job: the runner sends SIGINT, then SIGTERM 7.5 s later)
/// flips a flag that every wait checks, so the run stops at the next step and still releases its locks.
#[derive(Debug, Clone)]
pub struct Cancel {
    rx: tokio::sync::watch::Receiver<Option<&'static str>>,
}

impl Cancel {
    /// Listens for SIGINT and SIGTERM (inside a tokio runtime).
    pub fn listen() -> Self {
        let (tx, rx) = tokio::sync::watch::channel(None);
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            if let (Ok(mut int), Ok(mut term)) =
                (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
            {
                tokio::spawn(async move {
                    let name = tokio::select! {
                        _ = int.recv() => "SIGINT",
                        _ = term.recv() => "SIGTERM",
                    };
                    let _ = tx.send(Some(name));
                    // Keep the sender alive so receivers see the value, not a closed channel.
                    std::future::pending::<()>().await;
                });
            }
        }
        Self { rx }
    }

    /// A token that is never cancelled (tests, and the rollback that must run to its end).
    pub fn never() -> Self {
        let (tx, rx) = tokio::sync::watch::channel(None);
        std::mem::forget(tx);
        Self { rx }
    }

    /// The signal received, if any.
    pub fn signal(&self) -> Option<&'static str> {
        *self.rx.borrow()
    }

    /// Resolves when a signal arrives.
    pub async fn cancelled(&self) -> &'static str {
        let mut rx = self.rx.clone();
        loop {
            if let Some(s) = *rx.borrow_and_update() {
                return s;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// The single-threaded runtime a target runs on.
pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime {
            message: format!("could not start the async runtime: {e}"),
            hint: None,
        })
}

/// A Markdown table cell: no pipes or newlines from the data can break the table.
pub fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endings_map_to_exit_codes() {
        let r = || "health check failed".to_owned();
        assert_eq!(Ending::Live.exit_status(), ExitStatus::Success);
        assert_eq!(
            Ending::RolledBack { reason: r() }.exit_status(),
            ExitStatus::Failed
        );
        assert_eq!(Ending::Failed { reason: r() }.exit_status(), ExitStatus::Failed);
        let both = Ending::RollbackFailed {
            reason: r(),
            rollback: "ssh lost".to_owned(),
        };
        assert_eq!(both.exit_status(), ExitStatus::Runtime);
        assert!(Ending::RolledBack { reason: r() }.rolled_back());
        assert!(!both.rolled_back());
        assert!(both.headline().contains("ROLLBACK FAILED"));
    }

    #[test]
    fn limits_name_themselves() {
        let l = Limit::new("connect-timeout", Duration::from_secs(10));
        assert_eq!(
            l.ran_out("connecting to `root@10.0.0.2`"),
            "the `connect-timeout` of 10s ran out while connecting to `root@10.0.0.2`"
        );
    }

    #[test]
    fn cells_cannot_break_tables() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
