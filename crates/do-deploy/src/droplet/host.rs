//! One host's deploy: lock, release, pull, shared services, migration, the new colour, digests,
//! health gate, proxy switch, observation, the old colour stopped (not removed), `current`, prune,
//! unlock. Every failure before the switch leaves the live release serving and removes the new
//! one; a failure after it switches back. What happened is a [`HostReport`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use ops_core::Runner;
use serde_json::{Value, json};

use super::compose::digest_of;
use super::remote::{self, Container, Layout};
use super::ssh::{Host, Session, SshError, quote, tail};
use super::{Plan, Want};
use crate::cli::Strategy;
use crate::duration::human;
use crate::flow::{Cancel, Deadline, Limit};

/// How one host ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostResult {
    /// The new release is live.
    Live,
    /// Failed; the previous release serves again (traffic had moved, or the recreate was undone).
    RolledBack(String),
    /// Failed before traffic moved: the previous release kept serving (or there was none).
    Failed(String),
    /// Failed, and putting the previous release back failed too.
    RollbackFailed(String, String),
    /// Not tried (an earlier host failed).
    Untouched,
}

/// One host's row in the summary.
#[derive(Debug, Clone)]
pub struct HostReport {
    /// `user@host`.
    pub host: String,
    /// The release deployed (or tried).
    pub release: String,
    /// The release live before.
    pub previous: Option<String>,
    /// The colour it went to (blue-green).
    pub colour: Option<&'static str>,
    /// How it ended.
    pub result: HostResult,
    /// Phase timings.
    pub phases: Vec<(&'static str, Duration)>,
    /// Health evidence (probes, digests, observation).
    pub evidence: Vec<String>,
    /// Whether the failure is the user's configuration (exit 2 when nothing changed anywhere).
    pub input_error: bool,
    /// Whether the host could not be reached (exit 3 when nothing changed anywhere).
    pub unreachable: bool,
}

/// Everything one host's deploy needs.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// Where output goes.
    pub runner: &'a Runner,
    /// SIGINT/SIGTERM.
    pub cancel: &'a Cancel,
    /// The whole deploy's deadline.
    pub deadline: Deadline,
}

/// What is live on the host.
#[derive(Debug, Clone, Default)]
struct Live {
    release: Option<String>,
    colour: Option<&'static str>,
    releases: Vec<String>,
}

struct Failure {
    message: String,
    /// The user's configuration, not the host.
    input: bool,
}

impl From<SshError> for Failure {
    fn from(e: SshError) -> Self {
        Self {
            input: e.is_input(),
            message: e.to_string(),
        }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self {
            message,
            input: false,
        }
    }
}

struct Run<'a, 'b> {
    ctx: &'b Ctx<'a>,
    s: Arc<Session>,
    host: String,
    layout: Layout,
    phases: Vec<(&'static str, Duration)>,
    evidence: Vec<String>,
}

fn colour_other(c: Option<&'static str>) -> &'static str {
    match c {
        Some("blue") => "green",
        _ => "blue",
    }
}

fn colour_name(c: &str) -> Option<&'static str> {
    match c {
        "blue" => Some("blue"),
        "green" => Some("green"),
        _ => None,
    }
}

impl Run<'_, '_> {
    fn limit(&self) -> Limit {
        self.ctx
            .deadline
            .bound(Limit::new("command-timeout", self.ctx.plan.command_timeout))
    }

    fn say(&self, text: &str) {
        self.ctx.runner.info(&format!("{}: {text}", self.host));
    }

    /// Runs a checked step, timing it; a failure carries the (masked, fenced) stderr tail.
    async fn step(
        &mut self,
        phase: &'static str,
        script: &str,
        stdin: Option<&[u8]>,
    ) -> Result<String, Failure> {
        if let Some(sig) = self.ctx.cancel.signal() {
            return Err(format!("cancelled by {sig} before step `{phase}`").into());
        }
        let started = Instant::now();
        let limit = self.limit();
        let result = tokio::select! {
            r = self.s.checked(phase, script, stdin, limit) => r,
            sig = self.ctx.cancel.cancelled() => {
                return Err(format!("cancelled by {sig} during step `{phase}`").into());
            }
        };
        let took = started.elapsed();
        match result {
            Ok(out) => {
                match self.phases.iter_mut().find(|(p, _)| *p == phase) {
                    Some((_, total)) => *total += took,
                    None => self.phases.push((phase, took)),
                }
                self.ctx
                    .runner
                    .debug(&format!("{}: step `{phase}` ok ({})", self.host, human(took)));
                Ok(out)
            }
            Err(e) => {
                if let SshError::Step { stderr, .. } = &e
                    && !stderr.trim().is_empty()
                {
                    self.ctx
                        .runner
                        .info(&format!("{}: last lines of `{phase}`'s stderr:", self.host));
                    self.ctx.runner.untrusted(&self.ctx.runner.redact(stderr));
                }
                Err(e.into())
            }
        }
    }

