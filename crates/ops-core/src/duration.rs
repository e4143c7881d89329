//! Durations as users write them, one grammar for every tool's inputs and files.
//!
//! `300ms`, `90s`, `15m`, `1.5h`, `2d` and sums such as `1h30m` or `2m30s`; units `ms`, `s`, `m`
//! (or `min`), `h`, `d`, case-insensitive. A bare number is refused with a hint: in `timeout: 60` the
//! unit is a guess (GitHub's own `timeout-minutes` counts minutes, most tools count seconds), and a
//! wrong guess either kills a deploy early or hangs a job for an hour.

use std::time::Duration;

const UNITS: &[(&str, f64)] = &[
    ("ms", 0.001),
    ("min", 60.0),
    ("s", 1.0),
    ("m", 60.0),
    ("h", 3600.0),
    ("d", 86_400.0),
];

/// Parses a duration (see the module docs). The message names the text and shows the expected form.
pub fn parse(raw: &str) -> Result<Duration, String> {
    let text = raw.trim().to_ascii_lowercase();
    let expected = || format!("expected a duration such as `90s`, `15m`, `1h30m` or `300ms`, got `{raw}`");
    if text.is_empty() {
        return Err(expected());
    }
    if text.parse::<f64>().is_ok() {
        return Err(format!(
            "`{raw}` has no unit: write `{text}s` for seconds or `{text}m` for minutes"
        ));
    }
    let mut rest = text.as_str();
    let mut seconds = 0.0_f64;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(expected());
        }
        let value: f64 = rest[..digits].parse().map_err(|_| expected())?;
        rest = &rest[digits..];
        let Some((unit, factor)) = UNITS.iter().find(|(unit, _)| rest.starts_with(unit)) else {
            return Err(if rest.is_empty() {
                format!("`{raw}` ends without a unit: write a unit after each number (`1h30m`)")
            } else {
                expected()
            });
        };
        rest = &rest[unit.len()..];
        seconds += value * factor;
    }
    if !seconds.is_finite() || seconds > 366.0 * 86_400.0 {
        return Err(format!("duration `{raw}` is out of range (at most a year)"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        for (raw, millis) in [
            ("300ms", 300),
            ("90s", 90_000),
            ("15m", 900_000),
            ("15min", 900_000),
            ("1h30m", 5_400_000),
            ("2m30s", 150_000),
            ("1.5s", 1_500),
            ("1.5h", 5_400_000),
            ("2d", 172_800_000),
            (" 10S ", 10_000),
            ("0s", 0),
            ("1m500ms", 60_500),
        ] {
            assert_eq!(parse(raw).map(|d| d.as_millis()), Ok(millis), "{raw:?}");
        }
    }

    #[test]
    fn refused_forms_say_why() {
        for (raw, says) in [
            (
                "60",
                "`60` has no unit: write `60s` for seconds or `60m` for minutes",
            ),
            ("1.5", "has no unit"),
            ("", "expected a duration such as"),
            ("soon", "expected a duration such as"),
            ("10 s", "expected a duration such as"),
            ("1h30", "ends without a unit"),
            ("5w", "expected a duration such as"),
            ("-5s", "expected a duration such as"),
            ("400d", "out of range"),
        ] {
            let err = parse(raw).expect_err(raw);
            assert!(err.contains(says), "{raw:?}: {err}");
        }
    }
}
