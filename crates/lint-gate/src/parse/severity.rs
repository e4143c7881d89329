//! Severity words, mapped explicitly.
//!
//! reviewdog treats any word it does not know as the most severe level, silently. Here every word
//! linters are known to use is in one table; a word that is not (or a missing severity in a format
//! that has no default) gets the `unknown-level` input and is counted, so the summary can say so.

use ops_core::Level;

/// The level a severity word means, or `None` when the word is not in the table. Case and
/// surrounding whitespace are ignored.
pub fn level(word: &str) -> Option<Level> {
    let word = word.trim().to_ascii_lowercase();
    Some(match word.as_str() {
        // errors: rustc/gcc/eslint/checkstyle/SARIF, SonarQube and security scanners' top grades
        "error" | "err" | "e" | "fatal" | "f" | "failure" | "critical" | "high" | "blocker" | "severe"
        | "2" => Level::Error,
        // warnings
        "warning" | "warn" | "w" | "medium" | "moderate" | "major" | "1" => Level::Warning,
        // notices: informational grades, style and refactoring advice, notes and hints
        "info" | "information" | "informational" | "i" | "note" | "notice" | "n" | "low" | "minor"
        | "hint" | "style" | "convention" | "c" | "refactor" | "r" | "suggestion" | "none" | "0" => {
            Level::Notice
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        for (word, want) in [
            ("ERROR", Some(Level::Error)),
            (" Error ", Some(Level::Error)),
            ("critical", Some(Level::Error)),
            ("warning", Some(Level::Warning)),
            ("Medium", Some(Level::Warning)),
            ("note", Some(Level::Notice)),
            ("style", Some(Level::Notice)),
            ("low", Some(Level::Notice)),
            ("", None),
            ("catastrophic", None),
            ("UNKNOWN_SEVERITY", None),
        ] {
            assert_eq!(level(word), want, "{word:?}");
        }
    }
}
