//! Chained checksums over a migrations folder: Atlas's `atlas.sum`, and the same protection for
//! frameworks without one, `ops-migrations.sum`.
//!
//! Both files have one line per migration file, `<name> h1:<base64 SHA-256>`, where each hash is a
//! *running* SHA-256 over the names and contents of that file and every file before it, and a first
//! line `h1:<base64 SHA-256>` over all the name/hash pairs. Editing or reordering a migration changes
//! its line and every later one; two branches that each append a migration both change the first
//! line, so git reports a merge conflict instead of merging two histories silently.
//!
//! `atlas.sum` covers `*.sql` in the folder, in file-name order; a file whose first line carries
//! `atlas:sum ignore` contributes only its name. `ops-migrations.sum` covers every file of every
//! migration (up, down, metadata) in the framework's own order.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::framework::{MigrationSet, files_in, read_text};

/// The opt-in sum file's name.
pub const OPS_SUM: &str = "ops-migrations.sum";

/// A computed or parsed sum file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SumFile {
    /// `(name, hash)` per file.
    pub entries: Vec<(String, String)>,
}

impl SumFile {
    /// The first line's hash.
    pub fn total(&self) -> String {
        let mut sha = Sha256::new();
        for (name, hash) in &self.entries {
            sha.update(name.as_bytes());
            sha.update(hash.as_bytes());
        }
        STANDARD.encode(sha.finalize())
    }

    /// The file's text.
    pub fn render(&self) -> String {
        let mut out = format!("h1:{}\n", self.total());
        for (name, hash) in &self.entries {
            out.push_str(&format!("{name} h1:{hash}\n"));
        }
        out
    }

    /// Parses a sum file: the recorded total and the entries.
    pub fn parse(text: &str) -> Result<(String, Self), String> {
        let mut lines = text.lines();
        let total = lines
            .next()
            .and_then(|l| l.strip_prefix("h1:"))
            .ok_or("the first line is not `h1:<sum>`")?
            .trim()
            .to_owned();
        let mut entries = Vec::new();
        for (n, line) in lines.enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let (name, hash) = line
                .split_once(" h1:")
                .ok_or_else(|| format!("line {} is not `<file> h1:<hash>`", n + 2))?;
            entries.push((name.trim().to_owned(), hash.trim().to_owned()));
        }
        Ok((total, Self { entries }))
    }
}

/// Running hashes over `(name, content)` pairs; `None` content contributes the name only and gets no line.
pub fn chain<'a>(files: impl IntoIterator<Item = (String, Option<&'a [u8]>)>) -> SumFile {
    let mut sha = Sha256::new();
    let mut entries = Vec::new();
    for (name, content) in files {
        sha.update(name.as_bytes());
        let Some(content) = content else { continue };
        sha.update(content);
        entries.push((name, STANDARD.encode(sha.clone().finalize())));
    }
    SumFile { entries }
}

/// `atlas.sum` as Atlas computes it for a folder.
pub fn atlas(set: &MigrationSet) -> Result<SumFile, Error> {
    let mut files = Vec::new();
    for (name, path) in files_in(&set.root)? {
        if name.ends_with(".sql") {
            files.push((name, std::fs::read(&path).map_err(|e| Error::io(&path, e))?));
        }
    }
    Ok(chain(files.iter().map(|(name, bytes)| {
        let ignored = atlas_sum_ignored(bytes);
        (name.clone(), (!ignored).then_some(bytes.as_slice()))
    })))
}

/// Whether a file's first line is an `atlas:sum ignore` directive.
fn atlas_sum_ignored(bytes: &[u8]) -> bool {
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let Ok(first) = std::str::from_utf8(first) else {
        return false;
    };
    first.chars().all(|c| (' '..='~').contains(&c))
        && first
            .find("atlas:sum")
            .is_some_and(|at| first[at + "atlas:sum".len()..].split_whitespace().next() == Some("ignore"))
}

/// `ops-migrations.sum` for a set: every file of every migration, in the framework's order.
pub fn ops(set: &MigrationSet) -> Result<SumFile, Error> {
    let mut files = Vec::new();
    for migration in &set.migrations {
        let mut names = migration.files.clone();
        names.sort();
        for name in names {
            let path = set.abs(&name);
            files.push((name, std::fs::read(&path).map_err(|e| Error::io(&path, e))?));
        }
    }
    Ok(chain(files.iter().map(|(n, b)| (n.clone(), Some(b.as_slice())))))
}

