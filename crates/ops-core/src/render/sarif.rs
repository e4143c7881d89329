//! Findings as SARIF 2.1.0, shaped for GitHub code scanning (`github/codeql-action/upload-sarif`).
//!
//! What code scanning reads and we therefore always write: `tool.driver.name` and `semanticVersion`; one
//! `rules[]` entry per rule id used, with `shortDescription`, `fullDescription`, `help` (text and
//! Markdown), `helpUri`, `defaultConfiguration.level` and `properties.tags` / `security-severity`;
//! results with `ruleId` + `ruleIndex`, `level`, `message.text`, a `physicalLocation` whose `uri` is
//! relative to `%SRCROOT%` and percent-encoded, a 1-based region, and `partialFingerprints` so alerts
//! keep their identity across commits. `automationDetails.id` carries the category, so two SARIF uploads
//! for one commit (lint and security) do not replace each other.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Value, json};

use super::ToolInfo;
use super::summary::encode_path;
use crate::finding::{Finding, RuleInfo};

/// The `partialFingerprints` key our fingerprints are stored under.
pub const FINGERPRINT_KEY: &str = "opsFingerprint/v1";

/// Renders one SARIF run. `rules` describes known rules; a rule id used by a finding but not described
/// gets a minimal entry, so every `ruleIndex` resolves. `category` becomes `automationDetails.id`.
pub fn sarif(tool: &ToolInfo, rules: &[RuleInfo], findings: &[Finding], category: Option<&str>) -> Value {
    let mut rule_list: Vec<RuleInfo> = Vec::new();
    for finding in findings {
        if !rule_list.iter().any(|r| r.id == finding.rule) {
            let known = rules.iter().find(|r| r.id == finding.rule).cloned();
            rule_list
                .push(known.unwrap_or_else(|| RuleInfo::new(&finding.rule, &finding.rule, finding.level)));
        }
    }
    // Described rules that produced no finding are listed too: code scanning shows them as "rules run".
    for rule in rules {
        if !rule_list.iter().any(|r| r.id == rule.id) {
            rule_list.push(rule.clone());
        }
    }
    let rules_json: Vec<Value> = rule_list.iter().map(rule_json).collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let index = rule_list.iter().position(|r| r.id == f.rule).unwrap_or(0);
            result_json(f, index)
        })
        .collect();
    let mut run = json!({
        "tool": { "driver": {
            "name": tool.name,
            "semanticVersion": tool.version,
            "informationUri": tool.information_uri,
            "rules": rules_json,
        }},
        "columnKind": "utf16CodeUnits",
        "originalUriBaseIds": { "%SRCROOT%": { "description": { "text": "the repository root" } } },
        "results": results,
    });
    if let Some(category) = category {
        run["automationDetails"] = json!({ "id": format!("{}/", category.trim_end_matches('/')) });
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    })
}

fn rule_json(rule: &RuleInfo) -> Value {
    let help_text = rule
        .help
        .clone()
        .unwrap_or_else(|| rule.short_description.clone());
    let mut properties = json!({ "tags": rule.tags });
    if let Some(severity) = rule.security_severity {
        // code scanning reads security-severity as a string holding a number from 0.0 to 10.0
        properties["security-severity"] = json!(format!("{severity:.1}"));
    }
    let mut value = json!({
        "id": rule.id,
        "name": rule_name(&rule.id),
        "shortDescription": { "text": rule.short_description },
        "fullDescription": { "text": rule.short_description },
        "help": { "text": help_text, "markdown": help_text },
        "defaultConfiguration": { "level": rule.default_level.sarif() },
        "properties": properties,
    });
    if let Some(uri) = &rule.help_uri {
        value["helpUri"] = json!(uri);
    }
    value
}

/// SARIF's `name` is meant to be an identifier-like PascalCase word: `no-unused-vars` → `NoUnusedVars`.
fn rule_name(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn result_json(f: &Finding, rule_index: usize) -> Value {
    serde_json::to_value(SarifResult::new(f, rule_index)).unwrap_or(Value::Null)
}

/// One SARIF `result`, serialized straight from the finding: what [`sarif`] puts in `results`, for
/// writers that stream results one at a time instead of building a document. Keys come out in the
/// order [`sarif`]'s documents have (sorted), so both write the same bytes.
#[derive(Debug, Clone, Copy)]
pub struct SarifResult<'a> {
    finding: &'a Finding,
    rule_index: usize,
}

impl<'a> SarifResult<'a> {
    /// `finding` as a result whose rule is `rules[rule_index]` of the run.
    pub fn new(finding: &'a Finding, rule_index: usize) -> Self {
        Self { finding, rule_index }
    }
}

