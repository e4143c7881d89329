//! The `approvers` input: users and `org/team` slugs, a team optionally with its own quorum
//! (`org/team=2`).

use std::fmt;

/// One team approver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    /// Organization login.
    pub org: String,
    /// Team slug.
    pub slug: String,
    /// Approvals needed from this team's members (0: membership only makes them eligible).
    pub quorum: u32,
}

impl Team {
    /// `org/slug`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.org, self.slug)
    }
}

impl fmt::Display for Team {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.org, self.slug)
    }
}

/// Everyone who may approve.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approvers {
    /// User logins, as written (without `@`), in input order, each once.
    pub users: Vec<String>,
    /// Teams, in input order, each once.
    pub teams: Vec<Team>,
}

impl Approvers {
    /// Parses the input lines; each line may hold several entries separated by commas or spaces.
    pub fn parse(lines: &[String]) -> Result<Self, String> {
        let mut out = Self::default();
        for entry in lines
            .iter()
            .flat_map(|l| l.split([',', ' ', '\t']))
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let entry = entry.strip_prefix('@').unwrap_or(entry);
            match entry.split_once('/') {
                Some((org, rest)) => {
                    let (slug, quorum) = match rest.split_once('=') {
                        Some((slug, n)) => {
                            let n: u32 = n.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                                format!("`{entry}`: the team quorum after `=` must be a whole number of at least 1")
                            })?;
                            (slug, n)
                        }
                        None => (rest, 0),
                    };
                    if !is_login(org) || !is_slug(slug) {
                        return Err(format!(
                            "`{entry}` is not a team: write `org/team-slug` (the slug from the team's URL)"
                        ));
                    }
                    if let Some(t) = out
                        .teams
                        .iter_mut()
                        .find(|t| t.org.eq_ignore_ascii_case(org) && t.slug.eq_ignore_ascii_case(slug))
                    {
                        t.quorum = t.quorum.max(quorum);
                    } else {
                        out.teams.push(Team {
                            org: org.to_owned(),
                            slug: slug.to_owned(),
                            quorum,
                        });
                    }
                }
                None => {
                    if entry.contains('=') {
                        return Err(format!(
                            "`{entry}`: a quorum (`=N`) applies to teams (`org/team=2`), not to users"
                        ));
                    }
                    if !is_login(entry) {
                        return Err(format!("`{entry}` is not a GitHub login"));
                    }
                    if !out.users.iter().any(|u| u.eq_ignore_ascii_case(entry)) {
                        out.users.push(entry.to_owned());
                    }
                }
            }
        }
        Ok(out)
    }

    /// Whether `login` is listed by name.
    pub fn lists_user(&self, login: &str) -> bool {
        self.users.iter().any(|u| u.eq_ignore_ascii_case(login))
    }

    /// Whether nobody is listed.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.teams.is_empty()
    }

    /// `@alice, @bob, @org/team (2)` for the issue body.
    pub fn mentions(&self) -> String {
        self.users
            .iter()
            .map(|u| format!("@{u}"))
            .chain(self.teams.iter().map(|t| {
                if t.quorum > 0 {
                    format!("@{t} (at least {})", t.quorum)
                } else {
                    format!("@{t}")
                }
            }))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A GitHub login: letters, digits and single hyphens, at most 39 characters; apps end in `[bot]`.
fn is_login(s: &str) -> bool {
    let name = s.strip_suffix("[bot]").unwrap_or(s);
    !name.is_empty()
        && name.len() <= 39
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
}

/// A team slug: letters, digits, `-`, `_` and `.`.
fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &[&str]) -> Vec<String> {
        s.iter().map(|l| (*l).to_owned()).collect()
    }

    #[test]
    fn parse_table() {
        let team = |org: &str, slug: &str, quorum| Team {
            org: org.into(),
            slug: slug.into(),
            quorum,
        };
        for (input, users, teams) in [
            (vec!["alice"], vec!["alice"], vec![]),
            (
                vec!["@alice, bob", "carol"],
                vec!["alice", "bob", "carol"],
                vec![],
            ),
            (vec!["alice Alice ALICE"], vec!["alice"], vec![]),
            (vec!["octo/sre"], vec![], vec![team("octo", "sre", 0)]),
            (
                vec!["@octo/sre=2, dave"],
                vec!["dave"],
                vec![team("octo", "sre", 2)],
            ),
            (
                vec!["octo/sre", "octo/SRE=3"],
                vec![],
                vec![team("octo", "sre", 3)],
            ),
            (vec!["deploy-bot[bot]"], vec!["deploy-bot[bot]"], vec![]),
            (vec!["", "  "], vec![], vec![]),
        ] {
            let got = Approvers::parse(&lines(&input)).unwrap();
            assert_eq!(got.users, users, "{input:?}");
            assert_eq!(got.teams, teams, "{input:?}");
        }
    }

    #[test]
    fn bad_entries_table() {
        for (input, want) in [
            ("alice=2", "applies to teams"),
            ("octo/sre=0", "at least 1"),
            ("octo/sre=two", "at least 1"),
            ("octo/", "is not a team"),
            ("/sre", "is not a team"),
            ("octo/s!re", "is not a team"),
            ("al!ce", "not a GitHub login"),
            ("-alice", "not a GitHub login"),
            ("a".repeat(40).as_str(), "not a GitHub login"),
        ] {
            let err = Approvers::parse(&lines(&[input])).unwrap_err();
            assert!(err.contains(want), "{input}: {err}");
        }
    }

    #[test]
    fn mentions_list_quorums() {
        let a = Approvers::parse(&lines(&["alice, octo/sre=2, octo/dev"])).unwrap();
        assert_eq!(a.mentions(), "@alice, @octo/sre (at least 2), @octo/dev");
        assert!(a.lists_user("ALICE"));
        assert!(!a.lists_user("octo"));
    }
}
