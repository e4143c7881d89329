//! `ops-demo`: the main job, end to end, on this machine (`scripts/demo` starts the infrastructure and
//! calls this).
//!
//! It ships `examples/app` through lint → test → security → build → staging → production with the real
//! tool binaries, each run as a GitHub Actions step would run it (runner files in a temp dir, inputs as
//! `INPUT_*`): lint-gate on real shellcheck output, migrate-check against a real PostgreSQL,
//! image-build-tag building with buildah and pushing to a real registry, do-deploy to the local
//! DigitalOcean stand-in (whose live URL is the example app running on loopback), smoke-test against
//! it, approve-gate against the local GitHub stand-in (approved by a scripted comment), the production
//! deploy, and then a broken release that smoke-test catches and do-deploy rolls back. Both releases then
//! go to a Droplet (droplet-compose on a droplet ground, when root) and to DOKS (the doks target against
//! in-process Kubernetes and DigitalOcean API stand-ins), where the bad one crashes while do-deploy
//! observes it and is rolled back automatically. Each stage's step summary is printed, and a one-screen
//! report ends the run. Exit status: 0 when every stage did what the pipeline expects (the broken release
//! included: caught and rolled back), 1 otherwise.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};
use ops_test::digitalocean::{DoSim, NewKubernetesCluster};
use ops_test::droplet::{Droplet, Ground, http_get};
use ops_test::github::GithubSim;
use ops_test::harness::{FakeRunner, RunOutput};
use ops_test::kubernetes::{Fate, KubeSim};
use ops_test::sim::{Contract, ContractMode, Spec};

const OWNER: &str = "octo";
const REPO: &str = "app";
const GITHUB_TOKEN: &str = "ghs_demoTokenNeverPrinted0000000000000000";
const DO_TOKEN: &str = "dop_v1_demoTokenNeverPrinted00000000000000000000000000000000";
/// The Droplet stage's env file holds this; it must never be printed.
const DROPLET_DB_PASSWORD: &str = "demo-pa55word-never-printed";
/// The bad release on the Droplet exits this many seconds after it starts: after its health gate and
/// the switch (about 5 s on 2 busy cores), inside the 30 s do-deploy then observes it.
const BAD_DROPLET_CRASH_AFTER: &str = "20";
/// The example app on a Droplet: do-deploy sets `web`'s image from `images`.
const DROPLET_COMPOSE: &str = "\
name: example-app
services:
  web:
    image: example-app
    environment: {PORT: '8080'}
";
/// Where the built image is published (App Platform and the cluster pull from a registry they know; the
/// demo's registry stands in for ghcr.io).
const PUBLISHED_REPO: &str = "ghcr.io/octo/example-app";
/// The DOKS stage's cluster (on the DigitalOcean stand-in) and namespace (on the Kubernetes one).
const DOKS_CLUSTER: &str = "demo-cluster";
const DOKS_NAMESPACE: &str = "example-app";
/// The example app on Kubernetes: do-deploy puts the release's image into `web` (same repository) and
/// the greeting changes with the release, so a rollback must bring back both.
const DOKS_MANIFESTS: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  GREETING: GREETING_VALUE
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: REPOSITORY:dev
          ports: [{containerPort: 8080}]
          envFrom:
            - configMapRef: {name: web-config}
";

/// Run the ops-actions pipeline end to end against local infrastructure, or measure droplet-compose.
#[derive(Debug, Parser)]
#[command(name = "ops-demo")]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// The pipeline, end to end (`scripts/demo`).
    Pipeline(Box<Pipeline>),
    /// The droplet-compose benchmark on a droplet ground (`scripts/bench-do-deploy-droplet`); prints a
    /// Markdown section on stdout.
    DropletBench(bench::Args),
}

/// What the pipeline runs against.
#[derive(Debug, clap::Args)]
struct Pipeline {
    /// Directory holding the tool binaries (lint-gate, migrate-check, …).
    #[arg(long)]
    bin_dir: PathBuf,
    /// The repository root (for `examples/app`).
    #[arg(long)]
    repo: PathBuf,
    /// A scratch directory (the demo's git checkout, runner files, reports).
    #[arg(long)]
    work: PathBuf,
    /// PostgreSQL URL for migrate-check (a server the caller started).
    #[arg(long)]
    database_url: String,
    /// `host:port` of the image registry the caller started.
    #[arg(long)]
    registry: String,
    /// Extra environment for image-build-tag (buildah storage settings), `KEY=VALUE`, repeatable.
    #[arg(long = "build-env")]
    build_env: Vec<String>,
    /// Print whole step logs, not only their last lines.
    #[arg(long)]
    verbose: bool,
    /// Leave out the Droplet stage (it needs root and `scripts/setup-droplet`).
    #[arg(long)]
    no_droplet: bool,
}

/// One stage's line in the final report.
struct Stage {
    name: &'static str,
    tool: &'static str,
    expected: &'static str,
    ok: bool,
    detail: String,
    took: Duration,
}

struct Demo {
    cli: Pipeline,
    gh: GithubSim,
    dosim: DoSim,
    checkout: PathBuf,
    stages: Vec<Stage>,
    apps: Vec<Child>,
    step: usize,
    /// Secrets handed to tools (besides the two tokens) that must never show up in what a step left.
    secrets: Vec<String>,
    /// Whether the Droplet stage ran (for the report's last line).
    droplet_ran: bool,
    /// The DOKS stage's API calls, once it ran.
    doks_calls: Option<DoksCalls>,
}

/// Calls the DOKS stage's own stand-ins answered.
struct DoksCalls {
    kubernetes: usize,
    digitalocean: usize,
}

fn main() -> std::process::ExitCode {
    let result = match Cli::parse().command {
        Task::Pipeline(cli) => run(*cli),
        Task::DropletBench(args) => bench::run(&args).map(|()| true),
    };
    match result {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            say(&format!("error: {e:#}"));
            std::process::ExitCode::from(3)
        }
    }
}

#[expect(clippy::print_stdout, reason = "the demo's output is its report")]
fn say(text: &str) {
    println!("{text}");
}

fn run(cli: Pipeline) -> anyhow::Result<bool> {
    std::fs::create_dir_all(&cli.work)?;
    let checkout = cli.work.join("checkout");
    let gh = GithubSim::start();
    let dosim = DoSim::start();
    gh.with(|s| {
        s.add_repo(OWNER, REPO);
        s.set_permission(OWNER, REPO, "alice", "write");
    });
    let mut demo = Demo {
        cli,
        gh,
        dosim,
        checkout,
        stages: Vec::new(),
        apps: Vec::new(),
        step: 0,
        secrets: Vec::new(),
        droplet_ran: false,
        doks_calls: None,
    };
    let result = demo.pipeline();
    for mut app in demo.apps.drain(..) {
        let _ = app.kill();
        let _ = app.wait();
    }
    result?;
    Ok(demo.report())
}

