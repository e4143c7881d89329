//! droplet-compose against real hosts: each "Droplet" is a network namespace with its own sshd,
//! dockerd and nginx (`ops_test::droplet`), the images come from a real registry, and do-deploy
//! runs as the binary, like an action step. Nothing here is mocked; waits are bounded polls on
//! real state, and no test measures time.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ops_test::droplet::{Droplet, Ground, http_get, poll};
use ops_test::harness::{FakeRunner, RunOutput};

const COMPOSE: &str = "\
name: shop
services:
  web:
    image: placeholder/web:dev
    environment: {PORT: '8080'}
    stop_grace_period: 1s
    depends_on:
      db: {condition: service_healthy}
  db:
    image: DBIMAGE
    environment: {PORT: '5432', VERSION: db}
    stop_grace_period: 1s
    healthcheck: {test: ['CMD', '/hello', 'probe', '5432'], interval: 1s, timeout: 2s, retries: 3}
";

/// A deploy step aimed at one droplet of the ground.
fn step(ground: &Ground, d: &Droplet, web: &str, env: &str) -> FakeRunner {
    let runner = FakeRunner::new()
        .expect("fake runner")
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
        .env("GITHUB_RUN_ID", "42")
        .input("target", "droplet-compose")
        .input("hosts", d.host())
        .input("ssh-key", d.client_key_pem().expose().to_owned())
        .input("known-hosts", d.hashed_known_hosts_line())
        .input("images", format!("web={web}"))
        .input("env", env)
        .input("project", "app")
        .input("route", "web:8080")
        .input("proxy-upstream-file", d.upstream_file().display().to_string())
        .input("proxy-check", d.nginx_check_cmd())
        .input("proxy-reload", d.nginx_reload_cmd())
        .input("state-dir", d.state_dir().display().to_string())
        .input("observe", "3s")
        .input("drain", "1s")
        .input("health-successes", "2")
        .input("timeout", "4m");
    let db = ground.image("1", &[]);
    std::fs::write(
        runner.workspace().join("compose.yaml"),
        COMPOSE.replace("DBIMAGE", &db),
    )
    .expect("write compose.yaml");
    runner
}

fn run(runner: &FakeRunner) -> RunOutput {
    runner
        .run(env!("CARGO_BIN_EXE_do-deploy"), &[])
        .expect("run do-deploy")
}

fn log(out: &RunOutput) -> String {
    format!(
        "--- stderr\n{}\n--- stdout\n{}\n--- summary\n{}",
        out.stderr, out.stdout, out.summary
    )
}

/// What the proxy serves at `/` (`version=… greeting=…`).
fn served(d: &Droplet) -> String {
    let (status, body) = http_get(&d.proxy_url(), Duration::from_secs(5)).expect("GET through nginx");
    assert_eq!(status, 200, "nginx answered {status}: {body}");
    body.trim().to_owned()
}

/// The containers of a project, with their image digests and one env variable.
fn running(d: &Droplet, project: &str, var: &str) -> Vec<(String, String, String)> {
    let ids = d.docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ]);
    ids.split_whitespace()
        .map(|id| {
            let service = d.docker(&[
                "inspect",
                "--format",
                "{{index .Config.Labels \"com.docker.compose.service\"}}",
                id,
            ]);
            let image = d.docker(&["inspect", "--format", "{{.Config.Image}}", id]);
            let env = d.docker(&[
                "inspect",
                "--format",
                "{{range .Config.Env}}{{println .}}{{end}}",
                id,
            ]);
            let value = env
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{var}=")))
                .unwrap_or_default()
                .to_owned();
            (service.trim().to_owned(), image.trim().to_owned(), value)
        })
        .collect()
}

fn container_id(d: &Droplet, project: &str, service: &str) -> String {
    d.docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--filter",
        &format!("label=com.docker.compose.service={service}"),
    ])
    .trim()
    .to_owned()
}

/// A bounded request loop on the proxy: every status (or connection error) while a deploy runs.
struct Load {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<Vec<Result<u16, String>>>,
}

