//! lint-gate: any linter's or scanner's findings as a pull-request gate.
//!
//! `run` reads every source (report files, command output) through a streaming parser into one
//! collector that normalises paths and applies the change filter and the baseline as findings
//! arrive; then decides (`fail-level`, `max-findings`, new-versus-baseline), writes the SARIF / JSON
//! files, reports (check run, review comments, sticky comment, annotations, step summary) and sets
//! the outputs. Every input is validated and every report parsed before anything is reported, so a
//! malformed report leaves no half-made check run behind.

pub mod baseline;
pub mod cli;
pub mod diff;
mod error;
pub mod event;
pub mod gate;
pub mod git;
pub mod parse;
pub mod paths;
pub mod pipeline;
pub mod report;
pub mod source;

use std::path::Path;
use std::sync::Arc;

use ops_core::runner::printable;
use ops_core::{Env, ExitStatus, Level, Runner, Secret, ToolError};
use ops_net::{ErrorKind, GitHub};

pub use error::Error;

use crate::baseline::Baseline;
use crate::diff::{DiffIndex, FilterMode};
use crate::event::{Context, Pull, Push};
use crate::parse::{Errorformat, FormatSpec};
use crate::paths::PathNormalizer;
use crate::pipeline::Collector;
use crate::report::Reporters;

