//! The sink every parser writes into: paths normalised, the change filter and the baseline applied
//! as each diagnostic arrives, so only what is reported is kept in memory.

use std::collections::{HashMap, HashSet};

use ops_core::finding::assign_fingerprints;
use ops_core::{Finding, Region, RuleInfo};
use sha2::{Digest, Sha256};

use crate::baseline::Baseline;
use crate::diff::{DiffIndex, FileChange, FilterMode};
use crate::parse::{Diagnostic, Related, Sink, Suggestion};
use crate::paths::PathNormalizer;

/// What a finding carries besides the finding model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extra {
    /// Other locations.
    pub related: Vec<Related>,
    /// A fix, for review comments.
    pub suggestion: Option<Suggestion>,
    /// The severity text that was missing or not recognised.
    pub unknown_severity: Option<String>,
    /// On the change (or the filter was off).
    pub in_diff: bool,
    /// With a baseline: not in it. `None` without a baseline.
    pub new: Option<bool>,
    /// The source (linter) it came from, as the summary groups it.
    pub source: String,
}

/// Counts of one source, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceCounts {
    /// Diagnostics read.
    pub read: u64,
    /// Kept for reporting.
    pub kept: u64,
    /// Dropped by the change filter (and not new against the baseline).
    pub filtered: u64,
    /// Exact duplicates dropped (cargo reports a finding once per target).
    pub duplicates: u64,
}

/// Collects what the parsers read.
#[derive(Debug)]
pub struct Collector<'a> {
    normalizer: &'a PathNormalizer,
    mode: FilterMode,
    diff: Option<&'a DiffIndex>,
    baseline: Option<&'a mut Baseline>,
    /// Drop exact duplicates of the current source.
    dedupe: bool,
    seen: HashSet<[u8; 16]>,
    source: String,
    counts: SourceCounts,
    findings: Vec<Finding>,
    extras: Vec<Extra>,
    rules: HashMap<String, RuleInfo>,
    /// The last path [`Sink::drops`] or [`Sink::drops_file`] was asked about and what the diff
    /// says of it: reports list a file's findings one after another (checkstyle by design, SARIF
    /// and most linters in practice), so the next question is most often about the same path.
    last: LastPath<'a>,
}

/// A path as a tool wrote it and its entry in the diff, so that asking again about the same path
/// costs a comparison instead of a normalisation and a hash lookup.
#[derive(Debug, Default)]
struct LastPath<'a> {
    /// The path as written (empty: nothing asked yet).
    raw: String,
    /// What the normalised path is in the diff.
    entry: Entry<'a>,
}

/// A normalised path's place in the diff.
#[derive(Debug, Clone, Copy, Default)]
enum Entry<'a> {
    /// Empty or `.`: not a file, so a finding there is kept.
    #[default]
    NoFile,
    /// A file, changed (`Some`) or not.
    File(Option<&'a FileChange>),
}

/// Everything kept, in report order, with fingerprints.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    /// The findings to report, sorted by path, line and severity.
    pub findings: Vec<Finding>,
    /// What goes with each finding (same order).
    pub extras: Vec<Extra>,
    /// Rule metadata from the reports, by id.
    pub rules: HashMap<String, RuleInfo>,
}

impl<'a> Collector<'a> {
    /// A collector that filters with `diff` under `mode` (`None`: keep everything) and marks
    /// findings against `baseline`.
    pub fn new(
        normalizer: &'a PathNormalizer,
        mode: FilterMode,
        diff: Option<&'a DiffIndex>,
        baseline: Option<&'a mut Baseline>,
    ) -> Self {
        Self {
            normalizer,
            mode,
            diff,
            baseline,
            dedupe: false,
            seen: HashSet::new(),
            source: String::new(),
            counts: SourceCounts::default(),
            findings: Vec::new(),
            extras: Vec::new(),
            rules: HashMap::new(),
            last: LastPath::default(),
        }
    }

    /// Starts a source: its name (for grouping) and whether exact duplicates are dropped.
    pub fn start_source(&mut self, name: &str, dedupe: bool) {
        self.source = name.to_owned();
        self.dedupe = dedupe;
        self.seen.clear();
        self.counts = SourceCounts::default();
    }

    /// Counts of the current source.
    pub fn source_counts(&self) -> SourceCounts {
        self.counts.clone()
    }

    /// Kept so far.
    pub fn len(&self) -> usize {
        self.findings.len()
    }

    /// Nothing kept.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    /// Sorts, fingerprints and hands over what was kept.
    pub fn finish(self) -> Collected {
        let mut order: Vec<usize> = (0..self.findings.len()).collect();
        order.sort_by(|&a, &b| {
            self.findings[a]
                .sort_key()
                .cmp(&self.findings[b].sort_key())
                .then_with(|| self.findings[a].message.cmp(&self.findings[b].message))
        });
        let mut findings: Vec<Option<Finding>> = self.findings.into_iter().map(Some).collect();
        let mut extras: Vec<Option<Extra>> = self.extras.into_iter().map(Some).collect();
        let mut sorted = Vec::with_capacity(order.len());
        let mut sorted_extras = Vec::with_capacity(order.len());
        for i in order {
            if let (Some(f), Some(e)) = (findings[i].take(), extras[i].take()) {
                sorted.push(f);
                sorted_extras.push(e);
            }
        }
        assign_fingerprints(&mut sorted);
        Collected {
            findings: sorted,
            extras: sorted_extras,
            rules: self.rules,
        }
    }
}

