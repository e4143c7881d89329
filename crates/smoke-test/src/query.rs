//! JSON queries: a JSONPath subset (`$.items[0].id`, `$['a-b']`, `$.items[*].id`, `$..id`) and JSON
//! Pointer (`/items/0/id`, RFC 6901).
//!
//! The subset covers what smoke checks use; filters (`[?(@.x)]`), slices and unions are refused with a
//! message that suggests a pointer or a simpler path, so a query never silently means something else.

use std::fmt;

use serde_json::Value;

/// One step of a JSONPath.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `.name` or `['name']`
    Key(String),
    /// `[3]`, `[-1]`
    Index(i64),
    /// `.*` or `[*]`
    Wildcard,
    /// `..name`
    Descend(String),
}

/// A parsed query: JSONPath or JSON Pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    text: String,
    path: Option<Vec<Segment>>,
}

impl Query {
    /// Parses `$…` as JSONPath and `/…` (or the empty pointer `""`) as JSON Pointer.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if text.is_empty() || text.starts_with('/') {
            return Ok(Self {
                text: text.to_owned(),
                path: None,
            });
        }
        if !text.starts_with('$') {
            return Err(format!(
                "expected a JSONPath starting with `$` (like `$.data.id`) or a JSON Pointer starting with `/`, got `{raw}`"
            ));
        }
        Ok(Self {
            text: text.to_owned(),
            path: Some(parse_path(text)?),
        })
    }

    /// Whether the query names at most one value (no wildcard, no descent).
    pub fn is_definite(&self) -> bool {
        self.path.as_ref().is_none_or(|segments| {
            segments
                .iter()
                .all(|s| matches!(s, Segment::Key(_) | Segment::Index(_)))
        })
    }

    /// The values the query selects, in document order.
    pub fn select<'v>(&self, root: &'v Value) -> Vec<&'v Value> {
        match &self.path {
            None => root.pointer(&self.text).into_iter().collect(),
            Some(segments) => {
                let mut current = vec![root];
                for segment in segments {
                    let mut next = Vec::new();
                    for value in current {
                        step(segment, value, &mut next);
                    }
                    current = next;
                }
                current
            }
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn step<'v>(segment: &Segment, value: &'v Value, out: &mut Vec<&'v Value>) {
    match segment {
        Segment::Key(key) => out.extend(value.as_object().and_then(|o| o.get(key))),
        Segment::Index(index) => {
            if let Some(items) = value.as_array() {
                let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                let at = if *index < 0 { len + index } else { *index };
                if let Ok(at) = usize::try_from(at) {
                    out.extend(items.get(at));
                }
            }
        }
        Segment::Wildcard => match value {
            Value::Array(items) => out.extend(items.iter()),
            Value::Object(map) => out.extend(map.values()),
            _ => {}
        },
        Segment::Descend(key) => descend(key, value, out),
    }
}

fn descend<'v>(key: &str, value: &'v Value, out: &mut Vec<&'v Value>) {
    match value {
        Value::Object(map) => {
            if let Some(found) = map.get(key) {
                out.push(found);
            }
            for child in map.values() {
                descend(key, child, out);
            }
        }
        Value::Array(items) => {
            for child in items {
                descend(key, child, out);
            }
        }
        _ => {}
    }
}

