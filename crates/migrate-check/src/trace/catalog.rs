//! A comparable picture of the catalog: one line per table, column (type, nullability, default),
//! index (definition), constraint (definition), view, sequence, function and type, outside the system
//! schemas and the runners' bookkeeping tables.

use std::collections::{BTreeMap, BTreeSet};

/// Tables the runners keep their history in; not part of the application's schema.
const BOOKKEEPING: &str = "('schema_migrations', 'goose_db_version', '_sqlx_migrations', 'flyway_schema_history', \
     '_prisma_migrations', '__drizzle_migrations', 'pgmigrations', '__diesel_schema_migrations', 'atlas_schema_revisions')";

const USER_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema', 'drizzle', 'atlas_schema_revisions') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

/// The catalog as a set of lines.
pub(super) fn snapshot(client: &mut postgres::Client) -> Result<BTreeSet<String>, postgres::Error> {
    let mut out = BTreeSet::new();
    let queries = [
        format!(
            "SELECT 'table ' || n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {USER_SCHEMAS} AND c.relkind IN ('r', 'p') AND c.relname NOT IN {BOOKKEEPING}"
        ),
        format!(
            "SELECT 'column ' || n.nspname || '.' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) \
             || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END \
             || COALESCE(' default ' || pg_get_expr(d.adbin, d.adrelid), '') \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE {USER_SCHEMAS} AND c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped \
             AND c.relname NOT IN {BOOKKEEPING}"
        ),
        format!(
            "SELECT 'index ' || n.nspname || '.' || c.relname || ': ' || pg_get_indexdef(c.oid) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_index i ON i.indexrelid = c.oid \
             JOIN pg_class t ON t.oid = i.indrelid \
             WHERE {USER_SCHEMAS} AND c.relkind IN ('i', 'I') AND t.relname NOT IN {BOOKKEEPING}"
        ),
        format!(
            "SELECT 'constraint ' || n.nspname || '.' || t.relname || '.' || co.conname || ': ' || pg_get_constraintdef(co.oid) \
             FROM pg_constraint co JOIN pg_class t ON t.oid = co.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE {USER_SCHEMAS} AND t.relname NOT IN {BOOKKEEPING}"
        ),
        format!(
            "SELECT CASE c.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view ' ELSE 'sequence ' END \
             || n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {USER_SCHEMAS} AND c.relkind IN ('v', 'm', 'S') AND c.relname NOT LIKE '%drizzle_migrations%'"
        ),
        format!(
            "SELECT 'function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             LEFT JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e' \
             WHERE {USER_SCHEMAS} AND d.objid IS NULL"
        ),
        format!(
            "SELECT 'type ' || n.nspname || '.' || t.typname || COALESCE(' (' || (SELECT string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) \
             FROM pg_enum e WHERE e.enumtypid = t.oid) || ')', '') \
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
             LEFT JOIN pg_depend d ON d.objid = t.oid AND d.deptype = 'e' \
             WHERE {USER_SCHEMAS} AND t.typtype IN ('e', 'd', 'c') AND d.objid IS NULL \
             AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid AND c.relkind <> 'c')"
        ),
        "SELECT 'extension ' || extname FROM pg_extension WHERE extname <> 'plpgsql'".to_owned(),
    ];
    for query in &queries {
        for row in client.query(query.as_str(), &[])? {
            if let Some(line) = row.get::<_, Option<String>>(0) {
                out.insert(line);
            }
        }
    }
    Ok(out)
}

/// The parts of one pre-existing table a statement can change: its name, columns (by `attnum`),
/// constraints and indexes (by name; the oid only tells a rename from a drop and an add, because
/// PostgreSQL rebuilds indexes and constraints under new oids when a column changes type).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Table {
    pub(super) name: String,
    columns: BTreeMap<i64, Column>,
    constraints: BTreeMap<String, Keyed>,
    indexes: BTreeMap<String, Keyed>,
}

#[derive(Debug, Clone, PartialEq)]
struct Column {
    name: String,
    ty: String,
    not_null: bool,
    /// The default, or the generation expression of a generated column.
    default: Option<String>,
    /// `pg_attribute.attidentity` followed by `attgenerated` (empty for a plain column).
    generated: String,
}

