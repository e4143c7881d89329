//! Durations (`300ms`, `5s`, `2m`) and comparisons (`< 300ms`, `>= 14`) as checks files write them.

use std::fmt;
use std::time::Duration;

/// Parses a duration in the toolkit's grammar (`300ms`, `1.5s`, `2m`; see `ops_core::duration`), at
/// most a week: a smoke test waiting longer is a mistake.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let duration = ops_core::duration::parse(raw)?;
    if duration > Duration::from_secs(7 * 86_400) {
        return Err(format!(
            "duration `{}` is out of range (at most a week)",
            raw.trim()
        ));
    }
    Ok(duration)
}

/// Prints a duration the way people read it: `850ms`, `1.2s`, `2m`.
pub fn human(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{}ms", ms.round())
    } else if ms < 60_000.0 {
        format!("{:.1}s", ms / 1000.0)
    } else {
        format!("{:.1}m", ms / 60_000.0)
    }
}

/// Whole milliseconds, for outputs and tables.
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Op {
    /// Whether `left <op> right` holds.
    pub fn holds<T: PartialOrd>(self, left: &T, right: &T) -> bool {
        match self {
            Self::Lt => left < right,
            Self::Le => left <= right,
            Self::Gt => left > right,
            Self::Ge => left >= right,
            Self::Eq => left == right,
            Self::Ne => left != right,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::Eq => "==",
            Self::Ne => "!=",
        }
    }

    /// Splits a leading operator off `text`; `default` applies when there is none.
    fn split(text: &str, default: Self) -> (Self, &str) {
        let text = text.trim();
        for (symbol, op) in [
            ("<=", Self::Le),
            (">=", Self::Ge),
            ("==", Self::Eq),
            ("!=", Self::Ne),
            ("<", Self::Lt),
            (">", Self::Gt),
            ("=", Self::Eq),
        ] {
            if let Some(rest) = text.strip_prefix(symbol) {
                return (op, rest.trim());
            }
        }
        (default, text)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// `< 300ms`: a duration bound. A bare duration means `<=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationBound {
    /// The operator.
    pub op: Op,
    /// The bound.
    pub value: Duration,
}

impl DurationBound {
    /// Parses `< 300ms`, `<= 1s`, `500ms`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (op, rest) = Op::split(raw, Op::Le);
        Ok(Self {
            op,
            value: parse_duration(rest)?,
        })
    }

    /// Whether `actual` is within the bound.
    pub fn holds(&self, actual: Duration) -> bool {
        self.op.holds(&actual, &self.value)
    }
}

impl fmt::Display for DurationBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.op, human(self.value))
    }
}

/// `>= 14`: a whole-number bound. `default` is the operator of a bare number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberBound {
    /// The operator.
    pub op: Op,
    /// The bound.
    pub value: i64,
}

impl NumberBound {
    /// Parses `>= 14`, `== 3`, or a bare number (which takes `default`).
    pub fn parse(raw: &str, default: Op) -> Result<Self, String> {
        let (op, rest) = Op::split(raw, default);
        let value = rest
            .parse()
            .map_err(|_| format!("expected a number or a comparison like `>= 14`, got `{raw}`"))?;
        Ok(Self { op, value })
    }

    /// Whether `actual` is within the bound.
    pub fn holds(&self, actual: i64) -> bool {
        self.op.holds(&actual, &self.value)
    }
}

impl fmt::Display for NumberBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.op, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_table() {
        for (raw, ms) in [
            ("300ms", 300),
            ("5s", 5000),
            ("1.5s", 1500),
            ("2m", 120_000),
            (" 1h ", 3_600_000),
            ("0ms", 0),
        ] {
            assert_eq!(parse_duration(raw).unwrap().as_millis(), ms, "{raw}");
        }
        for raw in ["", "5", "fast", "5 parsecs", "-1s", "1e999s", "9999h", "8d"] {
            assert!(parse_duration(raw).is_err(), "{raw} must be rejected");
        }
    }

    #[test]
    fn bounds_table() {
        for (raw, actual_ms, holds) in [
            ("< 300ms", 299, true),
            ("< 300ms", 300, false),
            ("<=300ms", 300, true),
            ("300ms", 300, true),
            ("> 1s", 1001, true),
            (">= 1s", 999, false),
        ] {
            let bound = DurationBound::parse(raw).unwrap();
            assert_eq!(
                bound.holds(Duration::from_millis(actual_ms)),
                holds,
                "{raw} vs {actual_ms}"
            );
        }
        assert_eq!(DurationBound::parse("< 300ms").unwrap().to_string(), "< 300ms");
        let days = NumberBound::parse("14", Op::Ge).unwrap();
        assert!(days.holds(14) && !days.holds(13));
        assert_eq!(days.to_string(), ">= 14");
        let count = NumberBound::parse("!= 0", Op::Eq).unwrap();
        assert!(count.holds(2) && !count.holds(0));
        assert!(NumberBound::parse(">= many", Op::Ge).is_err());
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(Duration::from_millis(850)), "850ms");
        assert_eq!(human(Duration::from_millis(1200)), "1.2s");
        assert_eq!(human(Duration::from_secs(120)), "2.0m");
    }
}
