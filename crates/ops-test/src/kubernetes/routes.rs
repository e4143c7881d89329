//! The resource endpoints: get, list, watch, create, replace, server-side apply, merge patch,
//! delete, pod logs, access reviews; and the checks every request passes first (RBAC, the
//! description).

use http::Method;
use serde_json::{Value, json};

use super::contract;
use super::fields::{self, Owners};
use super::store::{
    Kind, NAMESPACES, Requirement, WORKLOADS, container_defaults, defaults, fields_match, json_patch,
    labels_match, merge_patch, parse_selector, selector_of,
};
use super::{KubeState, is_watch, status, verb};
use crate::sim::{Ctx, Reply, Route};

pub(crate) fn all() -> Vec<Route<KubeState>> {
    const CORE: [&str; 3] = [
        "/api/{version}/namespaces/{namespace}/{resource}",
        "/api/{version}/namespaces/{namespace}/{resource}/{name}",
        "/api/{version}/namespaces/{namespace}/{resource}/{name}/{sub}",
    ];
    const GROUPS: [&str; 3] = [
        "/apis/{group}/{version}/namespaces/{namespace}/{resource}",
        "/apis/{group}/{version}/namespaces/{namespace}/{resource}/{name}",
        "/apis/{group}/{version}/namespaces/{namespace}/{resource}/{name}/{sub}",
    ];
    let mut routes = Vec::new();
    for [collection, item, sub] in [CORE, GROUPS] {
        routes.extend([
            Route::new(Method::GET, collection, list),
            Route::new(Method::POST, collection, create),
            Route::new(Method::GET, item, get),
            Route::new(Method::PUT, item, replace),
            Route::new(Method::PATCH, item, patch),
            Route::new(Method::DELETE, item, delete),
            Route::new(Method::GET, sub, subresource),
        ]);
    }
    // Namespaces, the one cluster-scoped kind served: the collection, and an item whose name is
    // the `{namespace}` segment of the paths above.
    const NAMESPACE_COLLECTION: &str = "/api/{version}/namespaces";
    const NAMESPACE: &str = "/api/{version}/namespaces/{namespace}";
    routes.extend([
        Route::new(Method::GET, NAMESPACE_COLLECTION, list),
        Route::new(Method::POST, NAMESPACE_COLLECTION, create),
        Route::new(Method::GET, NAMESPACE, get),
        Route::new(Method::PUT, NAMESPACE, replace),
        Route::new(Method::PATCH, NAMESPACE, patch),
        Route::new(Method::DELETE, NAMESPACE, delete),
    ]);
    routes.push(Route::new(
        Method::POST,
        "/apis/{group}/{version}/{resource}",
        cluster_create,
    ));
    routes
}

/// What a request's path names: the kind served there, the namespace (empty for a Namespace,
/// which lives in none) and the name (empty for a collection).
struct At<'a> {
    kind: Kind,
    ns: &'a str,
    name: &'a str,
}

fn target(ctx: &Ctx) -> Option<At<'_>> {
    if ctx.param("resource").is_empty() {
        // `/api/v1/namespaces` and `/api/v1/namespaces/{name}`.
        return (ctx.param("version") == NAMESPACES.version).then(|| At {
            kind: NAMESPACES,
            ns: "",
            name: ctx.param("namespace"),
        });
    }
    let kind = Kind::by_resource(ctx.param("resource"))?;
    (kind.namespaced && kind.group == ctx.param("group") && kind.version == ctx.param("version")).then(|| {
        At {
            kind,
            ns: ctx.param("namespace"),
            name: ctx.param("name"),
        }
    })
}

fn not_found(kind: &Kind, name: &str) -> Reply {
    status(
        404,
        "NotFound",
        &format!("{} \"{name}\" not found", kind.qualified()),
        Some(json!({"name": name, "group": kind.group, "kind": kind.resource})),
    )
}

fn unknown(ctx: &Ctx) -> Reply {
    status(
        404,
        "NotFound",
        &format!(
            "the server could not find the requested resource ({} {})",
            ctx.method, ctx.path
        ),
        None,
    )
}

