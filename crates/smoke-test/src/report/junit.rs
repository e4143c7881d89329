//! JUnit XML for dorny/test-reporter and mikepenz/action-junit-report: a named suite with its time, one
//! testcase per case with `classname` = environment and `file` + `line` pointing into the checks file,
//! `<failure>` for an assertion that did not hold and `<error>` for a request that got no response,
//! and properties for URL, version and latency.

use std::time::Duration;

use ops_core::render::junit::quick_junit::{
    NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite,
};

use super::Meta;
use crate::measure::millis;
use crate::outcome::{Case, Decision, Status};

/// Builds the report; `redact` is applied to every text that could carry a secret.
pub fn report(
    cases: &[Case],
    meta: &Meta,
    decision: &Decision,
    time: Duration,
    redact: &dyn Fn(&str) -> String,
) -> Report {
    let mut suite = TestSuite::new(format!("smoke-test ({})", meta.environment));
    suite.set_time(time);
    suite.add_property(Property::new("environment", meta.environment.as_str()));
    if let Some(base) = &meta.base_url {
        suite.add_property(Property::new("base-url", redact(base)));
    }
    if let Some(v) = &meta.expected_version {
        suite.add_property(Property::new("expected-version", redact(v)));
    }
    suite.add_property(Property::new("decision", decision.word()));
    if let Some(p95) = decision.p95 {
        suite.add_property(Property::new("p95-ms", millis(p95).to_string()));
    }
    for case in cases {
        suite.add_test_case(testcase(case, meta, redact));
    }
    let mut report = Report::new("smoke-test");
    report.set_time(time);
    report.add_test_suite(suite);
    report
}

fn testcase(case: &Case, meta: &Meta, redact: &dyn Fn(&str) -> String) -> TestCase {
    let status = match case.status() {
        Status::Passed => TestCaseStatus::success(),
        Status::Skipped => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(redact(case.skipped.as_deref().unwrap_or("skipped")));
            s
        }
        Status::Failed => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let first = &case.failures[0];
            s.set_message(redact(&first.message)).set_type(first.kind);
            let detail: Vec<String> = case
                .failures
                .iter()
                .map(|f| {
                    let at = f.line.map(|l| format!("line {l}, ")).unwrap_or_default();
                    redact(&format!("{at}{}: {}", f.field, f.message))
                })
                .collect();
            s.set_description(detail.join("\n"));
            s
        }
        Status::Error => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            let e = case.error.as_ref().map(|e| (e.kind.as_str(), e.message.as_str()));
            let (kind, message) = e.unwrap_or(("error", ""));
            s.set_message(redact(&format!("{kind}: {message}")))
                .set_type(kind);
            s.set_description(redact(message));
            s
        }
    };
    let mut tc = TestCase::new(redact(&case.name), status);
    tc.set_classname(meta.environment.as_str());
    tc.set_time(case.time);
    if let Some(file) = &case.file {
        tc.extra.insert("file".into(), file.as_str().into());
        if let Some(line) = case.line {
            tc.extra.insert("line".into(), line.to_string().into());
        }
    }
    if let Some(url) = &case.url {
        tc.add_property(Property::new("url", redact(url)));
    }
    if let Some(m) = &case.method {
        tc.add_property(Property::new("method", m.as_str()));
    }
    if let Some(code) = case.http_status {
        tc.add_property(Property::new("status", code.to_string()));
    }
    if let Some(v) = &case.served_version {
        tc.add_property(Property::new("version", redact(v)));
    }
    if let Some(l) = &case.latency {
        tc.add_property(Property::new("samples", l.stats.count().to_string()));
        tc.add_property(Property::new("p50-ms", millis(l.stats.p50()).to_string()));
        tc.add_property(Property::new("p95-ms", millis(l.stats.p95()).to_string()));
        tc.add_property(Property::new("max-ms", millis(l.stats.max()).to_string()));
    }
    let mut out = Vec::new();
    if let (Some(m), Some(u)) = (&case.method, &case.url) {
        let code = case.http_status.map(|c| format!(" → {c}")).unwrap_or_default();
        let time = case
            .durations
            .first()
            .map(|d| format!(" in {}ms", millis(*d)))
            .unwrap_or_default();
        out.push(format!("{m} {u}{code}{time}"));
    }
    out.extend(case.notes.iter().cloned());
    if !out.is_empty() {
        tc.set_system_out(redact(&out.join("\n")));
    }
    tc
}
