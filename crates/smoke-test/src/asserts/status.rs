//! `status: 200`, `status: [200, 204]`, `status: 2xx`.

use std::fmt;

use super::Response;

/// One allowed status: a code or a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMatch {
    /// Exactly this code.
    Code(u16),
    /// Any code of this class (`2` for `2xx`).
    Class(u16),
}

impl StatusMatch {
    /// Parses `200` or `2xx`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim().to_ascii_lowercase();
        if let Some(class) = text.strip_suffix("xx") {
            if let Ok(class @ 1..=5) = class.parse::<u16>() {
                return Ok(Self::Class(class));
            }
        } else if let Ok(code @ 100..=599) = text.parse::<u16>() {
            return Ok(Self::Code(code));
        }
        Err(format!(
            "expected a status code like `200`, a class like `2xx`, or a list of them, got `{raw}`"
        ))
    }

    /// Parses a comma-separated list (`200,204`, `2xx, 304`).
    pub fn parse_list(raw: &str) -> Result<Vec<Self>, String> {
        raw.split(',').map(Self::parse).collect()
    }

    fn matches(self, code: u16) -> bool {
        match self {
            Self::Code(c) => c == code,
            Self::Class(c) => code / 100 == c,
        }
    }
}

impl fmt::Display for StatusMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Code(c) => write!(f, "{c}"),
            Self::Class(c) => write!(f, "{c}xx"),
        }
    }
}

/// Checks the status.
pub fn check(allowed: &[StatusMatch], response: &Response<'_>) -> Result<(), String> {
    let code = response.exchange.status.as_u16();
    if allowed.iter().any(|m| m.matches(code)) {
        return Ok(());
    }
    let expected: Vec<String> = allowed.iter().map(ToString::to_string).collect();
    Err(format!("status {code}, expected {}", expected.join(" or ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asserts::testing::exchange;

    #[test]
    fn parse_table() {
        assert_eq!(StatusMatch::parse("200"), Ok(StatusMatch::Code(200)));
        assert_eq!(StatusMatch::parse("2XX"), Ok(StatusMatch::Class(2)));
        assert_eq!(
            StatusMatch::parse_list("200, 3xx"),
            Ok(vec![StatusMatch::Code(200), StatusMatch::Class(3)])
        );
        for bad in ["ok", "99", "600", "6xx", "", "2x"] {
            assert!(StatusMatch::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn check_table() {
        for (code, allowed, ok) in [
            (200, vec![StatusMatch::Code(200)], true),
            (204, vec![StatusMatch::Code(200), StatusMatch::Code(204)], true),
            (201, vec![StatusMatch::Class(2)], true),
            (500, vec![StatusMatch::Class(2)], false),
        ] {
            let ex = exchange(code, &[], "");
            let r = Response::new(&ex, std::time::SystemTime::UNIX_EPOCH);
            assert_eq!(check(&allowed, &r).is_ok(), ok, "{code}");
        }
        let ex = exchange(503, &[], "");
        let r = Response::new(&ex, std::time::SystemTime::UNIX_EPOCH);
        assert_eq!(
            check(&[StatusMatch::Code(200), StatusMatch::Class(3)], &r).unwrap_err(),
            "status 503, expected 200 or 3xx"
        );
    }
}
