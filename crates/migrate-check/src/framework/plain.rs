//! Plain SQL: `*.sql` files applied in file-name order (byte order), each statement committing on its
//! own unless the file opens a transaction itself (what `psql -f` does). A single file is accepted as
//! the migrations "folder".

use std::path::Path;

use super::{Direction, Key, Migration, MigrationSet, OrderKey, Script, TxMode, files_in};
use crate::error::Error;

pub(crate) fn load(root: &Path) -> Result<MigrationSet, Error> {
    let mut set = MigrationSet::empty(super::Framework::Sql, root);
    let names: Vec<String> = if root.is_file() {
        vec![
            root.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("migration.sql")
                .to_owned(),
        ]
    } else {
        files_in(root)?
            .into_iter()
            .map(|(name, _)| name)
            .filter(|name| name.ends_with(".sql"))
            .collect()
    };
    for name in names {
        let mut script = Script::file(name.clone(), TxMode::None, Direction::Up);
        script.placeholders = true;
        set.migrations.push(Migration {
            id: name.clone(),
            version: name.trim_end_matches(".sql").to_owned(),
            key: OrderKey {
                key: Key::Text(name.clone()),
                tie: String::new(),
            },
            up: Some(script),
            down: None,
            files: vec![name],
            when: None,
        });
    }
    Ok(set)
}