/// Runs lint-gate.
pub fn run(args: &cli::Args, env: &Env, runner: &Runner) -> Result<ExitStatus, Error> {
    // Everything that can be wrong with the inputs is found before anything is read or posted.
    let unknown_level: Level = args.unknown_level.into();
    let reporters = Reporters::parse(&args.reporters)?;
    let custom = match args.errorformat.iter().any(|p| !p.trim().is_empty()) {
        true => Some(Arc::new(
            Errorformat::compile("errorformat", &args.errorformat)
                .map_err(|e| ToolError::usage(format!("input `errorformat`: {e}")))?,
        )),
        false => None,
    };
    let default_format = FormatSpec::parse(&args.format, custom.as_ref())
        .map_err(|e| ToolError::usage(format!("input `format`: {e}")))?;
    if args.reports.iter().chain(&args.run).all(|l| l.trim().is_empty()) {
        return Err(
            ToolError::usage("nothing to read: `reports` and `run` are both empty")
                .with_hint(
                    "set `reports` to the linter's report file, or `run` to the command that prints it",
                )
                .into(),
        );
    }
    let token = args
        .github_token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(Secret::new);
    if let Some(token) = &token {
        runner.mask(token.expose());
    }
    let workspace = env.workspace();
    let git = git::Git::new(&workspace);
    let root = git.toplevel().unwrap_or_else(|| workspace.clone());
    let working = args
        .working_directory
        .as_deref()
        .map_or_else(|| workspace.clone(), |d| paths::resolve(&workspace, d));
    if !working.is_dir() {
        return Err(ToolError::usage(format!(
            "`working-directory` `{}` is not a directory",
            working.display()
        ))
        .into());
    }
    let normalizer = PathNormalizer::new(&root, &working);
    let sources = source::sources(
        &args.reports,
        &args.run,
        &default_format,
        custom.as_ref(),
        &working,
    )?;
    let context = Context::from_env(env)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ToolError::runtime("cannot start the async runtime").with_source(e))?;
    // One client for the run, so its usage counts every request.
    let gh = match &token {
        Some(token) => Some(GitHub::from_env(env, Some(token.clone()))?),
        None => None,
    };

    // The change.
    let wants_diff = args.filter_mode != FilterMode::Nofilter || reporters.review;
    let mut filter_note = None;
    let diff = match (&context.pull, &context.push, wants_diff) {
        (Some(pull), _, true) => Some(change(&git, pull, &context, gh.as_ref(), &runtime, runner)?),
        (None, Some(push), _) if args.filter_mode != FilterMode::Nofilter => {
            match push_change(&git, push, runner) {
                Ok(diff) => Some(diff),
                Err(why) => {
                    runner.notice(&format!("{why}: every finding is reported"));
                    filter_note = Some(format!("Every finding is reported: {why}."));
                    None
                }
            }
        }
        (None, None, _) if args.filter_mode != FilterMode::Nofilter => {
            filter_note = Some(format!(
                "Not a pull request or a push (`{}`): every finding is reported (`filter-mode` applies to pull requests and pushes).",
                if context.event_name.is_empty() {
                    "local run"
                } else {
                    &context.event_name
                }
            ));
            None
        }
        _ => None,
    };
    if let Some(diff) = &diff {
        runner.info(&format!(
            "the change: {} file{}, {} added line{}",
            diff.len(),
            if diff.len() == 1 { "" } else { "s" },
            diff.added_lines(),
            if diff.added_lines() == 1 { "" } else { "s" }
        ));
    }
    let filter_diff = diff.as_ref().filter(|_| args.filter_mode != FilterMode::Nofilter);
    let renames = diff.as_ref().map(DiffIndex::renames).unwrap_or_default();

    let mut baseline = match &args.baseline {
        Some(path) => {
            let full = paths::resolve(&workspace, path);
            let baseline = Baseline::load(&full, &path.display().to_string(), &normalizer, &renames)?;
            runner.info(&format!(
                "baseline `{}`: {} findings",
                printable(&path.display().to_string()),
                baseline.total
            ));
            Some(baseline)
        }
        None => None,
    };

    // Read every source.
    let mut reports = Vec::with_capacity(sources.len());
    let collected = {
        let mut collector = Collector::new(
            &normalizer,
            if filter_diff.is_some() {
                args.filter_mode
            } else {
                FilterMode::Nofilter
            },
            filter_diff,
            baseline.as_mut(),
        );
        for source in &sources {
            let log_stderr = |name: &str, stderr: &str| {
                if !stderr.trim().is_empty() {
                    let _group = runner.group(&format!("standard error of `{name}`"));
                    runner.untrusted(stderr);
                }
            };
            let report = source::read(source, &working, unknown_level, &mut collector, &log_stderr)?;
            // a report's path comes from the pull request: one line, control characters shown
            runner.info(&format!(
                "{}: {} finding{} read as {}, {} reported, {} not on the change{}",
                printable(&report.label),
                report.stats.diagnostics,
                if report.stats.diagnostics == 1 { "" } else { "s" },
                report.format,
                report.counts.kept,
                report.counts.filtered,
                report
                    .exit_code
                    .map(|c| format!(" (exit code {c})"))
                    .unwrap_or_default()
            ));
            reports.push(report);
        }
        let mut collected = collector.finish();
        // What the log hides (the token, a secret a linter quoted) is hidden in the files, the
        // check run and the comments too, not only in the summary. Fingerprints are already taken.
        let redactor = runner.redactor();
        if !redactor.is_empty() {
            for finding in &mut collected.findings {
                redactor.redact_finding(finding);
            }
            collected.rules = std::mem::take(&mut collected.rules)
                .into_iter()
                .map(|(id, mut rule)| {
                    redactor.redact_rule(&mut rule);
                    (redactor.redact(&id).into_owned(), rule)
                })
                .collect();
        }
        collected
    };
    let findings = &collected.findings;
    let extras = &collected.extras;
    let decision = gate::decide(findings, extras, args.fail_level, args.max_findings);

    // Files.
    if let Some(path) = &args.sarif_output {
        let dropped =
            report::files::write_sarif(&paths::resolve(&workspace, path), findings, &collected.rules)?;
        if dropped > 0 {
            runner.warning(&format!(
                "`sarif-output` holds the {} most severe findings (code scanning's limit per run); {dropped} more are in the check run and `json-output`",
                report::files::SARIF_MAX_RESULTS
            ));
        }
    }
    if let Some(path) = &args.json_output {
        report::files::write_json_output(&paths::resolve(&workspace, path), findings, decision.passed)?;
    }

    let summary = report::summary::Report {
        name: &args.name,
        decision: &decision,
        findings,
        extras,
        sources: &reports,
        filter: filter_diff.map(|_| args.filter_mode),
        filter_note,
        baseline: baseline.as_ref().map(|b| (b.total, b.matched)),
        unknown_level,
    };
    let blob_url = match (&context.repository, &context.sha) {
        (Some((owner, repo)), Some(sha)) => {
            Some(format!("{}/{owner}/{repo}/blob/{sha}", env.github_server_url()))
        }
        _ => None,
    };

    // GitHub: check run, review comments, sticky comment. A token that may not write (a pull
    // request from a fork) degrades to annotations and the step summary.
    let mut degraded: Option<String> = None;
    let mut details_url = env.run_url();
    if reporters.needs_api() {
        match (&gh, &context.repository, &context.sha) {
            (None, _, _) => {
                degraded = Some("no `github-token`: the check run and comments are skipped; findings are in annotations and the step summary".to_owned());
            }
            (_, None, _) | (_, _, None) => {
                degraded = Some("`GITHUB_REPOSITORY` or the commit is unknown (not in a workflow run?): the check run and comments are skipped".to_owned());
            }
            (Some(gh), Some(repo), Some(sha)) => {
                let outcome = runtime.block_on(publish(
                    gh,
                    repo,
                    sha,
                    context.pull.as_ref(),
                    args,
                    reporters,
                    &collected,
                    &decision,
                    &summary,
                    diff.as_ref(),
                    &root,
                    blob_url.clone(),
                    runner,
                ));
                match outcome {
                    Ok(url) => {
                        if url.is_some() {
                            details_url = url;
                        }
                    }
                    Err(e) if is_permission_error(&e) => {
                        let fork = context.pull.as_ref().is_some_and(|p| p.from_fork);
                        degraded = Some(format!(
                            "the token may not write to this repository{} ({}): findings are in annotations and the step summary instead",
                            if fork {
                                " (a pull request from a fork gets a read-only token)"
                            } else {
                                ""
                            },
                            e.status().map(|s| s.to_string()).unwrap_or_default()
                        ));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    if let Some(gh) = &gh {
        let usage = gh.usage();
        if usage.requests > 0 {
            runner.info(&format!(
                "GitHub API: {} request{}",
                usage.spent(),
                if usage.spent() == 1 { "" } else { "s" }
            ));
        }
    }

    if let Some(reason) = &degraded {
        runner.notice(reason);
    }
    if reporters.annotations || degraded.is_some() {
        let pointer = if reporters.summary || degraded.is_some() {
            "see the step summary"
        } else {
            "see the check run"
        };
        runner.annotate(ops_core::render::annotations::annotations(findings), pointer);
    }
    if reporters.summary || degraded.is_some() {
        runner.append_summary(&summary.markdown(200, blob_url, details_url))?;
    }

    let (errors, warnings, notices) = ops_core::finding::counts(findings);
    let filtered: u64 = reports.iter().map(|r| r.counts.filtered).sum();
    for (name, value) in [
        ("findings", findings.len().to_string()),
        ("errors", errors.to_string()),
        ("warnings", warnings.to_string()),
        ("notices", notices.to_string()),
        ("filtered", filtered.to_string()),
        ("conclusion", decision.conclusion.as_str().to_owned()),
    ] {
        runner.set_output(name, &value)?;
    }
    runner.info(&format!("{}: {}", args.name, decision.verdict));
    Ok(if decision.passed {
        ExitStatus::Success
    } else {
        ExitStatus::Failed
    })
}

/// A 403 that is not a rate limit: the token may not do this.
fn is_permission_error(error: &ops_net::Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::Status { status, limit: None, .. } if status.as_u16() == 403
    )
}

/// The change of a pull request: local git first, the PR files API when git cannot.
fn change(
    git: &git::Git,
    pull: &Pull,
    context: &Context,
    gh: Option<&GitHub>,
    runtime: &tokio::runtime::Runtime,
    runner: &Runner,
) -> Result<DiffIndex, Error> {
    let log = |m: &str| runner.info(m);
    let git_error = match git.diff_from_base("origin", &pull.base_sha, &log) {
        Ok(text) => return Ok(DiffIndex::from_git_diff(&text)),
        Err(e) => e,
    };
    let Some((owner, repo)) = &context.repository else {
        return Err(ToolError::runtime(format!(
            "cannot compute the change of pull request #{}: {git_error}",
            pull.number
        ))
        .with_hint(
            "check out the repository (`actions/checkout`) before this step, or set `filter-mode: nofilter`",
        )
        .into());
    };
    let Some(gh) = gh else {
        return Err(ToolError::runtime(format!(
            "cannot compute the change of pull request #{} from git ({git_error}) and there is no `github-token` to ask the API",
            pull.number
        ))
        .with_hint("give `github-token`, use `actions/checkout` with `fetch-depth: 0`, or set `filter-mode: nofilter`")
        .into());
    };
    runner.info(&format!(
        "{git_error}; reading the change from the pull request files API instead"
    ));
    let files: Vec<serde_json::Value> = runtime.block_on(gh.paginate(
        &format!("/repos/{owner}/{repo}/pulls/{}/files?per_page=100", pull.number),
        30,
    ))?;
    let mut index = DiffIndex::default();
    for file in &files {
        let Some(path) = file["filename"].as_str() else {
            continue;
        };
        if file["status"].as_str() == Some("removed") {
            continue;
        }
        index.add_api_file(path, file["previous_filename"].as_str(), file["patch"].as_str());
    }
    Ok(index)
}

/// The change a push made: the diff between `before` and the checked-out commit. `Err` says why
/// there is none to filter with (a new or deleted branch, `before` gone from the remote after a
/// force push, no checkout); the findings are then all reported.
fn push_change(git: &git::Git, push: &Push, runner: &Runner) -> Result<DiffIndex, String> {
    if push.created() {
        return Err("the push created the branch (`before` is all zeros), so there is no previous commit to compare with".to_owned());
    }
    if push.deleted() {
        return Err("the push deleted the branch (`after` is all zeros)".to_owned());
    }
    let log = |m: &str| runner.info(m);
    git.diff_from_commit("origin", &push.before, &log)
        .map(|text| DiffIndex::from_git_diff(&text))
        .map_err(|e| format!("cannot compute the change of the push from git ({e})"))
}

/// The GitHub reporters, in order: check run, review comments, sticky comment. Returns the check
/// run's URL.
#[allow(clippy::too_many_arguments)]
async fn publish(
    gh: &GitHub,
    repo: &(String, String),
    sha: &str,
    pull: Option<&Pull>,
    args: &cli::Args,
    reporters: Reporters,
    collected: &pipeline::Collected,
    decision: &gate::Decision,
    summary: &report::summary::Report<'_>,
    diff: Option<&DiffIndex>,
    root: &Path,
    blob_url: Option<String>,
    runner: &Runner,
) -> Result<Option<String>, ops_net::Error> {
    let mut url = None;
    if reporters.check {
        let markdown = summary.markdown(100, blob_url.clone(), None);
        let run = report::check::publish(
            gh,
            repo,
            sha,
            &args.name,
            decision,
            &collected.findings,
            &collected.extras,
            &markdown,
        )
        .await?;
        runner.info(&format!(
            "check run `{}`: {} annotation{} in {} request{}",
            args.name,
            run.annotations,
            if run.annotations == 1 { "" } else { "s" },
            run.requests,
            if run.requests == 1 { "" } else { "s" }
        ));
        url = run.html_url;
    }
    if reporters.review {
        match (pull, diff) {
            (Some(pull), Some(diff)) => {
                let outcome = report::review::publish(
                    gh,
                    repo,
                    pull.number,
                    &pull.head_sha,
                    &args.name,
                    &collected.findings,
                    &collected.extras,
                    diff,
                    args.max_comments,
                    root,
                )
                .await?;
                runner.info(&format!(
                    "review comments: {} new, {} already there, {} outdated marked resolved, {} not on the diff, {} over `max-comments`",
                    outcome.posted, outcome.already, outcome.resolved, outcome.outside_diff, outcome.over_limit
                ));
            }
            _ => runner.info("review comments: not a pull request, skipped"),
        }
    }
    if reporters.comment {
        match pull {
            Some(pull) => {
                let markdown = summary.markdown(30, blob_url, url.clone());
                let outcome = report::comment::publish(
                    gh,
                    repo,
                    pull.number,
                    &args.name,
                    &markdown,
                    !collected.findings.is_empty(),
                )
                .await?;
                runner.info(&format!("sticky comment: {outcome:?}").to_lowercase());
            }
            None => runner.info("sticky comment: not a pull request, skipped"),
        }
    }
    Ok(url)
}
