//! The `droplet-compose` target: Docker Compose apps on Droplets over SSH, blue-green behind nginx
//! (or recreate), with an immutable release per deploy and automatic rollback.
//!
//! The flow is the shared one ([`crate::flow`]): **plan** here, locally, before any connection
//! (hosts, pinned host keys, the key, the Compose file rendered into its app and shared halves, the
//! env file, the images; any problem is exit 2 with nothing touched), then per host ([`host`]):
//! **apply** (lock, release upload sealed by a rename, pull, shared services, `pre-deploy`, the new
//! colour with `up -d --wait`), **follow/verify** (running digests equal the requested ones; N
//! consecutive 2xx through the route), switch the proxy, **observe**, and **roll back** on any failure;
//! then **report** (per-host summary with timings and health evidence, outputs, GitHub deployment).
//! Several hosts (`fleet`): every host is opened (connected, preflighted, locked) before any changes;
//! then `max-parallel` at a time, each batch live and observed before the next, out of and back into
//! a Load Balancer when one is given; the first failure switches the hosts that already switched back
//! (`on-failure: rollback-all`) and leaves the rest untouched.

pub mod api;
pub mod compose;
pub mod host;
pub mod hostkeys;
pub mod remote;
pub mod ssh;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ops_core::{Env, ExitStatus, Runner, Secret};
use russh::keys::PrivateKey;
use serde_json::json;

use self::compose::{Options, RenderError};
use self::host::{HostReport, HostResult};
use self::hostkeys::Pins;
use self::remote::Layout;
use self::ssh::Host;
use crate::cli::{Action, Args, OnFailure, Proxy, Strategy};
use crate::clock::Clock;
use crate::duration::human;
use crate::error::Error;
use crate::flow::{self, Cancel, Deadline, Ending, Identity, Limit, Outputs, cell, github};

/// What a host should end up running.
#[derive(Debug, Clone)]
pub enum Want {
    /// This run's new release.
    New,
    /// An earlier release (`action: rollback`): the named one, or the one before the live one.
    Release(Option<String>),
}

/// Everything decided before the first connection.
pub struct Plan {
    /// The hosts, in order.
    pub hosts: Vec<Host>,
    /// Their Droplet IDs, when they came from `droplet-tag`.
    pub droplet_ids: Vec<Option<u64>>,
    /// The Load Balancer in front of them.
    pub balancer: Option<api::Balancer>,
    /// The DigitalOcean client, for the balancer.
    pub api: Option<api::Api>,
    /// Pinned host keys.
    pub pins: Arc<Pins>,
    /// The login key.
    pub key: Arc<PrivateKey>,
    /// The Compose project.
    pub project: String,
    /// How the release replaces the live one.
    pub strategy: Strategy,
    /// The route service and its container port.
    pub route: Option<(String, u16)>,
    /// The nginx upstream file (blue-green).
    pub upstream_file: Option<String>,
    /// The upstream block's name.
    pub upstream_name: String,
    /// The proxy's configuration check.
    pub proxy_check: String,
    /// The proxy's reload.
    pub proxy_reload: String,
    /// The release's files: name → content (secret: the env file is among them).
    pub files: Vec<(String, Secret)>,
    /// Service → image.
    pub images: BTreeMap<String, String>,
    /// This run's release ID.
    pub release_id: String,
    /// The host layout.
    pub layout: Layout,
    /// Who deploys.
    pub identity: Identity,
    /// This run's lock token.
    pub lock_token: String,
    /// `pre-deploy`: the service and the command's words.
    pub pre_deploy: Option<(String, Vec<String>)>,
    /// `registry`, `registry-username`, `registry-password`.
    pub registry_login: Option<(String, String, Secret)>,
    /// Limits and windows.
    pub connect_timeout: Duration,
    /// Per remote command.
    pub command_timeout: Duration,
    /// Waiting for the lock.
    pub lock_timeout: Duration,
    /// Taking over a lock without heartbeat.
    pub lock_stale: Duration,
    /// The health gate's wait.
    pub health_timeout: Duration,
    /// The health path.
    pub health_path: String,
    /// Consecutive 2xx needed.
    pub health_successes: u32,
    /// Watching after the switch.
    pub observe: Duration,
    /// Before stopping the old colour.
    pub drain: Duration,
    /// Releases kept.
    pub keep_releases: usize,
    /// Hosts at a time.
    pub max_parallel: u32,
    /// When a host fails.
    pub on_failure: OnFailure,
    /// Free disk needed on every host.
    pub min_free_disk: u64,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("hosts", &self.hosts)
            .field("project", &self.project)
            .field("release_id", &self.release_id)
            .finish_non_exhaustive()
    }
}