/// 404 for a write into a namespace that does not exist (nothing, for a cluster-scoped kind).
fn namespace_missing(state: &KubeState, kind: &Kind, ns: &str) -> Option<Reply> {
    (kind.namespaced && !state.has_namespace(ns)).then(|| {
        status(
            404,
            "NotFound",
            &format!("namespaces \"{ns}\" not found"),
            Some(json!({"name": ns, "kind": "namespaces"})),
        )
    })
}

/// 403 for a request the RBAC table denies, worded like the API server.
pub(crate) fn forbidden(state: &KubeState, ctx: &Ctx) -> Option<Reply> {
    let segments: Vec<&str> = ctx.path.trim_matches('/').split('/').collect();
    let (group, rest) = match segments.as_slice() {
        ["api", _version, rest @ ..] => ("", rest),
        ["apis", group, _version, rest @ ..] => (*group, rest),
        _ => return None,
    };
    let (namespace, resource, name) = match rest {
        ["namespaces", ns, resource, tail @ ..] => (Some(*ns), *resource, tail.first().copied()),
        [resource, name] => (None, *resource, Some(*name)),
        [resource] => (None, *resource, None),
        _ => return None,
    };
    let verb = verb(&ctx.method, name.is_some(), is_watch(ctx));
    if !state
        .denied
        .contains(&(verb.to_owned(), group.to_owned(), resource.to_owned()))
    {
        return None;
    }
    let qualified = if group.is_empty() {
        resource.to_owned()
    } else {
        format!("{resource}.{group}")
    };
    let subject = name.map_or_else(|| qualified.clone(), |n| format!("{qualified} \"{n}\""));
    let scope = namespace.map_or_else(
        || "at the cluster scope".to_owned(),
        |ns| format!("in the namespace \"{ns}\""),
    );
    Some(status(
        403,
        "Forbidden",
        &format!(
            "{subject} is forbidden: User \"system:serviceaccount:ci:deployer\" cannot {verb} resource \"{resource}\" in API group \"{group}\" {scope}"
        ),
        Some(json!({"name": name.unwrap_or_default(), "group": group, "kind": resource})),
    ))
}

fn content_type(ctx: &Ctx) -> String {
    ctx.header("content-type")
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The body as JSON, or as YAML for an apply patch.
fn body(ctx: &Ctx) -> Result<Value, Box<Reply>> {
    let text = std::str::from_utf8(&ctx.body)
        .map_err(|_| Box::new(status(400, "BadRequest", "the body is not UTF-8", None)))?;
    let parsed = if content_type(ctx) == "application/apply-patch+yaml" {
        serde_saphyr::from_str::<Value>(text).map_err(|e| e.to_string())
    } else {
        serde_json::from_str::<Value>(text).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| {
        Box::new(status(
            400,
            "BadRequest",
            &format!("error decoding the body: {e}"),
            None,
        ))
    })
}

/// Holds a request to the description as written before any handler runs; an apply patch is
/// held to the schema of the object it applies (the description types it as a bare `Patch`).
pub(crate) fn check_request(ctx: &Ctx) -> Option<Reply> {
    let contract = match contract::vendored() {
        Ok(c) => c,
        Err(e) => {
            return Some(status(
                500,
                "InternalError",
                &format!("the stand-in cannot read its API description: {e}"),
                None,
            ));
        }
    };
    let ty = content_type(ctx);
    let (method, parsed) = match ctx.method {
        Method::POST | Method::PUT => (ctx.method.clone(), body(ctx).ok()),
        Method::PATCH if ty == "application/apply-patch+yaml" => (Method::PUT, body(ctx).ok()),
        _ => (ctx.method.clone(), None),
    };
    if parsed.is_none() && matches!(ctx.method, Method::POST | Method::PUT) {
        return None; // the handler answers what cannot be parsed
    }
    // The API server reads `1` and `0` as booleans too (`?watch=1`); the description types them
    // as booleans only.
    let query: Vec<(String, String)> = ctx
        .query
        .iter()
        .map(|(k, v)| {
            let v = match (k.as_str(), v.as_str()) {
                ("watch" | "allowWatchBookmarks" | "force", "1") => "true".to_owned(),
                ("watch" | "allowWatchBookmarks" | "force", "0") => "false".to_owned(),
                _ => v.clone(),
            };
            (k.clone(), v)
        })
        .collect();
    let found = contract::check_request(&contract, &method, &ctx.path, &query, parsed.as_ref());
    // A path outside the description is the handler's to refuse (404), not a malformed request.
    let found: Vec<_> = found.into_iter().filter(|v| !v.operation.is_empty()).collect();
    if found.is_empty() {
        return None;
    }
    let message = found
        .iter()
        .map(|v| format!("{}: {}", v.location, v.message))
        .collect::<Vec<_>>()
        .join("; ");
    Some(status(
        400,
        "BadRequest",
        &format!("the request does not match the API: {message}"),
        None,
    ))
}

fn list_of(kind: &Kind, state: &KubeState, items: Vec<Value>) -> Reply {
    Reply::json(
        200,
        &json!({
            "kind": format!("{}List", kind.kind),
            "apiVersion": kind.api_version(),
            "metadata": {"resourceVersion": state.rv.to_string()},
            "items": items,
        }),
    )
}

/// The label and field selectors of a list or watch.
struct Selector<'a> {
    labels: Vec<Requirement>,
    fields: Option<&'a str>,
}

