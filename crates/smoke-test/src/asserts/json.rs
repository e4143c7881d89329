//! `json: [{path: $.user.id, equals: 7}]`: JSONPath or JSON Pointer with `equals`, `matches`, `exists`,
//! `type` and `count`.
//!
//! A definite query (no `*`, no `..`) tests its one value; a wildcard query tests every value it selects
//! and needs at least one. `count` is the array's length for a definite query and the number of matches
//! for a wildcard query.

use regex::Regex;
use serde_json::Value;

use super::{Response, excerpt};
use crate::measure::NumberBound;
use crate::query::{Query, as_text, has_type, type_of};

/// What a JSON assert tests.
#[derive(Debug, Clone)]
pub enum JsonTest {
    /// Equal to this value (numbers compare by value: `1` equals `1.0`).
    Equals(Value),
    /// The value as text matches.
    Matches(Regex),
    /// The query selects something (or nothing).
    Exists(bool),
    /// JSON type.
    Type(String),
    /// Array length or number of matches.
    Count(NumberBound),
}

/// Checks one JSON assert.
pub fn check(query: &Query, test: &JsonTest, response: &Response<'_>) -> Result<(), String> {
    let root = response.json()?;
    let found = query.select(root);
    let subject = format!("`{query}`");
    match test {
        JsonTest::Exists(true) if found.is_empty() => Err(format!("{subject} selects nothing")),
        JsonTest::Exists(false) if !found.is_empty() => Err(format!(
            "{subject} exists (`{}`), expected it absent",
            excerpt(&as_text(found[0]))
        )),
        JsonTest::Exists(_) => Ok(()),
        JsonTest::Count(bound) => {
            let count = if query.is_definite() {
                match found.first() {
                    Some(Value::Array(items)) => items.len(),
                    Some(other) => {
                        return Err(format!("{subject} is {}, not an array to count", type_of(other)));
                    }
                    None => return Err(format!("{subject} selects nothing")),
                }
            } else {
                found.len()
            };
            let count = i64::try_from(count).unwrap_or(i64::MAX);
            if bound.holds(count) {
                Ok(())
            } else {
                Err(format!("{subject} has {count} items, expected {bound}"))
            }
        }
        _ if found.is_empty() => Err(format!("{subject} selects nothing")),
        JsonTest::Equals(expected) => every(&found, |v| {
            if json_equal(v, expected) {
                Ok(())
            } else {
                Err(format!(
                    "{subject} is `{}`, expected `{}`",
                    excerpt(&v.to_string()),
                    excerpt(&expected.to_string())
                ))
            }
        }),
        JsonTest::Matches(re) => every(&found, |v| {
            let text = as_text(v);
            if re.is_match(&text) {
                Ok(())
            } else {
                Err(format!(
                    "{subject} is `{}`, which does not match `{}`",
                    excerpt(&text),
                    re.as_str()
                ))
            }
        }),
        JsonTest::Type(name) => every(&found, |v| {
            if has_type(v, name) {
                Ok(())
            } else {
                Err(format!("{subject} is {}, expected {name}", type_of(v)))
            }
        }),
    }
}

fn every(found: &[&Value], test: impl Fn(&Value) -> Result<(), String>) -> Result<(), String> {
    found.iter().try_for_each(|v| test(v))
}

/// JSON equality where numbers compare by value (`1` = `1.0`), as people mean it in a checks file.
fn json_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) if !(a.is_f64() || b.is_f64()) => a == b || x == y,
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => left == right,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asserts::testing::exchange;
    use crate::measure::Op;
    use serde_json::json;

    const BODY: &str =
        r#"{"user":{"id":7,"name":"smoke","score":1.0},"items":[{"id":1},{"id":2}],"tags":[]}"#;

    fn run(query: &str, test: JsonTest) -> Result<(), String> {
        let ex = exchange(200, &[], BODY);
        let r = Response::new(&ex, std::time::SystemTime::UNIX_EPOCH);
        check(&Query::parse(query).unwrap(), &test, &r)
    }

    #[test]
    fn json_table() {
        let count = |raw: &str| JsonTest::Count(NumberBound::parse(raw, Op::Eq).unwrap());
        for (query, test, ok) in [
            ("$.user.id", JsonTest::Equals(json!(7)), true),
            ("$.user.id", JsonTest::Equals(json!(7.0)), true),
            ("$.user.score", JsonTest::Equals(json!(1)), true),
            ("/user/name", JsonTest::Equals(json!("smoke")), true),
            ("$.user.name", JsonTest::Equals(json!("other")), false),
            (
                "$.user",
                JsonTest::Equals(json!({"name": "smoke", "id": 7, "score": 1})),
                true,
            ),
            ("$.user.name", JsonTest::Matches(Regex::new("^sm").unwrap()), true),
            ("$.user.id", JsonTest::Matches(Regex::new("^7$").unwrap()), true),
            ("$.user.email", JsonTest::Exists(false), true),
            ("$.user.email", JsonTest::Exists(true), false),
            ("$.user.id", JsonTest::Type("integer".into()), true),
            ("$.user.id", JsonTest::Type("string".into()), false),
            ("$.items[*].id", JsonTest::Type("integer".into()), true),
            ("$.items", count("2"), true),
            ("$.items", count(">= 3"), false),
            ("$.items[*]", count("2"), true),
            ("$.tags", count("0"), true),
            ("$.tags[*].x", JsonTest::Equals(json!(1)), false),
            ("$.user.name", count("1"), false),
        ] {
            assert_eq!(run(query, test.clone()).is_ok(), ok, "{query} {test:?}");
        }
    }

    #[test]
    fn messages() {
        assert_eq!(
            run("$.user.name", JsonTest::Equals(json!("other"))).unwrap_err(),
            "`$.user.name` is `\"smoke\"`, expected `\"other\"`"
        );
        assert_eq!(
            run(
                "$.items",
                JsonTest::Count(NumberBound::parse(">= 3", Op::Eq).unwrap())
            )
            .unwrap_err(),
            "`$.items` has 2 items, expected >= 3"
        );
        let ex = exchange(200, &[], "<html>");
        let r = Response::new(&ex, std::time::SystemTime::UNIX_EPOCH);
        let err = check(&Query::parse("$.a").unwrap(), &JsonTest::Exists(true), &r).unwrap_err();
        assert!(err.starts_with("the body is not JSON"), "{err}");
    }
}
