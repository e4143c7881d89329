//! Environment mode: for jobs that use GitHub Environments' required reviewers. The gate reads
//! the run's pending deployments and review log and reports who approved or rejected which
//! environment, when and with what comment; with `review`, it approves or rejects them itself
//! (the token must be a required reviewer's).
//!
//! GitHub's review log carries no timestamps, so "when" is when the gate first saw a review:
//! exact to the poll interval for reviews given while it waited, and "by" the first read for
//! reviews that were there already.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use ops_core::ExitStatus;

use crate::Ctx;
use crate::api::{Api, Approval, Pending};
use crate::cli::{OnTimeout, Review, format_span};
use crate::clock::Interval;
use crate::error::Error;
use crate::outcome::{Decision, Outcome, Row, one_line};
use crate::signal::Cancel;

/// A review as the gate saw it.
#[derive(Debug, Clone)]
struct Seen {
    approval: Approval,
    /// `at 2026-…` or `by 2026-…` (present at the first read).
    when: String,
}

/// Runs environment mode.
pub(crate) async fn run(ctx: &Ctx<'_>, cancel: &mut Cancel) -> Result<ExitStatus, Error> {
    let args = ctx.args;
    let run_id = match args.run_id {
        Some(id) => id,
        None => ctx
            .env
            .non_empty("GITHUB_RUN_ID")
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| {
                Error::input_hint(
                    "input `run-id` is not set and `GITHUB_RUN_ID` is missing",
                    "set `run-id` to the workflow run whose deployments to report",
                )
            })?,
    };
    let wanted: Vec<String> = args
        .environment
        .iter()
        .flat_map(|e| e.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect();
    let api = ctx.api()?;
    let runner = ctx.runner;
    let started = ctx.env.now().unwrap_or_else(|_| SystemTime::now());
    let stamp = |elapsed: Duration| rfc3339(started + elapsed);

    if let Some(review) = args.review {
        give_review(ctx, &api, run_id, &wanted, review).await?;
    }

    let mut interval = Interval::new(args.poll_interval.0, args.max_poll_interval.0);
    let mut seen: Vec<Seen> = Vec::new();
    let mut first = true;
    let mut waiting_before: Option<BTreeSet<String>> = None;
    let mut targets: BTreeSet<String> = wanted.iter().cloned().collect();
    let timeout = args.timeout.0;
    let mut failing: Option<String> = None;
    let timed_out = loop {
        let polled = tokio::select! {
            biased;
            sig = cancel.recv() => {
                return finish(ctx, cancelled(sig, &targets), &seen);
            }
            r = read(&api, run_id) => r,
        };
        let activity = match polled {
            Ok((pending, approvals, changed)) => {
                if let Some(was) = failing.take() {
                    runner.info(&format!("reading the run works again (it failed with: {was})"));
                }
                let when = if first {
                    format!("by {}", stamp(ctx.clock.elapsed()))
                } else {
                    format!("at {}", stamp(ctx.clock.elapsed()))
                };
                first = false;
                for a in approvals.into_iter().skip(seen.len()) {
                    announce(runner, &a);
                    seen.push(Seen {
                        approval: a,
                        when: when.clone(),
                    });
                }
                let waiting: BTreeSet<String> = pending
                    .iter()
                    .filter_map(|p| p.environment.name.clone())
                    .filter(|n| wanted.is_empty() || wanted.contains(n))
                    .collect();
                if wanted.is_empty() {
                    targets.extend(waiting.iter().cloned());
                }
                if waiting_before.as_ref() != Some(&waiting) && !waiting.is_empty() {
                    runner.info(&format!(
                        "run {run_id} waits for a review of {}{}",
                        quote(&waiting),
                        reviewers(&pending, &waiting)
                    ));
                }
                waiting_before = Some(waiting.clone());
                if waiting.is_empty() {
                    break false;
                }
                changed
            }
            Err(e) if matches!(e.status(), Some(401 | 404)) => return Err(e),
            Err(e) => {
                let text = one_line(&ops_core::exit::error_chain(&e).join(": "));
                if failing.as_deref() != Some(text.as_str()) {
                    runner.warning(&format!(
                        "reading the run failed; still waiting and trying again: {text}"
                    ));
                    failing = Some(text);
                }
                false
            }
        };
        let elapsed = ctx.clock.elapsed();
        if elapsed >= timeout {
            break true;
        }
        let pause = if failing.is_some() {
            interval.max()
        } else {
            interval.next(activity)
        };
        let pause = pause.min(timeout - elapsed);
        tokio::select! {
            biased;
            sig = cancel.recv() => {
                return finish(ctx, cancelled(sig, &targets), &seen);
            }
            () = ctx.clock.sleep(pause) => {}
        }
    };
    if wanted.is_empty() {
        for s in &seen {
            targets.extend(s.approval.environments.iter().filter_map(|e| e.name.clone()));
        }
    }
    let decided = if timed_out {
        let decision = match args.on_timeout {
            OnTimeout::Deny => Decision::Denied,
            OnTimeout::Approve => Decision::Approved,
            OnTimeout::Fail => Decision::TimedOut,
        };
        (
            decision,
            format!(
                "run {run_id} still waits for a review of {} after {}; on-timeout is `{}`",
                quote(&targets),
                format_span(timeout),
                args.on_timeout.as_str()
            ),
        )
    } else {
        decide(run_id, &targets, &seen)
    };
    finish(ctx, decided, &seen)
}

