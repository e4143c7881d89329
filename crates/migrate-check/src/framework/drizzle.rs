//! drizzle-kit (PostgreSQL).
//!
//! - 0.x: `meta/_journal.json` lists `entries` (`idx`, `when` in ms, `tag`); the migrator runs
//!   `<tag>.sql` in journal order and skips a `.sql` file the journal does not list. It reads the newest
//!   applied `created_at` (= `when`) and runs only entries with a greater `when`, so an entry whose
//!   `when` is not above its predecessor's is silently skipped on databases that are up to date.
//!   Snapshots `meta/NNNN_snapshot.json` chain through `prevId` → `id`.
//! - v1: `<YYYYMMDDHHMMSS>_<name>/migration.sql` (+ `snapshot.json`), ordered by folder name
//!   (`localeCompare`); a leftover `meta/_journal.json` makes drizzle-kit stop ("run drizzle-kit up").
//!
//! Both run every pending migration in one transaction, so nothing that must run outside a
//! transaction (`CREATE INDEX CONCURRENTLY`) can ever succeed. Statements are split on
//! `--> statement-breakpoint`, which is a comment to PostgreSQL.

use std::path::Path;

use serde::Deserialize;

use super::{
    Direction, Key, LayoutProblem, Migration, MigrationSet, OrderKey, Script, TxMode, dirs_in, files_in,
    read_text,
};
use crate::error::Error;

/// The journal file, relative to the migrations folder.
pub const JOURNAL: &str = "meta/_journal.json";

#[derive(Debug, Deserialize)]
struct Journal {
    #[serde(default)]
    dialect: Option<String>,
    #[serde(default)]
    entries: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(default)]
    idx: Option<u64>,
    #[serde(default)]
    when: Option<u64>,
    tag: String,
}

/// Whether `root` is a Drizzle folder, and which layout.
pub fn layout(root: &Path) -> Option<Layout> {
    if root.join(JOURNAL).is_file() {
        return Some(Layout::Journal);
    }
    let dirs = dirs_in(root).ok()?;
    let v1 = dirs.iter().filter(|(name, path)| {
        is_v1_name(name) && path.join("migration.sql").is_file() && path.join("snapshot.json").is_file()
    });
    (v1.count() > 0).then_some(Layout::Folders)
}

/// The two layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// 0.x: journal + `NNNN_<tag>.sql`.
    Journal,
    /// v1: `<timestamp>_<name>/migration.sql`.
    Folders,
}

fn is_v1_name(name: &str) -> bool {
    let digits = super::leading_digits(name);
    digits.len() == 14 && name.as_bytes().get(14) == Some(&b'_')
}

pub(crate) fn load(root: &Path) -> Result<MigrationSet, Error> {
    let mut set = MigrationSet::empty(super::Framework::Drizzle, root);
    match layout(root) {
        Some(Layout::Journal) => load_journal(root, &mut set)?,
        Some(Layout::Folders) | None => load_folders(root, &mut set)?,
    }
    Ok(set)
}

fn script(path: String) -> Script {
    Script::file(path, TxMode::AllPending, Direction::Up)
}

