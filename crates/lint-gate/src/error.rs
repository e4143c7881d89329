//! The errors `run` can end with, each mapped to its exit status.

use ops_core::runner::RunnerError;
use ops_core::{ExitStatus, Report, ToolError};

use crate::parse::ParseError;

/// Why lint-gate could not decide.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A report that could not be read (exit 2), or read (exit 3).
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// Bad input or a broken dependency, with its own status.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// The GitHub API.
    #[error(transparent)]
    Net(#[from] ops_net::Error),
    /// The runner's files.
    #[error(transparent)]
    Runner(#[from] RunnerError),
}

impl Report for Error {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Parse(e) => e.exit_status(),
            Self::Tool(e) => e.exit_status(),
            Self::Net(e) => e.exit_status(),
            Self::Runner(e) => e.exit_status(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Parse(e) => e.hint(),
            Self::Tool(e) => e.hint(),
            Self::Net(e) => e.hint(),
            Self::Runner(e) => e.hint(),
        }
    }
}
