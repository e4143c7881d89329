//! smoke-test: post-deploy HTTP checks that answer one question with evidence — is the version we just
//! deployed serving correctly? — and say `promote` or `rollback`.
//!
//! The flow: [`plan`] reads the checks file and inputs and finds every mistake before a request is
//! sent; [`engine`] waits for readiness ([`readiness`]), checks the served version, and runs the checks
//! with bounded concurrency ([`asserts`], [`capture`], [`latency`]); [`hurl`] runs existing `.hurl`
//! files; [`outcome`] decides; [`report`] writes JUnit, the step summary and annotations.

pub mod asserts;
pub mod capture;
pub mod cli;
pub mod engine;
pub mod error;
pub mod http;
pub mod hurl;
pub mod latency;
pub mod measure;
pub mod outcome;
pub mod plan;
pub mod query;
pub mod readiness;
pub mod report;
pub mod spec;
pub mod template;

use std::path::{Path, PathBuf};
use std::time::Instant;

use ops_core::secret::redact_url;
use ops_core::{Env, ExitStatus, Runner};

use crate::cli::Args;
use crate::error::{ChecksError, Error};
use crate::outcome::{Case, CaseKind, Status, decide};
use crate::plan::{Origin, Settings};

/// Runs smoke-test: `Success` to promote, `Failed` to roll back.
pub fn run(args: &Args, env: &Env, runner: &Runner) -> Result<ExitStatus, Error> {
    let started = Instant::now();
    let settings = settings(args);
    let source = load_checks(args.checks.as_deref(), env)?;
    if source.is_none() && settings.url.is_none() && args.hurl.is_empty() {
        return Err(Error::NothingToCheck);
    }
    let lookup = |name: &str| env.var(name).map(str::to_owned);
    let plan = plan::build(
        source
            .as_ref()
            .map(|(origin, text)| (origin.clone(), text.as_str())),
        &settings,
        &lookup,
    )?;
    for value in &plan.masks {
        runner.mask(value);
    }
    let hurl_files = hurl::expand(&args.hurl, &env.workspace())?;
    let hurl_bin = match hurl_files.len() {
        0 => None,
        count => Some(hurl::find(env).ok_or(Error::HurlMissing { count })?),
    };
    let roots = load_roots(args.ca_cert.as_deref(), &env.workspace())?;
    let delay_scale = readiness::delay_scale(env.var(readiness::DELAY_SCALE_VAR)).ok_or_else(|| {
        Error::Checks(ChecksError {
            origin: format!("`{}`", readiness::DELAY_SCALE_VAR),
            line: None,
            field: None,
            message: "expected a number ≥ 0 (`0` never sleeps)".to_owned(),
            hint: None,
        })
    })?;
    let now = env.now().map_err(|e| {
        Error::Checks(ChecksError {
            origin: "`SOURCE_DATE_EPOCH`".to_owned(),
            line: None,
            field: None,
            message: e.to_string(),
            hint: None,
        })
    })?;

    runner.info(&format!(
        "smoke-test: {} check{} against {}{}",
        plan.checks.len(),
        if plan.checks.len() == 1 { "" } else { "s" },
        plan.base_url
            .as_deref()
            .map_or_else(|| "absolute URLs".to_owned(), redact_url),
        if hurl_files.is_empty() {
            String::new()
        } else {
            format!(", plus {} .hurl file(s)", hurl_files.len())
        }
    ));

    let pool = http::Pool::new(roots);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::System {
            what: "cannot start the async runtime".to_owned(),
            source,
        })?;
    let cases = runtime.block_on(async {
        let engine = engine::Engine {
            plan: &plan,
            pool: &pool,
            runner,
            now,
            delay_scale,
        };
        let mut cases = engine.run().await;
        if let Some(bin) = &hurl_bin {
            let ready = !cases
                .iter()
                .any(|c| c.kind == CaseKind::Readiness && c.status() != Status::Passed);
            if ready {
                let workdir = work_dir(env)?;
                let result =
                    hurl::run(bin, &hurl_files, plan.base_url.as_deref(), env, runner, &workdir).await;
                let _ = std::fs::remove_dir_all(&workdir);
                cases.extend(result?);
            } else {
                for (shown, _) in &hurl_files {
                    let mut case = Case::new(shown.clone(), CaseKind::Hurl);
                    case.file = Some(shown.clone());
                    case.skipped = Some("the service never became ready".to_owned());
                    cases.push(case);
                }
            }
        }
        Ok::<_, Error>(cases)
    })?;

    let decision = decide(&cases);
    let redact = |text: &str| runner.redact(text);
    let meta = report::Meta {
        environment: plan.environment.clone(),
        base_url: plan.base_url.as_deref().map(redact_url),
        expected_version: plan.version.as_ref().map(|v| v.expect.clone()),
    };
    if let Some(path) = &args.junit_report {
        let report = report::junit::report(&cases, &meta, &decision, started.elapsed(), &redact);
        write_junit(path, &report, env, runner)?;
    }
    runner.append_summary(&report::summary::render(&cases, &meta, &decision, &redact))?;
    runner.annotate(
        report::annotations(&cases, &redact),
        "see the step summary for every check",
    );

    let reason = redact(&decision.reason);
    runner.set_output("decision", decision.word())?;
    runner.set_output("reason", &reason)?;
    runner.set_output("passed", &decision.passed.to_string())?;
    runner.set_output("failed", &decision.failed.to_string())?;
    runner.set_output(
        "p95-ms",
        &decision
            .p95
            .map(|p| measure::millis(p).to_string())
            .unwrap_or_default(),
    )?;
    runner.info(&format!("decision: {} ({reason})", decision.word()));
    Ok(if decision.promote {
        ExitStatus::Success
    } else {
        ExitStatus::Failed
    })
}