impl<'a> Selector<'a> {
    fn of(ctx: &'a Ctx) -> Result<Self, Box<Reply>> {
        let labels = match ctx.query("labelSelector") {
            Some(text) => parse_selector(text).ok_or_else(|| {
                Box::new(status(
                    400,
                    "BadRequest",
                    &format!("unable to parse requirement: `{text}`"),
                    None,
                ))
            })?,
            None => Vec::new(),
        };
        Ok(Self {
            labels,
            fields: ctx.query("fieldSelector"),
        })
    }

    fn matches(&self, object: &Value) -> bool {
        labels_match(&self.labels, &object["metadata"]["labels"])
            && self.fields.is_none_or(|f| fields_match(f, object))
    }
}

fn list(state: &mut KubeState, ctx: &Ctx) -> Reply {
    let Some(At { kind, ns, .. }) = target(ctx) else {
        return unknown(ctx);
    };
    if is_watch(ctx) {
        return watch(state, ctx, kind, ns);
    }
    let selector = match Selector::of(ctx) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let items: Vec<Value> = state
        .list(kind.resource, ns)
        .into_iter()
        .filter(|o| selector.matches(o))
        .collect();
    list_of(&kind, state, items)
}

/// Everything that happened since the `resourceVersion` asked for (all objects as `ADDED` when
/// none or `0`), one JSON event a line; a bookmark when nothing did, so the watch is not empty.
fn watch(state: &KubeState, ctx: &Ctx, kind: Kind, ns: &str) -> Reply {
    let since = ctx
        .query("resourceVersion")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let selector = match Selector::of(ctx) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let line = |ty: &str, object: &Value| json!({"type": ty, "object": object}).to_string();
    let mut lines: Vec<String> = if since == 0 {
        state
            .list(kind.resource, ns)
            .iter()
            .filter(|o| selector.matches(o))
            .map(|o| line("ADDED", o))
            .collect()
    } else {
        state
            .changes
            .iter()
            .filter(|c| c.rv > since && c.resource == kind.resource && c.namespace == ns)
            .filter(|c| selector.matches(&c.object))
            .map(|c| line(c.kind, &c.object))
            .collect()
    };
    if lines.is_empty() && matches!(ctx.query("allowWatchBookmarks"), Some("true" | "1")) {
        lines.push(
            json!({"type": "BOOKMARK", "object": {"kind": kind.kind, "apiVersion": kind.api_version(),
                "metadata": {"resourceVersion": state.rv.to_string()}}})
            .to_string(),
        );
    }
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    Reply::text(200, "application/json", text)
}

fn get(state: &mut KubeState, ctx: &Ctx) -> Reply {
    let Some(At { kind, ns, name }) = target(ctx) else {
        return unknown(ctx);
    };
    state
        .get(kind.resource, ns, name)
        .map_or_else(|| not_found(&kind, name), |o| Reply::json(200, &o))
}

