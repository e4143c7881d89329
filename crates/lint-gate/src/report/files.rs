//! `sarif-output` and `json-output`.
//!
//! SARIF comes from `ops_core::render::sarif` (rules with descriptions and help, `partialFingerprints`,
//! `%SRCROOT%`-relative URIs), with the rule metadata the reports carried. Code scanning refuses a
//! run with more than 25,000 results, so past that the most severe 25,000 are written and the rest
//! counted in a warning.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::Path;

use ops_core::render::ToolInfo;
use ops_core::render::sarif::SarifResult;
use ops_core::{Finding, RuleInfo, ToolError};
use serde_json::{Value, json};

/// Code scanning's limit on results per run.
pub const SARIF_MAX_RESULTS: usize = 25_000;

/// The write buffer of `sarif-output` and `json-output`.
const WRITE_BYTES: usize = 512 * 1024;

fn create(path: &Path, what: &str) -> Result<BufWriter<std::fs::File>, ToolError> {
    let fail = |e: std::io::Error| {
        ToolError::runtime(format!("cannot write `{what}` to `{}`", path.display())).with_source(e)
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    // megabytes for thousands of findings: a write call per 8 KiB (the default) is hundreds
    Ok(BufWriter::with_capacity(
        WRITE_BYTES,
        std::fs::File::create(path).map_err(fail)?,
    ))
}

/// Writes `skeleton` (compact JSON) with the empty array under `key` replaced by `items`, each
/// serialized straight to the file: no JSON tree per finding, and none of every finding at once.
fn write_spliced<I, T>(
    path: &Path,
    what: &str,
    skeleton: &Value,
    key: &str,
    items: I,
) -> Result<(), ToolError>
where
    I: Iterator<Item = T>,
    T: serde::Serialize,
{
    let fail = |e: std::io::Error| {
        ToolError::runtime(format!("cannot write `{what}` to `{}`", path.display())).with_source(e)
    };
    let text = serde_json::to_string(skeleton).map_err(|e| fail(std::io::Error::other(e)))?;
    let hole = format!("\"{key}\":[]");
    let at = text.find(&hole).ok_or_else(|| {
        fail(std::io::Error::other(format!(
            "no `{key}` array in the rendered document"
        )))
    })?;
    let mut out = create(path, what)?;
    out.write_all(&text.as_bytes()[..at + hole.len() - 1])
        .map_err(fail)?;
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.write_all(b",").map_err(fail)?;
        }
        out.write_all(b"\n").map_err(fail)?;
        serde_json::to_writer(&mut out, &item).map_err(|e| fail(std::io::Error::other(e)))?;
    }
    out.write_all(&text.as_bytes()[at + hole.len() - 1..])
        .map_err(fail)?;
    out.write_all(b"\n").map_err(fail)?;
    out.flush().map_err(fail)
}

/// Writes SARIF; returns how many findings were left out for code scanning's limit.
pub fn write_sarif(
    path: &Path,
    findings: &[Finding],
    rules: &HashMap<String, RuleInfo>,
) -> Result<usize, ToolError> {
    let (kept, dropped): (Cow<'_, [Finding]>, usize) = if findings.len() > SARIF_MAX_RESULTS {
        let mut order: Vec<&Finding> = findings.iter().collect();
        order.sort_by_key(|f| std::cmp::Reverse(f.level));
        let mut kept: Vec<&Finding> = order.into_iter().take(SARIF_MAX_RESULTS).collect();
        kept.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        (
            Cow::Owned(kept.into_iter().cloned().collect()),
            findings.len() - SARIF_MAX_RESULTS,
        )
    } else {
        (Cow::Borrowed(findings), 0)
    };
    // every rule a result names, described by the reports where they did, in first-use order: the
    // document lists them in this order, so a result's `ruleIndex` is its position here
    let mut used: Vec<RuleInfo> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for f in kept.iter() {
        if !index.contains_key(f.rule.as_str()) {
            index.insert(f.rule.as_str(), used.len());
            used.push(
                rules
                    .get(&f.rule)
                    .cloned()
                    .unwrap_or_else(|| RuleInfo::new(&f.rule, &f.rule, f.level)),
            );
        }
    }
    let tool = ToolInfo::ops("lint-gate");
    let skeleton = ops_core::render::sarif::sarif(&tool, &used, &[], None);
    let results = kept
        .iter()
        .map(|f| SarifResult::new(f, index.get(f.rule.as_str()).copied().unwrap_or(0)));
    write_spliced(path, "sarif-output", &skeleton, "results", results)?;
    Ok(dropped)
}

/// Writes lint-gate JSON (version 1).
pub fn write_json_output(path: &Path, findings: &[Finding], passed: bool) -> Result<(), ToolError> {
    let mut skeleton = ops_core::render::json::json(&ToolInfo::ops("lint-gate"), passed, &[]);
    let (errors, warnings, notices) = ops_core::finding::counts(findings);
    skeleton["counts"] = json!({ "error": errors, "warning": warnings, "notice": notices });
    write_spliced(path, "json-output", &skeleton, "findings", findings.iter())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ops_core::{Level, Region};

    #[test]
    fn sarif_uses_report_rules_and_caps_results() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out/x.sarif");
        let mut rule = RuleInfo::new("R1", "no eval", Level::Error);
        rule.help_uri = Some("https://x/R1".into());
        let rules = HashMap::from([("R1".to_owned(), rule)]);
        let mut findings = vec![Finding::new("R1", Level::Error, "m").at("a.js", Some(Region::line(1)))];
        ops_core::finding::assign_fingerprints(&mut findings);
        assert_eq!(write_sarif(&path, &findings, &rules).unwrap(), 0);
        let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            doc["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"],
            "https://x/R1"
        );
        let many: Vec<Finding> = (0..SARIF_MAX_RESULTS + 3)
            .map(|i| {
                Finding::new(
                    "r",
                    if i == 7 { Level::Error } else { Level::Notice },
                    format!("m{i}"),
                )
                .at("a.rs", Some(Region::line(1)))
            })
            .collect();
        assert_eq!(write_sarif(&path, &many, &HashMap::new()).unwrap(), 3);
        let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let results = doc["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), SARIF_MAX_RESULTS);
        assert!(results.iter().any(|r| r["level"] == "error"), "the error is kept");
    }
}