impl Demo {
    fn pipeline(&mut self) -> anyhow::Result<()> {
        say(if self.cli.no_droplet {
            "ops-actions demo: lint → test → security → build → staging → production, then a bad release, then both on DOKS"
        } else {
            "ops-actions demo: lint → test → security → build → staging → production, then a bad release, then both on a Droplet and on DOKS"
        });
        say(&format!("  GitHub stand-in:       {}", self.gh.url()));
        say(&format!("  DigitalOcean stand-in: {}", self.dosim.url()));
        say(&format!("  registry:              {}", self.cli.registry));
        let sha1 = self.prepare_checkout()?;

        // lint: real shellcheck output through lint-gate, as a check run on the GitHub stand-in.
        let report = self.cli.work.join("shellcheck.xml");
        let shellcheck = Command::new("shellcheck")
            .args(["-f", "checkstyle", "scripts/start.sh"])
            .current_dir(&self.checkout)
            .output()?;
        std::fs::write(&report, &shellcheck.stdout)?;
        self.step(
            "lint",
            "lint-gate",
            "passes: shellcheck warnings stay below fail-level error",
            &[
                (
                    "reports",
                    format!("shellcheck [checkstyle]: {}", report.display()),
                ),
                ("filter-mode", "nofilter".into()),
                ("fail-level", "error".into()),
                ("reporters", "annotations, summary, check".into()),
                ("github-token", GITHUB_TOKEN.into()),
            ],
            &[],
            |out| out.code == Some(0),
            |out| {
                format!(
                    "{} finding(s), conclusion {}",
                    output(out, "findings"),
                    output(out, "conclusion")
                )
            },
        )?;

        // test: migrations against a real PostgreSQL.
        self.step(
            "test",
            "migrate-check",
            "passes: the migrations are safe and apply on a real PostgreSQL",
            &[
                ("path", "migrations".into()),
                ("framework", "golang-migrate".into()),
                ("database-url", self.cli.database_url.clone()),
                ("fail-level", "error".into()),
            ],
            &[],
            |out| out.code == Some(0),
            |out| {
                format!(
                    "{} migration(s), {} finding(s), decision {}",
                    output(out, "migrations"),
                    output(out, "findings"),
                    output(out, "decision")
                )
            },
        )?;

        // security: a real scanner's SARIF through the same gate. zizmor audits the pipeline the app
        // ships with (the container template); lint-gate fails on errors and writes SARIF for upload.
        let scan = Command::new("zizmor")
            .args([
                "--offline",
                "--no-progress",
                "--format",
                "sarif",
                ".github/workflows/pipeline.yml",
            ])
            .current_dir(&self.checkout)
            .output()?;
        let zizmor_sarif = self.cli.work.join("zizmor.sarif");
        std::fs::write(&zizmor_sarif, &scan.stdout)?;
        let sarif = self.cli.work.join("security.sarif");
        self.step(
            "security",
            "lint-gate",
            "passes: zizmor finds nothing at or above error in the pipeline",
            &[
                ("reports", format!("zizmor [sarif]: {}", zizmor_sarif.display())),
                ("filter-mode", "nofilter".into()),
                ("fail-level", "error".into()),
                ("reporters", "annotations, summary".into()),
                ("name", "security".into()),
                ("sarif-output", sarif.display().to_string()),
            ],
            &[],
            |out| out.code == Some(0),
            |out| {
                format!(
                    "{} finding(s) from zizmor; SARIF ready for code scanning",
                    output(out, "findings")
                )
            },
        )?;

        // build: tags from the Git context, build with buildah, push, verify over the registry API.
        let image1 = self.build(&sha1)?;

        // staging: deploy by digest, then smoke-test the live URL.
        let staging_port = self.start_app(&sha1, false)?;
        self.dosim
            .with(|s| s.set_live_url("example-app-staging", &format!("http://127.0.0.1:{staging_port}")));
        let staging_url = self.deploy("staging", "example-app-staging", &image1, "deploy")?;
        self.smoke("staging smoke", "staging", &staging_url, &sha1, true)?;

        // production: a person approves (a scripted comment on the approval issue), then deploy and test.
        self.gh
            .after("GET /repos/octo/app/issues/*/comments", 2, move |s| {
                if let Some(issue) = s.latest_issue(OWNER, REPO) {
                    // The reviewer takes a minute: a comment must be newer than the issue to count.
                    s.tick(60);
                    s.add_comment(OWNER, REPO, issue, "alice", "/approve\nstaging looks good");
                }
            });
        self.step(
            "approval",
            "approve-gate",
            "approved by alice (a scripted comment on the approval issue)",
            &[
                ("mode", "issue".into()),
                ("approvers", "alice".into()),
                ("minimum-approvals", "1".into()),
                ("github-token", GITHUB_TOKEN.into()),
                ("timeout", "30m".into()),
                ("deploy-summary", format!("`{image1}` to production")),
            ],
            &[("OPS_POLL_DELAY_SCALE", "0")],
            |out| out.code == Some(0) && output(out, "decision") == "approved",
            |out| {
                format!(
                    "decision {}, approvers {}",
                    output(out, "decision"),
                    output(out, "approvers")
                )
            },
        )?;
        let production_port = self.start_app(&sha1, false)?;
        self.dosim
            .with(|s| s.set_live_url("example-app", &format!("http://127.0.0.1:{production_port}")));
        let production_url = self.deploy("production", "example-app", &image1, "deploy")?;
        self.smoke("production smoke", "production", &production_url, &sha1, true)?;

        // A bad release: the API answers 500 while /healthz stays green. smoke-test must catch it and
        // do-deploy must roll back to the release that worked.
        let sha2 = self.commit_change()?;
        let image2 = self.build(&sha2)?;
        let broken_port = self.start_app(&sha2, true)?;
        // The stand-in routes the app's live URL to whichever local server runs the active release.
        self.dosim
            .with(|s| s.set_live_url("example-app", &format!("http://127.0.0.1:{broken_port}")));
        let url = self.deploy("production (bad release)", "example-app", &image2, "deploy")?;
        self.smoke("production smoke (bad release)", "production", &url, &sha2, false)?;
        self.dosim
            .with(|s| s.set_live_url("example-app", &format!("http://127.0.0.1:{production_port}")));
        self.deploy("rollback", "example-app", &image1, "rollback")?;
        self.smoke("after rollback", "production", &production_url, &sha1, true)?;

        // The same two commits on a Droplet with Docker Compose, blue-green behind its nginx: the bad
        // one dies while do-deploy observes it and is switched back without anyone asking.
        if !self.cli.no_droplet {
            self.droplet_stage(&sha1, &sha2)?;
        }

        // And on Kubernetes: the doks target applies manifests with the release's image; the bad
        // release's pods crash while do-deploy observes them, and the whole set is put back.
        self.doks_stage(
            &DoksRelease {
                sha: &sha1,
                image: &image1,
                greeting: "todos",
            },
            &DoksRelease {
                sha: &sha2,
                image: &image2,
                greeting: "todos, faster",
            },
        )?;
        Ok(())
    }

    /// The Droplet stage: a ground with one droplet (sshd, dockerd and nginx in a network namespace; the
    /// ground's registry holds the images), the good commit deployed blue-green, then the bad one. The
    /// ground is torn down when this returns, also on an error.
    fn droplet_stage(&mut self, good_sha: &str, bad_sha: &str) -> anyhow::Result<()> {
        say("");
        say("━━ droplet ground ━━");
        let ground =
            Ground::try_start(1).map_err(|e| anyhow::anyhow!("cannot start the droplet ground: {e}"))?;
        let d = ground.droplet(1);
        say(&format!(
            "  droplet {}: sshd, dockerd and nginx in a network namespace, ready in {:.1}s",
            d.host(),
            ground.started_in().as_secs_f64()
        ));
        let (good_version, bad_version) = (&good_sha[..7], &bad_sha[..7]);
        let built = Instant::now();
        let good = ground.try_image(good_version, &[("GREETING", "todos")])?;
        let bad = ground.try_image(
            bad_version,
            &[("GREETING", "todos"), ("CRASH_AFTER", BAD_DROPLET_CRASH_AFTER)],
        )?;
        say(&format!(
            "  images {good_version} and {bad_version} (exits {BAD_DROPLET_CRASH_AFTER}s after it starts) pushed to {} in {:.1}s",
            ground.registry(),
            built.elapsed().as_secs_f64()
        ));
        let compose = self.cli.work.join("droplet/compose.yaml");
        std::fs::create_dir_all(self.cli.work.join("droplet"))?;
        std::fs::write(&compose, DROPLET_COMPOSE)?;
        // do-deploy masks the key line by line and never prints the env file: check both.
        self.secrets.extend(
            d.client_key_pem()
                .expose()
                .lines()
                .filter(|l| l.len() >= 8 && !l.starts_with("-----"))
                .map(str::to_owned),
        );
        self.secrets.push(DROPLET_DB_PASSWORD.to_owned());
        let serves = format!("version={good_version}");
        self.droplet_deploy(d, &compose, &good, good_sha, false, &serves)?;
        self.droplet_deploy(d, &compose, &bad, bad_sha, true, &serves)?;
        self.droplet_ran = true;
        Ok(())
    }

    /// One droplet-compose deploy as a step; `dies` is the release that crashes during `observe`.
    /// `serves` is what nginx must answer with afterwards (`version=…`).
    fn droplet_deploy(
        &mut self,
        d: &Droplet,
        compose: &Path,
        image: &str,
        sha: &str,
        dies: bool,
        serves: &str,
    ) -> anyhow::Result<()> {
        let (label, expected, observe) = if dies {
            (
                "droplet (bad release)",
                "dies during `observe`: traffic switched back automatically (exit 1, rolled-back true)",
                "30s",
            )
        } else {
            (
                "droplet deploy",
                "live blue-green behind the droplet's nginx",
                "5s",
            )
        };
        let url = d.proxy_url();
        let serving = move || match http_get(&url, Duration::from_secs(5)) {
            Ok((200, body)) => body.split_whitespace().next().unwrap_or_default().to_owned(),
            Ok((status, _)) => format!("HTTP {status}"),
            Err(e) => format!("nothing ({e})"),
        };
        let check = serving.clone();
        let want = serves.to_owned();
        self.step(
            label,
            "do-deploy",
            expected,
            &[
                ("target", "droplet-compose".into()),
                ("hosts", d.host()),
                ("ssh-key", d.client_key_pem().expose().to_owned()),
                ("known-hosts", d.hashed_known_hosts_line().to_owned()),
                ("compose-file", compose.display().to_string()),
                ("images", format!("web={image}")),
                ("env", format!("DB_PASSWORD={DROPLET_DB_PASSWORD}")),
                ("project", "example-app".into()),
                ("route", "web:8080".into()),
                ("proxy-upstream-file", d.upstream_file().display().to_string()),
                // The droplet's nginx sends `/` to the upstream `app`.
                ("proxy-upstream-name", "app".into()),
                ("proxy-check", d.nginx_check_cmd()),
                ("proxy-reload", d.nginx_reload_cmd()),
                ("state-dir", d.state_dir().display().to_string()),
                ("health-successes", "2".into()),
                ("observe", observe.into()),
                ("drain", "1s".into()),
                ("timeout", "5m".into()),
                ("github-token", GITHUB_TOKEN.into()),
                ("environment", "droplet".into()),
            ],
            &[("GITHUB_SHA", sha)],
            move |out| {
                let rolled_back = if dies { "true" } else { "false" };
                out.code == Some(if dies { 1 } else { 0 })
                    && output(out, "rolled-back") == rolled_back
                    && check() == want
            },
            move |out| {
                let row = summary_row(&out.summary);
                let cell = |i: usize| row.get(i).map(String::as_str).unwrap_or_default();
                let result = match cell(3) {
                    "live" => format!("live ({})", cell(2)),
                    other => other.to_owned(),
                };
                let phases: Vec<String> = cell(4)
                    .split(", ")
                    .filter(|p| p.starts_with("up ") || p.starts_with("health gate "))
                    .map(str::to_owned)
                    .chain(switch_ms(&out.stderr).map(|ms| format!("switch {ms} ms")))
                    .collect();
                format!(
                    "release {} {result}; nginx serves {}; {}",
                    output(out, "release-id"),
                    serving(),
                    phases.join(", ")
                )
            },
        )?;
        Ok(())
    }