#[derive(Serialize)]
struct ResultOut<'a> {
    level: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    locations: Option<[LocationOut; 1]>,
    message: TextOut<'a>,
    #[serde(rename = "partialFingerprints", skip_serializing_if = "Option::is_none")]
    partial_fingerprints: Option<FingerprintsOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<PropertiesOut<'a>>,
    #[serde(rename = "ruleId")]
    rule_id: &'a str,
    #[serde(rename = "ruleIndex")]
    rule_index: usize,
}

#[derive(Serialize)]
struct TextOut<'a> {
    text: Cow<'a, str>,
}

#[derive(Serialize)]
struct LocationOut {
    #[serde(rename = "physicalLocation")]
    physical_location: PhysicalOut,
}

#[derive(Serialize)]
struct PhysicalOut {
    #[serde(rename = "artifactLocation")]
    artifact_location: ArtifactOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<RegionOut>,
}

#[derive(Serialize)]
struct ArtifactOut {
    uri: String,
    #[serde(rename = "uriBaseId")]
    uri_base_id: &'static str,
}

#[derive(Serialize)]
struct RegionOut {
    /// Exclusive, so one past an inclusive `u32` column: a `u64` cannot overflow.
    #[serde(rename = "endColumn", skip_serializing_if = "Option::is_none")]
    end_column: Option<u64>,
    #[serde(rename = "endLine", skip_serializing_if = "Option::is_none")]
    end_line: Option<u32>,
    #[serde(rename = "startColumn", skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
    #[serde(rename = "startLine")]
    start_line: u32,
}

#[derive(Serialize)]
struct FingerprintsOut<'a> {
    #[serde(rename = "opsFingerprint/v1")]
    ops: &'a str,
}

#[derive(Serialize)]
struct PropertiesOut<'a> {
    source: &'a str,
}

