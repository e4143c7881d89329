//! The Markdown step summary: the decision, a table of cases (problems first), and latency figures.

use ops_core::render::summary::escape_cell;

use super::Meta;
use crate::measure::millis;
use crate::outcome::{Case, Decision, Status};

/// Rows shown before the rest are counted in a closing line (keeps the summary small at 1,000 checks).
pub const MAX_ROWS: usize = 100;

/// Renders the summary; `redact` is applied to every cell that could carry a secret.
pub fn render(cases: &[Case], meta: &Meta, decision: &Decision, redact: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    let verdict = if decision.promote {
        "✅ promote"
    } else {
        "❌ rollback"
    };
    out.push_str(&format!(
        "## smoke-test · {} · {verdict}\n\n",
        escape_cell(&meta.environment)
    ));
    out.push_str(&format!("{}\n\n", escape_cell(&redact(&decision.reason))));
    let mut facts = vec![format!(
        "**{}** passed · **{}** failed · **{}** skipped",
        decision.passed, decision.failed, decision.skipped
    )];
    if let Some(p95) = decision.p95 {
        facts.push(format!("p95 **{}ms**", millis(p95)));
    }
    if let Some(base) = &meta.base_url {
        facts.push(format!("base URL `{}`", escape_cell(&redact(base))));
    }
    if let Some(v) = &meta.expected_version {
        facts.push(format!("expected version `{}`", escape_cell(&redact(v))));
    }
    out.push_str(&facts.join(" · "));
    out.push_str("\n\n");

    let mut ordered: Vec<&Case> = cases.iter().collect();
    ordered.sort_by_key(|c| match c.status() {
        Status::Error => 0,
        Status::Failed => 1,
        Status::Skipped => 2,
        Status::Passed => 3,
    });
    out.push_str("| | check | request | status | time | details |\n|---|---|---|---|---|---|\n");
    for case in ordered.iter().take(MAX_ROWS) {
        let request = match (&case.method, &case.url) {
            (Some(m), Some(u)) => format!("`{m} {}`", escape_cell(&redact(u))),
            _ => String::new(),
        };
        let location = match (&case.file, case.line) {
            (Some(f), Some(l)) => format!(" ({}:{l})", escape_cell(f)),
            _ => String::new(),
        };
        let mut details = redact(&case.problem());
        if let Some(v) = &case.served_version {
            details = format!("version `{}` {details}", redact(v));
        }
        out.push_str(&format!(
            "| {} | {}{location} | {request} | {} | {} | {} |\n",
            case.status().mark(),
            escape_cell(&redact(&case.name)),
            case.http_status.map(|c| c.to_string()).unwrap_or_default(),
            case.durations
                .first()
                .map(|d| format!("{}ms", millis(*d)))
                .unwrap_or_default(),
            escape_cell(&details),
        ));
    }
    if ordered.len() > MAX_ROWS {
        out.push_str(&format!(
            "\n… and {} more (all passing cases are in the JUnit report)\n",
            ordered.len() - MAX_ROWS
        ));
    }

    let latency: Vec<&Case> = cases.iter().filter(|c| c.latency.is_some()).collect();
    if !latency.is_empty() {
        out.push_str("\n### Latency\n\n| check | samples | p50 | p95 | max | thresholds |\n|---|---|---|---|---|---|\n");
        for case in latency.iter().take(MAX_ROWS) {
            let Some(l) = &case.latency else { continue };
            let thresholds: Vec<String> = l
                .thresholds
                .iter()
                .map(|t| {
                    let mark = match (t.holds, t.gating) {
                        (true, _) => "✅",
                        (false, true) => "❌",
                        (false, false) => "⚠️ not gating",
                    };
                    format!("{} {mark}", t.threshold)
                })
                .collect();
            out.push_str(&format!(
                "| {} | {} | {}ms | {}ms | {}ms | {} |\n",
                escape_cell(&redact(&case.name)),
                l.stats.count(),
                millis(l.stats.p50()),
                millis(l.stats.p95()),
                millis(l.stats.max()),
                escape_cell(&thresholds.join(", ")),
            ));
        }
        out.push_str("\nThresholds decide only for checks with at least `min-samples` samples.\n");
    }
    out
}
