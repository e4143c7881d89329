//! The actions besides `deploy`: rollback on demand (so a workflow can act on smoke-test's
//! `decision`), committing or reverting a rollback, and the life cycle of preview apps.

use std::time::{Duration, SystemTime};

use ops_core::ExitStatus;

use crate::app_platform::Run;
use crate::app_platform::api::{App, Deployment};
use crate::app_platform::report;
use crate::app_platform::rollback::{self, Rolled};
use crate::app_platform::spec::{self, preview};
use crate::app_platform::watch::{self, Ending};
use crate::duration::human;
use crate::error::Error;

/// The base app's name: `app-name`, else `name` in the spec file.
fn base_name(run: &Run<'_>) -> Result<String, Error> {
    if let Some(name) = &run.args.app_name {
        return Ok(name.clone());
    }
    let (shown, full) = run.spec_path();
    spec::name_only(&full).ok_or_else(|| {
        Error::input(
            format!("cannot tell the app's name: `{shown}` has no plain `name`"),
            Some("set `app-name` (for previews, the name of the app they are previews of)"),
        )
    })
}

/// The app an action works on: the PR's preview, `app-id`, `app-name`, or the spec's name.
async fn target_app(run: &Run<'_>) -> Result<App, Error> {
    let name = if run.args.preview {
        let pr = run.pull_request()?;
        preview::name(&base_name(run)?, &pr.repository, pr.number)
    } else if run.args.app_id.is_some() {
        String::new()
    } else {
        base_name(run)?
    };
    let found = if run.args.preview {
        run.api
            .find_app(&name)
            .await
            .map_err(|e| Error::api(format!("could not look up app `{name}`"), e))?
    } else {
        run.find_app(Some(&name)).await?
    };
    found.ok_or_else(|| {
        Error::input(
            format!("no app `{name}` (or the token cannot see it)"),
            Some("check `app-name` / `app-id` and the token's team"),
        )
    })
}

/// `action: rollback`: back to `deployment-id`, or to the deployment that was live before the
/// current one.
pub async fn rollback(run: &Run<'_>) -> Result<ExitStatus, Error> {
    let app = target_app(run).await?;
    run.output("app-id", &app.id)?;
    let current = app.active_id().map(str::to_owned);
    run.output("previous-deployment-id", current.as_deref().unwrap_or_default())?;
    if let Some(pinned) = &app.pinned_deployment {
        run.runner.error(&format!(
            "app `{}` is already pinned to rollback deployment `{}`; commit or revert that rollback first",
            app.name(),
            pinned.id
        ));
        return Ok(ExitStatus::Failed);
    }
    let target = match &run.args.deployment_id {
        Some(id) => id.clone(),
        None => {
            let recent =
                run.api.deployments(&app.id, 50).await.map_err(|e| {
                    Error::api(format!("could not list the deployments of `{}`", app.name()), e)
                })?;
            previously_live(&recent, current.as_deref()).ok_or_else(|| {
                Error::input(
                    format!("app `{}` has no earlier deployment that went live", app.name()),
                    Some("pass the deployment to roll back to as `deployment-id`"),
                )
            })?
        }
    };
    run.runner.info(&format!(
        "rolling app `{}` back from `{}` to deployment `{target}`",
        app.name(),
        current.as_deref().unwrap_or("(none)")
    ));
    let rolled = rollback::roll_back(run, &app.id, &target, run.args.rollback_commit).await?;
    let (deployment_id, phase) = match &rolled {
        Rolled::Done { deployment, .. } | Rolled::Failed { deployment, .. } => {
            (deployment.id.clone(), deployment.phase.clone())
        }
        Rolled::Refused { .. } => (String::new(), String::new()),
    };
    run.output("deployment-id", &deployment_id)?;
    run.output("phase", &phase)?;
    run.output("rolled-back", if rolled.is_done() { "true" } else { "false" })?;
    let live = live_url(run, &app.id, rolled.is_done()).await;
    run.output("live-url", live.as_deref().unwrap_or_default())?;
    run.runner.append_summary(&format!(
        "### do-deploy: rollback of `{}`\n\n{}\n",
        app.name(),
        rolled.describe()
    ))?;
    Ok(if rolled.is_done() {
        ExitStatus::Success
    } else {
        ExitStatus::Failed
    })
}