impl Load {
    fn start(url: String) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            let until = Instant::now() + Duration::from_secs(240);
            while !flag.load(Ordering::Relaxed) && seen.len() < 20_000 && Instant::now() < until {
                seen.push(
                    http_get(&url, Duration::from_secs(5))
                        .map(|(s, _)| s)
                        .map_err(|e| e.to_string()),
                );
                std::thread::sleep(Duration::from_millis(10));
            }
            seen
        });
        Self { stop, handle }
    }

    fn finish(self) -> Vec<Result<u16, String>> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().expect("load thread")
    }
}

#[test]
fn blue_green_deploys_upgrades_rolls_back_and_keeps_the_database() {
    let ground = Ground::start(1);
    let d = ground.droplet(1);
    let v1 = ground.image("1", &[]);
    let v2 = ground.image("2", &[]);
    let secret = "pa55w0rd-never-in-logs";

    // First deploy.
    let out = run(&step(
        &ground,
        d,
        &v1,
        &format!("GREETING=one\nDB_PASSWORD={secret}"),
    ));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert_eq!(served(d), "version=1 greeting=one");
    let first = out.outputs["release-id"].clone();
    assert_eq!(out.outputs["rolled-back"], "false");
    assert_eq!(out.outputs["previous-release"], "");
    let db = container_id(d, "app-shared", "db");
    assert!(!db.is_empty(), "the shared database runs");
    let blue = running(d, "app-blue", "GREETING");
    assert_eq!(blue, [("web".to_owned(), v1.clone(), "one".to_owned())]);
    assert!(
        out.summary.contains("| `root@") && out.summary.contains("live"),
        "{}",
        out.summary
    );

    // Upgrade under load: zero failed requests through the proxy.
    let load = Load::start(d.proxy_url());
    let out = run(&step(&ground, d, &v2, "GREETING=two"));
    let seen = load.finish();
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert_eq!(served(d), "version=2 greeting=two");
    assert_eq!(out.outputs["previous-release"], first);
    let failed: Vec<_> = seen.iter().filter(|r| !matches!(r, Ok(200))).collect();
    assert!(seen.len() > 50, "the load loop ran ({} requests)", seen.len());
    assert!(
        failed.is_empty(),
        "{} of {} requests failed: {:?}",
        failed.len(),
        seen.len(),
        &failed[..failed.len().min(5)]
    );
    let green = running(d, "app-green", "GREETING");
    assert_eq!(
        green,
        [("web".to_owned(), v2.clone(), "two".to_owned())],
        "running digest = requested"
    );
    assert!(running(d, "app-blue", "GREETING").is_empty(), "blue is stopped");
    assert!(
        !container_id_all(d, "app-blue").is_empty(),
        "blue is stopped, not removed"
    );
    let second = out.outputs["release-id"].clone();

    // A release whose health check fails: never switched; v2 and its env keep serving.
    let out = run(&step(&ground, d, &v1, "GREETING=bad\nUNHEALTHY=1").input("timeout", "90s"));
    assert_eq!(out.code, Some(1), "{}", log(&out));
    assert_eq!(served(d), "version=2 greeting=two");
    assert_eq!(out.outputs["rolled-back"], "false", "traffic never moved");
    assert!(
        running(d, "app-blue", "GREETING").is_empty(),
        "the failed colour is stopped"
    );

    // A release that dies during `observe`: switched back; v2's digest and env serve again.
    let out = run(&step(&ground, d, &v1, "GREETING=dies\nCRASH_AFTER=10").input("observe", "20s"));
    assert_eq!(out.code, Some(1), "{}", log(&out));
    assert_eq!(out.outputs["rolled-back"], "true", "{}", log(&out));
    assert_eq!(served(d), "version=2 greeting=two");
    assert_eq!(
        running(d, "app-green", "GREETING"),
        [("web".to_owned(), v2.clone(), "two".to_owned())]
    );
    assert!(out.summary.contains("rolled back"), "{}", out.summary);

    // A failing migration: nothing switched.
    let out = run(&step(&ground, d, &v1, "GREETING=mig\nMIGRATE_EXIT=3").input("pre-deploy", "migrate"));
    assert_eq!(out.code, Some(1), "{}", log(&out));
    assert!(
        out.stderr.contains("step `pre-deploy`") && out.stderr.contains("exit code 3"),
        "{}",
        log(&out)
    );
    assert_eq!(served(d), "version=2 greeting=two");

    // Rollback on demand: the previous release (v1 with its own env) comes back.
    let out = run(&step(&ground, d, &v2, "GREETING=ignored").input("action", "rollback"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert_eq!(out.outputs["release-id"], first);
    assert_eq!(served(d), "version=1 greeting=one");
    let _ = second;

    // The database container is the same one after all of it.
    assert_eq!(
        container_id(d, "app-shared", "db"),
        db,
        "the database was never recreated"
    );
    // The secret never reached anything the step left, nor the host's process list.
    let all = format!("{}\n{}", out.all_text(), log(&out));
    assert!(!all.contains(secret));
    let env_files = std::fs::read_dir(d.state_dir().join("app/releases"))
        .expect("releases")
        .count();
    assert!(env_files >= 2, "releases are kept");
}

fn container_id_all(d: &Droplet, project: &str) -> String {
    d.docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ])
}

