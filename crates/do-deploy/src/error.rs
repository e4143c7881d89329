//! The errors of do-deploy. "The deployment failed" is not among them: that is an outcome
//! (`ExitStatus::Failed`), reported with its evidence. These are the cases where the tool could not
//! do its job: bad input (exit 2) or a broken dependency (exit 3).

use ops_core::runner::RunnerError;
use ops_core::{ExitStatus, Report};

use crate::app_platform::spec::SpecError;

/// Why do-deploy could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The spec file.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Other bad input.
    #[error("{message}")]
    Input {
        /// What is wrong, naming the input.
        message: String,
        /// How to fix it.
        hint: Option<String>,
    },
    /// App Platform refused the spec (`propose`, create or update): nothing was changed.
    #[error("App Platform rejected the app spec{}: {message}", file.as_ref().map(|f| format!(" `{f}`")).unwrap_or_default())]
    Rejected {
        /// The spec file, when the spec came from one.
        file: Option<String>,
        /// App Platform's message.
        message: String,
    },
    /// An API call failed.
    #[error("{context}")]
    Api {
        /// What we were doing.
        context: String,
        /// The client's error (redacted URL, masked excerpt).
        #[source]
        source: ops_net::Error,
    },
    /// Writing outputs or the summary failed.
    #[error(transparent)]
    Runner(#[from] RunnerError),
    /// Something else that broke.
    #[error("{message}")]
    Runtime {
        /// What happened.
        message: String,
        /// What to do.
        hint: Option<String>,
    },
}

impl Error {
    /// Bad input.
    pub fn input(message: impl Into<String>, hint: Option<&str>) -> Self {
        Self::Input {
            message: message.into(),
            hint: hint.map(str::to_owned),
        }
    }

    /// An API call failed while doing `context`.
    pub fn api(context: impl Into<String>, source: ops_net::Error) -> Self {
        Self::Api {
            context: context.into(),
            source,
        }
    }
}

impl Report for Error {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Spec(e) => e.exit_status(),
            Self::Input { .. } | Self::Rejected { .. } => ExitStatus::Usage,
            Self::Api { source, .. } => match source.exit_status() {
                ExitStatus::Usage => ExitStatus::Usage,
                _ => ExitStatus::Runtime,
            },
            Self::Runner(_) | Self::Runtime { .. } => ExitStatus::Runtime,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Spec(e) => e.hint(),
            Self::Input { hint, .. } | Self::Runtime { hint, .. } => hint.clone(),
            Self::Rejected { .. } => Some(
                "fix the spec and run again; nothing was changed on the app (see App Platform's app spec \
                 reference)"
                    .to_owned(),
            ),
            Self::Api { source, .. } => source.hint(),
            Self::Runner(_) => None,
        }
    }
}