fn subresource(state: &mut KubeState, ctx: &Ctx) -> Reply {
    let Some(At { kind, ns, name }) = target(ctx) else {
        return unknown(ctx);
    };
    let Some(object) = state.get(kind.resource, ns, name) else {
        return not_found(&kind, name);
    };
    match (kind.resource, ctx.param("sub")) {
        ("deployments" | "statefulsets" | "daemonsets", "status") => Reply::json(200, &object),
        ("pods", "log") => {
            let mut lines = state.pod_logs(ns, name);
            if let Some(n) = ctx.query("tailLines").and_then(|n| n.parse::<usize>().ok()) {
                let skip = lines.len().saturating_sub(n);
                lines.drain(..skip);
            }
            let mut text = lines.join("\n");
            if !text.is_empty() {
                text.push('\n');
            }
            Reply::text(200, "text/plain", text)
        }
        _ => unknown(ctx),
    }
}

/// Namespaces the API server never deletes.
const IMMORTAL_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

/// Why `name` is no DNS label (RFC 1123), as the API server words it: what a Namespace's name
/// must be.
fn dns_label_error(name: &str) -> Option<&'static str> {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if name.len() > 63 {
        return Some("must be no more than 63 characters");
    }
    let valid = alnum(name.chars().next())
        && alnum(name.chars().last())
        && name
            .chars()
            .all(|c| c == '-' || c.is_ascii_lowercase() || c.is_ascii_digit());
    (!valid).then_some(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    )
}

/// Admission: what the API server refuses before it stores a write.
fn admit(state: &KubeState, kind: &Kind, name: &str, object: &Value) -> Option<Reply> {
    let invalid = |message: String| {
        status(
            422,
            "Invalid",
            &format!(
                "{}.{} \"{name}\" is invalid: {message}",
                kind.kind,
                if kind.group.is_empty() { "" } else { kind.group }
            )
            .replace(". \"", " \""),
            Some(json!({"name": name, "group": kind.group, "kind": kind.kind})),
        )
    };
    if let Some((_, _, message)) = state
        .rejections
        .iter()
        .find(|(k, n, _)| k == kind.kind && n == name)
    {
        return Some(invalid(message.clone()));
    }
    if kind.kind == NAMESPACES.kind
        && let Some(message) = dns_label_error(name)
    {
        return Some(invalid(format!(
            "metadata.name: Invalid value: {name:?}: {message}"
        )));
    }
    if WORKLOADS.contains(&kind.kind) {
        let selector = selector_of(&object["spec"]["selector"]);
        let labels = &object["spec"]["template"]["metadata"]["labels"];
        if selector.is_empty() {
            return Some(invalid("spec.selector: Required value".to_owned()));
        }
        if !labels_match(&selector, labels) {
            return Some(invalid(format!(
                "spec.template.metadata.labels: Invalid value: {labels}: `selector` does not match template `labels`"
            )));
        }
        if object["spec"]["template"]["spec"]["containers"]
            .as_array()
            .is_none_or(Vec::is_empty)
        {
            return Some(invalid(
                "spec.template.spec.containers: Required value".to_owned(),
            ));
        }
    }
    None
}

fn writable(kind: &Kind, ctx: &Ctx) -> Option<Reply> {
    let served = kind.writable || (ctx.method == http::Method::DELETE && kind.deletable);
    (!served).then(|| {
        status(
            405,
            "MethodNotAllowed",
            &format!(
                "the stand-in keeps {} itself; {} is not served",
                kind.resource, ctx.method
            ),
            None,
        )
    })
}

/// A request option the API server refuses: `(field, cause reason, message)`.
type OptionError = (&'static str, &'static str, String);

/// 422 for invalid request options, worded like the API server (`CreateOptions.meta.k8s.io ""
/// is invalid: dryRun: Unsupported value: …`).
fn invalid_options(options: &str, errors: &[OptionError]) -> Reply {
    let each: Vec<String> = errors
        .iter()
        .map(|(field, _, message)| format!("{field}: {message}"))
        .collect();
    let listed = if each.len() == 1 {
        each[0].clone()
    } else {
        format!("[{}]", each.join(", "))
    };
    let causes: Vec<Value> = errors
        .iter()
        .map(|(field, reason, message)| json!({"reason": reason, "message": message, "field": field}))
        .collect();
    status(
        422,
        "Invalid",
        &format!("{options}.meta.k8s.io \"\" is invalid: {listed}"),
        Some(json!({"name": "", "group": "meta.k8s.io", "kind": options, "causes": causes})),
    )
}