#[test]
fn a_wrong_host_key_is_refused_before_any_command() {
    let ground = Ground::start(1);
    let d = ground.droplet(1);
    let v1 = ground.image("1", &[]);
    // Another key in the place of the droplet's.
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("k");
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .stdout(Stdio::null())
        .status()
        .expect("ssh-keygen");
    assert!(status.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).expect("pub");
    let mut fields = public.split_whitespace();
    let wrong = format!(
        "{} {} {}",
        d.ip(),
        fields.next().unwrap_or_default(),
        fields.next().unwrap_or_default()
    );
    let before = d.sshd_log();
    let out = run(&step(&ground, d, &v1, "A=1").input("known-hosts", wrong));
    assert_eq!(out.code, Some(2), "{}", log(&out));
    assert!(out.stderr.contains("host key of `root@"), "{}", log(&out));
    let after = d.sshd_log();
    let new = &after[before.len().min(after.len())..];
    assert!(
        !new.contains("Accepted publickey"),
        "no session was opened:\n{new}"
    );
    // A host that does not answer: the network broke before anything changed (exit 3).
    let fp = d.fingerprint().to_owned();
    let out = run(&step(&ground, d, &v1, "A=1")
        .input("hosts", format!("root@{}:2222", d.ip()))
        .input("known-hosts", "")
        .input("host-fingerprints", fp)
        .input("connect-timeout", "5s"));
    assert_eq!(out.code, Some(3), "{}", log(&out));
    assert!(out.stderr.contains("no host was changed"), "{}", log(&out));
    // And without any pin it is refused before connecting at all.
    let out = run(&step(&ground, d, &v1, "A=1").input("known-hosts", ""));
    assert_eq!(out.code, Some(2), "{}", log(&out));
    assert!(out.stderr.contains("host keys must be pinned"), "{}", log(&out));
}

