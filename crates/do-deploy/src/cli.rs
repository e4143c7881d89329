//! The command line, one flag per action input (`--foo-bar` ⇔ input `foo-bar` ⇔ `INPUT_FOO_BAR`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, CommandFactory, Parser, ValueEnum};
use ops_core::Secret;

use crate::duration::parse_duration;

/// `true|True|TRUE|false|False|FALSE`, as `@actions/core` reads booleans.
fn boolean(value: &str) -> Result<bool, String> {
    ops_core::env::parse_bool("value", value).map_err(|_| {
        format!("expected one of `true`, `True`, `TRUE`, `false`, `False`, `FALSE`, got `{value}`")
    })
}

/// A whole number of days, at least 1.
fn days(value: &str) -> Result<u32, String> {
    match value.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "expected a whole number of days of at least 1, got `{value}`"
        )),
    }
}

/// Where to deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// DigitalOcean App Platform (`/v2/apps`).
    AppPlatform,
    /// A Droplet over SSH with Docker Compose (not supported yet).
    DropletCompose,
    /// DigitalOcean Kubernetes (not supported yet).
    Doks,
}

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Action {
    /// Validate the spec, create or update the app, follow the deployment, roll back on failure.
    Deploy,
    /// Roll back to `deployment-id`, or to the deployment that was live before the current one.
    Rollback,
    /// Make a rollback permanent (unpins the app).
    CommitRollback,
    /// Undo a rollback: redeploy the spec from before it (unpins the app).
    RevertRollback,
    /// Delete this pull request's preview app.
    DeletePreview,
    /// Delete this repository's preview apps not deployed for `ttl-days`.
    CleanupPreviews,
}

/// Deploy to DigitalOcean App Platform, follow our own deployment to ACTIVE (or the reason it is not),
/// and roll back on failure.
#[derive(Debug, Clone, Parser)]
#[command(name = "do-deploy", version)]
pub struct Args {
    /// DigitalOcean API token (needs the `app` scopes). Masked; never printed.
    #[arg(long, env = "INPUT_TOKEN", value_name = "TOKEN")]
    pub token: Option<Secret>,

    /// DigitalOcean API base URL (for a proxy or a test stand-in).
    #[arg(
        long = "api-url",
        env = "INPUT_API_URL",
        value_name = "URL",
        default_value = "https://api.digitalocean.com"
    )]
    pub api_url: String,

    /// Where to deploy: `app-platform`; `droplet-compose` and `doks` are not supported yet.
    #[arg(long, env = "INPUT_TARGET", value_enum, default_value = "app-platform")]
    pub target: Target,

    /// What to do: `deploy`, `rollback`, `commit-rollback`, `revert-rollback`, `delete-preview` or
    /// `cleanup-previews`.
    #[arg(long, env = "INPUT_ACTION", value_enum, default_value = "deploy")]
    pub action: Action,

    /// App spec file, relative to the workspace (default `.do/app.yaml`). When unset and `app-name` or
    /// `app-id` is given, the existing app's spec is redeployed instead.
    #[arg(long = "app-spec", env = "INPUT_APP_SPEC", value_name = "FILE")]
    pub app_spec: Option<PathBuf>,

    /// Name of the app to deploy to (default: `name` in the spec).
    #[arg(long = "app-name", env = "INPUT_APP_NAME", value_name = "NAME")]
    pub app_name: Option<String>,

    /// ID of the app to deploy to (wins over `app-name`).
    #[arg(long = "app-id", env = "INPUT_APP_ID", value_name = "ID")]
    pub app_id: Option<String>,

    /// Project to create a new app in (ignored for an existing app).
    #[arg(long = "project-id", env = "INPUT_PROJECT_ID", value_name = "ID")]
    pub project_id: Option<String>,

    /// Image per component, one per line: `web=ghcr.io/owner/web@sha256:…` (a digest is preferred; a
    /// tag works, `latest` gets a warning).
    #[arg(long, env = "INPUT_IMAGES", value_name = "COMPONENT=IMAGE")]
    pub images: Vec<String>,

    /// Build from source even when a cached build could be reused.
    #[arg(long = "force-build", env = "INPUT_FORCE_BUILD")]
    pub force_build: bool,

    /// Longest time to wait for the deployment (and for a rollback), such as `30m` or `1h`.
    #[arg(long, env = "INPUT_TIMEOUT", value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Give up when neither the phase nor any step changes for this long, such as `15m`.
    #[arg(
        long = "stall-timeout",
        env = "INPUT_STALL_TIMEOUT",
        value_name = "DURATION",
        default_value = "15m",
        value_parser = parse_duration
    )]
    pub stall_timeout: Duration,

    /// First wait between polls; it grows by half each time nothing changes, up to 15s (or this value
    /// when larger), and drops back when the phase changes.
    #[arg(
        long = "poll-interval",
        env = "INPUT_POLL_INTERVAL",
        value_name = "DURATION",
        default_value = "2s",
        value_parser = parse_duration
    )]
    pub poll_interval: Duration,

    /// Cancel our deployment when it times out or stalls.
    #[arg(long = "cancel-on-timeout", env = "INPUT_CANCEL_ON_TIMEOUT", value_name = "BOOL",
          default_value = "true", value_parser = boolean, action = ArgAction::Set)]
    pub cancel_on_timeout: bool,

    /// After the deployment is ACTIVE, wait (up to 5 minutes) until `/health` reports every component
    /// healthy; a failure then rolls back.
    #[arg(long = "health-check", env = "INPUT_HEALTH_CHECK", value_name = "BOOL",
          default_value = "true", value_parser = boolean, action = ArgAction::Set)]
    pub health_check: bool,

    /// On failure, roll back to the previous ACTIVE deployment when ours went live.
    #[arg(long, env = "INPUT_ROLLBACK", value_name = "BOOL",
          default_value = "true", value_parser = boolean, action = ArgAction::Set)]
    pub rollback: bool,

    /// Commit a rollback once it is ACTIVE; `false` leaves the app pinned for `commit-rollback` or
    /// `revert-rollback` (with `action: rollback`).
    #[arg(long = "rollback-commit", env = "INPUT_ROLLBACK_COMMIT", value_name = "BOOL",
          default_value = "true", value_parser = boolean, action = ArgAction::Set)]
    pub rollback_commit: bool,

    /// The deployment to roll back to (`action: rollback`; default: the one live before the current).
    #[arg(long = "deployment-id", env = "INPUT_DEPLOYMENT_ID", value_name = "ID")]
    pub deployment_id: Option<String>,

    /// Deploy a per-pull-request preview app (name with the PR number and a hash; domains and alerts
    /// removed; GitHub sources pointed at the PR head).
    #[arg(long, env = "INPUT_PREVIEW")]
    pub preview: bool,

    /// Pull request number for previews (default: from the event).
    #[arg(long = "pr-number", env = "INPUT_PR_NUMBER", value_name = "N")]
    pub pr_number: Option<u64>,

    /// `cleanup-previews`: delete preview apps not updated for this many days.
    #[arg(long = "ttl-days", env = "INPUT_TTL_DAYS", value_name = "DAYS", value_parser = days)]
    pub ttl_days: Option<u32>,

    /// Lines of BUILD and DEPLOY logs to show when a deployment fails.
    #[arg(
        long = "log-lines",
        env = "INPUT_LOG_LINES",
        value_name = "N",
        default_value = "60"
    )]
    pub log_lines: usize,

    /// Token to record a GitHub deployment and its statuses (`deployments: write`); without it, none is.
    #[arg(long = "github-token", env = "INPUT_GITHUB_TOKEN", value_name = "TOKEN")]
    pub github_token: Option<Secret>,

    /// GitHub environment name for the deployment record (default: the app name).
    #[arg(long, env = "INPUT_ENVIRONMENT", value_name = "NAME")]
    pub environment: Option<String>,
}