fn input(message: impl Into<String>, hint: Option<&str>) -> Error {
    Error::input(message, hint)
}

impl From<RenderError> for Error {
    fn from(e: RenderError) -> Self {
        input(e.0, None)
    }
}

/// Runs a droplet-compose action.
pub fn run(args: &Args, env: &Env, runner: &Runner, _clock: Clock) -> Result<ExitStatus, Error> {
    let want = match args.action {
        Action::Deploy => Want::New,
        Action::Rollback => Want::Release(args.release.clone()),
        other => {
            return Err(input(
                format!(
                    "input `action`: `{}` is an App Platform action; droplet-compose has `deploy` and `rollback`",
                    format!("{other:?}").to_lowercase()
                ),
                None,
            ));
        }
    };
    let runtime = crate::flow::runtime()?;
    runtime.block_on(async {
        let fleet = resolve(args, env, runner).await?;
        let plan = plan(args, env, runner, &want, fleet)?;
        deploy(args, env, runner, &plan, &want).await
    })
}

/// What `droplet-tag` and `load-balancer` resolve to, through the API.
#[derive(Debug, Default)]
pub struct Fleet {
    /// Hosts from the tag, with their Droplet IDs.
    pub hosts: Vec<(Host, u64)>,
    /// The balancer.
    pub balancer: Option<api::Balancer>,
    /// The client, for the balancer's calls.
    pub api: Option<api::Api>,
}

