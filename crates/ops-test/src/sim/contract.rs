//! Contract checks: requests and responses validated against an official OpenAPI 3.0
//! description, in Rust, with the `jsonschema` crate.
//!
//! This is the second half of the contract tests; the first is Prism ([`super::prism`]) in front
//! of a stand-in. Prism misses two things that matter to us:
//!
//! - it skips bodies whose schema has `nullable: true` without a `type` (several GitHub request
//!   bodies): here OAS 3.0 `nullable` becomes a JSON Schema type array or an `anyOf` with `null`;
//! - it accepts unknown fields, so a misspelt `force_rebuild` passes: here every request object
//!   schema gets `additionalProperties: false` (unless it says otherwise), with the properties
//!   of its `allOf`/`anyOf`/`oneOf` branches counted as known.
//!
//! Responses are checked leniently (unknown fields allowed, as the real APIs add fields all the
//! time) but completely otherwise: documented status, required fields, types, enums, formats.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use jsonschema::Validator;
use serde_json::{Map, Value, json};

use super::record::Exchange;

/// What a stand-in does when an exchange breaks the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractMode {
    /// Record the violation ([`crate::sim::Sim::violations`]) and answer as usual. Use this
    /// behind Prism, so Prism's own verdict is visible too.
    Observe,
    /// Record it and answer 422 (request) or 500 (response) instead, like Prism's `--errors`.
    Enforce,
}

/// One way an exchange breaks the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Position of the exchange in the stand-in's record, when it came from one.
    pub seq: Option<usize>,
    /// `"POST /v2/apps/…/deployments"`.
    pub exchange: String,
    /// The description's `operationId`, empty when no operation matched.
    pub operation: String,
    /// Where: `request.body`, `request.query.per_page`, `response.status`, `response.body`…
    pub location: String,
    /// What is wrong, with the JSON pointer into the body when there is one.
    pub message: String,
}

impl Violation {
    pub(crate) fn at(mut self, seq: usize, method: &Method, path: &str) -> Self {
        self.seq = Some(seq);
        self.exchange = format!("{method} {path}");
        self
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}: {}",
            self.exchange, self.operation, self.location, self.message
        )
    }
}

/// A description could not be read or understood.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// The file is missing or unreadable.
    #[error("cannot read API description `{path}`: {source}\nhint: {hint}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
        /// What to do about it.
        hint: String,
    },
    /// The file is not JSON/YAML or not OpenAPI 3.
    #[error("`{path}` is not an OpenAPI 3 description: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// The vendored, trimmed descriptions (see `specs/README` in this crate and its `regen` script).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    /// `specs/github.subset.json`, from npm `@octokit/openapi`.
    Github,
    /// `specs/digitalocean.subset.json`, from `digitalocean/openapi`.
    DigitalOcean,
}

impl Spec {
    /// Path of the vendored subset.
    #[must_use]
    pub fn subset_path(self) -> PathBuf {
        let file = match self {
            Self::Github => "github.subset.json",
            Self::DigitalOcean => "digitalocean.subset.json",
        };
        Path::new(env!("CARGO_MANIFEST_DIR")).join("specs").join(file)
    }

    /// Adds what the real API takes but its description leaves out, so that no check refuses a
    /// request the API accepts. DigitalOcean's app spec has app-level `envs`, `alerts` and
    /// `features`, and services, workers and jobs have `alerts` (godo's spec types carry them, App
    /// Platform's spec reference documents them), which its OpenAPI description omits. [`Contract::vendored`] applies this; [`Contract::load`]
    /// reads a file as it is.
    pub fn fill_gaps(self, doc: &mut Value) {
        match self {
            Self::Github => {}
            Self::DigitalOcean => crate::digitalocean::fill_gaps(doc),
        }
    }

    /// Path of the list of operation ids the subset keeps.
    #[must_use]
    pub fn operations_path(self) -> PathBuf {
        let file = match self {
            Self::Github => "github.operations",
            Self::DigitalOcean => "digitalocean.operations",
        };
        Path::new(env!("CARGO_MANIFEST_DIR")).join("specs").join(file)
    }
}

#[derive(Debug)]
struct Param {
    name: String,
    location: String,
    required: bool,
    schema: Value,
}

