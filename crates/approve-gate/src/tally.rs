//! Counting votes: N of M, per-team quorums, each person once, denials first.
//!
//! The tally is recomputed from every valid vote each time, so the outcome does not depend on
//! how comments were split across polls. A person who both approved and denied counts as denying
//! (a denial cannot be taken back by a later approval; a new run can be started instead).

use crate::words::Vote;

/// The rules of one gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Distinct approvals needed in total.
    pub minimum_approvals: u32,
    /// Distinct denials that deny.
    pub minimum_denials: u32,
    /// `(org/team, quorum)` for teams with a quorum above 0.
    pub quorums: Vec<(String, u32)>,
}

/// One valid vote: the voter is eligible and has write access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ballot {
    /// Who.
    pub login: String,
    /// What.
    pub vote: Vote,
    /// The quorum teams (`org/team`) the voter belongs to.
    pub teams: Vec<String>,
}

/// Where a team's quorum stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamCount {
    /// `org/team`.
    pub team: String,
    /// Approvals from its members.
    pub have: u32,
    /// Its quorum.
    pub quorum: u32,
}

/// The outcome of counting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Enough approvals, and fewer denials than deny.
    Approved,
    /// Enough denials.
    Denied,
    /// Neither yet.
    Pending,
}

/// The count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// The verdict.
    pub verdict: Verdict,
    /// People who approved (and did not deny), in the order they first voted.
    pub approvers: Vec<String>,
    /// People who denied, with the first reason each gave, in the order they first voted.
    pub deniers: Vec<(String, Option<String>)>,
    /// Approvals in total.
    pub approvals: u32,
    /// The total needed.
    pub needed: u32,
    /// Each quorum team.
    pub teams: Vec<TeamCount>,
}

impl Tally {
    /// `1 of 2 approvals; octo/sre 0 of 1`.
    pub fn progress(&self) -> String {
        let mut out = format!(
            "{} of {} approval{}",
            self.approvals,
            self.needed,
            if self.needed == 1 { "" } else { "s" }
        );
        for t in &self.teams {
            out.push_str(&format!("; {} {} of {}", t.team, t.have, t.quorum));
        }
        out
    }

    /// What is still missing: `1 more approval, 1 more from octo/sre`; empty when nothing is.
    pub fn missing(&self) -> String {
        let mut parts = Vec::new();
        let total = self.needed.saturating_sub(self.approvals);
        if total > 0 {
            parts.push(format!(
                "{total} more approval{}",
                if total == 1 { "" } else { "s" }
            ));
        }
        for t in &self.teams {
            let left = t.quorum.saturating_sub(t.have);
            if left > 0 {
                parts.push(format!("{left} more from {}", t.team));
            }
        }
        parts.join(", ")
    }
}

