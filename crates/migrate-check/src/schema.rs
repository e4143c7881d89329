//! A schema model replayed from the migrations: tables, columns (type, nullability), indexes,
//! constraints and enum types, each marked new (created by the change under review) or existing.
//!
//! Rules ask it what static SQL alone cannot say: is this table created in this pull request (then
//! locking it is harmless), what type does this column have now (is the change binary-coercible), is
//! it nullable (a primary key would scan), is there an index behind this foreign key. Statements the
//! model does not understand leave it unchanged; an unknown table counts as existing, which errs on the
//! side of reporting.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use squawk_syntax::ast::{self, AstNode, NameLike};

use crate::sql::names::{self, QName};
use crate::sql::types::ColType;

/// Marks, in a [`Schema::shape`], a table whose columns the model does not know.
pub const UNKNOWN_COLUMNS: &str = "table-with-unknown-columns";

/// A fully qualified key: `(schema, name)`.
pub type Key = (String, String);

/// A column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Name.
    pub name: String,
    /// Type, when written in a way the model reads.
    pub ty: Option<ColType>,
    /// `NOT NULL` (or part of the primary key).
    pub not_null: bool,
    /// Has a default.
    pub has_default: bool,
}

/// What kind of constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    /// `CHECK`.
    Check,
    /// `FOREIGN KEY` / `REFERENCES`.
    ForeignKey,
    /// `UNIQUE`.
    Unique,
    /// `PRIMARY KEY`.
    PrimaryKey,
    /// `EXCLUDE`.
    Exclude,
    /// `NOT NULL` as a named constraint (PostgreSQL 18).
    NotNull,
}

/// A table constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// Name (generated names are not modelled: `None`).
    pub name: Option<String>,
    /// Kind.
    pub kind: ConstraintKind,
    /// Columns it covers (for foreign keys: the referencing columns).
    pub columns: Vec<String>,
    /// Validated (not `NOT VALID`, or validated since).
    pub valid: bool,
    /// For `CHECK (col IS NOT NULL)`: the column.
    pub not_null_check: Option<String>,
    /// Created by the change under review.
    pub new: bool,
}

/// A table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Columns in order.
    pub columns: Vec<Column>,
    /// Constraints.
    pub constraints: Vec<Constraint>,
    /// Created by the change under review.
    pub new: bool,
    /// Whether the model knows every column (not for `CREATE TABLE … AS`).
    pub columns_known: bool,
}

impl Table {
    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }
}

/// An index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// The table.
    pub table: Key,
    /// Key columns in order (expressions as `(…)`).
    pub columns: Vec<String>,
    /// Created by the change under review.
    pub new: bool,
}

/// The model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    // Shared, copy-on-write: cloning the model (once per migration with a down script) copies
    // pointers, and comparing two models skips every table both still share.
    tables: BTreeMap<Key, Arc<Table>>,
    indexes: Arc<BTreeMap<Key, Index>>,
    /// Other named objects (views, types, sequences, functions…), by kind and key, with their "new" flag.
    objects: Arc<BTreeMap<(&'static str, Key), bool>>,
    search_path: Option<String>,
}

impl Schema {
    /// The key an (optionally qualified) name resolves to.
    pub fn key(&self, name: &QName) -> Key {
        (
            name.schema
                .clone()
                .or_else(|| self.search_path.clone())
                .unwrap_or_else(|| "public".to_owned()),
            name.name.clone(),
        )
    }

    /// A table.
    pub fn table(&self, name: &QName) -> Option<&Table> {
        self.tables.get(&self.key(name)).map(|t| &**t)
    }

    /// Whether the table exists from before the change under review (unknown tables count as existing).
    pub fn is_existing_table(&self, name: &QName) -> bool {
        self.table(name).is_none_or(|t| !t.new)
    }

    /// Whether an object of a kind (`view`, `type`, `sequence`, `function`, `schema`, `index`, …) was
    /// created by the change under review.
    pub fn is_new_object(&self, kind: &'static str, name: &QName) -> bool {
        if kind == "table" {
            return self.table(name).is_some_and(|t| t.new);
        }
        if kind == "index" {
            return self.indexes.get(&self.key(name)).is_some_and(|i| i.new);
        }
        if kind == "schema" {
            return self
                .objects
                .get(&(kind, (String::new(), name.name.clone())))
                .copied()
                .unwrap_or(false);
        }
        self.objects
            .get(&(kind, self.key(name)))
            .copied()
            .unwrap_or(false)
    }