/// Lists the tagged Droplets and reads the balancer (before anything changes).
async fn resolve(args: &Args, env: &Env, runner: &Runner) -> Result<Fleet, Error> {
    let Some(tag) = args
        .droplet_tag
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        if args.load_balancer.is_some() {
            return Err(input(
                "input `load-balancer` needs `droplet-tag` (the balancer's Droplets are matched by ID)",
                None,
            ));
        }
        return Ok(Fleet::default());
    };
    if args.hosts.as_deref().is_some_and(|h| !h.trim().is_empty()) {
        return Err(input(
            "inputs `hosts` and `droplet-tag` can't both be set: choose one",
            None,
        ));
    }
    let token = args.token.clone().ok_or_else(|| {
        input(
            "input required for `droplet-tag` and not supplied: `token` (a DigitalOcean token with `droplet:read` and \
             `tag:read`)",
            None,
        )
    })?;
    runner.mask(token.expose());
    let policy = ops_net::RetryPolicy::from_env(env).map_err(|e| input(e.to_string(), None))?;
    let api = api::Api::new(&args.api_url, token, policy)?;
    let droplets = api.droplets_by_tag(tag).await?;
    if droplets.is_empty() {
        return Err(input(format!("no Droplet has the tag `{tag}`"), None));
    }
    let mut hosts = Vec::new();
    for d in &droplets {
        let ip = match args.address {
            crate::cli::Address::Public => d.public.clone(),
            crate::cli::Address::Private => d.private.clone(),
        }
        .ok_or_else(|| {
            input(
                format!(
                    "Droplet `{}` ({}) has no {:?} IPv4 address",
                    d.name, d.id, args.address
                )
                .to_lowercase(),
                None,
            )
        })?;
        let host = Host::parse(&format!("{}@{ip}", args.ssh_user))
            .map_err(|e| input(format!("Droplet `{}`: {e}", d.name), None))?;
        hosts.push((host, d.id));
    }
    runner.info(&format!(
        "droplet-tag `{tag}`: {} Droplet(s), frozen for this run: {}",
        hosts.len(),
        droplets
            .iter()
            .zip(&hosts)
            .map(|(d, (h, _))| format!("{} ({}, {h})", d.name, d.id))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let balancer = match &args.load_balancer {
        Some(lb) => {
            let b = api.balancer(lb.trim()).await?;
            match &b.tag {
                Some(t) => runner.info(&format!(
                    "load balancer `{}` targets the tag `{t}`: the API refuses to take Droplets out of it (422), so \
                     hosts stay in it; blue-green keeps each host serving through its switch",
                    b.name
                )),
                None => {
                    let ours = hosts.iter().filter(|(_, id)| b.droplet_ids.contains(id)).count();
                    let batch = args.max_parallel as usize;
                    if ours > 0 && b.droplet_ids.len().saturating_sub(batch.min(ours)) < args.min_healthy {
                        return Err(input(
                            format!(
                                "load balancer `{}` has {} Droplet(s): taking {batch} out at a time (`max-parallel`) \
                                 would leave fewer than `min-healthy` ({}) in service",
                                b.name,
                                b.droplet_ids.len(),
                                args.min_healthy
                            ),
                            Some("lower `max-parallel` or `min-healthy`"),
                        ));
                    }
                    runner.info(&format!(
                        "load balancer `{}`: each host is taken out before it changes and put back after, then probed \
                         on {}:{}{} until healthy {} time(s) {}s apart",
                        b.name, b.check.0, b.check.1, b.check.2, b.healthy_threshold, b.interval
                    ));
                }
            }
            Some(b)
        }
        None => None,
    };
    Ok(Fleet {
        hosts,
        balancer,
        api: Some(api),
    })
}

/// Checks every input and prepares the release; nothing is contacted.
pub fn plan(args: &Args, env: &Env, runner: &Runner, want: &Want, fleet: Fleet) -> Result<Plan, Error> {
    // Secrets first: masked before anything could print them.
    let key_text = args.ssh_key.as_ref().ok_or_else(|| {
        input(
            "input required and not supplied: `ssh-key`",
            Some("pass the deploy key: `ssh-key: ${{ secrets.DEPLOY_SSH_KEY }}`"),
        )
    })?;
    for line in key_text.expose().lines().filter(|l| l.len() >= 8) {
        runner.mask(line);
    }
    if let Some(p) = &args.registry_password {
        runner.mask(p.expose());
    }
    if let Some(t) = &args.github_token {
        runner.mask(t.expose());
    }
    let (hosts, droplet_ids): (Vec<Host>, Vec<Option<u64>>) = if fleet.hosts.is_empty() {
        let hosts: Vec<Host> = args
            .hosts
            .as_deref()
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .enumerate()
            .map(|(i, l)| {
                Host::parse(l).map_err(|e| input(format!("input `hosts` line {}: {e}", i + 1), None))
            })
            .collect::<Result<_, _>>()?;
        let n = hosts.len();
        (hosts, vec![None; n])
    } else {
        fleet.hosts.into_iter().map(|(h, id)| (h, Some(id))).unzip()
    };
    if hosts.is_empty() {
        return Err(input(
            "input required and not supplied: `hosts` (one `[user@]host[:port]` per line) or `droplet-tag`",
            None,
        ));
    }
    let pins = Pins::parse(args.known_hosts.as_deref(), args.host_fingerprints.as_deref()).map_err(|e| {
        input(
            e.0,
            Some("get the lines with `ssh-keyscan -H HOST` from a machine you trust, and store them as a secret or variable"),
        )
    })?;
    for h in &hosts {
        if !pins.covers(&h.host, h.port) {
            return Err(input(
                format!(
                    "no pinned host key for `{h}`: `known-hosts` has no line for it and `host-fingerprints` is empty"
                ),
                Some("add its line from `ssh-keyscan -H` (no key is ever trusted on first use)"),
            ));
        }
    }
    let key = russh::keys::decode_secret_key(key_text.expose().trim(), None).map_err(|_| {
        input(
            "input `ssh-key` is not a private key this tool can read (OpenSSH or PEM, without a passphrase)",
            Some("generate one with `ssh-keygen -t ed25519 -N ''` and add the public half to the host's authorized_keys"),
        )
    })?;
    if matches!(want, Want::Release(_)) && args.strategy == Strategy::BlueGreen && args.route.is_none() {
        return Err(input(
            "input required for blue-green and not supplied: `route` (`service:port`)",
            None,
        ));
    }
    // The Compose file.
    let (shown, path) = compose_path(args, env)?;
    let text =
        std::fs::read_to_string(&path).map_err(|e| input(format!("cannot read `{shown}`: {e}"), None))?;
    let doc = compose::parse(&shown, &text)?;
    let project = match &args.project {
        Some(p) => p.clone(),
        None => compose::name(&doc)
            .map(str::to_owned)
            .or_else(|| env.repository().map(|(_, repo)| repo))
            .ok_or_else(|| {
                input(
                    "cannot tell the project's name: set `project` or `name:` in the Compose file",
                    None,
                )
            })?,
    };
    if project.is_empty()
        || project.len() > 60
        || !project
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        || !project.as_bytes()[0].is_ascii_alphanumeric()
    {
        return Err(input(
            format!(
                "project name `{project}` must be lowercase letters, digits, `-` and `_`, starting with a letter or digit"
            ),
            None,
        ));
    }
    let (images, image_warnings) = compose::parse_images(&args.images, args.allow_mutable_tags)?;
    for w in image_warnings {
        runner.warning(&w);
    }
    let route = match &args.route {
        Some(r) => {
            let (svc, port) = r
                .rsplit_once(':')
                .and_then(|(s, p)| Some((s.trim(), p.trim().parse::<u16>().ok()?)))
                .filter(|(s, p)| !s.is_empty() && *p > 0)
                .ok_or_else(|| input(format!("input `route`: expected `service:port`, got `{r}`"), None))?;
            Some((svc.to_owned(), port))
        }
        None => None,
    };
    let blue_green = args.strategy == Strategy::BlueGreen;
    if blue_green {
        if route.is_none() {
            return Err(input(
                "input required for `strategy: blue-green` and not supplied: `route` (`service:port` the proxy sends \
                 traffic to)",
                Some("or use `strategy: recreate` (short downtime, no proxy)"),
            ));
        }
        if args.proxy == Proxy::None {
            return Err(input(
                "`strategy: blue-green` needs a proxy to switch: set `proxy: nginx`, or use `strategy: recreate`",
                None,
            ));
        }
    }
    let release_id = release_id(env);
    let layout = Layout::new(&args.state_dir, &project);
    let env_path = format!("{}/app.env", layout.release(&release_id));
    let env_file = match &args.app_env {
        Some(e) => Some(env_file(e, runner)?),
        None => None,
    };
    let rendered = compose::render(
        &shown,
        &doc,
        &Options {
            project: &project,
            images: &images,
            route: if blue_green {
                route.as_ref().map(|(s, p)| (s.as_str(), *p))
            } else {
                None
            },
            env_file: env_file.as_ref().map(|_| env_path.as_str()),
            release: &release_id,
        },
    )?;
    if !blue_green
        && let Some((svc, _)) = &route
        && !images.contains_key(svc)
    {
        return Err(input(
            format!("input `route` names service `{svc}`, which is not one of the app services in `images`"),
            None,
        ));
    }
    for w in &rendered.warnings {
        runner.warning(w);
    }
    let pre_deploy = match args
        .pre_deploy
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(cmd) => {
            let words = split_words(cmd).map_err(|e| input(format!("input `pre-deploy`: {e}"), None))?;
            let service = args
                .pre_deploy_service
                .clone()
                .or_else(|| route.as_ref().map(|(s, _)| s.clone()))
                .ok_or_else(|| {
                    input(
                        "input `pre-deploy` needs `pre-deploy-service` (or a `route`)",
                        None,
                    )
                })?;
            if !images.contains_key(&service) {
                return Err(input(
                    format!(
                        "input `pre-deploy-service`: `{service}` is not one of the app services in `images`"
                    ),
                    None,
                ));
            }
            Some((service, words))
        }
        None => None,
    };
    let registry_login = match (&args.registry, &args.registry_username, &args.registry_password) {
        (Some(r), Some(u), Some(p)) => Some((r.clone(), u.clone(), p.clone())),
        (None, None, None) => None,
        _ => {
            return Err(input(
                "`registry`, `registry-username` and `registry-password` go together: set all three or none",
                None,
            ));
        }
    };
    let identity = Identity::from_env(env);
    let upstream_file = blue_green.then(|| {
        args.proxy_upstream_file
            .clone()
            .unwrap_or_else(|| format!("/etc/nginx/conf.d/{project}-upstream.conf"))
    });
    let upstream_name = args
        .proxy_upstream_name
        .clone()
        .unwrap_or_else(|| project.clone());
    let record = json!({
        "id": release_id,
        "project": project,
        "strategy": if blue_green { "blue-green" } else { "recreate" },
        "images": images,
        "app_services": rendered.app_services,
        "shared_services": rendered.shared_services,
        "repository": identity.repository,
        "run": identity.run,
        "run_url": identity.run_url,
        "sha": identity.sha,
        "actor": identity.actor,
        "created": identity.started,
    });
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let mut files = vec![
        ("compose.app.json".to_owned(), Secret::new(pretty(&rendered.app))),
        ("release.json".to_owned(), Secret::new(pretty(&record))),
    ];
    if let Some(shared) = &rendered.shared {
        files.push(("compose.shared.json".to_owned(), Secret::new(pretty(shared))));
    }
    if let Some(e) = env_file {
        files.push(("app.env".to_owned(), e));
    }
    Ok(Plan {
        hosts,
        droplet_ids,
        balancer: fleet.balancer,
        api: fleet.api,
        pins: Arc::new(pins),
        key: Arc::new(key),
        project,
        strategy: args.strategy,
        route,
        upstream_file,
        upstream_name,
        proxy_check: args.proxy_check.clone(),
        proxy_reload: args.proxy_reload.clone(),
        files,
        images,
        release_id,
        layout,
        identity,
        lock_token: token(),
        pre_deploy,
        registry_login,
        connect_timeout: args.connect_timeout,
        command_timeout: args.command_timeout,
        lock_timeout: args.lock_timeout,
        lock_stale: args.lock_stale,
        health_timeout: args.health_timeout,
        health_path: args.health_path.clone(),
        health_successes: args.health_successes,
        observe: args.observe,
        drain: args.drain,
        keep_releases: args.keep_releases,
        max_parallel: args.max_parallel,
        on_failure: args.on_failure,
        min_free_disk: args.min_free_disk,
    })
}

