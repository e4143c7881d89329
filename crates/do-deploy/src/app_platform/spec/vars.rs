//! Strict `${VAR}` substitution in an app spec.
//!
//! Only `${NAME}` is replaced, and only in string values (never in keys). A variable that is not set,
//! or set to the empty string (which is what a missing secret becomes in a workflow), is an error
//! naming it and its line; every such problem in the file is reported at once. `$${` writes a
//! literal `${`. App Platform's own bindable variables pass through untouched: dotted ones such as
//! `${db.DATABASE_URL}` or `${_self.COMMIT_HASH}`, and the app-wide `${APP_URL}`, `${APP_DOMAIN}`,
//! `${APP_ID}` (any `APP_*`). A bare `$VAR` is left alone, unlike `os.Expand`. Action inputs
//! (`INPUT_*`) are refused so that a spec cannot pull the token in.
//!
//! A plain (unquoted) scalar is typed by the field it sets, as App Platform's spec types it
//! ([`super::schema`]), not by its look: `instance_count: ${N}` with `N=2` is the number 2, while
//! `value: ${NODE_VERSION}` with `18.10` stays the string `18.10` and `tag: ${SHA}` with `0451200`
//! the string `0451200` (App Platform refuses a number there, digitalocean/doctl#978). A field the
//! description does not have keeps YAML's core-schema typing. A quoted reference stays a string.
//!
//! `run_command` and `build_command` run in the component's shell, which App Platform gives `PORT`
//! and the spec's env variables: `${PORT}` and `${NAME}` of an env the component sees are left for
//! that shell instead of being read from the CI environment.

/// The toolkit's one heuristic for secret-looking names (`ops_core::secret`), whose values are
/// masked in the log once substituted; re-exported where do-deploy kept its own copy.
use ops_core::secret::looks_secret;
use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;

use super::schema::{self, Kind};
use super::yaml::{Node, Style, source, style};

/// Why a reference could not be substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// `${NAME}` with `NAME` unset or empty.
    Undefined(String),
    /// `${INPUT_…}`: an action input, not a variable.
    Input(String),
    /// `${…}` whose content is not a variable name.
    Malformed(String),
    /// `${` without a closing `}`.
    Unclosed,
    /// `field: ${NAME}` where `NAME`'s value is not of the field's type.
    Type {
        /// The variable.
        name: String,
        /// The field it sets (its key).
        field: String,
        /// What the field takes.
        expected: Kind,
    },
}

/// A problem and the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// 1-based line.
    pub line: u64,
    /// What is wrong.
    pub problem: Problem,
}

/// The spec with every reference replaced.
#[derive(Debug, Clone, PartialEq)]
pub struct Expanded {
    /// The spec as JSON.
    pub value: Value,
    /// Substituted values that should be masked (secret-looking names).
    pub masks: Vec<String>,
    /// Names substituted, in order of first use.
    pub used: Vec<String>,
    /// Names left in `run_command` / `build_command` for the component's shell, in order.
    pub kept: Vec<String>,
}

/// Replaces references throughout the tree.
pub fn expand(
    text: &str,
    root: &Spanned<Node>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Expanded, Vec<Located>> {
    let mut state = State {
        text,
        lookup,
        problems: Vec::new(),
        masks: Vec::new(),
        used: Vec::new(),
        kept: Vec::new(),
        app_envs: env_keys(root),
        shell: Vec::new(),
    };
    let value = state.node(root, "");
    if state.problems.is_empty() {
        Ok(Expanded {
            value,
            masks: state.masks,
            used: state.used,
            kept: state.kept,
        })
    } else {
        Err(state.problems)
    }
}

/// Component kinds whose `run_command` / `build_command` run in a shell App Platform sets up.
const COMMAND_KINDS: [&str; 4] = ["services[]", "workers[]", "jobs[]", "static_sites[]"];

/// The variable App Platform sets in every component's environment at run time.
const PLATFORM_VARS: [&str; 1] = ["PORT"];

struct State<'a> {
    text: &'a str,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    problems: Vec<Located>,
    masks: Vec<String>,
    used: Vec<String>,
    kept: Vec<String>,
    /// Keys of the app-level `envs`.
    app_envs: Vec<String>,
    /// What the current component's shell has: `PORT`, the app's and the component's env keys.
    shell: Vec<String>,
}

