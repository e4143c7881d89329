//! The workflow templates (`workflows-templates/`) and the reusable workflows
//! (`.github/workflows/reusable-*.yml`): every one parses, follows the hardening rules users copy along
//! with it, references only ops-actions actions, inputs and reusable workflows that exist, and passes
//! zizmor and GitHub's own workflow parser (every file in `.github/workflows/` too). Fixtures under
//! `tests/fixtures/templates/` prove the checker catches each rule it enforces (a checker that passes
//! everything proves nothing), and `tests/fixtures/workflow-parser/` that the parser run catches what
//! GitHub refuses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use ops_contract_tests::{load_action, repo_root, tool_actions};
use serde_json::Value;

/// Where ops-actions' own actions and reusable workflows are referenced from in the templates.
const OPS_REPO: &str = "org/ops-actions";

/// The zizmor the project pins (scripts/lib/common.sh); scripts/test installs it before the tests.
const ZIZMOR_INSTALL: &str = "pip install zizmor==1.32.0";

/// GitHub's workflow parser (npm `@actions/workflow-parser`, installed by scripts/setup-node), run by node.
const WORKFLOW_PARSER: &str = "tests/node/workflow-parser.mjs";

/// Where the Dependabot template lives: not among the workflows, which users copy with
/// `cp workflows-templates/*.yml .github/workflows/`.
const DEPENDABOT: &str = "workflows-templates/dependabot/dependabot.yml";

/// The stacks with a copyable template and a reusable twin.
const STACKS: &[&str] = &["node", "rust", "container", "node-droplet", "node-doks"];

/// A parsed workflow and its text (comments are only in the text).
#[derive(Debug)]
struct Workflow {
    /// Relative to the repository root, for messages.
    name: String,
    text: String,
    doc: Value,
}

impl Workflow {
    fn load(root: &Path, path: &Path) -> Result<Self, String> {
        let name = path.strip_prefix(root).unwrap_or(path).display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
        let doc: Value = serde_saphyr::from_str(&text).map_err(|e| format!("{name}: not valid YAML: {e}"))?;
        if !doc.is_object() {
            return Err(format!("{name}: not a YAML mapping"));
        }
        Ok(Self { name, text, doc })
    }

    fn jobs(&self) -> Vec<(&String, &Value)> {
        self.doc
            .get("jobs")
            .and_then(Value::as_object)
            .map(|jobs| jobs.iter().collect())
            .unwrap_or_default()
    }

    /// A workflow that GitHub only runs when another one calls it.
    fn is_reusable(&self) -> bool {
        Path::new(&self.name)
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("reusable-"))
    }

    /// Each `uses:` line of the text: the value and its trailing comment.
    fn uses_lines(&self) -> Vec<(String, Option<String>)> {
        self.text
            .lines()
            .filter_map(|line| {
                let line = line.trim_start();
                let line = line.strip_prefix("- ").unwrap_or(line).trim_start();
                let rest = line.strip_prefix("uses:")?;
                let (value, comment) = match rest.split_once(" #") {
                    Some((value, comment)) => (value, Some(comment.trim().to_owned())),
                    None => (rest, None),
                };
                Some((value.trim().trim_matches(['"', '\'']).to_owned(), comment))
            })
            .collect()
    }
}

/// The inputs and secrets a reusable workflow declares: name → required (and without a default).
#[derive(Debug, Default)]
struct CallInterface {
    inputs: BTreeMap<String, bool>,
    secrets: BTreeMap<String, bool>,
}

