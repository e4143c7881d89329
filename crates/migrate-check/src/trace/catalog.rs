//! A comparable picture of the catalog: one line per table, column (type, nullability, default),
//! index (definition), constraint (definition), view, sequence, function and type, outside the system
//! schemas and the runners' bookkeeping tables.

use std::collections::BTreeSet;

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
