//! The builders' command lines, exactly; and what each builder refuses.

use std::path::PathBuf;

use super::*;

fn request() -> Request {
    Request {
        builder: BuilderKind::Auto,
        context: PathBuf::from("/ws"),
        file: None,
        target: None,
        build_args: Vec::new(),
        secrets: Vec::new(),
        platforms: Vec::new(),
        push: false,
        load: false,
        cache_from: Vec::new(),
        cache_to: Vec::new(),
        provenance: None,
        sbom: None,
        login: None,
        verify: true,
        images: vec!["ghcr.io/o/app".to_owned()],
        tags: vec![
            "ghcr.io/o/app:1.2.3".to_owned(),
            "ghcr.io/o/app:latest".to_owned(),
        ],
        tag_names: vec!["1.2.3".to_owned(), "latest".to_owned()],
        labels: vec![("org.opencontainers.image.version".to_owned(), "1.2.3".to_owned())],
        annotations: vec![
            "manifest:org.opencontainers.image.version=1.2.3".to_owned(),
            "index:org.opencontainers.image.version=1.2.3".to_owned(),
        ],
    }
}

fn full() -> Request {
    let mut req = request();
    req.file = Some(PathBuf::from("/ws/docker/Dockerfile"));
    req.target = Some("runtime".to_owned());
    req.build_args = vec!["A=1".to_owned(), "B=two words".to_owned()];
    req.secrets = vec![("npm".to_owned(), Secret::new("s3cr3t"))];
    req.platforms = vec!["linux/amd64".to_owned(), "linux/arm64".to_owned()];
    req.push = true;
    req.cache_from = vec!["type=gha".to_owned()];
    req.cache_to = vec!["type=gha,mode=max".to_owned()];
    req.provenance = Some("mode=max".to_owned());
    req.sbom = Some("true".to_owned());
    req
}

fn files(secrets: &[&str], authfile: bool) -> Files {
    let ids: Vec<String> = secrets.iter().map(|s| (*s).to_owned()).collect();
    Files::in_dir(std::path::Path::new("/tmp/w"), &ids, authfile)
}

fn words(s: &str) -> Vec<String> {
    s.split('|').map(str::to_owned).collect()
}

#[test]
fn buildx_command_line() {
    assert_eq!(
        docker::buildx(&request(), &files(&[], false)),
        words(
            "buildx|build|--label|org.opencontainers.image.version=1.2.3|--tag|ghcr.io/o/app:1.2.3|--tag|ghcr.io/o/app:latest|--iidfile|/tmp/w/iid|--metadata-file|/tmp/w/metadata.json|/ws"
        )
    );
    assert_eq!(
        docker::buildx(&full(), &files(&["npm"], false)),
        words(concat!(
            "buildx|build|--file|/ws/docker/Dockerfile|--target|runtime|--build-arg|A=1|--build-arg|B=two words",
            "|--label|org.opencontainers.image.version=1.2.3|--tag|ghcr.io/o/app:1.2.3|--tag|ghcr.io/o/app:latest",
            "|--secret|id=npm,src=/tmp/w/secrets/npm",
            "|--annotation|manifest:org.opencontainers.image.version=1.2.3|--annotation|index:org.opencontainers.image.version=1.2.3",
            "|--platform|linux/amd64,linux/arm64|--cache-from|type=gha|--cache-to|type=gha,mode=max",
            "|--provenance=mode=max|--sbom=true|--push|--iidfile|/tmp/w/iid|--metadata-file|/tmp/w/metadata.json|/ws"
        ))
    );
    let mut load = request();
    load.load = true;
    let args = docker::buildx(&load, &files(&[], false));
    assert!(args.contains(&"--load".to_owned()) && !args.contains(&"--annotation".to_owned()));
}

#[test]
fn docker_build_command_line() {
    let mut req = full();
    req.platforms = vec!["linux/arm64".to_owned()];
    req.cache_from = vec!["ghcr.io/o/app:cache".to_owned()];
    assert_eq!(
        docker::build(&req, &files(&["npm"], false)),
        words(concat!(
            "build|--file|/ws/docker/Dockerfile|--target|runtime|--build-arg|A=1|--build-arg|B=two words",
            "|--label|org.opencontainers.image.version=1.2.3|--tag|ghcr.io/o/app:1.2.3|--tag|ghcr.io/o/app:latest",
            "|--secret|id=npm,src=/tmp/w/secrets/npm|--platform|linux/arm64|--cache-from|ghcr.io/o/app:cache",
            "|--iidfile|/tmp/w/iid|/ws"
        ))
    );
    assert_eq!(
        docker::push("ghcr.io/o/app:1.2.3"),
        words("push|ghcr.io/o/app:1.2.3")
    );
    assert_eq!(
        docker::login("ghcr.io", "octo"),
        words("login|--username|octo|--password-stdin|ghcr.io")
    );
}

