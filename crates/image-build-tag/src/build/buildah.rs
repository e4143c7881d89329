//! The buildah builder's command lines. Storage driver and isolation come from buildah's own
//! environment (`STORAGE_DRIVER`, `BUILDAH_ISOLATION`, `CONTAINERS_STORAGE_CONF`), so this tool works
//! unchanged on a runner and in a container. Pure functions, asserted exactly in tests.

use std::path::Path;

use super::{Files, Request};
use crate::registry;

/// The local name of the image (or manifest list) being built.
pub fn local_name(req: &Request) -> String {
    req.tags
        .first()
        .cloned()
        .unwrap_or_else(|| "localhost/image-build-tag".to_owned())
}

/// Whether this is a multi-platform build (a manifest list).
pub fn is_list(req: &Request) -> bool {
    req.platforms.len() > 1
}

/// `buildah build …`.
pub fn build(req: &Request, files: &Files) -> Vec<String> {
    let mut args = vec!["build".to_owned()];
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
    for annotation in manifest_annotations(&req.annotations) {
        args.extend(["--annotation".to_owned(), annotation]);
    }
    for (id, path) in &files.secrets {
        args.extend(["--secret".to_owned(), format!("id={id},src={}", path.display())]);
    }
    if !req.platforms.is_empty() {
        args.extend(["--platform".to_owned(), req.platforms.join(",")]);
    }
    if is_list(req) {
        args.extend(["--manifest".to_owned(), local_name(req)]);
    } else {
        for tag in &req.tags {
            args.extend(["--tag".to_owned(), tag.clone()]);
        }
    }
    if !req.cache_from.is_empty() || !req.cache_to.is_empty() {
        args.push("--layers".to_owned());
    }
    for cache in &req.cache_from {
        args.extend([
            "--cache-from".to_owned(),
            cache_repository(cache).unwrap_or_else(|| cache.clone()),
        ]);
    }
    for cache in &req.cache_to {
        args.extend([
            "--cache-to".to_owned(),
            cache_repository(cache).unwrap_or_else(|| cache.clone()),
        ]);
    }
    if let Some(authfile) = &files.authfile {
        args.extend(["--authfile".to_owned(), authfile.display().to_string()]);
    }
    // buildah writes one image ID; a list has one per platform (its ID is then the pushed digest)
    if !is_list(req) {
        args.extend(["--iidfile".to_owned(), files.iidfile.display().to_string()]);
    }
    args.push(req.context.display().to_string());
    args
}

/// `buildah push …` (or `buildah manifest push --all …` for a list) of the local image to `destination`
/// (`image:tag`).
pub fn push(req: &Request, files: &Files, destination: &str, digest_file: &Path) -> Vec<String> {
    let mut args = if is_list(req) {
        vec!["manifest".to_owned(), "push".to_owned(), "--all".to_owned()]
    } else {
        vec!["push".to_owned()]
    };
    args.extend(["--digestfile".to_owned(), digest_file.display().to_string()]);
    if let Some(authfile) = &files.authfile {
        args.extend(["--authfile".to_owned(), authfile.display().to_string()]);
    }
    let host = registry::split_image(destination.rsplit_once(':').map_or(destination, |(name, _)| name));
    if registry::is_loopback(&host.registry) {
        args.push("--tls-verify=false".to_owned());
    }
    args.extend([local_name(req), format!("docker://{destination}")]);
    args
}

/// The annotations buildah can set: manifest level (`manifest:key=value` → `key=value`).
pub fn manifest_annotations(annotations: &[String]) -> Vec<String> {
    annotations
        .iter()
        .filter_map(|a| a.strip_prefix("manifest:").map(str::to_owned))
        .collect()
}

/// A `cache-from`/`cache-to` line as buildah takes it: a repository. `type=registry,ref=R` gives `R`;
/// other exporters have no buildah equivalent.
pub fn cache_repository(line: &str) -> Option<String> {
    if !line.contains('=') {
        return Some(line.to_owned());
    }
    let mut kind = None;
    let mut reference = None;
    for field in line.split(',') {
        match field.split_once('=') {
            Some(("type", v)) => kind = Some(v.trim()),
            Some(("ref", v)) => reference = Some(v.trim().to_owned()),
            _ => {}
        }
    }
    match kind {
        Some("registry") | None => reference,
        _ => None,
    }
}