/// Counts `ballots` (in the order they were cast) under `rules`.
pub fn count(rules: &Rules, ballots: &[Ballot]) -> Tally {
    let mut order: Vec<&str> = Vec::new();
    for b in ballots {
        if !order.iter().any(|l| l.eq_ignore_ascii_case(&b.login)) {
            order.push(&b.login);
        }
    }
    let mut approvers = Vec::new();
    let mut deniers = Vec::new();
    let mut teams: Vec<TeamCount> = rules
        .quorums
        .iter()
        .map(|(team, quorum)| TeamCount {
            team: team.clone(),
            have: 0,
            quorum: *quorum,
        })
        .collect();
    for login in order {
        let mine: Vec<&Ballot> = ballots
            .iter()
            .filter(|b| b.login.eq_ignore_ascii_case(login))
            .collect();
        if let Some(reason) = mine.iter().find_map(|b| match &b.vote {
            Vote::Deny(reason) => Some(reason.clone()),
            Vote::Approve => None,
        }) {
            deniers.push((login.to_owned(), reason));
            continue;
        }
        approvers.push(login.to_owned());
        let member_of: Vec<&String> = mine.iter().flat_map(|b| &b.teams).collect();
        for t in &mut teams {
            if member_of.iter().any(|m| m.eq_ignore_ascii_case(&t.team)) {
                t.have += 1;
            }
        }
    }
    let approvals = u32::try_from(approvers.len()).unwrap_or(u32::MAX);
    let denials = u32::try_from(deniers.len()).unwrap_or(u32::MAX);
    let verdict = if denials >= rules.minimum_denials.max(1) {
        Verdict::Denied
    } else if approvals >= rules.minimum_approvals && teams.iter().all(|t| t.have >= t.quorum) {
        Verdict::Approved
    } else {
        Verdict::Pending
    };
    Tally {
        verdict,
        approvers,
        deniers,
        approvals,
        needed: rules.minimum_approvals,
        teams,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ballot(login: &str, approve: bool, teams: &[&str]) -> Ballot {
        Ballot {
            login: login.to_owned(),
            vote: if approve {
                Vote::Approve
            } else {
                Vote::Deny(Some(format!("{login} says no")))
            },
            teams: teams.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    fn rules(min: u32, denials: u32, quorums: &[(&str, u32)]) -> Rules {
        Rules {
            minimum_approvals: min,
            minimum_denials: denials,
            quorums: quorums.iter().map(|(t, q)| ((*t).to_owned(), *q)).collect(),
        }
    }

    #[test]
    fn quorum_table() {
        use Verdict::{Approved, Denied, Pending};
        let sre = &[("octo/sre", 2)][..];
        for (name, rules, ballots, want, approvers) in [
            ("no votes", rules(1, 1, &[]), vec![], Pending, vec![]),
            (
                "one of one",
                rules(1, 1, &[]),
                vec![ballot("alice", true, &[])],
                Approved,
                vec!["alice"],
            ),
            (
                "one of two",
                rules(2, 1, &[]),
                vec![ballot("alice", true, &[])],
                Pending,
                vec!["alice"],
            ),
            (
                "each person counts once",
                rules(2, 1, &[]),
                vec![ballot("alice", true, &[]), ballot("ALICE", true, &[])],
                Pending,
                vec!["alice"],
            ),
            (
                "two of two",
                rules(2, 1, &[]),
                vec![ballot("alice", true, &[]), ballot("bob", true, &[])],
                Approved,
                vec!["alice", "bob"],
            ),
            (
                "any denial wins",
                rules(1, 1, &[]),
                vec![ballot("alice", true, &[]), ballot("bob", false, &[])],
                Denied,
                vec!["alice"],
            ),
            (
                "a denial is not taken back",
                rules(1, 1, &[]),
                vec![ballot("bob", false, &[]), ballot("bob", true, &[])],
                Denied,
                vec![],
            ),
            (
                "two denials needed",
                rules(1, 2, &[]),
                vec![ballot("bob", false, &[]), ballot("alice", true, &[])],
                Approved,
                vec!["alice"],
            ),
            (
                "two denials reached",
                rules(3, 2, &[]),
                vec![ballot("bob", false, &[]), ballot("carol", false, &[])],
                Denied,
                vec![],
            ),
            (
                "team quorum short",
                rules(1, 1, sre),
                vec![ballot("alice", true, &["octo/sre"]), ballot("dave", true, &[])],
                Pending,
                vec!["alice", "dave"],
            ),
            (
                "team quorum met",
                rules(2, 1, sre),
                vec![
                    ballot("alice", true, &["octo/sre"]),
                    ballot("erin", true, &["octo/sre"]),
                ],
                Approved,
                vec!["alice", "erin"],
            ),
            (
                "team met, total short",
                rules(3, 1, sre),
                vec![
                    ballot("alice", true, &["octo/sre"]),
                    ballot("erin", true, &["octo/sre"]),
                ],
                Pending,
                vec!["alice", "erin"],
            ),
            (
                "a denier does not count for the team",
                rules(1, 2, &[("octo/sre", 1)]),
                vec![
                    ballot("alice", false, &["octo/sre"]),
                    ballot("alice", true, &["octo/sre"]),
                ],
                Pending,
                vec![],
            ),
        ] {
            let t = count(&rules, &ballots);
            assert_eq!(t.verdict, want, "{name}");
            assert_eq!(t.approvers, approvers, "{name}");
        }
    }

    #[test]
    fn progress_and_missing() {
        let t = count(
            &rules(3, 1, &[("octo/sre", 2), ("octo/dba", 1)]),
            &[ballot("alice", true, &["octo/sre"])],
        );
        assert_eq!(t.progress(), "1 of 3 approvals; octo/sre 1 of 2; octo/dba 0 of 1");
        assert_eq!(
            t.missing(),
            "2 more approvals, 1 more from octo/sre, 1 more from octo/dba"
        );
        let done = count(&rules(1, 1, &[]), &[ballot("alice", true, &[])]);
        assert_eq!(done.progress(), "1 of 1 approval");
        assert_eq!(done.missing(), "");
    }
}
