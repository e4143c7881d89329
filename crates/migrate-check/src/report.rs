//! Reports through the shared Finding model: annotations on the SQL lines, the step summary, SARIF
//! and JSON files, and the step outputs. Fixes ride along: SARIF `fixes` and a `fix` object per JSON
//! finding (both formats allow additions). Everything is read back from the collector's spill file,
//! so the size of a report never multiplies in memory.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use ops_core::render::{self, ToolInfo};
use ops_core::secret::Redactor;
use ops_core::{ExitStatus, Finding, Level, Runner};
use serde_json::{Value, json};

use crate::collect::Collected;
use crate::error::Error;
use crate::framework::Framework;
use crate::rules;
use crate::trace::TraceReport;

/// What the run found (the findings themselves are in the [`Collected`] spill).
#[derive(Debug)]
pub struct Outcome {
    /// The framework.
    pub framework: Framework,
    /// The migrations folder, relative to the repository.
    pub root: String,
    /// Migrations checked (under review).
    pub migrations: usize,
    /// Statements parsed.
    pub statements: usize,
    /// The trace, when a database was given.
    pub trace: Option<TraceReport>,
    /// Whether history gates ran, and against what.
    pub base: Option<String>,
}

/// Parses `fail-level`: `None` never fails.
pub fn parse_fail_level(value: &str) -> Result<Option<Level>, Error> {
    if value.trim().eq_ignore_ascii_case("never") || value.trim().eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    Level::parse(value).map(Some).ok_or_else(|| {
        Error::usage_hint(
            format!("invalid `fail-level` `{value}`"),
            "use one of `error`, `warning`, `notice`, `never`",
        )
    })
}

/// GitHub code scanning keeps at most this many results per run; more are cut, the most severe kept.
pub const SARIF_RESULTS_LIMIT: usize = 25_000;

/// Up to this many findings are passed to the runner as annotations (it shows ten per kind and logs
/// the rest); beyond it only the shown ones are, and a notice points to the summary.
const ANNOTATE_ALL_UP_TO: usize = 1_000;

const LEVELS: [Level; 3] = [Level::Error, Level::Warning, Level::Notice];

/// Writes everything and returns the exit status.
pub fn report(
    outcome: &Outcome,
    collected: &Collected,
    fail_level: Option<Level>,
    sarif_output: Option<&Path>,
    json_output: Option<&Path>,
    runner: &Runner,
    comment: &dyn Fn(&str, bool) -> Result<(), Error>,
) -> Result<ExitStatus, Error> {
    let (errors, warnings, notices) = collected.counts();
    let total = collected.total();
    let failed = fail_level.is_some_and(|level| {
        (level <= Level::Error && errors > 0)
            || (level <= Level::Warning && warnings > 0)
            || (level <= Level::Notice && notices > 0)
    });
    let decision = if failed { "fail" } else { "pass" };

    annotate(collected, runner)?;

    let verdict = format!(
        "{} — {} ({}), {} migration{} checked{}: {errors} error{}, {warnings} warning{}, {notices} notice{}",
        if failed { "**failed**" } else { "passed" },
        if outcome.root.is_empty() {
            "."
        } else {
            outcome.root.as_str()
        },
        outcome.framework,
        outcome.migrations,
        if outcome.migrations == 1 { "" } else { "s" },
        outcome
            .base
            .as_ref()
            .map(|b| format!(" against `{b}`"))
            .unwrap_or_default(),
        plural(errors),
        plural(warnings),
        plural(notices),
    );
    let mut markdown = summary(&verdict, collected);
    if let Some(trace) = &outcome.trace {
        markdown.push_str(&trace.markdown());
    }
    // What the log hides is hidden in every report too: the comment and the files, not only the
    // summary (a failing statement quotes its SQL, and PostgreSQL echoes values).
    let redactor = runner.redactor();
    let markdown = redactor.redact(&markdown).into_owned();
    runner.append_summary(&markdown)?;
    runner.info(&verdict.replace("**", ""));
    comment(&markdown, total > 0)?;

    let tool = ToolInfo::ops("migrate-check");
    // The two files read the spill independently: write them side by side.
    std::thread::scope(|scope| -> Result<(), Error> {
        let sarif =
            sarif_output.map(|path| scope.spawn(|| write_sarif(path, &tool, collected, runner, &redactor)));
        if let Some(path) = json_output {
            write_json(path, &tool, !failed, decision, outcome, collected, &redactor)?;
        }
        match sarif.map(std::thread::ScopedJoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(Error::io(
                sarif_output.unwrap_or(Path::new("sarif")),
                std::io::Error::other("writing the SARIF file panicked"),
            )),
            None => Ok(()),
        }
    })?;
    for (name, value) in [
        ("framework", outcome.framework.name().to_owned()),
        ("migrations", outcome.migrations.to_string()),
        ("findings", total.to_string()),
        ("errors", errors.to_string()),
        ("warnings", warnings.to_string()),
        ("decision", decision.to_owned()),
    ] {
        runner.set_output(name, &value)?;
    }
    Ok(if failed {
        ExitStatus::Failed
    } else {
        ExitStatus::Success
    })
}