impl Serialize for SarifResult<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let f = self.finding;
        let text = match &f.help {
            Some(help) => Cow::Owned(format!("{}\nhelp: {help}", f.message)),
            None => Cow::Borrowed(f.message.as_str()),
        };
        let locations = f.path.as_deref().map(|path| {
            let region = f.region.map(|region| {
                let start = region.start_line.max(1);
                RegionOut {
                    start_line: start,
                    start_column: region.start_column.map(|c| c.max(1)),
                    end_line: region.end_line.map(|e| e.max(start)),
                    // SARIF's endColumn is exclusive; ours is inclusive (and may be `u32::MAX`)
                    end_column: region.end_column.map(|e| u64::from(e) + 1),
                }
            });
            [LocationOut {
                physical_location: PhysicalOut {
                    artifact_location: ArtifactOut {
                        uri: encode_path(path),
                        uri_base_id: "%SRCROOT%",
                    },
                    region,
                },
            }]
        });
        ResultOut {
            level: f.level.sarif(),
            locations,
            message: TextOut { text },
            partial_fingerprints: (!f.fingerprint.is_empty())
                .then_some(FingerprintsOut { ops: &f.fingerprint }),
            properties: f.source.as_deref().map(|source| PropertiesOut { source }),
            rule_id: &f.rule,
            rule_index: self.rule_index,
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Level, Region, assign_fingerprints};

    /// A result built as a JSON tree, field by field: what `SarifResult` must write byte for byte.
    fn tree(f: &Finding, rule_index: usize) -> Value {
        let mut message = f.message.clone();
        if let Some(help) = &f.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let mut result = json!({
            "ruleId": f.rule, "ruleIndex": rule_index, "level": f.level.sarif(), "message": { "text": message },
        });
        if let Some(path) = &f.path {
            let mut location = json!({ "physicalLocation": {
                "artifactLocation": { "uri": encode_path(path), "uriBaseId": "%SRCROOT%" },
            }});
            if let Some(region) = f.region {
                let mut r = json!({ "startLine": region.start_line.max(1) });
                if let Some(c) = region.start_column {
                    r["startColumn"] = json!(c.max(1));
                }
                if let Some(e) = region.end_line {
                    r["endLine"] = json!(e.max(region.start_line.max(1)));
                }
                if let Some(e) = region.end_column {
                    r["endColumn"] = json!(u64::from(e) + 1);
                }
                location["physicalLocation"]["region"] = r;
            }
            result["locations"] = json!([location]);
        }
        if !f.fingerprint.is_empty() {
            result["partialFingerprints"] = json!({ FINGERPRINT_KEY: f.fingerprint });
        }
        if let Some(source) = &f.source {
            result["properties"] = json!({ "source": source });
        }
        result
    }

    #[test]
    fn a_streamed_result_is_the_same_bytes_as_the_tree() {
        let region = |start_line, start_column, end_line, end_column| Region {
            start_line,
            start_column,
            end_line,
            end_column,
        };
        let mut with_all = Finding::new("no-eval", Level::Error, "`eval` \"quoted\" <b>\u{1F600}</b>")
            .at("src/a b/ü.js", Some(region(0, Some(0), Some(0), Some(7))));
        with_all.help = Some("use JSON.parse\nnot eval".into());
        with_all.source = Some("eslint".into());
        let findings = vec![
            with_all,
            Finding::new("r", Level::Warning, "m").at("a.rs", Some(Region::line(3))),
            Finding::new("r", Level::Notice, "m").at("a.rs", None),
            Finding::new("r", Level::Notice, "no file"),
            Finding::new("r", Level::Warning, "end only").at("x/y%z", Some(region(5, None, Some(9), None))),
        ];
        let mut fingerprinted = findings.clone();
        assign_fingerprints(&mut fingerprinted);
        for (i, f) in findings.iter().chain(&fingerprinted).enumerate() {
            let streamed = serde_json::to_string(&SarifResult::new(f, i)).unwrap();
            assert_eq!(
                streamed,
                serde_json::to_string(&tree(f, i)).unwrap(),
                "finding {i}"
            );
        }
    }

    /// A SARIF `endColumn` of 4294967296 reads as the inclusive column `u32::MAX`; writing it back
    /// added one in `u32`, which panicked (debug) or wrote a schema-invalid `0` (release).
    #[test]
    fn an_end_column_at_u32_max_does_not_overflow() {
        let f = Finding::new("r", Level::Warning, "wide").at(
            "a.rs",
            Some(Region {
                start_line: 1,
                start_column: Some(u32::MAX),
                end_line: Some(1),
                end_column: Some(u32::MAX),
            }),
        );
        let result = serde_json::to_value(SarifResult::new(&f, 0)).unwrap();
        let region = &result["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["endColumn"], json!(4_294_967_296_u64));
        assert_eq!(region["startColumn"], json!(u32::MAX));
        let doc = sarif(&ToolInfo::ops("lint-gate"), &[], &[f], None);
        assert_eq!(
            doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["endColumn"],
            json!(4_294_967_296_u64)
        );
    }

    #[test]
    fn paths_are_percent_encoded_per_byte_with_slashes_kept() {
        assert_eq!(
            encode_path("db/migrations/0002 drop.sql"),
            "db/migrations/0002%20drop.sql"
        );
        assert_eq!(encode_path("ü/a~b_c-d.e"), "%C3%BC/a~b_c-d.e");
        assert_eq!(encode_path("a%b#c?d"), "a%25b%23c%3Fd");
    }

    #[test]
    fn code_scanning_shape() {
        let mut rule = RuleInfo::new(
            "ban-drop-column",
            "dropping a column breaks the running version",
            Level::Error,
        );
        rule.help_uri = Some("https://example.test/rules#ban-drop-column".into());
        rule.tags = vec!["correctness".into()];
        rule.security_severity = Some(7.0);
        let mut findings = vec![
            Finding::new("ban-drop-column", Level::Error, "drops `users.email`").at(
                "db/migrations/0002 drop.sql",
                Some(Region {
                    start_line: 3,
                    start_column: Some(1),
                    end_line: Some(3),
                    end_column: Some(30),
                }),
            ),
            Finding::new("undescribed", Level::Notice, "fyi"),
        ];
        assign_fingerprints(&mut findings);
        let doc = sarif(
            &ToolInfo::ops("migrate-check"),
            &[rule],
            &findings,
            Some("migrations"),
        );
        assert_eq!(doc["version"], "2.1.0");
        let run = &doc["runs"][0];
        assert_eq!(run["automationDetails"]["id"], "migrations/");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0]["name"], "BanDropColumn");
        assert_eq!(rules[0]["properties"]["security-severity"], "7.0");
        assert_eq!(rules[0]["helpUri"], "https://example.test/rules#ban-drop-column");
        assert_eq!(rules[1]["id"], "undescribed");
        let r0 = &run["results"][0];
        assert_eq!(r0["ruleIndex"], 0);
        assert_eq!(r0["level"], "error");
        let loc = &r0["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "db/migrations/0002%20drop.sql");
        assert_eq!(
            loc["region"],
            json!({"startLine": 3, "startColumn": 1, "endLine": 3, "endColumn": 31})
        );
        assert_eq!(
            r0["partialFingerprints"][FINGERPRINT_KEY].as_str().unwrap().len(),
            32
        );
        let r1 = &run["results"][1];
        assert_eq!(
            (r1["ruleIndex"].as_u64(), r1["level"].as_str()),
            (Some(1), Some("note"))
        );
        assert!(r1.get("locations").is_none());
    }
}
