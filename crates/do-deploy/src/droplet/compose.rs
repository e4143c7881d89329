//! The user's Compose file, rendered into what runs on the host.
//!
//! The services named in `images` are the **app**: they get the requested `repo@sha256:…`, the
//! release's env file and labels, and run as a colour project (`<project>-blue` / `<project>-green`)
//! for blue-green, or as `<project>` for recreate. Every other service (PostgreSQL, Redis, search)
//! is **shared**: it runs once, in `<project>-shared`, is started with `--no-recreate` and is never
//! stopped, recreated or duplicated by an app deploy. Both halves meet on networks and volumes whose
//! names are pinned (`<project>_<name>`), so `db` resolves from either colour and data stays put.
//! For blue-green, app services lose their fixed host ports (two colours cannot bind one port) and
//! the `route` service publishes its port on an ephemeral loopback port that the proxy points at.
//! The files are written as JSON, which Compose reads as YAML.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

/// A rendering problem: the user's file or inputs (exit 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError(pub String);

/// The rendered halves.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The app services' Compose file.
    pub app: Value,
    /// The shared services' Compose file, when there are any.
    pub shared: Option<Value>,
    /// App services, sorted.
    pub app_services: Vec<String>,
    /// Shared services, sorted.
    pub shared_services: Vec<String>,
    /// Service → the image reference it must run.
    pub images: BTreeMap<String, String>,
    /// Warnings for the log.
    pub warnings: Vec<String>,
}

/// What to render.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    /// The project name.
    pub project: &'a str,
    /// Service → image reference (`repo@sha256:…`).
    pub images: &'a BTreeMap<String, String>,
    /// For blue-green: the route service and its container port.
    pub route: Option<(&'a str, u16)>,
    /// The env file's path on the host, when there is one.
    pub env_file: Option<&'a str>,
    /// The release ID (a label on every app container).
    pub release: &'a str,
}

/// Reads a Compose file's text (YAML) into JSON, with the file named in errors.
pub fn parse(file: &str, text: &str) -> Result<Value, RenderError> {
    let value: Value =
        serde_saphyr::from_str(text).map_err(|e| RenderError(format!("`{file}` is not valid YAML: {e}")))?;
    if !value.get("services").is_some_and(Value::is_object) {
        return Err(RenderError(format!(
            "`{file}` has no `services:` mapping (expected a Compose file)"
        )));
    }
    Ok(value)
}

/// The file's top-level `name:`.
pub fn name(doc: &Value) -> Option<&str> {
    doc.get("name").and_then(Value::as_str)
}