/// The clap command, for the action contract test.
pub fn command() -> clap::Command {
    Args::command()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ops_core::Env;

    fn parse(pairs: &[(&str, &str)]) -> Result<Args, clap::Error> {
        ops_core::cli::parse::<Args>(["do-deploy"], &Env::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn defaults() {
        let args = parse(&[]).unwrap();
        assert_eq!(args.target, Target::AppPlatform);
        assert_eq!(args.action, Action::Deploy);
        assert_eq!(args.timeout, Duration::from_secs(1800));
        assert_eq!(args.stall_timeout, Duration::from_secs(900));
        assert_eq!(args.poll_interval, Duration::from_secs(2));
        assert!(args.rollback && args.rollback_commit && args.cancel_on_timeout && args.health_check);
        assert!(!args.force_build && !args.preview);
        assert!(args.token.is_none());
    }

    #[test]
    fn inputs_table() {
        let args = parse(&[
            ("INPUT_TOKEN", " dop_v1_abc \n"),
            ("INPUT_ROLLBACK", "FALSE"),
            ("INPUT_TARGET", "doks"),
            ("INPUT_ACTION", "revert-rollback"),
            ("INPUT_IMAGES", "web=ghcr.io/o/web@sha256:1\n\nworker=o/w:2\n"),
            ("INPUT_TIMEOUT", "1h30m"),
            ("INPUT_TTL_DAYS", "7"),
        ])
        .unwrap();
        assert_eq!(args.token.unwrap().expose(), "dop_v1_abc");
        assert!(!args.rollback);
        assert_eq!(args.target, Target::Doks);
        assert_eq!(args.action, Action::RevertRollback);
        assert_eq!(args.images, ["web=ghcr.io/o/web@sha256:1", "worker=o/w:2"]);
        assert_eq!(args.timeout, Duration::from_secs(5400));
        assert_eq!(args.ttl_days, Some(7));
    }

    #[test]
    fn bad_values_exit_2() {
        for pairs in [
            [("INPUT_ROLLBACK", "yes")],
            [("INPUT_TIMEOUT", "soon")],
            [("INPUT_TTL_DAYS", "0")],
            [("INPUT_ACTION", "destroy")],
        ] {
            let err = parse(&pairs).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{pairs:?}");
        }
    }
}
