//! Names out of the syntax tree: qualified object names and column lists, normalised the way
//! PostgreSQL folds them (unquoted → lower case, quoted kept).

use squawk_syntax::ast::{self, AstNode, NameLike};

/// A possibly schema-qualified object name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QName {
    /// The schema, when written.
    pub schema: Option<String>,
    /// The object's own name.
    pub name: String,
}

impl QName {
    /// An unqualified name.
    pub fn bare(name: impl Into<String>) -> Self {
        Self {
            schema: None,
            name: name.into(),
        }
    }
}

impl std::fmt::Display for QName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// The name a `PathRef` (`a.b.c`) denotes: the last segment and the one before it as schema.
pub fn path_ref(path: &ast::PathRef) -> Option<QName> {
    let name = path.segment()?.text();
    let schema = path.qualifier().and_then(|q| q.segment()).map(|s| s.text());
    Some(QName { schema, name })
}

/// The name a `Path` (in a definition) denotes.
pub fn path(path: &ast::Path) -> Option<QName> {
    let name = path.segment()?.text();
    let schema = path.qualifier().and_then(|q| q.segment()).map(|s| s.text());
    Some(QName { schema, name })
}

/// The table an `ALTER TABLE`, `CREATE INDEX`… is about.
pub fn table_relation(relation: Option<ast::TableRelationName>) -> Option<QName> {
    path_ref(&relation?.table_name_ref()?.path_ref()?)
}

/// The table named by a `TableNameRef`.
pub fn table_ref(table: Option<ast::TableNameRef>) -> Option<QName> {
    path_ref(&table?.path_ref()?)
}

/// A relation name in DML (`UPDATE t`, `DELETE FROM t`).
pub fn relation(relation: Option<ast::RelationName>) -> Option<QName> {
    path_ref(&relation?.relation_name_ref()?.path_ref()?)
}

/// The name of the table `CREATE TABLE` defines.
pub fn created_table(create: &ast::CreateTable) -> Option<QName> {
    path(&create.table_name()?.path()?)
}

/// Normalised text of any name-like node.
pub fn text(node: &impl AstNode) -> String {
    ast::normalize_name_node(node.syntax())
}

/// The name a constraint definition gives itself (`CONSTRAINT name …`).
pub fn constraint_name(constraint: &ast::Constraint) -> Option<String> {
    constraint.constraint_name().map(|n| text(&n))
}

/// The constraint a `ConstraintNameRef` names.
pub fn constraint_ref(name: Option<ast::ConstraintNameRef>) -> Option<String> {
    Some(name?.path_ref()?.segment()?.text())
}

/// Column names in an index's parameter list; expressions become `(…)` with their text.
pub fn index_columns(list: Option<ast::PartitionItemList>) -> Vec<String> {
    let Some(list) = list else { return Vec::new() };
    list.partition_items()
        .map(|item| match item.expr() {
            Some(ast::Expr::NameRef(name)) => name.text(),
            Some(expr) => format!("({})", expr.syntax().text()),
            None => String::new(),
        })
        .collect()
}

/// Column names of a constraint's column list (`UNIQUE (a, b)`, `PRIMARY KEY (a)`).
pub fn constraint_columns(node: &impl AstNode) -> Vec<String> {
    node.syntax()
        .children()
        .find(|c| ast::ConstraintColumnRefList::can_cast(c.kind()) || ast::ColumnList::can_cast(c.kind()))
        .or_else(|| {
            node.syntax()
                .descendants()
                .find(|c| ast::ConstraintColumnRefList::can_cast(c.kind()))
        })
        .map(|list| {
            list.descendants()
                .filter_map(ast::ColumnNameRef::cast)
                .map(|c| c.text())
                .chain(
                    list.descendants()
                        .filter_map(ast::ColumnName::cast)
                        .map(|c| c.text()),
                )
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a statement (or part) says `IF EXISTS` / `IF NOT EXISTS`.
pub fn has_if_exists(node: &impl AstNode) -> bool {
    node.syntax()
        .children()
        .any(|c| ast::IfExists::can_cast(c.kind()) || ast::IfNotExists::can_cast(c.kind()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use squawk_syntax::SourceFile;

    fn first(sql: &str) -> ast::Stmt {
        SourceFile::parse(sql).tree().stmts().next().unwrap()
    }

    #[test]
    fn folds_names_like_postgres() {
        let ast::Stmt::AlterTable(alter) = first("ALTER TABLE Public.\"Users\" ADD COLUMN x int;") else {
            panic!()
        };
        let name = table_relation(alter.table_relation_name()).unwrap();
        assert_eq!(name.schema.as_deref(), Some("public"));
        assert_eq!(name.name, "Users");
        assert_eq!(name.to_string(), "public.Users");
    }

    #[test]
    fn index_and_constraint_columns() {
        let ast::Stmt::CreateIndex(index) = first("create index i on t (a, lower(b));") else {
            panic!()
        };
        assert_eq!(
            index_columns(index.partition_item_list()),
            vec!["a", "(lower(b))"]
        );
        let ast::Stmt::AlterTable(alter) = first("alter table t add constraint u unique (a, \"B\");") else {
            panic!()
        };
        let Some(ast::AlterTableAction::AddConstraint(add)) = alter.actions().next() else {
            panic!()
        };
        let constraint = add.constraint().unwrap();
        assert_eq!(constraint_name(&constraint).as_deref(), Some("u"));
        assert_eq!(constraint_columns(&constraint), vec!["a", "B"]);
    }
}