    /// Same, but a failure is only logged (clean-up steps).
    async fn try_step(&mut self, phase: &'static str, script: &str, stdin: Option<&[u8]>) -> bool {
        let limit = self.limit().max_with(Duration::from_secs(20));
        match self.s.checked(phase, script, stdin, limit).await {
            Ok(_) => true,
            Err(e) => {
                self.ctx.runner.warning(&format!("{e}"));
                if let SshError::Step { stderr, .. } = &e
                    && !stderr.trim().is_empty()
                {
                    self.ctx.runner.untrusted(&self.ctx.runner.redact(stderr));
                }
                false
            }
        }
    }
}

trait AtLeast {
    fn max_with(self, d: Duration) -> Self;
}

impl AtLeast for Limit {
    fn max_with(self, d: Duration) -> Self {
        if self.value < d {
            Self::new(self.input, d)
        } else {
            self
        }
    }
}

/// One host across a deploy's phases: **opened** (connected with its key pinned, preflighted, locked,
/// its live release read), **activated** (the new release up, verified, behind the proxy, observed),
/// then **finished** (`current`, old colour stopped, prune) or **reverted** (switched back, when a
/// later host of the fleet failed), then **closed** (lock released). Every host is opened before any
/// is changed, so one host failing its preflight changes nothing anywhere.
pub struct HostDeploy<'a, 'b> {
    run: Run<'a, 'b>,
    /// What happened so far.
    pub report: HostReport,
    session: Arc<Session>,
    beat: Option<tokio::task::JoinHandle<()>>,
    live: Live,
    release: String,
    fresh: bool,
    project: String,
    switched: bool,
    probe: Option<Probe>,
}

impl std::fmt::Debug for HostDeploy<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostDeploy")
            .field("host", &self.run.host)
            .finish_non_exhaustive()
    }
}

/// Connects, checks the host, takes the lock, reads what is live and picks the release to activate.
/// Changes nothing but the lock; on failure the lock is released and the report says why.
pub async fn open<'a, 'b>(
    ctx: &'b Ctx<'a>,
    host: &Host,
    want: &Want,
) -> Result<HostDeploy<'a, 'b>, HostReport> {
    let plan = ctx.plan;
    let mut report = HostReport {
        host: host.to_string(),
        release: match want {
            Want::New => plan.release_id.clone(),
            Want::Release(id) => id.clone().unwrap_or_default(),
        },
        previous: None,
        colour: None,
        result: HostResult::Untouched,
        phases: Vec::new(),
        evidence: Vec::new(),
        input_error: false,
        unreachable: false,
    };
    let started = Instant::now();
    ctx.runner.info(&format!("{host}: connecting (host key pinned)"));
    let limit = ctx
        .deadline
        .bound(Limit::new("connect-timeout", plan.connect_timeout));
    let session = match Session::connect(host, Arc::clone(&plan.pins), Arc::clone(&plan.key), limit).await {
        Ok(s) => Arc::new(s),
        Err(e) => {
            report.input_error = e.is_input();
            report.unreachable = !e.is_input();
            report.result = HostResult::Failed(format!("preflight: {e}"));
            return Err(report);
        }
    };
    let run = Run {
        ctx,
        s: Arc::clone(&session),
        host: host.to_string(),
        layout: plan.layout.clone(),
        phases: vec![("connect", started.elapsed())],
        evidence: Vec::new(),
    };
    let mut hd = HostDeploy {
        run,
        report,
        session,
        beat: None,
        live: Live::default(),
        release: String::new(),
        fresh: false,
        project: String::new(),
        switched: false,
        probe: None,
    };
    if let Err(f) = preflight(&mut hd.run).await {
        hd.report.input_error = f.input;
        hd.report.result = HostResult::Failed(format!("preflight: {}", f.message));
        return Err(hd.close().await);
    }
    let token = plan.lock_token.clone();
    if let Err(f) = lock(&mut hd.run, &token).await {
        hd.report.input_error = f.input;
        hd.report.result = HostResult::Failed(f.message);
        let report = std::mem::replace(&mut hd.report, empty_report());
        hd.session.close().await;
        return Err(finish_report(report, &mut hd.run));
    }
    hd.beat = Some(heartbeat(
        Arc::clone(&hd.session),
        hd.run.layout.lock_beat(&token),
    ));
    if let Err(result) = hd.pick(want).await {
        hd.report.result = result;
        return Err(hd.close().await);
    }
    Ok(hd)
}

fn empty_report() -> HostReport {
    HostReport {
        host: String::new(),
        release: String::new(),
        previous: None,
        colour: None,
        result: HostResult::Untouched,
        phases: Vec::new(),
        evidence: Vec::new(),
        input_error: false,
        unreachable: false,
    }
}

fn finish_report(mut report: HostReport, run: &mut Run<'_, '_>) -> HostReport {
    report.phases = std::mem::take(&mut run.phases);
    report.evidence = std::mem::take(&mut run.evidence);
    report
}

