//! The one Finding model every tool reports in, whatever renders it.
//!
//! A finding has a rule id, a level, an optional location (path plus a line/column range), a message, an
//! optional help text and a fingerprint. The fingerprint ignores line numbers, so a finding keeps its
//! identity when code above it moves: that is what lets review comments be deduplicated on re-runs and
//! what code scanning uses (`partialFingerprints`) to track an alert across commits.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Severity, ordered: `Notice < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Informational (SARIF `note`, check-run `notice`).
    Notice,
    /// Worth a look (SARIF and check-run `warning`).
    Warning,
    /// Must be fixed (SARIF `error`, check-run `failure`).
    Error,
}

impl Level {
    /// The workflow command: `error`, `warning`, `notice`.
    pub fn command(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Notice => "notice",
        }
    }

    /// SARIF `level`: `error`, `warning`, `note`.
    pub fn sarif(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Notice => "note",
        }
    }

    /// Check-run annotation level: `failure`, `warning`, `notice`.
    pub fn check_run(self) -> &'static str {
        match self {
            Self::Error => "failure",
            Self::Warning => "warning",
            Self::Notice => "notice",
        }
    }

    /// Parses a user-facing level name (`error`, `warning`, `notice`; `note` and `info` mean notice).
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "error" => Some(Self::Error),
            "warning" => Some(Self::Warning),
            "notice" | "note" | "info" => Some(Self::Notice),
            _ => None,
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.command())
    }
}

/// A 1-based line and column range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct Region {
    /// First line (1-based).
    pub start_line: u32,
    /// First column (1-based), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u32>,
    /// Last line, when it differs or is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    /// Last column (1-based, inclusive), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u32>,
}

impl Region {
    /// A single line.
    pub fn line(line: u32) -> Self {
        Self {
            start_line: line,
            ..Self::default()
        }
    }

    /// A line and column.
    pub fn point(line: u32, column: u32) -> Self {
        Self {
            start_line: line,
            start_column: Some(column),
            ..Self::default()
        }
    }

