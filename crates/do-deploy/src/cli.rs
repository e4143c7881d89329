//! The command line, one flag per action input (`--foo-bar` ⇔ input `foo-bar` ⇔ `INPUT_FOO_BAR`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, CommandFactory, Parser, ValueEnum};
use ops_core::Secret;

use crate::duration::{parse_duration, parse_span};

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
    /// Droplets over SSH with Docker Compose (blue-green behind nginx, or recreate).
    DropletCompose,
    /// DigitalOcean Kubernetes (or any cluster given a `kubeconfig`): manifests applied server-side.
    Doks,
}

/// How droplet-compose replaces the running release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Strategy {
    /// A second colour of the app comes up beside the live one; the proxy switches when it is healthy.
    BlueGreen,
    /// `docker compose up -d --wait` in place (short downtime; no proxy needed).
    Recreate,
}

/// The proxy in front of a droplet-compose app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Proxy {
    /// nginx: the deploy rewrites an `upstream` file, checks the configuration and reloads.
    Nginx,
    /// No proxy (only with `strategy: recreate`).
    None,
}

/// Which address of a Droplet to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Address {
    /// Its public IPv4 address.
    Public,
    /// Its private (VPC) IPv4 address.
    Private,
}

/// What a fleet deploy does when a host fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnFailure {
    /// Switch every host that already switched back to its previous release.
    RollbackAll,
    /// Stop; hosts that already switched stay on the new release.
    Halt,
}