/// Docker, Compose v2 and free disk, before anything changes.
async fn preflight(run: &mut Run<'_, '_>) -> Result<(), Failure> {
    let plan = run.ctx.plan;
    let state = quote(&plan.layout.base);
    let script = format!(
        "echo \"docker=$(docker version --format '{{{{.Server.Version}}}}')\"
echo \"compose=$(docker compose version --short)\"
mkdir -p {state}
echo \"state=$(df -Pk {state} | awk 'NR==2 {{print $4}}')\"
root=$(docker info --format '{{{{.DockerRootDir}}}}')
echo \"images=$(df -Pk \"$root\" | awk 'NR==2 {{print $4}}')\""
    );
    let out = run.step("preflight", &script, None).await?;
    let get = |k: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let compose = get("compose").trim_start_matches('v').to_owned();
    if !compose.starts_with("2.") && !compose.starts_with("3.") {
        return Err(format!(
            "Docker Compose v2 is needed (`docker compose`), the host has `{}`",
            if compose.is_empty() { "none" } else { &compose }
        )
        .into());
    }
    for (what, key) in [
        ("the state directory", "state"),
        ("Docker's image store", "images"),
    ] {
        let free_kib: u64 = get(key).parse().unwrap_or(0);
        let free = free_kib.saturating_mul(1024);
        if free < plan.min_free_disk {
            return Err(format!(
                "{what} has {} free, less than `min-free-disk` ({})",
                bytes(free),
                bytes(plan.min_free_disk)
            )
            .into());
        }
    }
    run.evidence
        .push(format!("docker {}, compose {compose}", get("docker")));
    if let Some(login) = &plan.registry_login {
        let script = format!(
            "docker login --username {} --password-stdin {} >/dev/null",
            quote(&login.1),
            quote(&login.0)
        );
        run.step("registry login", &script, Some(login.2.expose().as_bytes()))
            .await?;
    }
    Ok(())
}

/// `1.5 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

impl HostDeploy<'_, '_> {
    /// Reads what is live and picks the release to activate.
    async fn pick(&mut self, want: &Want) -> Result<(), HostResult> {
        let plan = self.run.ctx.plan;
        let run = &mut self.run;
        let report = &mut self.report;
        let state = match run
            .step(
                "read state",
                &run.layout.read_state(plan.upstream_file.as_deref()),
                None,
            )
            .await
        {
            Ok(s) => s,
            Err(f) => {
                report.input_error = f.input;
                return Err(HostResult::Failed(f.message));
            }
        };
        let live = parse_state(&state, plan.strategy);
        report.previous = live.release.clone();
        if let Some(prev) = &live.release {
            run.say(&format!(
                "live release `{prev}`{}",
                live.colour.map(|c| format!(" ({c})")).unwrap_or_default()
            ));
        } else {
            run.say("no live release: this is the first deploy");
        }
        let (release, fresh) = match want {
            Want::New => (plan.release_id.clone(), true),
            Want::Release(named) => {
                let target = match named {
                    Some(id) => live.releases.iter().find(|r| *r == id).cloned(),
                    None => live.release.as_ref().and_then(|cur| {
                        let at = live.releases.iter().position(|r| r == cur)?;
                        at.checked_sub(1).map(|i| live.releases[i].clone())
                    }),
                };
                match target {
                    Some(t) if Some(&t) == live.release.as_ref() => {
                        return Err(HostResult::Failed(format!("release `{t}` is already live")));
                    }
                    Some(t) => (t, false),
                    None => {
                        report.input_error = true;
                        return Err(HostResult::Failed(match named {
                            Some(id) => {
                                format!("no release `{id}` on the host (kept: {})", list(&live.releases))
                            }
                            None => format!(
                                "no release before the live one on the host (kept: {})",
                                list(&live.releases)
                            ),
                        }));
                    }
                }
            }
        };
        report.release.clone_from(&release);
        let colour = (plan.strategy == Strategy::BlueGreen).then(|| colour_other(live.colour));
        report.colour = colour;
        self.project = match colour {
            Some(c) => format!("{}-{c}", plan.project),
            None => plan.project.clone(),
        };
        self.live = live;
        self.release = release;
        self.fresh = fresh;
        Ok(())
    }

    /// Releases the lock, says goodbye, and hands back the report.
    pub async fn close(mut self) -> HostReport {
        if let Some(beat) = self.beat.take() {
            beat.abort();
            let token = self.run.ctx.plan.lock_token.clone();
            let release = self.run.layout.lock_release(&token);
            if !self.run.try_step("unlock", &release, None).await {
                self.run.ctx.runner.warning(&format!(
                    "{}: could not release the deploy lock; the next deploy takes it over after `lock-stale`",
                    self.run.host
                ));
            }
        }
        self.session.close().await;
        let report = std::mem::replace(&mut self.report, empty_report());
        finish_report(report, &mut self.run)
    }
}