#[derive(Debug)]
struct Operation {
    method: Method,
    template: String,
    literal_segments: usize,
    id: String,
    params: Vec<Param>,
    /// Request body schema (JSON) and whether a body is required.
    body: Option<(Value, bool)>,
    /// Status key (`"200"`, `"4XX"`, `"default"`) → JSON schema of the body, if documented.
    responses: Vec<(String, Option<Value>)>,
}

/// An OpenAPI description, ready to check exchanges.
pub struct Contract {
    operations: Vec<Operation>,
    /// Component schemas with `nullable` converted, as a JSON Schema resource root.
    components: Value,
    validators: Mutex<HashMap<String, Arc<Result<Validator, String>>>>,
}

impl fmt::Debug for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contract")
            .field("operations", &self.operations.len())
            .finish_non_exhaustive()
    }
}

impl Contract {
    /// The vendored subset for `spec`, loaded once per process.
    ///
    /// # Errors
    /// When the vendored file is missing or broken.
    pub fn vendored(spec: Spec) -> Result<Arc<Self>, Arc<ContractError>> {
        static GITHUB: OnceLock<Result<Arc<Contract>, Arc<ContractError>>> = OnceLock::new();
        static DO: OnceLock<Result<Arc<Contract>, Arc<ContractError>>> = OnceLock::new();
        let cell = match spec {
            Spec::Github => &GITHUB,
            Spec::DigitalOcean => &DO,
        };
        cell.get_or_init(|| {
            let path = spec.subset_path();
            let mut doc = read_document(&path)?;
            spec.fill_gaps(&mut doc);
            Self::from_openapi(&doc)
                .map(Arc::new)
                .map_err(|message| Arc::new(ContractError::Parse { path, message }))
        })
        .clone()
    }

    /// Loads a description from a JSON or YAML file, as it is (without [`Spec::fill_gaps`]).
    ///
    /// # Errors
    /// When the file cannot be read or is not an OpenAPI 3 description.
    pub fn load(path: &Path) -> Result<Self, ContractError> {
        let doc = read_document(path)?;
        Self::from_openapi(&doc).map_err(|message| ContractError::Parse {
            path: path.to_owned(),
            message,
        })
    }

