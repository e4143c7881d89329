//! Tag and image-name sanitisation, and the label order.
//!
//! docker/metadata-action only lowercases image names and replaces each run of characters outside
//! `[A-Za-z0-9._-]` with `-`. A tag must also not start with `.` or `-` and is at most 128 characters
//! (the rule its own README quotes), so here, in addition:
//! - a run of invalid characters at the end is dropped instead of becoming `-` (`café` → `caf`, not
//!   `caf-`);
//! - leading `.` and `-` are removed (`refs/heads/.hidden` → `hidden`, not the invalid `.hidden`);
//! - the tag is cut at 128 characters.

use std::cmp::Ordering;

/// The longest tag a registry accepts.
pub const MAX_TAG_LEN: usize = 128;

/// A valid tag made from `value`; empty when nothing valid is left.
pub fn tag(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut in_run = false;
    for c in value.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            if in_run {
                out.push('-');
                in_run = false;
            }
            out.push(c);
        } else {
            in_run = true;
        }
    }
    // a trailing run is dropped (in_run is simply not flushed)
    let out = out.trim_start_matches(['.', '-']);
    out.chars().take(MAX_TAG_LEN).collect()
}

/// What metadata-action does: only the run replacement (for the `raw`-compatible comparison in tests).
#[cfg(test)]
fn upstream_tag(value: &str) -> String {
    let mut out = String::new();
    let mut in_run = false;
    for c in value.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            in_run = false;
            out.push(c);
        } else if !in_run {
            in_run = true;
            out.push('-');
        }
    }
    out
}