fn load_journal(root: &Path, set: &mut MigrationSet) -> Result<(), Error> {
    set.metadata_files.push(JOURNAL.to_owned());
    let text = read_text(&root.join(JOURNAL))?;
    let journal: Journal = serde_json::from_str(&text).map_err(|e| {
        Error::usage_hint(
            format!(
                "`{}` is not a valid drizzle journal: {e}",
                root.join(JOURNAL).display()
            ),
            "regenerate it with `drizzle-kit generate` or fix the JSON",
        )
    })?;
    if let Some(dialect) = &journal.dialect
        && !matches!(dialect.as_str(), "postgresql" | "pg")
    {
        set.problem(LayoutProblem::new(
            "drizzle-journal",
            JOURNAL,
            format!("the journal's dialect is `{dialect}`, not PostgreSQL"),
        ));
    }
    let mut previous_when: Option<(u64, String)> = None;
    let mut listed = std::collections::HashSet::new();
    for (position, entry) in journal.entries.iter().enumerate() {
        let file = format!("{}.sql", entry.tag);
        if !listed.insert(file.clone()) {
            set.problem(LayoutProblem::new(
                "duplicate-version",
                JOURNAL,
                format!("the journal lists `{}` twice", entry.tag),
            ));
            continue;
        }
        if entry.idx.is_some_and(|idx| idx != position as u64) {
            set.problem(LayoutProblem::new(
                "drizzle-journal",
                JOURNAL,
                format!(
                    "entry `{}` has `idx` {} but is entry {position} of the journal",
                    entry.tag,
                    entry.idx.unwrap_or_default()
                ),
            ));
        }
        if let (Some(when), Some((before, tag))) = (entry.when, &previous_when)
            && when <= *before
        {
            set.problem(LayoutProblem::new(
                "drizzle-journal",
                JOURNAL,
                format!(
                    "entry `{}` has `when` {when}, not after `{tag}` ({before}): the migrator only runs entries newer than the last applied one, so databases that applied `{tag}` silently skip it",
                    entry.tag
                ),
            ));
        }
        if let Some(when) = entry.when {
            previous_when = Some((when, entry.tag.clone()));
        }
        if !root.join(&file).is_file() {
            set.problem(LayoutProblem::new(
                "drizzle-journal",
                JOURNAL,
                format!(
                    "the journal lists `{}` but `{file}` does not exist: the migrator fails reading it",
                    entry.tag
                ),
            ));
            continue;
        }
        let mut files = vec![file.clone()];
        let prefix = super::leading_digits(&entry.tag);
        let snapshot = format!("meta/{prefix}_snapshot.json");
        if !prefix.is_empty() && root.join(&snapshot).is_file() {
            files.push(snapshot);
        }
        set.migrations.push(Migration {
            id: file.clone(),
            version: entry.tag.clone(),
            key: OrderKey {
                key: Key::Index(position as u64),
                tie: String::new(),
            },
            up: Some(script(file)),
            down: None,
            files,
            when: entry.when,
        });
    }
    for (name, _) in files_in(root)? {
        if name.ends_with(".sql") && !listed.contains(&name) {
            set.problem(LayoutProblem::new(
                "drizzle-journal",
                name.clone(),
                format!(
                    "`{name}` is not in `{JOURNAL}`: the migrator never runs it (generate migrations with `drizzle-kit generate`)"
                ),
            ));
        }
    }
    check_snapshot_chain(root, set)?;
    Ok(())
}

/// Checks `prevId` → `id` between consecutive snapshots that are present (older ones may be pruned).
fn check_snapshot_chain(root: &Path, set: &mut MigrationSet) -> Result<(), Error> {
    let meta = root.join("meta");
    if !meta.is_dir() {
        return Ok(());
    }
    let mut snapshots: Vec<(u128, String, Snapshot)> = Vec::new();
    for (name, path) in files_in(&meta)? {
        let Some(stem) = name.strip_suffix("_snapshot.json") else {
            continue;
        };
        let Some(n) = super::number(stem) else { continue };
        let rel = format!("meta/{name}");
        set.metadata_files.push(rel.clone());
        match serde_json::from_str::<Snapshot>(&read_text(&path)?) {
            Ok(snapshot) => snapshots.push((n, rel, snapshot)),
            Err(e) => set.problem(LayoutProblem::new(
                "drizzle-journal",
                rel,
                format!("not a valid drizzle snapshot: {e}"),
            )),
        }
    }
    snapshots.sort_by_key(|(n, _, _)| *n);
    for pair in snapshots.windows(2) {
        let (a, _, first) = &pair[0];
        let (b, rel, second) = &pair[1];
        if b == &(a + 1) && !second.follows(first) {
            set.problem(LayoutProblem::new(
                "drizzle-journal",
                rel.clone(),
                format!(
                    "snapshot chain broken: its `prevId` is not the `id` of snapshot {a:04} (two branches generated migrations from the same parent; regenerate this one after merging)"
                ),
            ));
        }
    }
    Ok(())
}

