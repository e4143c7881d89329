//! The ratchet: a baseline (a previous run's lint-gate JSON or any SARIF, e.g. from the base
//! branch) and which current findings it already has.
//!
//! Identity is the finding's fingerprint without its occurrence number: source, rule, path and
//! message (whitespace folded), as [`ops_core::finding::assign_fingerprints`] hashes them, so line
//! moves do not make a finding new. Duplicates are matched as a multiset: a baseline with one
//! `unused x` in a file absorbs one current `unused x` there, and a second one is new. Paths of
//! renamed files are carried to their new names first.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use ops_core::{Finding, Level, ToolError};

use crate::parse::{self, Diagnostic, ParseContext, Sink};
use crate::paths::PathNormalizer;

pub use ops_core::finding::identity;

/// Identities of the baseline's findings, with counts.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    remaining: HashMap<[u8; 16], u32>,
    /// Findings in the baseline.
    pub total: u64,
    /// Current findings the baseline already had.
    pub matched: u64,
}

impl Baseline {
    /// Reads a baseline file. `renames` maps old paths to new ones.
    pub fn load(
        path: &Path,
        label: &str,
        normalizer: &PathNormalizer,
        renames: &HashMap<String, String>,
    ) -> Result<Self, crate::Error> {
        let file = std::fs::File::open(path).map_err(|e| {
            ToolError::usage(format!("cannot open the `baseline` file `{label}`"))
                .with_source(e)
                .with_hint("give the path of a previous run's `json-output` or a SARIF file; leave `baseline` empty to gate every finding")
        })?;
        let mut reader = BufReader::with_capacity(64 * 1024, file);
        let head = parse::input::peek(&mut reader, 4096).map_err(|e| {
            ToolError::runtime(format!("cannot read the `baseline` file `{label}`")).with_source(e)
        })?;
        let mut baseline = Self::default();
        if is_lint_gate_json(&head) {
            let mut text = String::new();
            reader.read_to_string(&mut text).map_err(|e| {
                ToolError::runtime(format!("cannot read the `baseline` file `{label}`")).with_source(e)
            })?;
            let doc: LintGateJson = serde_json::from_str(&text).map_err(|e| {
                ToolError::usage(format!(
                    "the `baseline` file `{label}` is not valid lint-gate JSON (line {}, column {}): {e}",
                    e.line(),
                    e.column()
                ))
            })?;
            for mut finding in doc.findings {
                finding.path = finding.path.map(|p| normalizer.normalize_root_relative(&p));
                baseline.add(finding, renames);
            }
            return Ok(baseline);
        }
        let ctx = ParseContext {
            label: format!("baseline ({label})"),
            source: label.to_owned(),
            unknown_level: Level::Error,
        };
        let mut sink = BaselineSink {
            baseline: &mut baseline,
            normalizer,
            renames,
            own: false,
        };
        let mut input: &mut dyn BufRead = &mut reader;
        parse::sarif::parse(&mut input, &ctx, &mut sink)
            .map_err(|e| e.with_hint("`baseline` takes a previous run's `json-output` or a SARIF file"))?;
        Ok(baseline)
    }

    fn add(&mut self, mut finding: Finding, renames: &HashMap<String, String>) {
        if let Some(new) = finding.path.as_ref().and_then(|p| renames.get(p)) {
            finding.path = Some(new.clone());
        }
        *self.remaining.entry(identity(&finding)).or_insert(0) += 1;
        self.total += 1;
    }

    /// Whether the baseline has this finding (using up one of its copies).
    pub fn take(&mut self, finding: &Finding) -> bool {
        match self.remaining.get_mut(&identity(finding)) {
            Some(n) if *n > 0 => {
                *n -= 1;
                self.matched += 1;
                true
            }
            _ => false,
        }
    }
}

