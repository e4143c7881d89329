//! SARIF validation against the official SARIF 2.1.0 JSON schema, plus the rules GitHub code scanning adds.
//!
//! The schema ships in the npm package `@microsoft/jest-sarif` (installed by `scripts/setup-node` as a dev
//! dependency), so it is read from `node_modules` rather than vendored. Code scanning is stricter than the
//! schema in a few places that make an upload fail or an alert go missing; [`validate`] checks those too.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

/// Where the schema lives, relative to the repository root.
pub const SCHEMA_PATH: &str = "node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json";

fn schema_file() -> PathBuf {
    crate::sim::prism::repo_root().join(SCHEMA_PATH)
}

fn validator() -> &'static Result<jsonschema::Validator, String> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let path = schema_file();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "cannot read the SARIF schema at `{}`: {e}\nhint: run `scripts/setup-node` (CI runs it)",
                path.display()
            )
        })?;
        // The schema's `language` pattern has a bare `]` (`…[a-zA-Z]{2}]?$`): a literal in ECMAScript
        // regexes, but rejected by the Rust engines, so the schema would not compile. Escaping it (`\]`,
        // written `\\]` inside the JSON text) keeps the meaning.
        let text = text.replace(r#"[a-zA-Z]{2}]?$"#, r#"[a-zA-Z]{2}\\]?$"#);
        let schema: Value =
            serde_json::from_str(&text).map_err(|e| format!("SARIF schema is not JSON: {e}"))?;
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .build(&schema)
            .map_err(|e| format!("SARIF schema does not compile: {e}"))
    })
}

/// Validates a SARIF log: the JSON schema, then code scanning's own requirements. Returns every problem.
/// Panics (failing the test) with a hint when the schema is not installed: a missing schema must never
/// pass as "valid".
pub fn validate(doc: &Value) -> Vec<String> {
    let validator = match validator() {
        Ok(v) => v,
        Err(message) => panic!("{message}"),
    };
    let mut problems: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("schema: {} at `{}`", e, e.instance_path()))
        .collect();
    problems.extend(code_scanning_problems(doc));
    problems
}

/// GitHub code scanning's extra rules (from its SARIF support docs): version 2.1.0; each run names its
/// tool; each result has a message and a rule id that the driver's rules list (so the alert has a
/// description); locations use relative URIs; regions are 1-based; `security-severity` parses as a number
/// from 0 to 10.
pub fn code_scanning_problems(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if doc["version"] != "2.1.0" {
        problems.push("code scanning: `version` must be `2.1.0`".to_owned());
    }
    let empty = Vec::new();
    for (r, run) in doc["runs"].as_array().unwrap_or(&empty).iter().enumerate() {
        let driver = &run["tool"]["driver"];
        if driver["name"].as_str().is_none_or(str::is_empty) {
            problems.push(format!("code scanning: runs[{r}].tool.driver.name is missing"));
        }
        let rules = driver["rules"].as_array().unwrap_or(&empty);
        for rule in rules {
            if let Some(sev) = rule["properties"].get("security-severity") {
                let ok = sev
                    .as_str()
                    .and_then(|s| s.parse::<f64>().ok())
                    .is_some_and(|v| (0.0..=10.0).contains(&v));
                if !ok {
                    problems.push(format!(
                        "code scanning: rule `{}` security-severity `{sev}` is not 0.0–10.0",
                        rule["id"]
                    ));
                }
            }
        }
        for (i, result) in run["results"].as_array().unwrap_or(&empty).iter().enumerate() {
            let id = result["ruleId"].as_str().unwrap_or_default();
            if id.is_empty() {
                problems.push(format!("code scanning: runs[{r}].results[{i}] has no ruleId"));
            } else if !rules.iter().any(|rule| rule["id"] == id) {
                problems.push(format!(
                    "code scanning: runs[{r}].results[{i}] rule `{id}` is not in tool.driver.rules"
                ));
            }
            if let Some(index) = result["ruleIndex"].as_u64() {
                let at = usize::try_from(index).ok().and_then(|i| rules.get(i));
                if at.is_none_or(|rule| rule["id"] != id) {
                    problems.push(format!(
                        "code scanning: runs[{r}].results[{i}] ruleIndex {index} does not point at `{id}`"
                    ));
                }
            }
            if result["message"]["text"].as_str().is_none_or(str::is_empty) {
                problems.push(format!(
                    "code scanning: runs[{r}].results[{i}] has no message text"
                ));
            }
            for location in result["locations"].as_array().unwrap_or(&empty) {
                let uri = location["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap_or_default();
                if uri.is_empty() || uri.starts_with('/') || uri.contains("://") || uri.contains(' ') {
                    problems.push(format!(
                        "code scanning: runs[{r}].results[{i}] uri `{uri}` must be relative and encoded"
                    ));
                }
                let region = &location["physicalLocation"]["region"];
                for key in ["startLine", "startColumn", "endLine", "endColumn"] {
                    if region.get(key).is_some_and(|v| v.as_u64().is_none_or(|n| n == 0)) {
                        problems.push(format!(
                            "code scanning: runs[{r}].results[{i}] region.{key} must be ≥ 1"
                        ));
                    }
                }
            }
        }
    }
    problems
}
