//! The Kubernetes API description the stand-in holds its exchanges to: `specs/kubernetes.subset.json`
//! (see `specs/regen-kubernetes` and `specs/kubernetes.provenance.json`), with three gaps of the
//! description filled when it is loaded, so that no check refuses what a real API server takes:
//!
//! - `IntOrString` is described as a string, but `maxSurge: 1` or `targetPort: 8080` are numbers on
//!   the wire (the description says so in prose, and its `format` is `int-or-string`);
//! - `Quantity` likewise (`cpu: 1`);
//! - no operation documents its error answers, which are `Status` objects with 4xx/5xx codes; every
//!   operation gets a `default` response of that schema.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::{Value, json};

use crate::sim::contract::read_document;
use crate::sim::{Contract, Violation};

/// Path of the vendored, trimmed description.
#[must_use]
pub fn subset_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("specs")
        .join("kubernetes.subset.json")
}

/// Fills the gaps listed in this module's documentation.
pub fn fill_gaps(doc: &mut Value) {
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        let int_or_string = json!({"anyOf": [{"type": "integer"}, {"type": "string"}]});
        let quantity = json!({"anyOf": [{"type": "number"}, {"type": "string"}]});
        for (name, replacement) in [
            ("io.k8s.apimachinery.pkg.util.intstr.IntOrString", int_or_string),
            ("io.k8s.apimachinery.pkg.api.resource.Quantity", quantity),
        ] {
            if let Some(schema) = schemas.get_mut(name) {
                *schema = replacement;
            }
        }
    }
    let status = json!({"description": "an error, as a `Status`", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status"}}}});
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in item.values_mut() {
                if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                    responses.entry("default").or_insert_with(|| status.clone());
                }
            }
        }
    }
}

/// The description, loaded once per process.
///
/// # Errors
/// When the vendored file is missing or broken (a message naming it).
pub fn vendored() -> Result<Arc<Contract>, String> {
    static CELL: OnceLock<Result<Arc<Contract>, String>> = OnceLock::new();
    CELL.get_or_init(|| {
        let path = subset_path();
        let mut doc = read_document(&path).map_err(|e| e.to_string())?;
        if !doc.pointer("/components/schemas").is_some_and(Value::is_object) {
            return Err(format!("`{}` has no component schemas", path.display()));
        }
        fill_gaps(&mut doc);
        Contract::from_openapi(&doc)
            .map(Arc::new)
            .map_err(|e| format!("`{}`: {e}", path.display()))
    })
    .clone()
}

fn json_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers
}

/// Checks a request whose body is already JSON (a YAML apply patch converted by the caller) as
/// written: required fields, types, enums; unknown fields pass, as the API server's default field
/// validation lets them through with a warning.
#[must_use]
pub fn check_request(
    contract: &Contract,
    method: &Method,
    path: &str,
    query: &[(String, String)],
    body: Option<&Value>,
) -> Vec<Violation> {
    let body = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
    contract.check_request_as_written(method, path, query, &json_headers(), &body)
}

/// Checks an answer (status documented, JSON body of the documented schema).
#[must_use]
pub fn check_response(
    contract: &Contract,
    method: &Method,
    path: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &Bytes,
) -> Vec<Violation> {
    contract.check_response(method, path, status, headers, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subset_loads_and_serves_every_listed_operation() {
        let contract = vendored().unwrap();
        let listed = std::fs::read_to_string(subset_path().with_file_name("kubernetes.operations")).unwrap();
        let described: Vec<&str> = contract.operations().map(|(_, _, id)| id).collect();
        for id in listed
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            assert!(described.contains(&id), "`{id}` is listed but not described");
        }
    }

    #[test]
    fn int_or_string_and_quantity_take_numbers_as_the_api_server_does() {
        let contract = vendored().unwrap();
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                    {"name": "web", "image": "nginx", "resources": {"limits": {"cpu": 1, "memory": "64Mi"}}}]}}}});
        let path = "/apis/apps/v1/namespaces/default/deployments/web";
        let found = check_request(&contract, &Method::PUT, path, &[], Some(&deployment));
        assert!(found.is_empty(), "{found:?}");
        let mut wrong = deployment;
        wrong["spec"]["replicas"] = json!("two");
        let found = check_request(&contract, &Method::PUT, path, &[], Some(&wrong));
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn errors_are_documented_as_status() {
        let contract = vendored().unwrap();
        let body = Bytes::from(
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "deployments.apps \"x\" not found", "reason": "NotFound", "code": 404})
            .to_string(),
        );
        let path = "/apis/apps/v1/namespaces/default/deployments/x";
        let ok = check_response(
            &contract,
            &Method::GET,
            path,
            StatusCode::NOT_FOUND,
            &json_headers(),
            &body,
        );
        assert!(ok.is_empty(), "{ok:?}");
        let bad = Bytes::from(json!({"code": "404"}).to_string());
        let found = check_response(
            &contract,
            &Method::GET,
            path,
            StatusCode::NOT_FOUND,
            &json_headers(),
            &bad,
        );
        assert!(!found.is_empty());
    }
}
