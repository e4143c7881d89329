//! The manifests of a doks deploy: read from files, folders or standard input (Kustomize output piped
//! in), split into objects that each remember where they came from, checked, and given the `images`.
//!
//! Nothing here talks to the cluster, so every mistake is exit 2 before anything is applied: a
//! document that is not YAML, an object without `apiVersion`, `kind` or `metadata.name`, two objects
//! with the same identity, and an `images` line that matches no container.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One object of the manifests.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// `apps/v1`, `v1`, …
    pub api_version: String,
    /// `Deployment`, …
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// Its namespace (`None` for cluster-scoped kinds).
    pub namespace: Option<String>,
    /// The whole object, as it will be applied.
    pub body: Value,
    /// `file:line` of the document it came from.
    pub source: String,
}

impl Object {
    /// `deployment/web` (lowercase kind), as kubectl names objects.
    pub fn reference(&self) -> String {
        format!("{}/{}", self.kind.to_lowercase(), self.name)
    }

    /// The API group (`""` for core).
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    /// Identity: group, kind, namespace, name.
    pub fn key(&self) -> (String, String, String, String) {
        (
            self.group().to_owned(),
            self.kind.clone(),
            self.namespace.clone().unwrap_or_default(),
            self.name.clone(),
        )
    }

    /// Whether it is a workload whose rollout is waited for.
    pub fn is_workload(&self) -> bool {
        self.group() == "apps" && matches!(self.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet")
    }
}

/// A problem with the manifests (exit 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError(pub String);

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Kinds that have no namespace (the common ones; others are asked of the cluster).
pub const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "PersistentVolume",
    "PriorityClass",
    "IngressClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "APIService",
];

/// Order of application: what others refer to goes first (as Helm orders its install).
fn rank(kind: &str) -> u8 {
    match kind {
        "Namespace" => 0,
        "CustomResourceDefinition" => 1,
        "ServiceAccount" | "ClusterRole" | "ClusterRoleBinding" | "Role" | "RoleBinding" => 2,
        "Secret" | "ConfigMap" | "PersistentVolumeClaim" | "StorageClass" | "PriorityClass" => 3,
        "Service" => 4,
        "DaemonSet" | "Deployment" | "StatefulSet" | "ReplicaSet" | "Job" | "CronJob" | "Pod" => 6,
        "Ingress" | "HorizontalPodAutoscaler" | "PodDisruptionBudget" | "NetworkPolicy" => 7,
        _ => 5,
    }
}

/// Reads `paths` (files, or folders whose `*.yaml`/`*.yml`/`*.json` files are read in name order;
/// `-` is standard input) relative to `workspace`.
pub fn read(
    paths: &[String],
    workspace: &Path,
    stdin: impl FnOnce() -> std::io::Result<String>,
) -> Result<Vec<(String, String)>, ManifestError> {
    let mut out = Vec::new();
    let mut stdin = Some(stdin);
    for p in paths {
        if p == "-" {
            let Some(read) = stdin.take() else {
                return Err(ManifestError(
                    "input `manifests`: `-` (standard input) is listed twice".to_owned(),
                ));
            };
            let text = read().map_err(|e| {
                ManifestError(format!("input `manifests`: could not read standard input: {e}"))
            })?;
            out.push(("<stdin>".to_owned(), text));
            continue;
        }
        let path = workspace.join(p);
        let meta = std::fs::metadata(&path).map_err(|e| {
            ManifestError(format!(
                "input `manifests`: `{p}` cannot be read: {}",
                io_reason(&e)
            ))
        })?;
        if meta.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
                .map_err(|e| {
                    ManifestError(format!(
                        "input `manifests`: folder `{p}` cannot be listed: {}",
                        io_reason(&e)
                    ))
                })?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| {
                    f.is_file()
                        && f.extension()
                            .and_then(|x| x.to_str())
                            .is_some_and(|x| matches!(x, "yaml" | "yml" | "json"))
                })
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(ManifestError(format!(
                    "input `manifests`: folder `{p}` has no `.yaml`, `.yml` or `.json` file"
                )));
            }
            for f in files {
                let name = format!(
                    "{}/{}",
                    p.trim_end_matches('/'),
                    f.file_name().unwrap_or_default().to_string_lossy()
                );
                out.push((name.clone(), read_text(&f, &name)?));
            }
        } else {
            out.push((p.clone(), read_text(&path, p)?));
        }
    }
    Ok(out)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".to_owned(),
        _ => e.to_string(),
    }
}

