//! History gates: the pull request's migrations against its base (the merge base with `base-ref`).
//!
//! The base's migrations are exported from git into a temporary folder and loaded by the same
//! framework loader, so "the same migration" means what the runner means by it (version, file or
//! folder). Then: a merged migration edited, renamed or deleted; a new migration ordered at or before
//! the base's newest (each framework's consequence spelled out); Prisma's lock provider changed.
//! Migrations only the head has are the ones under review.

pub mod git;
pub mod sums;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ops_core::Level;

use crate::error::Error;
use crate::framework::{Framework, Key, Migration, MigrationSet, Script, read_text};
use crate::lint::{Item, Pos, Settings};
use crate::rules::{self, Rule};

/// The base side of the comparison.
#[derive(Debug)]
pub struct Base {
    /// The merge-base commit.
    pub commit: String,
    /// The migrations as they were there.
    pub set: MigrationSet,
    _dir: tempfile::TempDir,
}

/// Loads the migrations at the merge base of `HEAD` and `base_ref`. With `fetch`, the base branch is
/// fetched first when no merge base is found (a shallow checkout).
///
/// `fetch` is given when the base came from the pull request (`GITHUB_BASE_REF`), not from the
/// `base-ref` input: a git failure then says so and points at the checkout, since the user never
/// set `base-ref` and "leave `base-ref` empty" would tell them nothing.
pub fn load_base(
    root: &Path,
    framework: Framework,
    base_ref: &str,
    fetch: Option<&str>,
) -> Result<Base, Error> {
    load_base_at(root, framework, base_ref, fetch).map_err(|error| match (error, fetch) {
        (Error::Git { message, .. }, Some(branch)) => Error::Git {
            message: format!(
                "{message} (the base `{base_ref}` is the pull request's: `GITHUB_BASE_REF` is `{branch}` and `base-ref` is not set)"
            ),
            hint: Some(
                "check out the history the history gates compare with: `actions/checkout` with `fetch-depth: 0` (and `git` installed, so the checkout is a repository); or set `base-ref`"
                    .to_owned(),
            ),
        },
        (error, _) => error,
    })
}

fn load_base_at(
    root: &Path,
    framework: Framework,
    base_ref: &str,
    fetch: Option<&str>,
) -> Result<Base, Error> {
    let start = if root.is_file() {
        root.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        root.to_path_buf()
    };
    let repo = git::toplevel(&start)?;
    let rel = git::relative(&repo, root).ok_or_else(|| Error::Git {
        message: format!(
            "`{}` is not inside the git repository `{}`",
            root.display(),
            repo.display()
        ),
        hint: None,
    })?;
    let commit = match (git::merge_base(&repo, base_ref), fetch) {
        (Ok(commit), _) => commit,
        (Err(_), Some(branch)) => {
            git::fetch_base(&repo, branch)?;
            git::merge_base(&repo, base_ref)?
        }
        (Err(error), None) => return Err(error),
    };
    let files = git::ls_tree(&repo, &commit, &rel)?;
    let dir = tempfile::tempdir().map_err(|e| Error::io(&std::env::temp_dir(), e))?;
    git::export(&repo, &commit, &files, dir.path())?;
    let base_root: PathBuf = dir.path().join(&rel);
    let set = if base_root.exists() {
        framework.load(&base_root)?
    } else {
        MigrationSet::empty(framework, &base_root)
    };
    Ok(Base {
        commit,
        set,
        _dir: dir,
    })
}

/// The text of a script (its section, for sectioned formats).
pub fn script_text(set: &MigrationSet, script: &Script) -> Result<String, Error> {
    let text = read_text(&set.abs(&script.path))?;
    let slice = match script.range {
        None => text.as_str(),
        Some((start, end)) => text.get(start..end).unwrap_or(""),
    };
    Ok(slice.replace("\r\n", "\n"))
}

fn up_text(set: &MigrationSet, migration: &Migration) -> Result<Option<String>, Error> {
    migration.up.as_ref().map(|s| script_text(set, s)).transpose()
}

/// Auxiliary files that change how the runner applies a migration (`.conf`, `metadata.toml`).
fn settings_files(set: &MigrationSet, migration: &Migration) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for file in &migration.files {
        if file.ends_with(".conf") || file.ends_with("metadata.toml") {
            out.push((file.clone(), read_text(&set.abs(file))?));
        }
    }
    Ok(out)
}

fn item(
    rule: &'static Rule,
    settings: &Settings,
    level: Option<Level>,
    path: String,
    line: u32,
    message: String,
) -> Option<Item> {
    let level = settings.level(rule, level)?;
    Some(Item {
        rule,
        level,
        path: Arc::from(path.as_str()),
        from: Pos { line, column: 1 },
        to: Pos { line, column: 1 },
        message,
        help: None,
        fix: None,
    })
}

/// The outcome of the gates.
#[derive(Debug, Default)]
pub struct Gates {
    /// Findings.
    pub items: Vec<Item>,
    /// Indices (into the head set) of the migrations under review, in order.
    pub new: Vec<usize>,
}