/// Approves or rejects the run's waiting deployments (those in `wanted`, or all).
async fn give_review(
    ctx: &Ctx<'_>,
    api: &Api,
    run_id: u64,
    wanted: &[String],
    review: Review,
) -> Result<(), Error> {
    let (pending, _) = api.pending(run_id).await?;
    let chosen: Vec<&Pending> = pending
        .iter()
        .filter(|p| wanted.is_empty() || p.environment.name.as_ref().is_some_and(|n| wanted.contains(n)))
        .collect();
    if chosen.is_empty() {
        return Err(Error::input(format!(
            "input `review`: run {run_id} is not waiting for a review{}",
            if wanted.is_empty() {
                String::new()
            } else {
                format!(
                    " of {}",
                    wanted
                        .iter()
                        .map(|w| format!("`{w}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        )));
    }
    let refused: Vec<String> = chosen
        .iter()
        .filter(|p| !p.current_user_can_approve)
        .filter_map(|p| p.environment.name.clone())
        .collect();
    if !refused.is_empty() {
        return Err(Error::input_hint(
            format!(
                "input `review`: the token's user is not a required reviewer of {}",
                refused
                    .iter()
                    .map(|w| format!("`{w}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "pass the token of a required reviewer (a workflow's GITHUB_TOKEN cannot review deployments)",
        ));
    }
    let ids: Vec<u64> = chosen.iter().filter_map(|p| p.environment.id).collect();
    let approve = review == Review::Approve;
    let comment = ctx.args.review_comment.clone().unwrap_or_else(|| {
        format!(
            "{} by approve-gate",
            if approve { "Approved" } else { "Rejected" }
        )
    });
    api.review(run_id, &ids, approve, &comment).await?;
    let names: Vec<String> = chosen.iter().filter_map(|p| p.environment.name.clone()).collect();
    ctx.runner.info(&format!(
        "{} the deployment of run {run_id} to {}",
        if approve { "approved" } else { "rejected" },
        names
            .iter()
            .map(|w| format!("`{w}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(())
}

async fn read(api: &Api, run_id: u64) -> Result<(Vec<Pending>, Vec<Approval>, bool), Error> {
    let (pending, a) = api.pending(run_id).await?;
    let (approvals, b) = api.approvals(run_id).await?;
    Ok((pending, approvals, a || b))
}

fn announce(runner: &ops_core::Runner, a: &Approval) {
    let envs: Vec<String> = a
        .environments
        .iter()
        .filter_map(|e| e.name.clone())
        .map(|n| format!("`{n}`"))
        .collect();
    let comment = if a.comment.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", one_line(&a.comment))
    };
    runner.info(&format!(
        "{} {} {}{comment}",
        a.user.login,
        match a.state.as_str() {
            "approved" => "approved",
            "rejected" => "rejected",
            _ => "commented on",
        },
        envs.join(", ")
    ));
}

fn reviewers(pending: &[Pending], waiting: &BTreeSet<String>) -> String {
    let mut names = BTreeSet::new();
    for p in pending {
        if p.environment.name.as_ref().is_some_and(|n| waiting.contains(n)) {
            for r in &p.reviewers {
                let who = &r["reviewer"];
                if let Some(login) = who["login"].as_str() {
                    names.insert(login.to_owned());
                } else if let Some(slug) = who["slug"].as_str() {
                    names.insert(format!("team {slug}"));
                }
            }
        }
    }
    if names.is_empty() {
        String::new()
    } else {
        format!(
            " (reviewers: {})",
            names.into_iter().collect::<Vec<_>>().join(", ")
        )
    }
}

fn quote(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        return "any environment".to_owned();
    }
    set.iter()
        .map(|w| format!("`{w}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The decision from the review log: any rejection denies; every target approved approves;
/// a target without a review denies (a gate fails closed).
fn decide(run_id: u64, targets: &BTreeSet<String>, seen: &[Seen]) -> (Decision, String) {
    if targets.is_empty() {
        return (
            Decision::Denied,
            format!(
                "run {run_id} has no environment reviews and waits for none; set `environment` to name the ones to check"
            ),
        );
    }
    let mut approved = Vec::new();
    let mut missing = Vec::new();
    for t in targets {
        let last =
            seen.iter().rev().map(|s| &s.approval).find(|a| {
                a.state != "pending" && a.environments.iter().any(|e| e.name.as_deref() == Some(t))
            });
        match last {
            Some(a) if a.state == "rejected" => {
                let comment = if a.comment.trim().is_empty() {
                    String::new()
                } else {
                    format!(" ({})", one_line(&a.comment))
                };
                return (
                    Decision::Denied,
                    format!("`{t}` was rejected by {}{comment}", a.user.login),
                );
            }
            Some(a) => approved.push(format!("`{t}` by {}", a.user.login)),
            None => missing.push(format!("`{t}`")),
        }
    }
    if missing.is_empty() {
        (Decision::Approved, format!("approved: {}", approved.join(", ")))
    } else {
        (
            Decision::Denied,
            format!("no review of {} is recorded for run {run_id}", missing.join(", ")),
        )
    }
}

fn cancelled(sig: &str, targets: &BTreeSet<String>) -> (Decision, String) {
    (
        Decision::Denied,
        format!(
            "cancelled: the job received {sig} while waiting for {}",
            quote(targets)
        ),
    )
}

fn finish(ctx: &Ctx<'_>, (decision, reason): (Decision, String), seen: &[Seen]) -> Result<ExitStatus, Error> {
    let mut approvers: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for s in seen {
        let a = &s.approval;
        if a.state == "approved" && !approvers.iter().any(|x| x.eq_ignore_ascii_case(&a.user.login)) {
            approvers.push(a.user.login.clone());
        }
        let envs: Vec<String> = a.environments.iter().filter_map(|e| e.name.clone()).collect();
        rows.push(Row {
            login: a.user.login.clone(),
            vote: a.state.clone(),
            when: s.when.clone(),
            note: a.comment.clone(),
            link: None,
            environment: Some(envs.join(", ")),
        });
    }
    let outcome = Outcome {
        decision,
        approvers,
        reason,
        issue: None,
        waited: ctx.clock.elapsed(),
        rows,
        ignored: Vec::new(),
        mode: "environment",
    };
    outcome.report(ctx.runner)
}

fn rfc3339(t: SystemTime) -> String {
    jiff::Timestamp::try_from(t)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| "unknown time".to_owned())
}