fn read_text(path: &Path, name: &str) -> Result<String, ManifestError> {
    let bytes = std::fs::read(path)
        .map_err(|e| ManifestError(format!("`{name}` cannot be read: {}", io_reason(&e))))?;
    String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        ManifestError(format!("`{name}` line {line}: not UTF-8 text"))
    })
}

/// Splits a file into YAML documents with the line each starts on.
fn documents(text: &str) -> Vec<(usize, String)> {
    let mut docs = Vec::new();
    let mut cur = String::new();
    let mut start = 1;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_end();
        if t == "---" || t.starts_with("--- ") || t == "..." {
            docs.push((start, std::mem::take(&mut cur)));
            start = i + 2;
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
    }
    docs.push((start, cur));
    docs.into_iter()
        .filter(|(_, d)| {
            d.lines().any(|l| {
                let l = l.trim();
                !l.is_empty() && !l.starts_with('#')
            })
        })
        .collect()
}

/// Parses files into objects (a `List` is unpacked), with `namespace` for namespaced objects that
/// name none. Objects come back in application order.
pub fn parse(files: &[(String, String)], namespace: &str) -> Result<Vec<Object>, ManifestError> {
    let mut objects = Vec::new();
    for (name, text) in files {
        for (line, doc) in documents(text) {
            let value: Value = serde_saphyr::from_str(&doc).map_err(|e| {
                ManifestError(format!(
                    "`{name}` (document at line {line}) is not valid YAML: {}",
                    first_line(&e.to_string())
                ))
            })?;
            let at = format!("{name}:{line}");
            if value.is_null() {
                continue;
            }
            if value
                .get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| k.ends_with("List"))
                && let Some(items) = value.get("items").and_then(Value::as_array)
            {
                for item in items {
                    objects.push(object(item.clone(), &at, namespace)?);
                }
                continue;
            }
            objects.push(object(value, &at, namespace)?);
        }
    }
    if objects.is_empty() {
        return Err(ManifestError(
            "input `manifests`: no Kubernetes object found".to_owned(),
        ));
    }
    let mut seen = std::collections::HashMap::new();
    for o in &objects {
        if let Some(first) = seen.insert(o.key(), o.source.clone()) {
            return Err(ManifestError(format!(
                "`{}`: {} is declared twice (first at `{first}`)",
                o.source,
                o.reference()
            )));
        }
    }
    objects.sort_by_key(|o| rank(&o.kind));
    Ok(objects)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_owned()
}

/// One object from its JSON (`at` says where it came from), with `namespace` when it names none.
pub fn object(mut value: Value, at: &str, namespace: &str) -> Result<Object, ManifestError> {
    let Some(map) = value.as_object() else {
        return Err(ManifestError(format!(
            "`{at}`: expected a Kubernetes object (a mapping), got {}",
            type_name(&value)
        )));
    };
    let field = |k: &str| {
        map.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let api_version = field("apiVersion")
        .ok_or_else(|| ManifestError(format!("`{at}`: the object has no `apiVersion`")))?;
    let kind = field("kind").ok_or_else(|| ManifestError(format!("`{at}`: the object has no `kind`")))?;
    let name = value
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            let hint = if value.pointer("/metadata/generateName").is_some() {
                " (`generateName` cannot be applied: give it a `name`)"
            } else {
                ""
            };
            ManifestError(format!("`{at}`: the {kind} has no `metadata.name`{hint}"))
        })?;
    if !valid_name(&name) {
        return Err(ManifestError(format!(
            "`{at}`: {kind} name `{name}` is not a valid Kubernetes name (lowercase letters, digits, `-` and `.`, at most 253)"
        )));
    }
    let ns = if CLUSTER_SCOPED.contains(&kind.as_str()) {
        None
    } else {
        let ns = value
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or(namespace)
            .to_owned();
        value["metadata"]["namespace"] = Value::String(ns.clone());
        Some(ns)
    };
    Ok(Object {
        api_version,
        kind,
        name,
        namespace: ns,
        body: value,
        source: at.to_owned(),
    })
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A DNS subdomain name (RFC 1123), as most kinds need.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && name.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
}