    /// Builds a contract from a parsed OpenAPI 3 document.
    ///
    /// # Errors
    /// When the document has no `paths`.
    pub fn from_openapi(doc: &Value) -> Result<Self, String> {
        let paths = doc
            .get("paths")
            .and_then(Value::as_object)
            .ok_or("no `paths` object")?;
        let raw_components = doc.get("components").cloned().unwrap_or_else(|| json!({}));
        let mut operations = Vec::new();
        for (template, item) in paths {
            let shared_params = item
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (method, op) in item.as_object().into_iter().flatten() {
                let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                    continue;
                };
                if !op.is_object() || method == Method::OPTIONS && op.get("responses").is_none() {
                    continue;
                }
                operations.push(operation(&raw_components, template, method, op, &shared_params));
            }
        }
        let mut schemas = raw_components
            .get("schemas")
            .cloned()
            .unwrap_or_else(|| json!({}));
        if let Some(map) = schemas.as_object_mut() {
            for schema in map.values_mut() {
                *schema = convert(schema);
            }
        }
        Ok(Self {
            operations,
            components: json!({ "schemas": schemas }),
            validators: Mutex::new(HashMap::new()),
        })
    }

    /// `(method, path template, operationId)` of every operation described.
    pub fn operations(&self) -> impl Iterator<Item = (&Method, &str, &str)> {
        self.operations
            .iter()
            .map(|o| (&o.method, o.template.as_str(), o.id.as_str()))
    }

    /// The `operationId` serving `method` and `path`, if any.
    #[must_use]
    pub fn operation_id(&self, method: &Method, path: &str) -> Option<&str> {
        self.find(method, path).map(|(op, _)| op.id.as_str())
    }

    fn find(&self, method: &Method, path: &str) -> Option<(&Operation, Vec<(String, String)>)> {
        self.operations
            .iter()
            .filter(|op| op.method == *method)
            .filter_map(|op| super::fault::path_params(&op.template, path).map(|p| (op, p)))
            // `/v2/apps/propose` wins over `/v2/apps/{id}`.
            .max_by_key(|(op, _)| op.literal_segments)
    }

    /// Checks a recorded exchange, request and response.
    #[must_use]
    pub fn check(&self, exchange: &Exchange) -> Vec<Violation> {
        let (method, path) = (&exchange.method, exchange.path.as_str());
        let mut found = self.check_request(
            method,
            path,
            &exchange.query,
            &exchange.request_headers,
            &exchange.request_body,
        );
        found.extend(self.check_response(
            method,
            path,
            exchange.status,
            &exchange.response_headers,
            &exchange.response_body,
        ));
        found
            .into_iter()
            .map(|v| v.at(exchange.seq, method, path))
            .collect()
    }

    /// Checks a request: the operation exists, path and query parameters (required, known,
    /// typed), and the JSON body against the strict request schema.
    #[must_use]
    pub fn check_request(
        &self,
        method: &Method,
        path: &str,
        query: &[(String, String)],
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Vec<Violation> {
        self.request(method, path, query, headers, body, true)
    }

    /// Checks a request against the description as written: what [`Contract::check_request`]
    /// checks, except that unknown body fields and query parameters pass (the real APIs ignore or
    /// add fields the descriptions do not list). What this refuses, the real API refuses too: a
    /// missing required field, a wrong type (a number where a string is described), a value outside
    /// an enum, a pattern or a bound. A stand-in runs it on every request, Prism or not.
    #[must_use]
    pub fn check_request_as_written(
        &self,
        method: &Method,
        path: &str,
        query: &[(String, String)],
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Vec<Violation> {
        self.request(method, path, query, headers, body, false)
    }

    fn request(
        &self,
        method: &Method,
        path: &str,
        query: &[(String, String)],
        headers: &HeaderMap,
        body: &Bytes,
        closed: bool,
    ) -> Vec<Violation> {
        let Some((op, path_values)) = self.find(method, path) else {
            return vec![violation(
                "",
                "request",
                format!("no operation for `{method} {path}` in the description"),
            )];
        };
        let mut found = Vec::new();
        if closed {
            for (name, _) in query {
                if !op.params.iter().any(|p| p.location == "query" && p.name == *name) {
                    found.push(violation(
                        &op.id,
                        &format!("request.query.{name}"),
                        "unknown query parameter".to_owned(),
                    ));
                }
            }
        }
        for param in &op.params {
            let values: Vec<&str> = match param.location.as_str() {
                "query" => query
                    .iter()
                    .filter(|(k, _)| *k == param.name)
                    .map(|(_, v)| v.as_str())
                    .collect(),
                "path" => path_values
                    .iter()
                    .filter(|(k, _)| *k == param.name)
                    .map(|(_, v)| v.as_str())
                    .collect(),
                _ => continue,
            };
            let location = format!("request.{}.{}", param.location, param.name);
            if values.is_empty() {
                if param.required {
                    found.push(violation(
                        &op.id,
                        &location,
                        "required parameter is missing".to_owned(),
                    ));
                }
                continue;
            }
            let value = coerce(&param.schema, &values);
            let key = format!("{}|param|{}|{}", op.id, param.location, param.name);
            found.extend(self.validate(
                &key,
                || self.root(convert(&param.schema)),
                &value,
                &op.id,
                &location,
            ));
        }
        if let Some((schema, required)) = &op.body {
            if body.iter().all(u8::is_ascii_whitespace) {
                if *required {
                    found.push(violation(
                        &op.id,
                        "request.body",
                        "a JSON body is required".to_owned(),
                    ));
                }
            } else if !is_json(headers) {
                found.push(violation(
                    &op.id,
                    "request.body",
                    "content-type is not application/json".to_owned(),
                ));
            } else {
                match serde_json::from_slice::<Value>(body) {
                    Ok(value) => {
                        let key = format!("{}|request|{}", op.id, if closed { "closed" } else { "open" });
                        let build = || {
                            let mut schema = self.inline(&convert(schema), &mut Vec::new());
                            if closed {
                                strict(&mut schema, false);
                            }
                            self.root(schema)
                        };
                        found.extend(self.validate(&key, build, &value, &op.id, "request.body"));
                    }
                    Err(e) => found.push(violation(&op.id, "request.body", format!("not JSON: {e}"))),
                }
            }
        }
        found
    }

    /// Checks a response: the status is documented for the operation, and a JSON body matches
    /// its schema. 304 (conditional requests) is always accepted.
    #[must_use]
    pub fn check_response(
        &self,
        method: &Method,
        path: &str,
        status: StatusCode,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Vec<Violation> {
        let Some((op, _)) = self.find(method, path) else {
            return vec![violation(
                "",
                "response",
                format!("no operation for `{method} {path}` in the description"),
            )];
        };
        if status == StatusCode::NOT_MODIFIED {
            return Vec::new();
        }
        let code = status.as_str().to_owned();
        let range = format!("{}XX", &code[..1]);
        let documented = op
            .responses
            .iter()
            .find(|(k, _)| *k == code)
            .or_else(|| op.responses.iter().find(|(k, _)| k.eq_ignore_ascii_case(&range)))
            .or_else(|| op.responses.iter().find(|(k, _)| k == "default"));
        let Some((key, schema)) = documented else {
            return vec![violation(
                &op.id,
                "response.status",
                format!("status {code} is not documented"),
            )];
        };
        let Some(schema) = schema else { return Vec::new() };
        if body.is_empty() {
            return vec![violation(
                &op.id,
                "response.body",
                format!("status {key} documents a JSON body; got none"),
            )];
        }
        if !is_json(headers) {
            // Other media types (a diff) are described in prose only.
            return Vec::new();
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(value) => {
                let vkey = format!("{}|response|{key}", op.id);
                self.validate(
                    &vkey,
                    || self.root(convert(schema)),
                    &value,
                    &op.id,
                    "response.body",
                )
            }
            Err(e) => vec![violation(&op.id, "response.body", format!("not JSON: {e}"))],
        }
    }

    fn root(&self, schema: Value) -> Value {
        // `$ref`s point at `#/components/schemas/…`, so the components live beside the schema;
        // `allOf` keeps the schema's own keywords from mixing with the `components` key.
        json!({ "allOf": [schema], "components": self.components })
    }

    fn validate(
        &self,
        key: &str,
        build: impl FnOnce() -> Value,
        value: &Value,
        op: &str,
        location: &str,
    ) -> Vec<Violation> {
        let validator = {
            let mut cache = self.validators.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(cache.entry(key.to_owned()).or_insert_with(|| {
                Arc::new(
                    jsonschema::draft4::options()
                        .should_validate_formats(true)
                        .build(&build())
                        .map_err(|e| e.to_string()),
                )
            }))
        };
        match validator.as_ref() {
            Ok(v) => v
                .iter_errors(value)
                .map(|e| {
                    let at = e.instance_path().as_str().to_owned();
                    let at = if at.is_empty() {
                        String::new()
                    } else {
                        format!("at `{at}`: ")
                    };
                    violation(op, location, format!("{at}{e}"))
                })
                .collect(),
            Err(e) => vec![violation(
                op,
                location,
                format!("the description's schema does not compile: {e}"),
            )],
        }
    }

    /// Replaces `$ref`s to component schemas by their (converted) content, so the strict
    /// transformation can see whole objects; a recursive reference is left as a `$ref`.
    fn inline(&self, schema: &Value, stack: &mut Vec<String>) -> Value {
        match schema {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref")
                    && let Some(name) = target.strip_prefix("#/components/schemas/")
                    && !stack.iter().any(|s| s == name)
                    && let Some(found) = self.components["schemas"].get(name)
                {
                    stack.push(name.to_owned());
                    let out = self.inline(found, stack);
                    stack.pop();
                    return out;
                }
                Value::Object(
                    map.iter()
                        .map(|(k, v)| (k.clone(), self.inline(v, stack)))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.inline(v, stack)).collect()),
            other => other.clone(),
        }
    }
}

/// Reads and parses an OpenAPI 3 description.
pub(crate) fn read_document(path: &Path) -> Result<Value, ContractError> {
    let text = std::fs::read_to_string(path).map_err(|source| ContractError::Read {
        path: path.to_owned(),
        source,
        hint: "run `crates/ops-test/specs/regen` to rebuild the vendored subsets".to_owned(),
    })?;
    parse_document(path, &text)
}

fn parse_document(path: &Path, text: &str) -> Result<Value, ContractError> {
    let parsed = if text.trim_start().starts_with('{') {
        serde_json::from_str::<Value>(text).map_err(|e| e.to_string())
    } else {
        serde_saphyr::from_str::<Value>(text).map_err(|e| e.to_string())
    };
    let doc = parsed.map_err(|message| ContractError::Parse {
        path: path.to_owned(),
        message,
    })?;
    if doc
        .get("openapi")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("3."))
    {
        Ok(doc)
    } else {
        Err(ContractError::Parse {
            path: path.to_owned(),
            message: "no `openapi: 3.x` field".to_owned(),
        })
    }
}

