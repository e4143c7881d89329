//! What each test case (readiness, version, check, hurl file) came to, and the decision.

use std::time::Duration;

use crate::asserts::Failure;
use crate::latency::{Stats, ThresholdResult};
use crate::measure::millis;

/// What kind of case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseKind {
    /// The readiness wait.
    Readiness,
    /// The identity check.
    Version,
    /// A check from the file or the `url` input.
    Check,
    /// A `.hurl` file.
    Hurl,
}

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every assertion held.
    Passed,
    /// An assertion did not hold (JUnit `<failure>`).
    Failed,
    /// No usable response (JUnit `<error>`).
    Error,
    /// Not run (a dependency failed, or the service never became ready).
    Skipped,
}

impl Status {
    /// A short word for logs and tables.
    pub fn word(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Error => "error",
            Self::Skipped => "skipped",
        }
    }

    /// A mark for the summary table.
    pub fn mark(self) -> &'static str {
        match self {
            Self::Passed => "✅",
            Self::Failed => "❌",
            Self::Error => "💥",
            Self::Skipped => "⏭️",
        }
    }
}

/// A transport error, for JUnit `<error>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseError {
    /// `connection refused`, `timed out`, …
    pub kind: String,
    /// Detail.
    pub message: String,
}

/// Latency figures of a check with `samples:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyOutcome {
    /// The timings.
    pub stats: Stats,
    /// Thresholds as evaluated.
    pub thresholds: Vec<ThresholdResult>,
    /// The minimum that makes thresholds gate.
    pub min_samples: usize,
}

/// One test case.
#[derive(Debug, Clone)]
pub struct Case {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: CaseKind,
    /// File the case points into (checks file or `.hurl` file).
    pub file: Option<String>,
    /// Line in that file.
    pub line: Option<u32>,
    /// `GET`, `POST`…
    pub method: Option<String>,
    /// URL, redacted for printing.
    pub url: Option<String>,
    /// Final HTTP status.
    pub http_status: Option<u16>,
    /// Wall time of the case.
    pub time: Duration,
    /// Failed assertions.
    pub failures: Vec<Failure>,
    /// Transport error.
    pub error: Option<CaseError>,
    /// Why it did not run.
    pub skipped: Option<String>,
    /// Latency.
    pub latency: Option<LatencyOutcome>,
    /// Extra lines for `system-out` and the log.
    pub notes: Vec<String>,
    /// Every request's time, for the overall p95.
    pub durations: Vec<Duration>,
    /// The version the service reported.
    pub served_version: Option<String>,
}

impl Case {
    /// An empty case.
    pub fn new(name: impl Into<String>, kind: CaseKind) -> Self {
        Self {
            name: name.into(),
            kind,
            file: None,
            line: None,
            method: None,
            url: None,
            http_status: None,
            time: Duration::ZERO,
            failures: Vec::new(),
            error: None,
            skipped: None,
            latency: None,
            notes: Vec::new(),
            durations: Vec::new(),
            served_version: None,
        }
    }

    /// How it ended: an error wins over failures, failures over a skip.
    pub fn status(&self) -> Status {
        if self.error.is_some() {
            Status::Error
        } else if !self.failures.is_empty() {
            Status::Failed
        } else if self.skipped.is_some() {
            Status::Skipped
        } else {
            Status::Passed
        }
    }

    /// One line saying what went wrong (empty when it passed).
    pub fn problem(&self) -> String {
        if let Some(e) = &self.error {
            return format!("{}: {}", e.kind, e.message);
        }
        if !self.failures.is_empty() {
            return self
                .failures
                .iter()
                .map(|f| f.message.clone())
                .collect::<Vec<_>>()
                .join("; ");
        }
        self.skipped.clone().unwrap_or_default()
    }
}

/// Promote or roll back, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// `true` = promote.
    pub promote: bool,
    /// Why, in one line.
    pub reason: String,
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed or errored.
    pub failed: usize,
    /// Cases not run.
    pub skipped: usize,
    /// p95 over every request made, when any was.
    pub p95: Option<Duration>,
}

impl Decision {
    /// `promote` or `rollback`.
    pub fn word(&self) -> &'static str {
        if self.promote { "promote" } else { "rollback" }
    }
}

