//! `action: deploy`.
//!
//! 1. **Spec**: from the file (strict substitution) or the existing app; image overrides; the
//!    preview rewrite. Every input error is found here, before any request that changes something.
//! 2. **Validate** with `POST /v2/apps/propose`: App Platform's own errors (an ingress that points
//!    nowhere, a bad region, a taken name) and the monthly cost, before changing anything.
//! 3. **Create or update**: a new app is created; a changed spec is `PUT` (with
//!    `update_all_source_versions`); an unchanged one is redeployed with `POST …/deployments`
//!    (`force_build` from the input). The deployment we follow is the one *our* request started:
//!    `pending_deployment` of the create or update answer (the API description guarantees it is the
//!    associated one), or the answer to our POST, never "the newest in the list" (app_action #5,
//!    which races with deploy-on-push and concurrent runs).
//! 4. **Follow** it to a final phase, a timeout or a stall; then the live URL (services and static
//!    sites only: a worker-only app never gets one, app_action #265) and `/health`.
//! 5. **On failure**: the failed steps and the logs, then a rollback when our deployment went live
//!    and then failed (App Platform keeps the previous deployment serving when one fails before
//!    going live, so there is nothing to roll back then, and we say so).

use std::time::Duration;

use ops_core::ExitStatus;
use ops_net::{Created, LostAnswer};
use serde_json::{Value, json};

use crate::app_platform::Run;
use crate::app_platform::api::{App, CreateError, Deployment, Verdict};
use crate::app_platform::report::{self, LogTail};
use crate::app_platform::rollback::{self, Rolled};
use crate::app_platform::spec::{self, images, preview};
use crate::app_platform::watch::{self, Ending, Health};
use crate::duration::human;
use crate::error::Error;
use crate::flow::github;

/// The longest wait for `/health` to report every component healthy after ACTIVE (App Platform
/// checks health before it calls a deployment ACTIVE, so this is short; the stall timeout when it
/// is shorter).
const HEALTH_WAIT: Duration = Duration::from_secs(300);

/// How many recent deployments to look through when the answer to a create was lost.
const LOOKUP_PAGE: usize = 20;

/// Where the spec came from.
#[derive(Debug, Clone)]
enum Source {
    File(String),
    App,
}

/// The spec ready to deploy and what it is deployed to.
#[derive(Debug)]
struct Prepared {
    spec: Value,
    source: Source,
    /// The app it goes to, when it exists.
    app: Option<App>,
    /// The PR, for previews.
    pr: Option<preview::PullRequest>,
}