/// Why an image name is not a valid repository name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageNameError {
    /// A tag or digest is part of the name.
    #[error("`{name}` has a tag or digest; `images` takes repository names only (tags come from `tags`)")]
    HasTag {
        /// The name.
        name: String,
    },
    /// Anything else.
    #[error("`{name}` is not a valid image name: {reason}")]
    Invalid {
        /// The name.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Lowercases an image name and checks it against the reference grammar
/// (`[host[:port]/]component[/component…]`).
pub fn image_name(name: &str) -> Result<String, ImageNameError> {
    let lower = name.trim().to_lowercase();
    let invalid = |reason| ImageNameError::Invalid {
        name: name.to_owned(),
        reason,
    };
    if lower.contains('@') {
        return Err(ImageNameError::HasTag {
            name: name.to_owned(),
        });
    }
    let mut parts: Vec<&str> = lower.split('/').collect();
    let first = parts.first().copied().unwrap_or_default();
    let has_domain = parts.len() > 1 && (first.contains(['.', ':']) || first == "localhost");
    if has_domain {
        let (host, port) = match first.rsplit_once(':') {
            Some((host, port)) if !first.starts_with('[') || host.ends_with(']') => (host, Some(port)),
            _ => (first, None),
        };
        if let Some(port) = port
            && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(invalid("the registry port must be a number"));
        }
        let host_ok = (host.starts_with('[') && host.ends_with(']'))
            || (!host.is_empty()
                && host.split('.').all(|label| {
                    !label.is_empty()
                        && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                }));
        if !host_ok {
            return Err(invalid("the registry host is not a valid host name"));
        }
        parts.remove(0);
    } else if first.contains(':') || parts.iter().any(|p| p.contains(':')) {
        return Err(ImageNameError::HasTag {
            name: name.to_owned(),
        });
    }
    if parts.is_empty() || parts.iter().any(|p| p.is_empty()) {
        return Err(invalid("a path component is empty"));
    }
    for part in &parts {
        if part.contains(':') {
            return Err(ImageNameError::HasTag {
                name: name.to_owned(),
            });
        }
        if !path_component(part) {
            return Err(invalid(
                "path components take lowercase letters, digits and single separators (`.`, `_`, `__`, `-`) between them",
            ));
        }
    }
    Ok(lower)
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn path_component(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !bytes.first().copied().is_some_and(alnum) || !bytes.last().copied().is_some_and(alnum) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &part[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// Orders label keys as JavaScript's `localeCompare` does in the `en` locale for ASCII keys (case is
/// compared last, punctuation sorts before digits and letters), which is the order metadata-action
/// prints them in.
pub fn locale_compare(a: &str, b: &str) -> Ordering {
    locale_key(a).cmp(&locale_key(b))
}

/// The sort key behind [`locale_compare`], for `sort_by_cached_key`: primary weights (case folded),
/// then case (lowercase first at the first difference), then the bytes.
pub fn locale_key(s: &str) -> (Vec<(u8, u32)>, Vec<bool>, String) {
    (
        s.chars().map(weight).collect(),
        s.chars().map(char::is_uppercase).collect(),
        s.to_owned(),
    )
}

/// The punctuation and symbols of ASCII in the order of the Unicode collation table.
const PUNCTUATION: &str = "_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";

fn weight(c: char) -> (u8, u32) {
    if c.is_whitespace() {
        (0, u32::from(c))
    } else if let Some(index) = PUNCTUATION.find(c) {
        (1, u32::try_from(index).unwrap_or(u32::MAX))
    } else if c.is_ascii_digit() {
        (2, u32::from(c))
    } else if c.is_ascii_alphabetic() {
        (3, u32::from(c.to_ascii_lowercase()))
    } else {
        (4, u32::from(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_valid_where_metadata_action_is_not() {
        for (input, upstream, ours) in [
            ("my/feature#1245", "my-feature-1245", "my-feature-1245"),
            ("v1.2.3", "v1.2.3", "v1.2.3"),
            (
                "ref_with_underscores",
                "ref_with_underscores",
                "ref_with_underscores",
            ),
            // a trailing run left by non-ASCII characters
            ("café", "caf-", "caf"),
            ("naïve-ünïcode", "na-ve--n-code", "na-ve--n-code"),
            ("feature/", "feature-", "feature"),
            // no leading `.` or `-`
            (".hidden", ".hidden", "hidden"),
            ("-dash", "-dash", "dash"),
            ("/.x", "-.x", "x"),
            ("éa", "-a", "a"),
            ("…", "-", ""),
            ("", "", ""),
        ] {
            assert_eq!(upstream_tag(input), upstream, "upstream {input:?}");
            assert_eq!(tag(input), ours, "{input:?}");
        }
    }

    #[test]
    fn tags_are_cut_at_128_characters() {
        let long = "a".repeat(200);
        assert_eq!(upstream_tag(&long).len(), 200);
        assert_eq!(tag(&long).len(), MAX_TAG_LEN);
        let exact = "b".repeat(128);
        assert_eq!(tag(&exact), exact);
    }

    #[test]
    fn image_names() {
        for (input, expected) in [
            ("user/app", Ok("user/app")),
            ("ghcr.io/MyUSER/MyApp", Ok("ghcr.io/myuser/myapp")),
            ("localhost:5000/a/b", Ok("localhost:5000/a/b")),
            ("127.0.0.1:5000/app", Ok("127.0.0.1:5000/app")),
            (
                "Registry.Example.com/team/my_app__x.y-z",
                Ok("registry.example.com/team/my_app__x.y-z"),
            ),
            ("app", Ok("app")),
            (
                "user/app:latest",
                Err(
                    "`user/app:latest` has a tag or digest; `images` takes repository names only (tags come from `tags`)",
                ),
            ),
            (
                "user/app@sha256:abc",
                Err(
                    "`user/app@sha256:abc` has a tag or digest; `images` takes repository names only (tags come from `tags`)",
                ),
            ),
            (
                "user//app",
                Err("`user//app` is not a valid image name: a path component is empty"),
            ),
            (
                "user/-app",
                Err(
                    "`user/-app` is not a valid image name: path components take lowercase letters, digits and single separators (`.`, `_`, `__`, `-`) between them",
                ),
            ),
            (
                "user/a...b",
                Err(
                    "`user/a...b` is not a valid image name: path components take lowercase letters, digits and single separators (`.`, `_`, `__`, `-`) between them",
                ),
            ),
            (
                "host:abc/app",
                Err("`host:abc/app` is not a valid image name: the registry port must be a number"),
            ),
            (
                "my app",
                Err(
                    "`my app` is not a valid image name: path components take lowercase letters, digits and single separators (`.`, `_`, `__`, `-`) between them",
                ),
            ),
        ] {
            let got = image_name(input).map_err(|e| e.to_string());
            assert_eq!(got.as_deref().map_err(String::as_str), expected, "{input}");
        }
    }

    #[test]
    fn labels_sort_like_locale_compare() {
        // node: keys.sort((a, b) => a.localeCompare(b))
        let mut keys = vec![
            "org.opencontainers.image.title",
            "maintainer",
            "Maintainer",
            "org.opencontainers.image.version",
            "com.example.a-b",
            "com.example.a_b",
            "com.example.ab",
            "com.example.a.b",
            "com.example.a1",
            "org.opencontainers.image.Title",
            "Zeta",
            "alpha",
            "a",
            "A",
            "aa",
            "aA",
            "Aa",
            "a-b",
            "ab",
            "a.b",
            "a b",
        ];
        keys.sort_by(|a, b| locale_compare(a, b));
        assert_eq!(
            keys,
            [
                "a",
                "A",
                "a b",
                "a-b",
                "a.b",
                "aa",
                "aA",
                "Aa",
                "ab",
                "alpha",
                "com.example.a_b",
                "com.example.a-b",
                "com.example.a.b",
                "com.example.a1",
                "com.example.ab",
                "maintainer",
                "Maintainer",
                "org.opencontainers.image.title",
                "org.opencontainers.image.Title",
                "org.opencontainers.image.version",
                "Zeta",
            ]
        );
    }
}
