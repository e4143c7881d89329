//! Errors: bad input (exit 2) and a broken tool or dependency (exit 3).
//!
//! An unhealthy service is not an error: it is the `rollback` decision (exit 1).

use std::fmt;
use std::path::PathBuf;

use ops_core::{ExitStatus, Report};

/// Where a checks problem is: the checks file (or the `checks` input, or another input), line, field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksError {
    /// `checks file `smoke.yml``, `input `checks``, `input `url``.
    pub origin: String,
    /// 1-based line.
    pub line: Option<u32>,
    /// Field path, like `checks[1].expect.status`.
    pub field: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl fmt::Display for ChecksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ChecksError {}

/// Everything that stops smoke-test before it can decide.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The checks file, the `checks` input or another input is invalid.
    #[error(transparent)]
    Checks(#[from] ChecksError),
    /// The checks file could not be read.
    #[error("cannot read checks file `{path}`")]
    ReadChecks {
        /// As given.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Neither `checks` nor `url` nor `hurl` was given.
    #[error("nothing to check: give `checks`, `url` or `hurl`")]
    NothingToCheck,
    /// `ca-cert` could not be read or holds no certificate.
    #[error("input `ca-cert`: cannot use `{path}`: {message}")]
    CaCert {
        /// As given.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A `hurl` glob matched nothing or was malformed.
    #[error("input `hurl`: {message}")]
    HurlFiles {
        /// Why.
        message: String,
    },
    /// `.hurl` files were given but no `hurl` binary is on PATH.
    #[error("input `hurl` lists {count} file(s), but no `hurl` binary is on PATH")]
    HurlMissing {
        /// How many files.
        count: usize,
    },
    /// hurl ran but its report could not be read.
    #[error("hurl did not produce a readable report ({message})")]
    HurlReport {
        /// Why.
        message: String,
    },
    /// Writing the JUnit report failed.
    #[error("cannot write the JUnit report `{path}`")]
    WriteReport {
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The runner's files (outputs, summary) could not be written.
    #[error(transparent)]
    Runner(#[from] ops_core::runner::RunnerError),
    /// The runtime or an OS facility failed.
    #[error("{what}")]
    System {
        /// What failed.
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Report for Error {
    fn exit_status(&self) -> ExitStatus {
        match self {
            Self::Checks(_) | Self::ReadChecks { .. } | Self::NothingToCheck | Self::CaCert { .. } => {
                ExitStatus::Usage
            }
            Self::HurlFiles { .. } => ExitStatus::Usage,
            Self::Runner(e) => e.exit_status(),
            Self::HurlMissing { .. }
            | Self::HurlReport { .. }
            | Self::WriteReport { .. }
            | Self::System { .. } => ExitStatus::Runtime,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::Checks(e) => e.hint.clone(),
            Self::ReadChecks { .. } => Some(
                "`checks` is a path relative to the workspace, or YAML on several lines".to_owned(),
            ),
            Self::NothingToCheck => Some(
                "set `url: https://…/healthz` for a quick check, or `checks: .github/smoke.yml`".to_owned(),
            ),
            Self::HurlMissing { .. } => Some(
                "install hurl before this step (`cargo install hurl@8.0.1 --locked`), or remove the `hurl` input"
                    .to_owned(),
            ),
            _ => None,
        }
    }
}