    /// The DOKS stage: do-deploy's doks target against two in-process stand-ins (no API server can be
    /// installed here): a Kubernetes API stand-in plays the cluster, the DigitalOcean one lists it and
    /// hands out short-lived credentials the Kubernetes one then accepts. The good release goes live;
    /// the bad one's pods crash a few seconds after they are ready, while do-deploy observes them, and
    /// the whole set (image and ConfigMap) is put back. What the stand-in stores afterwards is checked,
    /// and so are both stand-ins' contracts.
    fn doks_stage(&mut self, good: &DoksRelease<'_>, bad: &DoksRelease<'_>) -> anyhow::Result<()> {
        say("");
        say("━━ DOKS stand-ins ━━");
        let doks = Doks::start()?;
        say(&format!(
            "  a Kubernetes API stand-in plays cluster `{DOKS_CLUSTER}` at {} (not a live cluster: pods' fates are scripted); \
             a DigitalOcean stand-in at {} issues its credentials",
            doks.kube.url(),
            doks.dosim.url()
        ));
        say(&format!(
            "  the bad release's pods ({}) get ready after 2 s and crash 6 s later (seconds of the stand-in's clock)",
            short_digest(bad.image)
        ));
        doks.kube.with(|k| {
            k.script_image(
                bad.image,
                Fate::CrashAfterReady {
                    ready_after: 2,
                    crash_after: 6,
                },
            );
            k.set_logs(
                bad.image,
                &["todos listening on :8080", "panic: lost the database connection"],
            );
        });
        self.doks_deploy(&doks, good, good)?;
        self.doks_deploy(&doks, bad, good)?;
        self.doks_calls = Some(DoksCalls {
            kubernetes: doks.kube.exchanges().len(),
            digitalocean: doks.dosim.exchanges().len(),
        });
        Ok(())
    }

    /// One doks deploy as a step; afterwards the stand-in must store `stays` (the release itself when
    /// it is healthy, the one before when it is rolled back) and no exchange may break a contract.
    fn doks_deploy(
        &mut self,
        doks: &Doks,
        release: &DoksRelease<'_>,
        stays: &DoksRelease<'_>,
    ) -> anyhow::Result<()> {
        let dies = release.image != stays.image;
        let (label, expected, observe) = if dies {
            (
                "doks (bad release)",
                "crashes during `observe`: image and ConfigMap rolled back, 2 of 2 pods available (exit 1, rolled-back true)",
                "20s",
            )
        } else {
            (
                "doks deploy",
                "live: 2 of 2 pods available on the new image",
                "5s",
            )
        };
        let dir = self.checkout.join("k8s");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(
            dir.join("app.yaml"),
            DOKS_MANIFESTS
                .replace("REPOSITORY", PUBLISHED_REPO)
                .replace("GREETING_VALUE", release.greeting),
        )?;
        let want = (stays.image.to_owned(), stays.greeting.to_owned());
        let out = self.step(
            label,
            "do-deploy",
            expected,
            &[
                ("target", "doks".into()),
                ("token", DO_TOKEN.into()),
                ("api-url", doks.dosim.url()),
                ("cluster", DOKS_CLUSTER.into()),
                ("namespace", DOKS_NAMESPACE.into()),
                ("manifests", "k8s/".into()),
                ("images", format!("web={}", release.image)),
                ("poll-interval", "1s".into()),
                ("observe", observe.into()),
                ("timeout", "3m".into()),
            ],
            &[("GITHUB_SHA", release.sha)],
            |out| {
                out.code == Some(if dies { 1 } else { 0 })
                    && output(out, "rolled-back") == if dies { "true" } else { "false" }
                    && doks
                        .stored()
                        .is_some_and(|s| s.available == 2 && (s.image, s.greeting) == want)
                    && doks.violations().is_empty()
            },
            |out| {
                let ending = match (out.code, output(out, "rolled-back").as_str()) {
                    (Some(0), _) => "live",
                    (_, "true") if out.stderr.contains("during `observe`") => {
                        "crashed during `observe`, rolled back"
                    }
                    (_, "true") => "failed, rolled back",
                    _ => "failed, NOT rolled back",
                };
                let stored = doks.stored().map_or_else(
                    || "nothing stored".to_owned(),
                    |s| {
                        format!(
                            "stored: web {} ({}/2 available), GREETING `{}`",
                            short_digest(&s.image),
                            s.available,
                            s.greeting
                        )
                    },
                );
                let violations = doks.violations();
                format!(
                    "release {} {ending}; {stored}{}",
                    output(out, "release-id"),
                    if violations.is_empty() {
                        String::new()
                    } else {
                        format!("; {} contract violation(s)", violations.len())
                    }
                )
            },
        )?;
        for v in doks.violations() {
            say(&format!("  ✘ contract: {v}"));
        }
        // The cluster tokens were issued during the step: check them now.
        let text = visible_text(&out);
        anyhow::ensure!(
            doks.tokens().iter().all(|t| !text.contains(t.as_str())),
            "do-deploy leaked a cluster token into its log, outputs or summary"
        );
        Ok(())
    }

    /// A git checkout of the example app with one commit on `main`, so tools see a real repository.
    fn prepare_checkout(&mut self) -> anyhow::Result<String> {
        let _ = std::fs::remove_dir_all(&self.checkout);
        copy_dir(&self.cli.repo.join("examples/app"), &self.checkout)?;
        // The app ships with the container pipeline template, which the security stage audits.
        std::fs::create_dir_all(self.checkout.join(".github/workflows"))?;
        std::fs::copy(
            self.cli.repo.join("workflows-templates/container.yml"),
            self.checkout.join(".github/workflows/pipeline.yml"),
        )?;
        git(&self.checkout, &["init", "-q", "-b", "main"])?;
        git(&self.checkout, &["add", "-A"])?;
        git(&self.checkout, &["commit", "-q", "-m", "example app"])?;
        git(&self.checkout, &["rev-parse", "HEAD"])
    }

    fn commit_change(&mut self) -> anyhow::Result<String> {
        let path = self.checkout.join("server.js");
        let text = std::fs::read_to_string(&path)?;
        std::fs::write(&path, text.replace("ship it", "ship it faster"))?;
        git(
            &self.checkout,
            &["commit", "-q", "-am", "faster todos (bad release)"],
        )?;
        git(&self.checkout, &["rev-parse", "HEAD"])
    }

    fn build(&mut self, sha: &str) -> anyhow::Result<String> {
        let image = format!("{}/octo/example-app", self.cli.registry);
        let extra: Vec<(String, String)> = self
            .cli
            .build_env
            .iter()
            .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        let extra_refs: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let short = sha[..7].to_owned();
        let out = self.step(
            "build",
            "image-build-tag",
            "builds, pushes and verifies the image; outputs its digest",
            &[
                ("images", image.clone()),
                ("tags", "type=sha\ntype=ref,event=branch".into()),
                ("builder", "buildah".into()),
                ("context", ".".into()),
                ("push", "true".into()),
            ],
            &extra_refs,
            |out| out.code == Some(0) && output(out, "digest").starts_with("sha256:"),
            move |out| format!("sha-{short} → {}", output(out, "digest")),
        )?;
        let digest = output(&out, "digest");
        anyhow::ensure!(
            digest.starts_with("sha256:"),
            "image-build-tag reported no digest"
        );
        Ok(format!("{PUBLISHED_REPO}@{digest}"))
    }