/// An `images` line: `name=repository@sha256:…` (or without `name=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The label before `=` (or the repository's last part).
    pub name: String,
    /// The full reference to run.
    pub reference: String,
    /// Its repository (no tag, no digest), normalised.
    pub repository: String,
    /// Whether it is pinned by digest.
    pub pinned: bool,
}

/// `docker.io/library/nginx`, `index.docker.io/nginx` and `nginx` are the same repository.
pub fn normalise(repository: &str) -> String {
    let r = repository
        .strip_prefix("index.docker.io/")
        .or_else(|| repository.strip_prefix("docker.io/"))
        .unwrap_or(repository);
    r.strip_prefix("library/").unwrap_or(r).to_owned()
}

/// The repository of an image reference (tag and digest removed).
pub fn repository(reference: &str) -> String {
    let no_digest = reference.split('@').next().unwrap_or(reference);
    let last_slash = no_digest.rfind('/').map_or(0, |i| i + 1);
    let repo = match no_digest[last_slash..].find(':') {
        Some(i) => &no_digest[..last_slash + i],
        None => no_digest,
    };
    normalise(repo)
}

/// Whether a reference floats: no digest, and the tag is `latest` or missing.
pub fn floating(reference: &str) -> bool {
    if reference.contains('@') {
        return false;
    }
    let last = reference.rsplit('/').next().unwrap_or(reference);
    match last.split_once(':') {
        Some((_, tag)) => tag == "latest",
        None => true,
    }
}

/// Parses the `images` input.
pub fn images(lines: &[String]) -> Result<Vec<Image>, ManifestError> {
    let mut out: Vec<Image> = Vec::new();
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, reference) = match line.split_once('=') {
            Some((n, r)) if !n.contains('/') && !n.contains(':') => {
                (n.trim().to_owned(), r.trim().to_owned())
            }
            _ => (String::new(), line.to_owned()),
        };
        if reference.is_empty() || reference.chars().any(char::is_whitespace) {
            return Err(ManifestError(format!(
                "input `images` line {}: expected `name=registry/repository@sha256:…`, got `{line}`",
                i + 1
            )));
        }
        let repository = repository(&reference);
        let pinned = reference
            .split_once("@sha256:")
            .is_some_and(|(_, d)| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()));
        if reference.contains('@') && !pinned {
            return Err(ManifestError(format!(
                "input `images` line {}: `{reference}` has a digest that is not `sha256:` and 64 hex digits",
                i + 1
            )));
        }
        let name = if name.is_empty() {
            repository.rsplit('/').next().unwrap_or(&repository).to_owned()
        } else {
            name
        };
        if let Some(other) = out.iter().find(|o| o.repository == repository) {
            return Err(ManifestError(format!(
                "input `images` line {}: repository `{repository}` is given twice (also as `{}`)",
                i + 1,
                other.name
            )));
        }
        out.push(Image {
            name,
            reference,
            repository,
            pinned,
        });
    }
    Ok(out)
}

/// JSON pointers of the pod specs inside an object of `kind`.
pub fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "ReplicationController" => {
            Some("/spec/template/spec")
        }
        "CronJob" => Some("/spec/jobTemplate/spec/template/spec"),
        "Pod" => Some("/spec"),
        _ => None,
    }
}

/// What substitution did: per image, the containers it went to; and images left as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Substitution {
    /// `(image name, reference, ["deployment/web container web"])`.
    pub applied: Vec<(String, String, Vec<String>)>,
    /// Containers running an image not in `images`: `(where, image)`.
    pub untouched: Vec<(String, String)>,
}

