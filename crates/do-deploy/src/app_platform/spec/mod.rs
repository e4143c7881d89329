//! The app spec: read from a file with strict variable substitution, or taken from the app; then
//! image overrides and, for previews, the per-PR rewrite. Every mistake is found here, before any
//! request that changes something.

pub mod images;
pub mod preview;
pub mod schema;
pub mod vars;
pub mod yaml;

use std::path::Path;

use ops_core::{ExitStatus, Report};
use serde_json::Value;
use serde_saphyr::Spanned;

/// The component kinds of an app spec.
pub const COMPONENT_KINDS: [&str; 5] = ["services", "workers", "jobs", "static_sites", "functions"];

/// Why the spec file cannot be used. All are input errors (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file is missing or unreadable.
    #[error("cannot read the app spec `{file}`: {reason}")]
    Read {
        /// The path as the user wrote it.
        file: String,
        /// The OS's reason.
        reason: String,
    },
    /// Not YAML.
    #[error("`{file}`{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Syntax {
        /// The path as the user wrote it.
        file: String,
        /// Where, when known.
        line: Option<u64>,
        /// The parser's message.
        message: String,
    },
    /// YAML, but not a spec.
    #[error("`{file}`: {message}")]
    Shape {
        /// The path as the user wrote it.
        file: String,
        /// What was expected.
        message: String,
    },
    /// References that could not be substituted.
    #[error("`{file}`: {}", describe_problems(problems))]
    Variables {
        /// The path as the user wrote it.
        file: String,
        /// Each problem with its line.
        problems: Vec<vars::Located>,
    },
}

fn describe_problems(problems: &[vars::Located]) -> String {
    let items: Vec<String> = problems
        .iter()
        .map(|p| {
            let what = match &p.problem {
                vars::Problem::Undefined(name) => format!("`${{{name}}}` is not set (or is empty)"),
                vars::Problem::Input(name) => {
                    format!("`${{{name}}}` is an action input, not a variable a spec may use")
                }
                vars::Problem::Malformed(text) => format!("`${{{text}}}` is not a variable reference"),
                vars::Problem::Unclosed => "`${` without a closing `}`".to_owned(),
                vars::Problem::Type {
                    name,
                    field,
                    expected,
                } => format!(
                    "`{field}` takes {}, and the value of `${{{name}}}` is not one",
                    expected.describe()
                ),
            };
            format!("line {}: {what}", p.line)
        })
        .collect();
    items.join("; ")
}

impl Report for SpecError {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Usage
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Read { .. } => Some(
                "set `app-spec` to the spec's path in the repository, or `app-name` / `app-id` to redeploy \
                 an existing app's spec"
                    .to_owned(),
            ),
            Self::Variables { problems, .. } => {
                let undefined = problems
                    .iter()
                    .any(|p| matches!(p.problem, vars::Problem::Undefined(_)));
                let mistyped = problems
                    .iter()
                    .all(|p| matches!(p.problem, vars::Problem::Type { .. }));
                Some(if undefined {
                    "set each variable in the step's `env:` (a secret that does not exist arrives empty); \
                     write `$${` for a literal `${`"
                        .to_owned()
                } else if mistyped {
                    "set the variable to a value of the field's type".to_owned()
                } else {
                    "write `$${` for a literal `${`; App Platform's own `${component.VAR}` and `${APP_…}` \
                     pass through unchanged"
                        .to_owned()
                })
            }
            _ => None,
        }
    }
}

/// A spec read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The spec as JSON.
    pub spec: Value,
    /// Values to mask (secret-looking variables, `SECRET` env values).
    pub masks: Vec<String>,
    /// Variables substituted.
    pub used: Vec<String>,
    /// Variables left in `run_command` / `build_command` for the component's shell.
    pub kept: Vec<String>,
}