/// Deploys and reports; `Failed` when the deployment did not end live and healthy.
pub async fn deploy(run: &Run<'_>) -> Result<ExitStatus, Error> {
    let prepared = prepare(run).await?;
    let name = prepared
        .spec
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let file = match &prepared.source {
        Source::File(f) => Some(f.clone()),
        Source::App => None,
    };
    if let Some(app) = &prepared.app
        && let Some(pinned) = &app.pinned_deployment
    {
        run.runner.error(&format!(
            "app `{name}` is pinned to rollback deployment `{}`: App Platform accepts no new deployment until \
             the rollback is committed or reverted",
            pinned.id
        ));
        run.runner
            .info("hint: run this action with `action: commit-rollback` or `action: revert-rollback` first");
        run.output("app-id", &app.id)?;
        return Ok(ExitStatus::Failed);
    }

    // 2. Validate before changing anything.
    let proposal = match run
        .api
        .propose(&prepared.spec, prepared.app.as_ref().map(|a| a.id.as_str()))
        .await
        .map_err(|e| Error::api("could not validate the app spec", e))?
    {
        Verdict::Ok(p) => p,
        Verdict::Refused { message, .. } => return Err(Error::Rejected { file, message }),
    };
    if prepared.app.is_none() && proposal.app_name_available == Some(false) {
        return Err(Error::input(
            format!("app name `{name}` is taken (by an app this token cannot see, or was just created)"),
            proposal
                .app_name_suggestion
                .as_deref()
                .map(|s| format!("choose another `name` in the spec, such as `{s}`"))
                .as_deref(),
        ));
    }
    let cost = proposal.app_cost.map(|c| format!("${c}/month"));
    run.runner.info(&format!(
        "app spec is valid{}",
        cost.as_ref()
            .map(|c| format!("; estimated cost {c}"))
            .unwrap_or_default()
    ));

    // 3. Create, update or redeploy.
    let previous = prepared
        .app
        .as_ref()
        .and_then(|a| a.active_id().map(str::to_owned));
    let environment = run.args.environment.clone().unwrap_or_else(|| name.clone());
    let record = match run.github_token() {
        Some(token) => {
            let reference = github_ref(run, prepared.pr.as_ref());
            github::start(
                run.env,
                run.runner,
                token,
                github::Plan {
                    reference: &reference,
                    environment: &environment,
                    transient: prepared.pr.is_some(),
                    description: &format!("App Platform app `{name}`"),
                    payload: json!({ "app_name": name }),
                },
            )
            .await
        }
        None => None,
    };
    // App Platform normalises a spec (defaults filled in); compare like with like.
    let proposed = if proposal.spec.is_object() {
        &proposal.spec
    } else {
        &prepared.spec
    };
    let result = async {
        let (app_id, ours) = start_deployment(run, &prepared, proposed, file.as_deref()).await?;
        run.output("app-id", &app_id)?;
        run.output("deployment-id", &ours.id)?;
        run.output("previous-deployment-id", previous.as_deref().unwrap_or_default())?;

        // 4. Follow it.
        let deadline = run.clock.elapsed() + run.args.timeout;
        let followed = {
            let _group = run
                .runner
                .group(&format!("deployment `{}` of app `{name}`", ours.id));
            let followed = watch::follow(run.watch(), &app_id, ours, deadline).await;
            run.flush_notes();
            followed?
        };
        let mut outcome = Outcome {
            app_id: app_id.clone(),
            name: name.clone(),
            deployment: followed.deployment.clone(),
            previous: previous.clone(),
            took: followed.took,
            cost,
            live_url: None,
            failure: None,
            tree: Vec::new(),
            logs: Vec::new(),
            rollback: None,
        };
        let went_live = match followed.ending {
            Ending::Finished if outcome.deployment.phase == "ACTIVE" => true,
            Ending::Finished => {
                outcome.failure = Some(match outcome.deployment.phase.as_str() {
                    "SUPERSEDED" => superseded_by(run, &app_id, &outcome.deployment.id).await,
                    "CANCELED" => format!("deployment `{}` was canceled", outcome.deployment.id),
                    phase => format!("deployment `{}` failed in phase {phase}", outcome.deployment.id),
                });
                false
            }
            ending => {
                let what = if ending == Ending::Stalled {
                    format!("made no progress for {}", human(run.args.stall_timeout))
                } else {
                    format!("did not finish within {}", human(run.args.timeout))
                };
                let mut text = format!(
                    "deployment `{}` {what} (last phase {})",
                    outcome.deployment.id, outcome.deployment.phase
                );
                if run.args.cancel_on_timeout {
                    match run.api.cancel(&app_id, &outcome.deployment.id).await {
                        Ok(d) => {
                            text.push_str("; canceled it");
                            outcome.deployment = d;
                        }
                        Err(e) => text.push_str(&format!("; could not cancel it: {e}")),
                    }
                }
                outcome.failure = Some(text);
                false
            }
        };

        // The live URL and health, only once our deployment is live.
        if went_live {
            let serves_http = spec::serves_http(&prepared.spec);
            if serves_http {
                match watch::live_url(run.watch(), &app_id, deadline).await? {
                    Some(app) => outcome.live_url = app.live_url,
                    None => {
                        outcome.failure = Some(format!(
                            "deployment `{}` is ACTIVE but the app has no live URL after {}",
                            outcome.deployment.id,
                            human(run.args.stall_timeout.min(run.args.timeout))
                        ));
                    }
                }
            } else {
                run.runner.info(
                    "the app has no services or static sites, so it has no live URL: not waiting for one",
                );
            }
            if outcome.failure.is_none() && run.args.health_check {
                let mut ctx = run.watch();
                ctx.settings.stall = ctx.settings.stall.min(HEALTH_WAIT);
                match watch::health(ctx, &app_id, deadline).await? {
                    Health::Healthy => run.runner.info("every component reports HEALTHY"),
                    Health::Unavailable => run.runner.debug("the app has no health report"),
                    Health::Unhealthy(components) => {
                        let list: Vec<String> = components
                            .iter()
                            .filter(|c| c.state.as_deref() != Some("HEALTHY"))
                            .map(|c| {
                                format!(
                                    "`{}` {} ({}/{} replicas ready)",
                                    c.name,
                                    c.state.as_deref().unwrap_or("UNKNOWN"),
                                    c.replicas_ready.unwrap_or(0),
                                    c.replicas_desired.unwrap_or(0)
                                )
                            })
                            .collect();
                        outcome.failure = Some(format!(
                            "deployment `{}` is ACTIVE but not healthy: {}",
                            outcome.deployment.id,
                            list.join(", ")
                        ));
                    }
                }
            }
        }
        run.flush_notes();

        // 5. Report, and roll back if ours went live and then failed.
        if outcome.failure.is_some() {
            outcome.tree = report::failure_tree(&outcome.deployment);
            if outcome.deployment.phase != "SUPERSEDED" {
                outcome.logs =
                    report::log_tails(&run.api, &app_id, &outcome.deployment.id, run.args.log_lines).await;
            }
            if let Some(failure) = &outcome.failure {
                let reason = report::first_reason(&outcome.deployment);
                run.runner.error(&match &reason {
                    Some(r) => format!("{failure}: {r}"),
                    None => failure.clone(),
                });
            }
            report::print_failure(run.runner, &outcome.tree, &outcome.logs);
            outcome.rollback = Some(after_failure(run, &outcome).await?);
        }
        finish(run, &outcome, record.as_ref()).await
    }
    .await;
    // Whatever broke after the GitHub deployment was recorded, it must not stay "in progress".
    if let (Err(_), Some(r)) = (&result, &record) {
        r.status(
            run.runner,
            "error",
            None,
            "do-deploy could not finish; see the run's log",
        )
        .await;
    }
    result
}