/// `dryRun`: absent, or `All` (every value given must be `All`, the only one the API server
/// knows); anything else is an error of the request's options.
fn dry_run(ctx: &Ctx, errors: &mut Vec<OptionError>) -> bool {
    let values: Vec<&str> = ctx
        .query
        .iter()
        .filter(|(k, _)| k == "dryRun")
        .map(|(_, v)| v.as_str())
        .collect();
    if values.iter().any(|v| *v != "All") {
        let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
        errors.push((
            "dryRun",
            "FieldValueNotSupported",
            format!(
                "Unsupported value: []string{{{}}}: supported values: \"All\"",
                quoted.join(", ")
            ),
        ));
    }
    !values.is_empty()
}

/// Checks the options of a write (`CreateOptions`, `UpdateOptions`, `DeleteOptions`); whether it
/// is a dry run.
fn write_options(ctx: &Ctx, options: &str) -> Result<bool, Box<Reply>> {
    let mut errors = Vec::new();
    let dry = dry_run(ctx, &mut errors);
    if errors.is_empty() {
        Ok(dry)
    } else {
        Err(Box::new(invalid_options(options, &errors)))
    }
}

/// What a write answers: the object as stored, or for a dry run the object as it would have
/// been stored (a new one without a `resourceVersion`, a changed one with its current one), with
/// nothing kept, counted or told to watchers.
fn commit(
    state: &mut KubeState,
    kind: Kind,
    ns: &str,
    name: &str,
    object: Value,
    existing: Option<&Value>,
    dry_run: bool,
) -> Value {
    if dry_run {
        let mut object = object;
        match existing.map(|old| old["metadata"]["resourceVersion"].clone()) {
            Some(rv) => object["metadata"]["resourceVersion"] = rv,
            None => {
                if let Some(meta) = object["metadata"].as_object_mut() {
                    meta.remove("resourceVersion");
                }
            }
        }
        return object;
    }
    if let Some(old) = existing {
        // A write that changes nothing is not written: no new resourceVersion, no watch event.
        let mut same = object.clone();
        same["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
        if same == *old {
            return old.clone();
        }
    }
    let event = if existing.is_some() { "MODIFIED" } else { "ADDED" };
    state.write(kind, ns, name, object, event);
    state.get(kind.resource, ns, name).unwrap_or_default()
}

fn create(state: &mut KubeState, ctx: &Ctx) -> Reply {
    let Some(At { kind, ns, .. }) = target(ctx) else {
        return unknown(ctx);
    };
    if let Some(r) = writable(&kind, ctx) {
        return r;
    }
    let dry_run = match write_options(ctx, "CreateOptions") {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let ns = ns.to_owned();
    if let Some(r) = namespace_missing(state, &kind, &ns) {
        return r;
    }
    let object = match body(ctx) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let Some(name) = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return status(
            422,
            "Invalid",
            &format!(
                "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                kind.kind
            ),
            None,
        );
    };
    if state.get(kind.resource, &ns, &name).is_some() {
        return status(
            409,
            "AlreadyExists",
            &format!("{} \"{name}\" already exists", kind.qualified()),
            Some(json!({"name": name, "group": kind.group, "kind": kind.resource})),
        );
    }
    if let Some(r) = admit(state, &kind, &name, &object) {
        return r;
    }
    let owners = owners_after_update(state, ctx, kind, (&ns, &name), &object, None);
    let stored = finish(state, kind, (&ns, &name), object, None, owners, dry_run);
    Reply::json(201, &stored)
}

fn replace(state: &mut KubeState, ctx: &Ctx) -> Reply {
    let Some(At { kind, ns, name }) = target(ctx) else {
        return unknown(ctx);
    };
    if let Some(r) = writable(&kind, ctx) {
        return r;
    }
    let dry_run = match write_options(ctx, "UpdateOptions") {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let (ns, name) = (ns.to_owned(), name.to_owned());
    let object = match body(ctx) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let Some(existing) = state.get(kind.resource, &ns, &name) else {
        return not_found(&kind, &name);
    };
    let sent_rv = object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str);
    if sent_rv.is_some_and(|rv| Some(rv) != existing["metadata"]["resourceVersion"].as_str()) {
        return conflict(&kind, &name);
    }
    if let Some(r) = admit(state, &kind, &name, &object) {
        return r;
    }
    let owners = owners_after_update(state, ctx, kind, (&ns, &name), &object, Some(&existing));
    let stored = finish(
        state,
        kind,
        (&ns, &name),
        object,
        Some(&existing),
        owners,
        dry_run,
    );
    Reply::json(200, &stored)
}

fn conflict(kind: &Kind, name: &str) -> Reply {
    status(
        409,
        "Conflict",
        &format!(
            "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
            kind.qualified()
        ),
        Some(json!({"name": name, "group": kind.group, "kind": kind.resource})),
    )
}

fn patch(state: &mut KubeState, ctx: &Ctx) -> Reply {
    let Some(At { kind, ns, name }) = target(ctx) else {
        return unknown(ctx);
    };
    if let Some(r) = writable(&kind, ctx) {
        return r;
    }
    let (ns, name) = (ns.to_owned(), name.to_owned());
    let is_apply = content_type(ctx) == "application/apply-patch+yaml";
    // The API server checks the options before it reads the body.
    let mut errors = Vec::new();
    if is_apply && ctx.query("fieldManager").is_none_or(str::is_empty) {
        errors.push((
            "fieldManager",
            "FieldValueRequired",
            "Required value: is required for apply patch".to_owned(),
        ));
    }
    if !is_apply && ctx.query("force").is_some() {
        errors.push((
            "force",
            "FieldValueForbidden",
            "Forbidden: may not be specified for non-apply patch".to_owned(),
        ));
    }
    let dry_run = dry_run(ctx, &mut errors);
    if !errors.is_empty() {
        return invalid_options("PatchOptions", &errors);
    }
    let patch = match body(ctx) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    match content_type(ctx).as_str() {
        "application/apply-patch+yaml" => apply(state, ctx, kind, (&ns, &name), patch, dry_run),
        ty @ ("application/merge-patch+json"
        | "application/strategic-merge-patch+json"
        | "application/json-patch+json") => {
            let Some(existing) = state.get(kind.resource, &ns, &name) else {
                return not_found(&kind, &name);
            };
            let mut object = existing.clone();
            if ty == "application/json-patch+json" {
                if let Err(e) = json_patch(&mut object, &patch) {
                    return status(
                        422,
                        "Invalid",
                        "the server rejected our request due to an error in our request",
                        Some(json!({"causes": [{"reason": "UnexpectedServerResponse", "message": e}]})),
                    );
                }
            } else {
                merge_patch(&mut object, &patch);
            }
            // A patched `resourceVersion` is a precondition, as kubectl's own JSON patches use it.
            if object["metadata"]["resourceVersion"] != existing["metadata"]["resourceVersion"] {
                return conflict(&kind, &name);
            }
            if let Some(r) = admit(state, &kind, &name, &object) {
                return r;
            }
            let owners = owners_after_update(state, ctx, kind, (&ns, &name), &object, Some(&existing));
            let stored = finish(
                state,
                kind,
                (&ns, &name),
                object,
                Some(&existing),
                owners,
                dry_run,
            );
            Reply::json(200, &stored)
        }
        _ => status(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml",
            None,
        ),
    }
}

/// Server-side apply: creates or merges, with field ownership per manager ([`fields`]); a field
/// another manager set to a different value is a conflict unless `force=true`. A dry run
/// answers the same, and keeps neither the object nor the ownership.
fn apply(
    state: &mut KubeState,
    ctx: &Ctx,
    kind: Kind,
    (ns, name): (&str, &str),
    applied: Value,
    dry_run: bool,
) -> Reply {
    let manager = ctx.query("fieldManager").unwrap_or_default().to_owned();
    if let Some(r) = namespace_missing(state, &kind, ns) {
        return r;
    }
    let sent_kind = applied["kind"].as_str().unwrap_or_default();
    let sent_version = applied["apiVersion"].as_str().unwrap_or_default();
    let sent_name = applied
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if sent_kind != kind.kind || sent_version != kind.api_version() || sent_name != name {
        return status(
            400,
            "BadRequest",
            &format!(
                "the applied object (`{sent_version}` `{sent_kind}` \"{sent_name}\") is not the one the URL names (`{}` `{}` \"{name}\")",
                kind.api_version(),
                kind.kind
            ),
            None,
        );
    }
    let key = (kind.resource, ns.to_owned(), name.to_owned());
    let existing = state.get(kind.resource, ns, name);
    let owners = state.managers.get(&key).cloned().unwrap_or_default();
    let mut applied = applied;
    if WORKLOADS.contains(&kind.kind) && applied["spec"]["template"].is_object() {
        container_defaults(&mut applied["spec"]["template"]);
    }
    let force = matches!(ctx.query("force"), Some("true" | "1"));
    let time = state.clock.now_rfc3339();
    let (mut object, owners) =
        match fields::apply(existing.as_ref(), &owners, &manager, &applied, force, &time) {
            Ok(done) => done,
            Err(conflicts) => {
                let (message, causes) = fields::conflict_status(&conflicts, &kind.api_version());
                return status(409, "Conflict", &message, Some(json!({"causes": causes})));
            }
        };
    object["metadata"]["name"] = json!(name);
    if let Some(r) = admit(state, &kind, name, &object) {
        return r;
    }
    let code = if existing.is_some() { 200 } else { 201 };
    let stored = finish(
        state,
        kind,
        (ns, name),
        object,
        existing.as_ref(),
        owners,
        dry_run,
    );
    Reply::json(code, &stored)
}

/// The manager of a plain write: its `fieldManager`, or the first part of its `User-Agent`, as
/// the API server names it.
fn update_manager(ctx: &Ctx) -> String {
    match ctx.query("fieldManager").filter(|m| !m.is_empty()) {
        Some(m) => m.to_owned(),
        None => ctx
            .header("user-agent")
            .unwrap_or_default()
            .split('/')
            .next()
            .unwrap_or_default()
            .chars()
            .take(128)
            .collect(),
    }
}

/// Ownership after a plain write (create, PUT, patch) of `object` over `existing`. A write that
/// sets `managedFields` (to anything but nothing or an empty list) sets the ownership it starts
/// from, as kubectl does when it moves a client-side apply's fields to server-side apply.
fn owners_after_update(
    state: &KubeState,
    ctx: &Ctx,
    kind: Kind,
    (ns, name): (&str, &str),
    object: &Value,
    existing: Option<&Value>,
) -> Owners {
    let key = (kind.resource, ns.to_owned(), name.to_owned());
    let current = state.managers.get(&key).cloned().unwrap_or_default();
    let sent = &object["metadata"]["managedFields"];
    let stored = existing.map(|e| &e["metadata"]["managedFields"]);
    let owners = match sent.as_array().filter(|entries| !entries.is_empty()) {
        Some(entries) if stored != Some(sent) => fields::parse_managed_fields(entries),
        _ => current,
    };
    // Compared as it will be stored, defaults filled.
    let mut object = object.clone();
    defaults(kind.kind, &mut object);
    fields::update(
        existing,
        &object,
        &owners,
        &update_manager(ctx),
        &state.clock.now_rfc3339(),
    )
}

/// Stamps a write with what the server sets and its `managedFields`, and stores it (or, for a
/// dry run, only shows it).
fn finish(
    state: &mut KubeState,
    kind: Kind,
    (ns, name): (&str, &str),
    mut object: Value,
    existing: Option<&Value>,
    owners: Owners,
    dry_run: bool,
) -> Value {
    if owners.is_empty() {
        if let Some(meta) = object["metadata"].as_object_mut() {
            meta.remove("managedFields");
        }
    } else {
        object["metadata"]["managedFields"] = fields::managed_fields(&owners, &kind.api_version());
    }
    let object = state.stamp_as(kind, ns, object, existing, dry_run);
    if !dry_run {
        let key = (kind.resource, ns.to_owned(), name.to_owned());
        if owners.is_empty() {
            state.managers.remove(&key);
        } else {
            state.managers.insert(key, owners);
        }
    }
    commit(state, kind, ns, name, object, existing, dry_run)
}

fn delete(state: &mut KubeState, ctx: &Ctx) -> Reply {
    let Some(At { kind, ns, name }) = target(ctx) else {
        return unknown(ctx);
    };
    if let Some(r) = writable(&kind, ctx) {
        return r;
    }
    let dry_run = match write_options(ctx, "DeleteOptions") {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let (ns, name) = (ns.to_owned(), name.to_owned());
    if kind.kind == NAMESPACES.kind && IMMORTAL_NAMESPACES.contains(&name.as_str()) {
        // The `NamespaceLifecycle` admission plugin's refusal.
        return status(
            403,
            "Forbidden",
            &format!("namespaces \"{name}\" is forbidden: this namespace may not be deleted"),
            Some(json!({"name": name, "kind": "namespaces"})),
        );
    }
    let removed = if dry_run {
        state.get(kind.resource, &ns, &name)
    } else {
        if kind.kind == NAMESPACES.kind && state.has_namespace(&name) {
            // What the namespace controller does while the namespace is `Terminating`, done
            // at once, before the Namespace itself goes.
            state.empty_namespace(&name);
        }
        state.remove(kind, &ns, &name)
    };
    let Some(object) = removed else {
        return not_found(&kind, &name);
    };
    if dry_run || !kind.namespaced {
        // Nothing goes, or it went already.
    } else if kind.kind == "Pod" {
        state.pods.remove(&(ns.clone(), name.clone()));
    } else {
        // Background cascading deletion, done at once: what the object owns, and what that owns.
        let mut owners = vec![object["metadata"]["uid"].clone()];
        while let Some(uid) = owners.pop() {
            for resource in ["replicasets", "pods"] {
                for dependent in state.owned(resource, &ns, &uid) {
                    let dependent_name = dependent["metadata"]["name"].as_str().unwrap_or_default();
                    if let Some(k) = Kind::by_resource(resource) {
                        state.remove(k, &ns, dependent_name);
                    }
                    state.pods.remove(&(ns.clone(), dependent_name.to_owned()));
                    owners.push(dependent["metadata"]["uid"].clone());
                }
            }
        }
        state.progress.remove(&(ns.clone(), name.clone()));
    }
    if kind.kind == "Pod" {
        // A pod answers itself, as being deleted (here it is gone at once, without its grace period).
        let mut pod = object;
        let grace = pod["spec"]["terminationGracePeriodSeconds"]
            .as_i64()
            .unwrap_or(30);
        pod["metadata"]["deletionTimestamp"] = json!(crate::sim::rfc3339(state.clock.now() + grace));
        pod["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
        return Reply::json(200, &pod);
    }
    Reply::json(
        200,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": {"name": name, "group": kind.group, "kind": kind.resource, "uid": object["metadata"]["uid"]}}),
    )
}

/// `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`, answered from the RBAC table.
fn cluster_create(state: &mut KubeState, ctx: &Ctx) -> Reply {
    if (ctx.param("group"), ctx.param("version"), ctx.param("resource"))
        != ("authorization.k8s.io", "v1", "selfsubjectaccessreviews")
    {
        return unknown(ctx);
    }
    let mut review = match body(ctx) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let attrs = &review["spec"]["resourceAttributes"];
    let field = |k: &str| attrs[k].as_str().unwrap_or_default().to_owned();
    let denied = state
        .denied
        .contains(&(field("verb"), field("group"), field("resource")));
    review["status"] = if denied {
        json!({"allowed": false, "reason": "no RBAC policy matched"})
    } else {
        json!({"allowed": true, "reason": "RBAC: allowed by the stand-in's table"})
    };
    review["kind"] = json!("SelfSubjectAccessReview");
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    if !review["metadata"].is_object() {
        review["metadata"] = json!({});
    }
    Reply::json(201, &review)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespace_name_is_a_dns_label() {
        let (longest, too_long) = ("a".repeat(63), "a".repeat(64));
        let cases = [
            ("shop", true),
            ("web-1", true),
            ("1web", true),
            ("a", true),
            (longest.as_str(), true),
            ("Shop", false),
            ("-shop", false),
            ("shop-", false),
            ("shop.prod", false),
            ("shop_1", false),
            ("", false),
        ];
        for (name, valid) in cases {
            assert_eq!(dns_label_error(name).is_none(), valid, "{name:?}");
        }
        assert_eq!(
            dns_label_error(&too_long),
            Some("must be no more than 63 characters")
        );
    }
}