/// Reads and expands a spec file. `shown` is the path as the user wrote it.
pub fn load(path: &Path, shown: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Loaded, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|e| SpecError::Read {
        file: shown.to_owned(),
        reason: match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_owned(),
            _ => e.to_string(),
        },
    })?;
    parse(&text, shown, lookup)
}

/// Parses and expands spec text.
pub fn parse(text: &str, shown: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Loaded, SpecError> {
    let root = yaml::parse(text).map_err(|e| SpecError::Syntax {
        file: shown.to_owned(),
        line: e.line,
        message: e.message,
    })?;
    if !matches!(root.value, yaml::Node::Map(_)) {
        return Err(SpecError::Shape {
            file: shown.to_owned(),
            message: "expected a mapping with `name` and components (`services`, `workers`, …)".to_owned(),
        });
    }
    let root = unwrap_template(&root).map_err(|message| SpecError::Shape {
        file: shown.to_owned(),
        message,
    })?;
    let expanded = vars::expand(text, root, lookup).map_err(|problems| SpecError::Variables {
        file: shown.to_owned(),
        problems,
    })?;
    let spec = expanded.value;
    match spec.get("name") {
        Some(Value::String(name)) if !name.is_empty() => {}
        _ => {
            return Err(SpecError::Shape {
                file: shown.to_owned(),
                message: "`name` is missing: every app spec names its app".to_owned(),
            });
        }
    }
    let mut masks = expanded.masks;
    for value in secret_env_values(&spec) {
        if !masks.contains(&value) {
            masks.push(value);
        }
    }
    Ok(Loaded {
        spec,
        masks,
        used: expanded.used,
        kept: expanded.kept,
    })
}

/// The spec inside a deploy template (`.do/deploy.template.yaml`, the file DigitalOcean's sample and
/// template repositories ship for the "Deploy to DigitalOcean" button): a mapping whose only key is
/// `spec`. Any other file is the spec itself.
fn unwrap_template(root: &Spanned<yaml::Node>) -> Result<&Spanned<yaml::Node>, String> {
    let yaml::Node::Map(entries) = &root.value else {
        return Ok(root);
    };
    let Some((_, inner)) = entries.iter().find(|(k, _)| k.value == "spec") else {
        return Ok(root);
    };
    if entries.iter().any(|(k, _)| k.value == "name") || !matches!(inner.value, yaml::Node::Map(_)) {
        return Ok(root);
    }
    let others: Vec<String> = entries
        .iter()
        .filter(|(k, _)| k.value != "spec")
        .map(|(k, _)| format!("`{}`", k.value))
        .collect();
    if others.is_empty() {
        Ok(inner)
    } else {
        Err(format!(
            "a deploy template holds the app spec under `spec` and nothing else; found {} beside it",
            others.join(", ")
        ))
    }
}

/// The `name` field of a spec file (or deploy template) without substitution (for deleting
/// previews, where the deployment's variables are usually not set); `None` when it is missing or
/// uses a variable.
pub fn name_only(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let value: Value = serde_saphyr::from_str(&text).ok()?;
    let spec = match value.get("spec") {
        Some(inner) if value.get("name").is_none() => inner,
        _ => &value,
    };
    let name = spec.get("name")?.as_str()?;
    (!name.contains("${")).then(|| name.to_owned())
}

/// Values of `type: SECRET` env entries that are not already encrypted (`EV[…]`).
pub fn secret_env_values(spec: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect_secrets(spec, &mut out);
    out
}

fn collect_secrets(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("SECRET")
                && let Some(v) = map.get("value").and_then(Value::as_str)
                && !v.is_empty()
                && !v.starts_with("EV[")
            {
                out.push(v.to_owned());
            }
            for v in map.values() {
                collect_secrets(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_secrets(v, out)),
        _ => {}
    }
}

/// Names of the components of the given kinds.
pub fn component_names(spec: &Value, kinds: &[&str]) -> Vec<String> {
    kinds
        .iter()
        .flat_map(|k| spec.get(*k).and_then(Value::as_array).into_iter().flatten())
        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// Whether App Platform will give the app a `live_url`: only services and static sites serve HTTP.
/// A worker- or job-only app never gets one, so waiting for it would hang (app_action #265).
pub fn serves_http(spec: &Value) -> bool {
    !component_names(spec, &["services", "static_sites"]).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lookup(name: &str) -> Option<String> {
        (name == "PW").then(|| "hunter2".to_owned())
    }

    #[test]
    fn parse_errors_table() {
        for (text, want) in [
            ("name: [\n", "`app.yaml` line 1: unclosed bracket"),
            ("- a\n- b\n", "`app.yaml`: expected a mapping"),
            ("services: []\n", "`app.yaml`: `name` is missing"),
            (
                "name: web\nservices:\n  - name: api\n    envs:\n      - key: X\n        value: ${NOPE}\n",
                "`app.yaml`: line 6: `${NOPE}` is not set (or is empty)",
            ),
        ] {
            let err = parse(text, "app.yaml", &lookup).unwrap_err();
            assert!(err.to_string().starts_with(want), "{text:?}: {err}");
            assert_eq!(err.exit_status(), ExitStatus::Usage);
        }
    }

    /// `.do/deploy.template.yaml` (the `spec:`-wrapped file of DigitalOcean's sample and template
    /// repositories) was refused with "`name` is missing".
    #[test]
    fn a_deploy_template_is_read_as_its_spec() {
        let text = "spec:\n  name: sample-golang\n  services:\n    - name: web\n      git:\n        repo_clone_url: https://github.com/digitalocean/sample-golang.git\n        branch: main\n      envs:\n        - key: PW\n          type: SECRET\n          value: ${PW}\n";
        let loaded = parse(text, ".do/deploy.template.yaml", &lookup).unwrap();
        assert_eq!(loaded.spec["name"], json!("sample-golang"));
        assert_eq!(loaded.spec["services"][0]["envs"][0]["value"], json!("hunter2"));
        assert!(loaded.spec.get("spec").is_none(), "{}", loaded.spec);

        let err = parse("spec:\n  name: a\nextra: 1\n", "t.yaml", &lookup).unwrap_err();
        assert!(err.to_string().contains("found `extra` beside it"), "{err}");
        let err = parse("spec:\n  name: a\n  services:\n    - name: web\n      envs:\n        - key: X\n          value: ${NOPE}\n", "t.yaml", &lookup).unwrap_err();
        assert!(
            err.to_string().contains("line 7"),
            "lines count in the file: {err}"
        );
        // A spec with a field named `spec` is still a spec.
        let loaded = parse("name: web\nspec: x\n", "app.yaml", &lookup).unwrap();
        assert_eq!(loaded.spec["spec"], json!("x"));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deploy.template.yaml");
        std::fs::write(&path, text).unwrap();
        assert_eq!(name_only(&path).as_deref(), Some("sample-golang"));
    }

    #[test]
    fn secrets_are_collected_for_masking() {
        let text = "name: web\nenvs:\n  - key: A\n    value: plain\n  - key: B\n    type: SECRET\n    value: ${PW}\n  - key: C\n    type: SECRET\n    value: EV[1:abc]\n";
        let loaded = parse(text, "app.yaml", &lookup).unwrap();
        assert_eq!(loaded.masks, vec!["hunter2".to_owned()]);
        assert_eq!(loaded.used, vec!["PW"]);
    }

    #[test]
    fn serves_http_table() {
        for (spec, http) in [
            (json!({"services": [{"name": "a"}]}), true),
            (json!({"static_sites": [{"name": "a"}]}), true),
            (json!({"workers": [{"name": "a"}]}), false),
            (json!({"jobs": [{"name": "a"}], "workers": []}), false),
        ] {
            assert_eq!(serves_http(&spec), http, "{spec}");
        }
    }
}
