//! Findings as workflow-command annotations.

use crate::finding::Finding;
use crate::runner::Annotation;

/// One annotation per finding; the title is the rule (and source), the message carries the help text.
pub fn annotations(findings: &[Finding]) -> Vec<Annotation> {
    findings
        .iter()
        .map(|f| {
            let mut message = f.message.clone();
            if let Some(help) = &f.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            Annotation {
                level: f.level,
                message,
                title: Some(f.display_title()),
                file: f.path.clone(),
                line: f.region.map(|r| r.start_line),
                end_line: f.region.and_then(|r| r.end_line),
                col: f.region.and_then(|r| r.start_column),
                end_column: f.region.and_then(|r| r.end_column),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Level, Region};

    #[test]
    fn maps_location_title_and_help() {
        let f = Finding::new("SC2086", Level::Warning, "double quote to prevent globbing")
            .at(
                "scripts/x.sh",
                Some(Region {
                    start_line: 4,
                    start_column: Some(7),
                    end_line: Some(4),
                    end_column: Some(9),
                }),
            )
            .with_source("shellcheck")
            .with_help("use \"$var\"");
        let a = &annotations(&[f])[0];
        assert_eq!(a.title.as_deref(), Some("shellcheck: SC2086"));
        assert_eq!(a.message, "double quote to prevent globbing\nhelp: use \"$var\"");
        assert_eq!(
            (a.file.as_deref(), a.line, a.end_line, a.col, a.end_column),
            (Some("scripts/x.sh"), Some(4), Some(4), Some(7), Some(9))
        );
    }
}