impl Column {
    fn generated(&self) -> Option<String> {
        let expr = self.default.as_deref().unwrap_or("");
        match self.generated.as_str() {
            "" => None,
            "a" => Some("generated always as identity".to_owned()),
            "d" => Some("generated by default as identity".to_owned()),
            "s" => Some(format!("generated always as ({expr}) stored")),
            "v" => Some(format!("generated always as ({expr}) virtual")),
            other => Some(format!("generated ({other})")),
        }
    }

    /// The default outside generated columns (whose expression is shown by `generated`).
    fn plain_default(&self) -> Option<&str> {
        match self.generated.as_str() {
            "s" | "v" => None,
            _ => self.default.as_deref(),
        }
    }

    fn describe(&self) -> String {
        let mut out = self.ty.clone();
        if self.not_null {
            out.push_str(" not null");
        }
        if let Some(default) = self.plain_default() {
            out.push_str(" default ");
            out.push_str(default);
        }
        if let Some(generated) = self.generated() {
            out.push(' ');
            out.push_str(&generated);
        }
        out
    }
}

/// A constraint or an index: its oid, definition and validity.
#[derive(Debug, Clone, PartialEq)]
struct Keyed {
    oid: u32,
    definition: String,
    valid: bool,
}

/// What kind of object changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Object {
    /// The table itself.
    Table,
    /// A column.
    Column,
    /// A constraint (`pg_constraint`; `NOT NULL` is a column's nullability).
    Constraint,
    /// An index.
    Index,
}

impl Object {
    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::Column => "column",
            Self::Constraint => "constraint",
            Self::Index => "index",
        }
    }
}

/// How it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    /// Created; `after` describes it.
    Added,
    /// Dropped; `before` described it.
    Dropped,
    /// Renamed; `before` is the old name.
    Renamed,
    /// A column's type.
    Type,
    /// A column's nullability (`nullable` / `not null`).
    Nullability,
    /// A column's default.
    Default,
    /// A column's identity or generation expression.
    Generated,
    /// A constraint or index went from not valid to valid.
    Validated,
    /// An index became invalid.
    Invalidated,
    /// A constraint's or index's definition, other than its validity.
    Definition,
}

impl ChangeKind {
    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Dropped => "dropped",
            Self::Renamed => "renamed",
            Self::Type => "type",
            Self::Nullability => "nullability",
            Self::Default => "default",
            Self::Generated => "generated",
            Self::Validated => "validated",
            Self::Invalidated => "invalidated",
            Self::Definition => "definition",
        }
    }
}

/// One change a statement made to a pre-existing table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The table (its name after the statement, `schema.name` outside `public`).
    pub table: String,
    /// What kind of object.
    pub object: Object,
    /// Its name (after the statement); the table's own name for table changes.
    pub name: String,
    /// How it changed.
    pub kind: ChangeKind,
    /// The changed property before the statement (`None`: there was none).
    pub before: Option<String>,
    /// And after it.
    pub after: Option<String>,
}

impl Change {
    /// One line for the step summary.
    pub fn describe(&self) -> String {
        let subject = match self.object {
            Object::Table => format!("table `{}`", self.table),
            Object::Index => format!("index `{}` on `{}`", self.name, self.table),
            _ => format!("{} `{}.{}`", self.object.name(), self.table, self.name),
        };
        let before = self.before.as_deref().unwrap_or("none");
        let after = self.after.as_deref().unwrap_or("none");
        match self.kind {
            ChangeKind::Added => format!("{subject} added: {after}"),
            ChangeKind::Dropped => format!("{subject} dropped"),
            ChangeKind::Renamed => format!("{subject} renamed from `{before}`"),
            ChangeKind::Validated | ChangeKind::Invalidated => {
                format!("{subject} {}", self.kind.name())
            }
            _ => format!("{subject} {}: {before} → {after}", self.kind.name()),
        }
    }
}

