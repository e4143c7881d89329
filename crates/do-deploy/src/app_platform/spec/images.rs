//! Per-component image overrides: `web=ghcr.io/owner/web@sha256:…`, one per line.
//!
//! A reference becomes App Platform's `image` source (`registry_type`, `registry`, `repository`,
//! `digest` or `tag`). App Platform pulls from three registries: DOCR
//! (`registry.digitalocean.com/<registry>/<repo>`), GHCR (`ghcr.io/<owner>/<repo>`) and Docker Hub
//! (`docker.io/<org>/<repo>`, `<org>/<repo>` or `<repo>`); anything else is an input error before any
//! request. `web=@sha256:…` or `web=:v2` changes only the digest or tag of an image the spec already
//! has. The `IMAGE_DIGEST_<COMPONENT>` and `IMAGE_TAG_<COMPONENT>` variables of
//! digitalocean/app_action work too (component upper-cased, `-` as `_`); the `images` input wins.
//!
//! A digest pins exactly what runs, so a rollback redeploys the same bytes; a tag can move, and
//! `latest` (or no tag) is warned about.

use serde_json::{Map, Value, json};

/// Component kinds that can run an image.
const IMAGE_KINDS: [&str; 3] = ["services", "workers", "jobs"];

/// Source fields a component loses when it switches to an image (the first four are the sources).
const SOURCE_FIELDS: [&str; 8] = [
    "github",
    "gitlab",
    "git",
    "bitbucket",
    "dockerfile_path",
    "build_command",
    "source_dir",
    "environment_slug",
];

/// What an override sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A whole image reference.
    Image(ImageRef),
    /// Only the digest of the component's image.
    Digest(String),
    /// Only the tag of the component's image.
    Tag(String),
}

/// An image as App Platform names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `DOCR`, `GHCR` or `DOCKER_HUB`.
    pub registry_type: &'static str,
    /// Owner or organisation (empty for DOCR).
    pub registry: Option<String>,
    /// Repository within it.
    pub repository: String,
    /// The tag, when no digest is given.
    pub tag: Option<String>,
    /// `sha256:…`.
    pub digest: Option<String>,
}

/// One `component=reference` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// The component's name.
    pub component: String,
    /// What to set.
    pub target: Target,
    /// Where it came from, for messages: ``input `images` line 2`` or `` `IMAGE_TAG_WEB` ``.
    pub origin: String,
}

/// Something to tell the user about an override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A mutable tag (`latest` or none): a warning.
    Latest { component: String, image: String },
    /// A tag rather than a digest: a notice.
    Tag { component: String, image: String },
    /// The component built from source before and now runs the image.
    SourceReplaced { component: String },
    /// `deploy_on_push` was dropped: App Platform allows it with tags only.
    DeployOnPushDropped { component: String },
}

/// Parses the `images` lines.
pub fn parse_lines(lines: &[String]) -> Result<Vec<Override>, String> {
    let mut out: Vec<Override> = Vec::new();
    for (i, line) in lines.iter().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let origin = format!("input `images` line {}", i + 1);
        let (component, reference) = line
            .split_once('=')
            .ok_or_else(|| format!("{origin}: expected `component=image`, got `{}`", line.trim()))?;
        let component = component.trim();
        if component.is_empty() {
            return Err(format!("{origin}: the component name before `=` is empty"));
        }
        if out.iter().any(|o| o.component == component) {
            return Err(format!("{origin}: component `{component}` is given twice"));
        }
        let target = parse_target(reference.trim()).map_err(|e| format!("{origin}: {e}"))?;
        out.push(Override {
            component: component.to_owned(),
            target,
            origin,
        });
    }
    Ok(out)
}

/// Overrides from `IMAGE_DIGEST_<NAME>` / `IMAGE_TAG_<NAME>` for the spec's image components that
/// `images` does not name.
pub fn from_env(spec: &Value, taken: &[Override], var: &dyn Fn(&str) -> Option<String>) -> Vec<Override> {
    let mut out = Vec::new();
    for component in components(spec) {
        let Some(name) = component.get("name").and_then(Value::as_str) else {
            continue;
        };
        if component.get("image").is_none() || taken.iter().any(|o| o.component == name) {
            continue;
        }
        let suffix = name.to_ascii_uppercase().replace('-', "_");
        let digest_var = format!("IMAGE_DIGEST_{suffix}");
        let tag_var = format!("IMAGE_TAG_{suffix}");
        let target = match (
            var(&digest_var).filter(|v| !v.is_empty()),
            var(&tag_var).filter(|v| !v.is_empty()),
        ) {
            (Some(d), _) => (Target::Digest(d), digest_var),
            (None, Some(t)) => (Target::Tag(t), tag_var),
            (None, None) => continue,
        };
        out.push(Override {
            component: name.to_owned(),
            target: target.0,
            origin: format!("`{}`", target.1),
        });
    }
    out
}

