//! SARIF from `ops_core::render::sarif` is valid against the official SARIF 2.1.0 schema and meets GitHub
//! code scanning's own requirements, for findings of every shape; and the validator itself catches what
//! code scanning would reject (a validator that passes everything proves nothing).

use ops_core::finding::{Finding, Level, Region, RuleInfo, assign_fingerprints};
use ops_core::render::{ToolInfo, sarif::sarif};
use ops_test::sarif::validate;
use serde_json::json;

fn findings() -> Vec<Finding> {
    let mut findings = vec![
        Finding::new(
            "require-concurrent-index",
            Level::Error,
            "`CREATE INDEX` locks `users` against writes",
        )
        .at(
            "db/migrations/0003 add index.sql",
            Some(Region {
                start_line: 2,
                start_column: Some(1),
                end_line: Some(4),
                end_column: Some(12),
            }),
        )
        .with_help("use `CREATE INDEX CONCURRENTLY` outside a transaction")
        .with_source("migrate-check"),
        Finding::new(
            "no-unused-vars",
            Level::Warning,
            "'x' is assigned a value but never used",
        )
        .at("web/src/app.ts", Some(Region::point(10, 7)))
        .with_source("eslint"),
        Finding::new("whole-file", Level::Notice, "file-level note").at("Cargo.toml", None),
        Finding::new("no-location", Level::Warning, "a finding about no file"),
        Finding::new("unicode", Level::Error, "naïve — ünïcödé <tags> & \"quotes\"")
            .at("src/ü.rs", Some(Region::line(1))),
    ];
    assign_fingerprints(&mut findings);
    findings
}

fn rules() -> Vec<RuleInfo> {
    let mut rule = RuleInfo::new(
        "require-concurrent-index",
        "index builds must not block writes",
        Level::Error,
    );
    rule.help = Some("## Why\nA plain `CREATE INDEX` takes a SHARE lock.".into());
    rule.help_uri = Some(
        "https://github.com/ops-actions/ops-actions/blob/main/docs/rules.md#require-concurrent-index".into(),
    );
    rule.tags = vec!["locking".into(), "security".into()];
    rule.security_severity = Some(8.5);
    vec![
        rule,
        RuleInfo::new("unused-rule", "described but not triggered", Level::Notice),
    ]
}

#[test]
fn rendered_sarif_is_valid_for_code_scanning() {
    let doc = sarif(
        &ToolInfo::ops("migrate-check"),
        &rules(),
        &findings(),
        Some("migrations"),
    );
    assert_eq!(validate(&doc), Vec::<String>::new(), "{doc:#}");
    assert_eq!(doc["runs"][0]["results"].as_array().map(Vec::len), Some(5));
}

#[test]
fn empty_run_is_valid() {
    let doc = sarif(&ToolInfo::ops("lint-gate"), &[], &[], None);
    assert_eq!(validate(&doc), Vec::<String>::new());
}

type Mutation = Box<dyn Fn(&mut serde_json::Value)>;

#[test]
fn validator_catches_what_code_scanning_rejects() {
    let good = sarif(&ToolInfo::ops("lint-gate"), &rules(), &findings(), None);
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "schema",
            Box::new(|d| d["runs"][0]["results"][0]["level"] = json!("critical")),
        ),
        (
            "schema",
            Box::new(|d| d["runs"][0]["results"][0]["unknownField"] = json!(1)),
        ),
        ("schema", Box::new(|d| d["version"] = json!("2.0.0"))),
        (
            "not in tool.driver.rules",
            Box::new(|d| d["runs"][0]["results"][1]["ruleId"] = json!("ghost")),
        ),
        (
            "does not point at",
            Box::new(|d| d["runs"][0]["results"][0]["ruleIndex"] = json!(1)),
        ),
        (
            "must be relative",
            Box::new(|d| {
                d["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
                    json!("/home/runner/work/app.ts");
            }),
        ),
        (
            "security-severity",
            Box::new(|d| {
                d["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"] = json!("high")
            }),
        ),
    ];
    for (expected, mutate) in cases {
        let mut doc = good.clone();
        mutate(&mut doc);
        let problems = validate(&doc);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "expected a `{expected}` problem, got {problems:#?}"
        );
    }
}