/// Findings of SARIF written by lint-gate carry repository-relative paths; other SARIF paths are
/// read like any report's.
struct BaselineSink<'a> {
    baseline: &'a mut Baseline,
    normalizer: &'a PathNormalizer,
    renames: &'a HashMap<String, String>,
    /// The current run is lint-gate's own output.
    own: bool,
}

impl Sink for BaselineSink<'_> {
    fn diagnostic(&mut self, diagnostic: Diagnostic) {
        let mut finding = diagnostic.finding;
        finding.path = finding.path.map(|p| {
            if self.own {
                self.normalizer.normalize_root_relative(&p)
            } else {
                self.normalizer.normalize(&p)
            }
        });
        self.baseline.add(finding, self.renames);
    }

    fn tool(&mut self, name: &str) {
        self.own = name == "lint-gate";
    }
}

#[derive(serde::Deserialize)]
struct LintGateJson {
    findings: Vec<Finding>,
}

fn is_lint_gate_json(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start();
    text.starts_with('{') && text.contains("\"findings\"") && !text.contains("\"runs\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ops_core::Region;
    use ops_core::finding::assign_fingerprints;

    #[test]
    fn identity_is_the_first_fingerprint() {
        let mut findings = vec![
            Finding::new("r", Level::Warning, "x  is\nunused")
                .at("a.rs", Some(Region::line(3)))
                .with_source("clippy"),
        ];
        let id = identity(&findings[0]);
        assign_fingerprints(&mut findings);
        assert_eq!(hex::encode(id), findings[0].fingerprint);
    }

    #[test]
    fn multiset_and_renames() {
        let f = |path: &str, line| Finding::new("r", Level::Warning, "m").at(path, Some(Region::line(line)));
        let renames = HashMap::from([("old.rs".to_owned(), "new.rs".to_owned())]);
        let mut b = Baseline::default();
        b.add(f("old.rs", 1), &renames);
        b.add(f("a.rs", 1), &renames);
        assert!(b.take(&f("new.rs", 40)), "renamed and moved: still known");
        assert!(b.take(&f("a.rs", 9)));
        assert!(!b.take(&f("a.rs", 10)), "a second copy is new");
        assert_eq!((b.total, b.matched), (2, 2));
    }

    #[test]
    fn loads_both_kinds() {
        let dir = tempfile::tempdir().unwrap();
        let n = PathNormalizer::new(dir.path(), dir.path());
        let json = dir.path().join("b.json");
        std::fs::write(
            &json,
            r#"{"version": 1, "tool": {"name": "lint-gate"}, "passed": true, "counts": {},
                "findings": [{"rule": "r", "level": "error", "path": "a.rs", "message": "m", "source": "s"}]}"#,
        )
        .unwrap();
        let mut b = Baseline::load(&json, "b.json", &n, &HashMap::new()).unwrap();
        assert_eq!(b.total, 1);
        assert!(
            b.take(
                &Finding::new("r", Level::Warning, "m")
                    .at("a.rs", None)
                    .with_source("s")
            )
        );
        let sarif = dir.path().join("b.sarif");
        std::fs::write(
            &sarif,
            r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "semgrep"}}, "results": [
                {"ruleId": "x", "message": {"text": "m"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "./src/y.py"}}}]}]}]}"#,
        )
        .unwrap();
        let mut b = Baseline::load(&sarif, "b.sarif", &n, &HashMap::new()).unwrap();
        assert!(
            b.take(
                &Finding::new("x", Level::Error, "m")
                    .at("src/y.py", None)
                    .with_source("semgrep")
            )
        );
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "{\"findings\": [1]}").unwrap();
        let err = Baseline::load(&bad, "bad.json", &n, &HashMap::new()).unwrap_err();
        assert!(err.to_string().contains("not valid lint-gate JSON"), "{err}");
        let err = Baseline::load(&dir.path().join("none"), "none", &n, &HashMap::new()).unwrap_err();
        assert!(
            err.to_string().contains("cannot open the `baseline` file `none`"),
            "{err}"
        );
    }
}