#[test]
fn a_second_deploy_waits_for_the_lock_and_a_cancelled_one_releases_it() {
    let ground = Ground::start(1);
    let d = ground.droplet(1);
    let v1 = ground.image("1", &[]);
    let v2 = ground.image("2", &[]);
    // A step that leaves a background process holding its output open still ends (ssh-action's
    // hang until `command_timeout`): here the proxy reload does, and the step limit would fail it.
    let out = run(&step(&ground, d, &v1, "GREETING=one")
        .input(
            "proxy-reload",
            format!("{} && (sleep 40 &)", d.nginx_reload_cmd()),
        )
        .input("command-timeout", "30s"));
    assert_eq!(out.code, Some(0), "{}", log(&out));

    // A long deploy holds the lock ...
    let long = step(&ground, d, &v2, "GREETING=two").input("observe", "60s");
    let mut child = long
        .command(env!("CARGO_BIN_EXE_do-deploy"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let lock = d.state_dir().join("app/lock");
    poll(
        "the first deploy takes the lock",
        Duration::from_secs(120),
        || lock.exists().then_some(()),
    );
    // ... so a second one waits `lock-timeout`, then fails naming the holder.
    let out = run(&step(&ground, d, &v2, "GREETING=three").input("lock-timeout", "3s"));
    assert_eq!(out.code, Some(1), "{}", log(&out));
    assert!(
        out.stderr.contains("another deploy holds the lock"),
        "{}",
        log(&out)
    );
    assert!(
        out.stderr.contains("run 42"),
        "the holder is named: {}",
        log(&out)
    );
    // Cancel the first (the runner sends SIGINT, then SIGTERM): its lock is released.
    poll(
        "the first deploy switches traffic",
        Duration::from_secs(120),
        || (served(d) == "version=2 greeting=two").then_some(()),
    );
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let code = child.wait().expect("wait").code();
    assert_eq!(code, Some(1), "a cancelled deploy is a failed one");
    assert!(!lock.exists(), "the cancelled deploy released its lock");
    assert_eq!(served(d), "version=1 greeting=one", "and switched back");
}

#[test]
fn a_cut_connection_leaves_one_release_and_the_next_deploy_recovers() {
    let ground = Ground::start(1);
    let d = ground.droplet(1);
    let v1 = ground.image("1", &[]);
    let v2 = ground.image("2", &[]);
    let v3 = ground.image("3", &[]);
    let out = run(&step(&ground, d, &v1, "GREETING=one"));
    assert_eq!(out.code, Some(0), "{}", log(&out));

    let cut = step(&ground, d, &v2, "GREETING=two")
        .input("observe", "60s")
        .input("command-timeout", "10s");
    let child = cut
        .command(env!("CARGO_BIN_EXE_do-deploy"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    poll("the deploy switches traffic", Duration::from_secs(120), || {
        (served(d) == "version=2 greeting=two").then_some(())
    });
    d.cut_link();
    let output = child.wait_with_output().expect("wait");
    d.restore_link();
    // The host side may need a moment to find the droplet again (neighbour discovery after the cut).
    poll(
        "the droplet answers again after the link is back",
        Duration::from_secs(60),
        || http_get(&d.proxy_url(), Duration::from_secs(2)).ok(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(3),
        "the rollback could not run: exit 3\n{stderr}"
    );
    assert!(stderr.contains("ROLLBACK FAILED"), "{stderr}");
    // Never a mix: the proxy serves one release.
    let seen: std::collections::BTreeSet<String> = (0..20).map(|_| served(d)).collect();
    assert_eq!(seen.len(), 1, "one release serves: {seen:?}");

    // The next deploy takes over the stale lock and recovers.
    let out = run(&step(&ground, d, &v3, "GREETING=three").input("lock-stale", "3s"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert!(
        out.stderr.contains("taking over the deploy lock"),
        "{}",
        log(&out)
    );
    assert_eq!(served(d), "version=3 greeting=three");
}

#[test]
fn recreate_replaces_in_place_and_brings_the_previous_release_back() {
    let ground = Ground::start(1);
    let d = ground.droplet(1);
    let v1 = ground.image("1", &[]);
    let recreate = |web: &str, env: &str| {
        step(&ground, d, web, env)
            .input("strategy", "recreate")
            .input("proxy", "none")
            .input("route", "web:8080")
    };
    // With a registry login on the host: the password goes over stdin, never into anything printed.
    let password = "registry-pa55word-on-stdin";
    let out = run(&recreate(&v1, "GREETING=one")
        .input("registry", ground.registry())
        .input("registry-username", "ci")
        .input("registry-password", password));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    let shown: Vec<String> = format!("{}\n{}", out.all_text(), log(&out))
        .lines()
        .filter(|l| !l.trim_start().starts_with("::add-mask::"))
        .map(str::to_owned)
        .collect();
    assert!(
        !shown.iter().any(|l| l.contains(password)),
        "the registry password was shown"
    );
    assert_eq!(
        running(d, "app", "GREETING"),
        [("web".to_owned(), v1.clone(), "one".to_owned())]
    );
    let out = run(&recreate(&v1, "GREETING=bad\nUNHEALTHY=1").input("timeout", "60s"));
    assert_eq!(out.code, Some(1), "{}", log(&out));
    assert_eq!(out.outputs["rolled-back"], "true", "{}", log(&out));
    assert_eq!(
        running(d, "app", "GREETING"),
        [("web".to_owned(), v1, "one".to_owned())]
    );
}

/// A deploy step aimed at every droplet of the ground (paths as each droplet's sessions see them).
fn fleet_step(ground: &Ground, web: &str, env: &str) -> FakeRunner {
    let d = ground.droplet(1);
    let hosts: Vec<String> = ground.droplets().iter().map(Droplet::host).collect();
    let known: Vec<String> = ground.droplets().iter().map(Droplet::known_hosts_line).collect();
    step(ground, d, web, env)
        .input("hosts", hosts.join("\n"))
        .input("known-hosts", known.join("\n"))
        .input("proxy-upstream-file", d.own_upstream_file())
        .input("proxy-check", d.own_nginx_check_cmd())
        .input("proxy-reload", d.own_nginx_reload_cmd())
        .input("state-dir", d.own_state_dir())
}

#[test]
fn a_fleet_goes_in_batches_and_rolls_back_together() {
    let ground = Ground::start(3);
    let v1 = ground.image("1", &[]);
    let v2 = ground.image("2", &[]);
    let all = |want: &str| {
        for d in ground.droplets() {
            assert_eq!(served(d), want, "{}", d.host());
        }
    };

    // Three hosts, two at a time.
    let out = run(&fleet_step(&ground, &v1, "GREETING=one").input("max-parallel", "2"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    all("version=1 greeting=one");
    assert!(
        out.stderr.contains("batch 1 of 2") && out.stderr.contains("batch 2 of 2"),
        "{}",
        log(&out)
    );
    assert_eq!(out.summary.matches("| live |").count(), 3, "{}", out.summary);

    // A release that fails on host 2 (its proxy refuses the configuration): host 1, which already
    // switched, goes back; host 3 is never touched.
    let broken = ground.droplet(2).upstream_file().with_file_name("broken.conf");
    std::fs::write(&broken, "this is not nginx configuration;\n").expect("write broken.conf");
    let releases_3 = std::fs::read_dir(ground.droplet(3).state_dir().join("app/releases"))
        .expect("ls")
        .count();
    let out = run(&fleet_step(&ground, &v2, "GREETING=two"));
    std::fs::remove_file(&broken).expect("rm broken.conf");
    assert_eq!(out.code, Some(1), "{}", log(&out));
    assert_eq!(out.outputs["rolled-back"], "true", "{}", log(&out));
    all("version=1 greeting=one");
    let rows: Vec<&str> = out
        .summary
        .lines()
        .filter(|l| l.starts_with("| `root@"))
        .collect();
    assert_eq!(rows.len(), 3, "{}", out.summary);
    assert!(rows[0].contains("rolled back"), "{}", rows[0]);
    assert!(rows[1].contains("failed"), "{}", rows[1]);
    assert!(rows[2].contains("untouched"), "{}", rows[2]);
    let after_3 = std::fs::read_dir(ground.droplet(3).state_dir().join("app/releases"))
        .expect("ls")
        .count();
    assert_eq!(after_3, releases_3, "host 3 got no release");

    // A host whose disk check fails at preflight: nothing changes anywhere.
    let d2 = ground.droplet(2);
    let mount = d2
        .ssh_command(&format!(
            "mount -t tmpfs -o size=1m tmpfs {}/app",
            d2.own_state_dir()
        ))
        .status()
        .expect("mount");
    assert!(mount.success());
    let out = run(&fleet_step(&ground, &v2, "GREETING=two").input("min-free-disk", "64M"));
    let umount = d2
        .ssh_command(&format!("umount {}/app", d2.own_state_dir()))
        .status()
        .expect("umount");
    assert!(umount.success());
    assert_eq!(out.code, Some(1), "{}", log(&out));
    assert!(
        out.stderr.contains("preflight failed on `root@") && out.stderr.contains("no host was changed"),
        "{}",
        log(&out)
    );
    assert!(out.stderr.contains("min-free-disk"), "{}", log(&out));
    all("version=1 greeting=one");
}

#[test]
fn a_tagged_fleet_behind_a_load_balancer_upgrades_with_no_failed_request() {
    use ops_test::digitalocean::{DoSim, HealthCheck, NetworkType, NewLoadBalancer};
    const TOKEN: &str = "dop_v1_fleet0000deadbeefcafef00d0123456789abcdef0123456789abcdef";
    let ground = Ground::start_with_balancer(3);
    let dosim = DoSim::start();
    let ids = ground.add_to_digitalocean(&dosim, "web-prod", NetworkType::Public);
    let lb = dosim.with(|s| {
        s.add_load_balancer(
            NewLoadBalancer::droplets("web-lb", &ids).health_check(HealthCheck {
                check_interval_seconds: 3,
                healthy_threshold: 2,
                unhealthy_threshold: 2,
                ..HealthCheck::default()
            }),
        )
    });
    ground
        .balancer()
        .follow(&dosim, &lb)
        .expect("the balancer follows the stand-in");
    let v1 = ground.image("1", &[]);
    let v2 = ground.image("2", &[]);
    let tagged = |web: &str, env: &str| {
        fleet_step(&ground, web, env)
            .input("hosts", "")
            .input("droplet-tag", "web-prod")
            .input("token", TOKEN)
            .input("api-url", dosim.url())
            .input("load-balancer", "web-lb")
            .input("drain", "1s")
    };
    let out = run(&tagged(&v1, "GREETING=one"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert!(
        out.stderr.contains("droplet-tag `web-prod`: 3 Droplet(s)"),
        "{}",
        log(&out)
    );
    for d in ground.droplets() {
        assert_eq!(served(d), "version=1 greeting=one");
    }

    // The upgrade under load through the balancer: each host leaves it, changes, comes back, and is
    // probed on the balancer's own check before the next; not one request fails.
    let load = Load::start(ground.balancer().url());
    let out = run(&tagged(&v2, "GREETING=two"));
    let seen = load.finish();
    assert_eq!(out.code, Some(0), "{}", log(&out));
    let failed: Vec<_> = seen.iter().filter(|r| !matches!(r, Ok(200))).collect();
    assert!(seen.len() > 50, "the load loop ran ({} requests)", seen.len());
    assert!(
        failed.is_empty(),
        "{} of {} requests failed: {:?}",
        failed.len(),
        seen.len(),
        &failed[..failed.len().min(5)]
    );
    assert_eq!(
        out.stderr.matches("out of load balancer `web-lb`").count(),
        3,
        "{}",
        log(&out)
    );
    assert_eq!(
        out.stderr.matches("back into load balancer `web-lb`").count(),
        3,
        "{}",
        log(&out)
    );
    let mut back = dosim.with(|s| s.load_balancer_droplets(&lb)).expect("balancer");
    back.sort_unstable();
    let mut all = ids.clone();
    all.sort_unstable();
    assert_eq!(back, all, "every Droplet is back in the balancer");
    for d in ground.droplets() {
        assert_eq!(served(d), "version=2 greeting=two");
    }
    let shown = format!("{}\n{}\n{}", out.stdout, out.stderr, out.summary);
    assert!(
        !shown
            .lines()
            .any(|l| !l.trim_start().starts_with("::add-mask::") && l.contains(TOKEN)),
        "the DigitalOcean token was shown"
    );

    // A token that cannot read tags: exit 2 naming the scope, before any host is touched.
    dosim.with(|s| s.withhold_scopes(TOKEN, &["tag:read"]));
    let out = run(&tagged(&v1, "GREETING=three"));
    assert_eq!(out.code, Some(2), "{}", log(&out));
    assert!(
        out.stderr.contains("lacks a scope") && out.stderr.contains("tag:read"),
        "{}",
        log(&out)
    );
    // And `hosts` with `droplet-tag` is bad input.
    let out = run(&tagged(&v1, "GREETING=three").input("hosts", "root@10.0.0.1"));
    assert_eq!(out.code, Some(2), "{}", log(&out));
}
