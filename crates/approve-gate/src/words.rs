//! What a comment says: approve, deny, or nothing.
//!
//! The first non-empty line of a comment decides. It approves when it is `/approve` (anything may
//! follow after a space) or exactly one of the approve words, and denies when it is `/deny [reason]`
//! or exactly one of the deny words; case does not matter, and trailing `.` or `!` are allowed
//! (`LGTM!`). The lines after the first are the note (the reason of a denial). Words are matched
//! literally: a line is compared with each word character by character, so `+1` or `a.b` mean just
//! that.
//!
//! "Case does not matter" means an upper-case letter equals the lower-case letter it pairs with both
//! ways (`A`/`a`, `Ç`/`ç`), nothing more. Unicode case folding, which a `(?i)` regex applies, also
//! equates look-alikes such as `ſ` (long s) with `s` and `K` (Kelvin sign) with `k`, so `yeſ` would
//! approve: a word would then be matched by text nobody typed as that word.

/// The default approve words (trstringer/manual-approval's, so teams switching keep their habits).
pub const APPROVE_WORDS: &[&str] = &["approve", "approved", "lgtm", "yes"];
/// The default deny words.
pub const DENY_WORDS: &[&str] = &["deny", "denied", "no"];

/// A vote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vote {
    /// Approve.
    Approve,
    /// Deny, with the reason if one was given.
    Deny(Option<String>),
}

/// The word lists, each word folded (see [`fold`]) and without its trailing `.` and `!`.
#[derive(Debug, Clone)]
pub struct Words {
    approve: Vec<String>,
    deny: Vec<String>,
}

impl Words {
    /// The default words plus `approve` and `deny` extras. Fails when an extra is empty or a word
    /// is on both sides.
    pub fn new(approve: &[String], deny: &[String]) -> Result<Self, String> {
        let clean = |extra: &[String], input: &str| -> Result<Vec<String>, String> {
            extra
                .iter()
                .map(|w| w.trim())
                .filter(|w| !w.is_empty())
                .map(|w| {
                    if w.starts_with('/') {
                        Err(format!(
                            "input `{input}`: `{w}` starts with `/`; commands are built in (`/approve`, `/deny`)"
                        ))
                    } else if w.trim_end_matches(['.', '!']).is_empty() {
                        Err(format!("input `{input}`: `{w}` is only punctuation"))
                    } else {
                        Ok(w.to_owned())
                    }
                })
                .collect()
        };
        let mut approve_all: Vec<String> = APPROVE_WORDS.iter().map(|w| (*w).to_owned()).collect();
        approve_all.extend(clean(approve, "approve-words")?);
        let mut deny_all: Vec<String> = DENY_WORDS.iter().map(|w| (*w).to_owned()).collect();
        deny_all.extend(clean(deny, "deny-words")?);
        let approve = key_words(&approve_all);
        let deny = key_words(&deny_all);
        if let Some(both) = approve_all.iter().find(|a| deny.contains(&word_key(a))) {
            return Err(format!(
                "`{both}` would both approve and deny: remove it from `approve-words` or `deny-words`"
            ));
        }
        Ok(Self { approve, deny })
    }

    /// The default words only.
    pub fn defaults() -> Self {
        // The default lists are fixed and valid.
        Self::new(&[], &[]).unwrap_or_else(|_| unreachable!("the default words compile"))
    }

    /// What `body` votes, if anything.
    pub fn classify(&self, body: &str) -> Option<Vote> {
        let mut lines = body.lines().map(str::trim).skip_while(|l| l.is_empty());
        let first = lines.next()?;
        let rest = || {
            let note: Vec<&str> = lines.clone().collect();
            let note = note.join("\n").trim().to_owned();
            (!note.is_empty()).then_some(note)
        };
        if command(first, "/approve").is_some() {
            return Some(Vote::Approve);
        }
        if let Some(after) = command(first, "/deny") {
            let reason = match (after.is_empty(), rest()) {
                (false, Some(more)) => Some(format!("{after}\n{more}")),
                (false, None) => Some(after.to_owned()),
                (true, more) => more,
            };
            return Some(Vote::Deny(reason));
        }
        let said = word_key(first);
        if self.approve.contains(&said) {
            return Some(Vote::Approve);
        }
        if self.deny.contains(&said) {
            return Some(Vote::Deny(rest()));
        }
        None
    }
}

/// `Some(rest)` when `line` is `cmd` or `cmd <rest>` (case-insensitive).
fn command<'a>(line: &'a str, cmd: &str) -> Option<&'a str> {
    let head = line.get(..cmd.len())?;
    if !head.eq_ignore_ascii_case(cmd) {
        return None;
    }
    let after = &line[cmd.len()..];
    if after.is_empty() {
        return Some("");
    }
    after.starts_with(char::is_whitespace).then(|| after.trim())
}

/// What a word or a first line is compared by: without trailing `.` and `!`, each character folded.
fn word_key(text: &str) -> String {
    text.trim_end_matches(['.', '!']).chars().map(fold).collect()
}

fn key_words(words: &[String]) -> Vec<String> {
    words
        .iter()
        .map(|w| word_key(w))
        .filter(|w| !w.is_empty())
        .collect()
}