impl State<'_> {
    fn node(&mut self, node: &Spanned<Node>, path: &str) -> Value {
        match &node.value {
            Node::Null => Value::Null,
            Node::Bool(_) | Node::Int(_) | Node::Uint(_) | Node::Float(_) => self.literal(node, path),
            Node::Seq(items) => {
                let item_path = format!("{path}[]");
                Value::Array(items.iter().map(|i| self.node(i, &item_path)).collect())
            }
            Node::Map(entries) => {
                let component = COMMAND_KINDS.contains(&path);
                let outer = component.then(|| {
                    let mut shell: Vec<String> = PLATFORM_VARS.iter().map(|v| (*v).to_owned()).collect();
                    shell.extend(self.app_envs.iter().cloned());
                    shell.extend(env_keys(node));
                    std::mem::replace(&mut self.shell, shell)
                });
                let mut map = Map::new();
                for (key, value) in entries {
                    let child = if path.is_empty() {
                        key.value.clone()
                    } else {
                        format!("{path}.{}", key.value)
                    };
                    let v = self.node(value, &child);
                    map.insert(key.value.clone(), v);
                }
                if let Some(outer) = outer {
                    self.shell = outer;
                }
                Value::Object(map)
            }
            Node::Str(s) => self.string(s, node, path),
        }
    }

    /// A plain scalar YAML typed as a number or boolean: the text as written where the field is a
    /// string (`value: 18.10` is `"18.10"`, not 18.1), YAML's value elsewhere.
    fn literal(&self, node: &Spanned<Node>, path: &str) -> Value {
        if schema::kind(path) == Some(Kind::String) {
            let written = source(self.text, node)
                .map(|s| {
                    // `&anchor 5` or `!tag 5`: the scalar is the last word.
                    if s.starts_with(['&', '!']) {
                        s.rsplit(char::is_whitespace).next().unwrap_or(s)
                    } else {
                        s
                    }
                })
                .map(str::to_owned);
            return Value::String(written.unwrap_or_else(|| match &node.value {
                Node::Bool(b) => b.to_string(),
                Node::Int(i) => i.to_string(),
                Node::Uint(u) => u.to_string(),
                Node::Float(f) => f.to_string(),
                _ => String::new(),
            }));
        }
        match &node.value {
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::from(*i),
            Node::Uint(u) => Value::from(*u),
            Node::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            _ => Value::Null,
        }
    }

    fn string(&mut self, s: &str, node: &Spanned<Node>, path: &str) -> Value {
        let line = node.referenced.line();
        let field = path.rsplit('.').next().unwrap_or(path);
        let command = matches!(field, "run_command" | "build_command")
            && path
                .rsplit_once('.')
                .is_some_and(|(parent, _)| COMMAND_KINDS.contains(&parent));
        let shell = &self.shell;
        let keep = |name: &str| command && shell.iter().any(|n| n == name);
        match expand_keeping(s, self.lookup, &keep) {
            Err(problems) => {
                self.problems
                    .extend(problems.into_iter().map(|problem| Located { line, problem }));
                Value::String(s.to_owned())
            }
            Ok(Expansion { out, used, kept }) => {
                for (name, value) in &used {
                    if looks_secret(name) && !self.masks.contains(value) {
                        self.masks.push(value.clone());
                    }
                    if !self.used.contains(name) {
                        self.used.push(name.clone());
                    }
                }
                for name in kept {
                    if !self.kept.contains(&name) {
                        self.kept.push(name);
                    }
                }
                let Some(name) = whole_reference(s).filter(|_| !used.is_empty()) else {
                    return Value::String(out);
                };
                if style(self.text, node) != Style::Plain {
                    return Value::String(out);
                }
                match schema::kind(path) {
                    Some(Kind::String) => Value::String(out),
                    Some(kind) => typed_as(kind, &out).unwrap_or_else(|| {
                        self.problems.push(Located {
                            line,
                            problem: Problem::Type {
                                name: name.to_owned(),
                                field: field.to_owned(),
                                expected: kind,
                            },
                        });
                        Value::String(out)
                    }),
                    None => typed(&out),
                }
            }
        }
    }
}