/// What happened, for outputs, the summary and the GitHub status.
#[derive(Debug)]
struct Outcome {
    app_id: String,
    name: String,
    deployment: Deployment,
    previous: Option<String>,
    took: Duration,
    cost: Option<String>,
    live_url: Option<String>,
    failure: Option<String>,
    tree: Vec<String>,
    logs: Vec<LogTail>,
    rollback: Option<AfterFailure>,
}

/// What was done about a failure.
#[derive(Debug)]
enum AfterFailure {
    /// `rollback: false`.
    Disabled,
    /// The previous deployment still serves: nothing to roll back.
    StillServing(String),
    /// There is no earlier deployment.
    NoPrevious,
    /// Someone else's deployment serves now; we leave it.
    Other(String),
    /// The rollback's result.
    RolledBack(Rolled),
}

async fn after_failure(run: &Run<'_>, outcome: &Outcome) -> Result<AfterFailure, Error> {
    if !run.args.rollback {
        run.runner
            .info("rollback is off (`rollback: false`): leaving the app as it is");
        return Ok(AfterFailure::Disabled);
    }
    let app = run
        .api
        .app(&outcome.app_id)
        .await
        .map_err(|e| Error::api(format!("could not read app `{}`", outcome.app_id), e))?;
    let active = app.active_id().map(str::to_owned);
    let Some(previous) = outcome.previous.clone() else {
        run.runner
            .info("no rollback: the app had no live deployment before this one");
        return Ok(AfterFailure::NoPrevious);
    };
    match active {
        Some(a) if a == outcome.deployment.id => {
            run.runner.info(&format!(
                "our deployment went live and then failed: rolling back to the previous deployment `{previous}`"
            ));
            let rolled = rollback::roll_back(run, &outcome.app_id, &previous, true).await?;
            Ok(AfterFailure::RolledBack(rolled))
        }
        Some(a) if a == previous => {
            run.runner.info(&format!(
                "no rollback needed: the app still serves the previous deployment `{previous}` (App Platform keeps it \
                 when a deployment fails before going live)"
            ));
            Ok(AfterFailure::StillServing(previous))
        }
        Some(a) => {
            run.runner.warning(&format!(
                "not rolling back: the app now serves deployment `{a}`, which is neither ours nor the previous one"
            ));
            Ok(AfterFailure::Other(a))
        }
        None => {
            run.runner.info("no rollback: the app has no live deployment");
            Ok(AfterFailure::NoPrevious)
        }
    }
}

