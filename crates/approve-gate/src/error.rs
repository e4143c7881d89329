//! Errors: bad input (exit 2) and broken dependencies (exit 3). A denial or a timeout is an
//! outcome (exit 1), reported by `run`, not an error.

use ops_core::{ExitStatus, Report};

/// Why the gate could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input (or the context it needs) is invalid; nothing was created.
    #[error("{message}")]
    Input {
        /// What is wrong, naming the input.
        message: String,
        /// How to fix it.
        hint: Option<String>,
    },
    /// A team approver whose members the token cannot read; nothing was created.
    #[error("cannot read the members of team `{team}`: GitHub answered {status}")]
    TeamUnreadable {
        /// `org/team`.
        team: String,
        /// The status GitHub answered.
        status: u16,
    },
    /// A GitHub API call failed.
    #[error("{context}")]
    Api {
        /// What the gate was doing.
        context: String,
        /// The failure.
        #[source]
        source: ops_net::Error,
    },
    /// Something else the gate depends on failed.
    #[error("{message}")]
    Runtime {
        /// What failed.
        message: String,
        /// How to fix it.
        hint: Option<String>,
    },
    /// A runner file could not be written.
    #[error(transparent)]
    Runner(#[from] ops_core::runner::RunnerError),
}

impl Error {
    /// Bad input.
    pub fn input(message: impl Into<String>) -> Self {
        Self::Input {
            message: message.into(),
            hint: None,
        }
    }

    /// Bad input, with a hint.
    pub fn input_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::Input {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// A failed API call, with what the gate was doing.
    pub fn api(context: impl Into<String>, source: ops_net::Error) -> Self {
        Self::Api {
            context: context.into(),
            source,
        }
    }

    /// The HTTP status of a failed API call.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { source, .. } => source.status().map(|s| s.as_u16()),
            _ => None,
        }
    }
}

impl Report for Error {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Input { .. } | Self::TeamUnreadable { .. } => ExitStatus::Usage,
            Self::Api { source, .. } => match source.exit_status() {
                ExitStatus::Usage => ExitStatus::Usage,
                _ => ExitStatus::Runtime,
            },
            Self::Runtime { .. } => ExitStatus::Runtime,
            Self::Runner(e) => e.exit_status(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Input { hint, .. } | Self::Runtime { hint, .. } => hint.clone(),
            Self::TeamUnreadable { team, .. } => Some(format!(
                "a workflow's GITHUB_TOKEN cannot read team membership: pass a GitHub App token with the \
                 organization permission `Members: read` (or a token with `read:org`) as `github-token`, \
                 or list the members of `{team}` as users"
            )),
            Self::Api { source, .. } => match source.status().map(|s| s.as_u16()) {
                Some(401) => Some(
                    "the token was rejected: it may have expired (GitHub App installation tokens last \
                     1 hour; keep `timeout` below that or use a longer-lived token)"
                        .to_owned(),
                ),
                Some(403) => Some(
                    "the token lacks a permission: issue mode needs `issues: write` and `contents: read` \
                     under `permissions:`; environment mode needs `actions: read` (and a required \
                     reviewer's token to review)"
                        .to_owned(),
                ),
                _ => source.hint(),
            },
            Self::Runner(e) => e.hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_hints() {
        let team = Error::TeamUnreadable {
            team: "octo/sre".to_owned(),
            status: 403,
        };
        assert_eq!(team.exit_status(), ExitStatus::Usage);
        assert!(team.hint().unwrap().contains("Members: read"));
        assert!(team.to_string().contains("`octo/sre`"));
        assert_eq!(Error::input("x").exit_status(), ExitStatus::Usage);
        let rt = Error::Runtime {
            message: "x".to_owned(),
            hint: None,
        };
        assert_eq!(rt.exit_status(), ExitStatus::Runtime);
    }
}
