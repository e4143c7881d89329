//! Errors: bad input (exit 2) and broken dependencies (exit 3). A build that fails or a registry that
//! does not hold what was pushed is an outcome (exit 1), reported by `run`, not an error.

use ops_core::{ExitStatus, Report};

use crate::meta::MetaError;

/// Why the tool could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A metadata input line is invalid.
    #[error(transparent)]
    Meta(#[from] MetaError),
    /// Any other bad input.
    #[error("{message}")]
    Input {
        /// What is wrong, naming the input.
        message: String,
        /// How to fix it.
        hint: Option<String>,
    },
    /// A program, file or service the tool depends on failed.
    #[error("{message}")]
    Dependency {
        /// What failed.
        message: String,
        /// How to fix it.
        hint: Option<String>,
        /// The cause.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// An HTTP request failed (GitHub or the registry).
    #[error(transparent)]
    Net(#[from] ops_net::Error),
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

    /// A broken dependency.
    pub fn dependency(message: impl Into<String>) -> Self {
        Self::Dependency {
            message: message.into(),
            hint: None,
            source: None,
        }
    }

    /// Adds a hint.
    #[must_use]
    pub fn with_hint(mut self, text: impl Into<String>) -> Self {
        match &mut self {
            Self::Input { hint, .. } | Self::Dependency { hint, .. } => *hint = Some(text.into()),
            _ => {}
        }
        self
    }

    /// Adds a cause.
    #[must_use]
    pub fn with_source(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        if let Self::Dependency { source, .. } = &mut self {
            *source = Some(Box::new(cause));
        }
        self
    }
}

impl From<ops_core::InputError> for Error {
    fn from(error: ops_core::InputError) -> Self {
        Self::input(error.to_string())
    }
}

impl Report for Error {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Meta(_) | Self::Input { .. } => ExitStatus::Usage,
            Self::Dependency { .. } => ExitStatus::Runtime,
            Self::Net(e) => e.exit_status(),
            Self::Runner(e) => e.exit_status(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Meta(_) => Some(
                "the syntax is docker/metadata-action's; see the `tags`, `flavor` and `images` sections of the action's README"
                    .to_owned(),
            ),
            Self::Input { hint, .. } | Self::Dependency { hint, .. } => hint.clone(),
            Self::Net(e) => e.hint(),
            Self::Runner(e) => e.hint(),
        }
    }
}