/// Compares the head set with the base set. `prefix` turns root-relative paths into repository ones.
pub fn gates(
    base: &MigrationSet,
    head: &MigrationSet,
    settings: &Settings,
    prefix: &str,
) -> Result<Gates, Error> {
    let mut out = Gates::default();
    let display = |path: &str| {
        if head.single_file {
            prefix.to_owned()
        } else {
            format!("{prefix}{path}")
        }
    };
    let head_ids: std::collections::BTreeMap<&str, usize> = head
        .migrations
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();
    let base_ids: std::collections::BTreeSet<&str> = base.migrations.iter().map(|m| m.id.as_str()).collect();
    let mut renamed_to: std::collections::BTreeSet<usize> = std::collections::BTreeSet::new();
    for old in &base.migrations {
        match head_ids.get(old.id.as_str()) {
            Some(&i) => {
                let new = &head.migrations[i];
                let (old_up, new_up) = (up_text(base, old)?, up_text(head, new)?);
                let edited_settings = settings_files(base, old)? != settings_files(head, new)?;
                if old_up != new_up || edited_settings {
                    let path = new.up.as_ref().map_or_else(
                        || new.files.first().cloned().unwrap_or_default(),
                        |s| s.path.clone(),
                    );
                    let line = new.up.as_ref().map_or(1, |s| s.line);
                    out.items.extend(item(
                        &rules::edited_migration::RULE,
                        settings,
                        None,
                        display(&path),
                        line,
                        format!(
                            "`{}` was already merged and is edited here: databases that applied it never see the change{}",
                            old.id,
                            checksum_note(head.framework)
                        ),
                    ));
                }
            }
            None => {
                let old_up = up_text(base, old)?;
                let renamed = head.migrations.iter().enumerate().find(|(i, m)| {
                    !base_ids.contains(m.id.as_str())
                        && !renamed_to.contains(i)
                        && old_up.is_some()
                        && up_text(head, m).ok().flatten() == old_up
                });
                match renamed {
                    Some((i, m)) => {
                        renamed_to.insert(i);
                        let path = m.up.as_ref().map_or_else(String::new, |s| s.path.clone());
                        out.items.extend(item(
                            &rules::renamed_migration::RULE,
                            settings,
                            None,
                            display(&path),
                            1,
                            format!(
                                "merged migration `{}` is renamed to `{}`: the runner sees a new migration and runs it again (or misses the old one)",
                                old.id, m.id
                            ),
                        ));
                    }
                    // Still in the folder but no longer a migration the runner sees (a Drizzle
                    // journal entry lost in a merge): the layout problem naming the file says what
                    // happened; "deleted" would be wrong.
                    None if old.files.iter().any(|f| {
                        head.problems
                            .iter()
                            .any(|p| p.path.as_deref() == Some(f.as_str()))
                    }) => {}
                    None => {
                        let path = old.files.first().cloned().unwrap_or_else(|| old.id.clone());
                        out.items.extend(item(
                            &rules::deleted_migration::RULE,
                            settings,
                            None,
                            display(&path),
                            0,
                            format!(
                                "merged migration `{}` is deleted: databases that applied it keep its changes, new ones never get them",
                                old.id
                            ),
                        ));
                    }
                }
            }
        }
    }
    let newest = base.migrations.iter().max_by(|a, b| a.key.cmp(&b.key));
    let newest_when = base
        .migrations
        .iter()
        .filter_map(|m| m.when.map(|w| (w, m)))
        .max_by_key(|(w, _)| *w);
    for (i, migration) in head.migrations.iter().enumerate() {
        if base_ids.contains(migration.id.as_str()) || renamed_to.contains(&i) {
            continue;
        }
        out.new.push(i);
        let path = migration.up.as_ref().map_or_else(
            || migration.files.first().cloned().unwrap_or_default(),
            |s| s.path.clone(),
        );
        let behind = match (head.framework, migration.when, newest_when) {
            (Framework::Drizzle, Some(when), Some((base_when, base_m))) => (when <= base_when).then(|| {
                (
                    base_m.id.clone(),
                    format!(
                        "its journal `when` ({when}) is not after `{}`'s ({base_when})",
                        base_m.version
                    ),
                )
            }),
            _ => newest.and_then(|n| {
                let behind = matches!(migration.key.key, Key::Repeatable(_))
                    == matches!(n.key.key, Key::Repeatable(_))
                    && migration.key <= n.key
                    && !matches!(migration.key.key, Key::Repeatable(_));
                behind.then(|| {
                    (
                        n.id.clone(),
                        format!("version `{}` is not after `{}`", migration.version, n.version),
                    )
                })
            }),
        };
        if let Some((newest_id, why)) = behind {
            let (consequence, level) = out_of_order(head.framework);
            out.items.extend(item(
                &rules::version_not_above_base::RULE,
                settings,
                level,
                display(&path),
                1,
                format!("new migration `{}` sorts before `{newest_id}`, already in the base: {why}; {consequence}", migration.id),
            ));
        }
    }
    if head.framework == Framework::Prisma {
        let lock = crate::framework::prisma::LOCK;
        let provider = |set: &MigrationSet| -> Option<String> {
            let path = set.root.join(lock);
            path.is_file()
                .then(|| read_text(&path).ok())
                .flatten()
                .and_then(|t| crate::framework::prisma::provider(&t))
        };
        match (provider(base), provider(head)) {
            (Some(old), Some(new)) if old != new => out.items.extend(item(
                &rules::prisma_lock_provider::RULE,
                settings,
                None,
                display(lock),
                1,
                format!("`{lock}` changes the provider from `{old}` to `{new}`: the migrations were generated for another database"),
            )),
            (Some(_), None) => out.items.extend(item(
                &rules::prisma_lock_provider::RULE,
                settings,
                None,
                display(lock),
                0,
                format!("`{lock}` was deleted: Prisma can no longer tell which database the migrations are for"),
            )),
            _ => {}
        }
    }
    Ok(out)
}

