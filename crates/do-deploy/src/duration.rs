//! Durations as users write them in inputs (`90s`, `15m`, `1h30m`) and as logs print them.

use std::time::Duration;

/// Parses a duration in the toolkit's grammar (`90s`, `15m`, `1h30m`; see `ops_core::duration`);
/// waits and timeouts must be at least one second.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = ops_core::duration::parse(text)?;
    if duration < Duration::from_secs(1) {
        return Err(format!("`{}` is too short: at least `1s`", text.trim()));
    }
    Ok(duration)
}

/// Parses a duration that may be zero (`0s` turns a wait off).
pub fn parse_span(text: &str) -> Result<Duration, String> {
    if matches!(text.trim(), "0" | "0s") {
        return Ok(Duration::ZERO);
    }
    ops_core::duration::parse(text)
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
            ("90", None),
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
            ("1.5m", Some(90)),
            ("500ms", None),
            ("5m3", None),
            ("-1s", None),
        ] {
            assert_eq!(parse_duration(text).ok().map(|d| d.as_secs()), secs, "{text:?}");
        }
    }

    /// Inside Actions, a bad duration input named the flag and said "try '--help'", which mean
    /// nothing in a workflow; ops-core's CLI layer now names the input, and our bounds read well in it.
    #[test]
    fn bad_duration_inputs_name_the_input_inside_actions() {
        for (var, value, want) in [
            (
                "INPUT_TIMEOUT",
                "soon",
                "input `timeout`: expected a duration such as `90s`",
            ),
            (
                "INPUT_POLL_INTERVAL",
                "500ms",
                "input `poll-interval`: `500ms` is too short: at least `1s`",
            ),
            ("INPUT_STALL_TIMEOUT", "90", "input `stall-timeout`: "),
        ] {
            let env = ops_core::Env::from_pairs([("GITHUB_ACTIONS", "true"), (var, value)]);
            let err = ops_core::cli::parse::<crate::cli::Args>(["do-deploy"], &env).unwrap_err();
            let text = err.to_string();
            assert_eq!(err.exit_code(), 2, "{text}");
            assert!(text.contains(want), "{var}={value}: {text}");
            assert!(
                !text.contains("--") && !text.contains("help"),
                "{var}={value}: {text}"
            );
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
