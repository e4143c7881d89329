//! What a server says about pacing: `retry-after`, GitHub's `x-ratelimit-*`, the `ratelimit-*` family
//! (DigitalOcean, and the IETF draft), and `Link: <…>; rel="next"`.
//!
//! Every parser here is total: a header that does not parse is treated as absent, because a malformed
//! hint from a server must never turn a retryable failure into a crash or an endless wait.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;

/// Which header family a [`RateLimit`] was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateLimitScheme {
    /// GitHub's `x-ratelimit-limit`, `-remaining`, `-used`, `-reset` (epoch seconds), `-resource`.
    GitHub,
    /// `ratelimit-limit`, `-remaining`, `-reset` as DigitalOcean sends them (reset in epoch seconds).
    Standard,
}

/// The rate-limit budget a response reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    /// The header family it came from.
    pub scheme: RateLimitScheme,
    /// Requests allowed in the window.
    pub limit: Option<u64>,
    /// Requests left in the window.
    pub remaining: Option<u64>,
    /// Requests used in the window (GitHub only).
    pub used: Option<u64>,
    /// When the window resets.
    pub reset: Option<SystemTime>,
    /// The bucket the limit applies to, such as `core` or `search` (GitHub only).
    pub resource: Option<String>,
}

impl RateLimit {
    /// Whether the response said no request is left.
    pub fn is_exhausted(&self) -> bool {
        self.remaining == Some(0)
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.remaining, self.limit) {
            (Some(remaining), Some(limit)) => write!(f, "{remaining} of {limit} requests left")?,
            (Some(remaining), None) => write!(f, "{remaining} requests left")?,
            (None, Some(limit)) => write!(f, "limit of {limit} requests")?,
            (None, None) => f.write_str("rate limit")?,
        }
        if let Some(resource) = &self.resource {
            write!(f, " for `{resource}`")?;
        }
        if let Some(reset) = self.reset {
            write!(f, ", resets at {}", format_time(reset))?;
        }
        Ok(())
    }
}

/// Reads the rate-limit headers of a response: GitHub's `x-ratelimit-*` first, else `ratelimit-*`.
/// `None` when neither family says how many requests are left or allowed.
pub fn rate_limit(headers: &HeaderMap, now: SystemTime) -> Option<RateLimit> {
    let read = |prefix: &str, scheme: RateLimitScheme| {
        let limit = number(headers, &format!("{prefix}limit"));
        let remaining = number(headers, &format!("{prefix}remaining"));
        if limit.is_none() && remaining.is_none() {
            return None;
        }
        let reset = text(headers, &format!("{prefix}reset")).and_then(|v| match scheme {
            RateLimitScheme::GitHub => epoch(v),
            RateLimitScheme::Standard => reset_time(v, now),
        });
        Some(RateLimit {
            scheme,
            limit,
            remaining,
            used: number(headers, &format!("{prefix}used")),
            reset,
            resource: text(headers, &format!("{prefix}resource")).map(str::to_owned),
        })
    };
    read("x-ratelimit-", RateLimitScheme::GitHub).or_else(|| read("ratelimit-", RateLimitScheme::Standard))
}

/// `retry-after` as a wait: delta-seconds, or an HTTP date (RFC 9110 §10.2.3). A date in the past is
/// a zero wait.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(Duration::from_secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A `ratelimit-reset` value as a point in time. DigitalOcean sends epoch seconds; the IETF draft sends
/// seconds from now. No real window is 30 years long, so a value below 10⁹ is read as a delta.
pub fn reset_time(value: &str, now: SystemTime) -> Option<SystemTime> {
    let secs = value.trim().parse::<u64>().ok()?;
    if secs < 1_000_000_000 {
        now.checked_add(Duration::from_secs(secs))
    } else {
        epoch(value)
    }
}

/// Epoch seconds (GitHub's `x-ratelimit-reset`).
pub fn epoch(value: &str) -> Option<SystemTime> {
    UNIX_EPOCH.checked_add(Duration::from_secs(value.trim().parse::<u64>().ok()?))
}

/// The `rel="next"` target of the `Link` headers (RFC 8288), as written (usually absolute).
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| link_with_rel(v, "next"))
}

/// Finds the target of the link whose `rel` list contains `rel`. Targets are in `<…>`, so a comma inside
/// a URL (GitHub search queries have them) does not split a link.
fn link_with_rel(value: &str, rel: &str) -> Option<String> {
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let after_open = &rest[open + 1..];
        let close = after_open.find('>')?;
        let target = &after_open[..close];
        let after_target = &after_open[close + 1..];
        let params_end = after_target.find('<').unwrap_or(after_target.len());
        // the comma that separates this link from the next one is not part of its parameters
        let params = after_target[..params_end].trim_end().trim_end_matches(',');
        let matches = params.split(';').filter_map(|p| p.split_once('=')).any(|(k, v)| {
            k.trim().eq_ignore_ascii_case("rel")
                && v.trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case(rel))
        });
        if matches {
            return Some(target.trim().to_owned());
        }
        rest = &after_target[params_end..];
    }
    None
}

/// A header's value as text, trimmed; `None` when absent, empty or not visible ASCII.
pub(crate) fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn number(headers: &HeaderMap, name: &str) -> Option<u64> {
    text(headers, name).and_then(|v| v.parse().ok())
}

