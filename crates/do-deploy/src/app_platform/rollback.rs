//! Rolling back to an earlier deployment: validate → rollback → wait until ACTIVE → commit.
//!
//! App Platform pins the app to a rollback deployment (no other deployment, not even deploy on
//! push, may start) until the rollback is committed or reverted. After a failed deployment we
//! commit at once; `action: rollback` with `rollback-commit: false` leaves the pin so that a later
//! smoke test decides with `commit-rollback` or `revert-rollback`.

use crate::app_platform::Run;
use crate::app_platform::api::Deployment;
use crate::app_platform::report;
use crate::app_platform::watch::{self, Ending};
use crate::duration::human;
use crate::error::Error;

/// How a rollback went.
#[derive(Debug, Clone)]
pub enum Rolled {
    /// The rollback deployment is ACTIVE.
    Done {
        /// The deployment rolled back to.
        target: String,
        /// The rollback deployment.
        deployment: Deployment,
        /// Whether it was committed (the app is unpinned).
        committed: bool,
    },
    /// App Platform said the rollback is not possible.
    Refused {
        /// The deployment we wanted back.
        target: String,
        /// Why not.
        reason: String,
    },
    /// The rollback deployment did not become ACTIVE; the app stays pinned to it.
    Failed {
        /// The deployment we wanted back.
        target: String,
        /// The rollback deployment.
        deployment: Deployment,
        /// What happened.
        reason: String,
    },
}

impl Rolled {
    /// Whether the rollback deployment is live.
    pub fn is_done(&self) -> bool {
        matches!(self, Self::Done { .. })
    }

    /// One sentence for logs and the summary.
    pub fn describe(&self) -> String {
        match self {
            Self::Done {
                target,
                deployment,
                committed: true,
            } => format!(
                "Rolled back to deployment `{target}` (rollback deployment `{}`, committed).",
                deployment.id
            ),
            Self::Done {
                target,
                deployment,
                committed: false,
            } => format!(
                "Rolled back to deployment `{target}` (rollback deployment `{}`); the app stays pinned until \
                 `commit-rollback` or `revert-rollback`.",
                deployment.id
            ),
            Self::Refused { target, reason } => {
                format!("Could not roll back to deployment `{target}`: {reason}.")
            }
            Self::Failed {
                target,
                deployment,
                reason,
            } => format!(
                "The rollback to deployment `{target}` failed: {reason}; the app stays pinned to rollback deployment \
                 `{}`.",
                deployment.id
            ),
        }
    }
}

/// Rolls `app_id` back to `target`; commits when `commit`.
pub async fn roll_back(run: &Run<'_>, app_id: &str, target: &str, commit: bool) -> Result<Rolled, Error> {
    let check = run
        .api
        .validate_rollback(app_id, target)
        .await
        .map_err(|e| Error::api(format!("could not validate a rollback to `{target}`"), e))?;
    for warning in &check.warnings {
        run.runner
            .warning(&format!("rollback to `{target}`: {}", warning.describe()));
    }
    if !check.valid {
        let reason = check
            .error
            .as_ref()
            .map_or_else(|| "App Platform gave no reason".to_owned(), |c| c.describe());
        run.runner
            .error(&format!("cannot roll back to deployment `{target}`: {reason}"));
        return Ok(Rolled::Refused {
            target: target.to_owned(),
            reason,
        });
    }
    let started = run
        .api
        .rollback(app_id, target)
        .await
        .map_err(|e| Error::api(format!("could not start a rollback to `{target}`"), e))?;
    let deadline = run.clock.elapsed() + run.args.timeout;
    let followed = {
        let _group = run.runner.group(&format!(
            "rollback deployment `{}` (back to `{target}`)",
            started.id
        ));
        let followed = watch::follow(run.watch(), app_id, started, deadline).await;
        run.flush_notes();
        followed?
    };
    let deployment = followed.deployment;
    if followed.ending != Ending::Finished || deployment.phase != "ACTIVE" {
        let reason = match followed.ending {
            Ending::Finished => format!("it ended in phase {}", deployment.phase),
            Ending::Stalled => format!("it made no progress for {}", human(run.args.stall_timeout)),
            Ending::TimedOut => format!("it did not finish within {}", human(run.args.timeout)),
        };
        let tree = report::failure_tree(&deployment);
        report::print_failure(run.runner, &tree, &[]);
        let rolled = Rolled::Failed {
            target: target.to_owned(),
            deployment,
            reason,
        };
        run.runner.error(&rolled.describe());
        return Ok(rolled);
    }
    if commit {
        run.api.commit_rollback(app_id).await.map_err(|e| {
            Error::api(
                "the rollback is live but could not be committed (the app stays pinned)",
                e,
            )
        })?;
    }
    let rolled = Rolled::Done {
        target: target.to_owned(),
        deployment,
        committed: commit,
    };
    run.runner.info(&rolled.describe());
    Ok(rolled)
}
