//! The app spec as DigitalOcean's description types it: the stand-in holds every request to it
//! ([`check`]), and clients that type a spec themselves can compare their table with
//! [`app_spec_fields`].
//!
//! The description leaves out fields that App Platform takes (godo's `AppSpec` and component specs
//! have them, and App Platform's spec reference documents them): the app-level `envs`, `alerts` and
//! `features`, and the `alerts` of services, workers and jobs. [`fill_gaps`] adds them, so that the
//! checks neither refuse an app-level `envs` nor let an app-level env value through untyped.

use serde_json::{Map, Value, json};

use super::error;
use crate::sim::contract::read_document;
use crate::sim::{Contract, Ctx, Reply, Spec, Violation};

/// Adds the app-level `envs`, `alerts` and `features` to `app_spec`, and `alerts` to services,
/// workers and jobs, unless the description has them already.
pub(crate) fn fill_gaps(doc: &mut Value) {
    let Some(props) = doc
        .pointer_mut("/components/schemas/app_spec/properties")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let gaps = [
        (
            "envs",
            json!({"type": "array", "description": "A list of environment variables made available to all components in the app.",
                "items": {"$ref": "#/components/schemas/app_variable_definition"}}),
        ),
        (
            "alerts",
            json!({"type": "array", "description": "A list of alerts which apply to the app.",
                "items": {"$ref": "#/components/schemas/app_alert_spec"}}),
        ),
        ("features", json!({"type": "array", "items": {"type": "string"}})),
    ];
    for (name, schema) in gaps {
        props.entry(name).or_insert(schema);
    }
    // Services, workers and jobs take `alerts` too (functions have them in the description).
    for kind in ["app_service_spec", "app_worker_spec", "app_job_spec"] {
        let Some(branches) = doc
            .pointer_mut(&format!("/components/schemas/{kind}/allOf"))
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        let described = branches.iter().any(|b| b.pointer("/properties/alerts").is_some());
        if !described {
            branches.push(json!({"properties": {"alerts": {"type": "array",
                "description": "A list of configured alerts which apply to the component.",
                "items": {"$ref": "#/components/schemas/app_alert_spec"}}}}));
        }
    }
}

/// Checks a request against the vendored description as written (unknown fields pass; types,
/// enums, patterns, bounds and required fields do not), as App Platform does before it acts. A
/// refusal is a 400 worded like App Platform's: `error validating app spec field "services.name": …`.
pub(crate) fn check(ctx: &Ctx) -> Option<Reply> {
    let contract = match Contract::vendored(Spec::DigitalOcean) {
        Ok(contract) => contract,
        Err(e) => {
            return Some(error(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                &format!("the stand-in cannot read its API description: {e}"),
            ));
        }
    };
    let found =
        contract.check_request_as_written(&ctx.method, &ctx.path, &ctx.query, &ctx.headers, &ctx.body);
    if found.is_empty() {
        return None;
    }
    let message = found.iter().map(describe).collect::<Vec<_>>().join("; ");
    Some(error(http::StatusCode::BAD_REQUEST, &message))
}

/// `error validating app spec field "services.envs.value": 7 is not of type "string"` for a body
/// field under `spec`, the location and message otherwise.
fn describe(v: &Violation) -> String {
    if let Some(rest) = v.message.strip_prefix("at `/spec/")
        && let Some((pointer, what)) = rest.split_once("`: ")
    {
        let field: Vec<&str> = pointer
            .split('/')
            .filter(|s| !s.is_empty() && !s.bytes().all(|b| b.is_ascii_digit()))
            .collect();
        return format!("error validating app spec field \"{}\": {what}", field.join("."));
    }
    format!("invalid request: {}: {}", v.location, v.message)
}

/// Every scalar field of an app spec with the type the (gap-filled) vendored description gives it:
/// `("services[].instance_count", "integer")`, `("services[].envs[].value", "string")`, … Lists are
/// `[]`; a field reached through several compositions is listed once.
///
/// # Errors
/// When the vendored description cannot be read.
pub fn app_spec_fields() -> Result<Vec<(String, String)>, String> {
    let path = Spec::DigitalOcean.subset_path();
    let mut doc = read_document(&path).map_err(|e| e.to_string())?;
    fill_gaps(&mut doc);
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    walk(
        &schemas,
        &json!({"$ref": "#/components/schemas/app_spec"}),
        "",
        &mut Vec::new(),
        &mut out,
    );
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(
    schemas: &Map<String, Value>,
    schema: &Value,
    path: &str,
    stack: &mut Vec<String>,
    out: &mut Vec<(String, String)>,
) {
    if let Some(name) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        if stack.iter().any(|s| s == name) {
            return;
        }
        let Some(target) = schemas.get(name) else { return };
        stack.push(name.to_owned());
        walk(schemas, target, path, stack, out);
        stack.pop();
        return;
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for branch in schema.get(key).and_then(Value::as_array).into_iter().flatten() {
            walk(schemas, branch, path, stack, out);
        }
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => {
            if let Some(items) = schema.get("items") {
                walk(schemas, items, &format!("{path}[]"), stack, out);
            }
        }
        Some(kind @ ("string" | "integer" | "number" | "boolean")) => {
            out.push((path.to_owned(), kind.to_owned()))
        }
        _ => {
            for (name, sub) in schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let sub_path = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                walk(schemas, sub, &sub_path, stack, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_read_like_app_platforms() {
        let v = |location: &str, message: &str| Violation {
            seq: None,
            exchange: String::new(),
            operation: "apps_create".into(),
            location: location.into(),
            message: message.into(),
        };
        assert_eq!(
            describe(&v(
                "request.body",
                "at `/spec/services/0/envs/1/value`: 7 is not of type \"string\""
            )),
            "error validating app spec field \"services.envs.value\": 7 is not of type \"string\""
        );
        assert_eq!(
            describe(&v(
                "request.query.per_page",
                "500 is greater than the maximum of 200"
            )),
            "invalid request: request.query.per_page: 500 is greater than the maximum of 200"
        );
    }

    #[test]
    fn the_fields_include_the_gaps_and_type_env_values_as_strings() {
        let fields = app_spec_fields().unwrap();
        let kind = |path: &str| fields.iter().find(|(p, _)| p == path).map(|(_, k)| k.as_str());
        assert_eq!(kind("services[].envs[].value"), Some("string"));
        assert_eq!(kind("envs[].value"), Some("string"));
        assert_eq!(kind("alerts[].value"), Some("number"));
        assert_eq!(kind("features[]"), Some("string"));
        assert_eq!(kind("workers[].alerts[].value"), Some("number"));
        assert_eq!(kind("services[].image.tag"), Some("string"));
        assert_eq!(kind("services[].instance_count"), Some("integer"));
        assert_eq!(kind("databases[].production"), Some("boolean"));
    }
}
