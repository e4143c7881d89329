//! `actions/_lib/install.sh`, run for real with bash.
//!
//! Each test lays out a temp dir like the checkout the runner makes of a `uses:` (the tiny cargo workspace
//! in `tests/fixtures/install/workspace` as the source tree, `actions/_lib/` copied from this repository),
//! serves release archives built with `tar` from a local HTTP server on 127.0.0.1 that counts requests,
//! and points the script at it with `OPS_DOWNLOAD_URL`. Retries are off (`OPS_INSTALL_RETRIES=0`), so
//! nothing sleeps.

// bash, tar and Unix file modes: the install.sh tests run on Linux and macOS (CI runs them on Linux).
#![cfg(unix)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;

use ops_contract_tests::{load_action, repo_root, tool_actions};
use sha2::{Digest, Sha256};

const VERSION: &str = "0.1.0";
const LINUX_X64: &str = "x86_64-unknown-linux-musl";
const LIB_FILES: [&str; 4] = ["install.sh", "common.sh", "release.sh", "release.txt"];

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn archive_name(target: &str) -> String {
    format!("ops-actions-{VERSION}-{target}.tar.gz")
}

/// A release server on 127.0.0.1: serves the files it was given, 404 for anything else, and records
/// every request path. It lives until the test process exits.
#[derive(Debug, Clone)]
struct ReleaseServer {
    base: String,
    files: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl ReleaseServer {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let base = format!("http://{}/releases", listener.local_addr().expect("local addr"));
        let server = Self {
            base,
            files: Arc::default(),
            requests: Arc::default(),
        };
        let worker = server.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                worker.answer(stream);
            }
        });
        server
    }

    fn serve(&self, name: &str, bytes: Vec<u8>) {
        self.files
            .lock()
            .expect("files")
            .insert(format!("/releases/{name}"), bytes);
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }

    fn answer(&self, mut stream: TcpStream) {
        let mut head = Vec::new();
        let mut byte = [0_u8; 1];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
            match stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let head = String::from_utf8_lossy(&head);
        let path = head.split_whitespace().nth(1).unwrap_or_default().to_owned();
        self.requests.lock().expect("requests").push(path.clone());
        let body = self.files.lock().expect("files").get(&path).cloned();
        let (status, body) = match body {
            Some(body) => ("200 OK", body),
            None => ("404 Not Found", b"not found\n".to_vec()),
        };
        let reply = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream
            .write_all(reply.as_bytes())
            .and_then(|()| stream.write_all(&body));
    }
}

/// What one run of install.sh left behind.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    outputs: BTreeMap<String, String>,
    path_lines: Vec<String>,
}

impl Run {
    fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no output `{name}` in {self:#?}"))
    }

    fn bin_dir(&self) -> PathBuf {
        PathBuf::from(self.output("path"))
    }

    fn assert_code(&self, code: i32) {
        assert_eq!(self.code, Some(code), "{self:#?}");
    }
}

/// A temp dir laid out like an action checkout plus the runner's directories.
#[derive(Debug)]
struct Checkout {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    server: ReleaseServer,
}

