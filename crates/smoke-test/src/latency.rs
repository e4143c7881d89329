//! Latency: `samples: N` timings per check, p50 / p95 / max, and k6-style thresholds (`p95 < 300ms`).
//!
//! A percentile from a handful of requests says little, so thresholds gate only when a check took at
//! least `min-samples` samples; below that they are reported and do not decide.

use std::fmt;
use std::time::Duration;

use crate::measure::DurationBound;

/// A statistic of the samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// A percentile (nearest rank), 1–100.
    Percentile(u8),
    /// The slowest.
    Max,
    /// The fastest.
    Min,
    /// The arithmetic mean.
    Avg,
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Percentile(p) => write!(f, "p{p}"),
            Self::Max => f.write_str("max"),
            Self::Min => f.write_str("min"),
            Self::Avg => f.write_str("avg"),
        }
    }
}

/// `p95 < 300ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    /// What is measured.
    pub metric: Metric,
    /// The bound.
    pub bound: DurationBound,
}

impl Threshold {
    /// Parses `p95 < 300ms`, `max <= 1s`, `avg < 100ms`, `p(99) < 2s`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        let split = text
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '=' | '!'))
            .unwrap_or(text.len());
        let (name, rest) = text.split_at(split);
        let name = name.to_ascii_lowercase().replace(['(', ')'], "");
        let metric = match name.as_str() {
            "max" => Metric::Max,
            "min" => Metric::Min,
            "avg" | "mean" => Metric::Avg,
            "med" | "median" => Metric::Percentile(50),
            p => match p.strip_prefix('p').and_then(|n| n.parse::<u8>().ok()) {
                Some(n @ 1..=100) => Metric::Percentile(n),
                _ => {
                    return Err(format!(
                        "expected a threshold like `p95 < 300ms` (metrics: `p50`…`p99`, `max`, `min`, `avg`), got `{raw}`"
                    ));
                }
            },
        };
        if !rest.trim_start().starts_with(['<', '>', '=', '!']) {
            return Err(format!(
                "threshold `{raw}` needs a comparison: write it like `p95 < 300ms`"
            ));
        }
        let bound = DurationBound::parse(rest).map_err(|e| format!("threshold `{raw}`: {e}"))?;
        Ok(Self { metric, bound })
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.metric, self.bound)
    }
}

/// Summary statistics of a set of timings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    sorted: Vec<Duration>,
}

impl Stats {
    /// From timings in any order.
    pub fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Self { sorted: samples }
    }

    /// How many.
    pub fn count(&self) -> usize {
        self.sorted.len()
    }

    /// A metric; zero when there are no samples.
    pub fn get(&self, metric: Metric) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        match metric {
            Metric::Max => self.sorted[self.sorted.len() - 1],
            Metric::Min => self.sorted[0],
            Metric::Avg => {
                let total: Duration = self.sorted.iter().sum();
                total / u32::try_from(self.sorted.len()).unwrap_or(u32::MAX)
            }
            Metric::Percentile(p) => {
                // nearest rank: the smallest value with at least p% of samples at or below it
                let rank = (usize::from(p) * self.sorted.len()).div_ceil(100).max(1);
                self.sorted[rank - 1]
            }
        }
    }

    /// p50.
    pub fn p50(&self) -> Duration {
        self.get(Metric::Percentile(50))
    }

    /// p95.
    pub fn p95(&self) -> Duration {
        self.get(Metric::Percentile(95))
    }

    /// max.
    pub fn max(&self) -> Duration {
        self.get(Metric::Max)
    }
}

/// How one threshold came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdResult {
    /// The threshold.
    pub threshold: Threshold,
    /// The measured value.
    pub actual: Duration,
    /// Whether the value is within the bound.
    pub holds: bool,
    /// Whether it decides (enough samples).
    pub gating: bool,
}

/// Evaluates thresholds; they gate only with at least `min_samples` samples.
pub fn evaluate(stats: &Stats, thresholds: &[Threshold], min_samples: usize) -> Vec<ThresholdResult> {
    let gating = stats.count() >= min_samples;
    thresholds
        .iter()
        .map(|t| {
            let actual = stats.get(t.metric);
            ThresholdResult {
                threshold: *t,
                actual,
                holds: t.bound.holds(actual),
                gating,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn percentiles_nearest_rank() {
        let stats = Stats::new(ms(&(1..=100).rev().collect::<Vec<_>>()));
        assert_eq!(stats.p50(), Duration::from_millis(50));
        assert_eq!(stats.p95(), Duration::from_millis(95));
        assert_eq!(stats.max(), Duration::from_millis(100));
        assert_eq!(stats.get(Metric::Min), Duration::from_millis(1));
        let small = Stats::new(ms(&[30, 10, 20]));
        assert_eq!(small.p50(), Duration::from_millis(20));
        assert_eq!(small.p95(), Duration::from_millis(30));
        assert_eq!(small.get(Metric::Avg), Duration::from_millis(20));
        assert_eq!(Stats::new(vec![]).p95(), Duration::ZERO);
        assert_eq!(Stats::new(ms(&[7])).p95(), Duration::from_millis(7));
    }

    #[test]
    fn threshold_parse_table() {
        for (raw, shown) in [
            ("p95 < 300ms", "p95 < 300ms"),
            ("p95<300ms", "p95 < 300ms"),
            ("p(99) <= 2s", "p99 <= 2.0s"),
            ("max < 1s", "max < 1.0s"),
            ("avg < 100ms", "avg < 100ms"),
            ("median < 50ms", "p50 < 50ms"),
        ] {
            assert_eq!(Threshold::parse(raw).unwrap().to_string(), shown, "{raw}");
        }
        for raw in [
            "p0 < 1s",
            "p101 < 1s",
            "fast < 1s",
            "p95",
            "p95 300ms",
            "p95 < soon",
        ] {
            assert!(Threshold::parse(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn thresholds_gate_only_with_enough_samples() {
        let stats = Stats::new(ms(&[100, 200, 400]));
        let t = [Threshold::parse("p95 < 300ms").unwrap()];
        let few = evaluate(&stats, &t, 20);
        assert!(!few[0].holds && !few[0].gating);
        let enough = evaluate(&stats, &t, 3);
        assert!(!enough[0].holds && enough[0].gating);
        assert_eq!(enough[0].actual, Duration::from_millis(400));
    }
}
