//! Ignore comments.
//!
//! - `-- migrate-check-ignore <rule>[, <rule>] -- <reason>`: the statement that follows;
//! - `-- migrate-check-ignore-file <rule>[, <rule>] -- <reason>`: the whole script.
//!
//! The reason is required: an ignore without one has no effect and is reported
//! (`ignore-without-reason`). squawk's `-- squawk-ignore <rules>` and `-- squawk-ignore-file [<rules>]`
//! are honoured too (their rule names map to ours), so a project can switch without rewriting its
//! comments. An ignore that suppresses nothing is reported (`unused-ignore`).

use crate::rules::{self, Rule};

/// What an ignore covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The next statement.
    Statement,
    /// The whole script.
    File,
}

/// Where the syntax comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `migrate-check-ignore`.
    Ours,
    /// `squawk-ignore`.
    Squawk,
}

/// A parsed ignore comment.
#[derive(Debug, Clone)]
pub struct Directive {
    /// Statement or file.
    pub scope: Scope,
    /// Ours or squawk's.
    pub flavor: Flavor,
    /// The rules it names.
    pub rules: Vec<&'static Rule>,
    /// Names that match no rule.
    pub unknown: Vec<String>,
    /// No rule names at all (`squawk-ignore-file` alone: every rule).
    pub all: bool,
    /// The reason, for ours.
    pub reason: Option<String>,
}

impl Directive {
    /// Whether it covers a rule.
    pub fn covers(&self, rule: &Rule) -> bool {
        self.all || self.rules.iter().any(|r| r.id == rule.id)
    }

    /// Whether it takes effect (ours needs a reason).
    pub fn effective(&self) -> bool {
        self.flavor == Flavor::Squawk || self.reason.is_some()
    }
}

/// Parses the text of one comment (`-- …` or `/* … */`).
pub fn parse(comment: &str) -> Option<Directive> {
    let body = comment.trim().strip_prefix("--").map(str::to_owned).or_else(|| {
        comment
            .trim()
            .strip_prefix("/*")
            .and_then(|c| c.strip_suffix("*/"))
            .map(str::to_owned)
    })?;
    let body = body.trim();
    let (flavor, scope, rest) = if let Some(rest) = body.strip_prefix("migrate-check-ignore-file") {
        (Flavor::Ours, Scope::File, rest)
    } else if let Some(rest) = body.strip_prefix("migrate-check-ignore") {
        (Flavor::Ours, Scope::Statement, rest)
    } else if let Some(rest) = body.strip_prefix("squawk-ignore-file") {
        (Flavor::Squawk, Scope::File, rest)
    } else if let Some(rest) = body.strip_prefix("squawk-ignore") {
        (Flavor::Squawk, Scope::Statement, rest)
    } else {
        return None;
    };
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace) || rest.starts_with(':')) {
        return None;
    }
    let rest = rest.trim_start_matches(':');
    let (names, reason) = match (flavor, rest.split_once(" -- ")) {
        (Flavor::Ours, Some((names, reason))) => {
            (names, Some(reason.trim().to_owned()).filter(|r| !r.is_empty()))
        }
        (Flavor::Ours, None) => (rest.trim_end_matches("--"), None),
        (Flavor::Squawk, _) => (rest, None),
    };
    let mut rules = Vec::new();
    let mut unknown = Vec::new();
    for name in names
        .split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let found: Vec<&'static Rule> = match flavor {
            Flavor::Ours => rules::find(name).into_iter().collect(),
            Flavor::Squawk => rules::from_squawk(name),
        };
        if found.is_empty() {
            unknown.push(name.to_owned());
        }
        rules.extend(found);
    }
    let all = rules.is_empty() && unknown.is_empty() && flavor == Flavor::Squawk && scope == Scope::File;
    Some(Directive {
        scope,
        flavor,
        rules,
        unknown,
        all,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ours_need_a_reason() {
        let d = parse("-- migrate-check-ignore ban-drop-column, renaming-table -- unused since v2").unwrap();
        assert_eq!(d.scope, Scope::Statement);
        assert_eq!(
            d.rules.iter().map(|r| r.id).collect::<Vec<_>>(),
            ["ban-drop-column", "renaming-table"]
        );
        assert_eq!(d.reason.as_deref(), Some("unused since v2"));
        assert!(d.effective());
        let bare = parse("-- migrate-check-ignore ban-drop-column").unwrap();
        assert!(!bare.effective());
        let file = parse("/* migrate-check-ignore-file prefer-text-field -- legacy schema */").unwrap();
        assert_eq!(file.scope, Scope::File);
        assert!(file.effective());
    }

    #[test]
    fn squawk_comments_map_to_our_rules() {
        let d = parse("-- squawk-ignore ban-concurrent-index-creation-in-transaction, prefer-timestamptz")
            .unwrap();
        assert_eq!(
            d.rules.iter().map(|r| r.id).collect::<Vec<_>>(),
            ["not-allowed-in-transaction", "prefer-timestamp-tz"]
        );
        assert!(d.effective());
        let all = parse("-- squawk-ignore-file").unwrap();
        assert!(all.all);
        let unknown = parse("-- migrate-check-ignore no-such-rule -- why").unwrap();
        assert_eq!(unknown.unknown, ["no-such-rule"]);
        assert!(parse("-- just a comment").is_none());
        assert!(parse("-- squawk-ignored").is_none());
    }
}