fn violation(op: &str, location: &str, message: String) -> Violation {
    Violation {
        seq: None,
        exchange: String::new(),
        operation: op.to_owned(),
        location: location.to_owned(),
        message,
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"))
}

/// Follows a `$ref` into `components/<section>`, once (the descriptions do not chain them).
fn resolve<'a>(components: &'a Value, value: &'a Value) -> &'a Value {
    let Some(target) = value.get("$ref").and_then(Value::as_str) else {
        return value;
    };
    let Some(rest) = target.strip_prefix("#/components/") else {
        return value;
    };
    rest.split('/')
        .try_fold(components, |v, seg| v.get(seg))
        .unwrap_or(value)
}

fn operation(components: &Value, template: &str, method: Method, op: &Value, shared: &[Value]) -> Operation {
    let mut params: Vec<Param> = Vec::new();
    for p in shared.iter().chain(
        op.get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten(),
    ) {
        let p = resolve(components, p);
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let location = p.get("in").and_then(Value::as_str).unwrap_or_default().to_owned();
        // Operation-level parameters override path-level ones of the same name and place.
        params.retain(|q| !(q.name == name && q.location == location));
        params.push(Param {
            required: p
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(location == "path"),
            schema: p.get("schema").cloned().unwrap_or_else(|| json!({})),
            name,
            location,
        });
    }
    let body = op
        .get("requestBody")
        .map(|b| resolve(components, b))
        .and_then(|b| {
            let schema = b.pointer("/content/application~1json/schema")?.clone();
            Some((
                schema,
                b.get("required").and_then(Value::as_bool).unwrap_or(false),
            ))
        });
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(code, r)| {
            let r = resolve(components, r);
            let schema = r
                .get("content")
                .and_then(Value::as_object)
                .and_then(|c| c.iter().find(|(ct, _)| ct.contains("json")))
                .and_then(|(_, m)| m.get("schema").cloned());
            (code.clone(), schema)
        })
        .collect();
    Operation {
        literal_segments: template
            .split('/')
            .filter(|s| !s.is_empty() && !s.starts_with('{'))
            .count(),
        template: template.to_owned(),
        id: op
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        method,
        params,
        body,
        responses,
    }
}

