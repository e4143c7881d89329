//! `Secret`: a value that never prints itself.
//!
//! Tokens, passwords and auth headers travel as `Secret`. There is no `Display`, and `Debug` prints
//! `Secret(***)`, so a secret cannot reach a log, a summary, an output or an error by accident.
//! Every call to [`Secret::expose`] is a review point.

use std::fmt;

/// A secret value (token, password, header). Construct with [`Secret::new`] or [`Secret::parse`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value as is.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Parses a secret from user input: trimmed, and empty is rejected. Usable as a clap `value_parser`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("a secret cannot be empty".to_owned());
        }
        Ok(Self(raw.to_owned()))
    }

    /// The secret's value. Call sites are review points: never format the result into user-visible text.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `text` contains this secret.
    pub fn is_in(&self, text: &str) -> bool {
        !self.0.is_empty() && text.contains(self.0.as_str())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Replaces every occurrence of each mask in `text` with `***`, longest mask first so that a secret which
/// contains another is hidden whole. Each line of a multi-line mask is masked on its own, as the runner does.
pub fn redact(text: &str, masks: &[String]) -> String {
    let mut parts: Vec<&str> = masks
        .iter()
        .flat_map(|m| std::iter::once(m.as_str()).chain(m.lines()))
        .map(|m| m.trim_end_matches('\r'))
        .filter(|m| !m.is_empty())
        .collect();
    parts.sort_by_key(|m| std::cmp::Reverse(m.len()));
    parts.dedup();
    let mut out = text.to_owned();
    for part in parts {
        if out.contains(part) {
            out = out.replace(part, "***");
        }
    }
    out
}

/// Redacts credentials from a URL for printing: userinfo and the values of query parameters whose names
/// look secret (`token`, `key`, `sig`, `signature`, `password`, `secret`, `auth`, `credential`, `X-Amz-*`).
pub fn redact_url(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((a, b)) => (a, Some(b)),
        None => (url, None),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((a, b)) => (a, Some(b)),
        None => (before_fragment, None),
    };
    let mut out = String::with_capacity(url.len());
    match base.split_once("://") {
        Some((scheme, rest)) => {
            out.push_str(scheme);
            out.push_str("://");
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            match authority.rsplit_once('@') {
                Some((_, host)) => {
                    out.push_str("***@");
                    out.push_str(host);
                }
                None => out.push_str(authority),
            }
            out.push_str(path);
        }
        None => out.push_str(base),
    }
    if let Some(query) = query {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if is_secret_param(k) => format!("{k}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

fn is_secret_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("x-amz-")
        || [
            "token",
            "key",
            "sig",
            "signature",
            "password",
            "passwd",
            "secret",
            "auth",
            "credential",
            "code",
        ]
        .iter()
        .any(|needle| lower.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("ghp_abc");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret(***))");
    }

    #[test]
    fn parse_trims_and_rejects_empty() {
        assert_eq!(Secret::parse("  tok \n").unwrap().expose(), "tok");
        assert!(Secret::parse("   ").is_err());
        assert!(Secret::parse("").is_err());
    }

    #[test]
    fn redact_masks_longest_first_and_each_line() {
        let masks = vec!["abc".to_owned(), "abcdef".to_owned(), "line1\nline2".to_owned()];
        assert_eq!(redact("x abcdef y abc", &masks), "x *** y ***");
        assert_eq!(redact("got line2 only", &masks), "got *** only");
        assert_eq!(redact("nothing here", &[String::new()]), "nothing here");
    }

    #[test]
    fn redact_url_table() {
        for (input, expected) in [
            (
                "https://api.github.com/repos/o/r",
                "https://api.github.com/repos/o/r",
            ),
            (
                "https://user:pw@host.example/p?q=1",
                "https://***@host.example/p?q=1",
            ),
            (
                "https://h/x?access_token=abc&page=2",
                "https://h/x?access_token=***&page=2",
            ),
            (
                "https://s3/x?X-Amz-Signature=ff&X-Amz-Date=1",
                "https://s3/x?X-Amz-Signature=***&X-Amz-Date=***",
            ),
            ("https://h/p#frag", "https://h/p#frag"),
            ("127.0.0.1:80/p?key=1", "127.0.0.1:80/p?key=***"),
        ] {
            assert_eq!(redact_url(input), expected, "{input}");
        }
    }
}
