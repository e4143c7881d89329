//! The docker builder, through a recording `docker` on PATH (our machines have the docker CLI but no
//! engine; the project's CI self-test runs the real thing). Every call's arguments are asserted exactly.

use std::path::{Path, PathBuf};

use ops_test::harness::FakeRunner;

use crate::support::{Mode, Registry, SCRATCH, buildah_env, context, log, run, runner};

const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const CONFIG: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

/// A `docker` that records each call (arguments separated by U+001F) and plays its part: engine
/// version, buildx, login (stdin recorded), build (iid and metadata files), push (a digest line).
const FAKE_DOCKER: &str = r##"#!/bin/sh
log="$FAKE_DOCKER_LOG"
line="CALL"
for a in "$@"; do line="$line$(printf '\037')$a"; done
printf '%s\n' "$line" >> "$log"
value_after() {
  want="$1"; shift
  prev=""
  for a in "$@"; do
    if [ "$prev" = "$want" ]; then printf '%s' "$a"; return; fi
    prev="$a"
  done
}
case "$1" in
  version)
    if [ -n "$FAKE_DOCKER_NO_ENGINE" ]; then echo "Cannot connect to the Docker daemon" >&2; exit 1; fi
    echo "27.3.1" ;;
  login)
    cat > "$log.stdin"
    echo "Login Succeeded" ;;
  push)
    echo "The push refers to repository [$2]"
    echo "${2##*:}: digest: sha256:1111111111111111111111111111111111111111111111111111111111111111 size: 528" ;;
  build)
    printf 'DOCKER_BUILDKIT=%s\n' "$DOCKER_BUILDKIT" >> "$log"
    printf 'sha256:2222222222222222222222222222222222222222222222222222222222222222' > "$(value_after --iidfile "$@")" ;;
  buildx)
    if [ "$2" = version ]; then
      if [ -n "$FAKE_DOCKER_NO_BUILDX" ]; then echo "docker: 'buildx' is not a docker command" >&2; exit 1; fi
      echo "github.com/docker/buildx v0.19.3"; exit 0
    fi
    secret="$(value_after --secret "$@")"
    if [ -n "$secret" ]; then cat "${secret#*src=}" > "$log.secret"; fi
    printf 'sha256:2222222222222222222222222222222222222222222222222222222222222222' > "$(value_after --iidfile "$@")"
    printf '{"containerimage.digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","containerimage.config.digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222"}' > "$(value_after --metadata-file "$@")"
    echo "#1 exporting to image" ;;
esac
"##;

struct Fake {
    log: PathBuf,
}

impl Fake {
    fn install(r: FakeRunner) -> (FakeRunner, Self) {
        use std::os::unix::fs::PermissionsExt;
        let bin = r.root().join("fakebin");
        std::fs::create_dir_all(&bin).unwrap();
        let docker = bin.join("docker");
        std::fs::write(&docker, FAKE_DOCKER).unwrap();
        std::fs::set_permissions(&docker, std::fs::Permissions::from_mode(0o755)).unwrap();
        let log = r.root().join("docker.log");
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
        let r = r
            .env("PATH", path)
            .env("FAKE_DOCKER_LOG", log.display().to_string());
        (r, Self { log })
    }

    /// Each call's arguments, with the private build directory shown as `<work>`.
    fn calls(&self) -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let calls: Vec<Vec<String>> = text
            .lines()
            .filter_map(|l| l.strip_prefix("CALL"))
            .map(|l| l.split('\u{1f}').skip(1).map(str::to_owned).collect())
            .collect();
        let work = calls
            .iter()
            .flatten()
            .find_map(|a| a.strip_suffix("/iid").map(str::to_owned));
        calls
            .into_iter()
            .map(|c| {
                c.into_iter()
                    .map(|a| match &work {
                        Some(w) => a.replace(w.as_str(), "<work>"),
                        None => a,
                    })
                    .collect()
            })
            .collect()
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn side(&self, suffix: &str) -> String {
        std::fs::read_to_string(format!("{}.{suffix}", self.log.display())).unwrap_or_default()
    }
}

fn words(ws: &Path, s: &str) -> Vec<String> {
    s.split(' ')
        .map(|w| w.replace("<ws>", &ws.display().to_string()))
        .collect()
}

