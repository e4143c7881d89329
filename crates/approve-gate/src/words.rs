//! What a comment says: approve, deny, or nothing.
//!
//! The first non-empty line of a comment decides. It approves when it is `/approve` (anything may
//! follow after a space) or exactly one of the approve words, and denies when it is `/deny [reason]`
//! or exactly one of the deny words; case does not matter, and trailing `.` or `!` are allowed
//! (`LGTM!`). The lines after the first are the note (the reason of a denial). Words are matched
//! literally: custom words go through `regex::escape`, so `+1` or `a.b` mean just that.

use regex::Regex;

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

/// The compiled word lists.
#[derive(Debug, Clone)]
pub struct Words {
    approve: Regex,
    deny: Regex,
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
                        Ok(w.to_lowercase())
                    }
                })
                .collect()
        };
        let mut approve_all: Vec<String> = APPROVE_WORDS.iter().map(|w| (*w).to_owned()).collect();
        approve_all.extend(clean(approve, "approve-words")?);
        let mut deny_all: Vec<String> = DENY_WORDS.iter().map(|w| (*w).to_owned()).collect();
        deny_all.extend(clean(deny, "deny-words")?);
        let strip = |w: &str| w.trim_end_matches(['.', '!']).to_owned();
        if let Some(both) = approve_all
            .iter()
            .find(|a| deny_all.iter().any(|d| strip(d) == strip(a)))
        {
            return Err(format!(
                "`{both}` would both approve and deny: remove it from `approve-words` or `deny-words`"
            ));
        }
        Ok(Self {
            approve: compile(&approve_all)?,
            deny: compile(&deny_all)?,
        })
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
        if self.approve.is_match(first) {
            return Some(Vote::Approve);
        }
        if self.deny.is_match(first) {
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

fn compile(words: &[String]) -> Result<Regex, String> {
    let alternatives: Vec<String> = words
        .iter()
        .map(|w| regex::escape(w.trim_end_matches(['.', '!'])))
        .filter(|w| !w.is_empty())
        .collect();
    let pattern = format!("(?i)^(?:{})[.!]*$", alternatives.join("|"));
    Regex::new(&pattern).map_err(|e| format!("cannot build the word matcher: {e}"))
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