/// Takes the project's lock on the host, waiting up to `lock-timeout`, taking over a stale one.
async fn lock(run: &mut Run<'_, '_>, token: &str) -> Result<(), Failure> {
    let plan = run.ctx.plan;
    let holder = serde_json::to_vec(&json!({
        "token": token,
        "holder": plan.identity.describe(),
        "run_url": plan.identity.run_url,
        "sha": plan.identity.sha,
        "release": plan.release_id,
        "since": plan.identity.started,
    }))
    .unwrap_or_default();
    let started = Instant::now();
    let mut last_note = None::<Instant>;
    let script = run.layout.lock_take();
    loop {
        let out = run.s.run("lock", &script, Some(&holder), run.limit()).await?;
        match out.code {
            Some(0) => {
                run.phases.push(("lock", started.elapsed()));
                return Ok(());
            }
            Some(75) => {}
            _ => {
                return Err(format!(
                    "step `lock` on `{}` failed with exit code {}: {}",
                    run.host,
                    out.code.map_or("none".to_owned(), |c| c.to_string()),
                    run.ctx.runner.redact(&tail(&out.stderr, 5))
                )
                .into());
            }
        }
        let mut lines = out.stdout.lines();
        let age: u64 = lines
            .next()
            .and_then(|l| l.strip_prefix("age="))
            .and_then(|a| a.trim().parse().ok())
            .unwrap_or(0);
        let info: Value = serde_json::from_str(&lines.collect::<Vec<_>>().join("\n")).unwrap_or(Value::Null);
        let who = info
            .get("holder")
            .and_then(Value::as_str)
            .map(|h| ops_core::runner::printable(h).into_owned())
            .unwrap_or_else(|| "an unknown holder".to_owned());
        let their_token = info
            .get("token")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if age >= plan.lock_stale.as_secs() {
            run.ctx.runner.warning(&format!(
                "{}: taking over the deploy lock of {who}: no heartbeat for {} (`lock-stale` is {})",
                run.host,
                human(Duration::from_secs(age)),
                human(plan.lock_stale)
            ));
            let breaking = run.layout.lock_break(&their_token);
            run.s
                .checked("lock takeover", &breaking, None, run.limit())
                .await?;
            continue;
        }
        let waited = started.elapsed();
        if waited >= plan.lock_timeout {
            return Err(format!(
                "{}: another deploy holds the lock on project `{}`: {who} (heartbeat {} ago); {}",
                run.host,
                plan.project,
                human(Duration::from_secs(age)),
                Limit::new("lock-timeout", plan.lock_timeout).ran_out("waiting for it")
            )
            .into());
        }
        if last_note.is_none_or(|t| t.elapsed() >= Duration::from_secs(15)) {
            run.say(&format!(
                "waiting for the deploy lock held by {who} ({} of `lock-timeout` {})",
                human(waited),
                human(plan.lock_timeout)
            ));
            last_note = Some(Instant::now());
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            sig = run.ctx.cancel.cancelled() => return Err(format!("cancelled by {sig} while waiting for the lock").into()),
        }
    }
}

/// Touches the lock's heartbeat every 10 s while the deploy runs.
fn heartbeat(session: Arc<Session>, script: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(10)).await;
            let _ = session
                .run(
                    "lock heartbeat",
                    &script,
                    None,
                    Limit::new("command-timeout", Duration::from_secs(10)),
                )
                .await;
        }
    })
}

/// The deploy itself, under the lock.
impl HostDeploy<'_, '_> {
    /// Brings the release up beside the live one, verifies it, switches traffic (blue-green) and
    /// observes it. `false` when it failed; the host is then back on its live release (or says why not).
    pub async fn activate(&mut self) -> bool {
        let plan = self.run.ctx.plan;
        let blue_green = plan.strategy == Strategy::BlueGreen;
        let colour = self.report.colour;
        let release = self.release.clone();
        let project = self.project.clone();
        let fresh = self.fresh;
        let dir = self.run.layout.release(&release);
        let app_file = format!("{dir}/compose.app.json");
        let shared_file = format!("{dir}/compose.shared.json");
        let run = &mut self.run;

        // Apply: the release on disk (sealed by one rename), images, shared services, migration, new colour.
        let applied: Result<(), Failure> = async {
            if fresh {
                let files: Vec<(&str, &[u8])> = plan
                    .files
                    .iter()
                    .map(|(n, c)| (n.as_str(), c.expose().as_bytes()))
                    .collect();
                let framed = remote::frame(&files);
                run.step(
                    "upload release",
                    &run.layout.release_upload(&release),
                    Some(&framed),
                )
                .await?;
                run.say("pulling images");
                run.step(
                    "pull",
                    &format!("{} pull --quiet", remote::compose(&project, &app_file)),
                    None,
                )
                .await?;
            }
            let shared_exists = run
                .s
                .run(
                    "read release",
                    &format!("test -f {}", quote(&shared_file)),
                    None,
                    run.limit(),
                )
                .await
                .map(|o| o.code == Some(0))
                .unwrap_or(false);
            if shared_exists {
                let wait = run.limit().value.as_secs().max(1);
                run.step(
                    "shared services",
                    &format!(
                        "{} up -d --no-recreate --wait --wait-timeout {wait}",
                        remote::compose(&format!("{}-shared", plan.project), &shared_file)
                    ),
                    None,
                )
                .await?;
            }
            if fresh && let Some((service, args)) = &plan.pre_deploy {
                run.say(&format!(
                    "running `pre-deploy` in a one-off `{service}` container of the new release"
                ));
                let words: Vec<String> = args.iter().map(|a| quote(a)).collect();
                let script = format!(
                    "{} run --rm -T --no-deps {} {}",
                    remote::compose(&project, &app_file),
                    quote(service),
                    words.join(" ")
                );
                run.step("pre-deploy", &script, None).await?;
            }
            let wait = run.limit().value.as_secs().max(1);
            run.say(&format!(
                "starting release `{release}`{} and waiting for it to be healthy",
                colour.map(|c| format!(" as {c}")).unwrap_or_default()
            ));
            run.step(
                "up",
                &format!(
                    "{} up -d --wait --wait-timeout {wait} --remove-orphans --pull never",
                    remote::compose(&project, &app_file)
                ),
                None,
            )
            .await?;
            Ok(())
        }
        .await;

        let verified: Result<Option<Probe>, Failure> = match applied {
            Err(f) => Err(f),
            Ok(()) => verify(run, &project, &dir, fresh).await,
        };
        let probe = match verified {
            Ok(p) => p,
            Err(f) => {
                self.fail(f).await;
                return false;
            }
        };
        let run = &mut self.run;
        if blue_green && let Some(Probe { port, .. }) = &probe {
            let content = upstream(plan, &release, colour.unwrap_or("blue"), *port);
            let script = remote::proxy_switch(
                plan.upstream_file.as_deref().unwrap_or_default(),
                &plan.proxy_check,
                &plan.proxy_reload,
            );
            let t = Instant::now();
            match run.step("switch", &script, Some(content.as_bytes())).await {
                Ok(_) => {
                    self.switched = true;
                    run.say(&format!(
                        "traffic switched to `{release}` ({}) in {} ms",
                        colour.unwrap_or_default(),
                        t.elapsed().as_millis()
                    ));
                }
                Err(f) => {
                    self.fail(f).await;
                    return false;
                }
            }
        }
        self.probe = probe;
        if let Err(f) = observe(&mut self.run, &project, self.probe.as_ref()).await {
            self.fail(f).await;
            return false;
        }
        true
    }

