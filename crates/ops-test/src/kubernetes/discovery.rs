//! Discovery as clients such as kubectl walk it: `/version`, `/api`, `/apis`, one resource list
//! per group version, and the OpenAPI v3 index and documents (the vendored description, cut per
//! group version) that kubectl reads to learn that the server validates fields itself.

use std::sync::OnceLock;

use http::Method;
use serde_json::{Map, Value, json};

use super::store::KINDS;
use super::{KubeState, contract, status};
use crate::sim::{Ctx, Reply, Route};

/// Group versions served, as `(group, version)`; `""` is core.
const GROUP_VERSIONS: [(&str, &str); 4] = [
    ("", "v1"),
    ("apps", "v1"),
    ("coordination.k8s.io", "v1"),
    ("authorization.k8s.io", "v1"),
];

pub(crate) fn routes() -> Vec<Route<KubeState>> {
    vec![
        Route::new(Method::GET, "/version", version),
        Route::new(Method::GET, "/api", api),
        Route::new(Method::GET, "/apis", apis),
        Route::new(Method::GET, "/api/{version}", resources),
        Route::new(Method::GET, "/apis/{group}/{version}", resources),
        Route::new(Method::GET, "/openapi/v3", openapi_index),
        Route::new(Method::GET, "/openapi/v3/api/{version}", openapi_document),
        Route::new(
            Method::GET,
            "/openapi/v3/apis/{group}/{version}",
            openapi_document,
        ),
    ]
}

fn version(_: &mut KubeState, _: &Ctx) -> Reply {
    Reply::json(
        200,
        &json!({"major": "1", "minor": "32", "gitVersion": "v1.32.0-ops-sim", "gitCommit": "",
            "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.0",
            "compiler": "gc", "platform": "linux/amd64"}),
    )
}

fn api(_: &mut KubeState, ctx: &Ctx) -> Reply {
    let host = ctx.header("host").unwrap_or("127.0.0.1");
    Reply::json(
        200,
        &json!({"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}]}),
    )
}

fn apis(_: &mut KubeState, _: &Ctx) -> Reply {
    let groups: Vec<Value> = GROUP_VERSIONS
        .iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, v)| {
            let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
            json!({"name": g, "versions": [gv], "preferredVersion": gv})
        })
        .collect();
    Reply::json(
        200,
        &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
    )
}

fn resources(_: &mut KubeState, ctx: &Ctx) -> Reply {
    let (group, version) = (ctx.param("group"), ctx.param("version"));
    if !GROUP_VERSIONS.contains(&(group, version)) {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource",
            None,
        );
    }
    let all_verbs = [
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ];
    // No `deletecollection` for namespaces, as on a real cluster.
    let cluster_verbs = ["create", "delete", "get", "list", "patch", "update", "watch"];
    let read_verbs = ["get", "list", "watch"];
    let deletable_verbs = ["delete", "get", "list", "watch"];
    let mut list: Vec<Value> = KINDS
        .iter()
        .filter(|k| k.group == group && k.version == version)
        .map(|k| {
            let verbs = match (k.writable, k.deletable, k.namespaced) {
                (true, _, true) => &all_verbs[..],
                (true, _, false) => &cluster_verbs[..],
                (false, true, _) => &deletable_verbs[..],
                (false, false, _) => &read_verbs[..],
            };
            json!({"name": k.resource, "singularName": k.singular, "namespaced": k.namespaced,
                "kind": k.kind, "verbs": verbs, "shortNames": k.short})
        })
        .collect();
    match group {
        "" => {
            list.push(json!({"name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]}));
        }
        "apps" => {
            for (resource, kind) in [
                ("deployments", "Deployment"),
                ("statefulsets", "StatefulSet"),
                ("daemonsets", "DaemonSet"),
            ] {
                list.push(json!({"name": format!("{resource}/status"), "singularName": "",
                    "namespaced": true, "kind": kind, "verbs": ["get"]}));
            }
        }
        "authorization.k8s.io" => list.push(json!({"name": "selfsubjectaccessreviews",
            "singularName": "selfsubjectaccessreview", "namespaced": false, "kind": "SelfSubjectAccessReview", "verbs": ["create"]})),
        _ => {}
    }
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Reply::json(
        200,
        &json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": list}),
    )
}

fn prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn openapi_index(_: &mut KubeState, _: &Ctx) -> Reply {
    let paths: Map<String, Value> = GROUP_VERSIONS
        .iter()
        .map(|(g, v)| {
            let p = prefix(g, v);
            (
                p.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash=5EED0001")}),
            )
        })
        .collect();
    Reply::json(200, &json!({"paths": paths}))
}

/// The vendored description as served (gaps filled), read once.
fn description() -> Option<&'static Value> {
    static DOC: OnceLock<Option<Value>> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = crate::sim::contract::read_document(&contract::subset_path()).ok()?;
        contract::fill_gaps(&mut doc);
        Some(doc)
    })
    .as_ref()
}

fn openapi_document(_: &mut KubeState, ctx: &Ctx) -> Reply {
    let (group, version) = (ctx.param("group"), ctx.param("version"));
    let Some(doc) = description().filter(|_| GROUP_VERSIONS.contains(&(group, version))) else {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource",
            None,
        );
    };
    let start = format!("/{}/", prefix(group, version));
    let paths: Map<String, Value> = doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(p, _)| p.starts_with(&start))
        .map(|(p, v)| (p.clone(), v.clone()))
        .collect();
    Reply::json(
        200,
        &json!({"openapi": "3.0.0", "info": doc["info"], "paths": paths, "components": doc["components"]}),
    )
}