/// The tables `oids` as they are now (tables that no longer exist are absent). One round trip:
/// the cost is the size of these tables' catalog entries, never their rows.
pub(super) fn tables(
    client: &mut postgres::Client,
    oids: &[u32],
) -> Result<BTreeMap<u32, Table>, postgres::Error> {
    let mut out: BTreeMap<u32, Table> = BTreeMap::new();
    if oids.is_empty() {
        return Ok(out);
    }
    // `NOT NULL` constraints (PostgreSQL 18's `contype = 'n'`) are left to the column's nullability,
    // so a `SET NOT NULL` reads the same on every server version.
    let rows = client.query(
        "SELECT 0, c.oid, 0::int8, CASE WHEN n.nspname = 'public' THEN c.relname::text ELSE n.nspname || '.' || c.relname END, \
         NULL::text, NULL::text, NULL::text, false \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ANY($1) \
         UNION ALL \
         SELECT 1, a.attrelid, a.attnum::int8, a.attname::text, format_type(a.atttypid, a.atttypmod), \
         pg_get_expr(d.adbin, d.adrelid), a.attidentity::text || a.attgenerated::text, a.attnotnull \
         FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped \
         UNION ALL \
         SELECT 2, co.conrelid, co.oid::int8, co.conname::text, co.contype::text, pg_get_constraintdef(co.oid), NULL, co.convalidated \
         FROM pg_constraint co WHERE co.conrelid = ANY($1) AND co.contype <> 'n' \
         UNION ALL \
         SELECT 3, i.indrelid, i.indexrelid::int8, ic.relname::text, NULL, pg_get_indexdef(i.indexrelid), NULL, i.indisvalid \
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = ANY($1)",
        &[&oids],
    )?;
    // The table rows come first in a UNION ALL's output only by accident; name them in a first pass.
    let mut parts = Vec::with_capacity(rows.len());
    for row in rows {
        let part: i32 = row.get(0);
        let rel: u32 = row.get(1);
        let key: i64 = row.get(2);
        let name: String = row.get(3);
        if part == 0 {
            out.entry(rel).or_default().name = name;
        } else {
            parts.push((part, rel, key, name, row));
        }
    }
    for (part, rel, key, name, row) in parts {
        let Some(table) = out.get_mut(&rel) else {
            continue;
        };
        let flag: bool = row.get(7);
        match part {
            1 => {
                table.columns.insert(
                    key,
                    Column {
                        name,
                        ty: row.get::<_, Option<String>>(4).unwrap_or_default(),
                        not_null: flag,
                        default: row.get(5),
                        generated: row.get::<_, Option<String>>(6).unwrap_or_default(),
                    },
                );
            }
            2 | 3 => {
                let keyed = Keyed {
                    oid: u32::try_from(key).unwrap_or(0),
                    definition: row.get::<_, Option<String>>(5).unwrap_or_default(),
                    valid: flag,
                };
                let map = if part == 2 {
                    &mut table.constraints
                } else {
                    &mut table.indexes
                };
                map.insert(name, keyed);
            }
            _ => {}
        }
    }
    Ok(out)
}

/// What changed on one table between two readings; `after` is `None` when the table was dropped.
pub(super) fn diff(before: &Table, after: Option<&Table>) -> Vec<Change> {
    let Some(after) = after else {
        return vec![Change {
            table: before.name.clone(),
            object: Object::Table,
            name: before.name.clone(),
            kind: ChangeKind::Dropped,
            before: None,
            after: None,
        }];
    };
    let mut out = Changes {
        table: &after.name,
        list: Vec::new(),
    };
    if before.name != after.name {
        out.push(
            Object::Table,
            &after.name,
            ChangeKind::Renamed,
            Some(&before.name),
            Some(&after.name),
        );
    }
    for (attnum, old) in &before.columns {
        let Some(new) = after.columns.get(attnum) else {
            out.push(
                Object::Column,
                &old.name,
                ChangeKind::Dropped,
                Some(&old.describe()),
                None,
            );
            continue;
        };
        if old.name != new.name {
            out.push(
                Object::Column,
                &new.name,
                ChangeKind::Renamed,
                Some(&old.name),
                Some(&new.name),
            );
        }
        if old.ty != new.ty {
            out.push(
                Object::Column,
                &new.name,
                ChangeKind::Type,
                Some(&old.ty),
                Some(&new.ty),
            );
        }
        if old.not_null != new.not_null {
            let word = |n: bool| if n { "not null" } else { "nullable" };
            out.push(
                Object::Column,
                &new.name,
                ChangeKind::Nullability,
                Some(word(old.not_null)),
                Some(word(new.not_null)),
            );
        }
        if old.plain_default() != new.plain_default() {
            out.push(
                Object::Column,
                &new.name,
                ChangeKind::Default,
                old.plain_default(),
                new.plain_default(),
            );
        }
        if old.generated() != new.generated() {
            out.push(
                Object::Column,
                &new.name,
                ChangeKind::Generated,
                old.generated().as_deref(),
                new.generated().as_deref(),
            );
        }
    }
    for (attnum, new) in &after.columns {
        if !before.columns.contains_key(attnum) {
            out.push(
                Object::Column,
                &new.name,
                ChangeKind::Added,
                None,
                Some(&new.describe()),
            );
        }
    }
    keyed(
        &mut out,
        Object::Constraint,
        &before.constraints,
        &after.constraints,
    );
    keyed(&mut out, Object::Index, &before.indexes, &after.indexes);
    out.list
}