/// Puts each image into every container whose image has its repository. Every image must match at
/// least one container.
pub fn substitute(objects: &mut [Object], images: &[Image]) -> Result<Substitution, ManifestError> {
    let mut result = Substitution::default();
    let mut used: Vec<Vec<String>> = vec![Vec::new(); images.len()];
    let mut seen_repos = BTreeSet::new();
    for o in objects.iter_mut() {
        let Some(ptr) = pod_spec_pointer(&o.kind) else {
            continue;
        };
        let reference = o.reference();
        let Some(spec) = o.body.pointer_mut(ptr) else {
            continue;
        };
        for list in ["initContainers", "containers"] {
            let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else {
                continue;
            };
            for c in containers {
                let cname = c.get("name").and_then(Value::as_str).unwrap_or("?").to_owned();
                let Some(current) = c.get("image").and_then(Value::as_str).map(str::to_owned) else {
                    continue;
                };
                let repo = repository(&current);
                seen_repos.insert(repo.clone());
                let at = format!("{reference} container `{cname}`");
                match images.iter().position(|i| i.repository == repo) {
                    Some(k) => {
                        c["image"] = Value::String(images[k].reference.clone());
                        used[k].push(at);
                    }
                    None => result.untouched.push((at, current)),
                }
            }
        }
    }
    for (image, containers) in images.iter().zip(&used) {
        if containers.is_empty() {
            let found: Vec<String> = seen_repos.iter().map(|r| format!("`{r}`")).collect();
            return Err(ManifestError(format!(
                "input `images`: `{}` ({}) matches no container in the manifests; their images' repositories are: {}",
                image.name,
                image.repository,
                if found.is_empty() {
                    "none (no pod template)".to_owned()
                } else {
                    found.join(", ")
                }
            )));
        }
    }
    result.applied = images
        .iter()
        .zip(used)
        .map(|(i, c)| (i.name.clone(), i.reference.clone(), c))
        .collect();
    Ok(result)
}

/// Every value of the Secrets in the manifests (`stringData`, and `data` decoded), to be masked.
pub fn secret_values(objects: &[Object]) -> Vec<String> {
    use base64::Engine as _;
    let mut out = Vec::new();
    for o in objects
        .iter()
        .filter(|o| o.kind == "Secret" && o.group().is_empty())
    {
        if let Some(map) = o.body.get("stringData").and_then(Value::as_object) {
            out.extend(map.values().filter_map(Value::as_str).map(str::to_owned));
        }
        if let Some(map) = o.body.get("data").and_then(Value::as_object) {
            for v in map.values().filter_map(Value::as_str) {
                out.push(v.to_owned());
                out.extend(
                    v.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned),
                );
                // The API server, like Go's decoder, ignores line breaks (Kustomize wraps long values).
                let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&compact)
                    && let Ok(text) = String::from_utf8(bytes)
                {
                    out.push(text);
                }
            }
        }
    }
    out.retain(|v| v.trim().len() >= 4);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn files(text: &str) -> Vec<(String, String)> {
        vec![("k8s/app.yaml".to_owned(), text.to_owned())]
    }

    const APP: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: registry.example/web:1
      containers:
        - name: web
          image: registry.example/web:1
        - name: proxy
          image: nginx:1.27