fn annotate(collected: &Collected, runner: &Runner) -> Result<(), Error> {
    let pointer = "see the step summary for every finding";
    let total = collected.total();
    if !runner.is_actions() {
        // A terminal has no budget: everything, most severe first, a chunk at a time.
        for level in LEVELS {
            let mut chunk: Vec<Finding> = Vec::new();
            collected.each(Some(level), |s| {
                chunk.push(s.finding);
                if chunk.len() == 1_000 {
                    runner.annotate(render::annotations::annotations(&chunk), "");
                    chunk.clear();
                }
                Ok(true)
            })?;
            if !chunk.is_empty() {
                runner.annotate(render::annotations::annotations(&chunk), "");
            }
        }
        return Ok(());
    }
    if total <= ANNOTATE_ALL_UP_TO {
        let mut all: Vec<Finding> = Vec::with_capacity(total);
        collected.each(None, |s| {
            all.push(s.finding);
            Ok(true)
        })?;
        runner.annotate(render::annotations::annotations(&all), pointer);
        return Ok(());
    }
    let mut shown: Vec<Finding> = Vec::new();
    for (level, n) in [(Level::Error, 10), (Level::Warning, 10), (Level::Notice, 9)] {
        shown.extend(collected.kept(level).iter().take(n).map(|s| s.finding.clone()));
    }
    runner.annotate(render::annotations::annotations(&shown), pointer);
    runner.notice(&format!(
        "{} more findings are not shown as annotations (GitHub shows 10 per kind per step): {pointer}, or the SARIF and JSON reports",
        total - shown.len()
    ));
    Ok(())
}

