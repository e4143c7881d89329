//! Findings as JUnit XML (via `quick-junit`), readable by dorny/test-reporter and
//! mikepenz/action-junit-report: a named suite with counts and time, one testcase per finding with `file`
//! and `line` attributes (which those reporters turn into annotations), and one passing testcase per
//! checked file that had no finding, so "14 files, 2 failed" is visible.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::finding::{Finding, Level};

pub use quick_junit;

/// Builds a report: findings at or above `fail_level` are `<failure>`s; below it they pass with the
/// message in `system-out`. `checked` lists files that were examined (clean ones become passing cases).
pub fn junit(suite_name: &str, findings: &[Finding], checked: &[String], fail_level: Level) -> Report {
    let mut suite = TestSuite::new(suite_name);
    for f in findings {
        let location = f.location().unwrap_or_else(|| "(no file)".to_owned());
        let name = format!("{} at {location}", f.rule);
        let status = if f.level >= fail_level {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_type(f.rule.as_str()).set_message(f.message.as_str());
            let mut description = format!("{}: {}", f.level, f.message);
            if let Some(help) = &f.help {
                description.push_str("\nhelp: ");
                description.push_str(help);
            }
            status.set_description(description);
            status
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(name, status);
        case.set_classname(f.path.clone().unwrap_or_else(|| suite_name.to_owned()));
        if let Some(path) = &f.path {
            case.extra.insert("file".into(), path.as_str().into());
        }
        if let Some(region) = f.region {
            case.extra
                .insert("line".into(), region.start_line.to_string().into());
        }
        if f.level < fail_level {
            case.set_system_out(format!("{}: {}", f.level, f.message));
        }
        suite.add_test_case(case);
    }
    for path in checked {
        if !findings.iter().any(|f| f.path.as_deref() == Some(path.as_str())) {
            let mut case = TestCase::new(format!("{suite_name} {path}"), TestCaseStatus::success());
            case.set_classname(path.as_str());
            case.extra.insert("file".into(), path.as_str().into());
            suite.add_test_case(case);
        }
    }
    let mut report = Report::new(suite_name);
    report.add_test_suite(suite);
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Region;

    #[test]
    fn failures_files_and_counts() {
        let findings = vec![
            Finding::new("E1", Level::Error, "bad & <worse>")
                .at("src/a.ts", Some(Region::line(9)))
                .with_help("fix it"),
            Finding::new("W1", Level::Warning, "meh").at("src/b.ts", Some(Region::line(1))),
        ];
        let report = junit(
            "eslint",
            &findings,
            &["src/a.ts".into(), "src/c.ts".into()],
            Level::Error,
        );
        let xml = report.to_string().unwrap();
        assert!(
            xml.contains(r#"<testsuites name="eslint" tests="3" skipped="0" failures="1" errors="0">"#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testsuite name="eslint" tests="3" skipped="0" errors="0" failures="1">"#),
            "{xml}"
        );
        assert!(
            xml.contains(
                r#"<testcase name="E1 at src/a.ts:9" classname="src/a.ts" file="src/a.ts" line="9">"#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(
                r#"<failure message="bad &amp; &lt;worse&gt;" type="E1">error: bad &amp; &lt;worse&gt;"#
            ),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testcase name="eslint src/c.ts" classname="src/c.ts" file="src/c.ts"/>"#),
            "{xml}"
        );
        assert!(
            !xml.contains("eslint src/a.ts"),
            "a file with findings is not also listed as clean"
        );
    }
}
