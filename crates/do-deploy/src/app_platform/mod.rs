//! The `app-platform` target: DigitalOcean App Platform (`/v2/apps`).
//!
//! The flow of `action: deploy` ([`deploy`]) follows the one deploy contract ([`crate::flow`]): read the
//! spec ([`spec`]: strict `${VAR}` substitution, image overrides, preview rewrite) and validate it with
//! `POST /v2/apps/propose` before anything changes (plan), create or update the app (apply), follow
//! **our** deployment by its ID ([`watch`]) (follow), wait for the live URL only when the app serves
//! HTTP and check `/health` (verify), and on failure show the failed steps and the logs ([`report`])
//! and roll back when our deployment went live ([`rollback`]); the GitHub deployment record and the
//! outputs are the shared ones. The other actions (rollback on demand, commit or revert a rollback,
//! preview deletion and clean-up) live in [`actions`].

pub mod actions;
pub mod api;
pub mod deploy;
pub mod report;
pub mod rollback;
pub mod spec;
pub mod watch;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use ops_core::{Env, ExitStatus, Runner, Secret};
use serde_json::Value;

use crate::app_platform::api::{Api, App};
use crate::app_platform::spec::preview::{self, PullRequest};
use crate::app_platform::watch::Settings;
use crate::cli::{Action, Args};
use crate::clock::Clock;
use crate::error::Error;
use crate::{is_id, retry_policy};

/// The spec file read when `app-spec` is not set.
pub const DEFAULT_SPEC: &str = ".do/app.yaml";
/// The deploy template read when `app-spec` is not set and there is no `.do/app.yaml`.
pub const DEPLOY_TEMPLATE: &str = ".do/deploy.template.yaml";

/// Runs an App Platform action with a given clock (the benchmark moves a stand-in along with it).
pub fn run(args: &Args, env: &Env, runner: &Runner, clock: Clock) -> Result<ExitStatus, Error> {
    let token = args.token.clone().ok_or_else(|| {
        Error::input(
            "input required and not supplied: `token`",
            Some(
                "pass a DigitalOcean token with the `app` scopes: `token: ${{ secrets.DIGITALOCEAN_TOKEN }}`",
            ),
        )
    })?;
    // Review point: the tokens' values leave their `Secret`s only to be masked.
    runner.mask(token.expose());
    if let Some(gh) = &args.github_token {
        runner.mask(gh.expose());
    }
    for (input, value) in [("app-id", &args.app_id), ("deployment-id", &args.deployment_id)] {
        if let Some(v) = value
            && !is_id(v)
        {
            return Err(Error::input(
                format!("input `{input}` is not an App Platform ID: `{v}`"),
                Some("IDs look like `4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf`"),
            ));
        }
    }
    let policy = retry_policy(env)?;
    let notes: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&notes);
    let api = Api::new(
        &args.api_url,
        token,
        policy,
        move |event: &ops_net::RetryEvent| {
            sink.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(event.to_string());
        },
    )?;
    let runtime = crate::flow::runtime()?;
    let ctx = Run {
        args,
        env,
        runner,
        api,
        clock: &clock,
        notes,
    };
    runtime.block_on(async {
        match args.action {
            Action::Deploy => deploy::deploy(&ctx).await,
            Action::Rollback => actions::rollback(&ctx).await,
            Action::CommitRollback => actions::commit_rollback(&ctx).await,
            Action::RevertRollback => actions::revert_rollback(&ctx).await,
            Action::DeletePreview => actions::delete_preview(&ctx).await,
            Action::CleanupPreviews => actions::cleanup_previews(&ctx).await,
        }
    })
}

/// Everything one run shares.
#[derive(Debug)]
pub struct Run<'a> {
    /// The inputs.
    pub args: &'a Args,
    /// The environment.
    pub env: &'a Env,
    /// Where output goes.
    pub runner: &'a Runner,
    /// The App Platform API.
    pub api: Api,
    /// The clock.
    pub clock: &'a Clock,
    notes: Arc<Mutex<Vec<String>>>,
}

