//! The change a pull request makes, indexed for filtering: per file of the new side, the added
//! lines and the lines inside hunks (added or context), plus renames.
//!
//! Built from `git diff` output or from the PR files API's per-file `patch`es. Deleted files are
//! left out (no finding can be on them).

use std::collections::HashMap;

use ops_core::Region;

/// What a filter mode keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FilterMode {
    /// Findings on added or modified lines.
    Added,
    /// Findings on any line inside a diff hunk (added lines and their context).
    #[value(name = "diff_context", alias = "diff-context")]
    DiffContext,
    /// Findings anywhere in a file the change touches.
    File,
    /// Every finding.
    Nofilter,
}

impl FilterMode {
    /// The name as written in `filter-mode`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::DiffContext => "diff_context",
            Self::File => "file",
            Self::Nofilter => "nofilter",
        }
    }
}

/// One changed file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileChange {
    /// Path before a rename or copy.
    pub old_path: Option<String>,
    /// Added lines of the new side, as sorted, disjoint, inclusive ranges.
    added: Vec<(u32, u32)>,
    /// Lines of the new side inside hunks, as sorted inclusive ranges.
    hunks: Vec<(u32, u32)>,
    /// The line-level change is unknown (the API left the patch out): every line counts as changed.
    pub whole_file: bool,
}

impl FileChange {
    fn add_line(&mut self, line: u32) {
        match self.added.last_mut() {
            Some((_, end)) if *end + 1 == line => *end = line,
            _ => self.added.push((line, line)),
        }
    }

    /// Number of added lines.
    pub fn added_lines(&self) -> u64 {
        self.added.iter().map(|(s, e)| u64::from(e - s + 1)).sum()
    }

    fn any_in(ranges: &[(u32, u32)], first: u32, last: u32) -> bool {
        // the first range that ends at or after `first`
        let i = ranges.partition_point(|&(_, end)| end < first);
        ranges.get(i).is_some_and(|&(start, _)| start <= last)
    }

    /// Whether a finding at `region` of this file passes `mode` (see [`DiffIndex::keeps`]).
    pub fn keeps(&self, mode: FilterMode, region: Option<Region>) -> bool {
        if matches!(mode, FilterMode::File | FilterMode::Nofilter) || self.whole_file {
            return true;
        }
        let Some(region) = region else {
            return true;
        };
        let (first, last) = (region.start_line, region.last_line());
        match mode {
            FilterMode::Added => Self::any_in(&self.added, first, last),
            FilterMode::DiffContext => Self::any_in(&self.hunks, first, last),
            FilterMode::File | FilterMode::Nofilter => true,
        }
    }

    /// Whether a line of the new side is inside a hunk (a review comment can be placed there).
    pub fn in_hunk(&self, line: u32) -> bool {
        self.whole_file || Self::any_in(&self.hunks, line, line)
    }
}

/// The change, by new path.
#[derive(Debug, Clone, Default)]
pub struct DiffIndex {
    files: HashMap<String, FileChange>,
}

impl DiffIndex {
    /// Parses unified diff text (`git diff` output).
    pub fn from_git_diff(text: &str) -> Self {
        let mut index = Self::default();
        let mut current: Option<(String, FileChange)> = None;
        let mut old_side: Option<String> = None;
        let mut new_line = 0u32;
        let mut remaining_new = 0u32;
        let mut remaining_old = 0u32;
        let finish = |index: &mut Self, current: &mut Option<(String, FileChange)>| {
            if let Some((path, change)) = current.take()
                && !path.is_empty()
            {
                index.files.insert(path, change);
            }
        };
        for line in text.lines() {
            if (remaining_new > 0 || remaining_old > 0)
                && let Some((_, change)) = current.as_mut()
            {
                {
                    match line.as_bytes().first() {
                        Some(b'+') => {
                            change.add_line(new_line);
                            new_line += 1;
                            remaining_new = remaining_new.saturating_sub(1);
                            continue;
                        }
                        Some(b'-') => {
                            remaining_old = remaining_old.saturating_sub(1);
                            continue;
                        }
                        Some(b' ') | None => {
                            new_line += 1;
                            remaining_new = remaining_new.saturating_sub(1);
                            remaining_old = remaining_old.saturating_sub(1);
                            continue;
                        }
                        Some(b'\\') => continue,
                        _ => {
                            remaining_new = 0;
                            remaining_old = 0;
                        }
                    }
                }
            }
            if let Some(rest) = line.strip_prefix("diff --git ") {
                finish(&mut index, &mut current);
                // the paths are confirmed by `+++` or `rename to` lines; this is a fallback for
                // changes with no content lines (mode changes, binary files, pure renames)
                let path = split_git_header(rest).map(|(_, b)| b).unwrap_or_default();
                current = Some((path, FileChange::default()));
                old_side = None;
                continue;
            }
            if line.starts_with("\\ ") {
                continue;
            }
            let Some((path, change)) = current.as_mut() else {
                continue;
            };
            if let Some(old) = line
                .strip_prefix("rename from ")
                .or_else(|| line.strip_prefix("copy from "))
            {
                change.old_path = Some(unquote(old));
            } else if let Some(new) = line
                .strip_prefix("rename to ")
                .or_else(|| line.strip_prefix("copy to "))
            {
                *path = unquote(new);
            } else if let Some(old) = line.strip_prefix("--- ") {
                old_side = Some(strip_side(old, "a/"));
            } else if let Some(new) = line.strip_prefix("+++ ") {
                let new = strip_side(new, "b/");
                if new == "/dev/null" {
                    // deleted file
                    path.clear();
                } else {
                    *path = new;
                    if let Some(old) = old_side.take().filter(|o| o != "/dev/null" && o != path) {
                        change.old_path.get_or_insert(old);
                    }
                }
            } else if line.starts_with("deleted file mode") {
                path.clear();
            } else if let Some(hunk) = parse_hunk_header(line) {
                let (_, old_count, new_start, new_count) = hunk;
                if new_count > 0 {
                    change.hunks.push((new_start, new_start + new_count - 1));
                }
                new_line = new_start;
                remaining_new = new_count;
                remaining_old = old_count;
            }
        }
        finish(&mut index, &mut current);
        index
    }