/// Compares a recorded sum file with the computed one: `None` when they agree, else the first
/// differing file (or a description) and the 1-based line in the sum file.
pub fn compare(recorded_text: &str, computed: &SumFile) -> Option<(String, u32)> {
    let (total, recorded) = match SumFile::parse(recorded_text) {
        Ok(parsed) => parsed,
        Err(e) => return Some((format!("the file is malformed: {e}"), 1)),
    };
    if total != recorded.total() {
        return Some((
            "its first line does not match its own entries (edited by hand or merged)".to_owned(),
            1,
        ));
    }
    if recorded.total() == computed.total() {
        return None;
    }
    let mut line = 2u32;
    for (i, (name, hash)) in computed.entries.iter().enumerate() {
        match recorded.entries.get(i) {
            Some((r_name, r_hash)) if r_name == name && r_hash == hash => line += 1,
            Some((r_name, _)) if r_name == name => return Some((format!("`{name}` changed"), line)),
            Some((r_name, _)) => {
                return Some((
                    format!("`{name}` is where the file lists `{r_name}` (added, removed or reordered)"),
                    line,
                ));
            }
            None => return Some((format!("`{name}` is not listed"), line)),
        }
    }
    Some((
        format!(
            "it lists {} files the folder does not have",
            recorded.entries.len().saturating_sub(computed.entries.len())
        ),
        line,
    ))
}

/// Reads a sum file next to the migrations, if present.
pub fn read(set: &MigrationSet, name: &str) -> Result<Option<String>, Error> {
    let path = set.root.join(name);
    if set.root.is_dir() && path.is_file() {
        Ok(Some(read_text(&path)?))
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_hash_matches_a_hand_computation() {
        let sum = chain([
            ("1_a.sql".to_owned(), Some(&b"A"[..])),
            ("2_b.sql".to_owned(), Some(&b"B"[..])),
        ]);
        let mut sha = Sha256::new();
        sha.update(b"1_a.sql");
        sha.update(b"A");
        assert_eq!(sum.entries[0].1, STANDARD.encode(sha.clone().finalize()));
        sha.update(b"2_b.sql");
        sha.update(b"B");
        assert_eq!(sum.entries[1].1, STANDARD.encode(sha.finalize()));
        let text = sum.render();
        assert!(text.starts_with("h1:"));
        assert_eq!(compare(&text, &sum), None);
    }

    #[test]
    fn compare_names_the_first_difference() {
        let a = chain([
            ("1.sql".to_owned(), Some(&b"x"[..])),
            ("2.sql".to_owned(), Some(&b"y"[..])),
        ]);
        let edited = chain([
            ("1.sql".to_owned(), Some(&b"x2"[..])),
            ("2.sql".to_owned(), Some(&b"y"[..])),
        ]);
        assert_eq!(
            compare(&a.render(), &edited),
            Some(("`1.sql` changed".to_owned(), 2))
        );
        let added = chain([
            ("1.sql".to_owned(), Some(&b"x"[..])),
            ("2.sql".to_owned(), Some(&b"y"[..])),
            ("3.sql".to_owned(), Some(&b"z"[..])),
        ]);
        assert_eq!(
            compare(&a.render(), &added),
            Some(("`3.sql` is not listed".to_owned(), 4))
        );
        let mut tampered = a.render();
        tampered = tampered.replacen("h1:", "h1:X", 1);
        assert_eq!(compare(&tampered, &a).map(|(_, l)| l), Some(1));
    }

    #[test]
    fn ignored_files_contribute_their_name_only() {
        let sum = chain([("1.sql".to_owned(), None), ("2.sql".to_owned(), Some(&b"y"[..]))]);
        assert_eq!(sum.entries.len(), 1);
        assert!(atlas_sum_ignored(b"-- atlas:sum ignore\nselect 1;"));
        assert!(!atlas_sum_ignored(b"select 1;\n-- atlas:sum ignore"));
    }
}