/// SARIF, streamed: the shared renderer draws the run (every rule described, so each `ruleIndex` is the
/// rule's place in the registry) and each result, one finding at a time; the most severe
/// [`SARIF_RESULTS_LIMIT`] findings are kept.
fn write_sarif(
    path: &Path,
    tool: &ToolInfo,
    collected: &Collected,
    runner: &Runner,
    redactor: &Redactor,
) -> Result<(), Error> {
    let infos: Vec<ops_core::RuleInfo> = rules::RULES.iter().map(|r| r.info()).collect();
    let mut doc = render::sarif::sarif(tool, &infos, &[], Some("migrate-check"));
    const MARK: &str = "@@migrate-check-results@@";
    doc["runs"][0]["results"] = json!(MARK);
    let skeleton =
        serde_json::to_string_pretty(&doc).map_err(|e| Error::io(path, std::io::Error::other(e)))?;
    let Some((head, tail)) = skeleton.split_once(&format!("\"{MARK}\"")) else {
        return Err(Error::io(
            path,
            std::io::Error::other("SARIF skeleton without its results slot"),
        ));
    };
    let total = collected.total();
    let mut written = 0usize;
    write_file(path, |w| {
        w.write_all(head.as_bytes())?;
        w.write_all(b"[")?;
        // Rendering is the slow part of the report: chunks of findings are rendered on two threads
        // (the JSON report is soon done with the other core), written in order, then dropped.
        let mut chunk: Vec<crate::collect::Spilled> = Vec::with_capacity(SARIF_CHUNK);
        let mut flush =
            |chunk: &mut Vec<crate::collect::Spilled>, written: &mut usize| -> std::io::Result<()> {
                if chunk.is_empty() {
                    return Ok(());
                }
                let (left, right) = chunk.split_at(chunk.len() / 2);
                let render = |part: &[crate::collect::Spilled]| -> Vec<std::io::Result<Vec<u8>>> {
                    part.iter().map(|s| sarif_result(s, redactor)).collect()
                };
                let (left, right) = std::thread::scope(|scope| {
                    let other = scope.spawn(|| render(right));
                    let left = render(left);
                    (left, other.join())
                });
                let right = right.map_err(|_| std::io::Error::other("rendering SARIF results panicked"))?;
                for result in left.into_iter().chain(right) {
                    if *written > 0 {
                        w.write_all(b",")?;
                    }
                    w.write_all(b"\n")?;
                    w.write_all(&result?)?;
                    *written += 1;
                }
                chunk.clear();
                Ok(())
            };
        let mut taken = 0usize;
        for level in LEVELS {
            let result = collected.each(Some(level), |spilled| {
                if taken == SARIF_RESULTS_LIMIT {
                    return Ok(false);
                }
                taken += 1;
                chunk.push(spilled);
                if chunk.len() == SARIF_CHUNK {
                    flush(&mut chunk, &mut written).map_err(|e| Error::io(path, e))?;
                }
                Ok(true)
            });
            result.map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        flush(&mut chunk, &mut written)?;
        w.write_all(b"\n]")?;
        w.write_all(tail.as_bytes())?;
        w.write_all(b"\n")
    })?;
    if total > written {
        runner.warning(&format!(
            "the SARIF file holds the {written} most severe of {total} findings (code scanning's limit per run)"
        ));
    }
    Ok(())
}

/// SARIF results rendered together (on two threads), a bounded number at a time.
const SARIF_CHUNK: usize = 1024;

/// One SARIF result: the shared renderer's, with the rule's place in the registry and the fix, every
/// text redacted.
fn sarif_result(spilled: &crate::collect::Spilled, redactor: &Redactor) -> std::io::Result<Vec<u8>> {
    let index = rules::RULES
        .iter()
        .position(|r| r.id == spilled.finding.rule)
        .unwrap_or(0);
    let finding = redactor.finding(&spilled.finding);
    let result = render::sarif::SarifResult::new(&finding, index);
    match &spilled.fix {
        None => serde_json::to_vec(&result),
        Some(fix) => {
            // `fixes` sorts first among the result's keys, as in a document the shared renderer builds.
            let mut value = serde_json::to_value(result).map_err(std::io::Error::other)?;
            value["fixes"] = sarif_fix(&finding, fix);
            redactor.redact_json(&mut value["fixes"]);
            serde_json::to_vec(&value)
        }
    }
    .map_err(std::io::Error::other)
}

/// The step summary: the shared renderer over the most severe findings kept, with the counts of all.
fn summary(verdict: &str, collected: &Collected) -> String {
    let options = render::summary::SummaryOptions::default();
    let mut rows: Vec<Finding> = Vec::new();
    for level in LEVELS {
        for spilled in collected.kept(level) {
            if rows.len() < options.max_rows {
                rows.push(spilled.finding.clone());
            }
        }
    }
    let mut markdown = render::summary::summary("migrate-check", verdict, &rows, &options);
    let (e, w, n) = collected.counts();
    let (re, rw, rn) = ops_core::finding::counts(&rows);
    markdown = markdown.replacen(
        &format!("| {re} | {rw} | {rn} |\n"),
        &format!("| {e} | {w} | {n} |\n"),
        1,
    );
    if collected.total() > rows.len() {
        markdown.push_str(&format!(
            "\n{} more findings are not listed here: they are in the SARIF and JSON reports (`sarif-output`, `json-output`).\n",
            collected.total() - rows.len()
        ));
    }
    markdown
}

/// The JSON report, `version: 1` (the shape of `ops_core::render::json`), streamed finding by finding.
fn write_json(
    path: &Path,
    tool: &ToolInfo,
    passed: bool,
    decision: &str,
    outcome: &Outcome,
    collected: &Collected,
    redactor: &Redactor,
) -> Result<(), Error> {
    let (errors, warnings, notices) = collected.counts();
    let mut head = json!({
        "version": 1,
        "tool": { "name": tool.name, "version": tool.version },
        "passed": passed,
        "counts": { "error": errors, "warning": warnings, "notice": notices },
        "framework": outcome.framework.name(),
        "migrations": outcome.migrations,
        "statements": outcome.statements,
        "decision": decision,
        "trace": outcome.trace.as_ref().map(TraceReport::json),
    });
    redactor.redact_json(&mut head);
    let Some(fields) = head.as_object() else {
        return Ok(());
    };
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = std::io::BufWriter::new(file);
    let io = |e: std::io::Error| Error::io(path, e);
    w.write_all(b"{").map_err(io)?;
    for (key, value) in fields {
        if value.is_null() {
            continue;
        }
        serde_json::to_writer(&mut w, key).map_err(|e| io(std::io::Error::other(e)))?;
        w.write_all(b":").map_err(io)?;
        serde_json::to_writer(&mut w, value).map_err(|e| io(std::io::Error::other(e)))?;
        w.write_all(b",\n").map_err(io)?;
    }
    w.write_all(b"\"findings\":[").map_err(io)?;
    let mut first = true;
    // Each spilled line already is the finding's JSON (plus its `fix`): copied as it is, unless it
    // holds a mask.
    collected.lines(|line| {
        if !first {
            w.write_all(b",").map_err(io)?;
        }
        first = false;
        w.write_all(b"\n").map_err(io)?;
        w.write_all(redactor.redact_json_text(line).as_bytes())
            .map_err(io)?;
        Ok(true)
    })?;
    w.write_all(b"\n]}\n").map_err(io)?;
    w.flush().map_err(io)?;
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn sarif_fix(finding: &Finding, fix: &crate::lint::FileFix) -> Value {
    json!([{
        "description": { "text": fix.title },
        "artifactChanges": [{
            "artifactLocation": { "uri": finding.path.as_deref().unwrap_or_default(), "uriBaseId": "%SRCROOT%" },
            "replacements": fix.edits.iter().map(|e| json!({
                "deletedRegion": {
                    "startLine": e.from.line, "startColumn": e.from.column,
                    "endLine": e.to.line, "endColumn": e.to.column,
                },
                "insertedContent": { "text": e.text },
            })).collect::<Vec<_>>(),
        }],
    }])
}

fn write_file(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), Error> {
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut writer = std::io::BufWriter::new(file);
    write(&mut writer).map_err(|e| Error::io(path, e))?;
    writer.flush().map_err(|e| Error::io(path, e))
}

/// A one-line description of the rules (for `--help`-like listings in docs).
pub fn rules_markdown(fixture: &dyn Fn(&str, &str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut groups: Vec<rules::Group> = rules::RULES.iter().map(|r| r.group).collect();
    groups.sort();
    groups.dedup();
    for group in groups {
        let _ = writeln!(out, "### {}\n", group.title());
        for rule in rules::RULES.iter().filter(|r| r.group == group) {
            let _ = writeln!(out, "#### {}\n", rule.id);
            let squawk = if rule.squawk.is_empty() {
                String::new()
            } else {
                format!(
                    " · squawk: {}",
                    rule.squawk
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let level = if rule.opt_in() {
                format!("off unless turned on (`{}={}` in `rules`)", rule.id, rule.level)
            } else {
                format!("default level `{}`", rule.level)
            };
            let _ = writeln!(out, "*{}* · {level}{squawk}\n", capitalize(rule.summary));
            let _ = writeln!(out, "**Why.** {}\n", rule.why);
            if let Some(bad) = fixture(rule.id, "bad.sql") {
                let _ = writeln!(out, "**Example.**\n\n```sql\n{}\n```\n", bad.trim_end());
            }
            let _ = writeln!(out, "**Safe rewrite.** {}\n", rule.rewrite);
            if let Some(good) = fixture(rule.id, "good.sql") {
                let _ = writeln!(out, "```sql\n{}\n```\n", good.trim_end());
            }
        }
    }
    out
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
