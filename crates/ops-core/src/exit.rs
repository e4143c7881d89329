//! The exit-code contract every tool keeps.
//!
//! 0 passed · 1 the gate said no · 2 usage or bad input (clap's own code) · 3 the tool or a dependency
//! broke. Only 3 is worth a retry. "The subject failed" (findings, unhealthy, denied) is an outcome a tool
//! returns as `Ok(ExitStatus::Failed)`, never an `Err`.

use std::process::ExitCode;

/// How a tool run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExitStatus {
    /// The gate passed.
    Success = 0,
    /// The gate said no: findings over the threshold, unhealthy service, deployment failed, denied.
    Failed = 1,
    /// Usage or bad input (the same code clap uses).
    Usage = 2,
    /// The tool or a dependency broke (network, API, database). The only status worth a retry.
    Runtime = 3,
}

impl ExitStatus {
    /// The numeric code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        Self::from(status.code())
    }
}

/// An error that knows which exit status it maps to and, where there is a fix, a hint.
pub trait Report: std::error::Error {
    /// Usage (2) for bad input, Runtime (3) for a broken dependency.
    fn exit_status(&self) -> ExitStatus;
    /// One line that tells the user how to fix it, printed as `hint: …`.
    fn hint(&self) -> Option<String> {
        None
    }
}

/// A ready-made error for tools: a message, a status, an optional hint and a source chain.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ToolError {
    message: String,
    status: ExitStatus,
    hint: Option<String>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl ToolError {
    /// Bad input (exit 2). The message names the file, line or input and what was expected.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            status: ExitStatus::Usage,
            hint: None,
            source: None,
        }
    }

    /// A broken dependency (exit 3).
    pub fn runtime(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            status: ExitStatus::Runtime,
            hint: None,
            source: None,
        }
    }

    /// Adds a `hint:` line.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds the underlying error.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
}

impl Report for ToolError {
    fn exit_status(&self) -> ExitStatus {
        self.status
    }
    fn hint(&self) -> Option<String> {
        self.hint.clone()
    }
}

impl Report for crate::env::InputError {
    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Usage
    }
}

/// The error and its causes, one per line as `error: …` then `  caused by: …`.
pub fn error_chain(error: &dyn std::error::Error) -> Vec<String> {
    let mut lines = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if lines.last() != Some(&text) {
            lines.push(text);
        }
        source = cause.source();
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_contract() {
        assert_eq!(ExitStatus::Success.code(), 0);
        assert_eq!(ExitStatus::Failed.code(), 1);
        assert_eq!(ExitStatus::Usage.code(), 2);
        assert_eq!(ExitStatus::Runtime.code(), 3);
    }

    #[test]
    fn chain_lists_causes_once() {
        let io = std::io::Error::other("connection refused");
        let err = ToolError::runtime("request to https://h/x failed").with_source(io);
        assert_eq!(
            error_chain(&err),
            vec!["request to https://h/x failed", "connection refused"]
        );
        assert_eq!(err.exit_status(), ExitStatus::Runtime);
    }
}
