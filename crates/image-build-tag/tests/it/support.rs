//! Real servers for the tests, started on 127.0.0.1 free ports in temp dirs: Debian's `docker-registry`
//! (plain, read-only, or with htpasswd auth), a GitHub API stand-in that counts calls, and buildah's
//! storage. A missing system binary fails the test with a message naming the setup script.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use ops_test::harness::{FakeRunner, RunOutput};
use serde_json::{Value, json};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_image-build-tag");
pub(crate) const SETUP: &str = "scripts/setup-image-build-tag";

/// Panics (fails the test) when a system binary the tests need is missing.
pub(crate) fn require(program: &str) {
    // spawning is the test: some tools (htpasswd) have no `--version` and exit non-zero without arguments
    let found = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        found,
        "`{program}` is missing: run `{SETUP}` (as root) to install it"
    );
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// How a test registry behaves.
#[derive(Debug, Clone)]
pub(crate) enum Mode {
    /// Accepts everything.
    Open,
    /// Refuses writes (`maintenance.readonly`).
    ReadOnly,
    /// HTTP basic auth with one user.
    Htpasswd { user: String, password: String },
}

/// A `docker-registry` process; killed (by its own handle) when dropped.
pub(crate) struct Registry {
    child: Child,
    pub(crate) host: String,
    _dir: tempfile::TempDir,
}

impl Registry {
    pub(crate) fn start(mode: Mode) -> Self {
        require_registry();
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n",
            dir.path().join("data").display()
        );
        if matches!(mode, Mode::ReadOnly) {
            config.push_str("  maintenance:\n    readonly:\n      enabled: true\n");
        }
        config.push_str(&format!("http:\n  addr: {host}\n  secret: test-secret\n"));
        if let Mode::Htpasswd { user, password } = &mode {
            require("htpasswd");
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .expect("htpasswd");
            let path = dir.path().join("htpasswd");
            std::fs::write(&path, out.stdout).expect("write htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                path.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write config");
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start docker-registry ({e}): run `{SETUP}`"));
        // Ready when it logs "listening on"; then keep draining its log so it never blocks on it.
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let mut seen = Vec::new();
        loop {
            match lines.next() {
                Some(Ok(line)) => {
                    let ready = line.contains("listening on");
                    seen.push(line);
                    if ready {
                        break;
                    }
                }
                _ => panic!("docker-registry exited before listening:\n{}", seen.join("\n")),
            }
        }
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            host,
            _dir: dir,
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn require_registry() {
    let ok = Command::new("docker-registry")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "`docker-registry` is missing: run `{SETUP}` (as root) to install it"
    );
}

/// A response from the registry, read with a plain HTTP/1.1 client (independent of the tool's own).
#[derive(Debug)]
pub(crate) struct Http {
    pub(crate) status: u16,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) body: Vec<u8>,
}

