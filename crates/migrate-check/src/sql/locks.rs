//! Which lock a statement takes on which table, from PostgreSQL's documentation of each command
//! ("Explicit Locking", and the "lock" notes of `ALTER TABLE`, `CREATE INDEX`, …).

use squawk_syntax::ast::{self, AstNode};

use super::names::{self, QName};
use crate::schema::Schema;

/// Table-level lock modes, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockMode {
    /// `ACCESS SHARE` (SELECT).
    AccessShare,
    /// `ROW SHARE` (SELECT FOR UPDATE).
    RowShare,
    /// `ROW EXCLUSIVE` (INSERT, UPDATE, DELETE).
    RowExclusive,
    /// `SHARE UPDATE EXCLUSIVE` (VACUUM, CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT).
    ShareUpdateExclusive,
    /// `SHARE` (CREATE INDEX): blocks writes.
    Share,
    /// `SHARE ROW EXCLUSIVE` (CREATE TRIGGER, ADD FOREIGN KEY): blocks writes.
    ShareRowExclusive,
    /// `EXCLUSIVE` (REFRESH MATERIALIZED VIEW CONCURRENTLY): blocks writes and row locks.
    Exclusive,
    /// `ACCESS EXCLUSIVE` (most ALTER TABLE forms, DROP, TRUNCATE): blocks everything, reads included.
    AccessExclusive,
}

impl LockMode {
    /// The SQL name.
    pub fn name(self) -> &'static str {
        match self {
            Self::AccessShare => "ACCESS SHARE",
            Self::RowShare => "ROW SHARE",
            Self::RowExclusive => "ROW EXCLUSIVE",
            Self::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            Self::Share => "SHARE",
            Self::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            Self::Exclusive => "EXCLUSIVE",
            Self::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// Parses `pg_locks.mode` (`AccessExclusiveLock`).
    pub fn from_pg(mode: &str) -> Option<Self> {
        Some(match mode {
            "AccessShareLock" => Self::AccessShare,
            "RowShareLock" => Self::RowShare,
            "RowExclusiveLock" => Self::RowExclusive,
            "ShareUpdateExclusiveLock" => Self::ShareUpdateExclusive,
            "ShareLock" => Self::Share,
            "ShareRowExclusiveLock" => Self::ShareRowExclusive,
            "ExclusiveLock" => Self::Exclusive,
            "AccessExclusiveLock" => Self::AccessExclusive,
            _ => return None,
        })
    }

    /// What ordinary traffic it blocks.
    pub fn blocks(self) -> &'static str {
        match self {
            Self::AccessExclusive => "reads and writes",
            Self::Exclusive | Self::ShareRowExclusive | Self::Share => "writes",
            _ => "other schema changes",
        }
    }

    /// Whether it blocks ordinary reads or writes of the table.
    pub fn blocks_traffic(self) -> bool {
        self >= Self::Share
    }
}

/// The strongest lock an `ALTER TABLE` action takes on its table.
pub fn alter_table_action(action: &ast::AlterTableAction) -> LockMode {
    use ast::AlterTableAction as A;
    match action {
        A::ValidateConstraint(_)
        | A::SetOptions(_)
        | A::ResetOptions(_)
        | A::ClusterOn(_)
        | A::SetWithoutCluster(_)
        | A::AttachPartition(_) => LockMode::ShareUpdateExclusive,
        A::DetachPartition(detach) => {
            if matches!(
                detach.detach_partition_option(),
                Some(
                    ast::DetachPartitionOption::DetachConcurrently(_)
                        | ast::DetachPartitionOption::DetachFinalize(_)
                )
            ) {
                LockMode::ShareUpdateExclusive
            } else {
                LockMode::AccessExclusive
            }
        }
        A::AddConstraint(add) => match add.constraint() {
            Some(ast::Constraint::ForeignKeyConstraint(_) | ast::Constraint::ReferencesConstraint(_)) => {
                LockMode::ShareRowExclusive
            }
            _ => LockMode::AccessExclusive,
        },
        A::DisableTrigger(_)
        | A::EnableTrigger(_)
        | A::EnableAlwaysTrigger(_)
        | A::EnableReplicaTrigger(_) => LockMode::ShareRowExclusive,
        A::AlterColumn(column) => match column.option() {
            Some(
                ast::AlterColumnOption::SetStatistics(_)
                | ast::AlterColumnOption::SetOptions(_)
                | ast::AlterColumnOption::ResetOptions(_),
            ) => LockMode::ShareUpdateExclusive,
            _ => LockMode::AccessExclusive,
        },
        _ => LockMode::AccessExclusive,
    }
}