impl Checkout {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let root = tmp.path().to_path_buf();
        let action = root.join("action");
        copy_dir(&repo_root().join("tests/fixtures/install/workspace"), &action);
        let lib = action.join("actions/_lib");
        fs::create_dir_all(&lib).expect("actions/_lib");
        for file in LIB_FILES {
            fs::copy(repo_root().join("actions/_lib").join(file), lib.join(file)).expect("copy actions/_lib");
        }
        fs::create_dir_all(action.join("actions/lint-gate")).expect("actions/lint-gate");
        for dir in ["runner-temp", "tool-cache", "work"] {
            fs::create_dir_all(root.join(dir)).expect("runner dirs");
        }
        Self {
            _tmp: tmp,
            root,
            server: ReleaseServer::start(),
        }
    }

    fn action(&self) -> PathBuf {
        self.root.join("action")
    }

    fn tool_cache(&self) -> PathBuf {
        self.root.join("tool-cache")
    }

    fn runner_temp(&self) -> PathBuf {
        self.root.join("runner-temp")
    }

    /// Where the release archive for Linux x64 is kept between runs.
    fn cached_archive(&self) -> PathBuf {
        self.tool_cache()
            .join(format!("ops-actions/{VERSION}/x64"))
            .join(archive_name(LINUX_X64))
    }

    /// The source-build directories under the tool cache (one per source tree), without their stamps.
    fn build_dirs(&self) -> Vec<String> {
        self.entries(&self.tool_cache().join("ops-actions-build"))
            .into_iter()
            .filter(|name| !name.ends_with(".used"))
            .collect()
    }

    /// The entries of RUNNER_TEMP other than the bin dirs install.sh made (`ops-actions-bin.*`).
    fn temp_leftovers(&self) -> Vec<String> {
        self.entries(&self.runner_temp())
            .into_iter()
            .filter(|name| !name.starts_with("ops-actions-bin."))
            .collect()
    }

    fn write_release_txt(&self, text: &str) {
        fs::write(self.action().join("actions/_lib/release.txt"), text).expect("write release.txt");
    }

    /// A `.tar.gz` laid out like a release archive whose "binaries" are shell scripts naming themselves.
    fn release_archive(&self, target: &str, tools: &[&str]) -> Vec<u8> {
        let stem = format!("ops-actions-{VERSION}-{target}");
        let stage = self.root.join("stage").join(target);
        fs::create_dir_all(stage.join(&stem)).expect("stage");
        for tool in tools {
            let bin = stage.join(&stem).join(tool);
            fs::write(
                &bin,
                format!("#!/bin/sh\necho '{tool} {VERSION} (release archive)'\n"),
            )
            .expect("bin");
            fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        let archive = self.root.join("stage").join(archive_name(target));
        let status = Command::new("tar")
            .arg("-czf")
            .arg(&archive)
            .arg("-C")
            .arg(&stage)
            .arg(&stem)
            .status()
            .expect("run tar");
        assert!(status.success(), "tar failed");
        fs::read(archive).expect("read archive")
    }

    /// Runs install.sh the way `actions/lint-gate/action.yml` calls it, with `env` on top of a scrubbed
    /// runner environment (Linux X64, retries off, cargo offline).
    fn install(&self, env: &[(&str, &str)]) -> Run {
        self.run_script(&self.action().join("actions/lint-gate/../_lib/install.sh"), env)
    }

    fn run_script(&self, script: &Path, env: &[(&str, &str)]) -> Run {
        let output_file = self.root.join("github-output");
        let path_file = self.root.join("github-path");
        fs::write(&output_file, "").expect("GITHUB_OUTPUT");
        fs::write(&path_file, "").expect("GITHUB_PATH");
        let mut command = Command::new("bash");
        command
            .arg(script)
            .current_dir(self.root.join("work"))
            .env_clear();
        for name in [
            "PATH",
            "HOME",
            "RUSTUP_HOME",
            "CARGO_HOME",
            "RUSTUP_TOOLCHAIN",
            "RUSTUP_AUTO_INSTALL",
        ] {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TEMP", self.runner_temp())
            .env("RUNNER_TOOL_CACHE", self.tool_cache())
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_PATH", &path_file)
            .env("OPS_DOWNLOAD_URL", &self.server.base)
            .env("OPS_INSTALL_RETRIES", "0")
            .env("CARGO_NET_OFFLINE", "true")
            .env("CARGO_TERM_COLOR", "never");
        for (name, value) in env {
            command.env(name, value);
        }
        let out = command.output().expect("run bash");
        let outputs = fs::read_to_string(&output_file)
            .expect("read GITHUB_OUTPUT")
            .lines()
            .filter_map(|line| line.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        let path_lines = fs::read_to_string(&path_file)
            .expect("read GITHUB_PATH")
            .lines()
            .map(str::to_owned)
            .collect();
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs,
            path_lines,
        }
    }

    /// A released checkout: the archive for Linux x64 is on the server and release.txt pins its sha256.
    fn released(tools: &[&str]) -> Self {
        let checkout = Self::new();
        let archive = checkout.release_archive(LINUX_X64, tools);
        checkout.write_release_txt(&release_txt(&[(&sha256_hex(&archive), LINUX_X64)], tools));
        checkout.server.serve(&archive_name(LINUX_X64), archive);
        checkout
    }

    fn entries(&self, dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

fn release_txt(sums: &[(&str, &str)], tools: &[&str]) -> String {
    let mut text = format!(
        "# test release\nversion {VERSION}\nrepository ops-actions/ops-actions\ntools {}\n",
        tools.join(" ")
    );
    for (sum, target) in sums {
        text.push_str(&format!("sha256 {sum} {target}\n"));
    }
    text
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create dir");
    for entry in fs::read_dir(from)
        .expect("read fixture dir")
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            fs::copy(&path, to.join(entry.file_name())).expect("copy fixture file");
        }
    }
}

fn run_bin(path: &Path) -> String {
    let out = Command::new(path)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", path.display()));
    assert!(out.status.success(), "{} failed", path.display());
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

const TOOLS: [&str; 2] = ["do-deploy", "lint-gate"];

#[test]
fn good_checksum_installs_into_the_tool_cache() {
    let checkout = Checkout::released(&TOOLS);
    let run = checkout.install(&[("OPS_TOOLS", "lint-gate")]);
    run.assert_code(0);

    // The archive is kept in the tool cache; the binaries are unpacked for this job under RUNNER_TEMP.
    let bin_dir = run.bin_dir();
    assert_eq!(
        bin_dir.parent().and_then(Path::parent),
        Some(checkout.runner_temp().as_path()),
        "{run:#?}"
    );
    assert_eq!(
        bin_dir.file_name().map(|n| n.to_string_lossy().into_owned()),
        Some(format!("ops-actions-{VERSION}-{LINUX_X64}"))
    );
    assert_eq!(run.output("version"), VERSION);
    assert_eq!(run.output("method"), "download");
    assert_eq!(
        run.path_lines,
        [bin_dir.display().to_string()],
        "GITHUB_PATH gets the bin dir"
    );
    assert_eq!(
        run.stdout.trim(),
        bin_dir.display().to_string(),
        "the bin dir is the only stdout"
    );
    assert!(
        checkout
            .tool_cache()
            .join(format!("ops-actions/{VERSION}/x64.complete"))
            .is_file()
    );
    assert!(checkout.cached_archive().is_file());
    assert_eq!(
        run_bin(&bin_dir.join("lint-gate")),
        "lint-gate 0.1.0 (release archive)"
    );
    assert_eq!(
        run_bin(&bin_dir.join("do-deploy")),
        "do-deploy 0.1.0 (release archive)"
    );
    assert!(
        run.stderr.contains("ops-actions: downloading http://127.0.0.1:"),
        "{}",
        run.stderr
    );
    assert_eq!(
        checkout.server.requests(),
        [format!("/releases/{}", archive_name(LINUX_X64))]
    );
    assert_eq!(
        checkout.temp_leftovers(),
        Vec::<String>::new(),
        "download dir cleaned up"
    );
}

#[test]
fn second_run_uses_the_cache_without_downloading() {
    let checkout = Checkout::released(&TOOLS);
    checkout.install(&[("OPS_TOOLS", "lint-gate")]).assert_code(0);
    assert_eq!(checkout.server.requests().len(), 1);

    // Another tool's action in a later job on the same runner: the one archive holds every tool.
    let run = checkout.install(&[("OPS_TOOLS", "do-deploy")]);
    run.assert_code(0);
    assert_eq!(
        checkout.server.requests().len(),
        1,
        "the second run made no request"
    );
    assert_eq!(run.output("method"), "cache");
    assert!(
        run.stderr.contains("ops-actions: using cached ") && run.stderr.contains("as release.txt pins"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run_bin(&run.bin_dir().join("do-deploy")),
        "do-deploy 0.1.0 (release archive)"
    );
    assert_eq!(run.path_lines.len(), 1);
}

#[test]
fn bad_checksum_fails_closed_and_caches_nothing() {
    let checkout = Checkout::new();
    let archive = checkout.release_archive(LINUX_X64, &TOOLS);
    let actual = sha256_hex(&archive);
    let expected = sha256_hex(b"the archive the release pinned");
    checkout.write_release_txt(&release_txt(&[(&expected, LINUX_X64)], &TOOLS));
    checkout.server.serve(&archive_name(LINUX_X64), archive);

    let run = checkout.install(&[("OPS_TOOLS", "lint-gate")]);
    run.assert_code(1);
    let error = run
        .stderr
        .lines()
        .find(|l| l.starts_with("::error"))
        .unwrap_or_else(|| panic!("{run:#?}"));
    assert!(error.contains(&archive_name(LINUX_X64)), "{error}");
    assert!(error.contains(&format!("expected sha256 {expected}")), "{error}");
    assert!(error.contains(&format!("got {actual}")), "{error}");
    assert!(
        !run.stderr.contains("building from source"),
        "a mismatch never falls back: {}",
        run.stderr
    );
    assert_eq!(
        checkout.entries(&checkout.tool_cache()),
        Vec::<String>::new(),
        "nothing in the cache"
    );
    assert_eq!(
        checkout.entries(&checkout.runner_temp()),
        Vec::<String>::new(),
        "download dir cleaned up"
    );
    assert!(run.outputs.is_empty() && run.path_lines.is_empty(), "{run:#?}");
}

#[test]
fn missing_asset_falls_back_to_a_source_build_of_the_asked_tool() {
    let checkout = Checkout::new();
    // release.txt pins an archive the server does not have: 404.
    checkout.write_release_txt(&release_txt(&[(&sha256_hex(b"gone"), LINUX_X64)], &TOOLS));

    let run = checkout.install(&[("OPS_TOOLS", "lint-gate")]);
    run.assert_code(0);
    assert_eq!(
        checkout.server.requests(),
        [format!("/releases/{}", archive_name(LINUX_X64))],
        "one try"
    );
    assert!(
        run.stderr.contains("building from source: the download of"),
        "{}",
        run.stderr
    );
    assert_eq!(run.output("method"), "build");
    assert_eq!(run.output("version"), VERSION);
    assert_eq!(
        run.bin_dir().parent(),
        Some(checkout.runner_temp().as_path()),
        "binaries are copied out of the shared build dir for this job"
    );
    assert_eq!(
        run_bin(&run.bin_dir().join("lint-gate")),
        "lint-gate 0.1.0 (fixture, built from source)"
    );
    assert_eq!(checkout.entries(&run.bin_dir()), ["lint-gate"]);
    let builds = checkout.build_dirs();
    assert_eq!(builds.len(), 1, "{builds:?}");
    let target_dir = checkout.tool_cache().join("ops-actions-build").join(&builds[0]);
    assert!(
        target_dir.join("action/lint-gate").is_file(),
        "built with the `action` profile"
    );
    assert!(
        !target_dir.join("action/do-deploy").exists(),
        "only the asked tool was built"
    );
    assert_eq!(
        checkout.entries(&checkout.tool_cache()),
        ["ops-actions-build"],
        "no release entry is made from a source build"
    );
}

#[test]
fn target_missing_from_release_txt_builds_from_source_without_downloading() {
    let checkout = Checkout::released(&TOOLS);
    let run = checkout.install(&[("OPS_TOOLS", "lint-gate"), ("RUNNER_ARCH", "ARM64")]);
    run.assert_code(0);
    assert_eq!(checkout.server.requests(), Vec::<String>::new());
    assert!(
        run.stderr
            .contains("release.txt has no archive for aarch64-unknown-linux-musl"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run_bin(&run.bin_dir().join("lint-gate")),
        "lint-gate 0.1.0 (fixture, built from source)"
    );
}

#[test]
fn build_from_source_skips_the_release() {
    let checkout = Checkout::released(&TOOLS);
    let run = checkout.install(&[("OPS_TOOLS", "do-deploy"), ("OPS_BUILD_FROM_SOURCE", "True")]);
    run.assert_code(0);
    assert_eq!(checkout.server.requests(), Vec::<String>::new());
    assert!(
        run.stderr
            .contains("building from source: build-from-source is true"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run_bin(&run.bin_dir().join("do-deploy")),
        "do-deploy 0.1.0 (fixture, built from source)"
    );
}

#[test]
fn an_unreleased_tree_builds_every_tool_from_the_committed_release_txt() {
    // The release.txt committed on main holds no release: the root action (no tool list) builds every
    // binary of the workspace, and the version comes from Cargo.toml.
    let checkout = Checkout::new();
    let script = checkout.action().join("actions/_lib/install.sh");
    let run = checkout.run_script(&script, &[]);
    run.assert_code(0);
    assert_eq!(checkout.server.requests(), Vec::<String>::new());
    assert_eq!(run.output("version"), VERSION);
    assert_eq!(
        checkout.entries(&run.bin_dir()),
        ["do-deploy", "lint-gate"],
        "binaries only, no libraries"
    );
    assert_eq!(
        run_bin(&run.bin_dir().join("do-deploy")),
        "do-deploy 0.1.0 (fixture, built from source)"
    );
}

#[test]
fn a_tool_outside_the_release_builds_from_source() {
    let checkout = Checkout::released(&["lint-gate"]);
    let run = checkout.install(&[("OPS_TOOLS", "do-deploy")]);
    run.assert_code(0);
    assert_eq!(checkout.server.requests(), Vec::<String>::new());
    assert!(
        run.stderr.contains("the release archive has no `do-deploy`"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_cargo_is_an_error_that_names_the_fix() {
    let checkout = Checkout::new();
    let run = checkout.install(&[("OPS_TOOLS", "lint-gate"), ("OPS_CARGO", "/nonexistent/cargo")]);
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("::error title=ops-actions install::cannot build ops-actions from source"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: install a Rust toolchain"),
        "{}",
        run.stderr
    );
}

#[test]
fn round_trip_through_the_release_script() {
    // release.sh packages and writes release.txt the way the release workflow does; install.sh accepts it.
    let checkout = Checkout::new();
    let lib = checkout.action().join("actions/_lib");
    let bins = checkout.root.join("built");
    fs::create_dir_all(&bins).expect("bins");
    for tool in TOOLS {
        let bin = bins.join(tool);
        fs::write(&bin, format!("#!/bin/sh\necho '{tool} packaged'\n")).expect("bin");
        fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let dist = checkout.root.join("dist");
    let release = |args: &[&Path]| {
        let out = Command::new("bash")
            .arg(lib.join("release.sh"))
            .args(args)
            .output()
            .expect("release.sh");
        assert!(
            out.status.success(),
            "release.sh {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let archive = release(&[Path::new("package"), Path::new(LINUX_X64), &bins, &dist]);
    assert_eq!(archive, dist.join(archive_name(LINUX_X64)).display().to_string());
    release(&[Path::new("checksums"), &dist]);
    release(&[
        Path::new("manifest"),
        Path::new("--allow-missing"),
        &dist,
        Path::new("ops-actions/ops-actions"),
    ]);
    let bytes = fs::read(&archive).expect("archive");
    let sums = fs::read_to_string(dist.join("SHA256SUMS")).expect("SHA256SUMS");
    assert_eq!(
        sums,
        format!("{}  {}\n", sha256_hex(&bytes), archive_name(LINUX_X64))
    );
    let manifest = fs::read_to_string(lib.join("release.txt")).expect("release.txt");
    assert!(
        manifest.starts_with("# ops-actions release manifest"),
        "keeps the format comment:\n{manifest}"
    );
    assert!(manifest.contains("\ntools do-deploy lint-gate\n"), "{manifest}");
    checkout.server.serve(&archive_name(LINUX_X64), bytes);

    let run = checkout.install(&[]);
    run.assert_code(0);
    assert_eq!(run.output("method"), "download");
    assert_eq!(run_bin(&run.bin_dir().join("lint-gate")), "lint-gate packaged");
}

#[test]
fn plain_http_is_refused_unless_loopback() {
    let checkout = Checkout::released(&TOOLS);
    // Regression: the loopback check was a prefix match, so `http://127.0.0.1:1@other.host` (user
    // `127.0.0.1`, password `1`, host other.host) passed as a loopback mirror.
    for url in [
        "http://mirror.example.invalid/releases",
        "http://127.0.0.1:1@other.host/releases",
        "http://127.0.0.1@other.host/releases",
        "http://localhost:80@other.host/releases",
        "http://[::1]:1@other.host/releases",
        "http://127.0.0.1.other.host/releases",
        "http://localhost.other.host/releases",
        "http://127.0.0.1:8080x/releases",
        "http://127.0.0.1:/releases",
        "http://127.0.0.1\\@other.host/releases",
        "ftp://127.0.0.1/releases",
    ] {
        let run = checkout.install(&[("OPS_DOWNLOAD_URL", url), ("OPS_CARGO", "/nonexistent/cargo")]);
        assert_eq!(run.code, Some(1), "{url}: {run:#?}");
        assert!(
            run.stderr.contains("only https URLs are allowed"),
            "{url}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("downloading"), "{url}: {}", run.stderr);
    }
    // The loopback spellings with a port are mirrors (the server above listens on 127.0.0.1).
    let port = checkout
        .server
        .base
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches("/releases")
        .to_owned();
    for host in ["127.0.0.1", "localhost"] {
        let url = format!("http://{host}:{port}/releases");
        let run = checkout.install(&[("OPS_DOWNLOAD_URL", &url)]);
        run.assert_code(0);
    }
    assert_eq!(
        checkout.server.requests().len(),
        1,
        "the second run used the cache"
    );
}

/// Regression: on a runner that outlives its jobs, an earlier job could plant binaries in the tool
/// cache entry for the version (`ops-actions/<version>/<arch>/`), and the next install ran them without
/// any check. Only an archive whose sha256 equals release.txt's is ever unpacked, on every run.
#[test]
fn planted_files_in_the_tool_cache_never_run() {
    let checkout = Checkout::released(&TOOLS);
    let entry = checkout.tool_cache().join(format!("ops-actions/{VERSION}/x64"));
    let marker = checkout
        .tool_cache()
        .join(format!("ops-actions/{VERSION}/x64.complete"));
    let plant = |dir: &Path| {
        for tool in TOOLS {
            let bin = dir.join(tool);
            fs::write(&bin, "#!/bin/sh\necho planted\n").expect("plant");
            fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).expect("chmod");
        }
    };

    // 1. binaries laid out as a complete entry, the way install.sh used to keep them
    fs::create_dir_all(&entry).expect("entry");
    plant(&entry);
    fs::write(&marker, "").expect("marker");
    let run = checkout.install(&[("OPS_TOOLS", "lint-gate")]);
    run.assert_code(0);
    assert_eq!(run.output("method"), "download", "{run:#?}");
    assert_eq!(
        run_bin(&run.bin_dir().join("lint-gate")),
        "lint-gate 0.1.0 (release archive)"
    );
    assert_eq!(checkout.server.requests().len(), 1);

    // 2. the cached archive swapped for another one (a tampered archive, same name, marker in place)
    let other = checkout.root.join("planted");
    let stem = format!("ops-actions-{VERSION}-{LINUX_X64}");
    fs::create_dir_all(other.join(&stem)).expect("planted stem");
    plant(&other.join(&stem));
    let status = Command::new("tar")
        .arg("-czf")
        .arg(checkout.cached_archive())
        .arg("-C")
        .arg(&other)
        .arg(&stem)
        .status()
        .expect("tar");
    assert!(status.success());
    assert!(marker.is_file());
    let run = checkout.install(&[("OPS_TOOLS", "lint-gate")]);
    run.assert_code(0);
    assert!(
        run.stderr.contains(&format!(
            "::warning title=ops-actions install::the cached {} does not match actions/_lib/release.txt",
            archive_name(LINUX_X64)
        )),
        "{}",
        run.stderr
    );
    assert_eq!(run.output("method"), "download");
    assert_eq!(
        run_bin(&run.bin_dir().join("lint-gate")),
        "lint-gate 0.1.0 (release archive)"
    );
    assert_eq!(checkout.server.requests().len(), 2, "downloaded again");
    let kept = fs::read(checkout.cached_archive()).expect("cached archive");
    let pinned = fs::read_to_string(checkout.action().join("actions/_lib/release.txt")).expect("release.txt");
    assert!(
        pinned.contains(&format!("\nsha256 {} {LINUX_X64}\n", sha256_hex(&kept))),
        "the cache holds the pinned archive again:\n{pinned}"
    );

    // 3. and the next run takes it from the cache, checked
    let run = checkout.install(&[("OPS_TOOLS", "do-deploy")]);
    run.assert_code(0);
    assert_eq!(run.output("method"), "cache");
    assert_eq!(checkout.server.requests().len(), 2);
}

#[test]
fn exported_bash_functions_are_refused() {
    let checkout = Checkout::released(&TOOLS);
    let run = checkout.install(&[("BASH_FUNC_curl%%", "() {  echo pwned; }")]);
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("refusing to run with exported bash functions"),
        "{}",
        run.stderr
    );
    assert_eq!(checkout.server.requests(), Vec::<String>::new());
}

#[test]
fn invalid_inputs_exit_2_before_doing_anything() {
    let checkout = Checkout::released(&TOOLS);
    for (name, value, message) in [
        ("OPS_TOOLS", "lint-gate;rm", "invalid tool name `lint-gate;rm`"),
        ("OPS_TOOLS", "../lint-gate", "invalid tool name `../lint-gate`"),
        (
            "OPS_BUILD_FROM_SOURCE",
            "yes",
            "invalid value for `build-from-source`: `yes`",
        ),
        (
            "OPS_VERIFY_ATTESTATION",
            "1",
            "invalid value for `verify-attestation`: `1`",
        ),
        ("OPS_INSTALL_RETRIES", "five", "invalid `OPS_INSTALL_RETRIES`"),
    ] {
        let run = checkout.install(&[(name, value)]);
        assert_eq!(run.code, Some(2), "{name}={value}: {run:#?}");
        assert!(run.stderr.contains(message), "{name}={value}: {}", run.stderr);
    }
    assert_eq!(checkout.server.requests(), Vec::<String>::new());
}

#[test]
fn a_damaged_release_txt_fails_closed() {
    let checkout = Checkout::released(&TOOLS);
    let good = sha256_hex(b"x");
    for (text, message) in [
        (
            format!("version {VERSION}\nsha256 {} {LINUX_X64}\n", &good[..63]),
            "line 2: invalid sha256",
        ),
        (
            format!("version {VERSION}\nsha256 {} {LINUX_X64}\n", good.to_uppercase()),
            "line 2: invalid sha256",
        ),
        (
            format!("version {VERSION}\nchecksum {good} {LINUX_X64}\n"),
            "line 2: unknown key `checksum`",
        ),
        ("version latest\n".to_owned(), "line 1: invalid version `latest`"),
        (
            format!("version {VERSION}\nrepository not-a-repo\n"),
            "line 2: invalid repository",
        ),
    ] {
        checkout.write_release_txt(&text);
        let run = checkout.install(&[("OPS_TOOLS", "lint-gate")]);
        assert_eq!(run.code, Some(1), "{text}: {run:#?}");
        assert!(run.stderr.contains(message), "{text}: {}", run.stderr);
    }
    assert_eq!(checkout.server.requests(), Vec::<String>::new());
}

#[test]
fn the_scripts_in_the_tree_are_executable() {
    // action.yml files run install.sh by path, so git must record it as executable (mode 100755).
    for script in ["install.sh", "release.sh"] {
        let mode = fs::metadata(repo_root().join("actions/_lib").join(script))
            .expect("script")
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111, "actions/_lib/{script} is not executable");
    }
}

#[test]
fn each_runner_platform_downloads_its_own_archive() {
    let checkout = Checkout::new();
    let platforms = [
        ("Linux", "X64", "x86_64-unknown-linux-musl", "tar.gz"),
        ("Linux", "ARM64", "aarch64-unknown-linux-musl", "tar.gz"),
        ("macOS", "X64", "x86_64-apple-darwin", "tar.gz"),
        ("macOS", "ARM64", "aarch64-apple-darwin", "tar.gz"),
        ("Windows", "X64", "x86_64-pc-windows-msvc", "zip"),
    ];
    let sums: Vec<(String, &str)> = platforms
        .iter()
        .map(|(_, _, target, _)| (sha256_hex(target.as_bytes()), *target))
        .collect();
    let sums: Vec<(&str, &str)> = sums.iter().map(|(sum, target)| (sum.as_str(), *target)).collect();
    checkout.write_release_txt(&release_txt(&sums, &TOOLS));
    for (os, arch, target, ext) in platforms {
        // Nothing is served, and without cargo the fallback stops right after the download attempt.
        let run = checkout.install(&[
            ("RUNNER_OS", os),
            ("RUNNER_ARCH", arch),
            ("OPS_CARGO", "/nonexistent/cargo"),
        ]);
        run.assert_code(1);
        let last = checkout.server.requests().pop();
        assert_eq!(
            last,
            Some(format!("/releases/ops-actions-{VERSION}-{target}.{ext}")),
            "{os}/{arch}"
        );
    }
    assert_eq!(checkout.server.requests().len(), platforms.len());
}

/// Regression guard for the source-build cache: cargo judges a workspace crate up to date by file times,
/// and the runner unpacks an action with its commit's file times, so one target dir shared by two
/// source trees can hand out the other tree's binary. Each tree builds in its own directory, named after
/// its content; the same tree reuses it.
#[test]
fn source_builds_reuse_the_build_dir_of_the_same_tree_only() {
    let checkout = Checkout::new();
    let from_source = [("OPS_TOOLS", "lint-gate"), ("OPS_BUILD_FROM_SOURCE", "true")];

    let first = checkout.install(&from_source);
    first.assert_code(0);
    assert!(
        first
            .stderr
            .contains("running cargo build --profile action --locked"),
        "{}",
        first.stderr
    );
    assert!(first.stderr.contains("Compiling lint-gate"), "{}", first.stderr);
    let builds = checkout.build_dirs();
    assert_eq!(builds.len(), 1, "{builds:?}");
    assert_eq!(
        builds[0].len(),
        16,
        "16 hex digits of the tree's sha256: {builds:?}"
    );

    // The same tree again (a later step or job on this runner): nothing is compiled.
    let again = checkout.install(&from_source);
    again.assert_code(0);
    assert!(!again.stderr.contains("Compiling"), "{}", again.stderr);
    assert_eq!(checkout.build_dirs(), builds);
    assert_ne!(
        again.bin_dir(),
        first.bin_dir(),
        "each run copies into its own bin dir"
    );

    // Another tree whose changed file keeps its old time, as an unpacked action's files do.
    let main_rs = checkout.action().join("crates/lint-gate/src/main.rs");
    let old_time = fs::metadata(&main_rs).and_then(|m| m.modified()).expect("mtime");
    fs::write(
        &main_rs,
        "fn main() {\n    println!(\"lint-gate from another ref\");\n}\n",
    )
    .expect("edit");
    fs::File::options()
        .write(true)
        .open(&main_rs)
        .and_then(|f| f.set_modified(old_time))
        .expect("set mtime");
    let other = checkout.install(&from_source);
    other.assert_code(0);
    assert_eq!(
        run_bin(&other.bin_dir().join("lint-gate")),
        "lint-gate from another ref",
        "{}",
        other.stderr
    );
    assert_eq!(checkout.build_dirs().len(), 2);
}

#[test]
fn build_dirs_unused_for_a_week_are_removed() {
    let checkout = Checkout::new();
    let root = checkout.tool_cache().join("ops-actions-build");
    let day = std::time::Duration::from_secs(24 * 3600);
    let now = std::time::SystemTime::now();
    for (name, age) in [("0000000000000old", 8), ("00000000000young", 1)] {
        fs::create_dir_all(root.join(name).join("action")).expect("build dir");
        let stamp = root.join(format!("{name}.used"));
        fs::write(&stamp, "").expect("stamp");
        fs::File::options()
            .write(true)
            .open(&stamp)
            .and_then(|f| f.set_modified(now - day * age))
            .expect("age the stamp");
    }
    let run = checkout.install(&[("OPS_TOOLS", "lint-gate"), ("OPS_BUILD_FROM_SOURCE", "true")]);
    run.assert_code(0);
    let left = checkout.build_dirs();
    assert!(!left.contains(&"0000000000000old".to_owned()), "{left:?}");
    assert!(!root.join("0000000000000old.used").exists());
    assert!(left.contains(&"00000000000young".to_owned()), "{left:?}");
    assert_eq!(left.len(), 2, "the young one and this tree's: {left:?}");
}

#[test]
fn an_explicit_target_dir_is_used_as_given() {
    let checkout = Checkout::new();
    let target = checkout.root.join("my-target");
    let target_str = target.display().to_string();
    let run = checkout.install(&[
        ("OPS_TOOLS", "do-deploy"),
        ("OPS_BUILD_FROM_SOURCE", "true"),
        ("OPS_TARGET_DIR", &target_str),
    ]);
    run.assert_code(0);
    assert!(target.join("action/do-deploy").is_file());
    assert_eq!(checkout.build_dirs(), Vec::<String>::new());
}

#[test]
fn the_action_profile_is_release_without_lto() {
    // install.sh builds with `--profile action`: the real tree and the fixture must both define it.
    for manifest in [
        repo_root().join("Cargo.toml"),
        repo_root().join("tests/fixtures/install/workspace/Cargo.toml"),
    ] {
        let text = fs::read_to_string(&manifest).expect("Cargo.toml");
        let section: Vec<&str> = text
            .split("\n[")
            .find(|s| s.starts_with("profile.action]"))
            .unwrap_or_else(|| panic!("{}: no [profile.action]", manifest.display()))
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert_eq!(
            section,
            [r#"inherits = "release""#, "lto = false", "codegen-units = 16"],
            "{}",
            manifest.display()
        );
    }
}

#[test]
fn each_tool_action_installs_only_its_own_tool() {
    let root = repo_root();
    let dirs = tool_actions(&root);
    assert_eq!(dirs.len(), 6, "{dirs:?}");
    for dir in dirs {
        let tool = dir.file_name().expect("name").to_string_lossy().into_owned();
        let action = load_action(&dir.join("action.yml")).expect("action.yml");
        let install = action
            .runs
            .steps
            .iter()
            .find(|s| s.run.as_deref().is_some_and(|r| r.contains("_lib/install.sh")))
            .unwrap_or_else(|| panic!("{tool}: no install step"));
        assert_eq!(
            install.env.get("OPS_TOOLS").and_then(|v| v.as_str()),
            Some(tool.as_str()),
            "{tool}: a source build should build this tool only"
        );
    }
}