/// The newest deployment, older than the current one, that went live (SUPERSEDED with every step
/// successful; one superseded before going live has pending steps).
pub fn previously_live(recent: &[Deployment], current: Option<&str>) -> Option<String> {
    let after_current = match current.and_then(|c| recent.iter().position(|d| d.id == c)) {
        Some(i) => &recent[i + 1..],
        None => recent,
    };
    after_current
        .iter()
        .find(|d| Some(d.id.as_str()) != current && d.phase == "SUPERSEDED" && d.all_steps_succeeded())
        .map(|d| d.id.clone())
}

async fn live_url(run: &Run<'_>, app_id: &str, wanted: bool) -> Option<String> {
    if !wanted {
        return None;
    }
    run.api.app(app_id).await.ok().and_then(|a| a.live_url)
}

async fn pinned_app(run: &Run<'_>, verb: &str) -> Result<(App, Deployment), Error> {
    let app = target_app(run).await?;
    run.output("app-id", &app.id)?;
    match app.pinned_deployment.clone() {
        Some(pinned) => Ok((app, pinned)),
        None => Err(Error::input(
            format!("app `{}` has no rollback to {verb}: it is not pinned", app.name()),
            Some("a rollback is pinned after `action: rollback` with `rollback-commit: false`"),
        )),
    }
}

/// `action: commit-rollback`.
pub async fn commit_rollback(run: &Run<'_>) -> Result<ExitStatus, Error> {
    let (app, pinned) = pinned_app(run, "commit").await?;
    run.api
        .commit_rollback(&app.id)
        .await
        .map_err(|e| Error::api(format!("could not commit the rollback of `{}`", app.name()), e))?;
    run.runner.info(&format!(
        "committed the rollback of `{}`: deployment `{}` stays, and the app is no longer pinned",
        app.name(),
        pinned.id
    ));
    run.output("deployment-id", &pinned.id)?;
    run.output("phase", &pinned.phase)?;
    run.output("rolled-back", "true")?;
    run.output("live-url", app.live_url.as_deref().unwrap_or_default())?;
    run.runner.append_summary(&format!(
        "### do-deploy: rollback of `{}` committed\n\nDeployment `{}` stays live.\n",
        app.name(),
        pinned.id
    ))?;
    Ok(ExitStatus::Success)
}

/// `action: revert-rollback`: redeploys the spec from before the rollback and follows it.
pub async fn revert_rollback(run: &Run<'_>) -> Result<ExitStatus, Error> {
    let (app, pinned) = pinned_app(run, "revert").await?;
    run.output("previous-deployment-id", &pinned.id)?;
    let started = run
        .api
        .revert_rollback(&app.id)
        .await
        .map_err(|e| Error::api(format!("could not revert the rollback of `{}`", app.name()), e))?;
    run.output("deployment-id", &started.id)?;
    let deadline = run.clock.elapsed() + run.args.timeout;
    let followed = {
        let _group = run
            .runner
            .group(&format!("deployment `{}` (rollback reverted)", started.id));
        let followed = watch::follow(run.watch(), &app.id, started, deadline).await;
        run.flush_notes();
        followed?
    };
    let d = &followed.deployment;
    run.output("phase", &d.phase)?;
    run.output("rolled-back", "false")?;
    let ok = followed.ending == Ending::Finished && d.phase == "ACTIVE";
    let live = live_url(run, &app.id, ok).await;
    run.output("live-url", live.as_deref().unwrap_or_default())?;
    if ok {
        run.runner.info(&format!(
            "reverted the rollback of `{}`: deployment `{}` is live after {}",
            app.name(),
            d.id,
            human(followed.took)
        ));
    } else {
        run.runner.error(&format!(
            "the deployment `{}` that reverts the rollback of `{}` did not go live (phase {})",
            d.id,
            app.name(),
            d.phase
        ));
        let tree = report::failure_tree(d);
        let logs = report::log_tails(&run.api, &app.id, &d.id, run.args.log_lines).await;
        report::print_failure(run.runner, &tree, &logs);
    }
    run.runner.append_summary(&format!(
        "### do-deploy: rollback of `{}` reverted\n\nDeployment `{}`: {}.\n",
        app.name(),
        d.id,
        d.phase
    ))?;
    Ok(if ok {
        ExitStatus::Success
    } else {
        ExitStatus::Failed
    })
}