/// An upper-case letter becomes its lower-case partner only when that partner's upper case is the
/// letter again (`A` → `a`, `Ç` → `ç`); every other character stays as it is. So `ſ` stays `ſ` (its
/// upper case is `S`, whose lower case is `s`) and the Kelvin sign stays itself (it lowers to `k`, which
/// uppers to `K`), while `K` and `k` are one letter.
fn fold(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) if l != c => {
            let mut upper = l.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(u), None) if u == c => l,
                _ => c,
            }
        }
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(approve: &[&str], deny: &[&str]) -> Words {
        let own = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Words::new(&own(approve), &own(deny)).unwrap()
    }

    #[test]
    fn default_words_table() {
        let w = Words::defaults();
        let deny = |r: Option<&str>| Some(Vote::Deny(r.map(str::to_owned)));
        for (body, want) in [
            ("approve", Some(Vote::Approve)),
            ("Approved", Some(Vote::Approve)),
            ("LGTM!", Some(Vote::Approve)),
            ("lgtm.", Some(Vote::Approve)),
            ("yes", Some(Vote::Approve)),
            ("  \n  yes  \n", Some(Vote::Approve)),
            ("approve\n\nchecked the dashboards", Some(Vote::Approve)),
            ("/approve", Some(Vote::Approve)),
            ("/APPROVE looks fine", Some(Vote::Approve)),
            ("/approved", None),
            ("/approvex", None),
            ("deny", deny(None)),
            ("Denied!", deny(None)),
            ("no", deny(None)),
            ("no\nerror rate is up", deny(Some("error rate is up"))),
            ("/deny", deny(None)),
            ("/deny error rate is up", deny(Some("error rate is up"))),
            (
                "/deny  p95 doubled\nsee grafana",
                deny(Some("p95 doubled\nsee grafana")),
            ),
            ("/deny\nnot now", deny(Some("not now"))),
            ("approve this?", None),
            ("yes please", None),
            ("I approve", None),
            ("nope", None),
            ("> approve", None),
            ("no way", None),
            ("+1", None),
            ("", None),
            ("\n\n", None),
            ("approve approve", None),
            ("lgtm!!!", Some(Vote::Approve)),
        ] {
            assert_eq!(w.classify(body), want, "{body:?}");
        }
    }

    #[test]
    fn custom_words_are_literal() {
        let w = words(
            &["+1", "ship it!", "a.b", "(yes)", "x|y", "Ça marche"],
            &["-1", "hold*"],
        );
        for (body, want) in [
            ("+1", Some(Vote::Approve)),
            ("+1!", Some(Vote::Approve)),
            ("1", None),
            ("++1", None),
            ("ship it", Some(Vote::Approve)),
            ("Ship It!", Some(Vote::Approve)),
            ("a.b", Some(Vote::Approve)),
            ("axb", None),
            ("(yes)", Some(Vote::Approve)),
            ("x|y", Some(Vote::Approve)),
            ("x", None),
            ("ça marche", Some(Vote::Approve)),
            ("-1", Some(Vote::Deny(None))),
            ("hold*", Some(Vote::Deny(None))),
            ("holdddd", None),
            ("approve", Some(Vote::Approve)),
        ] {
            assert_eq!(w.classify(body), want, "{body:?}");
        }
    }

    /// Regression: `(?i)` matched with Unicode case folding, so `yeſ` (long s, U+017F) counted as
    /// `yes` and `o\u{212A}` (Kelvin sign) as a custom `ok`, though the words are documented as literal.
    #[test]
    fn look_alike_letters_are_not_case_variants() {
        let w = words(&["ok", "Straße"], &["stop"]);
        for (body, want) in [
            ("ye\u{17F}", None),
            ("YE\u{17F}", None),
            ("ye\u{17F}!", None),
            ("o\u{212A}", None),
            ("\u{17F}top", None),
            ("OK", Some(Vote::Approve)),
            ("Ok!", Some(Vote::Approve)),
            ("YES", Some(Vote::Approve)),
            ("straße", Some(Vote::Approve)),
            ("STRASSE", None),
            ("STOP", Some(Vote::Deny(None))),
        ] {
            assert_eq!(w.classify(body), want, "{body:?}");
        }
        // A custom word written with a look-alike is that word, not its ASCII twin.
        let kelvin = words(&["o\u{212A}"], &[]);
        assert_eq!(kelvin.classify("o\u{212A}"), Some(Vote::Approve));
        assert_eq!(kelvin.classify("ok"), None);
        assert_eq!(kelvin.classify("OK"), None);
    }

    #[test]
    fn fold_pairs_only_round_trip_cases() {
        for (c, want) in [
            ('A', 'a'),
            ('a', 'a'),
            ('Ç', 'ç'),
            ('Σ', 'σ'),
            ('ς', 'ς'),
            ('\u{17F}', '\u{17F}'),
            ('\u{212A}', '\u{212A}'),
            ('\u{130}', '\u{130}'),
            ('\u{1E9E}', '\u{1E9E}'),
            ('+', '+'),
        ] {
            assert_eq!(fold(c), want, "{c:?}");
        }
    }

    #[test]
    fn bad_word_lists_table() {
        for (approve, deny, want) in [
            (vec!["no"], vec![], "both approve and deny"),
            (vec!["ok"], vec!["OK!"], "both approve and deny"),
            (vec!["/ship"], vec![], "starts with `/`"),
            (vec![], vec!["!!"], "only punctuation"),
        ] {
            let own = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
            let err = Words::new(&own(&approve), &own(&deny)).unwrap_err();
            assert!(err.contains(want), "{approve:?} {deny:?}: {err}");
        }
    }
}