fn parse_target(reference: &str) -> Result<Target, String> {
    if let Some(digest) = reference.strip_prefix('@') {
        check_digest(digest)?;
        return Ok(Target::Digest(digest.to_owned()));
    }
    if let Some(tag) = reference.strip_prefix(':') {
        check_tag(tag)?;
        return Ok(Target::Tag(tag.to_owned()));
    }
    parse_reference(reference).map(Target::Image)
}

/// Parses `[host/]path[:tag][@digest]` into App Platform's terms.
pub fn parse_reference(reference: &str) -> Result<ImageRef, String> {
    if reference.is_empty() {
        return Err("the image is empty".to_owned());
    }
    if reference.contains(char::is_whitespace) || reference.contains("://") {
        return Err(format!(
            "`{reference}` is not an image reference such as `ghcr.io/owner/app@sha256:…`"
        ));
    }
    let (name_tag, digest) = match reference.split_once('@') {
        Some((n, d)) => {
            check_digest(d)?;
            (n, Some(d.to_owned()))
        }
        None => (reference, None),
    };
    let (name, tag) = match name_tag.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => {
            check_tag(t)?;
            (n, Some(t.to_owned()))
        }
        _ => (name_tag, None),
    };
    let (host, path) = match name.split_once('/') {
        Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            (Some(first.to_ascii_lowercase()), rest)
        }
        _ => (None, name),
    };
    let segments: Vec<&str> = path.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(format!("`{reference}` has an empty path segment"));
    }
    let (registry_type, registry, repository) = match host.as_deref() {
        Some("ghcr.io") => {
            if segments.len() < 2 {
                return Err(format!(
                    "`{reference}`: a GHCR image is `ghcr.io/<owner>/<repository>`"
                ));
            }
            ("GHCR", Some(segments[0].to_owned()), segments[1..].join("/"))
        }
        Some("registry.digitalocean.com") => {
            if segments.len() < 2 {
                return Err(format!(
                    "`{reference}`: a DOCR image is `registry.digitalocean.com/<registry>/<repository>`"
                ));
            }
            ("DOCR", None, segments[1..].join("/"))
        }
        None | Some("docker.io" | "index.docker.io" | "registry.hub.docker.com") => match segments.len() {
            1 => ("DOCKER_HUB", Some("library".to_owned()), segments[0].to_owned()),
            _ => (
                "DOCKER_HUB",
                Some(segments[0].to_owned()),
                segments[1..].join("/"),
            ),
        },
        Some(other) => {
            return Err(format!(
                "`{reference}`: App Platform pulls from DOCR (`registry.digitalocean.com`), GHCR (`ghcr.io`) \
                 or Docker Hub, not `{other}`"
            ));
        }
    };
    Ok(ImageRef {
        registry_type,
        registry,
        repository,
        tag: if digest.is_some() { None } else { tag },
        digest,
    })
}