    /// Probes the host the way the Load Balancer does (its check's port and path, on the host's own
    /// address) until `healthy_threshold` answers in a row are 2xx, `interval` apart.
    pub async fn balancer_check(&mut self, lb: &super::api::Balancer) -> Result<(), String> {
        let (_, port, path) = &lb.check;
        let addr = self.run.s.host.host.clone();
        let need = lb.healthy_threshold.max(1);
        let started = Instant::now();
        let limit = self.run.ctx.deadline.bound(Limit::new(
            "health-timeout",
            self.run.ctx.plan.health_timeout + Duration::from_secs(lb.interval * need),
        ));
        let mut streak = Streak::new(need);
        while !streak.done() {
            if started.elapsed() >= limit.value {
                return Err(format!(
                    "{}: `GET {path}` on {addr}:{port} (the balancer's check) needs {need} consecutive 2xx, last: {}",
                    limit.ran_out("probing it the way the balancer does"),
                    streak.last
                ));
            }
            let answer = self
                .run
                .s
                .http_get(
                    &addr,
                    *port,
                    path,
                    Limit::new("health-timeout", Duration::from_secs(5)),
                )
                .await;
            streak.record(answer);
            if !streak.done() {
                tokio::time::sleep(Duration::from_secs(lb.interval.max(1))).await;
            }
        }
        self.run.phases.push(("balancer check", started.elapsed()));
        self.run.evidence.push(format!(
            "{need} consecutive 2xx on the balancer's check `{path}` port {port}"
        ));
        Ok(())
    }

    /// A failure of this host: put its live release back.
    async fn fail(&mut self, f: Failure) {
        let result = undo(
            &mut self.run,
            &mut self.report,
            &self.live,
            &self.release,
            &self.project,
            self.fresh,
            self.switched,
            f,
        )
        .await;
        self.report.result = result;
    }

    /// Another host failed: switch this activated host back to its live release too.
    pub async fn revert(&mut self, why: &str) {
        self.run.say(&format!("rolling back with the fleet: {why}"));
        let result = undo(
            &mut self.run,
            &mut self.report,
            &self.live,
            &self.release,
            &self.project,
            self.fresh,
            self.switched,
            Failure {
                message: why.to_owned(),
                input: false,
            },
        )
        .await;
        self.report.input_error = false;
        self.report.result = match result {
            HostResult::Failed(m) if self.live.release.is_none() => HostResult::Failed(m),
            HostResult::Failed(m) => HostResult::RolledBack(m),
            other => other,
        };
    }

    /// Every host is live: `current`, the old colour stopped (kept for a fast rollback), prune.
    pub async fn finish(&mut self) {
        let plan = self.run.ctx.plan;
        let run = &mut self.run;
        if let Err(f) = run
            .step("set current", &run.layout.set_current(&self.release), None)
            .await
        {
            run.ctx.runner.warning(&format!("{}: {}", run.host, f.message));
        }
        if plan.strategy == Strategy::BlueGreen && self.live.colour.is_some() {
            if !plan.drain.is_zero() {
                run.say(&format!("draining the old colour for {}", human(plan.drain)));
                tokio::time::sleep(plan.drain).await;
            }
            let old = format!("{}-{}", plan.project, self.live.colour.unwrap_or("blue"));
            run.try_step(
                "stop old colour",
                &format!("docker compose -p {} stop", quote(&old)),
                None,
            )
            .await;
        }
        prune(run, &self.live, &self.release).await;
        self.report.result = HostResult::Live;
    }
}