fn declared(section: Option<&Value>) -> BTreeMap<String, bool> {
    section
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .map(|(name, spec)| {
                    let required = spec.get("required").and_then(Value::as_bool) == Some(true)
                        && spec.get("default").is_none();
                    (name.clone(), required)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn call_interface(workflow: &Workflow) -> CallInterface {
    let call = workflow.doc.get("on").and_then(|on| on.get("workflow_call"));
    CallInterface {
        inputs: declared(call.and_then(|c| c.get("inputs"))),
        secrets: declared(call.and_then(|c| c.get("secrets"))),
    }
}

fn is_full_sha(s: &str) -> bool {
    s.len() == 40
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `vX.Y.Z` (`vX` is enough for ops-actions' own major tag) at the start of a pin's comment.
fn is_version_comment(comment: &str, major_only_ok: bool) -> bool {
    let Some(version) = comment
        .split_whitespace()
        .next()
        .and_then(|w| w.strip_prefix('v'))
    else {
        return false;
    };
    let parts: Vec<&str> = version.split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    numeric && (parts.len() == 3 || (major_only_ok && parts.len() == 1))
}

/// `owner/name[/path]@ref`, split.
fn split_remote(uses: &str) -> Option<(String, String, &str)> {
    let (target, git_ref) = uses.rsplit_once('@')?;
    let mut parts = target.splitn(3, '/');
    let repo = format!("{}/{}", parts.next()?, parts.next()?);
    Some((repo, parts.next().unwrap_or_default().to_owned(), git_ref))
}

fn string_keys(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_object)
        .map(|map| map.keys().cloned().collect())
        .unwrap_or_default()
}

fn needs_of(job: &Value) -> Vec<String> {
    match job.get("needs") {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// Names referenced as `<context>.<name>` anywhere in `value` (`inputs.app-spec`, `secrets.TOKEN`).
fn references(value: &Value, context: &str) -> BTreeSet<String> {
    let text = value.to_string();
    let needle = format!("{context}.");
    let mut names = BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find(&needle) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + needle.len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if !name.is_empty() {
            names.insert(name);
        }
    }
    names
}

/// Checks one workflow; `root` is where `actions/<tool>/action.yml` and `.github/workflows/` are.
fn check_workflow(root: &Path, workflow: &Workflow) -> Vec<String> {
    let mut problems = Vec::new();
    let doc = &workflow.doc;
    match doc.get("permissions") {
        Some(Value::Object(map)) if map.is_empty() => {}
        _ => problems.push("top-level `permissions:` is not `{}`".to_owned()),
    }
    let triggers = match doc.get("on") {
        Some(Value::Object(map)) => map.keys().cloned().collect(),
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    if workflow.is_reusable() {
        if triggers != ["workflow_call"] {
            problems.push(format!(
                "a reusable workflow must have only the `workflow_call` trigger, not {triggers:?}"
            ));
        }
        problems.extend(check_declared_use(workflow));
    } else {
        if triggers.is_empty() {
            problems.push("no `on:` triggers".to_owned());
        }
        if triggers.iter().any(|t| t == "pull_request") && doc.get("concurrency").is_none() {
            problems.push("no top-level `concurrency:` (superseded pull request runs go on)".to_owned());
        }
    }
    let jobs = workflow.jobs();
    if jobs.is_empty() {
        problems.push("no jobs".to_owned());
    }
    let job_names: BTreeSet<&str> = jobs.iter().map(|(name, _)| name.as_str()).collect();
    let uses_lines = workflow.uses_lines();
    for (name, job) in &jobs {
        let mut problem = |p: String| problems.push(format!("job `{name}`: {p}"));
        if !job.get("permissions").is_some_and(Value::is_object) {
            problem("no `permissions:` block (list the least it needs)".to_owned());
        }
        for need in needs_of(job) {
            if !job_names.contains(need.as_str()) {
                problem(format!("needs `{need}`, which is not a job of this workflow"));
            }
        }
        if let Some(environment) = job.get("environment") {
            let env_name = environment
                .get("name")
                .or(Some(environment))
                .and_then(Value::as_str);
            if environment.get("url").is_none() {
                problem("deploys to an environment without a `url`".to_owned());
            }
            if env_name == Some("production") {
                let serial = job
                    .get("concurrency")
                    .and_then(|c| c.get("cancel-in-progress"))
                    .and_then(Value::as_bool)
                    == Some(false);
                if !serial {
                    problem(
                        "deploys to production without a `concurrency:` group that has `cancel-in-progress: false`"
                            .to_owned(),
                    );
                }
            }
        }
        if let Some(uses) = job.get("uses").and_then(Value::as_str) {
            // A call of a reusable workflow: no steps, no `timeout-minutes` (GitHub refuses it there).
            for p in check_call(root, job, uses, &uses_lines) {
                problem(p);
            }
            continue;
        }
        if job.get("timeout-minutes").is_none() {
            problem("no `timeout-minutes`".to_owned());
        }
        let steps = job
            .get("steps")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if steps.is_empty() {
            problem("no steps".to_owned());
        }
        for (i, step) in steps.iter().enumerate() {
            let label = step
                .get("name")
                .or_else(|| step.get("id"))
                .or_else(|| step.get("uses"))
                .and_then(Value::as_str)
                .map_or_else(|| format!("#{}", i + 1), |l| format!("#{} `{l}`", i + 1));
            if step
                .get("run")
                .and_then(Value::as_str)
                .is_some_and(|r| r.contains("${{"))
            {
                problem(format!(
                    "step {label}: `${{{{ }}}}` inside `run:` (pass it through `env:`)"
                ));
            }
            if let Some(uses) = step.get("uses").and_then(Value::as_str) {
                for p in check_step_uses(root, step, uses, &uses_lines) {
                    problem(format!("step {label}: {p}"));
                }
            }
        }
    }
    problems
        .into_iter()
        .map(|p| format!("{}: {p}", workflow.name))
        .collect()
}

/// A step's `uses:`: local, a digest-pinned image, ops-actions' own action (which must exist and be given
/// only its inputs, every required one included), or a third-party action pinned by commit with a
/// version comment.
fn check_step_uses(
    root: &Path,
    step: &Value,
    uses: &str,
    uses_lines: &[(String, Option<String>)],
) -> Vec<String> {
    let mut problems = Vec::new();
    if uses.starts_with("./") {
        return problems;
    }
    if let Some(image) = uses.strip_prefix("docker://") {
        if !image.contains("@sha256:") {
            problems.push(format!("`{uses}` is not pinned by digest"));
        }
        return problems;
    }
    let Some((repo, path, git_ref)) = split_remote(uses) else {
        return vec![format!("`{uses}` is not `owner/repo[/path]@ref`")];
    };
    problems.extend(check_pin(uses, git_ref, repo == OPS_REPO, uses_lines));
    if repo == "actions/checkout"
        && step
            .get("with")
            .and_then(|w| w.get("persist-credentials"))
            .and_then(Value::as_bool)
            != Some(false)
    {
        problems.push("actions/checkout without `persist-credentials: false`".to_owned());
    }
    if repo != OPS_REPO {
        return problems;
    }
    let action_file = root.join("actions").join(&path).join("action.yml");
    if path.is_empty() || path.starts_with('_') || !action_file.is_file() {
        problems.push(format!(
            "`{uses}`: ops-actions has no action `actions/{path}/action.yml`"
        ));
        return problems;
    }
    let action = match load_action(&action_file) {
        Ok(action) => action,
        Err(e) => return vec![format!("cannot read {}: {e}", action_file.display())],
    };
    let given = string_keys(step.get("with"));
    for key in &given {
        if !action.inputs.contains_key(key) {
            problems.push(format!("`with: {key}` is not an input of {path}"));
        }
    }
    for (name, input) in &action.inputs {
        if input.required && input.default.is_none() && !given.contains(name) {
            problems.push(format!("{path}'s required input `{name}` is not given"));
        }
    }
    problems.extend(required_by_target(&path, step.get("with"), &given));
    problems
}

/// Inputs an action needs only for some of its targets (the action can't mark them `required`).
fn required_by_target(path: &str, with: Option<&Value>, given: &[String]) -> Vec<String> {
    if path != "do-deploy" {
        return Vec::new();
    }
    let target = with
        .and_then(|w| w.get("target"))
        .and_then(Value::as_str)
        .unwrap_or("app-platform");
    let has = |k: &str| given.iter().any(|g| g == k);
    let mut problems = Vec::new();
    let mut need = |ok: bool, what: &str| {
        if !ok {
            problems.push(format!(
                "do-deploy with `target: {target}` needs {what}, which is not given"
            ));
        }
    };
    match target {
        "app-platform" => need(has("token"), "`token`"),
        "droplet-compose" => {
            need(has("ssh-key"), "`ssh-key`");
            need(
                has("known-hosts") || has("host-fingerprints"),
                "`known-hosts` or `host-fingerprints`",
            );
            need(has("hosts") || has("droplet-tag"), "`hosts` or `droplet-tag`");
            need(has("images"), "`images`");
            need(!has("droplet-tag") || has("token"), "`token` (for `droplet-tag`)");
        }
        "doks" => {
            // A rollback applies a recorded release again: it reads no manifests.
            let rollback = with.and_then(|w| w.get("action")).and_then(Value::as_str) == Some("rollback");
            need(rollback || has("manifests"), "`manifests`");
            need(has("cluster") || has("kubeconfig"), "`cluster` or `kubeconfig`");
            need(!has("cluster") || has("token"), "`token` (for `cluster`)");
        }
        _ => {}
    }
    problems
}

/// Pinned by a full commit SHA, and every `uses:` line with it carries a version comment.
fn check_pin(uses: &str, git_ref: &str, ours: bool, uses_lines: &[(String, Option<String>)]) -> Vec<String> {
    if !is_full_sha(git_ref) {
        return vec![format!(
            "`{uses}` is not pinned to a full commit SHA (40 hex digits)"
        )];
    }
    let lines: Vec<&Option<String>> = uses_lines
        .iter()
        .filter(|(value, _)| value == uses)
        .map(|(_, c)| c)
        .collect();
    if lines.is_empty()
        || lines
            .iter()
            .any(|c| !c.as_deref().is_some_and(|c| is_version_comment(c, ours)))
    {
        let want = if ours { "`# v1`" } else { "`# vX.Y.Z`" };
        return vec![format!("`{uses}` has no version comment ({want}) on its line")];
    }
    Vec::new()
}

/// A job that calls a reusable workflow of ops-actions (or of this repository): it exists, its
/// inputs and secrets are declared there, the required ones are given, and no `secrets: inherit`.
fn check_call(root: &Path, job: &Value, uses: &str, uses_lines: &[(String, Option<String>)]) -> Vec<String> {
    let mut problems = Vec::new();
    let file = if let Some(local) = uses.strip_prefix("./") {
        local.to_owned()
    } else {
        let Some((repo, path, git_ref)) = split_remote(uses) else {
            return vec![format!(
                "`{uses}` is not `owner/repo/.github/workflows/<file>@ref`"
            )];
        };
        problems.extend(check_pin(uses, git_ref, repo == OPS_REPO, uses_lines));
        if repo != OPS_REPO {
            return problems;
        }
        path
    };
    let path = root.join(&file);
    if !file.starts_with(".github/workflows/") || !path.is_file() {
        problems.push(format!("`{uses}`: no reusable workflow `{file}` in ops-actions"));
        return problems;
    }
    let called = match Workflow::load(root, &path) {
        Ok(called) => called,
        Err(e) => return vec![e],
    };
    let interface = call_interface(&called);
    let given = string_keys(job.get("with"));
    let check = |kind: &str, given: &[String], declared: &BTreeMap<String, bool>, out: &mut Vec<String>| {
        for key in given {
            if !declared.contains_key(key) {
                out.push(format!("{kind} `{key}` is not declared by {file}"));
            }
        }
        for (name, required) in declared {
            if *required && !given.contains(name) {
                out.push(format!("{file}'s required {kind} `{name}` is not given"));
            }
        }
    };
    check("input", &given, &interface.inputs, &mut problems);
    match job.get("secrets") {
        Some(Value::String(s)) if s == "inherit" => {
            problems.push("`secrets: inherit` hands every secret over: pass them by name".to_owned());
        }
        secrets => check("secret", &string_keys(secrets), &interface.secrets, &mut problems),
    }
    problems
}

/// A reusable workflow uses every input and secret it declares, and declares every one it uses.
fn check_declared_use(workflow: &Workflow) -> Vec<String> {
    let mut problems = Vec::new();
    let interface = call_interface(workflow);
    let mut body = workflow.doc.clone();
    if let Some(map) = body.as_object_mut() {
        map.remove("on");
    }
    for (kind, context, declared) in [
        ("input", "inputs", &interface.inputs),
        ("secret", "secrets", &interface.secrets),
    ] {
        let used = references(&body, context);
        for name in declared.keys() {
            if !used.contains(name) {
                problems.push(format!("declared {kind} `{name}` is never used"));
            }
        }
        for name in &used {
            if !declared.contains_key(name) && name != "GITHUB_TOKEN" {
                problems.push(format!(
                    "`{context}.{name}` is used but not declared under `workflow_call`"
                ));
            }
        }
    }
    if let Some(inputs) = workflow
        .doc
        .get("on")
        .and_then(|on| on.get("workflow_call"))
        .and_then(|c| c.get("inputs"))
        .and_then(Value::as_object)
    {
        for (name, spec) in inputs {
            let typed = spec
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| matches!(t, "string" | "boolean" | "number"));
            if !typed {
                problems.push(format!(
                    "input `{name}` has no `type:` (string, boolean or number)"
                ));
            }
            if spec.get("description").is_none() {
                problems.push(format!("input `{name}` has no `description:`"));
            }
        }
    }
    problems
}

/// The templates users copy: every `.yml` directly in workflows-templates/, each a workflow.
fn template_paths(root: &Path) -> Vec<PathBuf> {
    yml_files(&root.join("workflows-templates"))
}

/// ops-actions' reusable workflows.
fn reusable_paths(root: &Path) -> Vec<PathBuf> {
    yml_files(&root.join(".github/workflows"))
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("reusable-"))
        })
        .collect()
}

fn yml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn load(root: &Path, path: &Path) -> Workflow {
    Workflow::load(root, path).unwrap_or_else(|e| panic!("{e}"))
}

fn fixture(name: &str) -> Vec<String> {
    let root = repo_root();
    let path = root.join("tests/fixtures/templates").join(name);
    check_workflow(&root, &load(&root, &path))
}

/// The job names `name` depends on, directly or not.
fn ancestors(workflow: &Workflow, name: &str) -> BTreeSet<String> {
    let jobs: BTreeMap<&String, &Value> = workflow.jobs().into_iter().collect();
    let mut seen = BTreeSet::new();
    let mut todo = vec![name.to_owned()];
    while let Some(job) = todo.pop() {
        let Some(value) = jobs.get(&job) else { continue };
        for need in needs_of(value) {
            if seen.insert(need.clone()) {
                todo.push(need);
            }
        }
    }
    seen
}

// ---------------------------------------------------------------------------------------------------
// The real templates and reusable workflows

#[test]
fn every_template_and_reusable_workflow_follows_the_rules() {
    let root = repo_root();
    let mut paths = template_paths(&root);
    paths.extend(reusable_paths(&root));
    let names: Vec<String> = paths
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    for stack in STACKS {
        for want in [format!("{stack}.yml"), format!("reusable-{stack}.yml")] {
            assert!(names.contains(&want), "missing {want} (have {names:?})");
        }
    }
    assert!(
        names.contains(&"caller.yml".to_owned()),
        "missing workflows-templates/caller.yml"
    );
    let problems: Vec<String> = paths
        .iter()
        .flat_map(|path| check_workflow(&root, &load(&root, path)))
        .collect();
    assert_eq!(problems, Vec::<String>::new(), "{}", problems.join("\n"));
}

#[test]
fn every_pipeline_has_every_stage_in_order_and_uses_every_tool() {
    let root = repo_root();
    let tools: Vec<String> = tool_actions(&root)
        .iter()
        .filter_map(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    assert_eq!(tools.len(), 6, "expected the six tool actions, found {tools:?}");
    let mut paths: Vec<PathBuf> = STACKS
        .iter()
        .map(|s| root.join("workflows-templates").join(format!("{s}.yml")))
        .collect();
    paths.extend(reusable_paths(&root));
    for path in paths {
        let workflow = load(&root, &path);
        let before = |job: &str, earlier: &[&str]| {
            let deps = ancestors(&workflow, job);
            for e in earlier {
                assert!(
                    deps.contains(*e),
                    "{}: `{job}` does not wait for `{e}`",
                    workflow.name
                );
            }
        };
        before("test", &["lint"]);
        for security in ["audit", "secrets", "image-scan"] {
            before(security, &["lint", "test"]);
        }
        before("build", &["lint", "test", "audit", "secrets", "image-scan"]);
        before("staging", &["build"]);
        before("approve", &["staging"]);
        before("production", &["build", "staging", "approve"]);
        for tool in &tools {
            let reference = format!("{OPS_REPO}/{tool}@");
            assert!(
                workflow.text.contains(&reference),
                "{}: never uses {tool}",
                workflow.name
            );
        }
        // staging and production deploy by digest, smoke-test, and roll back on its decision
        for env in ["staging", "production"] {
            let job = &workflow.doc["jobs"][env];
            let steps = job["steps"].as_array().cloned().unwrap_or_default();
            let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
            let deploys = uses.iter().filter(|u| u.contains("/do-deploy@")).count();
            assert!(deploys >= 2, "{}: `{env}` has no rollback step", workflow.name);
            let rollback = steps
                .iter()
                .find(|s| s["with"]["action"] == "rollback")
                .unwrap_or_else(|| panic!("{}: `{env}` never rolls back", workflow.name));
            assert!(
                rollback["if"]
                    .as_str()
                    .is_some_and(|c| c.contains("decision == 'rollback'")),
                "{}: `{env}`'s rollback does not follow smoke-test's decision",
                workflow.name
            );
            let images = steps
                .iter()
                .find_map(|s| s["with"]["images"].as_str())
                .unwrap_or_else(|| panic!("{}: `{env}` deploys no image", workflow.name));
            assert!(
                images.contains("needs.build.outputs."),
                "{}: `{env}` images",
                workflow.name
            );
        }
    }
}

#[test]
fn reusable_workflows_mirror_the_templates() {
    let root = repo_root();
    for stack in STACKS {
        let template = load(&root, &root.join(format!("workflows-templates/{stack}.yml")));
        let reusable = load(
            &root,
            &root.join(format!(".github/workflows/reusable-{stack}.yml")),
        );
        let shape = |w: &Workflow| -> BTreeMap<String, Value> {
            w.jobs()
                .into_iter()
                .map(|(name, job)| {
                    let steps: Vec<String> = job["steps"]
                        .as_array()
                        .map(|steps| {
                            steps
                                .iter()
                                .map(|s| match s["uses"].as_str() {
                                    Some(uses) => uses.split('@').next().unwrap_or(uses).to_owned(),
                                    None => "run".to_owned(),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let mut needs = needs_of(job);
                    needs.sort();
                    let shape = serde_json::json!({
                        "needs": needs,
                        "permissions": job["permissions"],
                        "timeout-minutes": job["timeout-minutes"],
                        "environment": job["environment"]["name"],
                        "concurrency": job["concurrency"],
                        "steps": steps,
                    });
                    (name.clone(), shape)
                })
                .collect()
        };
        assert_eq!(
            shape(&template),
            shape(&reusable),
            "workflows-templates/{stack}.yml and .github/workflows/reusable-{stack}.yml have drifted apart"
        );
    }
}

/// The `with:` of the first step in `steps` that uses do-deploy and satisfies `pick`.
fn do_deploy_with(steps: &[Value], pick: impl Fn(&Value) -> bool) -> Option<&Value> {
    steps
        .iter()
        .filter(|s| s["uses"].as_str().is_some_and(|u| u.contains("/do-deploy@")))
        .map(|s| &s["with"])
        .find(|w| pick(w))
}

#[test]
fn droplet_pipelines_pin_host_keys_smoke_the_proxy_and_roll_back_on_the_same_hosts() {
    let root = repo_root();
    for path in [
        root.join("workflows-templates/node-droplet.yml"),
        root.join(".github/workflows/reusable-node-droplet.yml"),
    ] {
        let workflow = load(&root, &path);
        let name = &workflow.name;
        let mut hosts = Vec::new();
        for env in ["staging", "production"] {
            let job = &workflow.doc["jobs"][env];
            let steps = job["steps"].as_array().cloned().unwrap_or_default();
            let deploy = do_deploy_with(&steps, |w| w["action"].is_null())
                .unwrap_or_else(|| panic!("{name}: `{env}` has no deploy step"));
            let rollback = do_deploy_with(&steps, |w| w["action"] == "rollback")
                .unwrap_or_else(|| panic!("{name}: `{env}` has no rollback step"));
            for (what, with) in [("deploy", deploy), ("rollback", rollback)] {
                // Without the target a step goes to App Platform; without a pinned key nothing connects.
                assert_eq!(with["target"], "droplet-compose", "{name}: `{env}` {what}");
                assert_eq!(with["strategy"], "blue-green", "{name}: `{env}` {what}");
                for input in [
                    "hosts",
                    "ssh-key",
                    "known-hosts",
                    "images",
                    "route",
                    "health-path",
                ] {
                    assert!(
                        with[input].as_str().is_some_and(|v| !v.is_empty()),
                        "{name}: `{env}` {what} has no `{input}`"
                    );
                }
            }
            // The rollback must reach the hosts just deployed, and probe them as the deploy did.
            for input in [
                "hosts",
                "ssh-key",
                "known-hosts",
                "compose-file",
                "route",
                "health-path",
            ] {
                assert_eq!(
                    deploy[input], rollback[input],
                    "{name}: `{env}` rolls back with another `{input}` than it deployed with"
                );
            }
            for input in ["env", "pre-deploy"] {
                assert!(
                    deploy[input].is_string(),
                    "{name}: `{env}` deploys without `{input}`"
                );
            }
            // droplet-compose has no `live-url`: smoke-test goes through the proxy, at the environment's URL.
            let url = job["environment"]["url"].as_str().unwrap_or_default();
            assert!(
                !url.contains("live-url"),
                "{name}: `{env}`'s URL is do-deploy's `live-url`"
            );
            let smoke = steps
                .iter()
                .find(|s| s["uses"].as_str().is_some_and(|u| u.contains("/smoke-test@")))
                .unwrap_or_else(|| panic!("{name}: `{env}` has no smoke test"));
            assert_eq!(
                smoke["with"]["base-url"].as_str(),
                Some(url),
                "{name}: `{env}` smoke-tests another URL than the environment's"
            );
            hosts.push(deploy["hosts"].clone());
        }
        assert_ne!(
            hosts[0], hosts[1],
            "{name}: staging and production deploy to the same hosts"
        );
    }
}

#[test]
fn doks_pipelines_deploy_each_environment_to_its_namespace_and_roll_back_there() {
    let root = repo_root();
    for path in [
        root.join("workflows-templates/node-doks.yml"),
        root.join(".github/workflows/reusable-node-doks.yml"),
    ] {
        let workflow = load(&root, &path);
        let name = &workflow.name;
        let mut namespaces = Vec::new();
        for env in ["staging", "production"] {
            let job = &workflow.doc["jobs"][env];
            let steps = job["steps"].as_array().cloned().unwrap_or_default();
            let deploy = do_deploy_with(&steps, |w| w["action"].is_null())
                .unwrap_or_else(|| panic!("{name}: `{env}` has no deploy step"));
            let rollback = do_deploy_with(&steps, |w| w["action"] == "rollback")
                .unwrap_or_else(|| panic!("{name}: `{env}` has no rollback step"));
            // Without the target a step goes to App Platform.
            for (what, with) in [("deploy", deploy), ("rollback", rollback)] {
                assert_eq!(with["target"], "doks", "{name}: `{env}` {what}");
            }
            for input in ["cluster", "token", "manifests", "images", "namespace"] {
                assert!(
                    deploy[input].as_str().is_some_and(|v| !v.is_empty()),
                    "{name}: `{env}` deploys without `{input}`"
                );
            }
            // The lock and the release records live in the namespace, per app: the rollback must find
            // the very records the deploy wrote.
            for input in ["cluster", "token", "namespace", "app-name", "kubeconfig"] {
                assert_eq!(
                    deploy[input], rollback[input],
                    "{name}: `{env}` rolls back with another `{input}` than it deployed with"
                );
            }
            assert!(
                rollback["release"]
                    .as_str()
                    .is_some_and(|r| r.contains("steps.deploy.outputs.previous-release")),
                "{name}: `{env}` does not roll back to the release that was live before its deploy"
            );
            // The manifests are rendered in the job, from the environment's own overlay.
            let manifests = deploy["manifests"].as_str().unwrap_or_default();
            let rendered = steps.iter().any(|s| {
                s["run"]
                    .as_str()
                    .is_some_and(|r| r.contains("kustomize") && r.contains(manifests))
            });
            assert!(
                rendered,
                "{name}: `{env}` deploys `{manifests}` without rendering it"
            );
            namespaces.push(deploy["namespace"].clone());
        }
        assert_ne!(
            namespaces[0], namespaces[1],
            "{name}: staging and production deploy to the same namespace"
        );
    }
}

/// Copies a folder tree (the example's `k8s/`) into `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("mkdir {}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let path = entry.expect("a folder entry").path();
        let target = to.join(path.file_name().expect("a file name"));
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}

#[test]
fn the_doks_example_renders_into_what_do_deploy_takes() {
    // What node-doks.yml does with examples/node-doks/k8s: the environment's secret into the overlay's
    // `app.env`, `kubectl kustomize`, then do-deploy's own reading of the manifests and its `images`.
    let root = repo_root();
    let digest = format!("sha256:{}", "a".repeat(64));
    let image = format!("ghcr.io/your-org/your-repo/web@{digest}");
    for env in ["staging", "production"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let k8s = dir.path().join("k8s");
        copy_tree(&root.join("examples/node-doks/k8s"), &k8s);
        let overlay = k8s.join("overlays").join(env);
        std::fs::write(
            overlay.join("app.env"),
            "DATABASE_URL=postgres://app:secret@db.example:25060/app?sslmode=require\n",
        )
        .expect("write app.env");
        let output = Command::new("kubectl")
            .arg("kustomize")
            .arg(&overlay)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run kubectl ({e})\nhint: install kubectl, whose `kustomize` renders the example"
                )
            });
        assert!(
            output.status.success(),
            "kubectl kustomize k8s/overlays/{env}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let rendered = String::from_utf8_lossy(&output.stdout).into_owned();
        let mut objects = do_deploy::doks::manifests::parse(&[("rendered.yaml".to_owned(), rendered)], env)
            .unwrap_or_else(|e| panic!("{env}: do-deploy refuses the rendered manifests: {}", e.0));
        let images = do_deploy::doks::manifests::images(&[format!("web={image}")]).expect("the images line");
        do_deploy::doks::manifests::substitute(&mut objects, &images)
            .unwrap_or_else(|e| panic!("{env}: {}", e.0));
        let named = |kind: &str| -> Vec<&do_deploy::doks::manifests::Object> {
            objects.iter().filter(|o| o.kind == kind).collect()
        };
        let deployment = named("Deployment");
        assert_eq!(deployment.len(), 1, "{env}: one Deployment");
        let pod = &deployment[0].body["spec"]["template"]["spec"];
        let mut containers = Vec::new();
        for list in ["initContainers", "containers"] {
            containers.extend(pod[list].as_array().cloned().unwrap_or_default());
        }
        for c in &containers {
            assert_eq!(
                c["image"],
                image.as_str(),
                "{env}: container {} keeps its image",
                c["name"]
            );
        }
        let web = containers
            .iter()
            .find(|c| c["name"] == "web")
            .unwrap_or_else(|| panic!("{env}: no container `web`"));
        assert!(
            web["readinessProbe"].is_object(),
            "{env}: a rollout must wait for readiness"
        );
        assert_eq!(named("Service").len(), 1, "{env}: one Service");
        // Config named by its content, and the pod template pointing at that name: a rollback finds it.
        let refs = web["envFrom"].to_string();
        for kind in ["ConfigMap", "Secret"] {
            let found = named(kind);
            assert_eq!(found.len(), 1, "{env}: one {kind}");
            let name = &found[0].name;
            assert!(
                name.rsplit_once('-').is_some_and(|(_, hash)| hash.len() == 10),
                "{env}: {kind} `{name}` is not named by its content"
            );
            assert!(
                refs.contains(name.as_str()),
                "{env}: the pod template does not use `{name}`"
            );
        }
    }
}

#[test]
fn dependabot_covers_actions_and_every_stack_with_a_cooldown() {
    let root = repo_root();
    let path = root.join(DEPENDABOT);
    let doc = load(&root, &path).doc;
    let updates = doc["updates"].as_array().cloned().unwrap_or_default();
    let ecosystems: BTreeSet<&str> = updates
        .iter()
        .filter_map(|u| u["package-ecosystem"].as_str())
        .collect();
    for want in ["github-actions", "npm", "cargo", "docker"] {
        assert!(
            ecosystems.contains(want),
            "dependabot.yml has no `{want}` updates"
        );
    }
    for update in &updates {
        let days = update["cooldown"]["default-days"].as_u64().unwrap_or(0);
        assert!(
            days >= 7,
            "dependabot.yml: `{}` has a cooldown under 7 days",
            update["package-ecosystem"]
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// zizmor

/// Runs zizmor offline over `inputs` (relative to the repository root): (exit code, output).
fn zizmor(inputs: &[String]) -> (i32, String) {
    let output = Command::new("zizmor")
        .args(["--offline", "--no-progress"])
        .args(inputs)
        .current_dir(repo_root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run zizmor ({e}): install it with `{ZIZMOR_INSTALL}`"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

#[test]
fn zizmor_finds_nothing_in_the_templates_and_workflows() {
    let root = repo_root();
    // zizmor collects workflows from a directory only under .github/workflows, so the templates are
    // named one by one (the Dependabot template included).
    let mut inputs: Vec<String> = template_paths(&root).iter().map(|p| relative(&root, p)).collect();
    assert!(inputs.len() >= 4, "too few templates: {inputs:?}");
    inputs.push(DEPENDABOT.to_owned());
    inputs.push(".github/workflows".to_owned());
    let (code, output) = zizmor(&inputs);
    assert_eq!(code, 0, "zizmor {}:\n{output}", inputs.join(" "));
    for input in &inputs {
        assert!(
            output.contains(&format!("completed {input}")) || input == ".github/workflows",
            "{output}"
        );
    }
}

#[test]
fn zizmor_audits_a_template_it_is_given() {
    // The same fixture the checker refuses: zizmor must refuse it too, or the test above proves nothing.
    let (code, output) = zizmor(&["tests/fixtures/templates/unpinned.yml".to_owned()]);
    assert_ne!(code, 0, "{output}");
    assert!(output.contains("unpinned-uses"), "{output}");
}

// ---------------------------------------------------------------------------------------------------
// GitHub's workflow parser

/// Runs GitHub's workflow parser over `files` (relative to the repository root): file → error messages.
fn workflow_parser(files: &[String]) -> BTreeMap<String, Vec<String>> {
    let root = repo_root();
    let package = root.join("node_modules/@actions/workflow-parser/package.json");
    assert!(
        package.is_file(),
        "`@actions/workflow-parser` is not installed in node_modules\nhint: run `scripts/setup-node` (scripts/test does)"
    );
    let output = Command::new("node")
        .arg(WORKFLOW_PARSER)
        .args(files)
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run node ({e})\nhint: run `scripts/setup-node`, which installs it")
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "node {WORKFLOW_PARSER} failed:\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut results = BTreeMap::new();
    for line in stdout.lines() {
        let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let file = value["file"].as_str().unwrap_or_default().to_owned();
        let errors = value["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        results.insert(file, errors);
    }
    let asked: BTreeSet<&String> = files.iter().collect();
    let answered: BTreeSet<&String> = results.keys().collect();
    assert_eq!(asked, answered, "one result per file");
    results
}

#[test]
fn githubs_workflow_parser_accepts_every_template_and_workflow() {
    let root = repo_root();
    let mut files: Vec<String> = template_paths(&root)
        .iter()
        .chain(yml_files(&root.join(".github/workflows")).iter())
        .map(|p| relative(&root, p))
        .collect();
    files.sort();
    assert!(files.len() >= 9, "too few workflows: {files:?}");
    let problems: Vec<String> = workflow_parser(&files).into_values().flatten().collect();
    assert_eq!(problems, Vec::<String>::new(), "{}", problems.join("\n"));
}

#[test]
fn githubs_workflow_parser_refuses_a_broken_workflow() {
    // The fixture passes our own checker: only GitHub's parser sees its two mistakes.
    let root = repo_root();
    let fixture = "tests/fixtures/workflow-parser/broken.yml";
    assert_eq!(
        check_workflow(&root, &load(&root, &root.join(fixture))),
        Vec::<String>::new()
    );
    let results = workflow_parser(&[fixture.to_owned(), DEPENDABOT.to_owned()]);
    assert_eq!(
        results[fixture],
        [
            format!("{fixture} (Line: 15, Col: 9): Unexpected end of expression: '=='"),
            format!("{fixture} (Line: 22, Col: 9): Unexpected value 'continue-on-failure'"),
        ]
    );
    // Regression: the Dependabot template sat among the workflows, so copying
    // `workflows-templates/*.yml` into `.github/workflows/` made a workflow GitHub refuses.
    assert!(
        results[DEPENDABOT]
            .iter()
            .any(|e| e.contains("Required property is missing: jobs")),
        "{:?}",
        results[DEPENDABOT]
    );
    assert!(
        !template_paths(&root)
            .iter()
            .any(|p| p.ends_with("dependabot.yml")),
        "dependabot.yml is back among the workflow templates"
    );
}

// ---------------------------------------------------------------------------------------------------
// The checker catches each problem (one fixture per rule, each with exactly that problem)

#[test]
fn fixtures_each_show_exactly_their_problem() {
    let cases: &[(&str, &str)] = &[
        (
            "unpinned.yml",
            "`actions/setup-node@v7.0.0` is not pinned to a full commit SHA",
        ),
        ("no-version-comment.yml", "has no version comment (`# vX.Y.Z`)"),
        (
            "ops-unpinned.yml",
            "`org/ops-actions/lint-gate@v1` is not pinned to a full commit SHA",
        ),
        ("run-expression.yml", "`${{ }}` inside `run:`"),
        ("no-timeout.yml", "job `test`: no `timeout-minutes`"),
        (
            "unknown-input.yml",
            "`with: fail-on` is not an input of lint-gate",
        ),
        (
            "missing-required-input.yml",
            "do-deploy with `target: app-platform` needs `token`, which is not given",
        ),
        (
            "doks-no-credentials.yml",
            "do-deploy with `target: doks` needs `cluster` or `kubeconfig`, which is not given",
        ),
        (
            "unknown-action.yml",
            "ops-actions has no action `actions/deploy-it/action.yml`",
        ),
        (
            "unknown-need.yml",
            "job `test`: needs `build`, which is not a job of this workflow",
        ),
        ("no-job-permissions.yml", "job `test`: no `permissions:` block"),
        ("top-permissions.yml", "top-level `permissions:` is not `{}`"),
        (
            "persist-credentials.yml",
            "actions/checkout without `persist-credentials: false`",
        ),
        ("no-env-url.yml", "deploys to an environment without a `url`"),
        (
            "production-no-concurrency.yml",
            "deploys to production without a `concurrency:` group",
        ),
        ("reusable-push.yml", "must have only the `workflow_call` trigger"),
        (
            "reusable-unused-input.yml",
            "declared input `region` is never used",
        ),
        (
            "reusable-undeclared-secret.yml",
            "`secrets.DO_TOKEN` is used but not declared",
        ),
        (
            "caller-unknown-input.yml",
            "input `app-name` is not declared by .github/workflows/reusable-node.yml",
        ),
        (
            "caller-missing-input.yml",
            "required input `approvers` is not given",
        ),
        ("caller-inherit.yml", "`secrets: inherit` hands every secret over"),
    ];
    let mut failures = Vec::new();
    for (name, want) in cases {
        let problems = fixture(name);
        if problems.len() != 1 || !problems[0].contains(want) {
            failures.push(format!(
                "{name}: expected exactly one problem containing {want:?}, got {problems:#?}"
            ));
        }
    }
    let on_disk: BTreeSet<String> = yml_files(&repo_root().join("tests/fixtures/templates"))
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let listed: BTreeSet<String> = cases.iter().map(|(name, _)| (*name).to_owned()).collect();
    assert_eq!(
        on_disk, listed,
        "every fixture is listed here, and every listed one exists"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn version_comments_and_shas_are_recognised() {
    assert!(is_full_sha("3d3c42e5aac5ba805825da76410c181273ba90b1"));
    assert!(!is_full_sha("3d3c42e"));
    assert!(!is_full_sha("3D3C42E5AAC5BA805825DA76410C181273BA90B1"));
    assert!(is_version_comment("v7.0.1", false));
    assert!(is_version_comment("v4.36.2 (upload-sarif)", false));
    assert!(!is_version_comment("v7", false));
    assert!(is_version_comment("v1", true));
    assert!(!is_version_comment("latest", true));
    assert!(!is_version_comment("v1.x", true));
    let names = references(
        &serde_json::json!({"a": "${{ inputs.app-spec }} and ${{inputs.deploy}}"}),
        "inputs",
    );
    assert_eq!(
        names,
        BTreeSet::from(["app-spec".to_owned(), "deploy".to_owned()])
    );
    let names = references(&serde_json::json!("steps.x.outputs.y, needs.inputs.z"), "inputs");
    assert!(names.is_empty(), "{names:?}");
}
