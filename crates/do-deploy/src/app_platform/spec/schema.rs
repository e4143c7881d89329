//! The type App Platform gives each field of an app spec, so that a plain YAML scalar is sent as the
//! API takes it.
//!
//! YAML's core schema types a plain scalar by its look: `18.10` is a float, `00501` the integer 501,
//! `false` a boolean. App Platform's spec types fields instead: an env `value` and an image `tag` are
//! strings whatever they look like (a number there is refused, digitalocean/doctl#978), while
//! `instance_count` is an integer. [`kind`] answers from `fields.txt`, the fields and types of
//! DigitalOcean's description (a test keeps the two in agreement); a field it does not know (one App
//! Platform added after the description, or a typo) keeps YAML's typing.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The described fields: `path type` per line, `#` comments.
const FIELDS: &str = include_str!("fields.txt");

/// A field's type in the description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string, whatever the scalar looks like.
    String,
    /// A whole number.
    Integer,
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
}

impl Kind {
    /// What a value of this kind is, for messages: `a whole number`.
    pub fn describe(self) -> &'static str {
        match self {
            Self::String => "a string",
            Self::Integer => "a whole number",
            Self::Number => "a number",
            Self::Boolean => "`true` or `false`",
        }
    }
}

fn table() -> &'static HashMap<&'static str, Kind> {
    static TABLE: OnceLock<HashMap<&'static str, Kind>> = OnceLock::new();
    TABLE.get_or_init(|| {
        FIELDS
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let (path, kind) = l.split_once(' ')?;
                let kind = match kind.trim() {
                    "string" => Kind::String,
                    "integer" => Kind::Integer,
                    "number" => Kind::Number,
                    "boolean" => Kind::Boolean,
                    _ => return None,
                };
                Some((path, kind))
            })
            .collect()
    })
}

/// The type of the field at `path` (`services[].envs[].value`: keys joined by `.`, list items as
/// `[]`), or `None` when the description does not have it.
pub fn kind(path: &str) -> Option<Kind> {
    table().get(path).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_table() {
        for (path, want) in [
            ("name", Some(Kind::String)),
            ("services[].envs[].value", Some(Kind::String)),
            ("envs[].value", Some(Kind::String)),
            ("services[].image.tag", Some(Kind::String)),
            ("jobs[].image.tag", Some(Kind::String)),
            ("services[].instance_count", Some(Kind::Integer)),
            ("services[].internal_ports[]", Some(Kind::Integer)),
            ("alerts[].value", Some(Kind::Number)),
            ("databases[].production", Some(Kind::Boolean)),
            ("services[].github.deploy_on_push", Some(Kind::Boolean)),
            ("services[].no_such_field", None),
            ("services", None),
        ] {
            assert_eq!(kind(path), want, "{path}");
        }
    }

    /// `fields.txt` is the description's view of an app spec: regenerate it when the vendored
    /// description changes (the message prints the new content).
    #[test]
    fn fields_agree_with_the_vendored_description() {
        let described = ops_test::digitalocean::app_spec_fields().expect("the vendored description");
        let ours: Vec<(String, String)> = FIELDS
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once(' '))
            .map(|(p, k)| (p.to_owned(), k.to_owned()))
            .collect();
        let want: String = described.iter().map(|(p, k)| format!("{p} {k}\n")).collect();
        assert!(
            ours == described,
            "crates/do-deploy/src/app_platform/spec/fields.txt is out of date; its lines should be:\n{want}"
        );
        assert_eq!(table().len(), ours.len(), "every line is read");
    }
}
