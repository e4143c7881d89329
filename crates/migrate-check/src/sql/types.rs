//! Column types, normalised so aliases compare equal (`int4` = `integer`, `varchar` = `character
//! varying`), and the changes PostgreSQL makes without rewriting the table (binary-coercible casts and
//! relaxed type modifiers).

use squawk_syntax::ast::{self, AstNode};

/// A column type: canonical base name, modifiers, array-ness.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColType {
    /// Canonical name (`integer`, `bigint`, `varchar`, `timestamptz`, …); other names as written.
    pub base: String,
    /// Type modifiers (`varchar(255)` → `[255]`, `numeric(10, 2)` → `[10, 2]`).
    pub args: Vec<i64>,
    /// `[]`.
    pub array: bool,
    /// Written as `serial`, `bigserial`, `smallserial`.
    pub serial: bool,
}

impl std::fmt::Display for ColType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.base)?;
        if !self.args.is_empty() {
            let args: Vec<String> = self.args.iter().map(i64::to_string).collect();
            write!(f, "({})", args.join(", "))?;
        }
        if self.array {
            f.write_str("[]")?;
        }
        Ok(())
    }
}

impl ColType {
    /// From a syntax node.
    pub fn from_ast(ty: &ast::Type) -> Self {
        Self::parse(&ty.syntax().text().to_string())
    }

    /// From type text (`character varying(20)[]`, `timestamp(3) with time zone`).
    pub fn parse(text: &str) -> Self {
        let mut lower = String::with_capacity(text.len());
        let mut last_space = true;
        for c in text.chars() {
            if c.is_whitespace() {
                if !last_space {
                    lower.push(' ');
                }
                last_space = true;
            } else if c != '"' {
                lower.extend(c.to_lowercase());
                last_space = false;
            }
        }
        let mut text = lower.trim().to_owned();
        let mut array = false;
        while let Some(stripped) = text.strip_suffix("[]") {
            text = stripped.trim_end().to_owned();
            array = true;
        }
        if let Some(stripped) = text.strip_suffix(" array") {
            text = stripped.to_owned();
            array = true;
        }
        let mut args = Vec::new();
        let mut name = String::new();
        let mut rest = text.as_str();
        while let Some(open) = rest.find('(') {
            name.push_str(&rest[..open]);
            let close = rest[open..].find(')').map_or(rest.len(), |c| open + c);
            args.extend(
                rest[open + 1..close.min(rest.len())]
                    .split(',')
                    .filter_map(|a| a.trim().parse::<i64>().ok()),
            );
            rest = rest.get(close + 1..).unwrap_or("");
        }
        name.push_str(rest);
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        let name = name.rsplit('.').next().unwrap_or(&name).to_owned();
        let (base, serial) = canonical(&name);
        Self {
            base: base.to_owned(),
            args,
            array,
            serial,
        }
    }

    /// Whether changing from `self` to `to` needs no table rewrite (and no scan).
    pub fn changes_without_rewrite(&self, to: &Self) -> bool {
        if self.array != to.array {
            return false;
        }
        let (from_b, to_b) = (self.base.as_str(), to.base.as_str());
        let widened = |i: usize| match (self.args.get(i), to.args.get(i)) {
            (_, None) => to.args.is_empty(),
            (None, Some(_)) => false,
            (Some(a), Some(b)) => b >= a,
        };
        match (from_b, to_b) {
            ("varchar", "varchar") | ("varbit", "varbit") => widened(0),
            ("varchar", "text") | ("text", "varchar") if to.args.is_empty() => true,
            ("char", "varchar") | ("char", "text") => false,
            ("numeric", "numeric") => {
                to.args.is_empty()
                    || (widened(0)
                        && self.args.get(1).copied().unwrap_or(0) == to.args.get(1).copied().unwrap_or(0))
            }
            ("timestamp", "timestamp")
            | ("timestamptz", "timestamptz")
            | ("time", "time")
            | ("timetz", "timetz")
            | ("interval", "interval") => widened(0),
            ("cidr", "inet") | ("xml", "text") => true,
            (a, b) => a == b && self.args == to.args,
        }
    }

    /// Whether the change needs no rewrite only when the session time zone is UTC (PostgreSQL 12+).
    pub fn rewrite_depends_on_timezone(&self, to: &Self) -> bool {
        self.array == to.array && self.base == "timestamp" && to.base == "timestamptz"
    }
}

/// Canonical name and whether it was a serial pseudo-type.
fn canonical(name: &str) -> (&str, bool) {
    match name {
        "int" | "int4" | "integer" => ("integer", false),
        "int8" | "bigint" => ("bigint", false),
        "int2" | "smallint" => ("smallint", false),
        "serial" | "serial4" => ("integer", true),
        "bigserial" | "serial8" => ("bigint", true),
        "smallserial" | "serial2" => ("smallint", true),
        "varchar" | "character varying" | "char varying" => ("varchar", false),
        "char" | "character" | "bpchar" | "nchar" | "national character" => ("char", false),
        "bool" | "boolean" => ("boolean", false),
        "float8" | "double precision" | "float" => ("double precision", false),
        "float4" | "real" => ("real", false),
        "decimal" | "numeric" => ("numeric", false),
        "timestamp" | "timestamp without time zone" => ("timestamp", false),
        "timestamptz" | "timestamp with time zone" => ("timestamptz", false),
        "time" | "time without time zone" => ("time", false),
        "timetz" | "time with time zone" => ("timetz", false),
        "varbit" | "bit varying" => ("varbit", false),
        other => (other, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let cases = [
            ("INT4", "integer", vec![], false),
            ("character varying(255)", "varchar", vec![255], false),
            ("numeric(10, 2)", "numeric", vec![10, 2], false),
            ("timestamp(3) with time zone", "timestamptz", vec![3], false),
            ("text[]", "text", vec![], true),
            ("public.\"CITEXT\"", "citext", vec![], false),
            ("int ARRAY", "integer", vec![], true),
        ];
        for (text, base, args, array) in cases {
            let ty = ColType::parse(text);
            assert_eq!(
                (ty.base.as_str(), ty.args.clone(), ty.array),
                (base, args, array),
                "{text}"
            );
        }
        assert!(ColType::parse("bigserial").serial);
    }

    #[test]
    fn binary_coercible_changes() {
        let ok = |a: &str, b: &str| ColType::parse(a).changes_without_rewrite(&ColType::parse(b));
        assert!(ok("varchar(10)", "varchar(20)"));
        assert!(ok("varchar(10)", "text"));
        assert!(ok("varchar(10)", "varchar"));
        assert!(ok("text", "varchar"));
        assert!(!ok("varchar(20)", "varchar(10)"));
        assert!(!ok("text", "varchar(10)"));
        assert!(ok("numeric(10,2)", "numeric(12,2)"));
        assert!(!ok("numeric(10,2)", "numeric(12,3)"));
        assert!(ok("numeric(10,2)", "numeric"));
        assert!(ok("cidr", "inet"));
        assert!(!ok("integer", "bigint"));
        assert!(ok("int4", "integer"));
        assert!(!ok("timestamp", "timestamptz"));
        assert!(ColType::parse("timestamp").rewrite_depends_on_timezone(&ColType::parse("timestamptz")));
    }
}
