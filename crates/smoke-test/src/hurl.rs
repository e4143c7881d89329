//! Existing `.hurl` files, run by a `hurl` binary when one is installed, so nobody has to rewrite them.
//!
//! hurl runs once with `--test --report-junit`; its JUnit report is read back (quick-junit) and each
//! testcase becomes a case of ours, with the `.hurl` file and the line hurl names in its failure text.
//! `base_url` is passed as a hurl variable. hurl's own log is untrusted text: it is redacted and printed
//! inside stop-commands.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ops_core::render::junit::quick_junit::{NonSuccessKind, Report, TestCaseStatus};
use ops_core::{Env, Runner};

use crate::asserts::Failure;
use crate::error::Error;
use crate::outcome::{Case, CaseError, CaseKind};

/// `hurl` on the captured `PATH`, if any.
pub fn find(env: &Env) -> Option<PathBuf> {
    let path = env.var("PATH")?;
    std::env::split_paths(path)
        .map(|dir| dir.join("hurl"))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// Expands the `hurl` input (paths or globs, relative to the workspace) into files: (as shown, path).
pub fn expand(patterns: &[String], workspace: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
    let mut files = Vec::new();
    for pattern in patterns.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let absolute = if Path::new(pattern).is_absolute() {
            PathBuf::from(pattern)
        } else {
            workspace.join(pattern)
        };
        let matches = glob::glob(&absolute.to_string_lossy()).map_err(|e| Error::HurlFiles {
            message: format!("`{pattern}` is not a valid glob ({e})"),
        })?;
        let mut found = 0;
        for entry in matches.flatten() {
            if entry.is_file() {
                let shown = entry
                    .strip_prefix(workspace)
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_else(|_| entry.to_string_lossy().into_owned());
                if !files.iter().any(|(s, _)| *s == shown) {
                    files.push((shown, entry));
                }
                found += 1;
            }
        }
        if found == 0 {
            return Err(Error::HurlFiles {
                message: format!("`{pattern}` matches no file"),
            });
        }
    }
    Ok(files)
}

/// Runs hurl over `files` and turns its JUnit report into cases.
pub async fn run(
    hurl: &Path,
    files: &[(String, PathBuf)],
    base_url: Option<&str>,
    env: &Env,
    runner: &Runner,
    workdir: &Path,
) -> Result<Vec<Case>, Error> {
    let report_path = workdir.join("hurl-junit.xml");
    let mut command = tokio::process::Command::new(hurl);
    command
        .arg("--test")
        .arg("--no-color")
        .arg("--report-junit")
        .arg(&report_path);
    if let Some(base) = base_url {
        command.arg("--variable").arg(format!("base_url={base}"));
    }
    command
        // relative paths (hurl runs in the workspace) keep runner paths out of its messages
        .args(files.iter().map(|(shown, path)| {
            if Path::new(shown).is_relative() {
                PathBuf::from(shown)
            } else {
                path.clone()
            }
        }))
        .env_clear()
        .envs(env.vars())
        .current_dir(env.workspace())
        .kill_on_drop(true);
    let started = Instant::now();
    let output = command.output().await.map_err(|source| Error::System {
        what: format!("cannot run `{}`", hurl.display()),
        source,
    })?;
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !log.trim().is_empty() {
        runner.untrusted(&runner.redact(&log));
    }
    let xml = std::fs::read_to_string(&report_path).map_err(|e| Error::HurlReport {
        message: format!(
            "exit {}, no report at `{}`: {e}",
            output
                .status
                .code()
                .map_or_else(|| "by signal".to_owned(), |c| c.to_string()),
            report_path.display()
        ),
    })?;
    let report = Report::deserialize_from_str(&name_suites(&xml)).map_err(|e| Error::HurlReport {
        message: e.to_string(),
    })?;
    Ok(cases_from(&report, files, started.elapsed()))
}