async fn finish(
    run: &Run<'_>,
    outcome: &Outcome,
    record: Option<&github::Record>,
) -> Result<ExitStatus, Error> {
    let rolled_back = matches!(&outcome.rollback, Some(AfterFailure::RolledBack(r)) if r.is_done());
    let live_url = match (&outcome.live_url, rolled_back) {
        (Some(u), _) => Some(u.clone()),
        (None, true) => run.api.app(&outcome.app_id).await.ok().and_then(|a| a.live_url),
        (None, false) => None,
    };
    run.output("phase", &outcome.deployment.phase)?;
    run.output("live-url", live_url.as_deref().unwrap_or_default())?;
    run.output("rolled-back", if rolled_back { "true" } else { "false" })?;
    let usage = run.api.http().usage();
    let calls = format!("{} API calls ({} retried)", usage.requests, usage.retries);
    if let Some(r) = record {
        match &outcome.failure {
            None => {
                r.status(run.runner, "success", live_url.as_deref(), "live on App Platform")
                    .await
            }
            Some(f) => {
                let text = if rolled_back {
                    format!("{f}; rolled back")
                } else {
                    f.clone()
                };
                r.status(
                    run.runner,
                    "failure",
                    live_url.as_deref().filter(|_| rolled_back),
                    &text,
                )
                .await;
            }
        }
    }
    match &outcome.failure {
        None => run.runner.info(&format!(
            "deployment `{}` of `{}` is live{} after {}; {calls}",
            outcome.deployment.id,
            outcome.name,
            live_url
                .as_deref()
                .map(|u| format!(" at {u}"))
                .unwrap_or_default(),
            human(outcome.took)
        )),
        Some(_) => run.runner.info(&calls),
    }
    run.runner
        .append_summary(&summary(outcome, live_url.as_deref(), &calls))?;
    Ok(if outcome.failure.is_none() {
        ExitStatus::Success
    } else {
        ExitStatus::Failed
    })
}

