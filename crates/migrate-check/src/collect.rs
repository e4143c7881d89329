//! Collects findings as the engine makes them, without holding them: each one gets its fingerprint and
//! goes to a spill file on disk; memory keeps only the counts and the most severe few (for the step
//! summary and the annotations). The reports are then streamed from the spill file, so a 50 MB
//! migration with hundreds of thousands of findings costs the memory of one statement, not of the file.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, BufWriter, Write};

use ops_core::{Finding, Level};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::lint::{FileFix, Item, Sink};

/// How many findings of each level stay in memory for the summary and the annotations.
pub const KEEP: usize = 200;

/// A finding as spilled: the shared model plus its fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spilled {
    /// The finding, fingerprint included.
    #[serde(flatten)]
    pub finding: Finding,
    /// A machine-applicable fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<FileFix>,
}

/// Gives findings the fingerprints `ops_core::finding::assign_fingerprints` would, one at a time, in the
/// order they come (which is line order within a file for findings that could collide).
#[derive(Debug, Default)]
pub struct Fingerprinter {
    seen: HashMap<[u8; 32], u32>,
}

impl Fingerprinter {
    /// Sets `finding.fingerprint` when empty.
    pub fn assign(&mut self, finding: &mut Finding) {
        if !finding.fingerprint.is_empty() {
            return;
        }
        let mut hasher = Sha256::new();
        let message = finding.message.split_whitespace().collect::<Vec<_>>().join(" ");
        for part in [
            finding.source.as_deref().unwrap_or(""),
            finding.rule.as_str(),
            finding.path.as_deref().unwrap_or(""),
            message.as_str(),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        let base: [u8; 32] = hasher.finalize().into();
        let occurrence = self.seen.entry(base).or_insert(0);
        let digest: [u8; 32] = if *occurrence == 0 {
            base
        } else {
            let mut hasher = Sha256::new();
            hasher.update(base);
            hasher.update(occurrence.to_le_bytes());
            hasher.finalize().into()
        };
        *occurrence += 1;
        finding.fingerprint = hex::encode(&digest[..16]);
    }
}

fn index(level: Level) -> usize {
    match level {
        Level::Error => 0,
        Level::Warning => 1,
        Level::Notice => 2,
    }
}

/// The collector.
#[derive(Debug)]
pub struct Collector {
    counts: [usize; 3],
    kept: [Vec<Spilled>; 3],
    spill: BufWriter<tempfile::NamedTempFile>,
    fingerprints: Fingerprinter,
    error: Option<std::io::Error>,
}

impl Collector {
    /// A collector spilling to a temporary file.
    pub fn new() -> Result<Self, Error> {
        let file = tempfile::NamedTempFile::new().map_err(|e| Error::io(&std::env::temp_dir(), e))?;
        Ok(Self {
            counts: [0; 3],
            kept: [Vec::new(), Vec::new(), Vec::new()],
            spill: BufWriter::with_capacity(256 * 1024, file),
            fingerprints: Fingerprinter::default(),
            error: None,
        })
    }

    /// `(errors, warnings, notices)`.
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.counts[0], self.counts[1], self.counts[2])
    }

    /// Every finding.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    /// The first findings of a level (at most [`KEEP`]), in the order they came.
    pub fn kept(&self, level: Level) -> &[Spilled] {
        &self.kept[index(level)]
    }

    /// Ends collection; the findings can now be read back.
    pub fn finish(mut self) -> Result<Collected, Error> {
        if let Some(error) = self.error.take() {
            return Err(Error::io(&std::env::temp_dir(), error));
        }
        let file = self
            .spill
            .into_inner()
            .map_err(|e| Error::io(&std::env::temp_dir(), e.into_error()))?;
        Ok(Collected {
            counts: self.counts,
            kept: self.kept,
            file,
        })
    }
}

impl Sink for Collector {
    fn push(&mut self, item: Item) {
        let mut finding = item.finding();
        self.fingerprints.assign(&mut finding);
        let i = index(finding.level);
        self.counts[i] += 1;
        let spilled = Spilled {
            finding,
            fix: item.fix,
        };
        if self.error.is_none() {
            let written = serde_json::to_writer(&mut self.spill, &spilled)
                .map_err(std::io::Error::other)
                .and_then(|()| self.spill.write_all(b"\n"));
            if let Err(error) = written {
                self.error = Some(error);
            }
        }
        if self.kept[i].len() < KEEP {
            self.kept[i].push(spilled);
        }
    }
}

/// The collected findings, readable any number of times.
#[derive(Debug)]
pub struct Collected {
    counts: [usize; 3],
    kept: [Vec<Spilled>; 3],
    file: tempfile::NamedTempFile,
}

impl Collected {
    /// `(errors, warnings, notices)`.
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.counts[0], self.counts[1], self.counts[2])
    }

    /// Every finding.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    /// The first findings of a level (at most [`KEEP`]).
    pub fn kept(&self, level: Level) -> &[Spilled] {
        &self.kept[index(level)]
    }

    /// Streams every finding (optionally of one level) to `f`, in the order they came; `f` returns
    /// `false` to stop.
    pub fn each(
        &self,
        level: Option<Level>,
        mut f: impl FnMut(Spilled) -> Result<bool, Error>,
    ) -> Result<(), Error> {
        // Findings are written compactly, so the level appears as exactly this text: lines of other
        // levels are skipped without being parsed (and checked again after parsing).
        let marker = level.map(|l| format!("\"level\":\"{}\"", l.command()));
        self.lines(|line| {
            if marker.as_deref().is_some_and(|m| !line.contains(m)) {
                return Ok(true);
            }
            let spilled: Spilled = serde_json::from_str(line)
                .map_err(|e| Error::io(self.file.path(), std::io::Error::other(e)))?;
            if level.is_none_or(|l| spilled.finding.level == l) {
                f(spilled)
            } else {
                Ok(true)
            }
        })
    }

    /// Streams every finding as its JSON text (the finding's fields plus `fix`), in the order they came.
    pub fn lines(&self, mut f: impl FnMut(&str) -> Result<bool, Error>) -> Result<(), Error> {
        let path = self.file.path();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut reader = BufReader::with_capacity(256 * 1024, file);
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).map_err(|e| Error::io(path, e))? == 0 {
                return Ok(());
            }
            if !f(line.trim_end())? {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ops_core::Region;

    #[test]
    fn fingerprints_match_ops_core() {
        let make = |rule: &str, path: &str, line: u32, message: &str| {
            Finding::new(rule, Level::Warning, message)
                .at(path, Some(Region::line(line)))
                .with_source("migrate-check")
        };
        let findings = vec![
            make("a", "x.sql", 1, "same  message"),
            make("a", "x.sql", 5, "same message"),
            make("a", "y.sql", 2, "same message"),
            make("b", "x.sql", 7, "other"),
            make("a", "x.sql", 9, "same message"),
        ];
        let mut expected = findings.clone();
        ops_core::finding::assign_fingerprints(&mut expected);
        let mut ours = findings;
        let mut fingerprinter = Fingerprinter::default();
        for f in &mut ours {
            fingerprinter.assign(f);
        }
        assert_eq!(ours, expected);
    }
}