/// `GET http://<host><path>` with an optional `Accept` and basic auth.
pub(crate) fn http_get(host: &str, path: &str, accept: Option<&str>) -> Http {
    let mut stream = TcpStream::connect(host).expect("connect to the registry");
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if let Some(accept) = accept {
        request.push_str(&format!("Accept: {accept}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Http {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 4 + size..];
    }
    out
}

pub(crate) const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// The digest a tag resolves to (`Docker-Content-Digest`), or `None` on 404.
pub(crate) fn tag_digest(host: &str, repo: &str, tag: &str) -> Option<String> {
    let response = http_get(
        host,
        &format!("/v2/{repo}/manifests/{tag}"),
        Some(MANIFEST_ACCEPT),
    );
    (response.status == 200).then(|| response.headers["docker-content-digest"].clone())
}

pub(crate) fn manifest(host: &str, repo: &str, reference: &str) -> Value {
    let response = http_get(
        host,
        &format!("/v2/{repo}/manifests/{reference}"),
        Some(MANIFEST_ACCEPT),
    );
    assert_eq!(response.status, 200, "{repo}@{reference}");
    serde_json::from_slice(&response.body).expect("manifest JSON")
}

pub(crate) fn blob(host: &str, repo: &str, digest: &str) -> Value {
    let response = http_get(host, &format!("/v2/{repo}/blobs/{digest}"), None);
    assert_eq!(response.status, 200, "{repo} blob {digest}");
    serde_json::from_slice(&response.body).expect("blob JSON")
}

/// The GitHub API stand-in: `GET /repos/{o}/{r}` and `GET /repos/{o}/{r}/commits/{sha}`, counting calls
/// per path. Repository `missing` answers 404.
pub(crate) struct GitHubApi {
    pub(crate) url: String,
    calls: Arc<Mutex<BTreeMap<String, usize>>>,
}

impl GitHubApi {
    pub(crate) fn calls(&self, path: &str) -> usize {
        self.calls.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

pub(crate) fn github() -> &'static GitHubApi {
    static API: OnceLock<GitHubApi> = OnceLock::new();
    API.get_or_init(|| {
        use axum::extract::{Path as UrlPath, State};
        use axum::http::{HeaderMap, StatusCode};
        use axum::routing::get;
        type Calls = Arc<Mutex<BTreeMap<String, usize>>>;
        let calls: Calls = Arc::new(Mutex::new(BTreeMap::new()));
        let count = |calls: &Calls, path: String| {
            *calls.lock().unwrap().entry(path).or_default() += 1;
        };
        let app = axum::Router::new()
            .route(
                "/repos/{owner}/{repo}",
                get(move |State(calls): State<Calls>, UrlPath((owner, repo)): UrlPath<(String, String)>, headers: HeaderMap| async move {
                    count(&calls, format!("/repos/{owner}/{repo}"));
                    if let Some(auth) = headers.get("authorization") {
                        count(&calls, format!("auth {}", auth.to_str().unwrap_or_default()));
                    }
                    if repo == "missing" {
                        return (StatusCode::NOT_FOUND, axum::Json(json!({"message": "Not Found"})));
                    }
                    (
                        StatusCode::OK,
                        axum::Json(json!({
                            "name": repo,
                            "full_name": format!("{owner}/{repo}"),
                            "description": "Ships containers",
                            "html_url": format!("https://github.com/{owner}/{repo}"),
                            "license": {"spdx_id": "Apache-2.0"},
                            "default_branch": "main",
                        })),
                    )
                }),
            )
            .route(
                "/repos/{owner}/{repo}/commits/{sha}",
                get(move |State(calls): State<Calls>, UrlPath((owner, repo, sha)): UrlPath<(String, String, String)>| async move {
                    count(&calls, format!("/repos/{owner}/{repo}/commits/{sha}"));
                    if sha.bytes().all(|b| b == b'0') {
                        return (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(json!({"message": "No commit found"})));
                    }
                    (StatusCode::OK, axum::Json(json!({"sha": sha, "commit": {"committer": {"date": "2021-03-04T05:06:07Z"}}})))
                }),
            )
            .with_state(calls.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                axum::serve(listener, app).await.expect("serve");
            });
        });
        GitHubApi { url, calls }
    })
}

/// A fake runner pointed at the GitHub stand-in, with the clock pinned (2024-01-01T00:00:00Z).
pub(crate) fn runner() -> FakeRunner {
    FakeRunner::new()
        .expect("fake runner")
        .env("GITHUB_API_URL", &github().url)
        .env("OPS_RETRY_DELAY_SCALE", "0")
}

/// buildah's environment: vfs storage inside the fake runner's temp dir, chroot isolation.
pub(crate) fn buildah_env(runner: FakeRunner) -> FakeRunner {
    require("buildah");
    let dir = runner.root().join("containers");
    std::fs::create_dir_all(&dir).expect("storage dir");
    let conf = dir.join("storage.conf");
    std::fs::write(
        &conf,
        format!(
            "[storage]\ndriver = \"vfs\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n",
            dir.join("graph").display(),
            dir.join("run").display()
        ),
    )
    .expect("storage.conf");
    runner
        .env("CONTAINERS_STORAGE_CONF", conf.display().to_string())
        .env("STORAGE_DRIVER", "vfs")
        .env("BUILDAH_ISOLATION", "chroot")
}

/// Writes a `FROM scratch` build context into the workspace.
pub(crate) fn context(workspace: &Path, dockerfile: &str) {
    std::fs::write(workspace.join("hello.txt"), "hello\n").expect("hello.txt");
    std::fs::write(workspace.join("Dockerfile"), dockerfile).expect("Dockerfile");
}

pub(crate) const SCRATCH: &str = "FROM scratch\nCOPY hello.txt /hello.txt\nLABEL from.dockerfile=yes\n";

pub(crate) fn run(runner: &FakeRunner) -> RunOutput {
    runner.run(BIN, &[]).expect("run image-build-tag")
}

/// Every line the tool printed, for failure messages.
pub(crate) fn log(out: &RunOutput) -> String {
    format!(
        "exit {:?}\nstderr:\n{}\nstdout:\n{}",
        out.code, out.stderr, out.stdout
    )
}