#[test]
fn buildx_builds_and_pushes_with_an_exact_command_line() {
    let password = "Docker-Login-Planted-Pass";
    let secret = "Build-Secret-Planted-Value";
    // the login is checked against a real registry before anything is built
    let registry = Registry::start(Mode::Htpasswd {
        user: "alice".to_owned(),
        password: password.to_owned(),
    });
    let (r, fake) = Fake::install(runner());
    let image = format!("{}/team/app", registry.host);
    let r = r
        .env("GITHUB_REF", "refs/tags/v2.0.0")
        .input("builder", "docker")
        .input("images", &image)
        .input("tags", "type=semver,pattern={{version}}")
        .input("labels", "com.example.team=platform")
        .input("build-args", "VERSION=2.0.0")
        .input("secrets", format!("npm={secret}"))
        .input("platforms", "linux/amd64\nlinux/arm64")
        .input("cache-from", "type=gha")
        .input("cache-to", "type=gha,mode=max")
        .input("provenance", "mode=max")
        .input("sbom", "true")
        .input("registry", &registry.host)
        .input("username", "alice")
        .input("password", password)
        .input("push", "true")
        .input("verify", "false");
    context(&r.workspace(), SCRATCH);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}\n{}", log(&out), fake.text());
    let ws = r.workspace();
    let labels: Vec<String> = out.outputs["labels"]
        .lines()
        .flat_map(|l| ["--label".to_owned(), l.to_owned()])
        .collect();
    let annotations: Vec<String> = out.outputs["annotations"]
        .lines()
        .flat_map(|l| ["--annotation".to_owned(), l.to_owned()])
        .collect();
    let mut build = words(&ws, "buildx build --build-arg VERSION=2.0.0");
    build.extend(labels);
    build.extend(words(
        &ws,
        &format!("--tag {image}:2.0.0 --tag {image}:latest --secret id=npm,src=<work>/secrets/npm"),
    ));
    build.extend(annotations);
    build.extend(words(
        &ws,
        "--platform linux/amd64,linux/arm64 --cache-from type=gha --cache-to type=gha,mode=max --provenance=mode=max --sbom=true --push --iidfile <work>/iid --metadata-file <work>/metadata.json <ws>",
    ));
    assert_eq!(
        fake.calls(),
        vec![
            words(&ws, "version --format {{.Server.Version}}"),
            words(&ws, "buildx version"),
            words(
                &ws,
                &format!("login --username alice --password-stdin {}", registry.host)
            ),
            build,
        ]
    );
    // the password went to stdin, the secret through a file; neither on a command line or in the log
    assert_eq!(fake.side("stdin"), password);
    assert_eq!(fake.side("secret"), secret);
    assert!(!fake.text().contains(password) && !fake.text().contains(secret));
    for planted in [password, secret] {
        assert!(
            !out.all_text()
                .replace(&format!("::add-mask::{planted}"), "")
                .contains(planted),
            "{planted} leaked"
        );
    }
    assert_eq!(out.outputs["digest"], DIGEST);
    assert_eq!(out.outputs["image-id"], CONFIG);
    assert_eq!(out.outputs["image"], format!("{image}@{DIGEST}"));
}

#[test]
fn without_buildx_docker_build_then_push_per_tag() {
    let (r, fake) = Fake::install(runner());
    let r = r
        .env("FAKE_DOCKER_NO_BUILDX", "1")
        .input("builder", "docker")
        .input("images", "ghcr.io/octo/app")
        .input("tags", "type=ref,event=branch\ntype=sha")
        .input("file", "Dockerfile")
        .input("target", "final")
        .input("platforms", "linux/arm64")
        .input("push", "true")
        .input("verify", "false");
    context(&r.workspace(), SCRATCH);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}\n{}", log(&out), fake.text());
    let ws = r.workspace();
    let mut build = words(&ws, "build --file <ws>/Dockerfile --target final");
    for label in out.outputs["labels"].lines() {
        build.extend(["--label".to_owned(), label.to_owned()]);
    }
    build.extend(words(
        &ws,
        "--tag ghcr.io/octo/app:main --tag ghcr.io/octo/app:sha-0123456 --platform linux/arm64 --iidfile <work>/iid <ws>",
    ));
    assert_eq!(
        fake.calls(),
        vec![
            words(&ws, "version --format {{.Server.Version}}"),
            words(&ws, "buildx version"),
            build,
            words(&ws, "push ghcr.io/octo/app:main"),
            words(&ws, "push ghcr.io/octo/app:sha-0123456"),
        ]
    );
    assert!(
        fake.text().contains("DOCKER_BUILDKIT=1"),
        "BuildKit is switched on"
    );
    assert_eq!(out.outputs["digest"], DIGEST);
    assert_eq!(out.outputs["image-id"], CONFIG);
    assert_eq!(out.outputs["image"], format!("ghcr.io/octo/app@{DIGEST}"));
}