    /// The last line of the range.
    pub fn last_line(&self) -> u32 {
        self.end_line.unwrap_or(self.start_line).max(self.start_line)
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Rule id, e.g. `require-concurrent-index` or a linter's own code (`no-unused-vars`).
    pub rule: String,
    /// Severity.
    pub level: Level,
    /// Path relative to the repository root, with `/` separators; `None` for findings about no file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Where in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// A short title; defaults to the rule id where a title is shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What is wrong, in one or more lines.
    pub message: String,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The linter or check that produced it (`eslint`, `migrate-check`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Stable identity across runs and line moves; see [`assign_fingerprints`].
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fingerprint: String,
}

impl Finding {
    /// A finding with no location yet.
    pub fn new(rule: impl Into<String>, level: Level, message: impl Into<String>) -> Self {
        Self {
            rule: rule.into(),
            level,
            path: None,
            region: None,
            title: None,
            message: message.into(),
            help: None,
            source: None,
            fingerprint: String::new(),
        }
    }

    /// Sets the location.
    #[must_use]
    pub fn at(mut self, path: impl Into<String>, region: Option<Region>) -> Self {
        self.path = Some(path.into());
        self.region = region;
        self
    }

    /// Sets the help text.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the source tool.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Sets the title.
    #[must_use]
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// The title to show: the explicit title, else the rule id (prefixed by the source when there is one).
    pub fn display_title(&self) -> String {
        match (&self.title, &self.source) {
            (Some(title), _) => title.clone(),
            (None, Some(source)) if source != &self.rule => format!("{source}: {}", self.rule),
            (None, _) => self.rule.clone(),
        }
    }

    /// `path:line:col` for humans, or the path alone, or nothing.
    pub fn location(&self) -> Option<String> {
        let path = self.path.as_ref()?;
        Some(match self.region {
            Some(Region {
                start_line,
                start_column: Some(col),
                ..
            }) => format!("{path}:{start_line}:{col}"),
            Some(Region { start_line, .. }) => format!("{path}:{start_line}"),
            None => path.clone(),
        })
    }

    /// A key that sorts findings by path, then line, then severity (most severe first), then rule.
    pub fn sort_key(&self) -> (Option<&str>, u32, u32, std::cmp::Reverse<Level>, &str) {
        let region = self.region.unwrap_or_default();
        (
            self.path.as_deref(),
            region.start_line,
            region.start_column.unwrap_or(0),
            std::cmp::Reverse(self.level),
            self.rule.as_str(),
        )
    }
}

/// Metadata of a rule, for SARIF `tool.driver.rules` and for docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleInfo {
    /// The id findings carry.
    pub id: String,
    /// One line: what the rule checks.
    pub short_description: String,
    /// Why it matters and how to fix it (Markdown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// A link to the rule's documentation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help_uri: Option<String>,
    /// Level used when a finding does not override it.
    pub default_level: Level,
    /// Tags (`security`, `correctness`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// GitHub code scanning's `security-severity` (0.0–10.0) for security rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_severity: Option<f32>,
}

impl RuleInfo {
    /// A rule with an id, a description and a default level.
    pub fn new(id: impl Into<String>, short_description: impl Into<String>, default_level: Level) -> Self {
        Self {
            id: id.into(),
            short_description: short_description.into(),
            help: None,
            help_uri: None,
            default_level,
            tags: Vec::new(),
            security_severity: None,
        }
    }
}

/// Gives every finding without one a fingerprint: the SHA-256 (first 128 bits, hex) of source, rule, path
/// and message with runs of whitespace folded. Line numbers are left out on purpose, so moving code does not
/// change identity; identical findings in one file are told apart by their order (by line), which is stable
/// as long as their relative order is.
pub fn assign_fingerprints(findings: &mut [Finding]) {
    let mut order: Vec<usize> = (0..findings.len())
        .filter(|&i| findings[i].fingerprint.is_empty())
        .collect();
    order.sort_by_key(|&i| findings[i].region.map(|r| (r.start_line, r.start_column)));
    let mut seen: std::collections::HashMap<[u8; 32], u32> = std::collections::HashMap::new();
    for i in order {
        let base = identity_digest(&findings[i]);
        let occurrence = seen.entry(base).or_insert(0);
        let digest: [u8; 32] = if *occurrence == 0 {
            base
        } else {
            let mut hasher = Sha256::new();
            hasher.update(base);
            hasher.update(occurrence.to_le_bytes());
            hasher.finalize().into()
        };
        *occurrence += 1;
        findings[i].fingerprint = hex::encode(&digest[..16]);
    }
}

/// A finding's identity without its occurrence number: the first 128 bits of the fingerprint that
/// [`assign_fingerprints`] gives the first of identical findings. Baselines (the "only new findings fail"
/// ratchet) compare identities as a multiset, so they stay in step with the fingerprints by construction.
pub fn identity(finding: &Finding) -> [u8; 16] {
    let digest = identity_digest(finding);
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

fn identity_digest(finding: &Finding) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in [
        finding.source.as_deref().unwrap_or(""),
        finding.rule.as_str(),
        finding.path.as_deref().unwrap_or(""),
        &finding.message.split_whitespace().collect::<Vec<_>>().join(" "),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize().into()
}

/// Counts of findings per level: `(errors, warnings, notices)`.
pub fn counts(findings: &[Finding]) -> (usize, usize, usize) {
    findings.iter().fold((0, 0, 0), |(e, w, n), f| match f.level {
        Level::Error => (e + 1, w, n),
        Level::Warning => (e, w + 1, n),
        Level::Notice => (e, w, n + 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_order_and_names() {
        assert!(Level::Error > Level::Warning && Level::Warning > Level::Notice);
        for (level, command, sarif, check) in [
            (Level::Error, "error", "error", "failure"),
            (Level::Warning, "warning", "warning", "warning"),
            (Level::Notice, "notice", "note", "notice"),
        ] {
            assert_eq!(
                (level.command(), level.sarif(), level.check_run()),
                (command, sarif, check)
            );
            assert_eq!(Level::parse(command), Some(level));
        }
        assert_eq!(Level::parse("info"), Some(Level::Notice));
        assert_eq!(Level::parse("fatal"), None);
    }

    #[test]
    fn fingerprints_ignore_line_moves_and_separate_duplicates() {
        let f = |line| {
            Finding::new("no-unused", Level::Warning, "`x` is  unused")
                .at("src/a.ts", Some(Region::line(line)))
        };
        let mut a = vec![f(10), f(20)];
        assign_fingerprints(&mut a);
        let mut b = vec![f(12), f(25)];
        assign_fingerprints(&mut b);
        assert_eq!(
            a[0].fingerprint, b[0].fingerprint,
            "same finding after code moved down"
        );
        assert_eq!(a[1].fingerprint, b[1].fingerprint);
        assert_ne!(
            a[0].fingerprint, a[1].fingerprint,
            "duplicates in one file differ"
        );
        assert_eq!(a[0].fingerprint.len(), 32);
        // whitespace in the message does not matter; the path does
        let mut c = vec![Finding::new("no-unused", Level::Warning, "`x` is unused").at("src/a.ts", None)];
        assign_fingerprints(&mut c);
        assert_eq!(c[0].fingerprint, a[0].fingerprint);
        let mut d = vec![Finding::new("no-unused", Level::Warning, "`x` is unused").at("src/b.ts", None)];
        assign_fingerprints(&mut d);
        assert_ne!(d[0].fingerprint, a[0].fingerprint);
        // the identity is the first occurrence's fingerprint
        assert_eq!(hex::encode(identity(&f(99))), a[0].fingerprint);
    }

    #[test]
    fn display_helpers() {
        let f = Finding::new("E501", Level::Error, "line too long")
            .at("a.py", Some(Region::point(3, 80)))
            .with_source("flake8");
        assert_eq!(f.location().as_deref(), Some("a.py:3:80"));
        assert_eq!(f.display_title(), "flake8: E501");
        assert_eq!(counts(&[f.clone(), f]), (2, 0, 0));
    }
}
