//! Durations as users write them in inputs (`90`, `90s`, `15m`, `1h30m`) and as logs print them.

use std::time::Duration;

/// Parses `90` (seconds), `90s`, `15m`, `2h` and sums such as `1h30m`; at least one second.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("expected a duration such as `90s`, `15m` or `1h30m`, got `{text}`");
    if text.is_empty() {
        return Err(bad());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u64>() {
            Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
            _ => Err(bad()),
        };
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        number.clear();
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    if !number.is_empty() || total == 0 {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

/// `45s`, `2m05s`, `1h02m`: compact, for progress lines and messages.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60),
    }
}

/// `m:ss` since a start, for the progress lines.
pub fn stamp(d: Duration) -> String {
    let secs = d.as_secs();
    format!("{:>2}:{:02}", secs / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        for (text, secs) in [
            ("90", Some(90)),
            (" 90s ", Some(90)),
            ("15m", Some(900)),
            ("1h30m", Some(5400)),
            ("2h", Some(7200)),
            ("1m30s", Some(90)),
            ("0", None),
            ("0s", None),
            ("", None),
            ("m", None),
            ("10x", None),
            ("1.5m", None),
            ("5m3", None),
            ("-1s", None),
        ] {
            assert_eq!(parse_duration(text).ok().map(|d| d.as_secs()), secs, "{text:?}");
        }
    }

    #[test]
    fn human_and_stamp() {
        assert_eq!(human(Duration::from_secs(45)), "45s");
        assert_eq!(human(Duration::from_secs(125)), "2m05s");
        assert_eq!(human(Duration::from_secs(3720)), "1h02m");
        assert_eq!(stamp(Duration::from_secs(65)), " 1:05");
    }
}