/// A size: `512M`, `2G`, `1T` (powers of 1024), or bytes.
fn parse_size(value: &str) -> Result<u64, String> {
    let v = value.trim();
    let (num, unit) = v.split_at(v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("expected a size such as `500M` or `2G`, got `{value}`"))?;
    let shift = match unit
        .trim()
        .trim_end_matches(['B', 'b', 'i'])
        .to_ascii_uppercase()
        .as_str()
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("expected a size such as `500M` or `2G`, got `{value}`")),
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("`{value}` is too large"))
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
    /// DigitalOcean API token (App Platform: the `app` scopes; droplet-compose with `droplet-tag`:
    /// `droplet:read` and `tag:read`, and with `load-balancer` `load_balancer:read` and
    /// `load_balancer:update`; doks with `cluster`: `kubernetes:read` and `kubernetes:access_cluster`).
    /// Masked; never printed.
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

    /// Where to deploy: `app-platform`, `droplet-compose` or `doks`.
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

    /// Name of the app to deploy to (default: `name` in the spec). doks: the name of the deploy lock
    /// and the release records (default: the repository's name).
    #[arg(long = "app-name", env = "INPUT_APP_NAME", value_name = "NAME")]
    pub app_name: Option<String>,

    /// ID of the app to deploy to (wins over `app-name`).
    #[arg(long = "app-id", env = "INPUT_APP_ID", value_name = "ID")]
    pub app_id: Option<String>,

    /// Project to create a new app in (ignored for an existing app).
    #[arg(long = "project-id", env = "INPUT_PROJECT_ID", value_name = "ID")]
    pub project_id: Option<String>,

    /// Image per component, one per line: `web=ghcr.io/owner/web@sha256:…` (a digest is preferred; a
    /// tag works, `latest` gets a warning). doks: put into every container whose image has that
    /// repository; each line must match one.
    // A multi-line `--images` is split into lines as the `images` input is.
    #[arg(
        long,
        env = "INPUT_IMAGES",
        value_name = "COMPONENT=IMAGE",
        value_delimiter = '\n'
    )]
    pub images: Vec<String>,

    /// Previews: the spec's databases in a cluster (`production: true` or a `cluster_name`), which a
    /// preview would share with the app: `keep` them (with a warning), `replace` them with a dev
    /// database of the same name (PostgreSQL only; other engines are dropped), or `drop` them.
    #[arg(
        long = "preview-databases",
        env = "INPUT_PREVIEW_DATABASES",
        value_enum,
        default_value = "keep"
    )]
    pub preview_databases: crate::app_platform::spec::preview::Databases,

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

    /// On failure, roll back to the previous ACTIVE deployment when ours went live (doks: restore the
    /// previous state of every object the deploy changed).
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

    /// Lines of BUILD and DEPLOY logs to show when a deployment fails (doks: of each failing container).
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

    // ── droplet-compose ────────────────────────────────────────────────────────────────────────
    /// droplet-compose: the hosts, one per line, `[user@]host[:port]` (user `root`, port 22 by default).
    #[arg(long, env = "INPUT_HOSTS", value_name = "HOSTS")]
    pub hosts: Option<String>,

    /// droplet-compose: the private key to log in with (OpenSSH or PEM text). Masked; never printed.
    #[arg(long = "ssh-key", env = "INPUT_SSH_KEY", value_name = "KEY")]
    pub ssh_key: Option<Secret>,

    /// droplet-compose: the hosts' keys as known_hosts lines (plain or hashed, as `ssh-keyscan [-H]`
    /// prints them). This and/or `host-fingerprints` is required: host keys are always pinned.
    #[arg(long = "known-hosts", env = "INPUT_KNOWN_HOSTS", value_name = "LINES")]
    pub known_hosts: Option<String>,

    /// droplet-compose: accepted host key fingerprints, `SHA256:…`, one per line or comma-separated
    /// (any of them matches any host).
    #[arg(
        long = "host-fingerprints",
        env = "INPUT_HOST_FINGERPRINTS",
        value_name = "SHA256:…"
    )]
    pub host_fingerprints: Option<String>,

    /// droplet-compose: the Compose file, relative to the workspace (default `compose.yaml`, then
    /// `docker-compose.yml`).
    #[arg(long = "compose-file", env = "INPUT_COMPOSE_FILE", value_name = "FILE")]
    pub compose_file: Option<PathBuf>,

    /// droplet-compose: the app's env file, `KEY=value` per line. Secret: written on the host with mode
    /// 0600, never printed and never on a command line; every value is masked.
    #[arg(long = "env", env = "INPUT_ENV", value_name = "KEY=VALUE")]
    pub app_env: Option<Secret>,

    /// droplet-compose: the Compose project name (default: `name:` in the Compose file, else the
    /// repository's name).
    #[arg(long, env = "INPUT_PROJECT", value_name = "NAME")]
    pub project: Option<String>,

    /// droplet-compose: `blue-green` (two colours behind the proxy, no downtime) or `recreate` (`up -d`
    /// in place, short downtime).
    #[arg(long, env = "INPUT_STRATEGY", value_enum, default_value = "blue-green")]
    pub strategy: Strategy,

    /// droplet-compose: `service:port` that the proxy sends traffic to (required for blue-green).
    #[arg(long, env = "INPUT_ROUTE", value_name = "SERVICE:PORT")]
    pub route: Option<String>,

    /// droplet-compose: the proxy in front of the app: `nginx` or `none`.
    #[arg(long, env = "INPUT_PROXY", value_enum, default_value = "nginx")]
    pub proxy: Proxy,

    /// droplet-compose: the nginx file holding the app's `upstream` block, which the deploy rewrites
    /// (default `/etc/nginx/conf.d/<project>-upstream.conf`, included by Debian's and Ubuntu's nginx).
    #[arg(
        long = "proxy-upstream-file",
        env = "INPUT_PROXY_UPSTREAM_FILE",
        value_name = "PATH"
    )]
    pub proxy_upstream_file: Option<String>,

    /// droplet-compose: the name of that `upstream` block (default: the project), for `proxy_pass
    /// http://<name>;`.
    #[arg(
        long = "proxy-upstream-name",
        env = "INPUT_PROXY_UPSTREAM_NAME",
        value_name = "NAME"
    )]
    pub proxy_upstream_name: Option<String>,

    /// droplet-compose: the command that checks the proxy's configuration before a reload.
    #[arg(
        long = "proxy-check",
        env = "INPUT_PROXY_CHECK",
        value_name = "COMMAND",
        default_value = "nginx -t"
    )]
    pub proxy_check: String,

    /// droplet-compose: the command that reloads the proxy (gracefully: in-flight requests finish).
    #[arg(
        long = "proxy-reload",
        env = "INPUT_PROXY_RELOAD",
        value_name = "COMMAND",
        default_value = "nginx -s reload"
    )]
    pub proxy_reload: String,

    /// droplet-compose: the HTTP path that must answer 2xx on the `route` service.
    #[arg(
        long = "health-path",
        env = "INPUT_HEALTH_PATH",
        value_name = "PATH",
        default_value = "/health"
    )]
    pub health_path: String,

    /// droplet-compose: consecutive 2xx answers on `health-path` before traffic moves.
    #[arg(
        long = "health-successes",
        env = "INPUT_HEALTH_SUCCESSES",
        value_name = "N",
        default_value = "3"
    )]
    pub health_successes: u32,

    /// droplet-compose: longest wait for the health gate's consecutive 2xx answers.
    #[arg(long = "health-timeout", env = "INPUT_HEALTH_TIMEOUT", value_name = "DURATION",
          default_value = "60s", value_parser = parse_duration)]
    pub health_timeout: Duration,

    /// droplet-compose: how long to keep watching the new release after the switch (containers running,
    /// no restarts, health path 2xx); a failure in that window switches back. doks: how long the new
    /// pods must stay ready without a restart. `0s` turns it off.
    #[arg(long, env = "INPUT_OBSERVE", value_name = "DURATION", default_value = "30s", value_parser = parse_span)]
    pub observe: Duration,

    /// droplet-compose: wait this long after the switch before stopping the old colour, so the proxy's
    /// old workers finish their requests.
    #[arg(long, env = "INPUT_DRAIN", value_name = "DURATION", default_value = "5s", value_parser = parse_span)]
    pub drain: Duration,

    /// droplet-compose: a command run as a one-off container of the new release before any traffic
    /// moves (`docker compose run --rm`), such as `npx prisma migrate deploy`; its failure stops the deploy.
    #[arg(long = "pre-deploy", env = "INPUT_PRE_DEPLOY", value_name = "COMMAND")]
    pub pre_deploy: Option<String>,

    /// droplet-compose: the service `pre-deploy` runs in (default: the `route` service).
    #[arg(
        long = "pre-deploy-service",
        env = "INPUT_PRE_DEPLOY_SERVICE",
        value_name = "SERVICE"
    )]
    pub pre_deploy_service: Option<String>,

    /// droplet-compose and doks: allow `images` with a tag and no digest (a warning instead of an error).
    #[arg(long = "allow-mutable-tags", env = "INPUT_ALLOW_MUTABLE_TAGS", value_name = "BOOL",
          default_value = "false", value_parser = boolean, action = ArgAction::Set)]
    pub allow_mutable_tags: bool,

    /// droplet-compose: releases kept on each host for rollback (images of older ones are pruned). doks:
    /// release records kept in the namespace.
    #[arg(
        long = "keep-releases",
        env = "INPUT_KEEP_RELEASES",
        value_name = "N",
        default_value = "5"
    )]
    pub keep_releases: usize,

    /// droplet-compose: where releases and locks live on the host.
    #[arg(
        long = "state-dir",
        env = "INPUT_STATE_DIR",
        value_name = "PATH",
        default_value = "/var/lib/ops-actions"
    )]
    pub state_dir: String,

    /// droplet-compose and doks: the release to roll back to (`action: rollback`; default: the one before
    /// the current).
    #[arg(long, env = "INPUT_RELEASE", value_name = "ID")]
    pub release: Option<String>,

    /// droplet-compose: longest wait for a TCP connection and the SSH handshake to a host.
    #[arg(long = "connect-timeout", env = "INPUT_CONNECT_TIMEOUT", value_name = "DURATION",
          default_value = "10s", value_parser = parse_duration)]
    pub connect_timeout: Duration,

    /// droplet-compose: longest time one remote command may take.
    #[arg(long = "command-timeout", env = "INPUT_COMMAND_TIMEOUT", value_name = "DURATION",
          default_value = "5m", value_parser = parse_duration)]
    pub command_timeout: Duration,

    /// droplet-compose and doks: longest wait for another deploy's lock.
    #[arg(long = "lock-timeout", env = "INPUT_LOCK_TIMEOUT", value_name = "DURATION",
          default_value = "5m", value_parser = parse_duration)]
    pub lock_timeout: Duration,

    /// droplet-compose and doks: a lock whose holder sent no heartbeat for this long is taken over (its
    /// holder is named in the log); doks: the Lease's duration.
    #[arg(long = "lock-stale", env = "INPUT_LOCK_STALE", value_name = "DURATION",
          default_value = "2m", value_parser = parse_duration)]
    pub lock_stale: Duration,

    /// droplet-compose: deploy to every Droplet with this tag (listed through the API with `token`, frozen
    /// at plan time); not with `hosts`.
    #[arg(long = "droplet-tag", env = "INPUT_DROPLET_TAG", value_name = "TAG")]
    pub droplet_tag: Option<String>,

    /// droplet-compose: which address of a tagged Droplet to connect to: `public` or `private`.
    #[arg(long, env = "INPUT_ADDRESS", value_enum, default_value = "public")]
    pub address: Address,

    /// droplet-compose: the login name for tagged Droplets (`hosts` lines carry their own).
    #[arg(
        long = "ssh-user",
        env = "INPUT_SSH_USER",
        value_name = "USER",
        default_value = "root"
    )]
    pub ssh_user: String,

    /// droplet-compose: a DigitalOcean Load Balancer (ID or name) in front of the tagged Droplets: each
    /// host is taken out before it changes, put back after, and probed until healthy before the next batch.
    #[arg(long = "load-balancer", env = "INPUT_LOAD_BALANCER", value_name = "ID|NAME")]
    pub load_balancer: Option<String>,

    /// droplet-compose: never take a host out of the Load Balancer while fewer than this many would stay in.
    #[arg(
        long = "min-healthy",
        env = "INPUT_MIN_HEALTHY",
        value_name = "N",
        default_value = "1"
    )]
    pub min_healthy: usize,

    /// droplet-compose: hosts deployed at a time; each batch is healthy and observed before the next.
    #[arg(long = "max-parallel", env = "INPUT_MAX_PARALLEL", value_name = "N", default_value = "1",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_parallel: u32,

    /// droplet-compose: when a host fails, `rollback-all` switches every host that already switched back
    /// to its previous release; `halt` leaves them on the new one.
    #[arg(
        long = "on-failure",
        env = "INPUT_ON_FAILURE",
        value_enum,
        default_value = "rollback-all"
    )]
    pub on_failure: OnFailure,

    /// droplet-compose: free disk every host needs (state directory and Docker's image store) before any
    /// host is changed, such as `2G` or `500M`.
    #[arg(long = "min-free-disk", env = "INPUT_MIN_FREE_DISK", value_name = "SIZE", default_value = "1G",
          value_parser = parse_size)]
    pub min_free_disk: u64,

    /// droplet-compose: registry to log in to on the host before pulling (with `registry-username`
    /// and `registry-password`; the password goes over stdin, never on a command line).
    #[arg(long, env = "INPUT_REGISTRY", value_name = "HOST")]
    pub registry: Option<String>,

    /// droplet-compose: user name for `registry`.
    #[arg(
        long = "registry-username",
        env = "INPUT_REGISTRY_USERNAME",
        value_name = "USER"
    )]
    pub registry_username: Option<String>,

    /// droplet-compose: password or token for `registry`. Masked; never printed.
    #[arg(
        long = "registry-password",
        env = "INPUT_REGISTRY_PASSWORD",
        value_name = "TOKEN"
    )]
    pub registry_password: Option<Secret>,

    // ── doks ───────────────────────────────────────────────────────────────────────────────────
    /// doks: the DigitalOcean Kubernetes cluster (name or ID); short-lived credentials are fetched with
    /// `token` and kept in memory.
    #[arg(long, env = "INPUT_CLUSTER", value_name = "NAME|ID")]
    pub cluster: Option<String>,

    /// doks: a kubeconfig (its text) for a cluster elsewhere, instead of `cluster`. Masked; never printed
    /// or written to disk.
    #[arg(long, env = "INPUT_KUBECONFIG", value_name = "YAML")]
    pub kubeconfig: Option<Secret>,

    /// doks: Kubernetes manifests: files or folders, one per line, relative to the workspace; `-` reads
    /// standard input (Kustomize or Helm output piped in).
    #[arg(long, env = "INPUT_MANIFESTS", value_name = "PATHS")]
    pub manifests: Option<String>,

    /// doks: the namespace of objects that name none, of the deploy lock (a Lease) and of the release
    /// records.
    #[arg(long, env = "INPUT_NAMESPACE", value_name = "NAME", default_value = "default")]
    pub namespace: String,

    /// doks: restarts of a pod of the new revision that fail the rollout at once.
    #[arg(
        long = "max-restarts",
        env = "INPUT_MAX_RESTARTS",
        value_name = "N",
        default_value = "2"
    )]
    pub max_restarts: u32,

    /// doks: how long a pod of the new revision may stay Unschedulable before the rollout fails.
    #[arg(long = "unschedulable-grace", env = "INPUT_UNSCHEDULABLE_GRACE", value_name = "DURATION",
          default_value = "2m", value_parser = parse_duration)]
    pub unschedulable_grace: Duration,
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
