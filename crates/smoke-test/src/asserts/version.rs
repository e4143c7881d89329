//! The identity check: the version a service reports must be the one just deployed, so an old instance
//! that still answers cannot pass.
//!
//! A served version matches when it equals the expected one, or when one is a prefix of the other and the
//! shorter has at least 7 characters and both are hex (a short SHA against a full one). Digests compare with or without
//! their `sha256:` prefix.

use http::HeaderName;

use super::Response;

/// Whether `served` is `expected`.
pub fn matches(served: &str, expected: &str) -> bool {
    let norm = |v: &str| {
        let v = v.trim().trim_matches('"');
        v.strip_prefix("sha256:").unwrap_or(v).to_ascii_lowercase()
    };
    let (served, expected) = (norm(served), norm(expected));
    if served.is_empty() || expected.is_empty() {
        return false;
    }
    if served == expected {
        return true;
    }
    let (short, long) = if served.len() < expected.len() {
        (&served, &expected)
    } else {
        (&expected, &served)
    };
    let hex = |v: &str| v.chars().all(|c| c.is_ascii_hexdigit());
    short.len() >= 7 && hex(short) && hex(long) && long.starts_with(short.as_str())
}

/// The version header of one response.
pub fn check_header(name: &HeaderName, expected: &str, response: &Response<'_>) -> Result<(), String> {
    let served = response
        .exchange
        .headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    match served {
        None => Err(format!(
            "header `{name}` is missing, so the version cannot be confirmed (expected `{expected}`)"
        )),
        Some(v) if matches(&v, expected) => Ok(()),
        Some(v) => Err(format!(
            "serving version `{}` (header `{name}`), expected `{expected}`",
            super::excerpt(&v)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asserts::testing::exchange;

    #[test]
    fn matches_table() {
        let full = "0123456789abcdef0123456789abcdef01234567";
        for (served, expected, ok) in [
            (full, full, true),
            ("0123456", full, true),
            (full, "0123456", true),
            ("012345", full, false),
            ("\"0123456789\"", full, true),
            ("fedcba9", full, false),
            ("sha256:ABCDEF0123", "abcdef0123", true),
            ("", full, false),
            ("v1.2.3", "v1.2.3", true),
            ("v1.2.30", "v1.2.3", false),
            ("v1.2.3-rc10", "v1.2.3-rc1", false),
        ] {
            assert_eq!(matches(served, expected), ok, "{served} vs {expected}");
        }
    }

    #[test]
    fn header_messages() {
        let name = HeaderName::from_static("x-version");
        let ex = exchange(200, &[("x-version", "old1234")], "");
        let r = Response::new(&ex, std::time::SystemTime::UNIX_EPOCH);
        assert_eq!(
            check_header(&name, "new5678", &r).unwrap_err(),
            "serving version `old1234` (header `x-version`), expected `new5678`"
        );
        assert!(check_header(&name, "old1234", &r).is_ok());
    }
}
