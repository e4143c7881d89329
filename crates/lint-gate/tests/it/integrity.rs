//! What a pull request controls (report file names, a linter's text) cannot run workflow commands or
//! break the summary, a secret never reaches a report, and odd but valid input never panics.

use ops_test::harness::{FakeRunner, RunOutput};
use serde_json::json;

use crate::support::{TOKEN, run, runner, write};

fn local() -> FakeRunner {
    runner()
        .input("filter-mode", "nofilter")
        .input("fail-level", "none")
}

/// One result at `uri` with `message`, and `region` as given.
fn one_result(uri: &str, message: &str, region: serde_json::Value) -> String {
    json!({
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "scanner"}}, "results": [{
            "ruleId": "R1",
            "level": "error",
            "message": {"text": message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": uri},
                "region": region
            }}]
        }]}]
    })
    .to_string()
}

/// The commands the runner would run: everything parsed outside `::stop-commands::` fences.
fn names(out: &RunOutput) -> Vec<String> {
    out.commands.iter().map(|c| c.name.clone()).collect()
}

/// Report file names were printed raw in the info line and the summary heading: a pull request that
/// adds `x\n::error::…`, `::add-mask::…` or `::stop-commands::…` under a `reports: "**/*.sarif"`
/// ran those commands (and a stop-commands silenced every later annotation of the step).
#[test]
fn report_file_names_cannot_run_workflow_commands_or_break_the_summary() {
    let r = local().input("reports", "reports/*.sarif");
    let clean = one_result("src/app.rs", "real finding", json!({"startLine": 1}));
    for name in [
        "reports/a\n::error::forged by a file name\n.sarif",
        "reports/b\r::add-mask::finding.sarif",
        "reports/::stop-commands::silence.sarif",
        "reports/d\n### passed [ok](evil.example).sarif",
    ] {
        write(&r, name, &clean);
    }
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let names = names(&out);
    assert!(
        names
            .iter()
            .all(|n| ["error", "group", "endgroup"].contains(&n.as_str())),
        "only the findings' annotations run: {names:?}\n{}",
        out.stderr
    );
    // the four real findings are still annotated: nothing stopped the commands
    let errors = out.commands_named("error");
    assert_eq!(errors.len(), 4, "{}", out.stderr);
    assert!(errors.iter().all(|e| e.message == "real finding"), "{errors:?}");
    assert!(
        out.stderr
            .contains("reports/a\\n::error::forged by a file name\\n.sarif: 1 finding read as sarif"),
        "the name is shown on one line: {}",
        out.stderr
    );
    // the heading stays one line, and no name starts a heading, a list item or a link of its own
    let mut lines = out.summary.lines();
    let heading = lines.next().unwrap();
    assert!(heading.starts_with("### lint-gate: "), "{}", out.summary);
    assert_eq!(lines.next(), Some(""), "{}", out.summary);
    assert!(
        !out.summary.lines().skip(1).any(|l| l.starts_with('#')) && !out.summary.contains("[ok]("),
        "{}",
        out.summary
    );
}

/// NUL bytes (and other control characters) in a SARIF `uri` or message reached the log and the
/// summary raw.
#[test]
fn control_characters_in_a_report_are_shown_as_escapes() {
    let r = local()
        .input("reports", "scan.sarif")
        .input("json-output", "out/lint.json")
        .input("sarif-output", "out/lint.sarif");
    write(
        &r,
        "scan.sarif",
        one_result(
            "src/a%00b.rs",
            "bad\u{0}thing\u{1b}[2K\nsecond line",
            json!({"startLine": 3}),
        ),
    );
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for (artefact, text) in [("log", &out.stderr), ("summary", &out.summary)] {
        assert!(
            !text.contains(['\u{0}', '\u{1b}']),
            "raw control characters in the {artefact}: {text:?}"
        );
    }
    let error = &out.commands_named("error")[0];
    assert_eq!(error.message, "bad\\0thing\\u{1b}[2K\nsecond line");
    assert_eq!(error.properties["file"], "src/a\\0b.rs");
    // the files are JSON, which escapes them itself
    let json = std::fs::read_to_string(r.workspace().join("out/lint.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        doc["findings"][0]["message"],
        "bad\u{0}thing\u{1b}[2K\nsecond line"
    );
}

/// `json-output` and `sarif-output` were written unredacted while the summary was redacted: a linter
/// that quotes a masked value (here the token itself) put it in the files.
#[test]
fn the_files_are_redacted_like_the_summary() {
    let r = local()
        .input("reports", "scan.sarif")
        .input("github-token", TOKEN)
        .input("json-output", "out/lint.json")
        .input("sarif-output", "out/lint.sarif");
    write(
        &r,
        "scan.sarif",
        one_result(
            &format!("src/{TOKEN}.rs"),
            &format!("hard-coded token `{TOKEN}`"),
            json!({"startLine": 1}),
        ),
    );
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let json = std::fs::read_to_string(r.workspace().join("out/lint.json")).unwrap();
    let sarif = std::fs::read_to_string(r.workspace().join("out/lint.sarif")).unwrap();
    for (artefact, text) in [
        ("json-output", &json),
        ("sarif-output", &sarif),
        ("summary", &out.summary),
    ] {
        assert!(!text.contains(TOKEN), "the token in {artefact}: {text}");
        assert!(text.contains("hard-coded token `***`"), "{artefact}: {text}");
    }
    let doc: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let problems = ops_test::sarif::validate(&doc);
    assert!(problems.is_empty(), "{problems:#?}");
}

/// A SARIF `endColumn` of 4294967296 with `sarif-output` set panicked (exit 101) in ops-core's
/// renderer; it is a valid (if odd) column and is written back as it was read.
#[test]
fn an_end_column_past_u32_is_written_back_without_a_panic() {
    let r = local()
        .input("reports", "scan.sarif")
        .input("sarif-output", "out/lint.sarif");
    write(
        &r,
        "scan.sarif",
        one_result(
            "src/app.rs",
            "wide",
            json!({"startLine": 2, "startColumn": 1, "endLine": 2, "endColumn": 4_294_967_296_u64}),
        ),
    );
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(r.workspace().join("out/lint.sarif")).unwrap())
            .unwrap();
    let region = &doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["endColumn"], 4_294_967_296_u64, "{region}");
    let problems = ops_test::sarif::validate(&doc);
    assert!(problems.is_empty(), "{problems:#?}");
}