    fn deploy(
        &mut self,
        label: &'static str,
        app: &str,
        image: &str,
        action: &str,
    ) -> anyhow::Result<String> {
        let expected = if action == "rollback" {
            "rolls back to the release that worked"
        } else {
            "deployment ACTIVE; outputs the live URL"
        };
        let app_owned = app.to_owned();
        let out = self.step(
            label,
            "do-deploy",
            expected,
            &[
                ("token", DO_TOKEN.into()),
                ("api-url", self.dosim.url()),
                ("action", action.into()),
                ("app-spec", ".do/app.yaml".into()),
                ("app-name", app.into()),
                ("images", format!("web={image}")),
                ("github-token", GITHUB_TOKEN.into()),
                (
                    "environment",
                    if app.ends_with("staging") {
                        "staging".into()
                    } else {
                        "production".into()
                    },
                ),
            ],
            &[
                ("SERVICE_NAME", app_owned.as_str()),
                ("OPS_RETRY_DELAY_SCALE", "0"),
            ],
            move |out| out.code == Some(0),
            |out| {
                format!(
                    "deployment {} {}{}",
                    output(out, "deployment-id"),
                    output(out, "phase"),
                    if output(out, "rolled-back") == "true" {
                        ", rolled back"
                    } else {
                        ""
                    }
                )
            },
        )?;
        Ok(output(&out, "live-url"))
    }

    fn smoke(
        &mut self,
        label: &'static str,
        environment: &str,
        url: &str,
        version: &str,
        healthy: bool,
    ) -> anyhow::Result<()> {
        let junit = self.cli.work.join(format!("smoke-{}.xml", self.step + 1));
        let (expected, ok): (&'static str, fn(&RunOutput) -> bool) = if healthy {
            ("decision promote", |out| {
                out.code == Some(0) && output(out, "decision") == "promote"
            })
        } else {
            ("decision rollback: the bad release is caught", |out| {
                out.code == Some(1) && output(out, "decision") == "rollback"
            })
        };
        self.step(
            label,
            "smoke-test",
            expected,
            &[
                ("checks", "smoke.yaml".into()),
                ("base-url", url.into()),
                ("expect-version", version.into()),
                ("environment", environment.into()),
                ("junit-report", junit.display().to_string()),
            ],
            &[],
            ok,
            |out| {
                format!(
                    "{}: {} passed, {} failed, p95 {} ms",
                    output(out, "decision"),
                    output(out, "passed"),
                    output(out, "failed"),
                    output(out, "p95-ms")
                )
            },
        )?;
        Ok(())
    }

    /// Starts the example app on a free loopback port; `broken` makes it a bad release.
    fn start_app(&mut self, version: &str, broken: bool) -> anyhow::Result<u16> {
        let port = free_port()?;
        let child = Command::new("node")
            .arg("server.js")
            .current_dir(&self.checkout)
            .env("PORT", port.to_string())
            .env("APP_VERSION", version)
            .env("BROKEN", if broken { "1" } else { "0" })
            .stdout(Stdio::null())
            .spawn()?;
        self.apps.push(child);
        // Readiness is smoke-test's job; the demo only waits until the port accepts connections so the
        // first deploy's health check has something to find.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "the example app did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(port)
    }

    /// Runs one tool as a step: a fresh runner, the inputs, the log and the step summary printed.
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site per stage reads best with everything named"
    )]
    fn step(
        &mut self,
        name: &'static str,
        tool: &'static str,
        expected: &'static str,
        inputs: &[(&str, String)],
        env: &[(&str, &str)],
        ok: impl Fn(&RunOutput) -> bool,
        detail: impl Fn(&RunOutput) -> String,
    ) -> anyhow::Result<RunOutput> {
        self.step += 1;
        say("");
        say(&format!("━━ {}. {name} — {tool} ━━", self.step));
        let mut runner = FakeRunner::new()?
            .env("GITHUB_WORKSPACE", self.checkout.display().to_string())
            .env("GITHUB_API_URL", self.gh.url())
            .env("GITHUB_SHA", git(&self.checkout, &["rev-parse", "HEAD"])?)
            .env("GITHUB_REPOSITORY", format!("{OWNER}/{REPO}"))
            .env("GITHUB_ACTOR", "octocat");
        for (k, v) in inputs {
            runner = runner.input(k, v.clone());
        }
        for (k, v) in env {
            runner = runner.env(k, *v);
        }
        let started = Instant::now();
        let bin = self.cli.bin_dir.join(tool);
        let result = runner.command(&bin).output()?;
        let out = runner.collect(result.status.code(), &result.stdout, &result.stderr)?;
        let took = started.elapsed();
        print_log(&out, self.cli.verbose);
        if !out.summary.trim().is_empty() {
            say("  ┌─ step summary");
            for line in out.summary.lines() {
                say(&format!("  │ {line}"));
            }
            say("  └─");
        }
        let passed = ok(&out);
        let detail = detail(&out);
        say(&format!(
            "  {} exit {} — {detail} ({:.1}s)",
            if passed { "✔" } else { "✘" },
            out.code.map_or_else(|| "signal".to_owned(), |c| c.to_string()),
            took.as_secs_f64()
        ));
        let text = visible_text(&out);
        for secret in [GITHUB_TOKEN, DO_TOKEN]
            .into_iter()
            .chain(self.secrets.iter().map(String::as_str))
        {
            anyhow::ensure!(
                !text.contains(secret),
                "{tool} leaked a secret into its log, outputs or summary"
            );
        }
        self.stages.push(Stage {
            name,
            tool,
            expected,
            ok: passed,
            detail,
            took,
        });
        Ok(out)
    }

    fn report(&self) -> bool {
        let all_ok = self.stages.iter().all(|s| s.ok);
        say("");
        say("━━ report ━━");
        say(&format!(
            "{:<3} {:<32} {:<16} {:<7} {}",
            "", "stage", "tool", "time", "result"
        ));
        for (i, s) in self.stages.iter().enumerate() {
            say(&format!(
                "{:<3} {:<32} {:<16} {:>5.1}s  {} {}",
                i + 1,
                s.name,
                s.tool,
                s.took.as_secs_f64(),
                if s.ok { "✔" } else { "✘" },
                s.detail
            ));
            if !s.ok {
                say(&format!("      expected: {}", s.expected));
            }
        }
        let gh_calls = self.gh.exchanges().len();
        let mut do_calls = self.dosim.exchanges().len();
        let mut kube_calls = String::new();
        if let Some(doks) = &self.doks_calls {
            do_calls += doks.digitalocean;
            kube_calls = format!(", Kubernetes stand-in {}", doks.kubernetes);
        }
        say(&format!(
            "API calls: GitHub stand-in {gh_calls}, DigitalOcean stand-in {do_calls}{kube_calls}; no token{} appeared in any log, output or summary",
            if self.droplet_ran {
                ", SSH key or env file secret"
            } else {
                ""
            }
        ));
        if !all_ok {
            say("pipeline NOT ok: see the stages marked ✘ above");
            return false;
        }
        let mut done =
            vec!["the good release reached production; the bad one was caught by smoke-test and rolled back"];
        if self.droplet_ran {
            done.push(
                "on the Droplet, the good release went live blue-green and the bad one was switched back automatically",
            );
        }
        if self.doks_calls.is_some() {
            done.push(
                "on DOKS (a Kubernetes API stand-in), the good release went live and the bad one's image and ConfigMap \
                 were rolled back automatically",
            );
        }
        say(&format!("pipeline ok: {}", done.join("; ")));
        true
    }
}

fn print_log(out: &RunOutput, verbose: bool) {
    let lines: Vec<&str> = out.stderr.lines().chain(out.stdout.lines()).collect();
    let shown = if verbose || lines.len() <= 40 {
        &lines[..]
    } else {
        &lines[lines.len() - 40..]
    };
    if shown.len() < lines.len() {
        say(&format!(
            "  │ … {} earlier log lines (--verbose shows them)",
            lines.len() - shown.len()
        ));
    }
    for line in shown {
        say(&format!("  │ {line}"));
    }
}

/// What a step left for people to see. `::add-mask::` lines are how a secret reaches the runner's
/// masking; anywhere else is a leak.
fn visible_text(out: &RunOutput) -> String {
    out.all_text()
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `sha256:` and the first 7 hex digits of an image reference's digest.
fn short_digest(image: &str) -> String {
    image.split_once("@sha256:").map_or_else(
        || image.to_owned(),
        |(_, hex)| format!("sha256:{}", hex.get(..7).unwrap_or(hex)),
    )
}

/// One release as the DOKS stage deploys it.
struct DoksRelease<'a> {
    sha: &'a str,
    image: &'a str,
    /// The ConfigMap's `GREETING` in this release's manifests.
    greeting: &'a str,
}

/// What the Kubernetes stand-in stores for the example app.
struct Stored {
    image: String,
    greeting: String,
    available: i64,
}

/// The DOKS stage's ground: the Kubernetes API stand-in, and the DigitalOcean one that lists the cluster
/// and issues credentials; each issued token is accepted by the Kubernetes stand-in from then on.
struct Doks {
    kube: Arc<KubeSim>,
    dosim: DoSim,
    tokens: Arc<Mutex<Vec<String>>>,
}