/// Digests of what runs equal the requested ones; the route's published port.
async fn verify(
    run: &mut Run<'_, '_>,
    project: &str,
    dir: &str,
    fresh: bool,
) -> Result<Option<Probe>, Failure> {
    let plan = run.ctx.plan;
    let out = run
        .step("verify digests", &remote::inspect(project), None)
        .await?;
    let containers = remote::parse_inspect(&out);
    let images: std::collections::BTreeMap<String, String> = if fresh {
        plan.images.clone()
    } else {
        // An earlier release: its own record says what it ran.
        let text = run
            .step("read release", &run.layout.release_read_json(dir), None)
            .await?;
        serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("images").cloned())
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default()
    };
    for (service, image) in &images {
        let mine: Vec<&Container> = containers.iter().filter(|c| &c.service == service).collect();
        if mine.is_empty() {
            return Err(format!("service `{service}` has no container after `up`").into());
        }
        for c in &mine {
            if c.status != "running" {
                return Err(format!("service `{service}` is {} after `up`", c.status).into());
            }
            if let Some(want) = digest_of(image)
                && !c.digests.iter().any(|d| digest_of(d) == Some(want))
            {
                return Err(format!(
                    "service `{service}` runs image {} ({}), not the requested `{image}`",
                    c.image,
                    if c.digests.is_empty() {
                        "no repo digest".to_owned()
                    } else {
                        c.digests.join(", ")
                    }
                )
                .into());
            }
        }
        run.evidence.push(format!(
            "`{service}` runs {}",
            digest_of(image).map_or_else(|| image.clone(), str::to_owned)
        ));
    }
    let Some((route, port)) = &plan.route else {
        return Ok(None);
    };
    let (addr, host_port) = if plan.strategy == Strategy::BlueGreen {
        let published = run
            .step(
                "route port",
                &format!(
                    "docker compose -p {} port {} {port}",
                    quote(project),
                    quote(route)
                ),
                None,
            )
            .await?;
        let p = published
            .trim()
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
            .filter(|p| *p > 0)
            .ok_or_else(|| {
                format!(
                    "`{route}` publishes no port for {port} (got `{}`)",
                    published.trim()
                )
            })?;
        ("127.0.0.1".to_owned(), p)
    } else {
        // Recreate: the container's own address on its network, as the host reaches it.
        let ip = run
            .step(
                "route address",
                &format!(
                    "docker inspect --format '{{{{range .NetworkSettings.Networks}}}}{{{{.IPAddress}}}} {{{{end}}}}' \
                     $(docker compose -p {} ps -q {})",
                    quote(project),
                    quote(route)
                ),
                None,
            )
            .await?;
        let ip = ip
            .split_whitespace()
            .next()
            .ok_or_else(|| format!("`{route}` has no address on any network"))?
            .to_owned();
        (ip, *port)
    };
    // The health gate: N consecutive 2xx through the route, within `health-timeout`.
    let need = u64::from(plan.health_successes.max(1));
    let gate = run
        .ctx
        .deadline
        .bound(Limit::new("health-timeout", plan.health_timeout));
    let mut streak = Streak::new(need);
    let started = Instant::now();
    while !streak.done() {
        if started.elapsed() >= gate.value {
            return Err(format!(
                "health gate: {}; `GET {}` on `{route}` needs {need} consecutive 2xx, last answer: {}",
                gate.ran_out("waiting for it"),
                plan.health_path,
                streak.last
            )
            .into());
        }
        if let Some(sig) = run.ctx.cancel.signal() {
            return Err(format!("cancelled by {sig} during the health gate").into());
        }
        let answer = run
            .s
            .http_get(
                &addr,
                host_port,
                &plan.health_path,
                Limit::new("health-timeout", Duration::from_secs(5)),
            )
            .await;
        streak.record(answer);
        if streak.have == 0 && started.elapsed() >= Duration::from_secs(2) {
            // A container that stopped will not get healthy: say so now, not at `health-timeout`.
            let out = run.step("health gate", &remote::inspect(project), None).await?;
            if let Some(c) = remote::parse_inspect(&out)
                .into_iter()
                .find(|c| plan.images.contains_key(&c.service) && c.status != "running")
            {
                return Err(format!(
                    "health gate: `{}` is {} (it stopped before it answered 2xx on `{}`)",
                    c.service, c.status, plan.health_path
                )
                .into());
            }
        }
        if !streak.done() {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    run.phases.push(("health gate", started.elapsed()));
    run.evidence.push(format!(
        "{need} consecutive 2xx on `GET {}` via `{route}:{port}`",
        plan.health_path
    ));
    Ok(Some(Probe {
        addr,
        port: host_port,
    }))
}

/// Consecutive 2xx answers, and the last answer for messages.
#[derive(Debug)]
struct Streak {
    need: u64,
    have: u64,
    last: String,
}

impl Streak {
    fn new(need: u64) -> Self {
        Self {
            need,
            have: 0,
            last: "none yet".to_owned(),
        }
    }

    fn record(&mut self, answer: Result<u16, String>) {
        match answer {
            Ok(code) => {
                self.have = if (200..300).contains(&code) {
                    self.have + 1
                } else {
                    0
                };
                self.last = code.to_string();
            }
            Err(e) => {
                self.have = 0;
                self.last = e;
            }
        }
    }

    fn done(&self) -> bool {
        self.have >= self.need
    }
}

/// Where the route answers, as the host reaches it.
#[derive(Debug, Clone)]
struct Probe {
    addr: String,
    port: u16,
}

/// Watches the new release for `observe`: containers running, no restarts, not unhealthy, 2xx.
async fn observe(run: &mut Run<'_, '_>, project: &str, probe: Option<&Probe>) -> Result<(), Failure> {
    let plan = run.ctx.plan;
    if plan.observe.is_zero() {
        return Ok(());
    }
    run.say(&format!("observing the new release for {}", human(plan.observe)));
    let started = Instant::now();
    let baseline = remote::parse_inspect(&run.step("observe", &remote::inspect(project), None).await?);
    let mut checks = 0u32;
    while started.elapsed() < plan.observe {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
            sig = run.ctx.cancel.cancelled() => return Err(format!("cancelled by {sig} during observation").into()),
        }
        let now = remote::parse_inspect(&run.step("observe", &remote::inspect(project), None).await?);
        for c in &baseline {
            let Some(n) = now.iter().find(|n| n.service == c.service && n.image == c.image) else {
                return Err(format!("observation: the `{}` container is gone", c.service).into());
            };
            if n.status != "running" {
                return Err(format!("observation: `{}` is {} after going live", n.service, n.status).into());
            }
            if n.restarts > c.restarts {
                return Err(format!(
                    "observation: `{}` restarted {} time(s) after going live",
                    n.service,
                    n.restarts - c.restarts
                )
                .into());
            }
            if n.health == "unhealthy" {
                return Err(format!("observation: `{}` became unhealthy after going live", n.service).into());
            }
        }
        if let Some(Probe { addr, port }) = probe {
            match run
                .s
                .http_get(
                    addr,
                    *port,
                    &plan.health_path,
                    Limit::new("health probe", Duration::from_secs(5)),
                )
                .await
            {
                Ok(code) if (200..300).contains(&code) => {}
                Ok(code) => {
                    return Err(format!(
                        "observation: `GET {}` answered {code} after going live",
                        plan.health_path
                    )
                    .into());
                }
                Err(e) => {
                    return Err(format!(
                        "observation: `GET {}` failed after going live: {e}",
                        plan.health_path
                    )
                    .into());
                }
            }
        }
        checks += 1;
    }
    run.phases.push(("observe", started.elapsed()));
    run.evidence.push(format!(
        "observed {} ({checks} checks): running, no restarts, health 2xx",
        human(plan.observe)
    ));
    Ok(())
}