/// The lock a statement takes and on which table, when it locks a table the model can name.
pub fn statement_lock(stmt: &ast::Stmt, schema: &Schema) -> Option<(LockMode, QName)> {
    match stmt {
        ast::Stmt::AlterTable(alter) => {
            let table = names::table_relation(alter.table_relation_name())?;
            let mode = alter
                .actions()
                .map(|a| alter_table_action(&a))
                .max()
                .unwrap_or(LockMode::AccessExclusive);
            Some((mode, table))
        }
        ast::Stmt::CreateIndex(create) => {
            let table = names::table_relation(create.table_relation_name())?;
            Some((
                if create.concurrently_token().is_some() {
                    LockMode::ShareUpdateExclusive
                } else {
                    LockMode::Share
                },
                table,
            ))
        }
        ast::Stmt::DropIndex(drop) => {
            let index = drop
                .index_refs()
                .next()?
                .path_ref()
                .and_then(|p| names::path_ref(&p))?;
            let key = schema.index(&index)?.table.clone();
            Some((
                if drop.concurrently_token().is_some() {
                    LockMode::ShareUpdateExclusive
                } else {
                    LockMode::AccessExclusive
                },
                QName {
                    schema: Some(key.0),
                    name: key.1,
                },
            ))
        }
        ast::Stmt::DropTable(drop) => Some((
            LockMode::AccessExclusive,
            names::table_ref(drop.table_name_refs().next())?,
        )),
        ast::Stmt::Truncate(truncate) => {
            let table = truncate.table_list()?.table_relation_names().next()?;
            Some((LockMode::AccessExclusive, names::table_relation(Some(table))?))
        }
        ast::Stmt::Lock(lock) => {
            let mode =
                lock.lock_mode_clause()
                    .and_then(|c| c.lock_mode())
                    .map_or(LockMode::AccessExclusive, |m| match m {
                        ast::LockMode::AccessShare(_) => LockMode::AccessShare,
                        ast::LockMode::RowShare(_) => LockMode::RowShare,
                        ast::LockMode::RowExclusive(_) => LockMode::RowExclusive,
                        ast::LockMode::ShareUpdateExclusive(_) => LockMode::ShareUpdateExclusive,
                        ast::LockMode::Share(_) => LockMode::Share,
                        ast::LockMode::ShareRowExclusive(_) => LockMode::ShareRowExclusive,
                        ast::LockMode::Exclusive(_) => LockMode::Exclusive,
                        ast::LockMode::AccessExclusive(_) => LockMode::AccessExclusive,
                    });
            let table = lock
                .relation_list()?
                .syntax()
                .descendants()
                .find_map(ast::PathRef::cast)
                .and_then(|p| names::path_ref(&p))?;
            Some((mode, table))
        }
        ast::Stmt::Vacuum(vacuum) => {
            let table = vacuum
                .table_and_columns_list()?
                .syntax()
                .descendants()
                .find_map(ast::PathRef::cast)
                .and_then(|p| names::path_ref(&p))?;
            Some((
                if vacuum.full_token().is_some()
                    || vacuum.syntax().to_string().to_ascii_lowercase().contains("full")
                {
                    LockMode::AccessExclusive
                } else {
                    LockMode::ShareUpdateExclusive
                },
                table,
            ))
        }
        ast::Stmt::Cluster(cluster) => Some((
            LockMode::AccessExclusive,
            names::table_ref(cluster.table_name_ref())?,
        )),
        ast::Stmt::Reindex(reindex) => match reindex.reindex_target()? {
            ast::ReindexTarget::ReindexTargetTable(t) => Some((
                if t.concurrently_token().is_some() {
                    LockMode::ShareUpdateExclusive
                } else {
                    LockMode::Share
                },
                names::table_ref(t.table_name_ref())?,
            )),
            ast::ReindexTarget::ReindexTargetIndex(i) => {
                let index = i.index_ref()?.path_ref().and_then(|p| names::path_ref(&p))?;
                let key = schema.index(&index)?.table.clone();
                Some((
                    if i.concurrently_token().is_some() {
                        LockMode::ShareUpdateExclusive
                    } else {
                        LockMode::Share
                    },
                    QName {
                        schema: Some(key.0),
                        name: key.1,
                    },
                ))
            }
            _ => None,
        },
        ast::Stmt::CreateTrigger(trigger) => {
            let table = trigger
                .syntax()
                .descendants()
                .find_map(ast::OnRelation::cast)?
                .syntax()
                .descendants()
                .find_map(ast::PathRef::cast)
                .and_then(|p| names::path_ref(&p))?;
            Some((LockMode::ShareRowExclusive, table))
        }
        ast::Stmt::Update(update) => Some((LockMode::RowExclusive, names::relation(update.relation_name())?)),
        ast::Stmt::Delete(delete) => Some((LockMode::RowExclusive, names::relation(delete.relation_name())?)),
        ast::Stmt::Insert(insert) => Some((
            LockMode::RowExclusive,
            insert
                .relation_name_ref()?
                .path_ref()
                .and_then(|p| names::path_ref(&p))?,
        )),
        _ => None,
    }
}
