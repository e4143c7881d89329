//! `seed-rows`: fills every existing table with generated rows so scans and rewrites cost something.
//!
//! Values come from each column's type (numbers from the row number, text, booleans, timestamps,
//! UUIDs, JSON, the first label of an enum); columns with a default or nullable foreign keys are left
//! alone. A table whose rows cannot be generated this way (a required foreign key, a check the values
//! violate) is skipped and named in the report.

/// Seeds `rows` rows into every user table not in `done`; returns the tables that got rows and the
/// names of those that were skipped.
pub(super) fn seed(
    client: &mut postgres::Client,
    rows: u64,
    done: &std::collections::BTreeSet<u32>,
) -> Result<(Vec<u32>, Vec<String>), postgres::Error> {
    let tables = client.query(
        "SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), n.nspname || '.' || c.relname \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'drizzle', 'atlas_schema_revisions') \
         AND n.nspname NOT LIKE 'pg\\_%' AND NOT c.relispartition \
         AND c.relname NOT IN ('schema_migrations', 'goose_db_version', '_sqlx_migrations', 'flyway_schema_history', \
         '_prisma_migrations', 'pgmigrations', '__diesel_schema_migrations') \
         ORDER BY c.oid",
        &[],
    )?;
    let mut seeded = Vec::new();
    let mut skipped = Vec::new();
    let rows = i64::try_from(rows).unwrap_or(i64::MAX);
    for table in tables {
        let oid: u32 = table.get(0);
        if done.contains(&oid) {
            continue;
        }
        let quoted: String = table.get(1);
        let shown: String = table.get(2);
        let columns = client.query(
            "SELECT quote_ident(a.attname), t.typname, t.typtype::text, a.attnotnull, \
             (d.adbin IS NOT NULL OR a.attidentity <> '' OR a.attgenerated <> '') AS filled, \
             EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conrelid = a.attrelid AND co.contype = 'f' AND a.attnum = ANY (co.conkey)) AS fk, \
             (SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder LIMIT 1), \
             format_type(a.atttypid, a.atttypmod), t.typcategory::text \
             FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            &[&oid],
        )?;
        let mut names = Vec::new();
        let mut values = Vec::new();
        let mut possible = true;
        for column in columns {
            let name: String = column.get(0);
            let typname: String = column.get(1);
            let typtype: String = column.get(2);
            let not_null: bool = column.get(3);
            let filled: bool = column.get(4);
            let fk: bool = column.get(5);
            let label: Option<String> = column.get(6);
            let formatted: String = column.get(7);
            let category: String = column.get(8);
            if filled {
                continue;
            }
            if fk {
                if not_null {
                    possible = false;
                }
                continue;
            }
            let value = match (typname.as_str(), typtype.as_str(), category.as_str()) {
                (_, "e", _) => label.map(|l| format!("'{}'", l.replace('\'', "''"))),
                ("int2", _, _) => Some("(g % 32000)::int2".to_owned()),
                ("bool", _, _) => Some("(g % 2 = 0)".to_owned()),
                ("uuid", _, _) => Some("md5(g::text)::uuid".to_owned()),
                ("json" | "jsonb", _, _) => Some(format!("'{{}}'::{typname}")),
                ("bytea", _, _) => Some("'\\x00'::bytea".to_owned()),
                ("date" | "timestamp" | "timestamptz", _, _) => Some(format!("now()::{typname}")),
                ("interval", _, _) => Some("interval '1 second'".to_owned()),
                ("inet" | "cidr", _, _) => Some("'10.0.0.1'::inet".to_owned()),
                (_, _, "N") => Some(format!("g::{formatted}")),
                (_, _, "S") => Some(format!("('x' || g)::{formatted}")),
                _ => None,
            };
            match value {
                Some(v) => {
                    names.push(name);
                    values.push(v);
                }
                None if not_null => possible = false,
                None => {}
            }
        }
        if !possible {
            skipped.push(shown);
            continue;
        }
        let sql = if names.is_empty() {
            format!("INSERT INTO {quoted} SELECT FROM generate_series(1, {rows}) g")
        } else {
            format!(
                "INSERT INTO {quoted} ({}) SELECT {} FROM generate_series(1, {rows}) g",
                names.join(", "),
                values.join(", ")
            )
        };
        client.batch_execute("SAVEPOINT seed")?;
        match client.batch_execute(&sql) {
            Ok(()) => {
                client.batch_execute("RELEASE SAVEPOINT seed")?;
                seeded.push(oid);
            }
            Err(_) => {
                client.batch_execute("ROLLBACK TO SAVEPOINT seed")?;
                skipped.push(shown);
            }
        }
    }
    Ok((seeded, skipped))
}
