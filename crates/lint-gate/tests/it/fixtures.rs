//! Real linters' real output (`tests/fixtures/real/out`, made by `tests/fixtures/real/generate`):
//! the number of findings lint-gate reports equals the tool's own count (`counts.tsv`), every line
//! of text output is understood, and the structured formats are also detected without `format`.

use std::path::PathBuf;

use crate::support::{run, runner, write};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real")
}

struct Row {
    file: String,
    format: String,
    count: usize,
    tool: String,
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(fixtures().join("counts.tsv")).expect("counts.tsv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert!(cols.len() >= 4, "bad counts.tsv line: {line}");
            Row {
                file: cols[0].to_owned(),
                format: cols[1].to_owned(),
                count: cols[2].parse().unwrap_or_else(|_| panic!("count in {line}")),
                tool: cols[3].to_owned(),
            }
        })
        .collect()
}

fn reported(file: &str, source: &str) -> (usize, String) {
    let r = runner()
        .input("reports", source)
        .input("filter-mode", "nofilter")
        .input("fail-level", "none");
    write(
        &r,
        file,
        std::fs::read(fixtures().join("out").join(file)).expect("fixture"),
    );
    let out = run(&r);
    assert_eq!(out.code, Some(0), "{source}: {}", out.stderr);
    let n = out.outputs["findings"].parse().expect("a number");
    (n, out.summary)
}

#[test]
fn counts_match_the_tools_own() {
    let rows = rows();
    assert!(rows.len() >= 15, "fixtures of at least 15 outputs");
    for row in &rows {
        let name = row.file.split(['.', '-']).next().unwrap_or("lint");
        let (n, summary) = reported(&row.file, &format!("{name} [{}]: {}", row.format, row.file));
        assert_eq!(n, row.count, "{} ({}): {summary}", row.file, row.tool);
        assert!(!summary.contains("matched no pattern"), "{}: {summary}", row.file);
    }
}

/// Also pins ruff's default JSON being detected as ESLint's ("missing field `filePath`").
#[test]
fn structured_outputs_are_detected() {
    for row in rows() {
        if !matches!(
            row.format.as_str(),
            "sarif" | "checkstyle" | "cargo" | "eslint" | "ruff-json" | "shellcheck-json"
        ) {
            continue;
        }
        let (n, summary) = reported(&row.file, &row.file);
        assert_eq!(n, row.count, "{} auto-detected: {summary}", row.file);
        assert!(
            summary.contains(&format!("| {} |", row.format)),
            "{}: {summary}",
            row.file
        );
    }
}

#[test]
fn text_outputs_are_detected_by_the_linters_name() {
    for (file, source) in [
        ("mypy.txt", "mypy: mypy.txt"),
        ("shellcheck.txt", "shellcheck.txt"),
        ("tsc.txt", "tsc: tsc.txt"),
        ("yamllint.txt", "yamllint.txt"),
        // what `run: go vet ./... 2>&1` names its source
        ("go-vet.txt", "go-vet: go-vet.txt"),
    ] {
        let want = rows().into_iter().find(|r| r.file == file).expect("row").count;
        let (n, summary) = reported(file, source);
        assert_eq!(n, want, "{file}: {summary}");
    }
}