/// Turns query/path strings into the JSON type their schema asks for, so that `per_page=500` is
/// checked as the number 500; anything unparsable stays a string and fails validation visibly.
fn coerce(schema: &Value, values: &[&str]) -> Value {
    let one = |schema: &Value, v: &str| -> Value {
        match schema.get("type").and_then(Value::as_str) {
            Some("integer") => v.parse::<i64>().map_or_else(|_| json!(v), Value::from),
            Some("number") => v.parse::<f64>().map_or_else(|_| json!(v), Value::from),
            Some("boolean") => match v {
                "true" => json!(true),
                "false" => json!(false),
                _ => json!(v),
            },
            _ => json!(v),
        }
    };
    if schema.get("type").and_then(Value::as_str) == Some("array") {
        let items = schema.get("items").cloned().unwrap_or_else(|| json!({}));
        // Both `a=1&a=2` and `a=1,2` spellings are in use.
        Value::Array(
            values
                .iter()
                .flat_map(|v| v.split(','))
                .map(|v| one(&items, v))
                .collect(),
        )
    } else {
        one(schema, values.first().copied().unwrap_or_default())
    }
}

/// OAS 3.0 schema → JSON Schema draft 4: `nullable: true` becomes a type array (or an `anyOf`
/// with `null` when there is no `type`), and `null` joins an `enum`.
fn convert(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out: Map<String, Value> = map
                .iter()
                .filter(|(k, _)| k.as_str() != "nullable")
                .map(|(k, v)| {
                    let v = match k.as_str() {
                        "properties" | "patternProperties" | "definitions" => Value::Object(
                            v.as_object()
                                .into_iter()
                                .flatten()
                                .map(|(name, s)| (name.clone(), convert(s)))
                                .collect(),
                        ),
                        "items" | "additionalProperties" | "not" => convert(v),
                        "allOf" | "anyOf" | "oneOf" => {
                            Value::Array(v.as_array().into_iter().flatten().map(convert).collect())
                        }
                        _ => v.clone(),
                    };
                    (k.clone(), v)
                })
                .collect();
            if map.get("nullable").and_then(Value::as_bool) != Some(true) {
                return Value::Object(out);
            }
            match out.get("type").cloned() {
                Some(Value::String(t)) => {
                    out.insert("type".to_owned(), json!([t, "null"]));
                    if let Some(Value::Array(values)) = out.get_mut("enum")
                        && !values.contains(&Value::Null)
                    {
                        values.push(Value::Null);
                    }
                    Value::Object(out)
                }
                _ => json!({ "anyOf": [Value::Object(out), { "type": "null" }] }),
            }
        }
        other => other.clone(),
    }
}

