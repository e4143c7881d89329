//! Errors that stop a run. Findings (what the gate says no to) are not errors.

use std::path::{Path, PathBuf};

use ops_core::{ExitStatus, Report};

/// Why migrate-check could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: a value the user gave.
    #[error("{message}")]
    Usage {
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: Option<String>,
    },
    /// A file could not be read or written.
    #[error("cannot access `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// git failed (history gates).
    #[error("{message}")]
    Git {
        /// What failed.
        message: String,
        /// How to fix it.
        hint: Option<String>,
    },
    /// The database failed for a reason that is not the migration's fault.
    #[error("{message}")]
    Database {
        /// What failed (secrets already redacted).
        message: String,
        /// How to fix it.
        hint: Option<String>,
    },
    /// Writing runner files or reports failed.
    #[error(transparent)]
    Runner(#[from] ops_core::runner::RunnerError),
    /// The GitHub API failed (the pull-request comment).
    #[error(transparent)]
    Net(#[from] ops_net::Error),
}

impl Error {
    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::Usage {
            message: message.into(),
            hint: None,
        }
    }

    /// A usage error with a hint.
    pub fn usage_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::Usage {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// An I/O error on a path; text that cannot be read as SQL ([`crate::sql::split::BadText`]) is bad
    /// input, named by file and line.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        if let Some(bad) = crate::sql::split::bad_text(&source) {
            let at = match bad.column {
                Some(column) => format!("line {}, column {column}", bad.line),
                None => format!("line {}", bad.line),
            };
            return Self::Usage {
                message: format!("`{}` {at}: {}", path.display(), bad.message),
                hint: Some(bad.hint.clone()),
            };
        }
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A database error.
    pub fn database(message: impl Into<String>, hint: Option<String>) -> Self {
        Self::Database {
            message: message.into(),
            hint,
        }
    }
}

impl Report for Error {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Usage { .. } => ExitStatus::Usage,
            Self::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => ExitStatus::Usage,
            Self::Io { .. } | Self::Database { .. } => ExitStatus::Runtime,
            Self::Git { .. } => ExitStatus::Usage,
            Self::Runner(error) => error.exit_status(),
            Self::Net(error) => error.exit_status(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Usage { hint, .. } | Self::Git { hint, .. } | Self::Database { hint, .. } => hint.clone(),
            Self::Net(error) => error.hint(),
            _ => None,
        }
    }
}