fn summary(outcome: &Outcome, live_url: Option<&str>, calls: &str) -> String {
    let mut md = String::new();
    let verdict = match (&outcome.failure, &outcome.rollback) {
        (None, _) => "live".to_owned(),
        (Some(_), Some(AfterFailure::RolledBack(r))) if r.is_done() => "failed, rolled back".to_owned(),
        (Some(_), _) => "failed".to_owned(),
    };
    md.push_str(&format!("### do-deploy: `{}` {verdict}\n\n", outcome.name));
    md.push_str("| | |\n|---|---|\n");
    md.push_str(&format!("| app | `{}` (`{}`) |\n", outcome.name, outcome.app_id));
    md.push_str(&format!(
        "| deployment | `{}`: {} after {} |\n",
        outcome.deployment.id,
        outcome.deployment.phase,
        human(outcome.took)
    ));
    if let Some(p) = &outcome.previous {
        md.push_str(&format!("| previous deployment | `{p}` |\n"));
    }
    if let Some(u) = live_url {
        md.push_str(&format!("| live URL | {u} |\n"));
    }
    if let Some(c) = &outcome.cost {
        md.push_str(&format!("| estimated cost | {c} |\n"));
    }
    md.push_str(&format!("| API | {calls} |\n"));
    if let Some(f) = &outcome.failure {
        md.push_str(&format!("\n**{}**\n", f.replace(['\r', '\n'], " ")));
        match &outcome.rollback {
            Some(AfterFailure::RolledBack(r)) => md.push_str(&format!("\n{}\n", r.describe())),
            Some(AfterFailure::StillServing(p)) => {
                md.push_str(&format!(
                    "\nThe previous deployment `{p}` still serves: nothing to roll back.\n"
                ));
            }
            Some(AfterFailure::Disabled) => md.push_str("\nRollback is off.\n"),
            Some(AfterFailure::Other(a)) => {
                md.push_str(&format!(
                    "\nNot rolled back: deployment `{a}` (not ours) serves now.\n"
                ));
            }
            Some(AfterFailure::NoPrevious) | None => {}
        }
        if !outcome.tree.is_empty() {
            md.push_str("\nFailed steps:\n\n");
            md.push_str(&report::fenced(&outcome.tree.join("\n")));
        }
        for log in &outcome.logs {
            md.push_str(&format!("\n<details><summary>{} log</summary>\n\n", log.kind));
            md.push_str(&report::fenced(&log.text));
            md.push_str("\n</details>\n");
        }
    }
    md
}

/// Why our deployment was superseded, naming the one that took over.
async fn superseded_by(run: &Run<'_>, app_id: &str, ours: &str) -> String {
    let other = run.api.app(app_id).await.ok().and_then(|a| {
        a.in_progress_deployment
            .or(a.pending_deployment)
            .or(a.active_deployment)
            .filter(|d| d.id != ours)
    });
    match other {
        Some(d) => format!(
            "deployment `{ours}` was superseded by deployment `{}`{} before it went live",
            d.id,
            d.cause.map(|c| format!(" ({c})")).unwrap_or_default()
        ),
        None => format!("deployment `{ours}` was superseded by another deployment before it went live"),
    }
}

fn github_ref(run: &Run<'_>, pr: Option<&preview::PullRequest>) -> String {
    pr.and_then(|p| p.head_sha.clone())
        .or_else(|| run.env.non_empty("GITHUB_SHA").map(str::to_owned))
        .or_else(|| run.env.non_empty("GITHUB_REF").map(str::to_owned))
        .unwrap_or_else(|| "HEAD".to_owned())
}