impl Run<'_> {
    /// The polling settings.
    pub fn watch(&self) -> watch::Ctx<'_> {
        self.flush_notes();
        watch::Ctx {
            api: &self.api,
            clock: self.clock,
            runner: self.runner,
            settings: Settings::new(self.args.poll_interval, self.args.stall_timeout),
            notes: Some(&self.notes),
        }
    }

    /// Prints the retries ops-net made since the last call (`retrying in 2s (503 from GET …)`).
    pub fn flush_notes(&self) {
        let notes: Vec<String> =
            std::mem::take(&mut *self.notes.lock().unwrap_or_else(PoisonError::into_inner));
        for note in notes {
            self.runner.info(&note);
        }
    }

    /// Writes an output (and remembers nothing: the runner's file is the record).
    pub fn output(&self, name: &str, value: &str) -> Result<(), Error> {
        self.runner.set_output(name, value).map_err(Error::from)
    }

    /// The spec file path as the user wrote it, and where it is. Without `app-spec`: `.do/app.yaml`,
    /// or `.do/deploy.template.yaml` when only that exists (DigitalOcean's sample and template
    /// repositories ship it, sometimes as their only spec).
    pub fn spec_path(&self) -> (String, PathBuf) {
        let rel = self.args.app_spec.clone().unwrap_or_else(|| {
            let workspace = self.env.workspace();
            [DEFAULT_SPEC, DEPLOY_TEMPLATE]
                .into_iter()
                .find(|p| workspace.join(p).is_file())
                .map_or_else(|| PathBuf::from(DEFAULT_SPEC), PathBuf::from)
        });
        let shown = rel.display().to_string();
        let full = if rel.is_absolute() {
            rel
        } else {
            self.env.workspace().join(rel)
        };
        (shown, full)
    }

    /// The pull request a preview is for.
    pub fn pull_request(&self) -> Result<PullRequest, Error> {
        let repository = self
            .env
            .non_empty("GITHUB_REPOSITORY")
            .ok_or_else(|| Error::input("previews need `GITHUB_REPOSITORY` (set by the runner)", None))?;
        let event: Option<Value> = self
            .env
            .non_empty("GITHUB_EVENT_PATH")
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|t| serde_json::from_str(&t).ok());
        preview::pull_request(
            event.as_ref(),
            repository,
            self.args.pr_number,
            self.env.non_empty("GITHUB_HEAD_REF"),
        )
        .ok_or_else(|| {
            Error::input(
                "a preview needs a pull request, and this run has none",
                Some("run on `pull_request` events, or set `pr-number`"),
            )
        })
    }

    /// Finds the app named by `app-id` or, failing that, by `name`.
    pub async fn find_app(&self, name: Option<&str>) -> Result<Option<App>, Error> {
        if let Some(id) = &self.args.app_id {
            return match self.api.app(id).await {
                Ok(app) => Ok(Some(app)),
                Err(e) if e.status().is_some_and(|s| s.as_u16() == 404) => Err(Error::input(
                    format!("input `app-id`: no app `{id}` (or the token cannot see it)"),
                    None,
                )),
                Err(e) => Err(Error::api(format!("could not read app `{id}`"), e)),
            };
        }
        let Some(name) = name else { return Ok(None) };
        self.api
            .find_app(name)
            .await
            .map_err(|e| Error::api(format!("could not look up app `{name}`"), e))
    }

    /// The GitHub token, if GitHub deployments are wanted.
    pub fn github_token(&self) -> Option<&Secret> {
        self.args.github_token.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_table() {
        for (id, ok) in [
            ("4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf", true),
            ("abc", true),
            ("", false),
            ("../apps", false),
            ("a/b", false),
            ("a?b", false),
        ] {
            assert_eq!(is_id(id), ok, "{id}");
        }
    }
}
