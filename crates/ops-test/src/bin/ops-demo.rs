//! `ops-demo`: the main job, end to end, on this machine (`scripts/demo` starts the infrastructure and
//! calls this).
//!
//! It ships `examples/app` through lint → test → security → build → staging → production with the real
//! tool binaries, each run as a GitHub Actions step would run it (runner files in a temp dir, inputs as
//! `INPUT_*`): lint-gate on real shellcheck output, migrate-check against a real PostgreSQL,
//! image-build-tag building with buildah and pushing to a real registry, do-deploy to the local
//! DigitalOcean stand-in (whose live URL is the example app running on loopback), smoke-test against
//! it, approve-gate against the local GitHub stand-in (approved by a scripted comment), the production
//! deploy, and then a broken release that smoke-test catches and do-deploy rolls back. Each stage's step
//! summary is printed, and a one-screen report ends the run. Exit status: 0 when every stage did what
//! the pipeline expects (the broken release included: caught and rolled back), 1 otherwise.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use ops_test::digitalocean::DoSim;
use ops_test::droplet::{Droplet, Ground, http_get};
use ops_test::github::GithubSim;
use ops_test::harness::{FakeRunner, RunOutput};

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

/// Run the ops-actions pipeline end to end against local infrastructure.
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
}

fn main() -> std::process::ExitCode {
    let result = match Cli::parse().command {
        Task::Pipeline(cli) => run(*cli),
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
            "ops-actions demo: lint → test → security → build → staging → production, then a bad release"
        } else {
            "ops-actions demo: lint → test → security → build → staging → production, then a bad release, then both on a Droplet"
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
        // App Platform pulls from a registry it knows; the demo's registry stands in for ghcr.io.
        Ok(format!("ghcr.io/octo/example-app@{digest}"))
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
        // `::add-mask::` lines are how a secret reaches the runner's masking; anywhere else is a leak.
        let text: String = out
            .all_text()
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .collect::<Vec<_>>()
            .join("\n");
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
        let do_calls = self.dosim.exchanges().len();
        say(&format!(
            "API calls: GitHub stand-in {gh_calls}, DigitalOcean stand-in {do_calls}; no token{} appeared in any log, output or summary",
            if self.droplet_ran {
                ", SSH key or env file secret"
            } else {
                ""
            }
        ));
        if !all_ok {
            say("pipeline NOT ok: see the stages marked ✘ above");
        } else if self.droplet_ran {
            say(
                "pipeline ok: the good release reached production; the bad one was caught by smoke-test and rolled back; \
                 on the Droplet, the good release went live blue-green and the bad one was switched back automatically",
            );
        } else {
            say(
                "pipeline ok: the good release reached production; the bad one was caught by smoke-test and rolled back",
            );
        }
        all_ok
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
}