/// `compose-file`, else `compose.yaml`, else `docker-compose.yml`, in the workspace.
fn compose_path(args: &Args, env: &Env) -> Result<(String, PathBuf), Error> {
    let resolve = |rel: &PathBuf| {
        if rel.is_absolute() {
            rel.clone()
        } else {
            env.workspace().join(rel)
        }
    };
    if let Some(f) = &args.compose_file {
        return Ok((f.display().to_string(), resolve(f)));
    }
    for name in [
        "compose.yaml",
        "compose.yml",
        "docker-compose.yml",
        "docker-compose.yaml",
    ] {
        let p = resolve(&PathBuf::from(name));
        if p.is_file() {
            return Ok((name.to_owned(), p));
        }
    }
    Err(input(
        "no Compose file: `compose.yaml` and `docker-compose.yml` are not in the workspace",
        Some("set `compose-file`"),
    ))
}

/// The env file for Compose: `KEY='value'` lines (single quotes: no interpolation), every value
/// that could be secret masked. Errors name the line, never the value.
fn env_file(env: &Secret, runner: &Runner) -> Result<Secret, Error> {
    let mut out = String::new();
    for (i, raw) in env.expose().lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |m: &str| input(format!("input `env` line {}: {m}", i + 1), None);
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| at("expected `KEY=value` (the value is not shown)"))?;
        let key = key.trim().trim_start_matches("export ").trim();
        if key.is_empty()
            || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            || key.as_bytes()[0].is_ascii_digit()
        {
            return Err(at(
                "the name must be letters, digits and `_`, not starting with a digit",
            ));
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        if value.len() >= 6 || (ops_core::secret::looks_secret(key) && !value.is_empty()) {
            runner.mask(value);
        }
        let quoted = if !value.contains('\'') {
            format!("'{value}'")
        } else if !value.contains('$') {
            format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
        } else {
            return Err(at(&format!(
                "the value of `{key}` holds both `'` and `$`, which Compose's env file cannot carry literally"
            )));
        };
        out.push_str(&format!("{key}={quoted}\n"));
    }
    Ok(Secret::new(out))
}

