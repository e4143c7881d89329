//! The docker builder's command lines: `docker buildx build` when buildx is installed, else
//! `docker build` with BuildKit and `docker push` per tag. Pure functions, asserted exactly in tests.

use super::{Files, Request};

/// `docker buildx build …`: one call builds, tags and (with `push`) pushes every tag.
pub fn buildx(req: &Request, files: &Files) -> Vec<String> {
    let mut args = vec!["buildx".to_owned(), "build".to_owned()];
    common(req, files, &mut args);
    if req.push {
        // annotations are an image/OCI exporter feature; the docker exporter (`--load`) refuses them
        for annotation in &req.annotations {
            args.extend(["--annotation".to_owned(), annotation.clone()]);
        }
    }
    if !req.platforms.is_empty() {
        args.extend(["--platform".to_owned(), req.platforms.join(",")]);
    }
    for cache in &req.cache_from {
        args.extend(["--cache-from".to_owned(), cache.clone()]);
    }
    for cache in &req.cache_to {
        args.extend(["--cache-to".to_owned(), cache.clone()]);
    }
    if let Some(p) = &req.provenance {
        args.push(format!("--provenance={p}"));
    }
    if let Some(s) = &req.sbom {
        args.push(format!("--sbom={s}"));
    }
    if req.push {
        args.push("--push".to_owned());
    }
    if req.load {
        args.push("--load".to_owned());
    }
    args.extend([
        "--iidfile".to_owned(),
        files.iidfile.display().to_string(),
        "--metadata-file".to_owned(),
        files.metadata_file.display().to_string(),
        req.context.display().to_string(),
    ]);
    args
}

/// `docker build …` (BuildKit, without buildx): one platform, no cache export, no attestations.
pub fn build(req: &Request, files: &Files) -> Vec<String> {
    let mut args = vec!["build".to_owned()];
    common(req, files, &mut args);
    if let Some(platform) = req.platforms.first() {
        args.extend(["--platform".to_owned(), platform.clone()]);
    }
    for cache in &req.cache_from {
        args.extend(["--cache-from".to_owned(), cache.clone()]);
    }
    args.extend([
        "--iidfile".to_owned(),
        files.iidfile.display().to_string(),
        req.context.display().to_string(),
    ]);
    args
}

/// Flags both forms share: file, target, build args, labels, tags and secrets.
fn common(req: &Request, files: &Files, args: &mut Vec<String>) {
    if let Some(file) = &req.file {
        args.extend(["--file".to_owned(), file.display().to_string()]);
    }
    if let Some(target) = &req.target {
        args.extend(["--target".to_owned(), target.clone()]);
    }
    for arg in &req.build_args {
        args.extend(["--build-arg".to_owned(), arg.clone()]);
    }
    for (key, value) in &req.labels {
        args.extend(["--label".to_owned(), format!("{key}={value}")]);
    }
    for tag in &req.tags {
        args.extend(["--tag".to_owned(), tag.clone()]);
    }
    for (id, path) in &files.secrets {
        args.extend(["--secret".to_owned(), format!("id={id},src={}", path.display())]);
    }
}

/// `docker push <tag>`.
pub fn push(tag: &str) -> Vec<String> {
    vec!["push".to_owned(), tag.to_owned()]
}

/// `docker login --username … --password-stdin <registry>` (the password goes to stdin).
pub fn login(registry: &str, username: &str) -> Vec<String> {
    vec![
        "login".to_owned(),
        "--username".to_owned(),
        username.to_owned(),
        "--password-stdin".to_owned(),
        registry.to_owned(),
    ]
}

/// The digest in `docker push` output: `<tag>: digest: sha256:… size: N`.
pub fn pushed_digest(output: &[String]) -> Option<String> {
    output.iter().rev().find_map(|line| {
        let rest = line.split_once("digest: ")?.1;
        let digest = rest.split_whitespace().next()?;
        digest.starts_with("sha256:").then(|| digest.to_owned())
    })
}

/// `containerimage.digest` and `containerimage.config.digest` from buildx's metadata file.
pub fn metadata_digests(text: &str) -> (Option<String>, Option<String>) {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
        return (None, None);
    };
    let get = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    (get("containerimage.digest"), get("containerimage.config.digest"))
}