/// `action: delete-preview`: deletes this PR's preview app; none to delete is fine.
pub async fn delete_preview(run: &Run<'_>) -> Result<ExitStatus, Error> {
    let pr = run.pull_request()?;
    let name = preview::name(&base_name(run)?, &pr.repository, pr.number);
    let found = run
        .api
        .find_app(&name)
        .await
        .map_err(|e| Error::api(format!("could not look up app `{name}`"), e))?;
    let Some(app) = found else {
        run.runner.info(&format!(
            "no preview app `{name}` for pull request #{}: nothing to delete",
            pr.number
        ));
        return Ok(ExitStatus::Success);
    };
    run.api
        .delete_app(&app.id)
        .await
        .map_err(|e| Error::api(format!("could not delete app `{name}`"), e))?;
    run.output("app-id", &app.id)?;
    run.runner.info(&format!(
        "deleted preview app `{name}` (`{}`) of pull request #{}",
        app.id, pr.number
    ));
    run.runner.append_summary(&format!(
        "### do-deploy: preview `{name}` deleted\n\nPull request #{}.\n",
        pr.number
    ))?;
    Ok(ExitStatus::Success)
}

/// `action: cleanup-previews`: deletes this repository's previews of the app not updated for
/// `ttl-days`.
pub async fn cleanup_previews(run: &Run<'_>) -> Result<ExitStatus, Error> {
    let ttl = run.args.ttl_days.ok_or_else(|| {
        Error::input(
            "`action: cleanup-previews` needs `ttl-days`",
            Some("for example `ttl-days: 7` deletes previews not updated for a week"),
        )
    })?;
    let repository = run
        .env
        .non_empty("GITHUB_REPOSITORY")
        .ok_or_else(|| Error::input("previews need `GITHUB_REPOSITORY` (set by the runner)", None))?
        .to_owned();
    let base = base_name(run)?;
    let now = run.env.now().map_err(|e| Error::input(e.to_string(), None))?;
    let max_age = Duration::from_secs(u64::from(ttl) * 86_400);
    let apps = run
        .api
        .all_apps(None)
        .await
        .map_err(|e| Error::api("could not list apps", e))?;
    let mut deleted = Vec::new();
    let mut kept = 0;
    for app in &apps {
        let Some(number) = preview::number_of(app.name(), &base, &repository) else {
            continue;
        };
        let last = [
            app.updated_at.as_deref(),
            app.last_deployment_active_at.as_deref(),
        ]
        .into_iter()
        .flatten()
        .filter_map(parse_time)
        .max();
        let stale = last.is_some_and(|t| now.duration_since(t).is_ok_and(|age| age >= max_age));
        if !stale {
            kept += 1;
            continue;
        }
        run.api
            .delete_app(&app.id)
            .await
            .map_err(|e| Error::api(format!("could not delete app `{}`", app.name()), e))?;
        run.runner.info(&format!(
            "deleted preview `{}` of pull request #{number} (not updated for {ttl} days)",
            app.name()
        ));
        deleted.push(format!("`{}` (#{number})", app.name()));
    }
    run.runner
        .info(&format!("{} stale previews deleted, {kept} kept", deleted.len()));
    let mut md = format!(
        "### do-deploy: preview clean-up of `{base}`\n\n{} deleted, {kept} kept.\n",
        deleted.len()
    );
    for d in &deleted {
        md.push_str(&format!("\n- {d}"));
    }
    run.runner.append_summary(&md)?;
    Ok(ExitStatus::Success)
}

fn parse_time(text: &str) -> Option<SystemTime> {
    let ts: jiff::Timestamp = text.parse().ok()?;
    let secs = u64::try_from(ts.as_second()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app_platform::api::{Progress, Step};

    fn dep(id: &str, phase: &str, done: bool) -> Deployment {
        let status = if done { "SUCCESS" } else { "PENDING" };
        Deployment {
            id: id.into(),
            phase: phase.into(),
            progress: Some(Progress {
                steps: vec![Step {
                    name: "deploy".into(),
                    status: Some(status.into()),
                    ..Step::default()
                }],
            }),
            ..Deployment::default()
        }
    }

    #[test]
    fn previously_live_skips_what_never_went_live() {
        let recent = vec![
            dep("d5", "ERROR", false),
            dep("d4", "ACTIVE", true),
            dep("d3", "SUPERSEDED", false),
            dep("d2", "SUPERSEDED", true),
            dep("d1", "SUPERSEDED", true),
        ];
        assert_eq!(previously_live(&recent, Some("d4")).as_deref(), Some("d2"));
        assert_eq!(previously_live(&recent, Some("d2")).as_deref(), Some("d1"));
        assert_eq!(previously_live(&recent, Some("d1")), None);
        assert_eq!(previously_live(&recent, None).as_deref(), Some("d2"));
    }

    #[test]
    fn times_parse() {
        assert_eq!(
            parse_time("2026-01-01T00:00:00Z"),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600))
        );
        assert_eq!(parse_time("yesterday"), None);
    }
}