fn parse_path(text: &str) -> Result<Vec<Segment>, String> {
    let unsupported = |what: &str| {
        format!(
            "JSONPath `{text}` uses {what}, which is not supported; use names, indexes, `*` and `..name`, or a JSON Pointer"
        )
    };
    let chars: Vec<char> = text.chars().collect();
    let mut i = 1;
    let mut segments = Vec::new();
    while i < chars.len() {
        match chars[i] {
            '.' => {
                let descend = chars.get(i + 1) == Some(&'.');
                i += if descend { 2 } else { 1 };
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-' | '$' | '*'))
                {
                    i += 1;
                }
                let name: String = chars[start..i].iter().collect();
                if name.is_empty() {
                    return Err(format!(
                        "JSONPath `{text}` has an empty name at character {}",
                        start + 1
                    ));
                }
                segments.push(match (descend, name.as_str()) {
                    (false, "*") => Segment::Wildcard,
                    (true, "*") => return Err(unsupported("`..*`")),
                    (true, _) => Segment::Descend(name),
                    (false, _) => Segment::Key(name),
                });
            }
            '[' => {
                let close = chars[i..]
                    .iter()
                    .position(|&c| c == ']')
                    .map(|p| p + i)
                    .ok_or_else(|| format!("JSONPath `{text}` has a `[` without `]`"))?;
                let inner: String = chars[i + 1..close].iter().collect();
                let inner = inner.trim();
                segments.push(if inner == "*" {
                    Segment::Wildcard
                } else if let Some(quoted) = inner
                    .strip_prefix('\'')
                    .and_then(|s| s.strip_suffix('\''))
                    .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
                {
                    Segment::Key(quoted.to_owned())
                } else if inner.starts_with('?') {
                    return Err(unsupported("a filter"));
                } else if inner.contains(':') {
                    return Err(unsupported("a slice"));
                } else if inner.contains(',') {
                    return Err(unsupported("a union"));
                } else {
                    Segment::Index(inner.parse().map_err(|_| {
                        format!("JSONPath `{text}`: expected an index, `*` or a quoted name inside `[]`, got `{inner}`")
                    })?)
                });
                i = close + 1;
            }
            other => {
                return Err(format!(
                    "JSONPath `{text}`: unexpected `{other}` at character {}",
                    i + 1
                ));
            }
        }
    }
    Ok(segments)
}

/// The JSON type names `type:` accepts.
pub const TYPES: [&str; 7] = [
    "string", "number", "integer", "boolean", "array", "object", "null",
];

/// Whether `value` has the JSON type `name` (`integer` is a number without a fraction).
pub fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => false,
    }
}

/// The JSON type name of `value`.
pub fn type_of(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "string",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    }
}

/// A value as text: strings bare, everything else as compact JSON.
pub fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "sha": "abc123",
            "data": {"user": {"name": "smoke", "id": 7}, "tags": ["a", "b"]},
            "items": [{"id": 1}, {"id": 2}, {"id": 3, "child": {"id": 4}}],
            "a-b": {"c d": true}
        })
    }

    #[test]
    fn selects_table() {
        let doc = doc();
        for (query, expected) in [
            ("$.sha", vec![json!("abc123")]),
            ("$.data.user.name", vec![json!("smoke")]),
            ("$['a-b']['c d']", vec![json!(true)]),
            ("$.a-b", vec![json!({"c d": true})]),
            ("$.items[0].id", vec![json!(1)]),
            ("$.items[-1].id", vec![json!(3)]),
            ("$.items[*].id", vec![json!(1), json!(2), json!(3)]),
            ("$.data.tags.*", vec![json!("a"), json!("b")]),
            ("$..id", vec![json!(7), json!(1), json!(2), json!(3), json!(4)]),
            ("$.items[9]", vec![]),
            ("$.missing.deeper", vec![]),
            ("/data/user/id", vec![json!(7)]),
            ("/items/1/id", vec![json!(2)]),
            ("/nope", vec![]),
            ("$", vec![doc.clone()]),
        ] {
            let q = Query::parse(query).unwrap();
            let got: Vec<Value> = q.select(&doc).into_iter().cloned().collect();
            assert_eq!(got, expected, "{query}");
        }
    }

    #[test]
    fn definite_queries() {
        assert!(Query::parse("$.a[0].b").unwrap().is_definite());
        assert!(Query::parse("/a/0").unwrap().is_definite());
        assert!(!Query::parse("$.a[*]").unwrap().is_definite());
        assert!(!Query::parse("$..a").unwrap().is_definite());
    }

    #[test]
    fn refuses_what_it_does_not_support() {
        for (query, needle) in [
            ("$.items[?(@.id > 1)]", "filter"),
            ("$.items[0:2]", "slice"),
            ("$.items[0,1]", "union"),
            ("items.id", "starting with `$`"),
            ("$.items[", "without `]`"),
            ("$.", "empty name"),
            ("$.items[x]", "expected an index"),
            ("$ .a", "unexpected"),
        ] {
            let err = Query::parse(query).unwrap_err();
            assert!(err.contains(needle), "{query}: {err}");
        }
    }

    #[test]
    fn types() {
        assert!(has_type(&json!(1), "integer") && has_type(&json!(1), "number"));
        assert!(!has_type(&json!(1.5), "integer"));
        assert_eq!(type_of(&json!(1.5)), "number");
        assert_eq!(type_of(&json!([])), "array");
        assert_eq!(as_text(&json!("x")), "x");
        assert_eq!(as_text(&json!({"a": 1})), r#"{"a":1}"#);
    }
}