/// hurl 8 writes `<testsuite>` without the `name` attribute that JUnit readers (and quick-junit's
/// parser) require; give each unnamed suite the name `hurl`.
pub fn name_suites(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len() + 32);
    let mut rest = xml;
    while let Some(at) = rest.find("<testsuite") {
        let (before, tag_and_after) = rest.split_at(at);
        out.push_str(before);
        let after_name = &tag_and_after["<testsuite".len()..];
        let is_suite = after_name.starts_with([' ', '>', '/', '\n', '\t', '\r']);
        let tag_end = tag_and_after.find('>').unwrap_or(tag_and_after.len());
        let tag = &tag_and_after[..tag_end];
        out.push_str("<testsuite");
        if is_suite && !tag.contains(" name=") {
            out.push_str(" name=\"hurl\"");
        }
        rest = after_name;
    }
    out.push_str(rest);
    out
}

/// Maps hurl's JUnit testcases to cases; each is matched to its file by name.
pub fn cases_from(report: &Report, files: &[(String, PathBuf)], total: Duration) -> Vec<Case> {
    let mut cases = Vec::new();
    for suite in &report.test_suites {
        for tc in &suite.test_cases {
            let name = tc.name.as_str();
            let shown = files
                .iter()
                .find(|(shown, path)| {
                    name == shown || Path::new(name) == path.as_path() || name.ends_with(shown.as_str())
                })
                .map_or_else(|| name.to_owned(), |(shown, _)| shown.clone());
            let mut case = Case::new(shown.clone(), CaseKind::Hurl);
            case.file = Some(shown.clone());
            case.line = Some(1);
            case.time = tc
                .time
                .unwrap_or(total / u32::try_from(files.len().max(1)).unwrap_or(1));
            match &tc.status {
                TestCaseStatus::Success { .. } => {}
                TestCaseStatus::Skipped { message, .. } => {
                    case.skipped = Some(message.as_ref().map_or("skipped".to_owned(), |m| m.to_string()));
                }
                TestCaseStatus::NonSuccess {
                    kind,
                    message,
                    description,
                    ty,
                    ..
                } => {
                    let text = description
                        .as_ref()
                        .map(|d| d.to_string())
                        .or_else(|| message.as_ref().map(|m| m.to_string()))
                        .unwrap_or_default();
                    let line = failure_line(&text);
                    let summary = summarize(&text);
                    if line.is_some() {
                        case.line = line;
                    }
                    match kind {
                        NonSuccessKind::Failure => case.failures.push(Failure {
                            line: case.line,
                            field: "hurl".to_owned(),
                            kind: "hurl",
                            message: summary,
                        }),
                        NonSuccessKind::Error => {
                            case.error = Some(CaseError {
                                kind: ty.as_ref().map_or("hurl error".to_owned(), |t| t.to_string()),
                                message: summary,
                            });
                        }
                    }
                    case.notes.push(text.trim().to_owned());
                }
            }
            cases.push(case);
        }
    }
    cases
}

/// The line hurl points at: `--> file.hurl:12:6`.
fn failure_line(text: &str) -> Option<u32> {
    text.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("-->")?.trim();
        let mut parts = rest.rsplitn(3, ':');
        let _col = parts.next()?;
        parts.next()?.parse().ok()
    })
}