    /// The index a name denotes.
    pub fn index(&self, name: &QName) -> Option<&Index> {
        self.indexes.get(&self.key(name))
    }

    /// Indexes on a table.
    pub fn indexes_on(&self, table: &QName) -> impl Iterator<Item = &Index> {
        let key = self.key(table);
        self.indexes.values().filter(move |i| i.table == key)
    }

    /// Whether some index (or primary key / unique constraint) on `table` starts with `columns`, in any
    /// order among the leading ones — what a foreign key lookup needs.
    pub fn has_index_leading(&self, table: &QName, columns: &[String]) -> bool {
        let want: BTreeSet<&String> = columns.iter().collect();
        let covers = |cols: &[String]| {
            cols.len() >= columns.len() && cols[..columns.len()].iter().collect::<BTreeSet<_>>() == want
        };
        self.indexes_on(table).any(|i| covers(&i.columns))
            || self.table(table).is_some_and(|t| {
                t.constraints.iter().any(|c| {
                    matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique)
                        && covers(&c.columns)
                })
            })
    }

    /// Marks everything as existing (after replaying the base, or between migrations).
    pub fn settle(&mut self) {
        for table in self.tables.values_mut() {
            if !table.new && table.constraints.iter().all(|c| !c.new) {
                continue;
            }
            let table = Arc::make_mut(table);
            table.new = false;
            for c in &mut table.constraints {
                c.new = false;
            }
        }
        for index in Arc::make_mut(&mut self.indexes).values_mut() {
            index.new = false;
        }
        for new in Arc::make_mut(&mut self.objects).values_mut() {
            *new = false;
        }
    }

    /// The shape used to compare schemas (down migrations): one line per table, column, type and view.
    /// Indexes, constraints, functions and sequences are left out: PostgreSQL names unnamed constraints
    /// itself, attaches partition indexes to their parent's, overloads functions and drops owned
    /// sequences with their table, which a static model cannot follow (the trace on a real database
    /// compares everything).
    pub fn shape(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for ((schema, name), table) in &self.tables {
            out.insert(format!("table {schema}.{name}"));
            if !table.columns_known {
                out.insert(format!("{UNKNOWN_COLUMNS} {schema}.{name}"));
            }
            for column in &table.columns {
                out.insert(format!("column {schema}.{name}.{}", column.name));
            }
        }
        for (kind, (schema, name)) in self.objects.keys() {
            if !matches!(*kind, "type" | "view") {
                continue;
            }
            if schema.is_empty() {
                out.insert(format!("{kind} {name}"));
            } else {
                out.insert(format!("{kind} {schema}.{name}"));
            }
        }
        out
    }

    /// What `after` has that `self` has not (`left`) and the reverse (`missing`), as [`Schema::shape`]
    /// lines, comparing only tables the two do not share.
    pub fn diff(&self, after: &Self) -> (Vec<String>, Vec<String>) {
        let mut before_lines = BTreeSet::new();
        let mut after_lines = BTreeSet::new();
        let table_lines = |key: &Key, table: &Table, out: &mut BTreeSet<String>| {
            let (schema, name) = key;
            out.insert(format!("table {schema}.{name}"));
            if table.columns_known {
                for column in &table.columns {
                    out.insert(format!("column {schema}.{name}.{}", column.name));
                }
            }
        };
        for (key, table) in &self.tables {
            match after.tables.get(key) {
                Some(other) if Arc::ptr_eq(table, other) => {}
                Some(other) if !table.columns_known || !other.columns_known => {}
                _ => table_lines(key, table, &mut before_lines),
            }
        }
        for (key, table) in &after.tables {
            match self.tables.get(key) {
                Some(other) if Arc::ptr_eq(table, other) => {}
                Some(other) if !table.columns_known || !other.columns_known => {}
                _ => table_lines(key, table, &mut after_lines),
            }
        }
        if !Arc::ptr_eq(&self.objects, &after.objects) {
            let objects = |schema: &Self, out: &mut BTreeSet<String>| {
                for (kind, (s, name)) in schema.objects.keys() {
                    if matches!(*kind, "type" | "view") {
                        out.insert(format!("{kind} {s}.{name}"));
                    }
                }
            };
            objects(self, &mut before_lines);
            objects(after, &mut after_lines);
        }
        (
            after_lines.difference(&before_lines).cloned().collect(),
            before_lines.difference(&after_lines).cloned().collect(),
        )
    }

    /// Applies one statement. `new` marks what it creates as created by the change under review.
    pub fn apply(&mut self, stmt: &ast::Stmt, new: bool) {
        match stmt {
            ast::Stmt::CreateTable(create) => self.create_table(create, new),
            ast::Stmt::CreateTableAs(create) => {
                if let Some(name) = create
                    .syntax()
                    .children()
                    .find_map(ast::TableName::cast)
                    .and_then(|t| t.path())
                    .and_then(|p| names::path(&p))
                {
                    let key = self.key(&name);
                    self.tables.entry(key).or_insert_with(|| {
                        Arc::new(Table {
                            columns: Vec::new(),
                            constraints: Vec::new(),
                            new,
                            columns_known: false,
                        })
                    });
                }
            }
            ast::Stmt::AlterTable(alter) => self.alter_table(alter, new),
            ast::Stmt::DropTable(drop) => {
                for table in drop.table_name_refs() {
                    if let Some(name) = names::table_ref(Some(table)) {
                        let key = self.key(&name);
                        self.tables.remove(&key);
                        Arc::make_mut(&mut self.indexes).retain(|_, i| i.table != key);
                    }
                }
            }
            ast::Stmt::CreateIndex(create) => {
                let Some(table) = names::table_relation(create.table_relation_name()) else {
                    return;
                };
                let table_key = self.key(&table);
                let index_name = create
                    .index()
                    .and_then(|i| i.path())
                    .and_then(|p| names::path(&p))
                    .map(|mut n| {
                        // An index lives in its table's schema.
                        n.schema = Some(table_key.0.clone());
                        n
                    });
                let columns = names::index_columns(create.partition_item_list());
                let name = index_name
                    .unwrap_or_else(|| QName::bare(format!("{}_{}_idx", table.name, columns.join("_"))));
                let key = self.key(&name);
                if create.if_not_exists().is_some() && self.indexes.contains_key(&key) {
                    return;
                }
                Arc::make_mut(&mut self.indexes).insert(
                    key,
                    Index {
                        table: table_key,
                        columns,
                        new,
                    },
                );
            }
            ast::Stmt::DropIndex(drop) => {
                for index in drop.index_refs() {
                    if let Some(name) = index.path_ref().and_then(|p| names::path_ref(&p)) {
                        let key = self.key(&name);
                        Arc::make_mut(&mut self.indexes).remove(&key);
                    }
                }
            }
            ast::Stmt::AlterIndex(alter) => {
                let Some(name) = alter
                    .index_ref()
                    .and_then(|i| i.path_ref())
                    .and_then(|p| names::path_ref(&p))
                else {
                    return;
                };
                let key = self.key(&name);
                if let Some(ast::AlterIndexAction::IndexRenameTo(rename)) = alter.action()
                    && let Some(to) = rename
                        .index()
                        .and_then(|i| i.path())
                        .and_then(|p| names::path(&p))
                    && let Some(index) = Arc::make_mut(&mut self.indexes).remove(&key)
                {
                    Arc::make_mut(&mut self.indexes).insert((key.0, to.name), index);
                }
            }
            ast::Stmt::CreateType(create) => {
                if let Some(name) = create
                    .type_name()
                    .and_then(|t| t.path())
                    .and_then(|p| names::path(&p))
                {
                    let key = self.key(&name);
                    Arc::make_mut(&mut self.objects).insert(("type", key), new);
                }
            }
            ast::Stmt::AlterType(alter) => {
                if let Some(ast::AlterTypeAction::TypeRenameTo(rename)) = alter.action()
                    && let Some(from) = alter
                        .type_name_ref()
                        .and_then(|t| t.path_ref())
                        .and_then(|p| names::path_ref(&p))
                    && let Some(to) = rename
                        .type_name()
                        .and_then(|t| t.path())
                        .and_then(|p| names::path(&p))
                {
                    let key = self.key(&from);
                    if let Some(new) = Arc::make_mut(&mut self.objects).remove(&("type", key.clone())) {
                        Arc::make_mut(&mut self.objects).insert(("type", (key.0, to.name)), new);
                    }
                }
            }
            ast::Stmt::DropType(drop) => {
                for ty in drop.type_name_refs() {
                    if let Some(name) = ty.path_ref().and_then(|p| names::path_ref(&p)) {
                        let key = self.key(&name);
                        Arc::make_mut(&mut self.objects).remove(&("type", key));
                    }
                }
            }
            ast::Stmt::DropView(drop) => self.drop_objects("view", drop.syntax()),
            ast::Stmt::DropMaterializedView(drop) => self.drop_objects("view", drop.syntax()),
            ast::Stmt::DropFunction(drop) => self.drop_objects("function", drop.syntax()),
            ast::Stmt::DropProcedure(drop) => self.drop_objects("function", drop.syntax()),
            ast::Stmt::DropRoutine(drop) => self.drop_objects("function", drop.syntax()),
            ast::Stmt::DropSequence(drop) => self.drop_objects("sequence", drop.syntax()),
            ast::Stmt::DropDomain(drop) => self.drop_objects("domain", drop.syntax()),
            ast::Stmt::DropTrigger(drop) => self.drop_objects("trigger", drop.syntax()),
            ast::Stmt::DropExtension(drop) => {
                for name in drop.extension_refs() {
                    Arc::make_mut(&mut self.objects)
                        .remove(&("extension", (String::new(), names::text(&name))));
                }
            }
            ast::Stmt::DropSchema(drop) => {
                for schema in drop.schema_refs() {
                    let name = names::text(&schema);
                    Arc::make_mut(&mut self.objects)
                        .retain(|(kind, (s, n)), _| !(s == &name || (*kind == "schema" && n == &name)));
                    self.tables.retain(|(s, _), _| s != &name);
                    Arc::make_mut(&mut self.indexes).retain(|(s, _), _| s != &name);
                }
            }
            ast::Stmt::CreateView(view) => self.named_object("view", view.syntax(), new),
            ast::Stmt::CreateMaterializedView(view) => self.named_object("view", view.syntax(), new),
            ast::Stmt::CreateSequence(seq) => self.named_object("sequence", seq.syntax(), new),
            ast::Stmt::CreateFunction(f) => self.named_object("function", f.syntax(), new),
            ast::Stmt::CreateProcedure(p) => self.named_object("function", p.syntax(), new),
            ast::Stmt::CreateDomain(d) => self.named_object("domain", d.syntax(), new),
            ast::Stmt::CreateTrigger(t) => self.named_object("trigger", t.syntax(), new),
            ast::Stmt::CreateExtension(e) => {
                if let Some(name) = e.extension().map(|n| names::text(&n)) {
                    Arc::make_mut(&mut self.objects).insert(("extension", (String::new(), name)), new);
                }
            }
            ast::Stmt::CreateSchema(schema) => {
                if let Some(name) = schema.schema_name().map(|n| ast::normalize_name_node(&n)) {
                    Arc::make_mut(&mut self.objects).insert(("schema", (String::new(), name)), new);
                }
            }
            ast::Stmt::Set(set) => {
                if let Some(ast::SetTarget::SetConfig(config)) = set.set_target()
                    && config
                        .config_parameter_ref()
                        .and_then(|c| c.path_ref())
                        .and_then(|p| p.segment())
                        .is_some_and(|s| s.text() == "search_path")
                {
                    let value = config.syntax().to_string();
                    let first = value
                        .split_once(['=', ' '])
                        .map(|(_, rest)| rest)
                        .unwrap_or("")
                        .trim_start_matches(|c: char| {
                            c == '=' || c.is_whitespace() || c.eq_ignore_ascii_case(&'t')
                        })
                        .split(',')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .trim_matches(|c| c == '\'' || c == '"' || c == ';')
                        .to_ascii_lowercase();
                    let first = first.strip_prefix("o ").unwrap_or(&first).trim().to_owned();
                    if !first.is_empty() && first != "\"$user\"" && first != "$user" {
                        self.search_path = Some(first);
                    }
                }
            }
            _ => {}
        }
    }

    fn drop_objects(&mut self, kind: &'static str, node: &squawk_syntax::SyntaxNode) {
        // Every object named in the statement: `DROP VIEW a, b`, `DROP FUNCTION f(int), g()`.
        let mut keys = Vec::new();
        for path in node.descendants().filter_map(ast::PathRef::cast) {
            // Only outermost paths (a qualified name's qualifier is a nested path).
            if path
                .syntax()
                .parent()
                .is_some_and(|p| ast::PathRef::can_cast(p.kind()))
            {
                continue;
            }
            if path
                .syntax()
                .ancestors()
                .any(|a| ast::ParamList::can_cast(a.kind()) || ast::Type::can_cast(a.kind()))
            {
                continue;
            }
            if let Some(name) = names::path_ref(&path) {
                keys.push(self.key(&name));
            }
        }
        for key in keys {
            Arc::make_mut(&mut self.objects).remove(&(kind, key));
        }
    }

    fn named_object(&mut self, kind: &'static str, node: &squawk_syntax::SyntaxNode, new: bool) {
        if let Some(name) = node
            .children()
            .find_map(|c| {
                c.descendants()
                    .find_map(ast::Path::cast)
                    .filter(|_| !ast::ParamList::can_cast(c.kind()) && !ast::Type::can_cast(c.kind()))
            })
            .and_then(|p| names::path(&p))
        {
            let key = self.key(&name);
            Arc::make_mut(&mut self.objects).insert((kind, key), new);
        }
    }

    fn create_table(&mut self, create: &ast::CreateTable, new: bool) {
        let Some(name) = names::created_table(create) else {
            return;
        };
        if matches!(create.persistence(), Some(ast::Persistence::Temp(_))) {
            return;
        }
        let key = self.key(&name);
        if create.if_not_exists().is_some() && self.tables.contains_key(&key) {
            return;
        }
        let mut table = Table {
            columns: Vec::new(),
            constraints: Vec::new(),
            new,
            columns_known: true,
        };
        if let Some(args) = create.table_arg_list() {
            for arg in args.args() {
                match arg {
                    ast::TableArg::Column(column) => {
                        let Some(col_name) = column.name().map(|n| n.text()) else {
                            continue;
                        };
                        let ty = column.ty().map(|t| ColType::from_ast(&t));
                        let mut col = Column {
                            name: col_name.clone(),
                            has_default: ty.as_ref().is_some_and(|t| t.serial),
                            ty,
                            not_null: false,
                        };
                        for clause in column.clauses() {
                            if let ast::ColumnClause::ColumnConstraint(constraint) = clause {
                                self.column_constraint(&mut table, &mut col, &constraint, new);
                            }
                        }
                        table.columns.push(col);
                    }
                    ast::TableArg::TableConstraint(constraint) => {
                        let c = table_constraint(&constraint, new);
                        if c.kind == ConstraintKind::PrimaryKey {
                            for column in &c.columns {
                                if let Some(col) = table.column_mut(column) {
                                    col.not_null = true;
                                }
                            }
                        }
                        table.constraints.push(c);
                    }
                    ast::TableArg::LikeClause(like) => {
                        if let Some(source) = like
                            .relation_name_ref()
                            .and_then(|r| r.path_ref())
                            .and_then(|p| names::path_ref(&p))
                            && let Some(source) = self.table(&source)
                        {
                            table.columns.extend(source.columns.iter().cloned());
                            table.columns_known &= source.columns_known;
                        } else {
                            table.columns_known = false;
                        }
                    }
                }
            }
        }
        self.tables.insert(key, Arc::new(table));
    }

    fn column_constraint(
        &mut self,
        table: &mut Table,
        col: &mut Column,
        constraint: &ast::ColumnConstraint,
        new: bool,
    ) {
        let name = constraint
            .syntax()
            .children()
            .find_map(ast::ConstraintNameClause::cast)
            .and_then(|c| c.constraint_name())
            .map(|n| names::text(&n));
        let mut push = |kind, valid| {
            table.constraints.push(Constraint {
                name: name.clone(),
                kind,
                columns: vec![col.name.clone()],
                valid,
                not_null_check: None,
                new,
            });
        };
        match constraint {
            ast::ColumnConstraint::NotNullConstraint(_) => col.not_null = true,
            ast::ColumnConstraint::NullConstraint(_) => col.not_null = false,
            ast::ColumnConstraint::DefaultConstraint(_) | ast::ColumnConstraint::GeneratedConstraint(_) => {
                col.has_default = true;
            }
            ast::ColumnConstraint::PrimaryKeyConstraint(_) => {
                col.not_null = true;
                push(ConstraintKind::PrimaryKey, true);
            }
            ast::ColumnConstraint::UniqueConstraint(_) => push(ConstraintKind::Unique, true),
            ast::ColumnConstraint::ReferencesConstraint(_) => push(ConstraintKind::ForeignKey, true),
            ast::ColumnConstraint::CheckConstraint(_) => push(ConstraintKind::Check, true),
            ast::ColumnConstraint::ExcludeConstraint(_) => push(ConstraintKind::Exclude, true),
        }
    }

    fn alter_table(&mut self, alter: &ast::AlterTable, new: bool) {
        let Some(name) = names::table_relation(alter.table_relation_name()) else {
            return;
        };
        let key = self.key(&name);
        for action in alter.actions() {
            match action {
                ast::AlterTableAction::TableRenameTo(rename) => {
                    if let Some(to) = rename
                        .table_name()
                        .and_then(|t| t.path())
                        .and_then(|p| names::path(&p))
                        && let Some(table) = self.tables.remove(&key)
                    {
                        let to_key = (key.0.clone(), to.name);
                        for index in Arc::make_mut(&mut self.indexes).values_mut() {
                            if index.table == key {
                                index.table = to_key.clone();
                            }
                        }
                        self.tables.insert(to_key, table);
                    }
                    return;
                }
                ast::AlterTableAction::SetSchema(set) => {
                    if let Some(schema) = set.schema_ref().map(|s| names::text(&s))
                        && let Some(table) = self.tables.remove(&key)
                    {
                        self.tables.insert((schema, key.1.clone()), table);
                    }
                    return;
                }
                _ => {}
            }
            let Some(table) = self.tables.get_mut(&key).map(Arc::make_mut) else {
                continue;
            };
            match action {
                ast::AlterTableAction::AddColumn(add) => {
                    let Some(col_name) = add.column_name().map(|n| n.text()) else {
                        continue;
                    };
                    if table.column(&col_name).is_some() {
                        continue;
                    }
                    let ty = add.ty().map(|t| ColType::from_ast(&t));
                    let mut col = Column {
                        name: col_name,
                        has_default: ty.as_ref().is_some_and(|t| t.serial),
                        ty,
                        not_null: false,
                    };
                    for constraint in add.constraints() {
                        match constraint {
                            ast::Constraint::NotNullConstraint(_) => col.not_null = true,
                            ast::Constraint::DefaultConstraint(_)
                            | ast::Constraint::GeneratedConstraint(_) => {
                                col.has_default = true;
                            }
                            ast::Constraint::PrimaryKeyConstraint(_) => col.not_null = true,
                            _ => {}
                        }
                        if !matches!(
                            constraint,
                            ast::Constraint::NotNullConstraint(_)
                                | ast::Constraint::NullConstraint(_)
                                | ast::Constraint::DefaultConstraint(_)
                                | ast::Constraint::GeneratedConstraint(_)
                        ) {
                            let mut c = constraint_of(&constraint, new);
                            c.columns = vec![col.name.clone()];
                            table.constraints.push(c);
                        }
                    }
                    table.columns.push(col);
                }
                ast::AlterTableAction::DropColumn(drop) => {
                    if let Some(col) = drop.column_name_ref().map(|c| c.text()) {
                        table.columns.retain(|c| c.name != col);
                        table.constraints.retain(|c| !c.columns.contains(&col));
                        Arc::make_mut(&mut self.indexes)
                            .retain(|_, i| !(i.table == key && i.columns.contains(&col)));
                    }
                }
                ast::AlterTableAction::RenameColumn(rename) => {
                    if let (Some(from), Some(to)) = (
                        rename.column_name_ref().map(|c| c.text()),
                        rename.column_name().map(|c| c.text()),
                    ) {
                        if let Some(col) = table.column_mut(&from) {
                            col.name = to.clone();
                        }
                        for c in &mut table.constraints {
                            for column in &mut c.columns {
                                if *column == from {
                                    column.clone_from(&to);
                                }
                            }
                        }
                        for index in Arc::make_mut(&mut self.indexes).values_mut() {
                            if index.table == key {
                                for column in &mut index.columns {
                                    if *column == from {
                                        column.clone_from(&to);
                                    }
                                }
                            }
                        }
                    }
                }
                ast::AlterTableAction::AlterColumn(alter_column) => {
                    let Some(col_name) = alter_column.column_name_ref().map(|c| c.text()) else {
                        continue;
                    };
                    let Some(col) = table.column_mut(&col_name) else {
                        continue;
                    };
                    match alter_column.option() {
                        Some(ast::AlterColumnOption::SetNotNull(_)) => col.not_null = true,
                        Some(ast::AlterColumnOption::DropNotNull(_)) => col.not_null = false,
                        Some(ast::AlterColumnOption::SetType(set)) => {
                            col.ty = set.ty().map(|t| ColType::from_ast(&t));
                        }
                        Some(ast::AlterColumnOption::SetDefault(_)) => col.has_default = true,
                        Some(ast::AlterColumnOption::DropDefault(_)) => col.has_default = false,
                        _ => {}
                    }
                }
                ast::AlterTableAction::AddConstraint(add) => {
                    let Some(constraint) = add.constraint() else {
                        continue;
                    };
                    let c = constraint_of(&constraint, new);
                    if c.kind == ConstraintKind::PrimaryKey {
                        for column in &c.columns {
                            if let Some(col) = table.column_mut(column) {
                                col.not_null = true;
                            }
                        }
                    }
                    if c.kind == ConstraintKind::NotNull {
                        for column in &c.columns {
                            if let Some(col) = table.column_mut(column) {
                                col.not_null = true;
                            }
                        }
                    }
                    table.constraints.push(c);
                }
                ast::AlterTableAction::ValidateConstraint(validate) => {
                    if let Some(name) = names::constraint_ref(validate.constraint_name_ref()) {
                        for c in &mut table.constraints {
                            if c.name.as_deref() == Some(&name) {
                                c.valid = true;
                            }
                        }
                    }
                }
                ast::AlterTableAction::DropConstraint(drop) => {
                    if let Some(name) = names::constraint_ref(drop.constraint_name_ref()) {
                        table.constraints.retain(|c| c.name.as_deref() != Some(&name));
                    }
                }
                ast::AlterTableAction::RenameConstraint(rename) => {
                    if let (Some(from), Some(to)) = (
                        names::constraint_ref(rename.constraint_name_ref()),
                        rename.constraint_name().map(|n| names::text(&n)),
                    ) {
                        for c in &mut table.constraints {
                            if c.name.as_deref() == Some(&from) {
                                c.name = Some(to.clone());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

fn table_constraint(constraint: &ast::TableConstraint, new: bool) -> Constraint {
    let node = constraint.syntax().clone();
    match ast::Constraint::cast(node) {
        Some(c) => constraint_of(&c, new),
        None => Constraint {
            name: None,
            kind: ConstraintKind::Check,
            columns: Vec::new(),
            valid: true,
            not_null_check: None,
            new,
        },
    }
}

/// The model of a constraint definition.
pub fn constraint_of(constraint: &ast::Constraint, new: bool) -> Constraint {
    let kind = match constraint {
        ast::Constraint::CheckConstraint(_) => ConstraintKind::Check,
        ast::Constraint::ForeignKeyConstraint(_) | ast::Constraint::ReferencesConstraint(_) => {
            ConstraintKind::ForeignKey
        }
        ast::Constraint::UniqueConstraint(_) => ConstraintKind::Unique,
        ast::Constraint::PrimaryKeyConstraint(_) => ConstraintKind::PrimaryKey,
        ast::Constraint::ExcludeConstraint(_) => ConstraintKind::Exclude,
        ast::Constraint::NotNullConstraint(_) | ast::Constraint::NullConstraint(_) => ConstraintKind::NotNull,
        ast::Constraint::DefaultConstraint(_) | ast::Constraint::GeneratedConstraint(_) => {
            ConstraintKind::Check
        }
    };
    let columns = match constraint {
        ast::Constraint::ForeignKeyConstraint(fk) => fk
            .from_columns()
            .map(|l| l.column_name_refs().map(|c| c.text()).collect())
            .unwrap_or_default(),
        ast::Constraint::NotNullConstraint(nn) => {
            nn.column_name_ref().map(|c| vec![c.text()]).unwrap_or_default()
        }
        other => names::constraint_columns(other),
    };
    let not_null_check = match constraint {
        ast::Constraint::CheckConstraint(check) => check.expr().and_then(|e| is_not_null_check(&e)),
        _ => None,
    };
    Constraint {
        name: names::constraint_name(constraint),
        kind,
        columns,
        valid: !constraint.is_not_valid(),
        not_null_check,
        new,
    }
}

/// `col IS NOT NULL` → `col`.
pub fn is_not_null_check(expr: &ast::Expr) -> Option<String> {
    let expr = match expr {
        ast::Expr::ParenExpr(paren) => paren.syntax().children().find_map(ast::Expr::cast)?,
        other => other.clone(),
    };
    let ast::Expr::BinExpr(bin) = expr else {
        // `col IS NOT NULL` may parse as a postfix expression.
        let text = expr.syntax().to_string().to_ascii_lowercase();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        return text
            .strip_suffix(" is not null")
            .filter(|c| !c.contains(' '))
            .map(|c| c.trim_matches('"').to_owned());
    };
    let op = bin.op()?;
    if !matches!(op, ast::BinOp::IsNot(_)) {
        return None;
    }
    let ast::Expr::Literal(lit) = bin.rhs()? else {
        return None;
    };
    if !matches!(lit.kind(), Some(ast::LitKind::Null(_))) {
        return None;
    }
    match bin.lhs()? {
        ast::Expr::NameRef(name) => Some(name.text()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use squawk_syntax::SourceFile;

    fn replay(sql: &str, new: bool) -> Schema {
        let mut schema = Schema::default();
        for stmt in SourceFile::parse(sql).tree().stmts() {
            schema.apply(&stmt, new);
        }
        schema
    }

    #[test]
    fn tables_columns_and_constraints() {
        let schema = replay(
            "create table users (id bigserial primary key, email varchar(100) not null, org int references orgs(id));
             alter table users add column name text;
             alter table users alter column email type varchar(200);
             alter table users rename column name to full_name;
             alter table users add constraint c check (full_name is not null) not valid;
             create index users_org_idx on users (org);",
            false,
        );
        let users = schema.table(&QName::bare("users")).unwrap();
        assert!(!users.new);
        assert_eq!(
            users.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            vec!["id", "email", "org", "full_name"]
        );
        assert!(users.column("id").unwrap().not_null);
        assert_eq!(
            users.column("email").unwrap().ty.as_ref().unwrap().args,
            vec![200]
        );
        let check = users
            .constraints
            .iter()
            .find(|c| c.name.as_deref() == Some("c"))
            .unwrap();
        assert!(!check.valid);
        assert_eq!(check.not_null_check.as_deref(), Some("full_name"));
        assert!(schema.has_index_leading(&QName::bare("users"), &["org".to_owned()]));
        assert!(schema.has_index_leading(&QName::bare("users"), &["id".to_owned()]));
        assert!(!schema.has_index_leading(&QName::bare("users"), &["email".to_owned()]));
    }

    #[test]
    fn new_and_existing() {
        let mut schema = replay("create table a (x int);", false);
        schema.settle();
        for stmt in SourceFile::parse("create table b (x int); create view v as select 1;")
            .tree()
            .stmts()
        {
            schema.apply(&stmt, true);
        }
        assert!(schema.is_existing_table(&QName::bare("a")));
        assert!(!schema.is_existing_table(&QName::bare("b")));
        assert!(schema.is_existing_table(&QName::bare("unknown")));
        assert!(schema.is_new_object("view", &QName::bare("v")));
        schema.settle();
        assert!(schema.is_existing_table(&QName::bare("b")));
    }

    #[test]
    fn renames_drops_and_shape() {
        let schema = replay(
            "create table a (x int); create index ai on a (x); alter table a rename to b; create table c (y int); drop table c;",
            false,
        );
        let shape: Vec<String> = schema.shape().into_iter().collect();
        assert_eq!(shape, vec!["column public.b.x", "table public.b"]);
        assert_eq!(
            schema.index(&QName::bare("ai")).unwrap().table,
            ("public".into(), "b".into())
        );
    }

    #[test]
    fn drops_of_other_objects() {
        let schema = replay(
            "create view v as select 1; create function f(a int) returns int as $$ select 1 $$ language sql;
             create type e as enum ('a'); create sequence s; create schema app; create table app.t (x int);
             drop view v; drop function f(int); drop type e; drop sequence s; drop schema app cascade;",
            false,
        );
        assert!(schema.shape().is_empty(), "{:?}", schema.shape());
    }

    #[test]
    fn search_path_and_schemas() {
        let schema = replay("set search_path to app, public; create table t (x int);", false);
        assert!(
            schema
                .table(&QName {
                    schema: Some("app".into()),
                    name: "t".into()
                })
                .is_some()
        );
    }
}