/// Names of the properties an object schema knows, including those of its composition branches.
fn known_properties(schema: &Value, names: &mut Vec<String>) {
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        names.extend(props.keys().cloned());
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for branch in schema.get(key).and_then(Value::as_array).into_iter().flatten() {
            known_properties(branch, names);
        }
    }
}

/// Closes request object schemas: `additionalProperties: false` where the schema does not say,
/// except on composition branches (the parent carries the union of their properties instead).
fn strict(schema: &mut Value, branch: bool) {
    let Some(map) = schema.as_object_mut() else { return };
    let composite = ["allOf", "anyOf", "oneOf"].iter().any(|k| map.contains_key(*k));
    let is_object_type = match map.get("type") {
        None => true,
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
        Some(_) => false,
    };
    if !branch && is_object_type && !map.contains_key("additionalProperties") {
        let mut names = Vec::new();
        known_properties(&Value::Object(map.clone()), &mut names);
        if !names.is_empty() {
            let props = map.entry("properties").or_insert_with(|| json!({}));
            if let Some(props) = props.as_object_mut() {
                for name in names {
                    props.entry(name).or_insert_with(|| json!({}));
                }
            }
            map.insert("additionalProperties".to_owned(), json!(false));
        }
    }
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" => {
                for sub in value.as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
                    strict(sub, false);
                }
            }
            "items" | "additionalProperties" | "not" => strict(value, false),
            "allOf" | "anyOf" | "oneOf" => {
                for sub in value.as_array_mut().into_iter().flatten() {
                    strict(sub, composite);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_becomes_type_arrays_or_any_of() {
        assert_eq!(
            convert(&json!({"type": "string", "nullable": true, "enum": ["a"]})),
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
        assert_eq!(
            convert(&json!({"nullable": true, "oneOf": [{"type": "string"}]})),
            json!({"anyOf": [{"oneOf": [{"type": "string"}]}, {"type": "null"}]})
        );
        assert_eq!(
            convert(&json!({"properties": {"a": {"type": "integer", "nullable": true}}})),
            json!({"properties": {"a": {"type": ["integer", "null"]}}})
        );
    }

    #[test]
    fn strict_closes_objects_but_keeps_branch_properties() {
        let mut s = json!({
            "type": "object",
            "properties": {"name": {"type": "string"}, "nested": {"type": "object", "properties": {"x": {}}}},
            "anyOf": [{"properties": {"status": {"enum": ["completed"]}}, "required": ["conclusion"]}],
            "allOf": [{"properties": {"extra": {}}}]
        });
        strict(&mut s, false);
        assert_eq!(s["additionalProperties"], json!(false));
        assert_eq!(s["properties"]["nested"]["additionalProperties"], json!(false));
        assert!(s["properties"].get("status").is_some() && s["properties"].get("extra").is_some());
        assert_eq!(
            s["anyOf"][0].get("additionalProperties"),
            None,
            "branches stay open"
        );

        let mut open = json!({"type": "object", "properties": {"p": {}}, "additionalProperties": true});
        strict(&mut open, false);
        assert_eq!(open["additionalProperties"], json!(true));
    }

    #[test]
    fn coerce_follows_the_parameter_schema() {
        assert_eq!(coerce(&json!({"type": "integer"}), &["500"]), json!(500));
        assert_eq!(coerce(&json!({"type": "integer"}), &["x"]), json!("x"));
        assert_eq!(coerce(&json!({"type": "boolean"}), &["true"]), json!(true));
        assert_eq!(
            coerce(
                &json!({"type": "array", "items": {"type": "string"}}),
                &["A,B", "C"]
            ),
            json!(["A", "B", "C"])
        );
    }
}