/// The longest `reason` output.
const REASON_LIMIT: usize = 600;

/// Decides from the cases: promote only when nothing failed, errored or was skipped.
pub fn decide(cases: &[Case]) -> Decision {
    let count = |s: Status| cases.iter().filter(|c| c.status() == s).count();
    let passed = count(Status::Passed);
    let failed = count(Status::Failed) + count(Status::Error);
    let skipped = count(Status::Skipped);
    let all: Vec<Duration> = cases.iter().flat_map(|c| c.durations.iter().copied()).collect();
    let p95 = (!all.is_empty()).then(|| Stats::new(all).p95());
    let total = cases.len();
    let promote = failed == 0 && skipped == 0 && total > 0;
    let reason = if promote {
        let mut r = format!(
            "all {total} {} passed",
            if total == 1 { "check" } else { "checks" }
        );
        if let Some(p) = p95 {
            r.push_str(&format!(" (p95 {}ms)", millis(p)));
        }
        r
    } else if total == 0 {
        "no checks ran".to_owned()
    } else {
        let bad: Vec<String> = cases
            .iter()
            .filter(|c| matches!(c.status(), Status::Failed | Status::Error))
            .map(|c| format!("`{}`: {}", c.name, c.problem()))
            .collect();
        let mut r = format!("{failed} of {total} failed");
        if skipped > 0 {
            r.push_str(&format!(", {skipped} skipped"));
        }
        if !bad.is_empty() {
            r.push_str(": ");
            r.push_str(&bad.join("; "));
        } else if let Some(first) = cases.iter().find(|c| c.status() == Status::Skipped) {
            r.push_str(&format!(": `{}` {}", first.name, first.problem()));
        }
        cut(&r, REASON_LIMIT)
    };
    Decision {
        promote,
        reason,
        passed,
        failed,
        skipped,
        p95,
    }
}

fn cut(text: &str, limit: usize) -> String {
    let one_line = text.replace(['\n', '\r'], " ");
    match one_line.char_indices().nth(limit) {
        Some((at, _)) => format!("{}…", &one_line[..at]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str, status: Status) -> Case {
        let mut c = Case::new(name, CaseKind::Check);
        c.durations = vec![Duration::from_millis(10)];
        match status {
            Status::Passed => {}
            Status::Failed => c.failures.push(Failure {
                line: Some(3),
                field: "checks[0].expect.status".into(),
                kind: "status",
                message: "status 500, expected 200".into(),
            }),
            Status::Error => {
                c.error = Some(CaseError {
                    kind: "connection refused".into(),
                    message: "tcp connect error".into(),
                });
            }
            Status::Skipped => c.skipped = Some("needs `login`, which failed".into()),
        }
        c
    }

    #[test]
    fn decision_table() {
        for (statuses, promote, reason) in [
            (
                vec![Status::Passed, Status::Passed],
                true,
                "all 2 checks passed (p95 10ms)",
            ),
            (vec![Status::Passed], true, "all 1 check passed (p95 10ms)"),
            (
                vec![Status::Passed, Status::Failed],
                false,
                "1 of 2 failed: `c1`: status 500, expected 200",
            ),
            (
                vec![Status::Error, Status::Skipped],
                false,
                "1 of 2 failed, 1 skipped: `c0`: connection refused: tcp connect error",
            ),
            (vec![], false, "no checks ran"),
        ] {
            let cases: Vec<Case> = statuses
                .iter()
                .enumerate()
                .map(|(i, s)| case(&format!("c{i}"), *s))
                .collect();
            let d = decide(&cases);
            assert_eq!(d.promote, promote, "{statuses:?}");
            assert_eq!(d.reason, reason, "{statuses:?}");
        }
    }

    #[test]
    fn reason_is_bounded() {
        let cases: Vec<Case> = (0..100)
            .map(|i| case(&format!("check-{i}"), Status::Failed))
            .collect();
        let d = decide(&cases);
        assert_eq!(d.failed, 100);
        assert!(d.reason.chars().count() <= REASON_LIMIT + 1, "{}", d.reason);
    }
}