/// Step 1: the spec and the app it goes to.
async fn prepare(run: &Run<'_>) -> Result<Prepared, Error> {
    let args = run.args;
    let from_app = args.app_spec.is_none() && (args.app_name.is_some() || args.app_id.is_some());
    let lookup = |name: &str| run.env.var(name).map(str::to_owned);
    let (mut spec, source, mut app) = if from_app {
        let app = run.find_app(args.app_name.as_deref()).await?.ok_or_else(|| {
            Error::input(
                format!(
                    "input `app-name`: no app `{}` to take the spec from",
                    args.app_name.as_deref().unwrap_or_default()
                ),
                Some("set `app-spec` to create the app from a spec file"),
            )
        })?;
        run.runner.info(&format!(
            "redeploying the spec of app `{}` (`{}`)",
            app.name(),
            app.id
        ));
        (app.spec.clone(), Source::App, Some(app))
    } else {
        let (shown, full) = run.spec_path();
        let loaded = spec::load(&full, &shown, &lookup)?;
        for mask in &loaded.masks {
            run.runner.mask(mask);
        }
        let list = |names: &[String]| {
            names
                .iter()
                .map(|v| format!("`${{{v}}}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !loaded.used.is_empty() {
            run.runner
                .info(&format!("`{shown}`: substituted {}", list(&loaded.used)));
        }
        if !loaded.kept.is_empty() {
            run.runner.info(&format!(
                "`{shown}`: left {} in commands for the component's shell (App Platform sets them at run time)",
                list(&loaded.kept)
            ));
        }
        (loaded.spec, Source::File(shown), None)
    };
    let spec_name = spec
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if let (Source::File(file), Some(want)) = (&source, &args.app_name)
        && *want != spec_name
    {
        return Err(Error::input(
            format!("input `app-name` is `{want}` but `{file}` names the app `{spec_name}`"),
            Some(
                "make them agree (renaming an app by deploying is not supported), or leave `app-name` unset",
            ),
        ));
    }

    // Image overrides.
    let mut overrides = images::parse_lines(&args.images).map_err(|e| Error::input(e, None))?;
    overrides.extend(images::from_env(&spec, &overrides, &|n| {
        run.env.var(n).map(str::to_owned)
    }));
    let notes = images::apply(&mut spec, &overrides).map_err(|e| Error::input(e, None))?;
    for note in notes {
        match note {
            images::Note::Latest { component, image } => run.runner.warning(&format!(
                "component `{component}` deploys `{image}`: a moving tag, so a rollback may not bring back the same \
                 image; pass a digest (`{component}=repo@sha256:…` in `images`)"
            )),
            images::Note::Tag { component, image } => run.runner.info(&format!(
                "component `{component}` deploys `{image}` by tag; a digest pins exactly what runs"
            )),
            images::Note::SourceReplaced { component } => run.runner.info(&format!(
                "component `{component}` now runs the given image instead of building from source"
            )),
            images::Note::DeployOnPushDropped { component } => run.runner.info(&format!(
                "component `{component}`: `deploy_on_push` removed (App Platform allows it with tags only)"
            )),
        }
    }

    // Previews.
    let mut pr = None;
    if args.preview {
        let request = run.pull_request()?;
        for change in preview::rewrite(&mut spec, &request) {
            run.runner.info(&format!("preview: {change}"));
        }
        let notes = preview::databases(&mut spec, args.preview_databases).map_err(|e| {
            Error::input(
                e,
                Some(
                    "bind those variables to a database the preview keeps, or set `preview-databases: keep` \
                     (the preview then shares the app's database)",
                ),
            )
        })?;
        let preview_name = spec.get("name").and_then(Value::as_str).unwrap_or_default();
        for note in notes {
            match note {
                preview::DatabaseNote::Shared { name, what } => {
                    run.runner.warning(&format!(
                        "preview `{preview_name}` uses the app's database `{name}` ({what}): its migrations \
                         and writes reach the app's data"
                    ));
                    run.runner.info(
                        "hint: set `preview-databases: replace` (a dev database per preview) or `drop`",
                    );
                }
                preview::DatabaseNote::Replaced { name } => run.runner.info(&format!(
                    "preview: database `{name}` is a dev database of the preview's own"
                )),
                preview::DatabaseNote::Dropped { name, why } => {
                    run.runner
                        .info(&format!("preview: database `{name}` dropped ({why})"));
                }
            }
        }
        pr = Some(request);
        app = None;
    }
    let name = spec
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if app.is_none() {
        app = if args.preview {
            run.api
                .find_app(&name)
                .await
                .map_err(|e| Error::api(format!("could not look up app `{name}`"), e))?
        } else {
            run.find_app(Some(&name)).await?
        };
    }
    if let Some(found) = &app
        && found.name() != name
        && !args.preview
    {
        return Err(Error::input(
            format!(
                "input `app-id` is app `{}`, but the spec names the app `{name}`",
                found.name()
            ),
            Some("make them agree (renaming an app by deploying is not supported)"),
        ));
    }
    Ok(Prepared {
        spec,
        source,
        app,
        pr,
    })
}

/// Step 3: create, update or redeploy; the app's ID and *our* deployment.
async fn start_deployment(
    run: &Run<'_>,
    prepared: &Prepared,
    proposed: &Value,
    file: Option<&str>,
) -> Result<(String, Deployment), Error> {
    let name = prepared
        .spec
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let rejected = |message: String| Error::Rejected {
        file: file.map(str::to_owned),
        message,
    };
    let Some(app) = &prepared.app else {
        run.runner.info(&format!("creating app `{name}`"));
        // No app had this name before (step 1 looked): an app that has it now is the one we created.
        let lookup = |lost: LostAnswer| async move {
            lost_answer(run, &format!("creating app `{name}`"), &lost, "the app");
            let found = run.api.find_app(name).await?;
            match &found {
                Some(app) => run.runner.info(&format!("found it: app `{}`", app.id)),
                None => run.runner.info("no app was created: sending the request again"),
            }
            Ok(found.map(Verdict::Ok))
        };
        let created = match run
            .api
            .create_app(&prepared.spec, run.args.project_id.as_deref(), lookup)
            .await
            .map_err(|e| e.into_error(format!("could not create app `{name}`")))?
            .into_inner()
        {
            Verdict::Ok(app) => app,
            Verdict::Refused { message, .. } => return Err(rejected(message)),
        };
        let ours = created
            .pending_deployment
            .clone()
            .or_else(|| created.in_progress_deployment.clone())
            .filter(|d| !d.id.is_empty());
        return match ours {
            Some(d) => Ok((created.id, d)),
            None => {
                let d = create_deployment(run, &created.id, &known_ids(&created)).await?;
                Ok((created.id, d))
            }
        };
    };
    let known = known_ids(app);
    // Map equality ignores key order, so only content counts.
    let changed = app.spec != *proposed && app.spec != prepared.spec;
    if !changed {
        run.runner.info(&format!(
            "the spec of app `{name}` is unchanged: starting a new deployment{}",
            if run.args.force_build {
                " (force build)"
            } else {
                ""
            }
        ));
        let d = create_deployment(run, &app.id, &known).await?;
        return Ok((app.id.clone(), d));
    }
    run.runner.info(&format!("updating the spec of app `{name}`"));
    // App Platform starts a deployment per update: after a lost answer, the update took effect when
    // the app has our spec, and its deployment is the one that appeared after those we knew.
    let lookup = |lost: LostAnswer| {
        let known = &known;
        async move {
            lost_answer(
                run,
                &format!("updating app `{name}`"),
                &lost,
                "the deployment it may have started",
            );
            let now = run.api.app(&app.id).await?;
            if now.spec != *proposed && now.spec != prepared.spec {
                run.runner
                    .info("the app does not have our spec: the update was not applied; sending it again");
                return Ok(None);
            }
            let started = new_deployments(run, &app.id, known).await?;
            let mut found = now;
            found.pending_deployment = started;
            found.in_progress_deployment = None;
            match &found.pending_deployment {
                Some(d) => run.runner.info(&format!(
                    "found it: the update was applied and started deployment `{}`",
                    d.id
                )),
                None => run
                    .runner
                    .info("the update was applied, and started no deployment yet"),
            }
            Ok(Some(Verdict::Ok(found)))
        }
    };
    let updated = match run
        .api
        .update_app(&app.id, &prepared.spec, lookup)
        .await
        .map_err(|e| e.into_error(format!("could not update app `{name}`")))?
        .into_inner()
    {
        Verdict::Ok(a) => a,
        Verdict::Refused { message, .. } => return Err(rejected(message)),
    };
    // The update starts a deployment; the answer names it (`pending_deployment`, or as it is
    // already running, `in_progress_deployment`). A deployment we already knew is not ours.
    let started = updated
        .pending_deployment
        .clone()
        .into_iter()
        .chain(updated.in_progress_deployment.clone())
        .find(|d| !d.id.is_empty() && !known.contains(&d.id));
    match started {
        Some(d) if !run.args.force_build => Ok((app.id.clone(), d)),
        _ => {
            if run.args.force_build {
                run.runner.info("starting a deployment with a forced build");
            }
            let mut known = known;
            known.extend(started.map(|d| d.id));
            let d = create_deployment(run, &app.id, &known).await?;
            Ok((app.id.clone(), d))
        }
    }
}

/// Says that the answer to a create was lost and what is looked for now.
fn lost_answer(run: &Run<'_>, doing: &str, lost: &LostAnswer, looking_for: &str) {
    run.flush_notes();
    run.runner.info(&format!(
        "the answer to {doing} was lost ({}); looking for {looking_for}",
        lost.cause
    ));
}

/// The one deployment of the app that is not among `known` (newest first), `None` when there is
/// none; several cannot be told apart, and stop the run.
async fn new_deployments(
    run: &Run<'_>,
    app_id: &str,
    known: &[String],
) -> Result<Option<Deployment>, CreateError> {
    let recent = run.api.deployments(app_id, LOOKUP_PAGE).await?;
    let new: Vec<Deployment> = recent
        .into_iter()
        .take_while(|d| !known.contains(&d.id))
        .collect();
    match new.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        many => Err(CreateError::Lookup(Error::Runtime {
            message: format!(
                "an answer was lost, and {} deployments started since: cannot tell which is ours",
                many.len()
            ),
            hint: Some(
                "look at the app's deployments in the control panel; re-run when they are done".to_owned(),
            ),
        })),
    }
}

/// `POST …/deployments`, as a create. When the answer is lost after the request may have arrived,
/// the deployment it created is looked up instead of posting again: a second POST could start a
/// second deployment. Only when the look-up shows none was created is the POST sent again.
async fn create_deployment(run: &Run<'_>, app_id: &str, known: &[String]) -> Result<Deployment, Error> {
    let lookup = |lost: LostAnswer| async move {
        lost_answer(
            run,
            "creating the deployment",
            &lost,
            "the deployment it may have started",
        );
        let found = new_deployments(run, app_id, known).await?;
        match &found {
            Some(d) => run.runner.info(&format!("found it: deployment `{}`", d.id)),
            None => run
                .runner
                .info("no deployment was started: sending the request again"),
        }
        Ok(found)
    };
    run.api
        .create_deployment(app_id, run.args.force_build, lookup)
        .await
        .map(Created::into_inner)
        .map_err(|e| e.into_error(format!("could not start a deployment of app `{app_id}`")))
}

/// Deployment IDs the app showed before we changed anything.
fn known_ids(app: &App) -> Vec<String> {
    [
        &app.active_deployment,
        &app.in_progress_deployment,
        &app.pending_deployment,
        &app.pinned_deployment,
    ]
    .into_iter()
    .flatten()
    .map(|d| d.id.clone())
    .filter(|id| !id.is_empty())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ids_skip_missing_and_empty() {
        let app: App = serde_json::from_value(json!({
            "id": "a", "active_deployment": {"id": "d1"}, "in_progress_deployment": {"id": ""}
        }))
        .unwrap();
        assert_eq!(known_ids(&app), vec!["d1"]);
    }

    #[test]
    fn summary_of_a_failure_fences_the_logs() {
        let outcome = Outcome {
            app_id: "a1".into(),
            name: "web".into(),
            deployment: Deployment {
                id: "d2".into(),
                phase: "ERROR".into(),
                ..Deployment::default()
            },
            previous: Some("d1".into()),
            took: Duration::from_secs(65),
            cost: Some("$5/month".into()),
            live_url: None,
            failure: Some("deployment `d2` failed in phase ERROR".into()),
            tree: vec!["└─ build: ERROR".into()],
            logs: vec![LogTail {
                kind: "BUILD",
                text: "step 1\n```\n::error::x".into(),
                cut: 0,
            }],
            rollback: Some(AfterFailure::StillServing("d1".into())),
        };
        let md = summary(&outcome, None, "3 API calls (0 retried)");
        assert!(md.starts_with("### do-deploy: `web` failed\n"), "{md}");
        assert!(md.contains("| deployment | `d2`: ERROR after 1m05s |"), "{md}");
        assert!(md.contains("still serves: nothing to roll back"), "{md}");
        assert!(md.contains("````text\nstep 1\n```\n::error::x\n````"), "{md}");
    }
}