fn checksum_note(framework: Framework) -> &'static str {
    match framework {
        Framework::Sqlx => " (and `sqlx migrate run` fails on the changed checksum)",
        Framework::Flyway => " (and Flyway's `validate` fails on the changed checksum)",
        Framework::Atlas => " (and `atlas.sum` no longer matches)",
        Framework::Prisma => " (`prisma migrate deploy` warns, `migrate dev` asks to reset the database)",
        _ => "",
    }
}

/// What each runner does with a migration ordered before the newest applied one, and how bad it is.
fn out_of_order(framework: Framework) -> (&'static str, Option<Level>) {
    match framework {
        Framework::Drizzle => (
            "drizzle's migrator only runs entries newer than the last applied one, so databases that are up to date silently skip it",
            None,
        ),
        Framework::GolangMigrate => (
            "golang-migrate records only the newest version, so databases past it never apply this one",
            None,
        ),
        Framework::Flyway => ("Flyway refuses to migrate (`outOfOrder` is off by default)", None),
        Framework::Goose => ("goose refuses to migrate unless run with `-allow-missing`", None),
        Framework::NodePgMigrate => ("node-pg-migrate's `checkOrder` refuses to migrate", None),
        Framework::Atlas => ("`atlas migrate apply` refuses non-linear history", None),
        Framework::Dbmate => (
            "dbmate applies it out of order (`--strict` refuses it)",
            Some(Level::Warning),
        ),
        Framework::Prisma | Framework::Diesel | Framework::Sqlx | Framework::Sql => (
            "it is applied out of order, after migrations written later",
            Some(Level::Warning),
        ),
    }
}

/// Checks `atlas.sum` (Atlas) and `ops-migrations.sum` (any framework, when present).
pub fn check_sums(set: &MigrationSet, settings: &Settings, prefix: &str) -> Result<Vec<Item>, Error> {
    let mut out = Vec::new();
    if set.framework == Framework::Atlas && set.root.is_dir() {
        let computed = sums::atlas(set)?;
        match sums::read(set, crate::framework::atlas::SUM)? {
            None if !computed.entries.is_empty() => out.extend(item(
                &rules::atlas_sum::RULE,
                settings,
                None,
                format!("{prefix}{}", crate::framework::atlas::SUM),
                0,
                "`atlas.sum` is missing: Atlas refuses to apply the folder".to_owned(),
            )),
            Some(text) => {
                if let Some((what, line)) = sums::compare(&text, &computed) {
                    out.extend(item(
                        &rules::atlas_sum::RULE,
                        settings,
                        None,
                        format!("{prefix}{}", crate::framework::atlas::SUM),
                        line,
                        format!(
                            "`atlas.sum` does not match the migrations: {what}; Atlas refuses to apply them"
                        ),
                    ));
                }
            }
            None => {}
        }
    }
    if let Some(text) = sums::read(set, sums::OPS_SUM)? {
        let computed = sums::ops(set)?;
        if let Some((what, line)) = sums::compare(&text, &computed) {
            out.extend(item(
                &rules::ops_migrations_sum::RULE,
                settings,
                None,
                format!("{prefix}{}", sums::OPS_SUM),
                line,
                format!("`{}` does not match the migrations: {what}", sums::OPS_SUM),
            ));
        }
    }
    Ok(out)
}

/// Writes `ops-migrations.sum`.
pub fn write_ops_sum(set: &MigrationSet) -> Result<PathBuf, Error> {
    if !set.root.is_dir() {
        return Err(Error::usage(
            "`write-sum` needs a migrations folder, not a single file",
        ));
    }
    let path = set.root.join(sums::OPS_SUM);
    std::fs::write(&path, sums::ops(set)?.render()).map_err(|e| Error::io(&path, e))?;
    Ok(path)
}