    /// Adds one file from the PR files API: its `patch` (hunks without file headers), or `None`
    /// when GitHub left it out (then every line of the file counts as changed).
    pub fn add_api_file(&mut self, path: &str, old_path: Option<&str>, patch: Option<&str>) {
        let mut change = match patch {
            Some(patch) => {
                let text = format!("diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n{patch}\n");
                Self::from_git_diff(&text).files.remove(path).unwrap_or_default()
            }
            None => FileChange {
                whole_file: true,
                ..FileChange::default()
            },
        };
        change.old_path = old_path.map(str::to_owned).filter(|o| o != path);
        self.files.insert(path.to_owned(), change);
    }

    /// The change of one file.
    pub fn file(&self, path: &str) -> Option<&FileChange> {
        self.files.get(path)
    }

    /// Number of changed files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Number of added lines over all files.
    pub fn added_lines(&self) -> u64 {
        self.files.values().map(FileChange::added_lines).sum()
    }

    /// Old path → new path for renamed (and copied) files.
    pub fn renames(&self) -> HashMap<String, String> {
        self.files
            .iter()
            .filter_map(|(new, change)| Some((change.old_path.clone()?, new.clone())))
            .collect()
    }

    /// Whether a finding at `path` / `region` passes `mode`. A finding with no line passes when its
    /// file changed; a multi-line finding passes when any of its lines does (as reviewdog does).
    pub fn keeps(&self, mode: FilterMode, path: &str, region: Option<Region>) -> bool {
        if mode == FilterMode::Nofilter {
            return true;
        }
        self.files
            .get(path)
            .is_some_and(|change| change.keeps(mode, region))
    }
}

/// `@@ -a,b +c,d @@ …` → `(a, b, c, d)`; a missing count is 1.
fn parse_hunk_header(line: &str) -> Option<(u32, u32, u32, u32)> {
    let rest = line.strip_prefix("@@ -")?;
    let (ranges, _) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let range = |r: &str| -> Option<(u32, u32)> {
        match r.split_once(',') {
            Some((start, count)) => Some((start.parse().ok()?, count.parse().ok()?)),
            None => Some((r.parse().ok()?, 1)),
        }
    };
    let (a, b) = range(old)?;
    let (c, d) = range(new)?;
    Some((a, b, c, d))
}

/// `a/x b/y` (possibly quoted) → `(x, y)`.
fn split_git_header(rest: &str) -> Option<(String, String)> {
    if rest.starts_with('"') {
        let (first, second) = split_quoted(rest)?;
        return Some((strip_side(&first, "a/"), strip_side(second.trim_start(), "b/")));
    }
    // unquoted paths may contain spaces; `a/P b/P` has the same P on both sides unless renamed,
    // in which case `rename to` says it
    let half = rest.len() / 2;
    let (a, b) = (&rest[..half], rest.get(half + 1..)?);
    if a.strip_prefix("a/") == b.strip_prefix("b/") {
        return Some((strip_side(a, "a/"), strip_side(b, "b/")));
    }
    let i = rest.find(" b/")?;
    Some((strip_side(&rest[..i], "a/"), strip_side(&rest[i + 1..], "b/")))
}

fn split_quoted(text: &str) -> Option<(String, &str)> {
    let bytes = text.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some((text[..=i].to_owned(), &text[i + 1..])),
            _ => i += 1,
        }
    }
    None
}

/// A `---`/`+++` side: unquoted, `a/` or `b/` prefix removed, a trailing tab (and timestamp) cut.
fn strip_side(side: &str, prefix: &str) -> String {
    let side = side.split('\t').next().unwrap_or(side);
    let side = unquote(side);
    if side == "/dev/null" {
        return side;
    }
    side.strip_prefix(prefix).map(str::to_owned).unwrap_or(side)
}