/// Splits and rewrites the file.
pub fn render(file: &str, doc: &Value, opts: &Options<'_>) -> Result<Rendered, RenderError> {
    let err = |m: String| RenderError(format!("`{file}`: {m}"));
    let services = doc
        .get("services")
        .and_then(Value::as_object)
        .ok_or_else(|| err("no `services:` mapping".to_owned()))?;
    for name in opts.images.keys() {
        if !services.contains_key(name) {
            return Err(RenderError(format!(
                "input `images` names service `{name}`, which `{file}` does not define (services: {})",
                services
                    .keys()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    if let Some((route, _)) = opts.route
        && !opts.images.contains_key(route)
    {
        return Err(RenderError(format!(
            "input `route` names service `{route}`, which is not one of the app services in `images`"
        )));
    }
    let app_names: BTreeSet<&str> = opts.images.keys().map(String::as_str).collect();
    let mut warnings = Vec::new();
    let mut app_services = Map::new();
    let mut shared_services = Map::new();
    for (name, service) in services {
        let Some(service) = service.as_object() else {
            return Err(err(format!("service `{name}` is not a mapping")));
        };
        let mut service = service.clone();
        if app_names.contains(name.as_str()) {
            if opts.route.is_some() && service.contains_key("container_name") {
                return Err(err(format!(
                    "service `{name}` sets `container_name`, so two colours of it cannot run side by side; \
                     remove it (blue-green names containers per colour)"
                )));
            }
            service.remove("build");
            service.insert("image".to_owned(), json!(opts.images[name]));
            if let Some(deps) = service.get_mut("depends_on") {
                keep_only(deps, &app_names);
            }
            if let Some(path) = opts.env_file {
                let mut files = match service.remove("env_file") {
                    Some(Value::Array(a)) => a,
                    Some(v @ Value::String(_)) => vec![v],
                    Some(Value::Object(o)) => vec![Value::Object(o)],
                    _ => Vec::new(),
                };
                files.push(json!(path));
                service.insert("env_file".to_owned(), Value::Array(files));
            }
            let labels = service
                .entry("labels")
                .or_insert_with(|| Value::Object(Map::new()));
            match labels {
                Value::Object(m) => {
                    m.insert("ops-actions.release".to_owned(), json!(opts.release));
                }
                Value::Array(a) => a.push(json!(format!("ops-actions.release={}", opts.release))),
                _ => {
                    return Err(err(format!(
                        "service `{name}`: `labels` is neither a list nor a mapping"
                    )));
                }
            }
            if let Some((route, port)) = opts.route {
                if service.remove("ports").is_some() && name != route {
                    warnings.push(format!(
                        "service `{name}`: its published ports are dropped for blue-green (two colours cannot bind \
                         one host port); only `{route}` is reached, through the proxy"
                    ));
                }
                if name == route {
                    service.insert("ports".to_owned(), json!([format!("127.0.0.1::{port}")]));
                }
            }
            app_services.insert(name.clone(), Value::Object(service));
        } else {
            if service.contains_key("build") && !service.contains_key("image") {
                return Err(err(format!(
                    "service `{name}` has `build:` and no image; name it in `images` (`{name}=repo@sha256:…`), \
                     hosts do not build"
                )));
            }
            if let Some(deps) = service.get("depends_on")
                && names_of(deps).iter().any(|d| app_names.contains(d.as_str()))
            {
                return Err(err(format!(
                    "shared service `{name}` depends on an app service; shared services must not (they outlive \
                     every app release)"
                )));
            }
            shared_services.insert(name.clone(), Value::Object(service));
        }
    }
    // Networks and volumes: pinned names, declared by the shared half, referenced by the app half.
    let mut shared_doc = Map::new();
    let mut app_doc = Map::new();
    for key in ["networks", "volumes"] {
        let declared = doc
            .get(key)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut shared_decl = Map::new();
        let mut app_decl = Map::new();
        for (name, def) in &declared {
            let mut def = match def {
                Value::Object(o) => o.clone(),
                Value::Null => Map::new(),
                _ => return Err(err(format!("top-level `{key}.{name}` is not a mapping"))),
            };
            let external = def.get("external").and_then(Value::as_bool) == Some(true);
            if !external && !def.contains_key("name") {
                def.insert("name".to_owned(), json!(format!("{}_{name}", opts.project)));
            }
            shared_decl.insert(name.clone(), Value::Object(def.clone()));
            app_decl.insert(name.clone(), Value::Object(def));
        }
        if key == "networks" && !declared.contains_key("default") {
            let def = json!({ "name": format!("{}_default", opts.project) });
            shared_decl.insert("default".to_owned(), def.clone());
            app_decl.insert("default".to_owned(), def);
        }
        shared_doc.insert(key.to_owned(), Value::Object(shared_decl));
        app_doc.insert(key.to_owned(), Value::Object(app_decl));
    }
    for (k, v) in doc.as_object().into_iter().flatten() {
        if k.starts_with("x-") || k == "configs" || k == "secrets" {
            shared_doc.insert(k.clone(), v.clone());
            app_doc.insert(k.clone(), v.clone());
        }
    }
    // The shared half starts first and creates the networks; the app half joins them.
    if !shared_services.is_empty()
        && let Some(Value::Object(nets)) = app_doc.get_mut("networks")
    {
        for def in nets.values_mut() {
            if let Value::Object(d) = def {
                d.insert("external".to_owned(), json!(true));
            }
        }
    }
    let shared = if shared_services.is_empty() {
        None
    } else {
        let mut d = shared_doc;
        d.insert("services".to_owned(), Value::Object(shared_services.clone()));
        Some(Value::Object(d))
    };
    app_doc.insert("services".to_owned(), Value::Object(app_services.clone()));
    Ok(Rendered {
        app: Value::Object(app_doc),
        shared,
        app_services: app_services.keys().cloned().collect(),
        shared_services: shared_services.keys().cloned().collect(),
        images: opts.images.clone(),
        warnings,
    })
}

/// `depends_on` as a list or a mapping: its service names.
fn names_of(deps: &Value) -> Vec<String> {
    match deps {
        Value::Array(a) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Value::Object(o) => o.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Drops `depends_on` entries on shared services (they live in another project and are started first).
fn keep_only(deps: &mut Value, app: &BTreeSet<&str>) {
    match deps {
        Value::Array(a) => a.retain(|d| d.as_str().is_some_and(|d| app.contains(d))),
        Value::Object(o) => o.retain(|k, _| app.contains(k.as_str())),
        _ => {}
    }
}

/// An image reference's digest (`sha256:…`), if pinned.
pub fn digest_of(image: &str) -> Option<&str> {
    image
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| d.starts_with("sha256:"))
}

/// Parses `images` lines (`service=repo@sha256:…`).
pub fn parse_images(
    lines: &[String],
    allow_mutable: bool,
) -> Result<(BTreeMap<String, String>, Vec<String>), RenderError> {
    let mut map = BTreeMap::new();
    let mut warnings = Vec::new();
    for (i, line) in lines
        .iter()
        .flat_map(|l| l.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let at = |m: &str| RenderError(format!("input `images` line {}: {m}", i + 1));
        let (service, image) = line
            .split_once('=')
            .ok_or_else(|| at(&format!("expected `service=repo@sha256:…`, got `{line}`")))?;
        let (service, image) = (service.trim(), image.trim());
        if service.is_empty() || image.is_empty() || image.contains(char::is_whitespace) {
            return Err(at(&format!("expected `service=repo@sha256:…`, got `{line}`")));
        }
        match image.rsplit_once('@') {
            Some((repo, digest)) => {
                let hex = digest.strip_prefix("sha256:").unwrap_or_default();
                if repo.is_empty() || hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(at(&format!("`{image}` has no valid `@sha256:` digest (64 hex digits)")));
                }
            }
            None if allow_mutable => warnings.push(format!(
                "image `{image}` of `{service}` has no digest: what runs can change under the same tag, and a \
                 rollback may not bring back the same bytes"
            )),
            None => {
                return Err(at(&format!(
                    "`{image}` is a mutable tag; pin it as `repo@sha256:…` (image-build-tag's `digest` output), or \
                     set `allow-mutable-tags: true`"
                )));
            }
        }
        if map.insert(service.to_owned(), image.to_owned()).is_some() {
            return Err(at(&format!("service `{service}` is named twice")));
        }
    }
    if map.is_empty() {
        return Err(RenderError(
            "input required and not supplied: `images` (`service=repo@sha256:…` per app service)".to_owned(),
        ));
    }
    Ok((map, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:4bab4bab4bab4bab4bab4bab4bab4bab4bab4bab4bab4bab4bab4bab4bab4bab";

    fn doc() -> Value {
        parse(
            "compose.yaml",
            r"
name: shop
services:
  web:
    build: .
    ports: ['8080:8080']
    environment: {PORT: '8080'}
    depends_on:
      db: {condition: service_healthy}
      worker: {condition: service_started}
  worker:
    image: shop/worker:1
    ports: ['9000:9000']
    depends_on: [db, redis]
  db:
    image: postgres:16
    volumes: [pgdata:/var/lib/postgresql/data]
  redis:
    image: redis:7
volumes:
  pgdata:
",
        )
        .unwrap()
    }

    fn images() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("web".to_owned(), format!("reg/shop/web@{D}")),
            ("worker".to_owned(), format!("reg/shop/worker@{D}")),
        ])
    }

    #[test]
    fn splits_app_and_shared_and_pins_names() {
        let images = images();
        let r = render(
            "compose.yaml",
            &doc(),
            &Options {
                project: "shop",
                images: &images,
                route: Some(("web", 8080)),
                env_file: Some("/srv/app.env"),
                release: "r1",
            },
        )
        .unwrap();
        assert_eq!(r.app_services, ["web", "worker"]);
        assert_eq!(r.shared_services, ["db", "redis"]);
        let web = &r.app["services"]["web"];
        assert_eq!(web["image"], json!(format!("reg/shop/web@{D}")));
        assert!(web.get("build").is_none());
        assert_eq!(web["ports"], json!(["127.0.0.1::8080"]));
        assert_eq!(web["env_file"], json!(["/srv/app.env"]));
        assert_eq!(web["labels"]["ops-actions.release"], json!("r1"));
        assert_eq!(
            web["depends_on"],
            json!({"worker": {"condition": "service_started"}})
        );
        assert_eq!(r.app["services"]["worker"]["depends_on"], json!([]));
        assert!(r.app["services"]["worker"].get("ports").is_none());
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        let shared = r.shared.unwrap();
        assert_eq!(shared["volumes"]["pgdata"]["name"], json!("shop_pgdata"));
        assert_eq!(r.app["volumes"]["pgdata"]["name"], json!("shop_pgdata"));
        assert_eq!(shared["networks"]["default"]["name"], json!("shop_default"));
        assert_eq!(
            r.app["networks"]["default"],
            json!({"name": "shop_default", "external": true})
        );
        assert!(r.app.get("name").is_none());
    }

    #[test]
    fn bad_files_and_inputs() {
        let images = images();
        let opts = Options {
            project: "shop",
            images: &images,
            route: Some(("api", 80)),
            env_file: None,
            release: "r1",
        };
        assert!(
            render("c.yaml", &doc(), &opts)
                .unwrap_err()
                .0
                .contains("input `route` names service `api`")
        );
        let mut bad = images.clone();
        bad.insert("nope".to_owned(), format!("x@{D}"));
        let opts = Options {
            images: &bad,
            route: None,
            ..opts
        };
        assert!(
            render("c.yaml", &doc(), &opts)
                .unwrap_err()
                .0
                .contains("does not define")
        );
        assert!(
            parse("c.yaml", "a: [")
                .unwrap_err()
                .0
                .contains("`c.yaml` is not valid YAML")
        );
        assert!(
            parse("c.yaml", "version: '3'")
                .unwrap_err()
                .0
                .contains("no `services:`")
        );
    }

    #[test]
    fn image_lines() {
        let ok = parse_images(&[format!("web=reg/web@{D}\n\n worker = reg/w@{D}")], false).unwrap();
        assert_eq!(ok.0.len(), 2);
        for (lines, want) in [
            ("web=reg/web:1", "mutable tag"),
            ("web", "expected `service="),
            ("web=reg/web@sha256:abc", "no valid `@sha256:`"),
            ("", "input required"),
        ] {
            let e = parse_images(&[lines.to_owned()], false).unwrap_err();
            assert!(e.0.contains(want), "{lines}: {e:?}");
        }
        let (m, w) = parse_images(&["web=reg/web:1".to_owned()], true).unwrap();
        assert_eq!(m["web"], "reg/web:1");
        assert_eq!(w.len(), 1);
        assert_eq!(digest_of(&format!("r@{D}")), Some(D));
        assert_eq!(digest_of("r:1"), None);
    }
}
