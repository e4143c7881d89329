//! What a run leaves behind: the JUnit report ([`junit`]), the step summary ([`summary`]), and
//! annotations on the checks file lines that failed ([`annotations`]). Every text passes through the
//! runner's redaction before it is written.

pub mod junit;
pub mod summary;

use ops_core::Level;
use ops_core::runner::Annotation;

use crate::outcome::{Case, Status};

/// Facts about the run that every report shows.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// Environment name.
    pub environment: String,
    /// Base URL, redacted.
    pub base_url: Option<String>,
    /// Expected version.
    pub expected_version: Option<String>,
}

/// One error annotation per failed assertion (at its line) or errored case, most useful first.
pub fn annotations(cases: &[Case], redact: &dyn Fn(&str) -> String) -> Vec<Annotation> {
    let mut out = Vec::new();
    for case in cases {
        let title = format!("smoke-test: {}", redact(&case.name));
        match case.status() {
            Status::Failed => {
                for f in &case.failures {
                    let mut a = Annotation::new(Level::Error, redact(&format!("{}: {}", f.field, f.message)));
                    a.title = Some(title.clone());
                    a.file = case.file.clone();
                    a.line = f.line.or(case.line).filter(|_| case.file.is_some());
                    out.push(a);
                }
            }
            Status::Error => {
                let mut a = Annotation::new(Level::Error, redact(&case.problem()));
                a.title = Some(title);
                a.file = case.file.clone();
                a.line = case.line.filter(|_| case.file.is_some());
                out.push(a);
            }
            Status::Skipped | Status::Passed => {
                for note in case.notes.iter().filter(|n| n.contains("not gating")) {
                    let mut a = Annotation::new(Level::Notice, redact(note));
                    a.title = Some(title.clone());
                    a.file = case.file.clone();
                    a.line = case.line.filter(|_| case.file.is_some());
                    out.push(a);
                }
            }
        }
    }
    out
}