fn check_digest(digest: &str) -> Result<(), String> {
    let ok = digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{digest}` is not a digest (`sha256:` and 64 lowercase hex digits)"
        ))
    }
}

fn check_tag(tag: &str) -> Result<(), String> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!("`{tag}` is not an image tag"))
    }
}

fn components(spec: &Value) -> impl Iterator<Item = &Value> {
    IMAGE_KINDS
        .iter()
        .flat_map(|k| spec.get(*k).and_then(Value::as_array).into_iter().flatten())
}

fn component_mut<'a>(spec: &'a mut Value, name: &str) -> Option<&'a mut Map<String, Value>> {
    let kind = IMAGE_KINDS.iter().find(|k| {
        spec.get(**k).and_then(Value::as_array).is_some_and(|list| {
            list.iter()
                .any(|c| c.get("name").and_then(Value::as_str) == Some(name))
        })
    })?;
    spec.get_mut(*kind)?
        .as_array_mut()?
        .iter_mut()
        .find(|c| c.get("name").and_then(Value::as_str) == Some(name))?
        .as_object_mut()
}

/// Applies overrides to the spec; notes to report, or an error naming the bad override.
pub fn apply(spec: &mut Value, overrides: &[Override]) -> Result<Vec<Note>, String> {
    let mut notes = Vec::new();
    for o in overrides {
        let known: Vec<String> = components(spec)
            .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let Some(component) = component_mut(spec, &o.component) else {
            let list = if known.is_empty() {
                "the spec has no services, workers or jobs".to_owned()
            } else {
                format!(
                    "components that can run an image: {}",
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Err(format!("{}: no component `{}` ({list})", o.origin, o.component));
        };
        let name = o.component.clone();
        match &o.target {
            Target::Image(image) => {
                let keep = component.get("image").cloned().unwrap_or_else(|| json!({}));
                let mut new = Map::new();
                new.insert("registry_type".into(), json!(image.registry_type));
                if let Some(r) = &image.registry {
                    new.insert("registry".into(), json!(r));
                }
                new.insert("repository".into(), json!(image.repository));
                match (&image.digest, &image.tag) {
                    (Some(d), _) => {
                        new.insert("digest".into(), json!(d));
                    }
                    (None, Some(t)) => {
                        new.insert("tag".into(), json!(t));
                    }
                    (None, None) => {}
                }
                let same_registry = keep.get("registry_type") == new.get("registry_type")
                    && keep.get("registry") == new.get("registry");
                if same_registry && let Some(creds) = keep.get("registry_credentials") {
                    new.insert("registry_credentials".into(), creds.clone());
                }
                if image.digest.is_none()
                    && let Some(dop) = keep.get("deploy_on_push")
                {
                    new.insert("deploy_on_push".into(), dop.clone());
                } else if keep.get("deploy_on_push").is_some() {
                    notes.push(Note::DeployOnPushDropped {
                        component: name.clone(),
                    });
                }
                let had_source = SOURCE_FIELDS[..4].iter().any(|f| component.contains_key(*f));
                for f in SOURCE_FIELDS {
                    component.remove(f);
                }
                if had_source {
                    notes.push(Note::SourceReplaced {
                        component: name.clone(),
                    });
                }
                component.insert("image".into(), Value::Object(new));
            }
            Target::Digest(digest) | Target::Tag(digest) => {
                let is_digest = matches!(o.target, Target::Digest(_));
                let Some(image) = component.get_mut("image").and_then(Value::as_object_mut) else {
                    return Err(format!(
                        "{}: component `{name}` has no `image` to change the {} of; give the whole reference \
                         (`{name}=ghcr.io/owner/repo@sha256:…`)",
                        o.origin,
                        if is_digest { "digest" } else { "tag" }
                    ));
                };
                if is_digest {
                    check_digest(digest).map_err(|e| format!("{}: {e}", o.origin))?;
                    image.remove("tag");
                    if image.remove("deploy_on_push").is_some() {
                        notes.push(Note::DeployOnPushDropped {
                            component: name.clone(),
                        });
                    }
                    image.insert("digest".into(), json!(digest));
                } else {
                    check_tag(digest).map_err(|e| format!("{}: {e}", o.origin))?;
                    image.remove("digest");
                    image.insert("tag".into(), json!(digest));
                }
            }
        }
    }
    for c in components(spec) {
        let (Some(name), Some(image)) = (c.get("name").and_then(Value::as_str), c.get("image")) else {
            continue;
        };
        if image.get("digest").is_some() {
            continue;
        }
        let shown = describe(image);
        match image.get("tag").and_then(Value::as_str) {
            None | Some("latest") => notes.push(Note::Latest {
                component: name.to_owned(),
                image: shown,
            }),
            Some(_) if overrides.iter().any(|o| o.component == name) => notes.push(Note::Tag {
                component: name.to_owned(),
                image: shown,
            }),
            Some(_) => {}
        }
    }
    Ok(notes)
}

/// `ghcr.io/owner/repo:tag` from an image source, for messages.
pub fn describe(image: &Value) -> String {
    let s = |k: &str| image.get(k).and_then(Value::as_str).unwrap_or_default();
    // Specs write GHCR's `registry` as the owner (`octo`) or as the host (`ghcr.io`, with the owner
    // in `repository`); a host is not prefixed again.
    let registry = s("registry").trim_end_matches('/');
    let is_host = registry
        .split('/')
        .next()
        .is_some_and(|first| first.contains('.') || first.contains(':'));
    let host = match s("registry_type") {
        "DOCR" => "registry.digitalocean.com/…/".to_owned(),
        _ if registry.is_empty() && s("registry_type") == "GHCR" => "ghcr.io/".to_owned(),
        _ if registry.is_empty() => String::new(),
        "GHCR" if !is_host => format!("ghcr.io/{registry}/"),
        _ => format!("{registry}/"),
    };
    let suffix = match (
        image.get("digest").and_then(Value::as_str),
        image.get("tag").and_then(Value::as_str),
    ) {
        (Some(d), _) => format!("@{d}"),
        (None, Some(t)) => format!(":{t}"),
        (None, None) => ":latest".to_owned(),
    };
    format!("{host}{}{suffix}", s("repository"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn parse_reference_table() {
        let img = |t, r: Option<&str>, repo: &str, tag: Option<&str>, digest: Option<&str>| ImageRef {
            registry_type: t,
            registry: r.map(str::to_owned),
            repository: repo.to_owned(),
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
        };
        for (input, expected) in [
            (
                format!("ghcr.io/octo/web@{D}"),
                Ok(img("GHCR", Some("octo"), "web", None, Some(D))),
            ),
            (
                "ghcr.io/octo/apps/web:v1".to_owned(),
                Ok(img("GHCR", Some("octo"), "apps/web", Some("v1"), None)),
            ),
            (
                format!("ghcr.io/octo/web:v1@{D}"),
                Ok(img("GHCR", Some("octo"), "web", None, Some(D))),
            ),
            (
                "registry.digitalocean.com/acme/api:2".to_owned(),
                Ok(img("DOCR", None, "api", Some("2"), None)),
            ),
            (
                "nginx".to_owned(),
                Ok(img("DOCKER_HUB", Some("library"), "nginx", None, None)),
            ),
            (
                "bitnami/redis:7".to_owned(),
                Ok(img("DOCKER_HUB", Some("bitnami"), "redis", Some("7"), None)),
            ),
            (
                "docker.io/bitnami/redis".to_owned(),
                Ok(img("DOCKER_HUB", Some("bitnami"), "redis", None, None)),
            ),
            ("quay.io/o/r:1".to_owned(), Err("not `quay.io`")),
            ("localhost:5000/r".to_owned(), Err("not `localhost:5000`")),
            ("ghcr.io/web".to_owned(), Err("ghcr.io/<owner>")),
            ("ghcr.io/o/web@sha256:abc".to_owned(), Err("not a digest")),
            ("ghcr.io/o/web:bad tag".to_owned(), Err("not an image reference")),
            ("https://ghcr.io/o/w".to_owned(), Err("not an image reference")),
            ("ghcr.io//web".to_owned(), Err("empty path segment")),
        ] {
            match (parse_reference(&input), expected) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{input}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{input}: {got}"),
                (got, want) => panic!("{input}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn parse_lines_table() {
        let ok = parse_lines(&[
            format!("web=ghcr.io/o/web@{D}"),
            String::new(),
            "worker=:v2".into(),
            format!("api=@{D}"),
        ])
        .unwrap();
        assert_eq!(ok.len(), 3);
        assert_eq!(ok[1].target, Target::Tag("v2".into()));
        assert_eq!(ok[1].origin, "input `images` line 3");
        assert_eq!(ok[2].target, Target::Digest(D.into()));
        for (lines, want) in [
            (vec!["web"], "expected `component=image`"),
            (vec!["=nginx"], "component name before `=` is empty"),
            (vec!["web=nginx", "web=redis"], "given twice"),
            (vec!["web=:"], "not an image tag"),
        ] {
            let lines: Vec<String> = lines.into_iter().map(str::to_owned).collect();
            let err = parse_lines(&lines).unwrap_err();
            assert!(err.contains(want), "{lines:?}: {err}");
        }
    }

    #[test]
    fn apply_replaces_sources_keeps_credentials_and_warns_on_latest() {
        let mut spec = json!({
            "name": "shop",
            "services": [
                {"name": "web", "github": {"repo": "o/r", "branch": "main"}, "dockerfile_path": "Dockerfile", "http_port": 8080},
                {"name": "api", "image": {"registry_type": "GHCR", "registry": "o", "repository": "api", "tag": "v1",
                    "registry_credentials": "EV[1:x]", "deploy_on_push": {"enabled": true}}}
            ],
            "workers": [{"name": "jobs", "image": {"registry_type": "DOCKER_HUB", "registry": "o", "repository": "jobs"}}],
            "static_sites": [{"name": "docs"}]
        });
        let overrides = parse_lines(&[format!("web=ghcr.io/o/web@{D}"), format!("api=@{D}")]).unwrap();
        let notes = apply(&mut spec, &overrides).unwrap();
        assert_eq!(
            spec["services"][0],
            json!({"name": "web", "http_port": 8080, "image": {"registry_type": "GHCR", "registry": "o", "repository": "web", "digest": D}})
        );
        assert_eq!(
            spec["services"][1]["image"],
            json!({"registry_type": "GHCR", "registry": "o", "repository": "api", "digest": D, "registry_credentials": "EV[1:x]"})
        );
        assert_eq!(
            notes,
            vec![
                Note::SourceReplaced {
                    component: "web".into()
                },
                Note::DeployOnPushDropped {
                    component: "api".into()
                },
                Note::Latest {
                    component: "jobs".into(),
                    image: "o/jobs:latest".into()
                },
            ]
        );
    }

    #[test]
    fn apply_errors_name_the_component() {
        let mut spec = json!({"name": "s", "services": [{"name": "web", "github": {"repo": "o/r"}}], "static_sites": [{"name": "docs"}]});
        let err = apply(&mut spec, &parse_lines(&["docs=nginx".into()]).unwrap()).unwrap_err();
        assert_eq!(
            err,
            "input `images` line 1: no component `docs` (components that can run an image: `web`)"
        );
        let err = apply(&mut spec, &parse_lines(&["web=:v2".into()]).unwrap()).unwrap_err();
        assert!(err.contains("has no `image` to change the tag of"), "{err}");
    }

    /// A multi-line `--images` flag was one line, while the `images` input was split into lines.
    #[test]
    fn a_multi_line_images_flag_is_split_like_the_input() {
        let value = format!("web=ghcr.io/o/web@{D}\n\nworker=:v2\n");
        let from_flag: crate::cli::Args = ops_core::cli::parse(
            ["do-deploy", "--images", value.as_str()],
            &ops_core::Env::from_pairs::<&str, &str>([]),
        )
        .unwrap();
        let from_input: crate::cli::Args = ops_core::cli::parse(
            ["do-deploy"],
            &ops_core::Env::from_pairs([("INPUT_IMAGES", value.as_str())]),
        )
        .unwrap();
        for args in [&from_flag, &from_input] {
            let overrides = parse_lines(&args.images).unwrap();
            let components: Vec<&str> = overrides.iter().map(|o| o.component.as_str()).collect();
            assert_eq!(components, ["web", "worker"], "{:?}", args.images);
        }
        assert_eq!(
            parse_lines(&from_flag.images).unwrap()[1].origin,
            "input `images` line 3",
            "lines count as written"
        );
    }

    /// `registry_type: GHCR` with `registry: ghcr.io` was shown as `ghcr.io/ghcr.io/…`.
    #[test]
    fn describe_table() {
        for (image, shown) in [
            (
                json!({"registry_type": "GHCR", "registry": "octo", "repository": "web", "tag": "v1"}),
                "ghcr.io/octo/web:v1",
            ),
            (
                json!({"registry_type": "GHCR", "registry": "ghcr.io", "repository": "octo/web", "tag": "v1"}),
                "ghcr.io/octo/web:v1",
            ),
            (
                json!({"registry_type": "GHCR", "registry": "ghcr.io/octo", "repository": "web"}),
                "ghcr.io/octo/web:latest",
            ),
            (
                json!({"registry_type": "GHCR", "repository": "octo/web", "digest": D}),
                &*format!("ghcr.io/octo/web@{D}"),
            ),
            (
                json!({"registry_type": "DOCKER_HUB", "registry": "bitnami", "repository": "redis", "tag": "7"}),
                "bitnami/redis:7",
            ),
            (
                json!({"registry_type": "DOCKER_HUB", "registry": "registry.hub.docker.com", "repository": "library/nginx"}),
                "registry.hub.docker.com/library/nginx:latest",
            ),
            (
                json!({"registry_type": "DOCR", "repository": "api", "tag": "2"}),
                "registry.digitalocean.com/…/api:2",
            ),
        ] {
            assert_eq!(describe(&image), shown, "{image}");
        }
    }

    #[test]
    fn env_overrides_fill_in_what_images_does_not_name() {
        let spec = json!({"name": "s", "services": [
            {"name": "web-app", "image": {"registry_type": "DOCR", "repository": "web"}},
            {"name": "api", "image": {"registry_type": "DOCR", "repository": "api"}},
            {"name": "src", "github": {"repo": "o/r"}}]});
        let taken = parse_lines(&["api=:v9".into()]).unwrap();
        let var = |name: &str| match name {
            "IMAGE_DIGEST_WEB_APP" => Some(D.to_owned()),
            "IMAGE_TAG_API" | "IMAGE_TAG_SRC" => Some("v1".to_owned()),
            _ => None,
        };
        let got = from_env(&spec, &taken, &var);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].component, "web-app");
        assert_eq!(got[0].origin, "`IMAGE_DIGEST_WEB_APP`");
    }
}
