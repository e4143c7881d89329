//! Findings as SARIF 2.1.0, shaped for GitHub code scanning (`github/codeql-action/upload-sarif`).
//!
//! What code scanning reads and we therefore always write: `tool.driver.name` and `semanticVersion`; one
//! `rules[]` entry per rule id used, with `shortDescription`, `fullDescription`, `help` (text and
//! Markdown), `helpUri`, `defaultConfiguration.level` and `properties.tags` / `security-severity`;
//! results with `ruleId` + `ruleIndex`, `level`, `message.text`, a `physicalLocation` whose `uri` is
//! relative to `%SRCROOT%` and percent-encoded, a 1-based region, and `partialFingerprints` so alerts
//! keep their identity across commits. `automationDetails.id` carries the category, so two SARIF uploads
//! for one commit (lint and security) do not replace each other.

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
    let mut message = f.message.clone();
    if let Some(help) = &f.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let mut result = json!({
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": f.level.sarif(),
        "message": { "text": message },
    });
    if let Some(path) = &f.path {
        let mut location = json!({
            "physicalLocation": {
                "artifactLocation": { "uri": encode_path(path), "uriBaseId": "%SRCROOT%" },
            }
        });
        if let Some(region) = f.region {
            let mut r = json!({ "startLine": region.start_line.max(1) });
            if let Some(c) = region.start_column {
                r["startColumn"] = json!(c.max(1));
            }
            if let Some(e) = region.end_line {
                r["endLine"] = json!(e.max(region.start_line.max(1)));
            }
            // SARIF's endColumn is exclusive; ours is inclusive
            if let Some(e) = region.end_column {
                r["endColumn"] = json!(e + 1);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Level, Region, assign_fingerprints};

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