/// The keys of a component's (or the app's) `envs`.
fn env_keys(node: &Spanned<Node>) -> Vec<String> {
    let Node::Map(entries) = &node.value else {
        return Vec::new();
    };
    let Some((_, envs)) = entries.iter().find(|(k, _)| k.value == "envs") else {
        return Vec::new();
    };
    let Node::Seq(items) = &envs.value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match &item.value {
            Node::Map(fields) => {
                fields
                    .iter()
                    .find(|(k, _)| k.value == "key")
                    .and_then(|(_, v)| match &v.value {
                        Node::Str(key) => Some(key.clone()),
                        _ => None,
                    })
            }
            _ => None,
        })
        .collect()
}

/// A string after substitution, what was substituted and what was left for a shell.
struct Expansion {
    out: String,
    used: Vec<(String, String)>,
    kept: Vec<String>,
}

/// A string after substitution, with the `(name, value)` pairs substituted.
pub type ExpandedStr = (String, Vec<(String, String)>);

/// Expands one string: the result and the `(name, value)` pairs substituted.
pub fn expand_str(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<ExpandedStr, Vec<Problem>> {
    expand_keeping(s, lookup, &|_| false).map(|e| (e.out, e.used))
}

/// [`expand_str`], leaving `${NAME}` as it is where `keep(NAME)`.
fn expand_keeping(
    s: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    keep: &dyn Fn(&str) -> bool,
) -> Result<Expansion, Vec<Problem>> {
    let mut out = String::with_capacity(s.len());
    let mut used = Vec::new();
    let mut kept = Vec::new();
    let mut problems = Vec::new();
    let mut rest = s;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
            continue;
        }
        let Some(after) = tail.strip_prefix("${") else {
            out.push('$');
            rest = &tail[1..];
            continue;
        };
        let Some(end) = after.find('}') else {
            problems.push(Problem::Unclosed);
            out.push_str(tail);
            rest = "";
            break;
        };
        let name = &after[..end];
        rest = &after[end + 1..];
        if is_bindable(name) {
            out.push_str("${");
            out.push_str(name);
            out.push('}');
            continue;
        }
        if !is_name(name) {
            problems.push(Problem::Malformed(name.to_owned()));
            continue;
        }
        if name.starts_with("INPUT_") {
            problems.push(Problem::Input(name.to_owned()));
            continue;
        }
        if keep(name) {
            out.push_str("${");
            out.push_str(name);
            out.push('}');
            kept.push(name.to_owned());
            continue;
        }
        match lookup(name).filter(|v| !v.is_empty()) {
            Some(value) => {
                out.push_str(&value);
                used.push((name.to_owned(), value));
            }
            None => problems.push(Problem::Undefined(name.to_owned())),
        }
    }
    out.push_str(rest);
    if problems.is_empty() {
        Ok(Expansion { out, used, kept })
    } else {
        Err(problems)
    }
}

