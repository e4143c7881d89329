//! The app spec as YAML, read with the position of every scalar so that a substitution error can
//! name its line.
//!
//! serde-saphyr's `Spanned<T>` gives each node where it was written; whether a scalar was quoted is
//! read from the source at that position, because a plain `instance_count: ${N}` must become a number
//! after substitution while a quoted `value: "${N}"` stays a string.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A YAML node with positions.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `~`, `null` or nothing.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer too large for `i64`.
    Uint(u64),
    /// A float.
    Float(f64),
    /// A string scalar.
    Str(String),
    /// A sequence.
    Seq(Vec<Spanned<Self>>),
    /// A mapping, in source order.
    Map(Vec<(Spanned<String>, Spanned<Self>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_none<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
                Node::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
                Ok(i64::try_from(v).map_or(Node::Uint(v), Node::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Node, E> {
                Ok(Node::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<Node>>()? {
                    items.push(item);
                }
                Ok(Node::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let value = map.next_value::<Spanned<Node>>()?;
                    entries.push((key, value));
                }
                Ok(Node::Map(entries))
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line, when the parser gave one.
    pub line: Option<u64>,
    /// What is wrong, with the parser's own position prefix removed.
    pub message: String,
}

/// Parses a document into a positioned tree.
pub fn parse(text: &str) -> Result<Spanned<Node>, SyntaxError> {
    serde_saphyr::from_str::<Spanned<Node>>(text).map_err(|e| split_position(&e.to_string()))
}

/// `error: line 3 column 11: unclosed bracket` → line 3 and the rest.
fn split_position(text: &str) -> SyntaxError {
    let first = text.lines().next().unwrap_or_default();
    let rest = first.strip_prefix("error: ").unwrap_or(first);
    if let Some(after) = rest.strip_prefix("line ")
        && let Some((number, tail)) = after.split_once(' ')
        && let Ok(line) = number.parse::<u64>()
    {
        let tail = tail
            .strip_prefix("column ")
            .and_then(|t| t.split_once(": ").map(|(_, m)| m))
            .unwrap_or(tail);
        return SyntaxError {
            line: Some(line),
            message: tail.trim().to_owned(),
        };
    }
    SyntaxError {
        line: None,
        message: rest.trim().to_owned(),
    }
}

/// How a scalar was written, read from the source at its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Unquoted: the YAML core schema types it (`3` is a number).
    Plain,
    /// Quoted or a block scalar: always a string.
    Literal,
}

/// The style of the scalar defined at `node`'s position in `text`. A block scalar's position is its
/// content, so its `|` or `>` header is found by looking back past whitespace and indicators.
pub fn style(text: &str, node: &Spanned<Node>) -> Style {
    let Some(offset) = node
        .defined
        .span()
        .byte_offset()
        .and_then(|o| usize::try_from(o).ok())
        .filter(|o| *o <= text.len())
    else {
        return Style::Plain;
    };
    if matches!(text.as_bytes().get(offset), Some(b'"' | b'\'')) {
        return Style::Literal;
    }
    let before = text.as_bytes()[..offset]
        .iter()
        .rev()
        .copied()
        .skip_while(u8::is_ascii_whitespace)
        .find(|b| !(b.is_ascii_digit() || matches!(b, b'-' | b'+')));
    match before {
        Some(b'|' | b'>') => Style::Literal,
        _ => Style::Plain,
    }
}

/// The source text of the scalar at `node`'s position: `18.10` as written, where the parsed value
/// is the float 18.1. `None` when the parser gave no byte position.
pub fn source<'t>(text: &'t str, node: &Spanned<Node>) -> Option<&'t str> {
    let span = node.defined.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    text.get(start..start.checked_add(len)?)
        .map(str::trim_end)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(node: &'a Spanned<Node>, key: &str) -> &'a Spanned<Node> {
        match &node.value {
            Node::Map(entries) => &entries.iter().find(|(k, _)| k.value == key).unwrap().1,
            other => panic!("not a map: {other:?}"),
        }
    }

    #[test]
    fn positions_and_styles() {
        let text = "name: web\nservices:\n  - name: api\n    instance_count: ${N}\n    a: \"${A}\"\n    b: 'x'\n    c: |\n      block\n    d: 7\n";
        let root = parse(text).unwrap();
        let services = get(&root, "services");
        let Node::Seq(items) = &services.value else {
            panic!()
        };
        let api = &items[0];
        let count = get(api, "instance_count");
        assert_eq!(count.value, Node::Str("${N}".into()));
        assert_eq!(count.referenced.line(), 4);
        assert_eq!(style(text, count), Style::Plain);
        assert_eq!(style(text, get(api, "a")), Style::Literal);
        assert_eq!(style(text, get(api, "b")), Style::Literal);
        assert_eq!(style(text, get(api, "c")), Style::Literal);
        assert_eq!(get(api, "d").value, Node::Int(7));
    }

    #[test]
    fn plain_scalars_keep_their_source_text() {
        let text = "a: 18.10\nb: 00501   # zip\nc: false\nd: [1.50, 0x1F]\ne: 20240101\nf:\n  - 1e3\n";
        let root = parse(text).unwrap();
        for (key, want) in [("a", "18.10"), ("b", "00501"), ("c", "false"), ("e", "20240101")] {
            assert_eq!(source(text, get(&root, key)), Some(want), "{key}");
        }
        let Node::Seq(items) = &get(&root, "d").value else {
            panic!()
        };
        assert_eq!(source(text, &items[0]), Some("1.50"));
        assert_eq!(source(text, &items[1]), Some("0x1F"));
        let Node::Seq(items) = &get(&root, "f").value else {
            panic!()
        };
        assert_eq!(source(text, &items[0]), Some("1e3"));
    }

    #[test]
    fn syntax_errors_carry_the_line() {
        let err = parse("name: web\nservices:\n  - name: [\n").unwrap_err();
        assert_eq!(err.line, Some(3), "{err:?}");
        assert!(err.message.contains("bracket"), "{err:?}");
        let err = parse("a: 1\na: 2\n").unwrap_err();
        assert_eq!(err.line, Some(2), "{err:?}");
        assert!(err.message.contains("duplicate"), "{err:?}");
    }

    #[test]
    fn split_position_table() {
        for (text, line, message) in [
            (
                "error: line 3 column 11: unclosed bracket '['",
                Some(3),
                "unclosed bracket '['",
            ),
            (
                "line 2 column 1: duplicate mapping key: a",
                Some(2),
                "duplicate mapping key: a",
            ),
            ("something else", None, "something else"),
        ] {
            let got = split_position(text);
            assert_eq!((got.line, got.message.as_str()), (line, message), "{text}");
        }
    }
}