/// The parts of a snapshot that chain.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Snapshot {
    /// This snapshot's id.
    #[serde(default)]
    pub id: Option<String>,
    /// The parent's id (0.x).
    #[serde(default, rename = "prevId")]
    pub prev_id: Option<String>,
    /// The parents' ids (v1).
    #[serde(default, rename = "prevIds")]
    pub prev_ids: Option<Vec<String>>,
}

impl Snapshot {
    /// Whether this snapshot names `parent` as its parent.
    pub fn follows(&self, parent: &Self) -> bool {
        let Some(id) = &parent.id else { return true };
        match (&self.prev_id, &self.prev_ids) {
            (Some(prev), _) => prev == id,
            (None, Some(prevs)) => prevs.contains(id),
            (None, None) => true,
        }
    }

    /// Reads a snapshot file.
    pub fn read(path: &Path) -> Option<Self> {
        serde_json::from_str(&read_text(path).ok()?).ok()
    }
}

/// `localeCompare` for folder names: case-insensitive first, then by code point.
pub fn locale_key(name: &str) -> String {
    name.to_lowercase()
}

fn load_folders(root: &Path, set: &mut MigrationSet) -> Result<(), Error> {
    if root.join(JOURNAL).is_file() {
        set.problem(LayoutProblem::new(
            "drizzle-journal",
            JOURNAL,
            "a v1 folder layout with a 0.x journal: drizzle-kit refuses it until you run `drizzle-kit up`",
        ));
    }
    let mut previous: Option<(String, Snapshot)> = None;
    for (name, path) in dirs_in(root)? {
        let sql = path.join("migration.sql");
        if !sql.is_file() {
            continue;
        }
        let file = format!("{name}/migration.sql");
        let mut files = vec![file.clone()];
        let snapshot_rel = format!("{name}/snapshot.json");
        let snapshot = path.join("snapshot.json");
        if snapshot.is_file() {
            files.push(snapshot_rel.clone());
        }
        set.migrations.push(Migration {
            id: name.clone(),
            version: super::leading_digits(&name).to_owned(),
            key: OrderKey {
                key: Key::Text(locale_key(&name)),
                tie: name.clone(),
            },
            up: Some(script(file)),
            down: None,
            files,
            when: None,
        });
        if let Some(current) = Snapshot::read(&snapshot) {
            if let Some((parent_name, parent)) = &previous
                && !current.follows(parent)
            {
                set.problem(LayoutProblem::new(
                    "drizzle-journal",
                    snapshot_rel,
                    format!(
                        "snapshot chain broken: it does not name `{parent_name}` as its parent (two branches generated migrations from the same parent; regenerate this one after merging)"
                    ),
                ));
            }
            previous = Some((name, current));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_chain_by_id() {
        let parent = Snapshot {
            id: Some("a".into()),
            prev_id: None,
            prev_ids: None,
        };
        let good = Snapshot {
            id: Some("b".into()),
            prev_id: Some("a".into()),
            prev_ids: None,
        };
        let bad = Snapshot {
            id: Some("c".into()),
            prev_id: Some("x".into()),
            prev_ids: None,
        };
        let v1 = Snapshot {
            id: Some("d".into()),
            prev_id: None,
            prev_ids: Some(vec!["a".into()]),
        };
        assert!(good.follows(&parent));
        assert!(!bad.follows(&parent));
        assert!(v1.follows(&parent));
    }

    #[test]
    fn v1_names() {
        assert!(is_v1_name("20250101120000_init"));
        assert!(!is_v1_name("0001_init"));
        assert!(!is_v1_name("20250101120000-init"));
    }
}