/// A point in time as RFC 3339 UTC, to the second (`2026-05-01T12:00:00Z`).
pub fn format_time(at: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// A wait as people say it: `250ms`, `2s`, `1m30s`, `1h2m`.
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        let ms = d.as_millis();
        return if ms == 0 && !d.is_zero() {
            "1ms".to_owned()
        } else {
            format!("{ms}ms")
        };
    }
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m{s}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h{m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const NOW: u64 = 1_777_636_800; // 2026-05-01T12:00:00Z

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW)
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn retry_after_table() {
        for (value, expected) in [
            ("120", Some(120)),
            (" 7 ", Some(7)),
            ("0", Some(0)),
            ("Fri, 01 May 2026 12:00:30 GMT", Some(30)),
            // RFC 850 and asctime: obsolete, but recipients must accept them
            ("Friday, 01-May-26 12:01:00 GMT", Some(60)),
            ("Fri May  1 12:00:05 2026", Some(5)),
            // a date in the past is no wait at all
            ("Fri, 01 May 2026 11:00:00 GMT", Some(0)),
            ("-1", None),
            ("1.5", None),
            ("soon", None),
            ("", None),
        ] {
            assert_eq!(
                retry_after(value, now()),
                expected.map(Duration::from_secs),
                "{value:?}"
            );
        }
    }

    #[test]
    fn reset_time_table() {
        for (value, expected) in [
            // DigitalOcean: epoch seconds
            ("1777636860", Some(NOW + 60)),
            // IETF draft: seconds from now
            ("60", Some(NOW + 60)),
            ("0", Some(NOW)),
            ("later", None),
            ("", None),
        ] {
            assert_eq!(
                reset_time(value, now()),
                expected.map(|s| UNIX_EPOCH + Duration::from_secs(s)),
                "{value:?}"
            );
        }
        assert_eq!(
            epoch("1777636860"),
            Some(UNIX_EPOCH + Duration::from_secs(NOW + 60))
        );
        assert_eq!(epoch("x"), None);
    }

    #[test]
    fn rate_limit_prefers_github_headers() {
        let gh = headers(&[
            ("x-ratelimit-limit", "1000"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-used", "1000"),
            ("x-ratelimit-reset", "1777637100"),
            ("x-ratelimit-resource", "core"),
            ("ratelimit-remaining", "99"),
        ]);
        let got = rate_limit(&gh, now()).unwrap();
        assert_eq!(got.scheme, RateLimitScheme::GitHub);
        assert_eq!(
            (got.limit, got.remaining, got.used),
            (Some(1000), Some(0), Some(1000))
        );
        assert_eq!(got.reset, Some(UNIX_EPOCH + Duration::from_secs(NOW + 300)));
        assert!(got.is_exhausted());
        assert_eq!(
            got.to_string(),
            "0 of 1000 requests left for `core`, resets at 2026-05-01T12:05:00Z"
        );

        let digital_ocean = headers(&[
            ("ratelimit-limit", "5000"),
            ("ratelimit-remaining", "4999"),
            ("ratelimit-reset", "1777636900"),
        ]);
        let got = rate_limit(&digital_ocean, now()).unwrap();
        assert_eq!(got.scheme, RateLimitScheme::Standard);
        assert_eq!(
            (got.limit, got.remaining, got.used),
            (Some(5000), Some(4999), None)
        );
        assert_eq!(got.reset, Some(UNIX_EPOCH + Duration::from_secs(NOW + 100)));
        assert!(!got.is_exhausted());

        assert_eq!(rate_limit(&headers(&[("x-ratelimit-reset", "1")]), now()), None);
        assert_eq!(
            rate_limit(&headers(&[("x-ratelimit-remaining", "lots")]), now()),
            None
        );
    }

    #[test]
    fn next_link_table() {
        for (values, expected) in [
            (
                vec![
                    r#"<https://api.github.com/r?page=2>; rel="next", <https://api.github.com/r?page=5>; rel="last""#,
                ],
                Some("https://api.github.com/r?page=2"),
            ),
            (
                vec![r#"<https://h/r?page=1>; rel="prev", <https://h/r?page=3>; rel="next""#],
                Some("https://h/r?page=3"),
            ),
            // a comma inside the URL does not split the link
            (
                vec![r#"<https://h/search?q=a,b&page=2>; rel="next""#],
                Some("https://h/search?q=a,b&page=2"),
            ),
            // unquoted, upper case, and a rel list
            (vec!["<https://h/2>; REL=Next"], Some("https://h/2")),
            (vec![r#"<https://h/2>; rel="next last""#], Some("https://h/2")),
            // split over two header lines
            (
                vec![r#"<https://h/1>; rel="first""#, r#"<https://h/2>; rel="next""#],
                Some("https://h/2"),
            ),
            (vec![r#"<https://h/5>; rel="last""#], None),
            (vec![r#"<https://h/nextpage>; rel="prev""#], None),
            (vec!["garbage"], None),
            (vec![], None),
        ] {
            let pairs: Vec<_> = values.iter().map(|v| ("link", *v)).collect();
            assert_eq!(next_link(&headers(&pairs)).as_deref(), expected, "{values:?}");
        }
    }

    #[test]
    fn format_time_and_duration() {
        assert_eq!(format_time(now()), "2026-05-01T12:00:00Z");
        assert_eq!(format_time(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_time(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        for (d, expected) in [
            (Duration::ZERO, "0ms"),
            (Duration::from_micros(10), "1ms"),
            (Duration::from_millis(250), "250ms"),
            (Duration::from_secs(2), "2s"),
            (Duration::from_millis(2_700), "2s"),
            (Duration::from_secs(60), "1m"),
            (Duration::from_secs(90), "1m30s"),
            (Duration::from_secs(3600), "1h"),
            (Duration::from_secs(3720), "1h2m"),
        ] {
            assert_eq!(format_duration(d), expected, "{d:?}");
        }
    }
}
