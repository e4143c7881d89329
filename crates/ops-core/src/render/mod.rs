//! Renderers of the one Finding model. Each is a pure function of the findings.
//!
//! - [`annotations`]: workflow-command annotations (the runner applies the 10-per-kind budget);
//! - [`summary`]: the Markdown step summary;
//! - [`sarif`]: SARIF 2.1.0 that GitHub code scanning accepts;
//! - [`junit`]: JUnit XML that test reporters read;
//! - [`json`]: the versioned JSON document (`version: 1`).

pub mod annotations;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod summary;

/// The producing tool, for SARIF `tool.driver` and report headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolInfo {
    /// Name (`lint-gate`, or a linter's name for findings passed through).
    pub name: String,
    /// Version.
    pub version: String,
    /// Where to read about it.
    pub information_uri: String,
}

impl ToolInfo {
    /// An ops-actions tool at the workspace version.
    pub fn ops(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            information_uri: format!("https://github.com/ops-actions/ops-actions/tree/main/actions/{name}"),
        }
    }
}