fn settings(args: &Args) -> Settings {
    Settings {
        base_url: args.base_url.clone(),
        environment: args.environment.clone(),
        concurrency: args.concurrency,
        timeout: args.timeout,
        min_samples: args.min_samples,
        url: args.url.clone(),
        expect_status: args.expect_status.clone(),
        expect_body: args.expect_body.clone(),
        expect_version: args.expect_version.clone(),
        version_url: args.version_url.clone(),
        version_field: args.version_field.clone(),
        version_header: args.version_header.clone(),
        wait_url: args.wait_url.clone(),
        wait_timeout: args.wait_timeout,
        wait_attempt_timeout: args.wait_attempt_timeout,
    }
}

/// The `checks` input: YAML when it spans several lines, else a path relative to the workspace.
fn load_checks(checks: Option<&str>, env: &Env) -> Result<Option<(Origin, String)>, Error> {
    let Some(raw) = checks.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    if raw.contains('\n') {
        return Ok(Some((Origin::Inline, raw.to_owned())));
    }
    let workspace = env.workspace();
    let path = if Path::new(raw).is_absolute() {
        PathBuf::from(raw)
    } else {
        workspace.join(raw)
    };
    let shown = path
        .strip_prefix(&workspace)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| raw.to_owned());
    let text = std::fs::read_to_string(&path).map_err(|source| Error::ReadChecks {
        path: shown.clone(),
        source,
    })?;
    Ok(Some((Origin::File(shown), text)))
}

fn load_roots(path: Option<&Path>, workspace: &Path) -> Result<Vec<reqwest::Certificate>, Error> {
    let Some(path) = path.filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(Vec::new());
    };
    let full = if path.is_absolute() {
        path.to_path_buf()
    } else {
        workspace.join(path)
    };
    let bad = |message: String| Error::CaCert {
        path: path.to_path_buf(),
        message,
    };
    let pem = std::fs::read(&full).map_err(|e| bad(e.to_string()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no `-----BEGIN CERTIFICATE-----` block in it".to_owned()));
    }
    Ok(certs)
}

fn work_dir(env: &Env) -> Result<PathBuf, Error> {
    let dir = env
        .runner_temp()
        .join(format!("smoke-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|source| Error::System {
        what: format!("cannot create `{}`", dir.display()),
        source,
    })?;
    Ok(dir)
}

fn write_junit(
    path: &Path,
    report: &ops_core::render::junit::quick_junit::Report,
    env: &Env,
    runner: &Runner,
) -> Result<(), Error> {
    let full = if path.is_absolute() {
        path.to_path_buf()
    } else {
        env.workspace().join(path)
    };
    let io = |source: std::io::Error| Error::WriteReport {
        path: path.to_path_buf(),
        source,
    };
    let xml = report
        .to_string()
        .map_err(|e| io(std::io::Error::other(e.to_string())))?;
    // every text was redacted as the report was built; this catches anything that slipped through
    let xml = runner.redact(&xml);
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(&full, xml).map_err(io)?;
    runner.info(&format!("JUnit report: {}", path.display()));
    Ok(())
}
