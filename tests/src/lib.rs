//! Contract checks across the YAML/Rust seam.
//!
//! An action is only as good as its wiring: composite actions receive no `INPUT_*` variables from the
//! runner, so every input must be mapped through `env:` to a variable the binary really reads; `${{ }}`
//! inside `run:` is a script-injection hole; and a README that lists different inputs than action.yml
//! misleads users. [`check_action`] finds each of these; the tests run it over every action in the tree
//! and over fixtures that prove each problem is caught.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The parts of action.yml the contract looks at.
#[derive(Debug, Deserialize)]
pub struct ActionFile {
    /// `name:`.
    pub name: String,
    /// `description:`.
    #[serde(default)]
    pub description: String,
    /// `inputs:`.
    #[serde(default)]
    pub inputs: BTreeMap<String, Input>,
    /// `outputs:`.
    #[serde(default)]
    pub outputs: BTreeMap<String, serde_json::Value>,
    /// `runs:`.
    pub runs: Runs,
}

/// One input.
#[derive(Debug, Deserialize)]
pub struct Input {
    /// `description:`.
    #[serde(default)]
    pub description: String,
    /// `required:`.
    #[serde(default)]
    pub required: bool,
    /// `default:`.
    pub default: Option<serde_json::Value>,
}

/// `runs:`.
#[derive(Debug, Deserialize)]
pub struct Runs {
    /// Must be `composite`.
    pub using: String,
    /// The steps.
    #[serde(default)]
    pub steps: Vec<Step>,
}

/// One composite step.
#[derive(Debug, Deserialize)]
pub struct Step {
    /// `id:`.
    pub id: Option<String>,
    /// `run:`.
    pub run: Option<String>,
    /// `uses:`.
    pub uses: Option<String>,
    /// `shell:`.
    pub shell: Option<String>,
    /// `env:`.
    #[serde(default)]
    pub env: BTreeMap<String, serde_json::Value>,
}

/// Reads and parses an action.yml.
pub fn load_action(path: &Path) -> anyhow::Result<ActionFile> {
    let text = std::fs::read_to_string(path)?;
    serde_saphyr::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Every `actions/<tool>/` directory with an action.yml (not `_lib`), sorted.
pub fn tool_actions(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root.join("actions")) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("action.yml").is_file())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| !n.to_string_lossy().starts_with('_'))
        })
        .collect();
    dirs.sort();
    dirs
}

fn env_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The input named in a `${{ inputs.NAME }}` expression that is the whole value, if it is.
fn mapped_input(value: &str) -> Option<String> {
    let inner = value.trim().strip_prefix("${{")?.strip_suffix("}}")?.trim();
    let name = inner.strip_prefix("inputs.")?;
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        .then(|| name.to_owned())
}

/// Problems that hold for any composite action: `${{ }}` inside `run:`, inputs not mapped through `env:`,
/// not composite, steps without a shell.
pub fn check_wiring(action: &ActionFile) -> Vec<String> {
    let mut problems = Vec::new();
    if action.runs.using != "composite" {
        problems.push(format!(
            "runs.using is `{}`, expected `composite`",
            action.runs.using
        ));
    }
    for (i, step) in action.runs.steps.iter().enumerate() {
        let label = step.id.clone().unwrap_or_else(|| format!("#{}", i + 1));
        if let Some(run) = &step.run {
            if run.contains("${{") {
                problems.push(format!(
                    "step {label}: `${{{{ }}}}` inside `run:` (pass it through `env:`)"
                ));
            }
            if step.shell.is_none() {
                problems.push(format!("step {label}: `run:` without `shell:`"));
            }
        }
    }
    for name in action.inputs.keys() {
        let mapped = action
            .runs
            .steps
            .iter()
            .flat_map(|s| s.env.values())
            .any(|v| env_value(v).contains(&format!("inputs.{name}")));
        if !mapped {
            problems.push(format!("input `{name}` is never mapped through `env:`"));
        }
    }
    problems
}