/// After a failure: put the previous release back (switch back, or bring it up again for recreate),
/// stop the new one, discard its release.
#[allow(clippy::too_many_arguments)]
async fn undo(
    run: &mut Run<'_, '_>,
    report: &mut HostReport,
    live: &Live,
    release: &str,
    project: &str,
    fresh: bool,
    switched: bool,
    failure: Failure,
) -> HostResult {
    let plan = run.ctx.plan;
    report.input_error = failure.input;
    let reason = failure.message;
    run.ctx.runner.error(&format!("{}: {reason}", run.host));
    let blue_green = plan.strategy == Strategy::BlueGreen;
    let mut rollback_error = None;
    if blue_green {
        if switched {
            // Traffic moved: point the proxy back at the old colour, which still runs.
            let old_project = format!("{}-{}", plan.project, live.colour.unwrap_or("blue"));
            let back = async {
                let (route, port) = plan.route.as_ref().ok_or_else(|| "no route".to_owned())?;
                let published = run
                    .s
                    .checked(
                        "rollback",
                        &format!(
                            "docker compose -p {} port {} {port}",
                            quote(&old_project),
                            quote(route)
                        ),
                        None,
                        run.limit(),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                let old_port = published
                    .trim()
                    .rsplit_once(':')
                    .and_then(|(_, p)| p.parse::<u16>().ok())
                    .ok_or_else(|| "the old colour publishes no port".to_owned())?;
                let content = upstream(
                    plan,
                    live.release.as_deref().unwrap_or_default(),
                    live.colour.unwrap_or("blue"),
                    old_port,
                );
                let script = remote::proxy_switch(
                    plan.upstream_file.as_deref().unwrap_or_default(),
                    &plan.proxy_check,
                    &plan.proxy_reload,
                );
                run.s
                    .checked("rollback", &script, Some(content.as_bytes()), run.limit())
                    .await
                    .map_err(|e| e.to_string())?;
                Ok::<(), String>(())
            };
            match back.await {
                Ok(()) => run.say(&format!(
                    "traffic switched back to `{}`",
                    live.release.as_deref().unwrap_or_default()
                )),
                Err(e) => rollback_error = Some(e),
            }
        }
        if live.release.is_some() || !switched {
            run.try_step(
                "stop new colour",
                &format!("docker compose -p {} stop", quote(project)),
                None,
            )
            .await;
        }
    } else if let Some(prev) = &live.release {
        // Recreate: bring the previous release's files up again (its images are still on the host).
        let dir = run.layout.release(prev);
        let wait = run.limit().value.as_secs().max(1);
        let script = format!(
            "{} up -d --wait --wait-timeout {wait} --remove-orphans --pull never",
            remote::compose(project, &format!("{dir}/compose.app.json"))
        );
        match run.s.checked("rollback", &script, None, run.limit()).await {
            Ok(_) => run.say(&format!("release `{prev}` is back")),
            Err(e) => rollback_error = Some(e.to_string()),
        }
    }
    if fresh {
        run.try_step("discard release", &run.layout.release_discard(release), None)
            .await;
    }
    match (
        rollback_error,
        switched || (!blue_green && live.release.is_some()),
    ) {
        (Some(e), _) => HostResult::RollbackFailed(reason, e),
        (None, true) if live.release.is_some() => HostResult::RolledBack(reason),
        (None, _) => HostResult::Failed(match &live.release {
            Some(prev) => format!("{reason}; release `{prev}` kept serving (traffic never moved)"),
            None => reason,
        }),
    }
}

/// Keeps `keep-releases` releases (always the live one) and removes the images only dropped ones used.
async fn prune(run: &mut Run<'_, '_>, live: &Live, release: &str) {
    let plan = run.ctx.plan;
    let mut all = live.releases.clone();
    if !all.iter().any(|r| r == release) {
        all.push(release.to_owned());
    }
    let keep_n = plan.keep_releases.max(1);
    if all.len() <= keep_n {
        return;
    }
    let drop: Vec<String> = all[..all.len() - keep_n]
        .iter()
        .filter(|r| r.as_str() != release && Some(r.as_str()) != live.release.as_deref())
        .cloned()
        .collect();
    let keep: Vec<String> = all.iter().filter(|r| !drop.contains(r)).cloned().collect();
    let mut keep_images = Vec::new();
    let mut drop_images = Vec::new();
    for (ids, out) in [(&keep, &mut keep_images), (&drop, &mut drop_images)] {
        for id in ids {
            let dir = run.layout.release(id);
            if let Ok(text) = run
                .s
                .checked("prune", &run.layout.release_read_json(&dir), None, run.limit())
                .await
                && let Ok(v) = serde_json::from_str::<Value>(&text)
                && let Some(images) = v.get("images").and_then(Value::as_object)
            {
                out.extend(images.values().filter_map(Value::as_str).map(str::to_owned));
            }
        }
    }
    let script = run.layout.prune(&drop, &keep_images, &drop_images);
    if run.try_step("prune", &script, None).await && !drop.is_empty() {
        run.say(&format!("pruned {} old release(s): {}", drop.len(), list(&drop)));
    }
}

/// The upstream file: a marker line the next deploy reads, and the block nginx includes.
pub fn upstream(plan: &Plan, release: &str, colour: &str, port: u16) -> String {
    format!(
        "# ops-actions release={release} colour={colour} port={port}\n# written by do-deploy on every deploy; edits here are replaced\nupstream {} {{\n    server 127.0.0.1:{port};\n}}\n",
        plan.upstream_name
    )
}

fn parse_state(text: &str, strategy: Strategy) -> Live {
    let mut live = Live::default();
    let mut current = None;
    for line in text.lines() {
        if let Some(c) = line.strip_prefix("current=") {
            current = Some(c.trim().to_owned()).filter(|c| !c.is_empty());
        } else if let Some(r) = line.strip_prefix("release=") {
            live.releases.push(r.trim().to_owned());
        } else if let Some(u) = line.strip_prefix("upstream=") {
            for field in u.split_whitespace() {
                match field.split_once('=') {
                    Some(("release", r)) if strategy == Strategy::BlueGreen => {
                        live.release = Some(r.to_owned())
                    }
                    Some(("colour", c)) => live.colour = colour_name(c),
                    _ => {}
                }
            }
        }
    }
    // The proxy is the truth for blue-green (a deploy cut after the switch leaves `current` behind).
    if live.release.is_none() {
        live.release = current;
    }
    if let Some(r) = &live.release
        && !live.releases.contains(r)
    {
        live.releases.push(r.clone());
    }
    live
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_prefers_the_proxy() {
        let s = "current=r1\nrelease=r1\nrelease=r2\nupstream=release=r2 colour=green port=4000\n";
        let live = parse_state(s, Strategy::BlueGreen);
        assert_eq!(live.release.as_deref(), Some("r2"));
        assert_eq!(live.colour, Some("green"));
        assert_eq!(live.releases, ["r1", "r2"]);
        let live = parse_state("current=r1\nrelease=r1\n", Strategy::Recreate);
        assert_eq!(live.release.as_deref(), Some("r1"));
        let live = parse_state("current=\n", Strategy::BlueGreen);
        assert_eq!(live.release, None);
        assert_eq!(colour_other(None), "blue");
        assert_eq!(colour_other(Some("blue")), "green");
        assert_eq!(colour_other(Some("green")), "blue");
    }
}
