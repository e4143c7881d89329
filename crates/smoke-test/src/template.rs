//! Templates in checks files: `${NAME}` reads an environment variable when the file is loaded (a missing
//! one is an error, never an empty string), `{{name}}` reads a value captured from an earlier response
//! when the request is sent. `$${` writes a literal `${`.

use std::collections::BTreeMap;

/// Values captured from earlier responses, by name.
pub type Captures = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Capture(String),
}

/// A string with its environment variables resolved and its captures still open.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    parts: Vec<Part>,
}

/// An environment variable a template used, so the caller can decide whether to mask it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvUse {
    /// The variable's name.
    pub name: String,
    /// Its value.
    pub value: String,
}

impl Template {
    /// A template with no placeholders.
    pub fn literal(text: impl Into<String>) -> Self {
        Self {
            parts: vec![Part::Lit(text.into())],
        }
    }

    /// Parses `raw`, resolving `${NAME}` with `lookup`; every variable used is appended to `used`.
    pub fn parse(
        raw: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
        used: &mut Vec<EnvUse>,
    ) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = raw;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("$${") {
                lit.push_str("${");
                rest = after;
            } else if let Some(after) = rest.strip_prefix("${") {
                let end = after
                    .find('}')
                    .ok_or_else(|| format!("`${{` without a closing `}}` in `{raw}`"))?;
                let name = after[..end].trim();
                if !is_name(name) {
                    return Err(format!(
                        "`${{{name}}}` is not an environment variable name (letters, digits and `_`)"
                    ));
                }
                let value = lookup(name).ok_or_else(|| {
                    format!("environment variable `{name}` is not set (used as `${{{name}}}`)")
                })?;
                lit.push_str(&value);
                used.push(EnvUse {
                    name: name.to_owned(),
                    value,
                });
                rest = &after[end + 1..];
            } else if let Some(after) = rest.strip_prefix("{{") {
                let end = after
                    .find("}}")
                    .ok_or_else(|| format!("`{{{{` without a closing `}}}}` in `{raw}`"))?;
                let name = after[..end].trim();
                if !is_capture_name(name) {
                    return Err(format!(
                        "`{{{{{name}}}}}` is not a capture name (letters, digits, `_` and `-`)"
                    ));
                }
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                parts.push(Part::Capture(name.to_owned()));
                rest = &after[end + 2..];
            } else {
                let mut chars = rest.chars();
                if let Some(c) = chars.next() {
                    lit.push(c);
                }
                rest = chars.as_str();
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Self { parts })
    }

    /// The captures this template reads.
    pub fn captures(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Capture(name) => Some(name.as_str()),
            Part::Lit(_) => None,
        })
    }

    /// The text with captures filled in; a capture that is missing is an error naming it.
    pub fn render(&self, captures: &Captures) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(text) => out.push_str(text),
                Part::Capture(name) => out.push_str(
                    captures
                        .get(name)
                        .ok_or_else(|| format!("capture `{name}` has no value"))?,
                ),
            }
        }
        Ok(out)
    }

    /// The text with each capture shown as `{{name}}`, for logs before a run.
    pub fn display(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Lit(text) => text.clone(),
                Part::Capture(name) => format!("{{{{{name}}}}}"),
            })
            .collect()
    }
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `name` is a valid capture name.
pub fn is_capture_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("example.test".to_owned()),
            "TOKEN" => Some("s3cr3t".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn parse_and_render_table() {
        let captures: Captures = [("id".to_owned(), "42".to_owned())].into();
        for (raw, rendered, used) in [
            ("plain", "plain", vec![]),
            ("https://${HOST}/x", "https://example.test/x", vec!["HOST"]),
            ("Bearer ${ TOKEN }", "Bearer s3cr3t", vec!["TOKEN"]),
            ("/users/{{id}}", "/users/42", vec![]),
            ("/users/{{ id }}/${HOST}", "/users/42/example.test", vec!["HOST"]),
            ("cost: $${HOST} $5", "cost: ${HOST} $5", vec![]),
            ("ünïcode {{id}}", "ünïcode 42", vec![]),
        ] {
            let mut seen = Vec::new();
            let t = Template::parse(raw, &lookup, &mut seen).unwrap();
            assert_eq!(t.render(&captures).unwrap(), rendered, "{raw}");
            let names: Vec<&str> = seen.iter().map(|u| u.name.as_str()).collect();
            assert_eq!(names, used, "{raw}");
        }
    }

    #[test]
    fn errors_table() {
        for (raw, needle) in [
            ("${MISSING}", "environment variable `MISSING` is not set"),
            ("${HOST", "without a closing"),
            ("${1X}", "not an environment variable name"),
            ("{{a b}}", "not a capture name"),
            ("{{open", "without a closing"),
        ] {
            let err = Template::parse(raw, &lookup, &mut Vec::new()).unwrap_err();
            assert!(err.contains(needle), "{raw}: {err}");
        }
        let t = Template::parse("{{token}}", &lookup, &mut Vec::new()).unwrap();
        assert_eq!(t.captures().collect::<Vec<_>>(), vec!["token"]);
        assert_eq!(
            t.render(&Captures::new()).unwrap_err(),
            "capture `token` has no value"
        );
        assert_eq!(t.display(), "{{token}}");
    }
}