/// The variable an input must be mapped to: `foo-bar` → `INPUT_FOO_BAR`.
pub fn input_var(name: &str) -> String {
    format!("INPUT_{}", name.replace([' ', '-'], "_").to_uppercase())
}

/// The full contract between a tool's action.yml, README and binary (`command` is its clap Command).
pub fn check_action(dir: &Path, command: &clap::Command) -> Vec<String> {
    let action = match load_action(&dir.join("action.yml")) {
        Ok(action) => action,
        Err(e) => return vec![format!("cannot read action.yml: {e}")],
    };
    let mut problems = check_wiring(&action);
    let mut command = command.clone();
    let help = command.render_long_help().to_string();
    // inputs → env → flag
    let mappings: Vec<(String, String)> = action
        .runs
        .steps
        .iter()
        .flat_map(|s| s.env.iter())
        .filter_map(|(k, v)| Some((k.clone(), mapped_input(&env_value(v))?)))
        .collect();
    // Inputs that configure the install step (`build-from-source`, `download-url`…) go to install.sh as
    // `OPS_*` variables, not to the binary.
    let install_inputs: Vec<String> = action
        .runs
        .steps
        .iter()
        .filter(|s| s.run.as_deref().is_some_and(|r| r.contains("_lib/install.sh")))
        .flat_map(|s| s.env.iter())
        .filter(|(k, _)| k.starts_with("OPS_"))
        .filter_map(|(_, v)| mapped_input(&env_value(v)))
        .collect();
    for name in action.inputs.keys().filter(|name| !install_inputs.contains(name)) {
        let expected_var = input_var(name);
        match mappings.iter().find(|(_, input)| input == name) {
            Some((var, _)) if var != &expected_var => problems.push(format!(
                "input `{name}` is mapped to `{var}`, expected `{expected_var}`"
            )),
            _ => {}
        }
        let arg = command
            .get_arguments()
            .find(|a| a.get_long() == Some(name.as_str()));
        match arg {
            None => problems.push(format!("input `{name}` has no flag `--{name}` in the binary")),
            Some(arg) => {
                let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
                if env.as_deref() != Some(expected_var.as_str()) {
                    problems.push(format!(
                        "flag `--{name}` reads env `{}`, expected `{expected_var}`",
                        env.unwrap_or_else(|| "(none)".into())
                    ));
                }
            }
        }
        if !help.contains(&format!("--{name}")) {
            problems.push(format!("`--help` does not list `--{name}`"));
        }
    }
    // flags the binary reads from INPUT_* must be inputs of the action
    for arg in command.get_arguments() {
        let Some(env) = arg.get_env().map(|e| e.to_string_lossy().into_owned()) else {
            continue;
        };
        if env.starts_with("INPUT_") && !action.inputs.keys().any(|name| input_var(name) == env) {
            problems.push(format!("flag reading `{env}` has no input in action.yml"));
        }
    }
    // README tables
    match std::fs::read_to_string(dir.join("README.md")) {
        Err(_) => problems.push("README.md is missing".to_owned()),
        Ok(readme) => {
            let in_table = |name: &str| {
                readme
                    .lines()
                    .any(|l| l.trim_start().starts_with('|') && l.contains(&format!("`{name}`")))
            };
            for name in action.inputs.keys() {
                if !in_table(name) {
                    problems.push(format!("README.md has no table row for input `{name}`"));
                }
            }
            for name in action.outputs.keys() {
                if !in_table(name) {
                    problems.push(format!("README.md has no table row for output `{name}`"));
                }
            }
            if !readme.contains("uses: ") {
                problems.push("README.md has no copy-paste `uses:` block".to_owned());
            }
            // one block shows every input, `with:` at its step's indent + 2, so a copy of it runs
            // as the defaults do and shows what can be set
            for name in action.inputs.keys() {
                if !readme.lines().any(|l| l.starts_with(&format!("    {name}: "))) {
                    problems.push(format!(
                        "README.md has no `uses:` block line `    {name}: …` for input `{name}`"
                    ));
                }
            }
        }
    }
    problems
}
