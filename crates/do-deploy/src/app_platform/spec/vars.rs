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
//! A plain (unquoted) scalar that is exactly one `${VAR}` is typed after substitution, as if the
//! value had been written there: `instance_count: ${N}` with `N=2` is the number 2. A quoted one
//! stays a string.

use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;

use super::yaml::{Node, Style, style};

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
    };
    let value = state.node(root);
    if state.problems.is_empty() {
        Ok(Expanded {
            value,
            masks: state.masks,
            used: state.used,
        })
    } else {
        Err(state.problems)
    }
}

struct State<'a> {
    text: &'a str,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    problems: Vec<Located>,
    masks: Vec<String>,
    used: Vec<String>,
}

impl State<'_> {
    fn node(&mut self, node: &Spanned<Node>) -> Value {
        match &node.value {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::from(*i),
            Node::Uint(u) => Value::from(*u),
            Node::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Node::Seq(items) => Value::Array(items.iter().map(|i| self.node(i)).collect()),
            Node::Map(entries) => {
                let mut map = Map::new();
                for (key, value) in entries {
                    let v = self.node(value);
                    map.insert(key.value.clone(), v);
                }
                Value::Object(map)
            }
            Node::Str(s) => self.string(s, node),
        }
    }

    fn string(&mut self, s: &str, node: &Spanned<Node>) -> Value {
        let line = node.referenced.line();
        match expand_str(s, self.lookup) {
            Err(problems) => {
                self.problems
                    .extend(problems.into_iter().map(|problem| Located { line, problem }));
                Value::String(s.to_owned())
            }
            Ok((out, names)) => {
                for (name, value) in &names {
                    if looks_secret(name) && !self.masks.contains(value) {
                        self.masks.push(value.clone());
                    }
                    if !self.used.contains(name) {
                        self.used.push(name.clone());
                    }
                }
                if whole_reference(s).is_some() && style(self.text, node) == Style::Plain {
                    typed(&out)
                } else {
                    Value::String(out)
                }
            }
        }
    }
}

/// A string after substitution, with the `(name, value)` pairs substituted.
pub type ExpandedStr = (String, Vec<(String, String)>);

/// Expands one string: the result and the `(name, value)` pairs substituted.
pub fn expand_str(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<ExpandedStr, Vec<Problem>> {
    let mut out = String::with_capacity(s.len());
    let mut used = Vec::new();
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
        Ok((out, used))
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

/// A substituted plain scalar, typed by the YAML 1.2 core schema's int, float and bool rules.
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

/// Names whose values are masked in the log once substituted.
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "TOKEN",
        "SECRET",
        "PASS",
        "KEY",
        "CREDENTIAL",
        "PRIVATE",
        "AUTH",
        "DSN",
        "CERT",
    ]
    .iter()
    .any(|needle| upper.contains(needle))
        || upper.ends_with("DATABASE_URL")
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
        let text = "name: web\nservices:\n  - name: api\n    instance_count: ${N}\n    envs:\n      - key: A\n        value: \"${N}\"\n      - key: T\n        value: ${API_TOKEN}\n      - key: F\n        value: ${ON}\n";
        let root = super::super::yaml::parse(text).unwrap();
        let out = expand(text, &root, &lookup).unwrap();
        assert_eq!(out.value["services"][0]["instance_count"], json!(3));
        assert_eq!(out.value["services"][0]["envs"][0]["value"], json!("3"));
        assert_eq!(out.value["services"][0]["envs"][1]["value"], json!("tok-123"));
        assert_eq!(out.value["services"][0]["envs"][2]["value"], json!(true));
        assert_eq!(out.masks, vec!["tok-123".to_owned()]);
        assert_eq!(out.used, vec!["N", "API_TOKEN", "ON"]);
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

    #[test]
    fn secret_names() {
        for (name, secret) in [
            ("API_TOKEN", true),
            ("DB_PASSWORD", true),
            ("STRIPE_KEY", true),
            ("DATABASE_URL", true),
            ("SENTRY_DSN", true),
            ("TAG", false),
            ("REPLICAS", false),
        ] {
            assert_eq!(looks_secret(name), secret, "{name}");
        }
    }
}
