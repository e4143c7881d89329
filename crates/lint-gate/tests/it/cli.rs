//! The binary end to end without GitHub: inputs, outputs, files, the gate, bad input.

use ops_test::harness::FakeRunner;

use crate::support::{run, runner, sarif, write};

fn local() -> FakeRunner {
    runner().input("filter-mode", "nofilter")
}

#[test]
fn outputs_annotations_and_summary() {
    let r = local()
        .input("reports", "scan.sarif")
        .input("fail-level", "warning");
    write(&r, "scan.sarif", sarif(40));
    let out = run(&r);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(out.outputs["findings"], "40");
    assert_eq!(out.outputs["errors"], "14");
    assert_eq!(out.outputs["warnings"], "13");
    assert_eq!(out.outputs["notices"], "13");
    assert_eq!(out.outputs["filtered"], "0");
    assert_eq!(out.outputs["conclusion"], "failure");
    // 10 per kind shown, the notice budget keeps one slot for the pointer to the rest
    assert_eq!(out.commands_named("error").len(), 10);
    assert_eq!(out.commands_named("warning").len(), 10);
    let notices = out.commands_named("notice");
    assert!(
        notices
            .iter()
            .any(|n| n.message.contains("more annotations are not shown")
                && n.message.contains("see the step summary")),
        "{notices:?}"
    );
    let first = &out.commands_named("error")[0];
    assert_eq!(first.properties["file"], "src/app.rs");
    assert_eq!(first.properties["title"], "scanner: R0");
    assert!(
        out.summary
            .starts_with("### lint-gate: scan\n\nfailed: 27 findings at or above `warning`"),
        "{}",
        out.summary
    );
    assert!(
        out.summary.contains("| scan | sarif | 14 | 13 | 13 | 0 |  |"),
        "{}",
        out.summary
    );
    assert!(
        out.summary.contains("[src/app.rs:1:1](https://github.com/octo/app/blob/0123456789abcdef0123456789abcdef01234567/src/app.rs#L1)"),
        "{}",
        out.summary
    );
}