/// `20261207T013000Z-ab12cd3-1f2e`: sorts by time; the commit and a random suffix keep it unique.
fn release_id(env: &Env) -> String {
    let now = flow::now_rfc3339(env).replace(['-', ':'], "");
    let sha: String = env
        .non_empty("GITHUB_SHA")
        .unwrap_or("local")
        .chars()
        .take(7)
        .collect();
    format!("{now}-{sha}-{}", &token()[..4])
}

fn token() -> String {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    hex::encode(b)
}

/// Splits a command into words (single and double quotes, backslash escapes; no expansion).
pub fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => cur.push(c),
                        None => return Err("unclosed `'`".to_owned()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => cur.push(chars.next().ok_or("unclosed `\"`")?),
                        Some(c) => cur.push(c),
                        None => return Err("unclosed `\"`".to_owned()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.push(chars.next().ok_or("a trailing `\\`")?);
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

async fn deploy(
    args: &Args,
    env: &Env,
    runner: &Runner,
    plan: &Plan,
    want: &Want,
) -> Result<ExitStatus, Error> {
    let cancel = Cancel::listen();
    let deadline = Deadline::start(Limit::new("timeout", args.timeout));
    let what = match want {
        Want::New => format!("release `{}` of `{}`", plan.release_id, plan.project),
        Want::Release(Some(r)) => format!("rollback of `{}` to release `{r}`", plan.project),
        Want::Release(None) => format!("rollback of `{}` to the previous release", plan.project),
    };
    runner.info(&format!(
        "plan: {what} to {} host(s) ({}), {}",
        plan.hosts.len(),
        plan.hosts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        match plan.strategy {
            Strategy::BlueGreen => "blue-green behind nginx",
            Strategy::Recreate => "recreate in place",
        }
    ));
    let record = match &args.github_token {
        Some(token) => {
            let reference = env.non_empty("GITHUB_SHA").unwrap_or("HEAD").to_owned();
            let environment = args.environment.clone().unwrap_or_else(|| plan.project.clone());
            github::start(
                env,
                runner,
                token,
                github::Plan {
                    reference: &reference,
                    environment: &environment,
                    transient: false,
                    description: &format!("Droplets: {}", plan.project),
                    payload: json!({ "project": plan.project, "release": plan.release_id }),
                },
            )
            .await
        }
        None => None,
    };
    let ctx = host::Ctx {
        plan,
        runner,
        cancel: &cancel,
        deadline,
    };
    let reports = fleet(&ctx, plan, want).await;
    // Bad configuration found before anything changed anywhere: exit 2.
    if let Some((first, message)) = reports.iter().find_map(|r| match &r.result {
        HostResult::Failed(m) if r.input_error => Some((r, m)),
        _ => None,
    }) && reports
        .iter()
        .all(|r| matches!(r.result, HostResult::Untouched) || std::ptr::eq(r, first))
    {
        if let Some(r) = &record {
            r.status(runner, "error", None, message).await;
        }
        return Err(input(message.clone(), None));
    }
    // A host that could not be reached before anything changed: the network broke (exit 3, worth a retry).
    if let Some(r) = reports.iter().find(|r| r.unreachable)
        && reports
            .iter()
            .all(|r| r.unreachable || r.input_error || matches!(r.result, HostResult::Untouched))
        && let HostResult::Failed(message) = &r.result
    {
        if let Some(rec) = &record {
            rec.status(runner, "error", None, message).await;
        }
        return Err(Error::Runtime {
            message: format!("{}: {message}; no host was changed", r.host),
            hint: Some(
                "check that the runner can reach the host's SSH port, then run the job again".to_owned(),
            ),
        });
    }
    let ending = ending(&reports);
    let first = reports.first();
    let outputs = Outputs {
        release_id: first.map(|r| r.release.clone()).unwrap_or_default(),
        previous_release: first.and_then(|r| r.previous.clone()).unwrap_or_default(),
    };
    outputs.write(runner, &ending)?;
    runner.set_output(
        "hosts",
        &serde_json::to_string(
            &reports
                .iter()
                .map(|r| {
                    json!({
                        "host": r.host,
                        "release": r.release,
                        "result": result_word(&r.result),
                    })
                })
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default(),
    )?;
    ending.announce(runner, &what);
    if let Some(r) = &record {
        r.status(runner, ending.github_state(), None, &ending.headline())
            .await;
    }
    runner.append_summary(&summary(plan, &what, &ending, &reports))?;
    Ok(ending.exit_status())
}

/// Opens every host (connect, preflight, lock) before changing any; then activates them in batches of
/// `max-parallel`, each batch healthy and observed before the next; on the first failure, switches
/// back every host that already switched (`on-failure: rollback-all`) or leaves them (`halt`); when all
/// are live, finishes each. Every host ends with a row.
async fn fleet(ctx: &host::Ctx<'_>, plan: &Plan, want: &Want) -> Vec<HostReport> {
    use futures_util::future::join_all;
    let opened = join_all(plan.hosts.iter().map(|h| host::open(ctx, h, want))).await;
    if opened.iter().any(Result::is_err) {
        let failed: Vec<String> = opened
            .iter()
            .filter_map(|o| o.as_ref().err().map(|r| r.host.clone()))
            .collect();
        let mut reports = Vec::new();
        for o in opened {
            reports.push(match o {
                Ok(h) => {
                    let mut r = h.close().await;
                    r.result = HostResult::Untouched;
                    r
                }
                Err(r) => r,
            });
        }
        if plan.hosts.len() > 1 {
            ctx.runner.error(&format!(
                "preflight failed on {}: no host was changed",
                failed
                    .iter()
                    .map(|h| format!("`{h}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        return reports;
    }
    let mut hosts: Vec<_> = opened.into_iter().filter_map(Result::ok).collect();
    let batch = plan.max_parallel.max(1) as usize;
    let mut failure: Option<(usize, String)> = None;
    let mut done = 0;
    for (n, chunk) in hosts.chunks_mut(batch).enumerate() {
        if plan.hosts.len() > 1 {
            ctx.runner.info(&format!(
                "batch {} of {}: {}",
                n + 1,
                plan.hosts.len().div_ceil(batch),
                chunk
                    .iter()
                    .map(|h| h.report.host.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        // Out of the balancer (Droplet-ID balancers), never below `min-healthy`.
        let start = n * batch;
        let out_ids: Vec<u64> = match (&plan.balancer, &plan.api) {
            (Some(lb), Some(_)) if lb.tag.is_none() => (start..start + chunk.len())
                .filter_map(|i| plan.droplet_ids.get(i).copied().flatten())
                .filter(|id| lb.droplet_ids.contains(id))
                .collect(),
            _ => Vec::new(),
        };
        if let (Some(lb), Some(api), false) = (&plan.balancer, &plan.api, out_ids.is_empty()) {
            if let Err(e) = api.balancer_droplets(&lb.id, &out_ids, true).await {
                failure = Some((
                    start,
                    format!("could not take {out_ids:?} out of the balancer: {e}"),
                ));
                for h in chunk.iter_mut() {
                    h.report.result =
                        HostResult::Failed("the balancer refused to let it out; not changed".to_owned());
                }
                done += chunk.len();
                break;
            }
            ctx.runner.info(&format!(
                "took Droplet(s) {out_ids:?} out of load balancer `{}`; waiting {} for its in-flight requests",
                lb.name,
                human(plan.drain)
            ));
            tokio::time::sleep(plan.drain).await;
        }
        let mut results = join_all(chunk.iter_mut().map(|h| h.activate())).await;
        if let (Some(lb), Some(api), false) = (&plan.balancer, &plan.api, out_ids.is_empty()) {
            match api.balancer_droplets(&lb.id, &out_ids, false).await {
                Ok(()) => ctx.runner.info(&format!(
                    "put Droplet(s) {out_ids:?} back into load balancer `{}`",
                    lb.name
                )),
                Err(e) => ctx.runner.error(&format!(
                    "could not put Droplet(s) {out_ids:?} back into load balancer `{}`: {e}",
                    lb.name
                )),
            }
            if results.iter().all(|ok| *ok) {
                for (h, ok) in chunk.iter_mut().zip(results.iter_mut()) {
                    if let Err(e) = h.balancer_check(lb).await {
                        ctx.runner.error(&format!("{}: {e}", h.report.host));
                        h.revert(&e).await;
                        *ok = false;
                        break;
                    }
                }
            }
        }
        done += chunk.len();
        if let Some(i) = results.iter().position(|ok| !ok) {
            let host = &chunk[i].report.host;
            let why = match &chunk[i].report.result {
                HostResult::Failed(m) | HostResult::RolledBack(m) | HostResult::RollbackFailed(m, _) => {
                    m.clone()
                }
                _ => "failed".to_owned(),
            };
            failure = Some((n * batch + i, format!("`{host}` failed: {why}")));
            break;
        }
    }
    match failure {
        None => {
            join_all(hosts.iter_mut().map(|h| h.finish())).await;
        }
        Some((failed, why)) => {
            for (i, h) in hosts.iter_mut().enumerate().take(done) {
                if i == failed || h.report.result != HostResult::Untouched {
                    continue;
                }
                match plan.on_failure {
                    OnFailure::RollbackAll => h.revert(&why).await,
                    OnFailure::Halt => {
                        ctx.runner.warning(&format!(
                            "{}: stays on the new release (`on-failure: halt`)",
                            h.report.host
                        ));
                        h.finish().await;
                    }
                }
            }
        }
    }
    let mut reports = Vec::new();
    for h in hosts {
        reports.push(h.close().await);
    }
    reports
}

/// How the whole deploy ended: the worst host decides.
fn ending(reports: &[HostReport]) -> Ending {
    if let Some((r, m, e)) = reports.iter().find_map(|r| match &r.result {
        HostResult::RollbackFailed(m, e) => Some((r, m, e)),
        _ => None,
    }) {
        return Ending::RollbackFailed {
            reason: format!("{}: {m}", r.host),
            rollback: e.clone(),
        };
    }
    let failed = reports.iter().find_map(|r| match &r.result {
        HostResult::Failed(m) | HostResult::RolledBack(m) => Some(format!("{}: {m}", r.host)),
        _ => None,
    });
    match failed {
        None => Ending::Live,
        Some(reason)
            if reports
                .iter()
                .any(|r| matches!(r.result, HostResult::RolledBack(_))) =>
        {
            Ending::RolledBack { reason }
        }
        Some(reason) => Ending::Failed { reason },
    }
}

fn result_word(r: &HostResult) -> &'static str {
    match r {
        HostResult::Live => "live",
        HostResult::RolledBack(_) => "rolled back",
        HostResult::Failed(_) => "failed",
        HostResult::RollbackFailed(..) => "rollback failed",
        HostResult::Untouched => "untouched",
    }
}

fn summary(plan: &Plan, what: &str, ending: &Ending, reports: &[HostReport]) -> String {
    let mut s = format!("### do-deploy: {}\n\n", cell(what));
    s.push_str(&match ending {
        Ending::Live => "**Live** on every host.\n\n".to_owned(),
        Ending::RolledBack { reason } => format!("**Failed and rolled back**: {}\n\n", cell(reason)),
        Ending::Failed { reason } => format!("**Failed**: {}\n\n", cell(reason)),
        Ending::RollbackFailed { reason, rollback } => format!(
            "**Failed, and the rollback failed too — check the host now.** {}; rollback: {}\n\n",
            cell(reason),
            cell(rollback)
        ),
    });
    s.push_str("| host | release | colour | result | timings | evidence |\n|---|---|---|---|---|---|\n");
    for r in reports {
        let timings: Vec<String> = r
            .phases
            .iter()
            .map(|(p, d)| format!("{p} {}", human_ms(*d)))
            .collect();
        let detail = match &r.result {
            HostResult::Failed(m) | HostResult::RolledBack(m) => format!("{}: {m}", result_word(&r.result)),
            HostResult::RollbackFailed(m, e) => format!("rollback failed: {m}; {e}"),
            other => result_word(other).to_owned(),
        };
        s.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} | {} |\n",
            cell(&r.host),
            cell(&r.release),
            r.colour.unwrap_or("—"),
            cell(&detail),
            cell(&timings.join(", ")),
            cell(&r.evidence.join("; "))
        ));
    }
    s.push_str(&format!(
        "\nProject `{}`, strategy {}; releases kept per host: {}.\n",
        cell(&plan.project),
        match plan.strategy {
            Strategy::BlueGreen => "blue-green",
            Strategy::Recreate => "recreate",
        },
        plan.keep_releases
    ));
    s
}

fn human_ms(d: Duration) -> String {
    if d < Duration::from_secs(10) {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        human(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(
            split_words("npx prisma migrate deploy").unwrap(),
            ["npx", "prisma", "migrate", "deploy"]
        );
        assert_eq!(
            split_words(r#"sh -c 'echo "a b"' x\ y"#).unwrap(),
            ["sh", "-c", "echo \"a b\"", "x y"]
        );
        assert_eq!(split_words("a ''").unwrap(), ["a", ""]);
        assert!(split_words("a 'b").is_err());
    }

    #[test]
    fn env_files_quote_and_never_show_values() {
        let env = ops_core::Env::from_pairs(std::iter::empty::<(&str, &str)>());
        let runner = Runner::with_sink(&env, Box::new(std::io::sink()));
        let out = env_file(
            &Secret::new("A=1\n# c\nexport B=\"x y\"\nC=it's\n".to_owned()),
            &runner,
        )
        .unwrap();
        assert_eq!(out.expose(), "A='1'\nB='x y'\nC=\"it's\"\n");
        let err = env_file(&Secret::new("A=1\nnot a pair s3cr3t\n".to_owned()), &runner).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(!err.to_string().contains("s3cr3t"));
        let err = env_file(&Secret::new("P=a'$b\n".to_owned()), &runner).unwrap_err();
        assert!(err.to_string().contains("`P`") && !err.to_string().contains("a'$b"));
    }
}