/// One line from hurl's failure text: its title, then what it expected and got, or the reason it
/// points at (`^^^ (7) Failed to connect…`).
fn summarize(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let title = lines
        .iter()
        .find(|l| !l.is_empty())
        .map_or("failed", |l| l.strip_prefix("error: ").unwrap_or(l));
    let after = |marker: &str| {
        lines.iter().find_map(|l| {
            let at = l.find(marker)?;
            Some(l[at + marker.len()..].trim().to_owned()).filter(|v| !v.is_empty())
        })
    };
    match (after("expected:"), after("actual:")) {
        (Some(expected), Some(actual)) => format!("{title}: expected {expected}, actual {actual}"),
        (Some(expected), None) => format!("{title}: expected {expected}"),
        _ => match lines.iter().find_map(|l| {
            l.rfind('^')
                .map(|at| l[at + 1..].trim())
                .filter(|r| !r.is_empty())
        }) {
            Some(reason) => format!("{title}: {reason}"),
            None => title.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What hurl 8.0.1 wrote for a failed assert and a passing file (recorded from a real run).
    const HURL_JUNIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?><testsuites><testsuite tests="2" errors="0" failures="1"><testcase id="smoke/bad.hurl" name="smoke/bad.hurl" time="0.001"><failure>Assert failure
  --&gt; smoke/bad.hurl:5:0
   |
   | GET {{base_url}}/index.html
   | ...
 5 | body contains "goodbye"
   |   actual:   string &lt;hello
   |&gt;
   |   expected: contains string &lt;goodbye&gt;
   |</failure></testcase><testcase id="smoke/ok.hurl" name="smoke/ok.hurl" time="0.001" /></testsuite></testsuites>"#;

    /// What hurl 8.0.1 wrote for a refused connection (recorded from a real run).
    const HURL_JUNIT_ERROR: &str = r#"<?xml version="1.0" encoding="UTF-8"?><testsuites><testsuite tests="1" errors="1" failures="0"><testcase id="smoke/refused.hurl" name="smoke/refused.hurl" time="0.000"><error>HTTP connection
  --&gt; smoke/refused.hurl:1:5
   |
 1 | GET http://127.0.0.1:1/
   |     ^^^^^^^^^^^^^^^^^^^ (7) Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server
   |</error></testcase></testsuite></testsuites>"#;

    #[test]
    fn reads_hurl_reports() {
        let report = Report::deserialize_from_str(&name_suites(HURL_JUNIT)).unwrap();
        let files = vec![
            ("smoke/ok.hurl".to_owned(), PathBuf::from("/w/smoke/ok.hurl")),
            ("smoke/bad.hurl".to_owned(), PathBuf::from("/w/smoke/bad.hurl")),
        ];
        let cases = cases_from(&report, &files, Duration::from_millis(40));
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].line, Some(5));
        assert_eq!(cases[0].file.as_deref(), Some("smoke/bad.hurl"));
        assert_eq!(
            cases[0].failures[0].message,
            "Assert failure: expected contains string <goodbye>, actual string <hello"
        );
        assert_eq!(cases[0].status(), crate::outcome::Status::Failed);
        assert_eq!(cases[1].status(), crate::outcome::Status::Passed);

        let report = Report::deserialize_from_str(&name_suites(HURL_JUNIT_ERROR)).unwrap();
        let files = vec![(
            "smoke/refused.hurl".to_owned(),
            PathBuf::from("/w/smoke/refused.hurl"),
        )];
        let cases = cases_from(&report, &files, Duration::from_millis(1));
        assert_eq!(cases[0].status(), crate::outcome::Status::Error);
        assert_eq!(cases[0].line, Some(1));
        assert_eq!(
            cases[0].problem(),
            "hurl error: HTTP connection: (7) Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server"
        );
    }

    #[test]
    fn unnamed_suites_get_a_name() {
        assert_eq!(
            name_suites("<testsuites><testsuite tests=\"1\"><testcase/></testsuite></testsuites>"),
            "<testsuites><testsuite name=\"hurl\" tests=\"1\"><testcase/></testsuite></testsuites>"
        );
        let named = "<testsuites><testsuite name=\"a\"></testsuite></testsuites>";
        assert_eq!(name_suites(named), named);
        assert_eq!(name_suites("<testsuite>"), "<testsuite name=\"hurl\">");
    }

    #[test]
    fn failure_line_table() {
        assert_eq!(failure_line("x\n  --> a/b.hurl:12:6\n"), Some(12));
        assert_eq!(failure_line("--> C:/w/b.hurl:3:1"), Some(3));
        assert_eq!(failure_line("no pointer"), None);
    }
}