---
# the config
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: other
data:
  A: b
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
";

    #[test]
    fn objects_come_in_application_order_with_their_source_line() {
        let objs = parse(&files(APP), "shop").unwrap();
        let refs: Vec<_> = objs
            .iter()
            .map(|o| (o.reference(), o.source.clone(), o.namespace.clone()))
            .collect();
        assert_eq!(
            refs,
            [
                ("namespace/shop".to_owned(), "k8s/app.yaml:26".to_owned(), None),
                (
                    "configmap/web-config".to_owned(),
                    "k8s/app.yaml:17".to_owned(),
                    Some("other".to_owned())
                ),
                (
                    "deployment/web".to_owned(),
                    "k8s/app.yaml:1".to_owned(),
                    Some("shop".to_owned())
                ),
            ]
        );
        assert_eq!(objs[2].body["metadata"]["namespace"], json!("shop"));
        assert!(objs[2].is_workload() && !objs[1].is_workload());
    }

    #[test]
    fn bad_documents_name_the_file_and_line() {
        let bad = |text: &str| parse(&files(text), "default").unwrap_err().0;
        assert_eq!(
            bad("kind: ConfigMap\nmetadata: {name: a}\n"),
            "`k8s/app.yaml:1`: the object has no `apiVersion`"
        );
        assert_eq!(
            bad(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Secret\nmetadata: {}\n"
            ),
            "`k8s/app.yaml:5`: the Secret has no `metadata.name`"
        );
        assert!(
            bad("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Web}\n")
                .contains("not a valid Kubernetes name")
        );
        assert!(bad("a: [\n").starts_with("`k8s/app.yaml` (document at line 1) is not valid YAML"));
        assert_eq!(
            bad("- 1\n"),
            "`k8s/app.yaml:1`: expected a Kubernetes object (a mapping), got a list"
        );
        assert_eq!(
            bad("# nothing\n"),
            "input `manifests`: no Kubernetes object found"
        );
        let twice = bad(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        );
        assert_eq!(
            twice,
            "`k8s/app.yaml:5`: configmap/a is declared twice (first at `k8s/app.yaml:1`)"
        );
    }

    #[test]
    fn a_list_is_unpacked() {
        let objs = parse(&files("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n"), "d").unwrap();
        assert_eq!(objs.len(), 2);
    }

    #[test]
    fn repositories_ignore_tags_digests_and_docker_hub_prefixes() {
        assert_eq!(
            repository("registry.example:5000/web:1"),
            "registry.example:5000/web"
        );
        assert_eq!(repository("ghcr.io/o/web@sha256:abc"), "ghcr.io/o/web");
        assert_eq!(repository("docker.io/library/nginx:1.27"), "nginx");
        assert_eq!(repository("nginx"), "nginx");
    }

    #[test]
    fn floating_references_are_latest_or_untagged() {
        assert!(floating("nginx") && floating("registry.example:5000/web:latest"));
        assert!(floating("registry.example:5000/web"), "a port is not a tag");
        assert!(!floating("nginx:1.27") && !floating("ghcr.io/o/web@sha256:abc"));
    }

    #[test]
    fn images_go_to_every_container_of_their_repository() {
        let digest = "a".repeat(64);
        let mut objs = parse(&files(APP), "shop").unwrap();
        let imgs = images(&[format!("web=registry.example/web@sha256:{digest}")]).unwrap();
        assert!(imgs[0].pinned);
        let sub = substitute(&mut objs, &imgs).unwrap();
        let spec = &objs[2].body["spec"]["template"]["spec"];
        assert_eq!(
            spec["containers"][0]["image"],
            json!(format!("registry.example/web@sha256:{digest}"))
        );
        assert_eq!(
            spec["initContainers"][0]["image"],
            json!(format!("registry.example/web@sha256:{digest}"))
        );
        assert_eq!(spec["containers"][1]["image"], json!("nginx:1.27"));
        assert_eq!(sub.applied[0].2.len(), 2);
        assert_eq!(
            sub.untouched,
            [(
                "deployment/web container `proxy`".to_owned(),
                "nginx:1.27".to_owned()
            )]
        );
    }

    #[test]
    fn an_image_matching_no_container_is_refused() {
        let mut objs = parse(&files(APP), "shop").unwrap();
        let imgs = images(&["api=registry.example/api:2".to_owned()]).unwrap();
        let err = substitute(&mut objs, &imgs).unwrap_err().0;
        assert_eq!(
            err,
            "input `images`: `api` (registry.example/api) matches no container in the manifests; their images' repositories are: `nginx`, `registry.example/web`"
        );
    }

    #[test]
    fn bad_images_lines_are_refused() {
        assert!(images(&["web=".to_owned()]).unwrap_err().0.contains("line 1"));
        assert!(
            images(&["web=a/b@sha256:12".to_owned()])
                .unwrap_err()
                .0
                .contains("64 hex digits")
        );
        assert!(
            images(&["a=x/web:1".to_owned(), "b=x/web:2".to_owned()])
                .unwrap_err()
                .0
                .contains("given twice")
        );
        assert_eq!(
            images(&["registry.example/web:1".to_owned()]).unwrap()[0].name,
            "web"
        );
    }

    #[test]
    fn a_wrapped_base64_value_is_decoded_as_the_api_server_does() {
        use base64::Engine as _;
        let long = "postgres://app:a-long-password-0123456789@db.internal:5432/shop?sslmode=require";
        let b64 = base64::engine::general_purpose::STANDARD.encode(long);
        let wrapped = format!("{}\n{}", &b64[..70], &b64[70..]);
        let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\ndata:\n  URL: |\n    {}\n",
            wrapped.replace('\n', "\n    ")
        );
        let objs = parse(&files(&text), "d").unwrap();
        assert!(secret_values(&objs).contains(&long.to_owned()));
    }

    #[test]
    fn secret_values_are_collected_plain_and_decoded() {
        let objs = parse(&files("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {P: c2VjcmV0LXZhbHVl}\nstringData: {Q: other-secret}\n"), "d").unwrap();
        let v = secret_values(&objs);
        assert!(
            v.contains(&"secret-value".to_owned())
                && v.contains(&"c2VjcmV0LXZhbHVl".to_owned())
                && v.contains(&"other-secret".to_owned())
        );
    }
}