#[test]
fn buildah_command_lines() {
    let mut req = request();
    req.cache_from = vec!["type=registry,ref=ghcr.io/o/cache".to_owned()];
    assert_eq!(
        buildah::build(&req, &files(&[], true)),
        words(concat!(
            "build|--label|org.opencontainers.image.version=1.2.3",
            "|--annotation|org.opencontainers.image.version=1.2.3",
            "|--tag|ghcr.io/o/app:1.2.3|--tag|ghcr.io/o/app:latest",
            "|--layers|--cache-from|ghcr.io/o/cache|--authfile|/tmp/w/auth.json|--iidfile|/tmp/w/iid|/ws"
        ))
    );
    let mut multi = request();
    multi.platforms = vec!["linux/amd64".to_owned(), "linux/arm64".to_owned()];
    multi.secrets = vec![("tok".to_owned(), Secret::new("x"))];
    assert_eq!(
        buildah::build(&multi, &files(&["tok"], false)),
        words(concat!(
            "build|--label|org.opencontainers.image.version=1.2.3",
            "|--annotation|org.opencontainers.image.version=1.2.3|--secret|id=tok,src=/tmp/w/secrets/tok",
            "|--platform|linux/amd64,linux/arm64|--manifest|ghcr.io/o/app:1.2.3|/ws"
        ))
    );
    let digest = std::path::Path::new("/tmp/w/digest");
    assert_eq!(
        buildah::push(&request(), &files(&[], false), "ghcr.io/o/app:1.2.3", digest),
        words("push|--digestfile|/tmp/w/digest|ghcr.io/o/app:1.2.3|docker://ghcr.io/o/app:1.2.3")
    );
    assert_eq!(
        buildah::push(&multi, &files(&[], true), "127.0.0.1:5000/app:1", digest),
        words(
            "manifest|push|--all|--digestfile|/tmp/w/digest|--authfile|/tmp/w/auth.json|--tls-verify=false|ghcr.io/o/app:1.2.3|docker://127.0.0.1:5000/app:1"
        )
    );
}

#[test]
fn cache_lines_for_buildah() {
    for (line, expected) in [
        ("ghcr.io/o/cache", Some("ghcr.io/o/cache")),
        ("type=registry,ref=ghcr.io/o/cache", Some("ghcr.io/o/cache")),
        (
            "ref=ghcr.io/o/cache,type=registry,mode=max",
            Some("ghcr.io/o/cache"),
        ),
        ("type=gha", None),
        ("type=local,src=/tmp/cache", None),
    ] {
        assert_eq!(buildah::cache_repository(line).as_deref(), expected, "{line}");
    }
}

#[test]
fn builders_refuse_what_they_cannot_do() {
    let mut req = request();
    req.provenance = Some("true".to_owned());
    let err = req.check_for(Builder::Buildah).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`provenance` is not supported by the buildah builder"
    );
    assert_eq!(ops_core::Report::exit_status(&err), ExitStatus::Usage);
    req.provenance = Some("false".to_owned());
    assert!(req.check_for(Builder::Buildah).is_ok());
    req.cache_to = vec!["type=gha".to_owned()];
    assert_eq!(
        req.check_for(Builder::Buildah).unwrap_err().to_string(),
        "the cache `type=gha` is not supported by the buildah builder; expected `type=registry,ref=<repository>`"
    );
    assert_eq!(
        req.check_for(Builder::Docker { buildx: false })
            .unwrap_err()
            .to_string(),
        "`cache-to` is not supported by the docker builder"
    );
    let mut multi = request();
    multi.platforms = vec!["linux/amd64".to_owned(), "linux/arm64".to_owned()];
    assert!(multi.check_for(Builder::Docker { buildx: false }).is_err());
    assert!(multi.check_for(Builder::Docker { buildx: true }).is_ok());
    assert!(full().check_for(Builder::Docker { buildx: true }).is_ok());
}

#[test]
fn push_output_digest() {
    let lines: Vec<String> = [
        "The push refers to repository [ghcr.io/o/app]",
        "5f70bf18a086: Pushed",
        "1.2.3: digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef size: 528",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(
        docker::pushed_digest(&lines).as_deref(),
        Some("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
    );
    assert_eq!(docker::pushed_digest(&lines[..2]), None);
    let (digest, config) = docker::metadata_digests(
        r#"{"containerimage.digest":"sha256:aa","containerimage.config.digest":"sha256:bb","image.name":"x"}"#,
    );
    assert_eq!(
        (digest.as_deref(), config.as_deref()),
        (Some("sha256:aa"), Some("sha256:bb"))
    );
}

#[test]
fn auth_file_merges_the_docker_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"auths":{"quay.io":{"auth":"eDp5"}}}"#,
    )
    .unwrap();
    let env = Env::from_pairs([("DOCKER_CONFIG", dir.path().display().to_string())]);
    let login = Login {
        registry: "ghcr.io".to_owned(),
        username: "octo".to_owned(),
        password: Secret::new("pw"),
    };
    let json: Value = serde_json::from_slice(&auth_file(&env, &login)).unwrap();
    assert_eq!(json["auths"]["quay.io"]["auth"], "eDp5");
    assert_eq!(json["auths"]["ghcr.io"]["auth"], "b2N0bzpwdw==");
}