#[test]
fn docker_without_buildx_refuses_what_needs_buildx() {
    let (r, fake) = Fake::install(runner());
    let r = r
        .env("FAKE_DOCKER_NO_BUILDX", "1")
        .input("builder", "docker")
        .input("images", "ghcr.io/octo/app")
        .input("platforms", "linux/amd64,linux/arm64");
    context(&r.workspace(), SCRATCH);
    let out = run(&r);
    assert_eq!(out.code, Some(2), "{}", log(&out));
    assert!(
        out.stderr
            .contains("more than one platform is not supported by the docker builder"),
        "{}",
        log(&out)
    );
    assert!(out.outputs.is_empty());
    assert!(!fake.calls().iter().any(|c| c[0] == "build"), "nothing was built");
}

#[test]
fn a_docker_builder_without_an_engine_exits_3() {
    let (r, _fake) = Fake::install(runner());
    let r = r
        .env("FAKE_DOCKER_NO_ENGINE", "1")
        .input("builder", "docker")
        .input("images", "ghcr.io/octo/app");
    context(&r.workspace(), SCRATCH);
    let out = run(&r);
    assert_eq!(out.code, Some(3), "{}", log(&out));
    assert!(
        out.stderr.contains("the Docker engine does not answer"),
        "{}",
        log(&out)
    );
}

#[test]
fn auto_picks_buildah_when_docker_has_no_engine() {
    let (r, fake) = Fake::install(buildah_env(runner()));
    let r = r
        .env("FAKE_DOCKER_NO_ENGINE", "1")
        .input("images", "localhost/auto");
    context(&r.workspace(), SCRATCH);
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert!(out.stderr.contains("builder: buildah"), "{}", log(&out));
    assert_eq!(
        fake.calls(),
        vec![words(&r.workspace(), "version --format {{.Server.Version}}")]
    );
}

/// A registry on loopback whose 401 page echoes the `Authorization` header it got, as some proxies'
/// error pages do; the base URL.
fn echoing_registry() -> String {
    use axum::http::{HeaderMap, StatusCode};
    let app = axum::Router::new().fallback(|headers: HeaderMap| async move {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (
            StatusCode::UNAUTHORIZED,
            [("www-authenticate", r#"Basic realm="registry""#)],
            format!("denied: you sent `{auth}`"),
        )
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let host = listener.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    host
}

/// The login check's 401 page echoed `Basic base64(user:password)` into the error, and only the raw
/// password was masked.
#[test]
fn a_registry_echoing_the_basic_credential_does_not_show_it() {
    let password = "Echoed-Planted-Pass-9";
    let credential = "YWxpY2U6RWNob2VkLVBsYW50ZWQtUGFzcy05";
    let host = echoing_registry();
    let (r, fake) = Fake::install(runner());
    let r = r
        .input("builder", "docker")
        .input("images", format!("{host}/team/app"))
        .input("registry", &host)
        .input("username", "alice")
        .input("password", password)
        .input("push", "true");
    context(&r.workspace(), SCRATCH);
    let out = run(&r);
    assert_eq!(out.code, Some(3), "{}\n{}", log(&out), fake.text());
    let error = &out.commands_named("error")[0].message;
    assert!(
        error.contains("refused the credentials for user `alice`: denied: you sent `Basic ***`"),
        "{error}"
    );
    let masked: Vec<&str> = out
        .commands_named("add-mask")
        .iter()
        .map(|c| c.message.as_str())
        .collect();
    assert!(masked.contains(&credential), "{masked:?}");
    let shown = out
        .all_text()
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    for planted in [password, credential] {
        assert!(!shown.contains(planted), "`{planted}` leaked:\n{shown}");
    }
}