fn exact_key(finding: &Finding) -> [u8; 16] {
    let mut hasher = Sha256::new();
    hasher.update(crate::baseline::identity(finding));
    hasher.update(format!("{:?}{:?}", finding.level, finding.region).as_bytes());
    let digest: [u8; 32] = hasher.finalize().into();
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

impl<'a> Collector<'a> {
    /// The diff to drop findings with before they are built, when nothing but their location can
    /// keep them: no baseline (a new finding is kept off the change) and no de-duplication (a
    /// duplicate is counted as such before the filter looks at it).
    fn early_filter(&self) -> Option<&'a DiffIndex> {
        if self.baseline.is_some() || self.dedupe || self.mode == FilterMode::Nofilter {
            return None;
        }
        self.diff
    }

    fn count_dropped(&mut self) {
        self.counts.read += 1;
        self.counts.filtered += 1;
    }

    /// Where `raw` (a path as a tool wrote it) is in `diff`, from [`Collector::last`] when it is
    /// the path asked about last.
    fn entry(&mut self, diff: &'a DiffIndex, raw: &str) -> Entry<'a> {
        if raw.is_empty() || self.last.raw != raw {
            let path = self.normalizer.normalize_cow(raw);
            let entry = if path.is_empty() || path == "." {
                Entry::NoFile
            } else {
                Entry::File(diff.file(&path))
            };
            self.last.raw.clear();
            self.last.raw.push_str(raw);
            self.last.entry = entry;
        }
        self.last.entry
    }
}

impl Sink for Collector<'_> {
    fn drops(&mut self, path: &str, region: Option<Region>) -> bool {
        let Some(diff) = self.early_filter() else {
            return false;
        };
        // the same decision `diagnostic` makes for a finding at this place
        let kept = match self.entry(diff, path) {
            Entry::NoFile => true,
            Entry::File(change) => change.is_some_and(|c| c.keeps(self.mode, region)),
        };
        if kept {
            return false;
        }
        self.count_dropped();
        true
    }

    fn drops_file(&mut self, path: &str) -> bool {
        let Some(diff) = self.early_filter() else {
            return false;
        };
        matches!(self.entry(diff, path), Entry::File(None))
    }

    fn dropped(&mut self) {
        self.count_dropped();
    }

    fn may_drop(&self) -> bool {
        self.early_filter().is_some()
    }

    fn diagnostic(&mut self, diagnostic: Diagnostic) {
        self.counts.read += 1;
        let Diagnostic {
            mut finding,
            mut related,
            suggestion,
            unknown_severity,
        } = diagnostic;
        finding.path = finding
            .path
            .as_deref()
            .map(|p| self.normalizer.normalize(p))
            .filter(|p| !p.is_empty() && p != ".");
        for r in &mut related {
            r.path = r.path.as_deref().map(|p| self.normalizer.normalize(p));
        }
        if self.dedupe && !self.seen.insert(exact_key(&finding)) {
            self.counts.duplicates += 1;
            return;
        }
        // a finding about no file cannot be placed on unchanged lines: it is always kept
        let in_diff = match (&finding.path, self.diff) {
            (Some(path), Some(diff)) => diff.keeps(self.mode, path, finding.region),
            _ => true,
        };
        let new = self.baseline.as_deref_mut().map(|b| !b.take(&finding));
        if !in_diff && new != Some(true) {
            self.counts.filtered += 1;
            return;
        }
        self.counts.kept += 1;
        self.findings.push(finding);
        self.extras.push(Extra {
            related,
            suggestion,
            unknown_severity,
            in_diff,
            new,
            source: self.source.clone(),
        });
    }

    fn rule(&mut self, rule: RuleInfo) {
        self.rules.entry(rule.id.clone()).or_insert(rule);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ops_core::{Level, Region};
    use std::path::Path;

    fn diag(path: &str, line: u32, message: &str) -> Diagnostic {
        Diagnostic::new(
            Finding::new("r", Level::Warning, message)
                .at(path, Some(Region::line(line)))
                .with_source("lint"),
        )
    }

    #[test]
    fn filters_while_collecting() {
        let n = PathNormalizer::new(Path::new("/w"), Path::new("/w"));
        let diff = DiffIndex::from_git_diff(
            "diff --git a/a.rs b/a.rs\n--- a/a.rs\n+++ b/a.rs\n@@ -1 +1,2 @@\n x\n+y\n",
        );
        let mut c = Collector::new(&n, FilterMode::Added, Some(&diff), None);
        c.start_source("lint", false);
        c.diagnostic(diag("/w/a.rs", 2, "kept"));
        c.diagnostic(diag("./a.rs", 1, "context line"));
        c.diagnostic(diag("b.rs", 2, "other file"));
        c.diagnostic(Diagnostic::new(Finding::new("global", Level::Error, "no file")));
        // parsers ask before building a finding; a drop is counted like a filtered finding
        assert!(c.drops("./b.rs", Some(Region::line(2))));
        assert!(c.drops("a.rs", Some(Region::line(1))));
        assert!(!c.drops("/w/a.rs", Some(Region::line(2))));
        assert!(c.drops_file("b.rs") && !c.drops_file("a.rs"));
        c.dropped();
        assert_eq!(
            c.source_counts(),
            SourceCounts {
                read: 7,
                kept: 2,
                filtered: 5,
                duplicates: 0
            }
        );
        let out = c.finish();
        assert_eq!(out.findings.len(), 2);
        assert_eq!(out.findings[0].path, None, "no path sorts first");
        assert_eq!(out.findings[1].path.as_deref(), Some("a.rs"));
        assert!(out.findings.iter().all(|f| f.fingerprint.len() == 32));
    }

    #[test]
    fn the_last_path_asked_about_is_remembered_by_what_was_written() {
        // tools ran in `pkg`: `a.rs` is `pkg/a.rs`, and an empty path is `pkg` itself
        let n = PathNormalizer::new(Path::new("/w"), Path::new("/w/pkg"));
        let diff = DiffIndex::from_git_diff(
            "diff --git a/pkg/a.rs b/pkg/a.rs\n--- a/pkg/a.rs\n+++ b/pkg/a.rs\n@@ -1 +1,2 @@\n x\n+y\n",
        );
        let mut c = Collector::new(&n, FilterMode::Added, Some(&diff), None);
        c.start_source("lint", false);
        let asked = [
            ("a.rs", 2, false),
            ("a.rs", 1, true),
            ("a.rs", 2, false),
            ("b.rs", 2, true),
            ("a.rs", 2, false),
            ("/w/pkg/a.rs", 1, true),
            ("/w/pkg/a.rs", 2, false),
            ("./a.rs", 2, false),
            ("../a.rs", 2, true),
            ("", 1, true),
            ("", 1, true),
            ("b.rs", 1, true),
            ("", 1, true),
        ];
        for (i, (path, line, dropped)) in asked.into_iter().enumerate() {
            assert_eq!(
                c.drops(path, Some(Region::line(line))),
                dropped,
                "#{i}: {path}:{line}"
            );
        }
        assert!(c.drops_file("b.rs") && !c.drops_file("a.rs") && c.drops_file(""));
        assert!(c.drops_file("b.rs"), "asked again after another path");
        let counts = c.source_counts();
        assert_eq!((counts.read, counts.filtered), (8, 8));

        // at the root, an empty path or `.` is no file: never dropped, however often asked
        let n = PathNormalizer::new(Path::new("/w"), Path::new("/w"));
        let mut c = Collector::new(&n, FilterMode::Added, Some(&diff), None);
        for path in ["", "", ".", ".", "b.rs", "", "."] {
            let dropped = c.drops(path, Some(Region::line(1)));
            assert_eq!(dropped, path == "b.rs", "{path:?}");
        }
        assert!(!c.drops_file("") && !c.drops_file("."));
    }

    #[test]
    fn baseline_keeps_new_findings_outside_the_change() {
        let n = PathNormalizer::new(Path::new("/w"), Path::new("/w"));
        let diff = DiffIndex::default();
        let old = diag("a.rs", 5, "old").finding;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        std::fs::write(
            &path,
            serde_json::to_string(&serde_json::json!({"version": 1, "findings": [old]})).unwrap(),
        )
        .unwrap();
        let mut baseline = Baseline::load(&path, "b.json", &n, &HashMap::new()).unwrap();
        let mut c = Collector::new(&n, FilterMode::Added, Some(&diff), Some(&mut baseline));
        c.start_source("lint", false);
        c.diagnostic(diag("a.rs", 50, "old"));
        c.diagnostic(diag("a.rs", 60, "brand new"));
        let counts = c.source_counts();
        let out = c.finish();
        assert_eq!((counts.kept, counts.filtered), (1, 1));
        assert_eq!(out.findings[0].message, "brand new");
        assert_eq!(out.extras[0].new, Some(true));
        assert!(!out.extras[0].in_diff);
    }

    #[test]
    fn duplicates_are_dropped_when_asked() {
        let n = PathNormalizer::new(Path::new("/w"), Path::new("/w"));
        let mut c = Collector::new(&n, FilterMode::Nofilter, None, None);
        c.start_source("clippy", true);
        assert!(
            !c.drops("a.rs", Some(Region::line(1))),
            "nofilter: nothing is dropped"
        );
        c.diagnostic(diag("a.rs", 1, "m"));
        c.diagnostic(diag("a.rs", 1, "m"));
        c.diagnostic(diag("a.rs", 2, "m"));
        assert_eq!(c.source_counts().duplicates, 1);
        assert_eq!(c.len(), 2);
    }
}