impl Doks {
    fn start() -> anyhow::Result<Self> {
        let kube = Arc::new(KubeSim::start());
        kube.with(|k| {
            k.add_namespace(DOKS_NAMESPACE);
            // Nothing is served before DigitalOcean issued a token.
            k.accept_tokens(&["none-issued-yet"]);
        });
        let dosim = DoSim::start();
        let contract = Contract::vendored(Spec::DigitalOcean)
            .map_err(|e| anyhow::anyhow!("the DigitalOcean API description: {e}"))?;
        dosim.check_contract(contract, ContractMode::Observe);
        let tokens = Arc::new(Mutex::new(Vec::<String>::new()));
        let (sink, kube_side) = (Arc::clone(&tokens), Arc::clone(&kube));
        // Real time, so that a credential's `expires_at` means what it says to a client on the real clock.
        let now = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())?;
        dosim.with(|s| {
            s.jump_to(now);
            s.add_kubernetes_cluster(NewKubernetesCluster::new(DOKS_CLUSTER, &kube.url()));
            s.on_kubernetes_credentials(move |issued| {
                let mut all = sink.lock().unwrap_or_else(PoisonError::into_inner);
                all.push(issued.token.clone());
                let accepted: Vec<&str> = all.iter().map(String::as_str).collect();
                kube_side.with(|k| k.accept_tokens(&accepted));
            });
        });
        Ok(Self { kube, dosim, tokens })
    }

    fn stored(&self) -> Option<Stored> {
        let (deployment, config) = self.kube.with(|k| {
            (
                k.get("deployments", DOKS_NAMESPACE, "web"),
                k.get("configmaps", DOKS_NAMESPACE, "web-config"),
            )
        });
        let deployment = deployment?;
        Some(Stored {
            image: deployment["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()?
                .to_owned(),
            greeting: config?["data"]["GREETING"].as_str()?.to_owned(),
            available: deployment["status"]["availableReplicas"].as_i64().unwrap_or(0),
        })
    }

    /// Exchanges that broke the Kubernetes or the DigitalOcean API description, both stand-ins.
    fn violations(&self) -> Vec<String> {
        self.kube
            .with(|k| k.violations())
            .iter()
            .chain(self.dosim.violations().iter())
            .map(ToString::to_string)
            .collect()
    }

    fn tokens(&self) -> Vec<String> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

fn output(out: &RunOutput, name: &str) -> String {
    out.outputs.get(name).cloned().unwrap_or_default()
}

/// The first host row of a droplet-compose step summary: host, release, colour, result, timings,
/// evidence (code spans unwrapped).
fn summary_row(summary: &str) -> Vec<String> {
    summary
        .lines()
        .find(|l| l.starts_with("| `") && l.contains('@'))
        .map(|l| {
            l.trim()
                .trim_start_matches("| ")
                .trim_end_matches(" |")
                .split(" | ")
                .map(|c| {
                    c.strip_prefix('`')
                        .and_then(|c| c.strip_suffix('`'))
                        .filter(|c| !c.contains('`'))
                        .unwrap_or(c)
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// do-deploy's own time for the proxy switch, from `traffic switched to … in N ms`.
fn switch_ms(log: &str) -> Option<u64> {
    log.lines()
        .filter(|l| l.contains("traffic switched to "))
        .find_map(|l| {
            l.trim_end()
                .strip_suffix(" ms")?
                .rsplit_once(" in ")?
                .1
                .parse()
                .ok()
        })
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Demo")
        .env("GIT_AUTHOR_EMAIL", "demo@example.com")
        .env("GIT_COMMITTER_NAME", "Demo")
        .env("GIT_COMMITTER_EMAIL", "demo@example.com")
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "git {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `ops-demo droplet-bench`: droplet-compose measured on a droplet ground with the real do-deploy
/// binary, next to the recipe people run today (`ssh` + `docker compose pull && docker compose up -d`).
/// Prints a Markdown section on stdout; progress goes to stderr.
mod bench {
    use std::io::Write as _;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::{
        Command, Droplet, Duration, FakeRunner, Ground, Instant, PathBuf, RunOutput, Stdio, http_get, output,
        switch_ms,
    };

    #[derive(Debug, clap::Args)]
    pub(super) struct Args {
        /// Directory holding the do-deploy binary to measure.
        #[arg(long)]
        bin_dir: PathBuf,
        /// Runs of each scenario: blue-green upgrades, automatic rollbacks, Compose upgrades over `ssh`,
        /// and do-deploy deploys timed for the cost of one remote step.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Rounds of remote steps through the `ssh` CLI (each round runs one of every kind).
        #[arg(long, default_value_t = 30)]
        steps: usize,
    }

    /// The release that dies exits this many seconds after it starts: after its health gate and the
    /// switch, inside the observation window.
    const CRASH_AFTER: &str = "20";
    /// Long enough to see the crash.
    const CRASH_OBSERVE: &str = "40s";
    /// What do-deploy deploys; `images` sets `web`'s image.
    const COMPOSE: &str = "name: bench\nservices:\n  web:\n    image: placeholder\n";
    /// The recipe's Compose file: the image from the environment, a fixed port behind the droplet's nginx.
    const PLAIN_COMPOSE: &str =
        "name: plain\nservices:\n  web:\n    image: ${IMAGE}\n    ports: ['127.0.0.1:8081:8080']\n";
    const PLAIN_UPSTREAM: &str = "upstream app {\n    server 127.0.0.1:8081;\n}\n";
    /// The request loop's pause between requests, and its bounds.
    const LOAD_PAUSE: Duration = Duration::from_millis(10);
    const LOAD_MAX_REQUESTS: usize = 20_000;
    const LOAD_MAX_TIME: Duration = Duration::from_secs(180);

    #[expect(
        clippy::print_stderr,
        reason = "progress goes to stderr, the figures to stdout"
    )]
    fn note(text: &str) {
        eprintln!("==> {text}");
    }

    pub(super) fn run(args: &Args) -> anyhow::Result<()> {
        anyhow::ensure!(
            args.runs >= 1 && args.steps >= 2,
            "`--runs` must be at least 1 and `--steps` at least 2"
        );
        let bin = args.bin_dir.join("do-deploy");
        anyhow::ensure!(
            bin.is_file(),
            "no `do-deploy` in `{}`\nhint: cargo build --release -p do-deploy",
            args.bin_dir.display()
        );
        note("starting a droplet ground with one droplet");
        let ground =
            Ground::try_start(1).map_err(|e| anyhow::anyhow!("cannot start the droplet ground: {e}"))?;
        let d = ground.droplet(1);
        note(&format!(
            "droplet {} ready in {:.1}s; building the test images",
            d.host(),
            ground.started_in().as_secs_f64()
        ));
        let a = ground.try_image("a", &[])?;
        let b = ground.try_image("b", &[])?;
        let crash = ground.try_image("crash", &[("CRASH_AFTER", CRASH_AFTER)])?;
        let work = tempfile::tempdir()?;
        let compose = work.path().join("compose.yaml");
        std::fs::write(&compose, COMPOSE)?;
        let bench = Bench {
            ground: &ground,
            d,
            bin,
            compose,
            work: work.path().to_owned(),
        };
        let steps = bench.remote_steps(args.runs, args.steps, &a, &b)?;
        let upgrades = bench.blue_green(args.runs, &a, &b)?;
        let rollbacks = bench.rollbacks(args.runs, &crash)?;
        let plain = bench.plain(args.runs, &a, &b)?;
        let mut out = std::io::stdout().lock();
        write!(out, "{}", markdown(args, &steps, &upgrades, &rollbacks, &plain))?;
        Ok(())
    }

    struct Bench<'g> {
        ground: &'g Ground,
        d: &'g Droplet,
        bin: PathBuf,
        compose: PathBuf,
        work: PathBuf,
    }

    /// One do-deploy run.
    struct Deployed {
        out: RunOutput,
        wall: Duration,
        switch_ms: Option<u64>,
    }

    /// One upgrade under load.
    struct Upgrade {
        wall: Duration,
        switch_ms: Option<u64>,
        load: Load,
        /// SSH connections and command sessions (exec channels) the droplet's sshd logged meanwhile.
        ssh: (usize, usize),
    }

    /// One automatic rollback under load.
    struct Rollback {
        /// From the moment the release stopped answering (the first failed request, or Docker's record
        /// of its exit if that came first) to the first answer of the previous release through nginx.
        back: f64,
        load: Load,
    }

    /// What the request loop saw.
    #[derive(Default)]
    struct Load {
        samples: Vec<Sample>,
    }

    struct Sample {
        /// When the request was sent, seconds since the epoch.
        at: f64,
        /// 200, with `version=…` of the body.
        version: Option<String>,
    }

    /// Four ways of running one remote step, each timed `n` times.
    struct Steps {
        tool: Vec<f64>,
        tool_connect: Vec<String>,
        fresh_default: Vec<f64>,
        fresh_curve: Vec<f64>,
        multiplexed: Vec<f64>,
        /// The start of the shell that runs every remote command, as sshd starts it and plain.
        shell_sshd: Vec<f64>,
        shell_plain: Vec<f64>,
    }

    fn now() -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    }

    fn version_of(body: &str) -> Option<String> {
        body.split_whitespace()
            .next()?
            .strip_prefix("version=")
            .map(str::to_owned)
    }

    /// A bounded request loop against the droplet's nginx (its own address only): one GET at a time,
    /// a pause between them, at most `LOAD_MAX_REQUESTS` requests and `LOAD_MAX_TIME`.
    struct Loop {
        stop: Arc<AtomicBool>,
        handle: std::thread::JoinHandle<Vec<Sample>>,
    }

    impl Loop {
        fn start(url: String) -> Self {
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            let handle = std::thread::spawn(move || {
                let mut seen = Vec::new();
                let until = Instant::now() + LOAD_MAX_TIME;
                while !flag.load(Ordering::Relaxed)
                    && seen.len() < LOAD_MAX_REQUESTS
                    && Instant::now() < until
                {
                    let at = now();
                    let version = match http_get(&url, Duration::from_secs(5)) {
                        Ok((200, body)) => version_of(&body),
                        _ => None,
                    };
                    seen.push(Sample { at, version });
                    std::thread::sleep(LOAD_PAUSE);
                }
                seen
            });
            Self { stop, handle }
        }

        fn finish(self) -> anyhow::Result<Load> {
            self.stop.store(true, Ordering::Relaxed);
            let samples = self
                .handle
                .join()
                .map_err(|_| anyhow::anyhow!("the request loop panicked"))?;
            Ok(Load { samples })
        }
    }

    impl Load {
        fn failed(&self) -> usize {
            self.samples.iter().filter(|s| s.version.is_none()).count()
        }

        /// Seconds without an answer: each run of failed requests counts from its first request to the
        /// next request that succeeded (or the last one, if none did).
        fn downtime(&self) -> f64 {
            let mut total = 0.0;
            let mut since = None;
            for s in &self.samples {
                match (&s.version, since) {
                    (None, None) => since = Some(s.at),
                    (Some(_), Some(start)) => {
                        total += s.at - start;
                        since = None;
                    }
                    _ => {}
                }
            }
            if let (Some(start), Some(last)) = (since, self.samples.last()) {
                total += last.at - start;
            }
            total
        }
    }

    impl Bench<'_> {
        fn deploy(&self, project: &str, image: &str, extra: &[(&str, &str)]) -> anyhow::Result<Deployed> {
            let d = self.d;
            let mut runner = FakeRunner::new()?
                .input("target", "droplet-compose")
                .input("hosts", d.host())
                .input("ssh-key", d.client_key_pem().expose().to_owned())
                .input("known-hosts", d.hashed_known_hosts_line())
                .input("compose-file", self.compose.display().to_string())
                .input("images", format!("web={image}"))
                .input("project", project)
                .input("route", "web:8080")
                .input("proxy-upstream-file", d.upstream_file().display().to_string())
                .input("proxy-upstream-name", "app")
                .input("proxy-check", d.nginx_check_cmd())
                .input("proxy-reload", d.nginx_reload_cmd())
                .input("state-dir", d.state_dir().display().to_string())
                .input("observe", "5s")
                .input("drain", "2s")
                .input("timeout", "5m");
            for (k, v) in extra {
                runner = runner.input(k, *v);
            }
            let started = Instant::now();
            let result = runner.command(&self.bin).output()?;
            let wall = started.elapsed();
            let out = runner.collect(result.status.code(), &result.stdout, &result.stderr)?;
            let switch_ms = switch_ms(&out.stderr);
            Ok(Deployed { out, wall, switch_ms })
        }

        /// `ssh` with the ground's key and known_hosts, strict host key checking, no user configuration;
        /// `remote` is the remote command (none for `-N` or `-O`).
        fn ssh(&self, options: &[&str], remote: Option<&str>) -> Command {
            let mut cmd = Command::new("ssh");
            cmd.args(["-F", "/dev/null", "-i"])
                .arg(self.ground.client_key_path())
                .args(["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"])
                .args(["-o", "StrictHostKeyChecking=yes", "-o"])
                .arg(format!(
                    "UserKnownHostsFile={}",
                    self.ground.known_hosts_path().display()
                ))
                .args(["-o", "GlobalKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10"])
                .args(options)
                .arg(self.d.host())
                .args(remote.map(|r| ["--", r]).into_iter().flatten())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            cmd
        }

        /// Runs an `ssh` command to its end; fails with its stderr unless it exits 0.
        fn ssh_ok(&self, options: &[&str], remote: &str, stdin: Option<&[u8]>) -> anyhow::Result<Duration> {
            let mut cmd = self.ssh(options, Some(remote));
            if stdin.is_some() {
                cmd.stdin(Stdio::piped());
            }
            let started = Instant::now();
            let mut child = cmd.spawn()?;
            if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
                pipe.write_all(bytes)?;
            }
            let out = child.wait_with_output()?;
            let took = started.elapsed();
            anyhow::ensure!(
                out.status.success(),
                "`ssh … {remote}` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
            Ok(took)
        }

        /// Connections (`Accepted publickey`) and command sessions (`Starting session: command`) in the
        /// droplet's sshd log (`LogLevel VERBOSE`) so far.
        fn sshd_counts(&self) -> (usize, usize) {
            let log = self.d.sshd_log();
            (
                log.matches("Accepted publickey").count(),
                log.matches("Starting session: command").count(),
            )
        }

        fn sshd_counts_since(&self, before: (usize, usize)) -> (usize, usize) {
            let now = self.sshd_counts();
            (now.0.saturating_sub(before.0), now.1.saturating_sub(before.1))
        }

        fn serving(&self) -> Option<String> {
            match http_get(&self.d.proxy_url(), Duration::from_secs(5)) {
                Ok((200, body)) => version_of(&body),
                _ => None,
            }
        }

        fn wait_serving(&self, version: &str) -> anyhow::Result<()> {
            let deadline = Instant::now() + Duration::from_secs(60);
            while self.serving().as_deref() != Some(version) {
                anyhow::ensure!(
                    Instant::now() < deadline,
                    "nginx does not serve version `{version}` within 60s (it serves {:?})",
                    self.serving()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(())
        }

        fn compose_down(&self, project: &str) {
            let _ = self
                .d
                .docker_command()
                .args(["compose", "-p", project, "down", "--timeout", "1"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }

        /// One remote step: do-deploy's `switch` step with `true` as check and reload (one exec channel on
        /// its open connection, writing a small upstream file from stdin), and the same script through
        /// the `ssh` CLI: a fresh connection with OpenSSH's default key exchange, one with
        /// curve25519-sha256 (what do-deploy negotiates with this sshd), and one channel on a
        /// multiplexed connection (ControlMaster).
        fn remote_steps(&self, runs: usize, n: usize, a: &str, b: &str) -> anyhow::Result<Steps> {
            let scratch = self.d.state_dir().join("cost-upstream.conf");
            let scratch_text = scratch.display().to_string();
            let mut tool = Vec::new();
            let mut tool_connect = Vec::new();
            for i in 0..runs {
                note(&format!("remote step: do-deploy run {}/{runs}", i + 1));
                let r = self.deploy(
                    "cost",
                    if i.is_multiple_of(2) { a } else { b },
                    &[
                        ("proxy-upstream-file", &scratch_text),
                        ("proxy-check", "true"),
                        ("proxy-reload", "true"),
                        ("observe", "0s"),
                        ("drain", "0s"),
                        ("health-successes", "1"),
                    ],
                )?;
                anyhow::ensure!(r.out.code == Some(0), "do-deploy failed:\n{}", r.out.stderr);
                let ms = r.switch_ms.ok_or_else(|| {
                    anyhow::anyhow!(
                        "do-deploy logged no `traffic switched … in N ms`:\n{}",
                        r.out.stderr
                    )
                })?;
                tool.push(ms as f64);
                if let Some(c) = super::summary_row(&r.out.summary).get(4).and_then(|t| {
                    t.split(", ")
                        .find(|p| p.starts_with("connect "))
                        .map(str::to_owned)
                }) {
                    tool_connect.push(c.trim_start_matches("connect ").to_owned());
                }
            }
            self.compose_down("cost-blue");
            self.compose_down("cost-green");

            let script = format!(
                "set -euo pipefail\n{}",
                switch_script(&scratch_text, "true", "true")
            );
            let remote = format!("exec bash -c {}", quote(&script));
            let upstream = b"# scratch\nupstream cost {\n    server 127.0.0.1:1;\n}\n";
            let socket = self.work.join("cm");
            let path = format!("ControlPath={}", socket.display());
            let master = Master::start(self, &path)?;
            let kinds: [&[&str]; 3] = [
                &[],
                &["-o", "KexAlgorithms=curve25519-sha256"],
                &["-o", &path, "-o", "ControlMaster=no"],
            ];
            // Round by round, so that the load of the machine, which drifts, weighs on every kind alike.
            let mut timed: [Vec<f64>; 5] = Default::default();
            note(&format!(
                "remote step: {n} rounds of ssh (fresh, fresh with curve25519-sha256, multiplexed) and the shell's start"
            ));
            for _ in 0..n {
                for (i, options) in kinds.iter().enumerate() {
                    let took = self.ssh_ok(options, &remote, Some(upstream))?;
                    timed[i].push(took.as_secs_f64() * 1000.0);
                }
                timed[3].push(shell_start(true)?);
                timed[4].push(shell_start(false)?);
            }
            master.stop();
            let [fresh_default, fresh_curve, multiplexed, shell_sshd, shell_plain] = timed;
            Ok(Steps {
                tool,
                tool_connect,
                fresh_default,
                fresh_curve,
                multiplexed,
                shell_sshd,
                shell_plain,
            })
        }

        /// Blue-green upgrades under load, alternating two releases; the first deploy is not measured.
        fn blue_green(&self, runs: usize, a: &str, b: &str) -> anyhow::Result<Vec<Upgrade>> {
            note("blue-green: first deploy (not measured)");
            let first = self.deploy("app", a, &[])?;
            anyhow::ensure!(
                first.out.code == Some(0),
                "do-deploy failed:\n{}",
                first.out.stderr
            );
            self.wait_serving("a")?;
            let mut upgrades = Vec::new();
            for i in 0..runs {
                let (image, version) = if i.is_multiple_of(2) { (b, "b") } else { (a, "a") };
                note(&format!("blue-green: upgrade {}/{runs} under load", i + 1));
                let before = self.sshd_counts();
                let load = Loop::start(self.d.proxy_url());
                let r = self.deploy("app", image, &[]);
                let load = load.finish()?;
                let r = r?;
                let ssh = self.sshd_counts_since(before);
                anyhow::ensure!(r.out.code == Some(0), "do-deploy failed:\n{}", r.out.stderr);
                anyhow::ensure!(
                    self.serving().as_deref() == Some(version),
                    "after the upgrade nginx serves {:?}, not `{version}`",
                    self.serving()
                );
                upgrades.push(Upgrade {
                    wall: r.wall,
                    switch_ms: r.switch_ms,
                    load,
                    ssh,
                });
            }
            Ok(upgrades)
        }

        /// A release that dies during `observe`, under load: do-deploy switches back to the live one.
        fn rollbacks(&self, runs: usize, crash: &str) -> anyhow::Result<Vec<Rollback>> {
            let mut rollbacks = Vec::new();
            for i in 0..runs {
                let live = self
                    .serving()
                    .ok_or_else(|| anyhow::anyhow!("nothing serves before the rollback run"))?;
                note(&format!(
                    "rollback: run {}/{runs}, a release that exits {CRASH_AFTER}s after it starts",
                    i + 1
                ));
                let load = Loop::start(self.d.proxy_url());
                let r = self.deploy("app", crash, &[("observe", CRASH_OBSERVE)]);
                let load = load.finish()?;
                let r = r?;
                anyhow::ensure!(
                    r.out.code == Some(1) && output(&r.out, "rolled-back") == "true",
                    "expected exit 1 and `rolled-back: true` (the crash must come after the switch), got exit {:?}:\n{}",
                    r.out.code,
                    r.out.stderr
                );
                // The release stops answering when its process exits, a moment before Docker records
                // the exit: start at whichever the loop or Docker saw first.
                let exited = self.exited_at(crash)?;
                let start = load
                    .samples
                    .iter()
                    .find(|s| s.version.is_none() && s.at >= exited - 1.0)
                    .map_or(exited, |s| s.at.min(exited));
                let back = load
                    .samples
                    .iter()
                    .find(|s| s.at >= start && s.version.as_deref() == Some(live.as_str()))
                    .map(|s| s.at)
                    .ok_or_else(|| anyhow::anyhow!("the request loop never saw `{live}` again"))?;
                rollbacks.push(Rollback {
                    back: back - start,
                    load,
                });
            }
            Ok(rollbacks)
        }

        /// When the container running `image` exited, from Docker's record, in seconds since the epoch.
        fn exited_at(&self, image: &str) -> anyhow::Result<f64> {
            for project in ["app-blue", "app-green"] {
                let ids = self.d.docker(&[
                    "ps",
                    "-aq",
                    "--filter",
                    &format!("label=com.docker.compose.project={project}"),
                ]);
                for id in ids.split_whitespace() {
                    let line = self.d.docker(&[
                        "inspect",
                        "--format",
                        "{{.Config.Image}} {{.State.FinishedAt}}",
                        id,
                    ]);
                    if let Some((img, at)) = line.trim().split_once(' ')
                        && img == image
                    {
                        let out = Command::new("date").args(["-u", "-d", at, "+%s.%N"]).output()?;
                        return String::from_utf8_lossy(&out.stdout)
                            .trim()
                            .parse()
                            .map_err(|e| anyhow::anyhow!("`date -d {at}`: {e}"));
                    }
                }
            }
            anyhow::bail!("no container of `{image}` on the droplet")
        }

        /// The recipe people run today, on the same droplet and nginx: `ssh` (a fresh connection each
        /// time), then `docker compose pull && docker compose up -d` with a fixed published port.
        fn plain(&self, runs: usize, a: &str, b: &str) -> anyhow::Result<Vec<Upgrade>> {
            self.compose_down("app-blue");
            self.compose_down("app-green");
            let dir = self.d.state_dir().join("plain");
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join("compose.yaml"), PLAIN_COMPOSE)?;
            let up = |image: &str| {
                format!(
                    "cd {} && export IMAGE={} && docker compose pull && docker compose up -d",
                    quote(&dir.display().to_string()),
                    quote(image)
                )
            };
            note("compose over ssh: first `up` (not measured), nginx pointed at its fixed port");
            self.ssh_ok(&[], &up(a), None)?;
            std::fs::write(self.d.upstream_file(), PLAIN_UPSTREAM)?;
            self.ssh_ok(&[], &self.d.nginx_reload_cmd(), None)?;
            self.wait_serving("a")?;
            let mut upgrades = Vec::new();
            for i in 0..runs {
                let (image, version) = if i.is_multiple_of(2) { (b, "b") } else { (a, "a") };
                note(&format!("compose over ssh: upgrade {}/{runs} under load", i + 1));
                let before = self.sshd_counts();
                let load = Loop::start(self.d.proxy_url());
                let took = self.ssh_ok(&[], &up(image), None);
                // `up -d` returns once the container started, not once it answers: keep counting until
                // the new release answers through nginx.
                let served = took.is_ok().then(|| self.wait_serving(version));
                let load = load.finish()?;
                let wall = took?;
                served.transpose()?;
                upgrades.push(Upgrade {
                    wall,
                    switch_ms: None,
                    load,
                    ssh: self.sshd_counts_since(before),
                });
            }
            self.compose_down("plain");
            Ok(upgrades)
        }
    }

    /// An OpenSSH control master (one open connection for `-o ControlPath=…`), stopped with `-O exit`.
    struct Master<'b, 'g> {
        bench: &'b Bench<'g>,
        path: String,
    }

    impl<'b, 'g> Master<'b, 'g> {
        fn start(bench: &'b Bench<'g>, path: &str) -> anyhow::Result<Self> {
            let status = bench
                .ssh(
                    &[
                        "-o",
                        path,
                        "-o",
                        "ControlMaster=yes",
                        "-o",
                        "ControlPersist=yes",
                        "-N",
                        "-f",
                    ],
                    None,
                )
                .stderr(Stdio::null())
                .status()?;
            anyhow::ensure!(
                status.success(),
                "could not start an ssh control master ({status})"
            );
            Ok(Self {
                bench,
                path: path.to_owned(),
            })
        }

        fn stop(self) {
            drop(self);
        }
    }

    impl Drop for Master<'_, '_> {
        fn drop(&mut self) {
            let _ = self
                .bench
                .ssh(&["-o", &self.path, "-O", "exit"], None)
                .stderr(Stdio::null())
                .status();
        }
    }

    /// Milliseconds to run `bash -c true` here, started as sshd starts a command (`SSH_CLIENT` set, not
    /// nested: Debian's bash then reads `~/.bashrc` first) or plainly. The droplets share this machine's
    /// users and home directories, so this is what every remote command on the ground pays first.
    fn shell_start(as_sshd: bool) -> anyhow::Result<f64> {
        let mut cmd = Command::new("bash");
        cmd.args(["-c", "true"])
            .env_remove("SHLVL")
            .env_remove("BASH_ENV")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if as_sshd {
            cmd.env("SSH_CLIENT", "10.250.0.1 40000 22");
        } else {
            cmd.env_remove("SSH_CLIENT");
        }
        let started = Instant::now();
        cmd.status()?;
        Ok(started.elapsed().as_secs_f64() * 1000.0)
    }

    /// do-deploy's `switch` step script (`proxy_switch` in its `droplet::remote`), for the same work
    /// through the `ssh` CLI.
    fn switch_script(file: &str, check: &str, reload: &str) -> String {
        let f = quote(file);
        format!(
            "mkdir -p \"$(dirname {f})\"
cat > {f}.ops-new
if [ -f {f} ]; then cp -p {f} {f}.ops-prev; else rm -f {f}.ops-prev; fi
mv -f {f}.ops-new {f}
if ! out=$( {check} 2>&1 ); then
  if [ -f {f}.ops-prev ]; then mv -f {f}.ops-prev {f}; else rm -f {f}; fi
  printf '%s\\n' \"$out\" >&2
  exit 3
fi
{reload}"
        )
    }

    /// A word for a POSIX shell.
    fn quote(word: &str) -> String {
        if !word.is_empty()
            && word
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b))
        {
            word.to_owned()
        } else {
            format!("'{}'", word.replace('\'', r"'\''"))
        }
    }

    /// Median, min and max.
    fn spread(values: &[f64]) -> (f64, f64, f64) {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        if v.is_empty() {
            return (0.0, 0.0, 0.0);
        }
        let mid = v.len() / 2;
        let median = if v.len().is_multiple_of(2) {
            (v[mid - 1] + v[mid]) / 2.0
        } else {
            v[mid]
        };
        (median, v[0], v[v.len() - 1])
    }

    fn ms_row(label: &str, values: &[f64]) -> String {
        let (median, min, max) = spread(values);
        format!(
            "| {label} | {} | {median:.0} ms | {min:.0} ms | {max:.0} ms |\n",
            values.len()
        )
    }

    fn upgrade_row(label: &str, upgrades: &[Upgrade]) -> String {
        let requests: usize = upgrades.iter().map(|u| u.load.samples.len()).sum();
        let failed: usize = upgrades.iter().map(|u| u.load.failed()).sum();
        let per_run: Vec<String> = upgrades.iter().map(|u| u.load.failed().to_string()).collect();
        let downtime: Vec<f64> = upgrades.iter().map(|u| u.load.downtime()).collect();
        let (down_median, _, down_max) = spread(&downtime);
        let wall: Vec<f64> = upgrades.iter().map(|u| u.wall.as_secs_f64()).collect();
        let (wall_median, _, _) = spread(&wall);
        let connections: Vec<f64> = upgrades.iter().map(|u| u.ssh.0 as f64).collect();
        let sessions: Vec<f64> = upgrades.iter().map(|u| u.ssh.1 as f64).collect();
        format!(
            "| {label} | {} | {requests} | {failed} ({}) | {down_median:.2} s | {down_max:.2} s | {wall_median:.1} s | {} / {} |\n",
            upgrades.len(),
            per_run.join(", "),
            spread(&connections).0,
            spread(&sessions).0
        )
    }

    fn markdown(
        args: &Args,
        steps: &Steps,
        upgrades: &[Upgrade],
        rollbacks: &[Rollback],
        plain: &[Upgrade],
    ) -> String {
        let mut s = String::new();
        s.push_str("| measure | runs | median | min | max |\n|---|---|---|---|---|\n");
        let switches: Vec<f64> = upgrades
            .iter()
            .filter_map(|u| u.switch_ms.map(|ms| ms as f64))
            .collect();
        s.push_str(&ms_row(
            "(a) green healthy → traffic switched (do-deploy's `switch` step: upstream file, `nginx -t`, `nginx -s reload`)",
            &switches,
        ));
        let backs: Vec<f64> = rollbacks.iter().map(|r| r.back * 1000.0).collect();
        let failed: Vec<String> = rollbacks.iter().map(|r| r.load.failed().to_string()).collect();
        s.push_str(&ms_row(
            &format!(
                "(b) automatic rollback: the release exits during `observe` → the previous release answers through nginx (failed requests per run: {})",
                failed.join(", ")
            ),
            &backs,
        ));
        s.push('\n');
        s.push_str(
            "| (c) upgrade under load | upgrades | requests | failed (per upgrade) | downtime, median | downtime, max | upgrade time, median | SSH connections / commands, median |\n|---|---|---|---|---|---|---|---|\n",
        );
        s.push_str(&upgrade_row("do-deploy, blue-green behind nginx", upgrades));
        s.push_str(&upgrade_row(
            "`ssh` + `docker compose pull && docker compose up -d`",
            plain,
        ));
        s.push('\n');
        s.push_str("| one remote step | samples | median | min | max |\n|---|---|---|---|---|\n");
        s.push_str(&ms_row(
            "do-deploy: one exec channel on its open connection (`switch` with `true` as check and reload)",
            &steps.tool,
        ));
        s.push_str(&ms_row(
            "`ssh`, fresh connection, OpenSSH's default key exchange",
            &steps.fresh_default,
        ));
        s.push_str(&ms_row(
            "`ssh`, fresh connection, `KexAlgorithms=curve25519-sha256`",
            &steps.fresh_curve,
        ));
        s.push_str(&ms_row(
            "`ssh`, multiplexed (ControlMaster): one channel on an open connection",
            &steps.multiplexed,
        ));
        let setup: Vec<f64> = steps
            .fresh_curve
            .iter()
            .zip(&steps.multiplexed)
            .map(|(fresh, open)| fresh - open)
            .collect();
        s.push_str(&ms_row(
            "`ssh`: the connection's own cost (curve25519-sha256 fresh − multiplexed, paired by round)",
            &setup,
        ));
        s.push_str(&ms_row(
            "reference: `bash -c true` started as sshd starts a command (`SSH_CLIENT` set: Debian's bash reads `~/.bashrc` first), locally",
            &steps.shell_sshd,
        ));
        s.push_str(&ms_row("reference: `bash -c true`, locally", &steps.shell_plain));
        s.push_str(&format!(
            "\ndo-deploy's `connect` phase in its runs (its summary, 0.1 s resolution): {}.\n",
            steps.tool_connect.join(", ")
        ));
        s.push_str(&format!(
            "Runs: {} of each scenario, {} rounds of `ssh` steps; request loop: one GET at a time to the droplet's nginx, {} ms apart, at most {LOAD_MAX_REQUESTS} requests or {} s per run.\n",
            args.runs,
            args.steps,
            LOAD_PAUSE.as_millis(),
            LOAD_MAX_TIME.as_secs()
        ));
        s
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn load(pattern: &[(f64, Option<&str>)]) -> Load {
            Load {
                samples: pattern
                    .iter()
                    .map(|(at, v)| Sample {
                        at: *at,
                        version: v.map(str::to_owned),
                    })
                    .collect(),
            }
        }

        #[test]
        fn downtime_counts_each_gap_from_its_first_failure_to_the_next_answer() {
            for (pattern, failed, downtime) in [
                (vec![(0.0, Some("a")), (1.0, Some("b"))], 0, 0.0),
                (
                    vec![(0.0, Some("a")), (1.0, None), (1.5, None), (2.0, Some("b"))],
                    2,
                    1.0,
                ),
                (
                    vec![(0.0, None), (0.5, Some("a")), (1.0, None), (3.0, Some("a"))],
                    2,
                    2.5,
                ),
                (vec![(0.0, Some("a")), (1.0, None), (4.0, None)], 2, 3.0),
            ] {
                let l = load(&pattern);
                assert_eq!(l.failed(), failed, "{:?}", pattern.len());
                assert!((l.downtime() - downtime).abs() < 1e-9, "{}", l.downtime());
            }
        }

        #[test]
        fn spread_is_median_min_max() {
            assert_eq!(spread(&[3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
            assert_eq!(spread(&[4.0, 1.0, 2.0, 3.0]), (2.5, 1.0, 4.0));
            assert_eq!(spread(&[]), (0.0, 0.0, 0.0));
        }

        #[test]
        fn shell_words_are_quoted_once() {
            assert_eq!(quote("/a/b-c_d.e"), "/a/b-c_d.e");
            assert_eq!(quote("it's"), r"'it'\''s'");
            assert_eq!(quote(""), "''");
        }

        #[test]
        fn versions_come_from_the_first_word() {
            assert_eq!(version_of("version=b greeting=\n").as_deref(), Some("b"));
            assert_eq!(version_of("502 bad gateway"), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_droplet_report_reads_the_host_row_and_the_switch_time() {
        let summary = "### do-deploy: release `r1` of `example-app`\n\n**Live** on every host.\n\n\
            | host | release | colour | result | timings | evidence |\n|---|---|---|---|---|---|\n\
            | `root@10.250.3.11` | `r1` | blue | live | connect 0.1s, up 1.2s, health gate 2.0s | `web` runs sha256:aa |\n";
        assert_eq!(
            summary_row(summary),
            [
                "root@10.250.3.11",
                "r1",
                "blue",
                "live",
                "connect 0.1s, up 1.2s, health gate 2.0s",
                "`web` runs sha256:aa"
            ]
        );
        assert!(summary_row("no table").is_empty());
        for (log, ms) in [
            ("root@h: traffic switched to `r1` (green) in 41 ms\n", Some(41)),
            ("root@h: traffic switched back to `r0`\n", None),
            ("root@h: pulling images\n", None),
        ] {
            assert_eq!(switch_ms(log), ms, "{log}");
        }
    }

    #[test]
    fn the_doks_report_shortens_digests_only() {
        for (image, short) in [
            (
                "ghcr.io/octo/example-app@sha256:71d045f45a4421ae4145568fce88d5ee3d3282761938c98e0918980750098cdd",
                "sha256:71d045f",
            ),
            ("ghcr.io/octo/example-app@sha256:abc", "sha256:abc"),
            ("ghcr.io/octo/example-app:dev", "ghcr.io/octo/example-app:dev"),
        ] {
            assert_eq!(short_digest(image), short, "{image}");
        }
    }
}