fn keyed(
    out: &mut Changes<'_>,
    object: Object,
    before: &BTreeMap<String, Keyed>,
    after: &BTreeMap<String, Keyed>,
) {
    // A name that disappeared while its oid lives on under another name was renamed.
    let renamed: BTreeMap<&str, &str> = before
        .iter()
        .filter(|(name, _)| !after.contains_key(*name))
        .filter_map(|(old, k)| {
            after
                .iter()
                .find(|(new, n)| n.oid == k.oid && !before.contains_key(*new))
                .map(|(new, _)| (new.as_str(), old.as_str()))
        })
        .collect();
    let was_renamed: BTreeSet<&str> = renamed.values().copied().collect();
    for (name, old) in before {
        if !after.contains_key(name) && !was_renamed.contains(name.as_str()) {
            out.push(object, name, ChangeKind::Dropped, Some(&old.definition), None);
        }
    }
    for (name, new) in after {
        let old = match before.get(name) {
            Some(old) => old,
            None => match renamed.get(name.as_str()) {
                Some(old_name) => {
                    out.push(object, name, ChangeKind::Renamed, Some(old_name), Some(name));
                    match before.get(*old_name) {
                        Some(old) => old,
                        None => continue,
                    }
                }
                None => {
                    let mut definition = new.definition.clone();
                    if object == Object::Index && !new.valid {
                        definition.push_str(" (invalid)");
                    }
                    out.push(object, name, ChangeKind::Added, None, Some(&definition));
                    continue;
                }
            },
        };
        if old.valid != new.valid {
            let word = |v: bool| if v { "valid" } else { "not valid" };
            let kind = if new.valid {
                ChangeKind::Validated
            } else {
                ChangeKind::Invalidated
            };
            out.push(object, name, kind, Some(word(old.valid)), Some(word(new.valid)));
        }
        // A constraint's definition ends in ` NOT VALID` until it is validated: that is the change above.
        if shape(object, &old.definition) != shape(object, &new.definition) {
            out.push(
                object,
                name,
                ChangeKind::Definition,
                Some(&old.definition),
                Some(&new.definition),
            );
        }
    }
}

/// The changes of one table, as they are found.
struct Changes<'t> {
    table: &'t str,
    list: Vec<Change>,
}

impl Changes<'_> {
    fn push(
        &mut self,
        object: Object,
        name: &str,
        kind: ChangeKind,
        before: Option<&str>,
        after: Option<&str>,
    ) {
        self.list.push(Change {
            table: self.table.to_owned(),
            object,
            name: name.to_owned(),
            kind,
            before: before.map(str::to_owned),
            after: after.map(str::to_owned),
        });
    }
}

