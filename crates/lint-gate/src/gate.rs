//! The decision: `fail-level`, `max-findings` and, with a baseline, only new findings count.

use ops_core::{Finding, Level};

use crate::pipeline::Extra;

/// `fail-level`: the least severe finding that fails the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailLevel {
    /// Never fail on findings (report only).
    None,
    /// Fail on any finding.
    Any,
    /// Fail on notices and above (the same as `any`).
    #[value(alias = "notice", alias = "note")]
    Info,
    /// Fail on warnings and errors.
    Warning,
    /// Fail on errors.
    Error,
}

impl FailLevel {
    /// The least severe level that fails, `None` for `none`.
    pub fn threshold(self) -> Option<Level> {
        match self {
            Self::None => None,
            Self::Any | Self::Info => Some(Level::Notice),
            Self::Warning => Some(Level::Warning),
            Self::Error => Some(Level::Error),
        }
    }

    /// The name as written in `fail-level`.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Any => "any",
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// The check-run conclusion (and the `conclusion` output).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conclusion {
    /// No findings reported.
    Success,
    /// The gate failed.
    Failure,
    /// Findings reported, none of which fail the gate.
    Neutral,
}

impl Conclusion {
    /// `success`, `failure`, `neutral`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Neutral => "neutral",
        }
    }
}

/// What the gate decided, and why in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The gate passed.
    pub passed: bool,
    /// For the check run and the output.
    pub conclusion: Conclusion,
    /// One line for humans: `failed: 2 new errors at or above \`error\``.
    pub verdict: String,
    /// Findings that count toward the gate (all reported, or the new ones with a baseline).
    pub counted: usize,
    /// Of those, at or above the fail level.
    pub failing: usize,
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Decides. `with_baseline`: only findings marked new count.
pub fn decide(
    findings: &[Finding],
    extras: &[Extra],
    fail_level: FailLevel,
    max_findings: Option<u64>,
) -> Decision {
    let with_baseline = extras.iter().any(|e| e.new.is_some());
    let counted: Vec<&Finding> = findings
        .iter()
        .zip(extras)
        .filter(|(_, e)| e.new != Some(false))
        .map(|(f, _)| f)
        .collect();
    let failing = fail_level
        .threshold()
        .map_or(0, |t| counted.iter().filter(|f| f.level >= t).count());
    let new = if with_baseline { "new " } else { "" };
    let over_max = max_findings.filter(|&m| counted.len() as u64 > m);
    let passed = failing == 0 && over_max.is_none();
    let verdict = if failing > 0 {
        let word = match fail_level.threshold() {
            Some(Level::Error) => "error",
            Some(Level::Warning) => "finding",
            _ => "finding",
        };
        format!(
            "failed: {} at or above `{}` (`fail-level`)",
            plural(failing, &format!("{new}{word}")),
            fail_level.name()
        )
    } else if let Some(max) = over_max {
        format!(
            "failed: {}, more than `max-findings` ({max})",
            plural(counted.len(), &format!("{new}finding"))
        )
    } else if counted.is_empty() && findings.is_empty() {
        "passed: no findings".to_owned()
    } else if counted.is_empty() {
        format!(
            "passed: no new findings ({} already in the baseline)",
            findings.len()
        )
    } else if fail_level == FailLevel::None {
        format!(
            "passed: {} (`fail-level: none`)",
            plural(counted.len(), &format!("{new}finding"))
        )
    } else {
        format!(
            "passed: {} below `{}`",
            plural(counted.len(), &format!("{new}finding")),
            fail_level.name()
        )
    };
    let conclusion = if !passed {
        Conclusion::Failure
    } else if findings.is_empty() {
        Conclusion::Success
    } else {
        Conclusion::Neutral
    };
    Decision {
        passed,
        conclusion,
        verdict,
        counted: counted.len(),
        failing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(level: Level) -> Finding {
        Finding::new("r", level, "m")
    }

    fn extras(n: usize, new: Option<bool>) -> Vec<Extra> {
        vec![
            Extra {
                new,
                ..Extra::default()
            };
            n
        ]
    }

    #[test]
    fn fail_levels() {
        let findings = vec![f(Level::Notice), f(Level::Warning)];
        let e = extras(2, None);
        for (level, passed, conclusion) in [
            (FailLevel::None, true, Conclusion::Neutral),
            (FailLevel::Any, false, Conclusion::Failure),
            (FailLevel::Info, false, Conclusion::Failure),
            (FailLevel::Warning, false, Conclusion::Failure),
            (FailLevel::Error, true, Conclusion::Neutral),
        ] {
            let d = decide(&findings, &e, level, None);
            assert_eq!(
                (d.passed, d.conclusion),
                (passed, conclusion),
                "{level:?}: {}",
                d.verdict
            );
        }
        let d = decide(&[], &[], FailLevel::Any, None);
        assert_eq!(
            (d.passed, d.conclusion, d.verdict.as_str()),
            (true, Conclusion::Success, "passed: no findings")
        );
        let d = decide(&findings, &e, FailLevel::Warning, None);
        assert_eq!(
            d.verdict,
            "failed: 1 finding at or above `warning` (`fail-level`)"
        );
        let d = decide(
            &[f(Level::Error), f(Level::Error)],
            &extras(2, None),
            FailLevel::Error,
            None,
        );
        assert_eq!(d.verdict, "failed: 2 errors at or above `error` (`fail-level`)");
    }

    #[test]
    fn max_findings() {
        let findings = vec![f(Level::Notice); 3];
        let d = decide(&findings, &extras(3, None), FailLevel::None, Some(2));
        assert!(!d.passed);
        assert_eq!(d.verdict, "failed: 3 findings, more than `max-findings` (2)");
        assert!(decide(&findings, &extras(3, None), FailLevel::None, Some(3)).passed);
    }

    #[test]
    fn baseline_counts_only_new() {
        let findings = vec![f(Level::Error), f(Level::Error)];
        let mut e = extras(2, Some(false));
        let d = decide(&findings, &e, FailLevel::Error, None);
        assert!(d.passed);
        assert_eq!(d.verdict, "passed: no new findings (2 already in the baseline)");
        assert_eq!(d.conclusion, Conclusion::Neutral);
        e[1].new = Some(true);
        let d = decide(&findings, &e, FailLevel::Error, None);
        assert_eq!((d.passed, d.counted, d.failing), (false, 1, 1));
        assert_eq!(
            d.verdict,
            "failed: 1 new error at or above `error` (`fail-level`)"
        );
    }
}
