//! Prisma Migrate: `<YYYYMMDDHHMMSS>_<name>/migration.sql` folders applied in folder-name order, and
//! `migration_lock.toml` whose `provider` must match the datasource (`postgresql`).
//!
//! Transactions: older engines send the whole script as one query (one implicit transaction); since
//! prisma-engines#5767 the script is split so `CREATE INDEX CONCURRENTLY` works, while
//! `DROP INDEX CONCURRENTLY` still takes the single-query path (prisma-engines#5847).

use std::path::Path;

use super::{Direction, Key, LayoutProblem, Migration, MigrationSet, OrderKey, Script, TxMode, dirs_in};
use crate::error::Error;

/// The lock file, relative to the migrations folder.
pub const LOCK: &str = "migration_lock.toml";

pub(crate) fn load(root: &Path) -> Result<MigrationSet, Error> {
    let mut set = MigrationSet::empty(super::Framework::Prisma, root);
    if root.join(LOCK).is_file() {
        set.metadata_files.push(LOCK.to_owned());
        let text = super::read_text(&root.join(LOCK))?;
        match provider(&text) {
            Some(p) if p == "postgresql" || p == "postgres" => {}
            Some(p) => set.problem(LayoutProblem::new(
                "prisma-lock-provider",
                LOCK,
                format!("`{LOCK}` says `provider = \"{p}\"`: Prisma refuses to apply these migrations to PostgreSQL"),
            )),
            None => set.problem(LayoutProblem::new(
                "prisma-lock-provider",
                LOCK,
                format!("`{LOCK}` has no `provider`"),
            )),
        }
    }
    for (name, path) in dirs_in(root)? {
        if !path.join("migration.sql").is_file() {
            continue;
        }
        let file = format!("{name}/migration.sql");
        set.migrations.push(Migration {
            id: name.clone(),
            version: super::leading_digits(&name).to_owned(),
            key: OrderKey {
                key: Key::Text(name.clone()),
                tie: String::new(),
            },
            up: Some(Script::file(file.clone(), TxMode::Prisma, Direction::Up)),
            down: None,
            files: vec![file],
            when: None,
        });
    }
    Ok(set)
}

/// The `provider` value of a `migration_lock.toml`.
pub fn provider(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.split('#').next()?.trim();
        let (key, value) = line.split_once('=')?;
        (key.trim() == "provider").then(|| value.trim().trim_matches('"').trim_matches('\'').to_owned())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_provider() {
        assert_eq!(
            super::provider("# Please do not edit\nprovider = \"postgresql\"\n").as_deref(),
            Some("postgresql")
        );
        assert_eq!(super::provider("x = 1"), None);
    }
}