/// git's C-style quoting (`"a\tb\303\251"`) undone.
fn unquote(text: &str) -> String {
    let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
        return text.to_owned();
    };
    let bytes = inner.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' || i + 1 >= bytes.len() {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let c = bytes[i + 1];
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut value = u32::from(c - b'0');
                for _ in 0..2 {
                    match bytes.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(u8::try_from(value & 0xff).unwrap_or(b'?'));
            }
            other => out.push(other),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "\
diff --git a/src/a.rs b/src/a.rs
index 1111111..2222222 100644
--- a/src/a.rs
+++ b/src/a.rs
@@ -1,5 +1,6 @@
 fn main() {
-    let x = 1;
+    let x = 2;
+    let y = 3;
     println!();
 }
 
@@ -20,3 +21,4 @@ fn other() {
 a
+b
 c
\\ No newline at end of file
diff --git a/old name.py b/new name.py
similarity index 90%
rename from old name.py
rename to new name.py
index 3333333..4444444 100644
--- a/old name.py
+++ b/new name.py
@@ -2 +2 @@
-x
+y
diff --git a/gone.txt b/gone.txt
deleted file mode 100644
index 5555555..0000000
--- a/gone.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
diff --git a/pure.rs b/moved.rs
similarity index 100%
rename from pure.rs
rename to moved.rs
diff --git \"a/caf\\303\\251.txt\" \"b/caf\\303\\251.txt\"
new file mode 100644
--- /dev/null
+++ \"b/caf\\303\\251.txt\"
@@ -0,0 +1,2 @@
+one
+two
diff --git a/img.png b/img.png
Binary files a/img.png and b/img.png differ
";

    #[test]
    fn parses_hunks_renames_and_deletions() {
        let index = DiffIndex::from_git_diff(DIFF);
        let mut paths: Vec<_> = index.files.keys().cloned().collect();
        paths.sort();
        assert_eq!(
            paths,
            vec!["café.txt", "img.png", "moved.rs", "new name.py", "src/a.rs"]
        );
        let a = index.file("src/a.rs").unwrap();
        assert_eq!(a.added, vec![(2, 3), (22, 22)]);
        assert_eq!(a.hunks, vec![(1, 6), (21, 24)]);
        assert_eq!(index.added_lines(), 3 + 1 + 2);
        let renames = index.renames();
        assert_eq!(
            renames.get("old name.py").map(String::as_str),
            Some("new name.py")
        );
        assert_eq!(renames.get("pure.rs").map(String::as_str), Some("moved.rs"));
        assert_eq!(renames.len(), 2);
    }

    #[test]
    fn filter_modes() {
        let index = DiffIndex::from_git_diff(DIFF);
        let r = |s: u32, e: Option<u32>| {
            Some(Region {
                start_line: s,
                end_line: e,
                ..Region::default()
            })
        };
        for (mode, path, region, want) in [
            (FilterMode::Added, "src/a.rs", r(2, None), true),
            (FilterMode::Added, "src/a.rs", r(4, None), false),
            (FilterMode::Added, "src/a.rs", r(4, Some(30)), true),
            (FilterMode::Added, "src/a.rs", None, true),
            (FilterMode::Added, "src/b.rs", r(1, None), false),
            (FilterMode::DiffContext, "src/a.rs", r(5, None), true),
            (FilterMode::DiffContext, "src/a.rs", r(10, None), false),
            (FilterMode::File, "src/a.rs", r(100, None), true),
            (FilterMode::File, "gone.txt", r(1, None), false),
            (FilterMode::Nofilter, "anything", None, true),
            (FilterMode::Added, "moved.rs", r(1, None), false),
            (FilterMode::File, "moved.rs", r(1, None), true),
        ] {
            assert_eq!(
                index.keeps(mode, path, region),
                want,
                "{mode:?} {path} {region:?}"
            );
        }
    }

    #[test]
    fn api_patches() {
        let mut index = DiffIndex::default();
        index.add_api_file("x.go", None, Some("@@ -1,2 +1,3 @@\n a\n+b\n c"));
        index.add_api_file("big.sql", Some("old.sql"), None);
        assert!(index.keeps(FilterMode::Added, "x.go", Some(Region::line(2))));
        assert!(!index.keeps(FilterMode::Added, "x.go", Some(Region::line(1))));
        assert!(index.keeps(FilterMode::Added, "big.sql", Some(Region::line(999))));
        assert_eq!(
            index.renames().get("old.sql").map(String::as_str),
            Some("big.sql")
        );
        assert!(index.file("x.go").unwrap().in_hunk(3));
        assert!(!index.file("x.go").unwrap().in_hunk(4));
    }

    #[test]
    fn hunk_headers() {
        assert_eq!(parse_hunk_header("@@ -1,5 +1,6 @@ fn x"), Some((1, 5, 1, 6)));
        assert_eq!(parse_hunk_header("@@ -2 +2 @@"), Some((2, 1, 2, 1)));
        assert_eq!(parse_hunk_header("@@ -0,0 +1 @@"), Some((0, 0, 1, 1)));
        assert_eq!(parse_hunk_header("@@ broken"), None);
    }
}