/// What a definition says once names that renames change and validity (reported on its own) are
/// left out: `pg_get_indexdef` names the index and its table, `pg_get_constraintdef` ends in
/// ` NOT VALID` until the constraint is validated.
fn shape(object: Object, definition: &str) -> String {
    if object == Object::Index {
        let unique = if definition.starts_with("CREATE UNIQUE ") {
            "unique"
        } else {
            ""
        };
        let rest = definition
            .find(" USING ")
            .map_or(definition, |at| &definition[at..]);
        format!("{unique}{rest}")
    } else {
        definition.trim_end_matches(" NOT VALID").to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, indexes: &[(&str, u32, &str)]) -> Table {
        Table {
            name: name.to_owned(),
            columns: BTreeMap::from([(
                1,
                Column {
                    name: "email".to_owned(),
                    ty: "text".to_owned(),
                    not_null: false,
                    default: None,
                    generated: String::new(),
                },
            )]),
            constraints: BTreeMap::new(),
            indexes: indexes
                .iter()
                .map(|(n, oid, def)| {
                    (
                        (*n).to_owned(),
                        Keyed {
                            oid: *oid,
                            definition: (*def).to_owned(),
                            valid: true,
                        },
                    )
                })
                .collect(),
        }
    }

    /// A change without its values: what, which, how.
    type Seen<'a> = (Object, &'a str, ChangeKind);

    fn kinds(changes: &[Change]) -> Vec<Seen<'_>> {
        changes
            .iter()
            .map(|c| (c.object, c.name.as_str(), c.kind))
            .collect()
    }

    #[test]
    fn indexes_are_followed_by_name_and_renames_by_oid() {
        let def = |name: &str, on: &str| format!("CREATE INDEX {name} ON public.{on} USING btree (email)");
        let before = table("users", &[("users_email", 10, &def("users_email", "users"))]);
        let cases: Vec<(&str, Table, Vec<Seen<'_>>)> = vec![
            (
                // `ALTER COLUMN … TYPE` rebuilds the index under a new oid and the same name.
                "rebuilt",
                table("users", &[("users_email", 11, &def("users_email", "users"))]),
                vec![],
            ),
            (
                "renamed index",
                table("users", &[("users_mail", 10, &def("users_mail", "users"))]),
                vec![(Object::Index, "users_mail", ChangeKind::Renamed)],
            ),
            (
                "renamed table",
                table("members", &[("users_email", 10, &def("users_email", "members"))]),
                vec![(Object::Table, "members", ChangeKind::Renamed)],
            ),
            (
                "replaced",
                table(
                    "users",
                    &[(
                        "users_email",
                        12,
                        "CREATE UNIQUE INDEX users_email ON public.users USING btree (email)",
                    )],
                ),
                vec![(Object::Index, "users_email", ChangeKind::Definition)],
            ),
            (
                "dropped and another added",
                table("users", &[("users_lower", 13, &def("users_lower", "users"))]),
                vec![
                    (Object::Index, "users_email", ChangeKind::Dropped),
                    (Object::Index, "users_lower", ChangeKind::Added),
                ],
            ),
        ];
        for (case, after, expected) in cases {
            assert_eq!(kinds(&diff(&before, Some(&after))), expected, "{case}");
        }
        assert_eq!(
            kinds(&diff(&before, None)),
            vec![(Object::Table, "users", ChangeKind::Dropped)]
        );
    }

    #[test]
    fn changes_read_as_one_line() {
        let change = |object, name: &str, kind, before: Option<&str>, after: Option<&str>| Change {
            table: "users".to_owned(),
            object,
            name: name.to_owned(),
            kind,
            before: before.map(str::to_owned),
            after: after.map(str::to_owned),
        };
        let cases = [
            (
                change(
                    Object::Column,
                    "plan",
                    ChangeKind::Added,
                    None,
                    Some("text not null default 'free'::text"),
                ),
                "column `users.plan` added: text not null default 'free'::text",
            ),
            (
                change(
                    Object::Column,
                    "id",
                    ChangeKind::Type,
                    Some("integer"),
                    Some("bigint"),
                ),
                "column `users.id` type: integer → bigint",
            ),
            (
                change(
                    Object::Column,
                    "plan",
                    ChangeKind::Default,
                    Some("'free'::text"),
                    None,
                ),
                "column `users.plan` default: 'free'::text → none",
            ),
            (
                change(
                    Object::Constraint,
                    "positive",
                    ChangeKind::Validated,
                    Some("not valid"),
                    Some("valid"),
                ),
                "constraint `users.positive` validated",
            ),
            (
                change(
                    Object::Index,
                    "users_email",
                    ChangeKind::Dropped,
                    Some("CREATE INDEX …"),
                    None,
                ),
                "index `users_email` on `users` dropped",
            ),
            (
                change(
                    Object::Table,
                    "users",
                    ChangeKind::Renamed,
                    Some("accounts"),
                    Some("users"),
                ),
                "table `users` renamed from `accounts`",
            ),
        ];
        for (change, line) in cases {
            assert_eq!(change.describe(), line);
        }
    }
}
