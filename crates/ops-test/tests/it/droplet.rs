//! The droplet ground against real programs: the `hello` test server on its own, then a ground of two
//! droplets driven with the OpenSSH client, Docker Compose and nginx the way a deploy tool drives a
//! Droplet, and the teardown of grounds that were dropped, panicked or killed.
//!
//! Needs root and `scripts/setup-droplet`; without them these tests fail with a hint, they never pass
//! silently.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use ops_test::droplet::{Droplet, Ground, cleanup_stale, hello_binary, http_get, poll};

/// Environment variables of a `hello` run.
type Vars<'a> = &'a [(&'a str, &'a str)];

const SHORT: Duration = Duration::from_secs(2);
const BOUND: Duration = Duration::from_secs(60);

/// Waits for a process to exit, for at most [`BOUND`].
fn wait_exit(child: &mut Child, what: &str) -> ExitStatus {
    poll(what, BOUND, || child.try_wait().expect("try_wait"))
}

/// Whether `pid` runs: it exists and is not a zombie (a killed process stays one until it is reaped).
fn pid_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X")
    })
}

/// A running `hello` on a free port of the host, with `env`.
struct Hello {
    child: Child,
    port: u16,
}

impl Hello {
    fn start(env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(hello_binary().expect("hello builds"))
            .env_clear()
            .env("PORT", "0")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("hello starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("hello says where it listens");
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Self { child, port }
    }

    fn get(&self, path: &str) -> (u16, String) {
        http_get(&format!("http://127.0.0.1:{}{path}", self.port), SHORT).expect("hello answers")
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        Command::new(hello_binary().expect("hello builds"))
            .args(args)
            .env_clear()
            .envs(env.iter().copied())
            .output()
            .expect("hello runs")
    }
}

impl Drop for Hello {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn hello_serves_its_version_health_and_404() {
    // (environment, path, status, body)
    let cases: &[(Vars<'_>, &str, u16, &str)] = &[
        (
            &[("VERSION", "7"), ("GREETING", "hi")],
            "/",
            200,
            "version=7 greeting=hi\n",
        ),
        (&[("VERSION", "7")], "/?q=1", 200, "version=7 greeting=\n"),
        (&[], "/health", 200, "ok\n"),
        (&[("UNHEALTHY", "1")], "/health", 500, "unhealthy\n"),
        (&[("HEALTH_PATH", "/up")], "/up", 200, "ok\n"),
        (&[("HEALTH_PATH", "/up")], "/health", 404, "not found\n"),
        (&[], "/nope", 404, "not found\n"),
    ];
    for (env, path, status, body) in cases {
        let hello = Hello::start(env);
        assert_eq!(
            hello.get(path),
            (*status, (*body).to_owned()),
            "{env:?} GET {path}"
        );
    }
}

#[test]
fn hello_probe_migrate_crash_and_stop() {
    let healthy = Hello::start(&[]);
    let unhealthy = Hello::start(&[("UNHEALTHY", "1")]);
    let (good, bad) = (healthy.port.to_string(), unhealthy.port.to_string());
    // (args, environment, exit code)
    let cases: &[(&[&str], Vars<'_>, i32)] = &[
        (&["probe", &good], &[], 0),
        (&["probe"], &[("PORT", &good)], 0),
        (&["probe", &good, "/nope"], &[], 1),
        (&["probe", &bad], &[], 1),
        (&["probe", "1"], &[], 1),
        (&["migrate"], &[], 0),
        (&["migrate"], &[("MIGRATE_EXIT", "3"), ("VERSION", "9")], 3),
        (&["bogus"], &[], 2),
    ];
    for (args, env, code) in cases {
        let out = healthy.run(args, env);
        assert_eq!(out.status.code(), Some(*code), "hello {args:?} {env:?}: {out:?}");
    }
    let migrated = healthy.run(&["migrate"], &[("VERSION", "9")]);
    assert!(
        String::from_utf8_lossy(&migrated.stdout).contains("version=9"),
        "{migrated:?}"
    );

    // CRASH_AFTER: the server goes away with status 1 on its own.
    let mut crashing = Hello::start(&[("CRASH_AFTER", "0")]);
    let status = wait_exit(&mut crashing.child, "hello with CRASH_AFTER=0 exits");
    assert_eq!(status.code(), Some(1));

    // SIGTERM ends it with status 0 (as PID 1 of a container it would otherwise ignore the signal).
    let mut stopped = Hello::start(&[]);
    let killed = Command::new("kill")
        .args(["-s", "TERM", &stopped.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = wait_exit(&mut stopped.child, "hello exits on SIGTERM");
    assert_eq!(status.code(), Some(0));
}

/// Runs `remote` on the droplet over ssh; it must succeed. Returns stdout.
fn ssh_ok(droplet: &Droplet, remote: &str) -> String {
    let out = droplet.ssh_command(remote).output().expect("ssh runs");
    assert!(
        out.status.success(),
        "`{remote}` on {} failed ({}): {}",
        droplet.host(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn accepted_sessions(droplet: &Droplet) -> usize {
    droplet.sshd_log().matches("Accepted publickey").count()
}

#[test]
fn two_droplets_serve_a_release_over_ssh_compose_and_nginx() {
    let began = Instant::now();
    let ground = Ground::start(2);
    let started = began.elapsed();
    let (d1, d2) = (ground.droplet(1), ground.droplet(2));
    assert_eq!(d1.host(), format!("root@10.250.{}.11", ground.slot()));
    assert_eq!(d2.proxy_url(), format!("http://10.250.{}.12/", ground.slot()));

    // The real ssh client with strict host keys; SetEnv points remote `docker` at this droplet's engine.
    let out = ssh_ok(
        d1,
        "docker compose version && docker info --format '{{.DockerRootDir}}'",
    );
    assert!(out.contains("Docker Compose version v2.40.3"), "{out}");
    let root_dir = d1.dir().join("docker/data");
    assert!(out.contains(&root_dir.display().to_string()), "{out}");

    // A wrong known_hosts is refused before any login: nothing runs, sshd accepts no key.
    let scratch = tempfile::tempdir().expect("tempdir");
    let marker = d2.state_dir().join("must-not-exist");
    let wrong_key = format!("{} {}\n", d2.ip(), d1.host_public_key());
    for (case, known_hosts, says) in [
        (
            "changed key",
            wrong_key.as_str(),
            "REMOTE HOST IDENTIFICATION HAS CHANGED",
        ),
        ("unknown host", "", "Host key verification failed"),
    ] {
        let file = scratch.path().join(case.replace(' ', "-"));
        std::fs::write(&file, known_hosts).expect("write known_hosts");
        let out = d2
            .ssh_command_with(&file, &format!("touch {}", marker.display()))
            .output()
            .expect("ssh runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(255), "{case}: {stderr}");
        assert!(stderr.contains(says), "{case}: {stderr}");
    }
    assert!(!marker.exists());
    assert_eq!(accepted_sessions(d2), 0, "{}", d2.sshd_log());

    // The hashed known_hosts line is accepted, and the server's key has the fingerprint we hand out.
    let hashed = scratch.path().join("hashed");
    std::fs::write(&hashed, format!("{}\n", d2.hashed_known_hosts_line())).expect("write");
    assert!(d2.hashed_known_hosts_line().starts_with("|1|"));
    let out = Command::new("ssh")
        .args(["-v", "-F", "/dev/null", "-i"])
        .arg(d2.client_key_path())
        .args([
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
        ])
        .arg(format!("-oUserKnownHostsFile={}", hashed.display()))
        .args(["-o", "KexAlgorithms=curve25519-sha256", &d2.host(), "true"])
        .stdin(Stdio::null())
        .output()
        .expect("ssh runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("Server host key: ssh-ed25519 {}", d2.fingerprint())),
        "{stderr}"
    );
    assert_eq!(accepted_sessions(d2), 1, "{}", d2.sshd_log());

    // An image built and pushed, pulled by digest on droplet 2, run by Compose, healthy.
    let building = Instant::now();
    let reference = ground.image("1.0.0", &[("GREETING", "hello from the ground")]);
    let built = building.elapsed();
    let repo = format!("{}/ops-test/hello@sha256:", ground.registry());
    assert!(reference.starts_with(&repo), "{reference}");
    assert_eq!(reference.len(), repo.len() + 64, "{reference}");
    assert_eq!(
        ground.image("1.0.0", &[("GREETING", "hello from the ground")]),
        reference
    );
    for d in [d1, d2] {
        assert_eq!(
            d.docker(&["image", "ls", "-q"]).trim(),
            "",
            "droplet {} starts without it",
            d.index()
        );
    }
    let app = d2.state_dir().join("app");
    std::fs::create_dir_all(&app).expect("mkdir");
    std::fs::write(
        app.join("compose.yaml"),
        format!(
            "name: selftest\nservices:\n  web:\n    image: {reference}\n    ports: [\"127.0.0.1:0:8080\"]\n    stop_grace_period: 1s\n"
        ),
    )
    .expect("write compose.yaml");
    let deploying = Instant::now();
    let out = ssh_ok(
        d2,
        &format!(
            "cd {} && docker compose up -d --wait --wait-timeout 60 >&2 && docker compose port web 8080",
            app.display()
        ),
    );
    let deployed = deploying.elapsed();
    let published = out.trim().to_owned();
    assert!(published.starts_with("127.0.0.1:"), "{out}");
    let container = d2.docker(&["ps", "-q"]);
    let running = d2.docker(&["inspect", "--format", "{{.Config.Image}}", container.trim()]);
    assert_eq!(running.trim(), reference);
    let health = d2.docker(&["ps", "--format", "{{.Status}}"]);
    assert!(health.contains("(healthy)"), "{health}");

    // nginx answers 502 until the upstream file points at the release and nginx reloads.
    let url = d2.proxy_url();
    assert_eq!(http_get(&url, SHORT).expect("nginx answers").0, 502);
    std::fs::write(
        d2.upstream_file(),
        format!("upstream app {{\n    server {published};\n}}\n"),
    )
    .expect("write upstream");
    ssh_ok(
        d2,
        &format!("{} && {}", d2.nginx_check_cmd(), d2.nginx_reload_cmd()),
    );
    let serves = || {
        http_get(&url, SHORT).ok().filter(|(status, body)| {
            *status == 200 && body.contains("version=1.0.0 greeting=hello from the ground")
        })
    };
    poll("nginx serves the release", BOUND, serves);

    // Off the network and back.
    d2.cut_link();
    assert!(
        http_get(&url, Duration::from_secs(1)).is_err(),
        "droplet 2 is unreachable"
    );
    d2.restore_link();
    poll("nginx serves the release again", BOUND, serves);

    // Killed SSH sessions drop; the listener still takes new ones. The session's command lives on (as
    // after a real connection loss) until the ground goes.
    let mut session = d2
        .ssh_command("echo $$; exec sleep 600")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ssh runs");
    let mut line = String::new();
    BufReader::new(session.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the remote shell says its pid");
    let remote_sleep: u32 = line.trim().parse().expect("a pid");
    assert!(d2.kill_ssh_sessions() >= 1);
    let status = wait_exit(&mut session, "the ssh client notices");
    assert_eq!(status.code(), Some(255));
    assert!(pid_alive(remote_sleep));
    assert_eq!(ssh_ok(d2, "echo still here").trim(), "still here");

    // Dropping the ground leaves nothing: processes, namespaces, links, the temp dir.
    let (netns, bridge, dir) = (
        ground.netns_names(),
        ground.bridge().to_owned(),
        ground.dir().to_owned(),
    );
    let pids: Vec<u32> = ground.pids().into_iter().chain([remote_sleep]).collect();
    let tearing = Instant::now();
    drop(ground);
    let torn = tearing.elapsed();
    assert_gone(&netns, &bridge, &dir, &pids);

    #[allow(clippy::print_stderr)] // the timings are for the reader of the test log; nothing asserts them
    {
        eprintln!(
            "droplet ground: start {started:?} (2 droplets), image build+push {built:?}, compose up --wait {deployed:?}, teardown {torn:?}, whole test {:?}",
            began.elapsed()
        );
    }
}

fn assert_gone(netns: &[String], bridge: &str, dir: &Path, pids: &[u32]) {
    for name in netns {
        assert!(
            !Path::new("/run/netns").join(name).exists(),
            "netns {name} is left"
        );
        let veth = name.replace('-', "h");
        assert!(
            !Path::new("/sys/class/net").join(&veth).exists(),
            "veth {veth} is left"
        );
    }
    assert!(
        !Path::new("/sys/class/net").join(bridge).exists(),
        "bridge {bridge} is left"
    );
    assert!(!dir.exists(), "{} is left", dir.display());
    let alive: Vec<_> = pids.iter().filter(|p| pid_alive(**p)).collect();
    assert!(alive.is_empty(), "daemons left running: {alive:?}");
}

#[test]
fn a_ground_dropped_by_a_panic_leaves_nothing() {
    let seen = std::sync::Mutex::new(None);
    let result = std::panic::catch_unwind(|| {
        let ground = Ground::start(1);
        *seen.lock().expect("lock") = Some((
            ground.netns_names(),
            ground.bridge().to_owned(),
            ground.dir().to_owned(),
            ground.pids(),
        ));
        panic!("the test failed half way");
    });
    assert!(result.is_err());
    let (netns, bridge, dir, pids) = seen.lock().expect("lock").take().expect("the ground started");
    assert_gone(&netns, &bridge, &dir, &pids);
}

/// What `helper_ground_killed_mid_run` prints once its ground runs.
const READY: &str = "ground-ready";

#[test]
#[ignore = "helper: `a_killed_run_is_cleaned_up_by_cleanup_stale` runs it in a child process and kills it"]
fn helper_ground_killed_mid_run() {
    if std::env::var_os("OPS_TEST_KILLED_GROUND").is_none() {
        return;
    }
    let ground = Ground::start(1);
    let reference = ground.image("killed", &[]);
    let d = ground.droplet(1);
    let id = d.docker(&["run", "-d", &reference]);
    let container_pid = d.docker(&["inspect", "--format", "{{.State.Pid}}", id.trim()]);
    let mut pids = ground.pids();
    pids.push(container_pid.trim().parse().expect("a pid"));
    #[allow(clippy::print_stdout)] // the parent test reads this line
    {
        println!(
            "{READY} {} {} {} {}",
            ground.slot(),
            ground.dir().display(),
            ground.netns_names().join(","),
            pids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
        );
    }
    std::io::stdout().flush().expect("flush");
    // Blocks until the parent kills this process (it never closes our stdin).
    let _ = std::io::stdin().read(&mut [0u8; 1]);
}

#[test]
fn a_killed_run_is_cleaned_up_by_cleanup_stale() {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "droplet::helper_ground_killed_mid_run",
            "--ignored",
            "--nocapture",
        ])
        .env("OPS_TEST_KILLED_GROUND", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the helper starts");
    let ready = BufReader::new(child.stdout.take().expect("stdout"))
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with(READY))
        .expect("the helper's ground starts");
    let fields: Vec<&str> = ready.split(' ').collect();
    let [_, slot, dir, netns, pids] = fields[..] else {
        panic!("unexpected line {ready:?}");
    };
    let slot: u8 = slot.parse().expect("slot");
    let pids: Vec<u32> = pids.split(',').map(|p| p.parse().expect("pid")).collect();
    let netns: Vec<String> = netns.split(',').map(str::to_owned).collect();
    let dir = PathBuf::from(dir);

    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert!(
        pids.iter().all(|p| pid_alive(*p)),
        "the daemons outlive their owner"
    );

    let cleaned = cleanup_stale();
    // Another ground (of another test binary) may have taken the free slot first; it cleans up the same way.
    let retaken = std::fs::read_to_string(format!("/run/ops-test-droplet/slot-{slot}.lock"))
        .is_ok_and(|owner| !owner.contains(&format!("pid={}\n", child.id())));
    assert!(
        cleaned.contains(&slot) || retaken,
        "slot {slot} was not cleaned: {cleaned:?}"
    );
    if !retaken {
        assert_gone(&netns, &format!("odg{slot}br"), &dir, &pids);
    } else {
        let alive: Vec<_> = pids.iter().filter(|p| pid_alive(**p)).collect();
        assert!(alive.is_empty(), "processes left running: {alive:?}");
    }
}