#[test]
fn sarif_output_is_valid_for_code_scanning_and_json_output_is_a_baseline() {
    let r = local()
        .input("reports", "scan.sarif")
        .input("sarif-output", "out/lint.sarif")
        .input("json-output", "out/lint.json")
        .input("fail-level", "none");
    write(&r, "scan.sarif", sarif(6));
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(r.workspace().join("out/lint.sarif")).unwrap())
            .unwrap();
    let problems = ops_test::sarif::validate(&doc);
    assert!(problems.is_empty(), "{problems:#?}");
    let rules = doc["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(
        rules[0]["shortDescription"]["text"], "rule zero",
        "the report's rule metadata is kept"
    );
    assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), 6);

    // The ratchet: the same findings plus two new ones (one an error, far from any change).
    let mut next: serde_json::Value = serde_json::from_str(&sarif(6)).unwrap();
    let results = next["runs"][0]["results"].as_array_mut().unwrap();
    results.push(serde_json::json!({"ruleId": "R0", "level": "error", "message": {"text": "a new one"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/app.rs"}, "region": {"startLine": 400}}}]}));
    results.push(serde_json::json!({"ruleId": "R2", "level": "note", "message": {"text": "a new note"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/app.rs"}, "region": {"startLine": 401}}}]}));
    // and the old findings moved down by 10 lines: still known
    for r in results.iter_mut().take(6) {
        let line = r["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap();
        r["locations"][0]["physicalLocation"]["region"]["startLine"] = (line + 10).into();
    }
    let r2 = local()
        .input("reports", "scan.sarif")
        .input("baseline", "base/lint.json")
        .input("fail-level", "error");
    write(&r2, "scan.sarif", next.to_string());
    write(
        &r2,
        "base/lint.json",
        std::fs::read(r.workspace().join("out/lint.json")).unwrap(),
    );
    let out = run(&r2);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(out.outputs["findings"], "8");
    assert!(
        out.summary
            .contains("failed: 1 new error at or above `error` (`fail-level`)"),
        "{}",
        out.summary
    );
    assert!(
        out.summary.contains(
            "Baseline: 6 findings; 6 of this run's findings are in it, 2 reported findings are new."
        ),
        "{}",
        out.summary
    );

    // The lint-gate SARIF works as a baseline too; without the new error the gate passes.
    let r3 = local()
        .input("reports", "scan.sarif")
        .input("baseline", "base/lint.sarif")
        .input("fail-level", "warning");
    write(&r3, "scan.sarif", sarif(6));
    write(
        &r3,
        "base/lint.sarif",
        std::fs::read(r.workspace().join("out/lint.sarif")).unwrap(),
    );
    let out = run(&r3);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.summary
            .contains("passed: no new findings (6 already in the baseline)"),
        "{}",
        out.summary
    );
}

#[test]
fn several_linters_in_one_step_from_files_and_commands() {
    let r = local()
        .input(
            "reports",
            "eslint [eslint]: reports/eslint.json\nreports/checkstyle.xml",
        )
        .input(
            "run",
            "shellcheck [shellcheck]: printf 'x.sh:3:6: warning: Double quote to prevent globbing. [SC2086]\\n'; exit 1\nmypy: printf 'a.py:1: error: Name \"x\" is not defined  [name-defined]\\nFound 1 error in 1 file\\n'",
        )
        .input("fail-level", "none");
    write(
        &r,
        "reports/eslint.json",
        r#"[{"filePath": "/nowhere/web/a.js", "messages": [{"ruleId": "semi", "severity": 1, "message": "Missing semicolon.", "line": 1, "column": 9}]}]"#,
    );
    write(
        &r,
        "reports/checkstyle.xml",
        r#"<?xml version="1.0"?><checkstyle><file name="Dockerfile"><error line="2" severity="info" message="m" source="DL3015"/></file></checkstyle>"#,
    );
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.outputs["findings"], "4");
    for row in [
        "| eslint | eslint | 0 | 1 | 0 | 0 |  |",
        "| checkstyle | checkstyle | 0 | 0 | 1 | 0 |  |",
        "| shellcheck | shellcheck | 0 | 1 | 0 | 0 | 1 |",
        "| mypy | mypy | 1 | 0 | 0 | 0 | 0 |",
    ] {
        assert!(out.summary.contains(row), "{row}\n{}", out.summary);
    }
    assert_eq!(out.outputs["conclusion"], "neutral");
}

#[test]
fn paths_are_made_relative_to_the_repository() {
    let r = local().input("working-directory", "packages/web");
    let abs = r.workspace().join("packages/web/src/b.ts");
    let report = format!(
        "{{\"message\": \"a\", \"location\": {{\"path\": \"./src/a.ts\", \"range\": {{\"start\": {{\"line\": 1}}}}}}}}\n\
         {{\"message\": \"b\", \"location\": {{\"path\": \"{}\", \"range\": {{\"start\": {{\"line\": 2}}}}}}}}\n",
        abs.display()
    );
    write(&r, "packages/web/lint.jsonl", report);
    let out = run(&r.input("reports", "lint.jsonl").input("fail-level", "none"));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let files: Vec<&str> = out
        .commands_named("error")
        .iter()
        .map(|c| c.properties["file"].as_str())
        .collect();
    assert_eq!(files, vec!["packages/web/src/a.ts", "packages/web/src/b.ts"]);
}

#[test]
fn unknown_severities_are_mapped_explicitly() {
    let r = local()
        .input("reports", "c.xml")
        .input("unknown-level", "warning")
        .input("fail-level", "error");
    write(
        &r,
        "c.xml",
        r#"<checkstyle><file name="a"><error line="1" severity="catastrophic" message="m"/></file></checkstyle>"#,
    );
    let out = run(&r);
    assert_eq!(
        out.code,
        Some(0),
        "warning is below the fail level: {}",
        out.stderr
    );
    assert_eq!(out.outputs["warnings"], "1");
    assert!(
        out.summary
            .contains("1 finding had no recognised severity and count as `warning` (`unknown-level`)."),
        "{}",
        out.summary
    );
}

#[test]
fn max_findings() {
    let r = local()
        .input("reports", "scan.sarif")
        .input("fail-level", "none")
        .input("max-findings", "4");
    write(&r, "scan.sarif", sarif(5));
    let out = run(&r);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.summary
            .contains("failed: 5 findings, more than `max-findings` (4)"),
        "{}",
        out.summary
    );
}

/// Bad input is exit 2 with a message naming the source, line and byte offset, and nothing is
/// reported.
#[test]
fn bad_input_is_exit_2_and_reports_nothing() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "reports",
            "broken.sarif",
            "{\"version\": \"2.1.0\", \"runs\": [{\"results\": [\n{\"ruleId\": 1}]}]}",
            "`broken.sarif` is not valid SARIF (line 2, column 13, byte 61): invalid type: integer `1`, expected a string",
        ),
        (
            "reports",
            "cut.sarif",
            "{\"version\": \"2.1.0\", \"runs\": [{\"results\": [",
            "was it cut short?",
        ),
        (
            "reports",
            "keys.json",
            "{\"foo\": 1}",
            "JSON with the keys `foo`: not SARIF",
        ),
        (
            "reports",
            "out.txt",
            "Traceback (most recent call last):\n  boom\n",
            "2 lines matched no pattern and no finding was read; the first: `Traceback (most recent call last):`",
        ),
        ("reports", "empty.sarif", "", ""),
        (
            "reports",
            "nothing/*.json",
            "",
            "`reports` pattern `nothing/*.json` matched no file",
        ),
        ("format", "yaml", "", "input `format`: unknown format `yaml`"),
        (
            "errorformat",
            "%f:%q",
            "",
            "input `errorformat`: errorformat `%f:%q`: unknown conversion `%q`",
        ),
        ("reporters", "slack", "", "unknown reporter `slack`"),
        (
            "filter-mode",
            "lines",
            "",
            "input `filter-mode` must be one of `added`, `diff_context`, `file`, `nofilter`, got `lines`",
        ),
        (
            "reports",
            "bad.bin",
            "\u{0}\u{1}\u{ff}binary",
            "matched no pattern",
        ),
    ];
    for (input, value, content, want) in cases {
        let mut r = local();
        if *input == "reports" {
            if !content.is_empty() || value.ends_with(".sarif") {
                write(&r, value, content);
            }
            r = r.input("reports", *value);
        } else {
            write(&r, "ok.sarif", sarif(1));
            r = r.input("reports", "ok.sarif").input(input, *value);
        }
        let r = if *value == "empty.sarif" {
            r.input("format", "sarif")
        } else {
            r
        };
        let out = run(&r);
        assert_eq!(out.code, Some(2), "{input}={value}: {}", out.stderr);
        // annotation data is escaped (`%` → `%25`): read the decoded messages too
        let text = out
            .commands_named("error")
            .iter()
            .map(|c| c.message.clone())
            .chain([out.stderr.clone()])
            .collect::<Vec<_>>()
            .join("\n");
        assert!(text.contains(want), "{input}={value}: want {want:?} in\n{text}");
        assert!(out.summary.is_empty(), "nothing reported: {}", out.summary);
        assert!(!out.outputs.contains_key("findings"), "no outputs on bad input");
    }
}

#[test]
fn a_command_that_fails_without_findings_is_exit_3() {
    let r = local().input("run", "mypy: echo 'mypy: error: cannot read config' >&2; exit 2");
    let out = run(&r);
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(
        out.stderr.contains("`mypy` exited with 2 and reported no finding; its last error line: `mypy: error: cannot read config`"),
        "{}",
        out.stderr
    );
    // the command's standard error is shown, but cannot run workflow commands
    assert!(out.stderr.contains("::stop-commands::"), "{}", out.stderr);
}

/// Pins exit 2 and a garbled message (``` ``ruff` output` is not valid SARIF … EOF ```) for a `run:`
/// linter with a named format that failed and printed nothing: the tool failed, exit 3.
#[test]
fn a_command_with_a_format_that_fails_printing_nothing_is_exit_3() {
    for line in [
        "ruff [sarif]: echo 'ruff failed: pyproject.toml: TOML parse error' >&2; exit 2",
        "ruff [ruff-json]: echo; echo 'ruff failed: pyproject.toml: TOML parse error' >&2; exit 2",
    ] {
        let out = run(&local().input("run", line));
        assert_eq!(out.code, Some(3), "{line}: {}", out.stderr);
        assert!(
            out.stderr.contains("`ruff` exited with 2 and reported no finding; its last error line: `ruff failed: pyproject.toml: TOML parse error`"),
            "{line}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("``"), "{line}: {}", out.stderr);
    }
    // Output that is not the format named is still bad input, its label quoted once.
    let out = run(&local().input("run", "ruff [sarif]: echo '{'; exit 1"));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("`ruff` output is not valid SARIF"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_clean_command_passes() {
    let r = local().input("run", "shellcheck [shellcheck]: true");
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.outputs["findings"], "0");
    assert_eq!(out.outputs["conclusion"], "success");
    assert!(out.summary.contains("No findings."), "{}", out.summary);
}

#[test]
fn nothing_to_read_is_exit_2() {
    let out = run(&local());
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .contains("nothing to read: `reports` and `run` are both empty"),
        "{}",
        out.stderr
    );
}

#[test]
fn help_lists_every_input() {
    let out = runner().run(crate::support::bin(), &["--help"]).unwrap();
    assert_eq!(out.code, Some(0));
    for input in [
        "REPORTS",
        "RUN",
        "FORMAT",
        "ERRORFORMAT",
        "WORKING_DIRECTORY",
        "FILTER_MODE",
        "FAIL_LEVEL",
        "MAX_FINDINGS",
        "UNKNOWN_LEVEL",
        "BASELINE",
        "REPORTERS",
        "NAME",
        "GITHUB_TOKEN",
        "SARIF_OUTPUT",
        "JSON_OUTPUT",
        "MAX_COMMENTS",
    ] {
        assert!(out.stdout.contains(&format!("INPUT_{input}")), "{input}");
    }
}