/// App Platform resolves these itself at deploy time.
fn is_bindable(name: &str) -> bool {
    name.contains('.') || name.starts_with("APP_")
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The name when the whole string is one `${NAME}` reference.
fn whole_reference(s: &str) -> Option<&str> {
    let name = s.strip_prefix("${")?.strip_suffix('}')?;
    is_name(name).then_some(name)
}

/// A substituted plain scalar as the field's kind: `None` when it is not one.
fn typed_as(kind: Kind, value: &str) -> Option<Value> {
    match kind {
        Kind::String => Some(Value::String(value.to_owned())),
        Kind::Integer => {
            let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            value.trim_start_matches('+').parse::<i64>().ok().map(Value::from)
        }
        Kind::Number => match typed_as(Kind::Integer, value) {
            Some(int) => Some(int),
            None => value
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .and_then(Number::from_f64)
                .map(Value::Number),
        },
        Kind::Boolean => match value {
            "true" | "True" | "TRUE" => Some(Value::Bool(true)),
            "false" | "False" | "FALSE" => Some(Value::Bool(false)),
            _ => None,
        },
    }
}

/// A substituted plain scalar in a field the description does not have, typed by the YAML 1.2
/// core schema's int, float and bool rules.
fn typed(value: &str) -> Value {
    if let Ok(i) = value.parse::<i64>()
        && value.bytes().all(|b| b.is_ascii_digit() || b == b'-')
    {
        return Value::from(i);
    }
    match value {
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let numeric = value
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'.'));
    if numeric
        && value.contains('.')
        && let Ok(f) = value.parse::<f64>()
        && let Some(n) = Number::from_f64(f)
    {
        return Value::Number(n);
    }
    Value::String(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "TAG" => Some("v1.2".into()),
            "N" => Some("3".into()),
            "ON" => Some("true".into()),
            "API_TOKEN" => Some("tok-123".into()),
            "EMPTY" => Some(String::new()),
            "INPUT_TOKEN" => Some("dop_v1_x".into()),
            _ => None,
        }
    }

    #[test]
    fn expand_str_table() {
        use Problem::*;
        type Case = (&'static str, Result<&'static str, Vec<Problem>>);
        let cases: Vec<Case> = vec![
            ("plain", Ok("plain")),
            ("image:${TAG}", Ok("image:v1.2")),
            ("${TAG}-${N}", Ok("v1.2-3")),
            ("$${TAG}", Ok("${TAG}")),
            ("cost $5 and $HOME", Ok("cost $5 and $HOME")),
            ("$$", Ok("$$")),
            ("${db.DATABASE_URL}", Ok("${db.DATABASE_URL}")),
            ("${_self.COMMIT_HASH}", Ok("${_self.COMMIT_HASH}")),
            ("${APP_URL}/api", Ok("${APP_URL}/api")),
            ("${MISSING}", Err(vec![Undefined("MISSING".into())])),
            ("${EMPTY}", Err(vec![Undefined("EMPTY".into())])),
            ("${INPUT_TOKEN}", Err(vec![Input("INPUT_TOKEN".into())])),
            ("${foo-bar}", Err(vec![Malformed("foo-bar".into())])),
            ("${}", Err(vec![Malformed(String::new())])),
            ("${TAG", Err(vec![Unclosed])),
            (
                "${A}${B}",
                Err(vec![Undefined("A".into()), Undefined("B".into())]),
            ),
        ];
        for (input, expected) in cases {
            let got = expand_str(input, &lookup).map(|(s, _)| s);
            assert_eq!(got.as_deref().map_err(Clone::clone), expected, "{input:?}");
        }
    }

    #[test]
    fn typed_table() {
        for (value, expected) in [
            ("3", json!(3)),
            ("-4", json!(-4)),
            ("true", json!(true)),
            ("FALSE", json!(false)),
            ("1.5", json!(1.5)),
            ("1e3", json!("1e3")),
            ("0x10", json!("0x10")),
            ("v1", json!("v1")),
            ("+3", json!("+3")),
        ] {
            assert_eq!(typed(value), expected, "{value}");
        }
    }

    #[test]
    fn expand_tree_types_plain_whole_references_and_masks_secrets() {
        let text = "name: web\nservices:\n  - name: api\n    instance_count: ${N}\n    envs:\n      - key: A\n        value: \"${N}\"\n      - key: T\n        value: ${API_TOKEN}\n      - key: F\n        value: ${ON}\n    health_check:\n      port: ${N}\n    github:\n      deploy_on_push: ${ON}\n    unknown_field: ${N}\n";
        let root = super::super::yaml::parse(text).unwrap();
        let out = expand(text, &root, &lookup).unwrap();
        let api = &out.value["services"][0];
        assert_eq!(api["instance_count"], json!(3));
        assert_eq!(api["envs"][0]["value"], json!("3"));
        assert_eq!(api["envs"][1]["value"], json!("tok-123"));
        assert_eq!(api["health_check"]["port"], json!(3));
        assert_eq!(api["github"]["deploy_on_push"], json!(true));
        assert_eq!(
            api["unknown_field"],
            json!(3),
            "YAML's typing where the spec says nothing"
        );
        assert_eq!(out.masks, vec!["tok-123".to_owned()]);
        assert_eq!(out.used, vec!["N", "API_TOKEN", "ON"]);
    }

    /// Typed substitution turned env values and image tags into numbers and booleans (`18.10` →
    /// 18.1, `00501` → 501, a short SHA of digits → a number, `false` → a boolean), which App
    /// Platform refuses (digitalocean/doctl#978), and a numeric tag warned about `latest`.
    #[test]
    fn string_fields_stay_strings_whatever_their_value_looks_like() {
        let vars = |name: &str| {
            match name {
                "NODE_VERSION" => Some("18.10"),
                "ZIP" => Some("00501"),
                "SHA" => Some("0451200"),
                "DEBUG" => Some("false"),
                "DATE" => Some("20240101"),
                _ => None,
            }
            .map(str::to_owned)
        };
        let text = "name: web\nenvs:\n  - key: ZIP\n    value: ${ZIP}\nservices:\n  - name: api\n    envs:\n      - key: NODE_VERSION\n        value: ${NODE_VERSION}\n      - key: DEBUG\n        value: ${DEBUG}\n      - key: LITERAL\n        value: 18.10\n      - key: OFF\n        value: false\n    image:\n      registry_type: GHCR\n      repository: api\n      tag: ${SHA}\n  - name: web\n    image:\n      registry_type: GHCR\n      repository: web\n      tag: 20240101\njobs:\n  - name: migrate\n    image:\n      registry_type: DOCR\n      repository: m\n      tag: ${DATE}\n";
        let root = super::super::yaml::parse(text).unwrap();
        let out = expand(text, &root, &vars).unwrap().value;
        assert_eq!(out["envs"][0]["value"], json!("00501"));
        let envs = &out["services"][0]["envs"];
        assert_eq!(envs[0]["value"], json!("18.10"));
        assert_eq!(envs[1]["value"], json!("false"));
        assert_eq!(envs[2]["value"], json!("18.10"), "a literal is sent as written");
        assert_eq!(envs[3]["value"], json!("false"));
        assert_eq!(out["services"][0]["image"]["tag"], json!("0451200"));
        assert_eq!(out["services"][1]["image"]["tag"], json!("20240101"));
        assert_eq!(out["jobs"][0]["image"]["tag"], json!("20240101"));
    }

    #[test]
    fn a_value_that_is_not_of_the_fields_type_is_reported() {
        let vars = |name: &str| (name == "N").then(|| "two".to_owned());
        let text = "name: web\nservices:\n  - name: api\n    instance_count: ${N}\n    http_port: \"${N}\"\n";
        let root = super::super::yaml::parse(text).unwrap();
        let problems = expand(text, &root, &vars).unwrap_err();
        assert_eq!(
            problems,
            vec![Located {
                line: 4,
                problem: Problem::Type {
                    name: "N".into(),
                    field: "instance_count".into(),
                    expected: Kind::Integer
                }
            }]
        );
    }

    #[test]
    fn typed_as_table() {
        for (kind, value, want) in [
            (Kind::Integer, "3", Some(json!(3))),
            (Kind::Integer, "+3", Some(json!(3))),
            (Kind::Integer, "-4", Some(json!(-4))),
            (Kind::Integer, "00501", Some(json!(501))),
            (Kind::Integer, "1.5", None),
            (Kind::Integer, "-", None),
            (Kind::Number, "1.5", Some(json!(1.5))),
            (Kind::Number, "80", Some(json!(80))),
            (Kind::Number, "NaN", None),
            (Kind::Boolean, "TRUE", Some(json!(true))),
            (Kind::Boolean, "yes", None),
            (Kind::String, "18.10", Some(json!("18.10"))),
        ] {
            assert_eq!(typed_as(kind, value), want, "{kind:?} {value}");
        }
    }

    /// `${PORT}` in a command, a variable App Platform sets at run time, was read from the CI
    /// environment: exit 2 when unset there, silently replaced when set.
    #[test]
    fn commands_keep_what_the_components_shell_sets() {
        let vars = |name: &str| {
            match name {
                "PORT" => Some("9999"),
                "SECRET_KEY" => Some("from-ci"),
                "VERSION" => Some("1.2.3"),
                _ => None,
            }
            .map(str::to_owned)
        };
        let text = "name: web\nenvs:\n  - key: LOG_LEVEL\n    value: info\nservices:\n  - name: api\n    envs:\n      - key: SECRET_KEY\n        value: ${SECRET_KEY}\n    run_command: gunicorn --bind 0.0.0.0:${PORT} --log-level ${LOG_LEVEL} app:v${VERSION}\n    build_command: echo ${PORT} ${SECRET_KEY}\n    envs_note: ${PORT}\nworkers:\n  - name: w\n    run_command: ./work ${SECRET_KEY} ${PORT}\n";
        let root = super::super::yaml::parse(text).unwrap();
        let out = expand(text, &root, &vars).unwrap();
        let api = &out.value["services"][0];
        assert_eq!(
            api["run_command"],
            json!("gunicorn --bind 0.0.0.0:${PORT} --log-level ${LOG_LEVEL} app:v1.2.3")
        );
        assert_eq!(api["build_command"], json!("echo ${PORT} ${SECRET_KEY}"));
        assert_eq!(api["envs"][0]["value"], json!("from-ci"));
        assert_eq!(api["envs_note"], json!(9999), "only commands keep them");
        assert_eq!(
            out.value["workers"][0]["run_command"],
            json!("./work from-ci ${PORT}"),
            "another component's envs are not this one's"
        );
        assert_eq!(out.kept, vec!["PORT", "LOG_LEVEL", "SECRET_KEY"]);
        let unset = |_: &str| None;
        let text = "name: web\nservices:\n  - name: api\n    run_command: serve --port ${PORT}\n";
        let root = super::super::yaml::parse(text).unwrap();
        assert!(
            expand(text, &root, &unset).is_ok(),
            "`PORT` need not be set in CI"
        );
    }

    /// do-deploy kept its own secret-name heuristic, which missed names the toolkit's shared one
    /// masks (`*PWD*`, `*SESSION*`, `*JWT*`, …): one heuristic for all tools now.
    #[test]
    fn values_of_names_the_shared_heuristic_calls_secret_are_masked() {
        let vars = |name: &str| match name {
            "DB_PWD" => Some("pw-value".to_owned()),
            "SESSION_SECRET_SALT" | "JWT_SIGNING" => Some(format!("{name}-value")),
            "REGION" => Some("ams3".to_owned()),
            _ => None,
        };
        let text = "name: web\nenvs:\n  - key: A\n    value: ${DB_PWD}\n  - key: B\n    value: ${JWT_SIGNING}\n  - key: C\n    value: ${REGION}\n";
        let root = super::super::yaml::parse(text).unwrap();
        let out = expand(text, &root, &vars).unwrap();
        assert_eq!(out.masks, vec!["pw-value", "JWT_SIGNING-value"]);
        assert!(looks_secret("SESSION_SECRET_SALT") && !looks_secret("REGION"));
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = "name: web\n# ${IN_A_COMMENT}\nservices:\n  - name: api\n    image:\n      tag: ${MISSING}\n    envs:\n      - key: X\n        value: \"${ALSO_MISSING} ${INPUT_TOKEN}\"\n";
        let root = super::super::yaml::parse(text).unwrap();
        let problems = expand(text, &root, &lookup).unwrap_err();
        assert_eq!(
            problems,
            vec![
                Located {
                    line: 6,
                    problem: Problem::Undefined("MISSING".into())
                },
                Located {
                    line: 9,
                    problem: Problem::Undefined("ALSO_MISSING".into())
                },
                Located {
                    line: 9,
                    problem: Problem::Input("INPUT_TOKEN".into())
                },
            ]
        );
    }
}
