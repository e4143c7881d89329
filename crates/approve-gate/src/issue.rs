//! Issue mode: open an approval issue, wait for comments, count them, and close the issue on every
//! exit (approved, denied, timed out, cancelled, failed).
//!
//! Everything that can be checked is checked before the issue is opened (inputs, the token's
//! view of each team, whether the quorum can be met at all), so bad input never leaves an issue
//! behind. Once it is open, the wait runs inside a `select!` with the cancellation signals, and
//! whatever ends it, the issue gets a closing comment and is closed.
//!
//! The issue body and the closing comment carry hidden marks of this run ([`Marks`]): when the
//! answer to creating either is lost, the gate finds it by its mark instead of creating it again.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use ops_core::{ExitStatus, Runner};

use crate::Ctx;
use crate::api::{Api, Comment, Issue};
use crate::approvers::Approvers;
use crate::cli::format_span;
use crate::clock::Interval;
use crate::error::Error;
use crate::outcome::{Decision, Outcome, Row, cell, one_line, write_outputs};
use crate::signal::Cancel;
use crate::tally::{Ballot, Rules, Tally, Verdict, count};
use crate::words::{APPROVE_WORDS, DENY_WORDS, Vote, Words};

/// GitHub's limit on assignees per issue.
const MAX_ASSIGNEES: usize = 10;
/// A "still waiting" line this often (of the gate's clock), so a long wait shows it is alive.
const HEARTBEAT: Duration = Duration::from_secs(15 * 60);
/// Real-time budget for the closing comment and close after a cancellation: the runner sends
/// SIGKILL about ten seconds after its first signal.
const CLOSE_BUDGET_CANCELLED: Duration = Duration::from_secs(7);
/// Real-time budget for closing otherwise.
const CLOSE_BUDGET: Duration = Duration::from_secs(120);

/// Everything validated before the issue is opened.
#[derive(Debug)]
struct Plan {
    approvers: Approvers,
    words: Words,
    rules: Rules,
    /// The workflow's actor and triggering actor.
    actors: Vec<String>,
    /// Who gets assigned (at most 10).
    assignees: Vec<String>,
    title: String,
    timeout: Duration,
}

/// Hidden marks of this run (HTML comments, not shown on GitHub), by which the issue and the
/// closing comment are found when the answer to creating them is lost. Random, so that two runs,
/// or two jobs of one run, never take each other's issue for theirs.
#[derive(Debug)]
struct Marks {
    issue: String,
    closing: String,
}

impl Marks {
    fn new() -> Self {
        let id = ops_core::runner::random_token();
        Self {
            issue: format!("<!-- approve-gate request {id} -->"),
            closing: format!("<!-- approve-gate closing {id} -->"),
        }
    }
}

/// How the wait ended.
enum End {
    Verdict(Tally),
    TimedOut(Tally),
    Cancelled(&'static str, Tally),
}

/// What the gate knows about the comments so far.
#[derive(Debug, Default)]
struct Seen {
    /// Comments already reported as not counting: id → updated_at when reported.
    noted: HashMap<u64, String>,
    /// Why comments did not count, for the summary (latest per comment).
    ignored: HashMap<u64, String>,
    /// `(id, updated_at)` of every comment at the last poll: a change is activity.
    fingerprint: Vec<(u64, String)>,
    /// The rows of valid votes at the last poll.
    rows: Vec<Row>,
}

/// Runs issue mode.
pub(crate) async fn run(ctx: &Ctx<'_>, cancel: &mut Cancel) -> Result<ExitStatus, Error> {
    let api = ctx.api()?;
    // A cancellation before the issue exists ends the run with nothing to clean up.
    let plan = tokio::select! {
        biased;
        sig = cancel.recv() => {
            let reason = format!("cancelled: the job received {sig} before the approval issue was opened");
            write_outputs(ctx.runner, Some(Decision::Denied), &[], &reason, None, ctx.clock.elapsed(), &[])?;
            ctx.runner.info(&format!("decision: denied ({reason})"));
            return Ok(Decision::Denied.exit_status());
        }
        p = plan(ctx, &api) => p?,
    };
    let marks = Marks::new();
    let body = body(ctx, &plan, &marks.issue);
    let opened = api
        .create_issue(
            &plan.title,
            &body,
            &labels(&ctx.args.labels),
            &plan.assignees,
            &marks.issue,
        )
        .await?;
    let (issue, assigned) = (opened.issue, opened.assigned);
    let runner = ctx.runner;
    if opened.found {
        runner.info(&format!(
            "the answer to opening the approval issue was lost; found issue #{} by its mark instead of opening another",
            issue.number
        ));
    }
    if !assigned {
        runner.warning(&format!(
            "opened issue #{} without assignees: GitHub refused to assign {}",
            issue.number,
            plan.assignees.join(", ")
        ));
    }
    runner.info(&format!(
        "waiting for {} on {} (timeout {}, on-timeout `{}`)",
        need(&plan.rules),
        issue.html_url,
        format_span(plan.timeout),
        ctx.args.on_timeout.as_str()
    ));
    let mut seen = Seen::default();
    let ended = wait(ctx, &api, &plan, &issue, &mut seen, cancel).await;
    let waited = ctx.clock.elapsed();
    let issue_ref = (issue.number, issue.html_url.clone());
    match ended {
        Ok(end) => {
            let cancelled = matches!(end, End::Cancelled(..));
            let outcome = outcome(ctx, &plan, end, &seen, issue_ref, waited);
            let closing = closing_comment(&outcome, cancelled);
            let state = if outcome.decision == Decision::Approved {
                "completed"
            } else {
                "not_planned"
            };
            let budget = if cancelled {
                CLOSE_BUDGET_CANCELLED
            } else {
                CLOSE_BUDGET
            };
            // A decision stands even if GitHub will not take the closing comment: say so loudly,
            // but do not turn an approval into a failed step.
            if let Err(e) = close(&api, issue.number, &closing, &marks.closing, state, budget).await {
                runner.warning(&format!(
                    "could not close the approval issue #{}: {}",
                    issue.number,
                    ops_core::exit::error_chain(&e).join(": ")
                ));
            }
            outcome.report(runner)
        }
        Err(error) => {
            let text = format!(
                "**The gate failed** and stopped waiting: {}\n\nThis request is closed; re-run the job to ask again.",
                one_line(&ops_core::exit::error_chain(&error).join(": "))
            );
            if let Err(close_error) = close(
                &api,
                issue.number,
                &text,
                &marks.closing,
                "not_planned",
                CLOSE_BUDGET,
            )
            .await
            {
                runner.warning(&format!(
                    "could not close the approval issue #{}: {}",
                    issue.number,
                    ops_core::exit::error_chain(&close_error).join(": ")
                ));
            }
            write_outputs(
                runner,
                None,
                &[],
                &format!("the gate failed: {error}"),
                Some(&issue_ref),
                waited,
                &seen.rows,
            )?;
            Err(error)
        }
    }
}

/// Validates everything before anything is created.
async fn plan(ctx: &Ctx<'_>, api: &Api) -> Result<Plan, Error> {
    let args = ctx.args;
    let approvers =
        Approvers::parse(&args.approvers).map_err(|m| Error::input(format!("input `approvers`: {m}")))?;
    if approvers.is_empty() {
        return Err(Error::input_hint(
            "input `approvers` is empty: issue mode needs at least one user or team",
            "list logins and `org/team` slugs, one per line: `approvers: alice, octo/sre`",
        ));
    }
    let words = Words::new(&args.approve_words, &args.deny_words).map_err(Error::input)?;
    if args.minimum_approvals == 0 {
        return Err(Error::input("input `minimum-approvals` must be at least 1"));
    }
    if args.minimum_denials == 0 {
        return Err(Error::input("input `minimum-denials` must be at least 1"));
    }
    let actors: Vec<String> = ["GITHUB_ACTOR", "GITHUB_TRIGGERING_ACTOR"]
        .iter()
        .filter_map(|v| ctx.env.non_empty(v))
        .fold(Vec::new(), |mut acc, a| {
            if !acc.iter().any(|x: &String| x.eq_ignore_ascii_case(a)) {
                acc.push(a.to_owned());
            }
            acc
        });
    let excluded =
        |login: &str| !args.allow_self_approval && actors.iter().any(|a| a.eq_ignore_ascii_case(login));

    // The token must be able to read every team: otherwise a member's approval could be neither
    // confirmed nor refused. Reading the members also shows whether the quorum can be met.
    let mut eligible: BTreeSet<String> = approvers
        .users
        .iter()
        .filter(|u| !excluded(u))
        .map(|u| u.to_ascii_lowercase())
        .collect();
    let mut assignees: Vec<String> = approvers.users.iter().filter(|u| !excluded(u)).cloned().collect();
    for team in &approvers.teams {
        let members = api.team_members(&team.org, &team.slug).await?;
        let able: Vec<&String> = members.iter().filter(|m| !excluded(m)).collect();
        if u32::try_from(able.len()).unwrap_or(u32::MAX) < team.quorum {
            return Err(Error::input_hint(
                format!(
                    "input `approvers`: `{team}={}` cannot be met: the team has {} member(s) who may approve",
                    team.quorum,
                    able.len()
                ),
                "lower the team's quorum, or add members to the team",
            ));
        }
        for m in able {
            if eligible.insert(m.to_ascii_lowercase()) {
                assignees.push(m.clone());
            }
        }
    }
    let possible = u32::try_from(eligible.len()).unwrap_or(u32::MAX);
    if possible < args.minimum_approvals {
        let hint = if actors.is_empty() || args.allow_self_approval {
            "list more approvers, or lower `minimum-approvals`".to_owned()
        } else {
            format!(
                "list more approvers or lower `minimum-approvals`; {} started this run and cannot approve it \
                 unless `allow-self-approval` is true",
                actors.join(" and ")
            )
        };
        return Err(Error::input_hint(
            format!(
                "input `minimum-approvals` is {} but only {possible} listed approver(s) may approve",
                args.minimum_approvals
            ),
            hint,
        ));
    }
    assignees.truncate(MAX_ASSIGNEES);
    let timeout = args.timeout.0;
    let rules = Rules {
        minimum_approvals: args.minimum_approvals,
        minimum_denials: args.minimum_denials,
        quorums: approvers
            .teams
            .iter()
            .filter(|t| t.quorum > 0)
            .map(|t| (t.key(), t.quorum))
            .collect(),
    };
    let title = args.issue_title.clone().unwrap_or_else(|| default_title(ctx));
    Ok(Plan {
        approvers,
        words,
        rules,
        actors,
        assignees,
        title,
        timeout,
    })
}

fn labels(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lines.iter().flat_map(|l| l.split(',')).map(str::trim) {
        if !l.is_empty() && !out.iter().any(|o| o == l) {
            out.push(l.to_owned());
        }
    }
    out
}

fn short_sha(ctx: &Ctx<'_>) -> Option<String> {
    ctx.env
        .non_empty("GITHUB_SHA")
        .map(|s| s.chars().take(7).collect())
}

fn default_title(ctx: &Ctx<'_>) -> String {
    let repo = ctx
        .env
        .non_empty("GITHUB_REPOSITORY")
        .unwrap_or("this repository");
    let mut title = match short_sha(ctx) {
        Some(sha) => format!("Approve deployment of {repo}@{sha}"),
        None => format!("Approve deployment of {repo}"),
    };
    if !ctx.args.environment.is_empty() {
        title.push_str(" to ");
        title.push_str(&ctx.args.environment.join(", "));
    }
    title
}

/// `2 approvals (octo/sre: 1)`.
fn need(rules: &Rules) -> String {
    let mut s = format!(
        "{} approval{}",
        rules.minimum_approvals,
        if rules.minimum_approvals == 1 { "" } else { "s" }
    );
    if !rules.quorums.is_empty() {
        let q: Vec<String> = rules.quorums.iter().map(|(t, n)| format!("{t}: {n}")).collect();
        s.push_str(&format!(" ({})", q.join(", ")));
    }
    s
}

/// The issue's text; it ends with `mark`, hidden.
fn body(ctx: &Ctx<'_>, plan: &Plan, mark: &str) -> String {
    let args = ctx.args;
    let env = ctx.env;
    let server = env.github_server_url();
    let repo = env.non_empty("GITHUB_REPOSITORY").unwrap_or_default();
    let mut md = String::from("## Deployment approval\n\n");
    let mut facts = Vec::new();
    if let Some(url) = env.run_url() {
        let workflow = env.non_empty("GITHUB_WORKFLOW").unwrap_or("workflow run");
        facts.push(format!("**Run:** [{workflow}]({url})"));
    }
    if let Some(sha) = env.non_empty("GITHUB_SHA") {
        let short: String = sha.chars().take(7).collect();
        facts.push(format!("**Commit:** [`{short}`]({server}/{repo}/commit/{sha})"));
        if let Some(base) = &args.compare_base {
            facts.push(format!(
                "**Changes:** [`{base}...{short}`]({server}/{repo}/compare/{base}...{sha})"
            ));
        }
    }
    if let Some(r) = env.non_empty("GITHUB_REF_NAME") {
        facts.push(format!("**Ref:** `{r}`"));
    }
    if !args.environment.is_empty() {
        facts.push(format!("**Environment:** `{}`", args.environment.join("`, `")));
    }
    for f in facts {
        md.push_str(&format!("- {f}\n"));
    }
    if let Some(s) = args.deploy_summary.as_deref().filter(|s| !s.trim().is_empty()) {
        md.push_str(&format!("\n### What will be deployed\n\n{}\n", s.trim()));
    }
    if let Some(s) = args.smoke_results.as_deref().filter(|s| !s.trim().is_empty()) {
        md.push_str(&format!("\n### Smoke test results\n\n{}\n", s.trim()));
    }
    let extra = |list: &[String]| {
        list.iter()
            .map(|w| w.trim())
            .filter(|w| !w.is_empty())
            .map(|w| format!("`{w}`"))
            .collect::<Vec<_>>()
    };
    let mut approve_words: Vec<String> = APPROVE_WORDS.iter().map(|w| format!("`{w}`")).collect();
    approve_words.extend(extra(&args.approve_words));
    let mut deny_words: Vec<String> = DENY_WORDS.iter().map(|w| format!("`{w}`")).collect();
    deny_words.extend(extra(&args.deny_words));
    md.push_str("\n### How to respond\n\n");
    md.push_str(&format!(
        "- Approve: comment `/approve` or one of {}.\n- Deny: comment `/deny <reason>` or one of {} (the lines below it are the reason).\n",
        approve_words.join(", "),
        deny_words.join(", ")
    ));
    md.push_str(
        "- The first line of a comment decides. Edited comments do not count: post a new comment instead.\n",
    );
    md.push_str(&format!("- **Approvers:** {}\n", plan.approvers.mentions()));
    let denials = if args.minimum_denials == 1 {
        "any denial denies".to_owned()
    } else {
        format!("{} denials deny", args.minimum_denials)
    };
    md.push_str(&format!(
        "- **Needed:** {}; {denials}. Only approvers with write access count, each once.\n",
        need(&plan.rules)
    ));
    if !plan.actors.is_empty() && !args.allow_self_approval {
        md.push_str(&format!(
            "- **Cannot approve:** {} (started this run)\n",
            plan.actors
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let deadline = ctx
        .env
        .now()
        .ok()
        .and_then(|now| rfc3339(now + plan.timeout))
        .map(|t| format!(" (until {t})"))
        .unwrap_or_default();
    md.push_str(&format!(
        "- **Timeout:** {}{deadline}; then the gate {}.\n",
        format_span(plan.timeout),
        match args.on_timeout {
            crate::cli::OnTimeout::Deny => "denies",
            crate::cli::OnTimeout::Approve => "approves",
            crate::cli::OnTimeout::Fail => "fails as timed out",
        }
    ));
    md.push_str("\nThis issue is closed when the gate decides, times out or is cancelled.\n");
    md.push_str(&format!("\n{mark}\n"));
    md
}

fn rfc3339(t: std::time::SystemTime) -> Option<String> {
    jiff::Timestamp::try_from(t)
        .ok()
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// Polls until a verdict, the timeout or a signal.
async fn wait(
    ctx: &Ctx<'_>,
    api: &Api,
    plan: &Plan,
    issue: &Issue,
    seen: &mut Seen,
    cancel: &mut Cancel,
) -> Result<End, Error> {
    let runner = ctx.runner;
    let mut interval = Interval::new(ctx.args.poll_interval.0, ctx.args.max_poll_interval.0);
    let mut last = count(&plan.rules, &[]);
    let mut failing: Option<String> = None;
    let mut next_heartbeat = HEARTBEAT;
    loop {
        let polled = tokio::select! {
            biased;
            sig = cancel.recv() => return Ok(End::Cancelled(sig, last)),
            r = poll(ctx, api, plan, issue, seen) => r,
        };
        let activity = match polled {
            Ok((tally, activity)) => {
                if let Some(was) = failing.take() {
                    runner.info(&format!("reading comments works again (it failed with: {was})"));
                }
                report_changes(runner, &last, &tally);
                last = tally;
                if last.verdict != Verdict::Pending {
                    return Ok(End::Verdict(last));
                }
                activity
            }
            Err(e) if fatal(&e) => return Err(e),
            Err(e) => {
                let text = one_line(&ops_core::exit::error_chain(&e).join(": "));
                if failing.as_deref() != Some(text.as_str()) {
                    runner.warning(&format!(
                        "reading comments failed; still waiting and trying again: {text}"
                    ));
                    failing = Some(text);
                }
                false
            }
        };
        let elapsed = ctx.clock.elapsed();
        if elapsed >= plan.timeout {
            return Ok(End::TimedOut(last));
        }
        if elapsed >= next_heartbeat {
            runner.info(&format!(
                "still waiting: {}; {} left",
                last.progress(),
                format_span(plan.timeout - elapsed)
            ));
            next_heartbeat = elapsed + HEARTBEAT;
        }
        let mut pause = interval.next(activity);
        if failing.is_some() {
            pause = interval.max();
        }
        let pause = pause.min(plan.timeout - elapsed);
        tokio::select! {
            biased;
            sig = cancel.recv() => return Ok(End::Cancelled(sig, last)),
            () = ctx.clock.sleep(pause) => {}
        }
    }
}

/// Failures that waiting longer cannot fix: a rejected token, the issue gone.
fn fatal(e: &Error) -> bool {
    matches!(e.status(), Some(401 | 404 | 410)) || !matches!(e, Error::Api { .. })
}

/// Prints one line per change: a new approval, a new denial.
fn report_changes(runner: &Runner, before: &Tally, now: &Tally) {
    for login in now.approvers.iter().filter(|l| !before.approvers.contains(l)) {
        let rest = now.missing();
        if rest.is_empty() {
            runner.info(&format!("{login} approved ({})", now.progress()));
        } else {
            runner.info(&format!(
                "{login} approved ({}); waiting for {rest}",
                now.progress()
            ));
        }
    }
    for (login, reason) in now.deniers.iter().filter(|d| !before.deniers.contains(d)) {
        match reason {
            Some(r) => runner.info(&format!("{login} denied: {}", one_line(r))),
            None => runner.info(&format!("{login} denied")),
        }
    }
}

/// One poll: read every comment, judge the votes, count.
async fn poll(
    ctx: &Ctx<'_>,
    api: &Api,
    plan: &Plan,
    issue: &Issue,
    seen: &mut Seen,
) -> Result<(Tally, bool), Error> {
    let (comments, _) = api.comments(issue.number).await?;
    let fingerprint: Vec<(u64, String)> = comments.iter().map(|c| (c.id, c.updated_at.clone())).collect();
    let activity = fingerprint != seen.fingerprint;
    seen.fingerprint = fingerprint;
    let mut ballots = Vec::new();
    let mut rows = Vec::new();
    for c in &comments {
        let Some(vote) = plan.words.classify(c.body.as_deref().unwrap_or_default()) else {
            continue;
        };
        let login = c.user.as_ref().map_or("ghost", |u| u.login.as_str());
        match judge(ctx, api, plan, issue, c, login, &vote).await? {
            Ok(teams) => {
                seen.ignored.remove(&c.id);
                rows.push(Row {
                    login: login.to_owned(),
                    vote: match &vote {
                        Vote::Approve => "approved".to_owned(),
                        Vote::Deny(_) => "denied".to_owned(),
                    },
                    when: c.created_at.clone(),
                    note: match &vote {
                        Vote::Approve => String::new(),
                        Vote::Deny(r) => r.clone().unwrap_or_default(),
                    },
                    link: (!c.html_url.is_empty()).then(|| c.html_url.clone()),
                    environment: None,
                });
                ballots.push(Ballot {
                    login: login.to_owned(),
                    vote,
                    teams,
                });
            }
            Err(why) => {
                let what = match vote {
                    Vote::Approve => "an approval",
                    Vote::Deny(_) => "a denial",
                };
                let line = format!("{what} by {login} does not count: {why}");
                if seen.noted.get(&c.id) != Some(&c.updated_at) {
                    ctx.runner.info(&line);
                    seen.noted.insert(c.id, c.updated_at.clone());
                }
                seen.ignored.insert(c.id, format!("{login}: {why}"));
            }
        }
    }
    seen.rows = rows;
    Ok((count(&plan.rules, &ballots), activity))
}

/// Whether a vote counts: `Ok(Ok(teams))` with the quorum teams the voter is in, `Ok(Err(why))`
/// when it does not.
async fn judge(
    ctx: &Ctx<'_>,
    api: &Api,
    plan: &Plan,
    issue: &Issue,
    c: &Comment,
    login: &str,
    vote: &Vote,
) -> Result<Result<Vec<String>, String>, Error> {
    if before(&c.created_at, &issue.created_at) {
        return Ok(Err(
            "it was written before the approval issue was opened".to_owned()
        ));
    }
    if c.updated_at != c.created_at {
        return Ok(Err(
            "the comment was edited; edited comments do not count, post a new comment".to_owned(),
        ));
    }
    if matches!(vote, Vote::Approve)
        && !ctx.args.allow_self_approval
        && plan.actors.iter().any(|a| a.eq_ignore_ascii_case(login))
    {
        return Ok(Err(format!(
            "{login} started this run and cannot approve it (set `allow-self-approval: true` to allow)"
        )));
    }
    let mut quorum_teams = Vec::new();
    let mut listed = plan.approvers.lists_user(login);
    for team in &plan.approvers.teams {
        // Membership of a quorum team always matters; of another team only while still unlisted.
        if (team.quorum > 0 || !listed) && api.is_member(&team.org, &team.slug, login).await? {
            listed = true;
            if team.quorum > 0 {
                quorum_teams.push(team.key());
            }
        }
    }
    if !listed {
        return Ok(Err("not a listed approver".to_owned()));
    }
    let permission = api.permission(login).await?;
    if !matches!(permission.as_str(), "admin" | "maintain" | "write") {
        return Ok(Err(format!(
            "no write access to `{}` (permission: {permission})",
            api.full_name()
        )));
    }
    Ok(Ok(quorum_teams))
}

/// Whether RFC 3339 time `a` is before `b` (text order if either does not parse).
fn before(a: &str, b: &str) -> bool {
    match (a.parse::<jiff::Timestamp>(), b.parse::<jiff::Timestamp>()) {
        (Ok(a), Ok(b)) => a < b,
        _ => a < b,
    }
}

fn outcome(
    ctx: &Ctx<'_>,
    plan: &Plan,
    end: End,
    seen: &Seen,
    issue: (u64, String),
    waited: Duration,
) -> Outcome {
    let mut ignored: Vec<(u64, String)> = seen.ignored.iter().map(|(k, v)| (*k, v.clone())).collect();
    ignored.sort();
    let base = |decision, tally: &Tally, reason: String| Outcome {
        decision,
        approvers: tally.approvers.clone(),
        reason,
        issue: Some(issue.clone()),
        waited,
        rows: seen.rows.clone(),
        ignored: ignored.iter().map(|(_, v)| v.clone()).collect(),
        mode: "issue",
    };
    match end {
        End::Verdict(t) if t.verdict == Verdict::Approved => {
            let reason = format!("approved by {}", t.approvers.join(", "));
            base(Decision::Approved, &t, reason)
        }
        End::Verdict(t) => {
            let by: Vec<String> = t
                .deniers
                .iter()
                .map(|(l, r)| match r {
                    Some(r) => format!("{l} ({})", one_line(r)),
                    None => l.clone(),
                })
                .collect();
            let reason = format!("denied by {}", by.join(", "));
            base(Decision::Denied, &t, reason)
        }
        End::TimedOut(t) => {
            let after = format!(
                "no decision after {} ({})",
                format_span(plan.timeout),
                t.progress()
            );
            let on = ctx.args.on_timeout;
            let decision = match on {
                crate::cli::OnTimeout::Deny => Decision::Denied,
                crate::cli::OnTimeout::Approve => Decision::Approved,
                crate::cli::OnTimeout::Fail => Decision::TimedOut,
            };
            base(decision, &t, format!("{after}; on-timeout is `{}`", on.as_str()))
        }
        End::Cancelled(sig, t) => base(
            Decision::Denied,
            &t,
            format!("cancelled: the job received {sig} ({})", t.progress()),
        ),
    }
}

fn closing_comment(o: &Outcome, cancelled: bool) -> String {
    let head = if cancelled {
        "**Cancelled.**".to_owned()
    } else {
        match o.decision {
            Decision::Approved => "**Approved.**".to_owned(),
            Decision::Denied => "**Denied.**".to_owned(),
            Decision::TimedOut => "**Timed out.**".to_owned(),
        }
    };
    let mut text = format!("{head} {}\n", o.reason);
    if !o.rows.is_empty() {
        text.push_str("\n| who | vote | note |\n|---|---|---|\n");
        for r in &o.rows {
            text.push_str(&format!(
                "| `{}` | {} | {} |\n",
                cell(&r.login),
                r.vote,
                cell(&r.note)
            ));
        }
    }
    text.push_str(&format!(
        "\nWaited {}. This request is closed; comments here no longer count.\n",
        format_span(o.waited)
    ));
    text
}

/// Comments (with the hidden `mark`, by which a comment whose answer was lost is found) and
/// closes, within a real-time budget.
async fn close(
    api: &Api,
    number: u64,
    text: &str,
    mark: &str,
    state: &str,
    budget: Duration,
) -> Result<(), Error> {
    let work = async {
        // The close matters more than the comment: a failed comment does not stop it.
        let commented = api.comment(number, &format!("{text}\n{mark}\n"), mark).await;
        api.close(number, state).await?;
        commented.map(drop)
    };
    match tokio::time::timeout(budget, work).await {
        Ok(r) => r,
        Err(_) => Err(Error::Runtime {
            message: format!(
                "closing the approval issue #{number} took longer than {}",
                format_span(budget)
            ),
            hint: Some("close it by hand".to_owned()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_order_table() {
        for (a, b, want) in [
            ("2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", true),
            ("2026-01-01T00:00:01Z", "2026-01-01T00:00:01Z", false),
            ("2026-01-01T01:00:00+01:00", "2026-01-01T00:00:01Z", true),
            ("2026-01-01T00:00:02Z", "2026-01-01T00:00:01Z", false),
        ] {
            assert_eq!(before(a, b), want, "{a} < {b}");
        }
    }

    #[test]
    fn marks_are_hidden_comments_of_their_own_run() {
        let (a, b) = (Marks::new(), Marks::new());
        for mark in [&a.issue, &a.closing] {
            assert!(
                mark.starts_with("<!-- approve-gate ") && mark.ends_with(" -->"),
                "{mark}"
            );
        }
        assert_ne!(
            a.issue, a.closing,
            "the issue's mark does not find the closing comment"
        );
        assert_ne!(a.issue, b.issue, "another run's issue is not ours");
    }

    #[test]
    fn labels_split_and_dedupe() {
        let l = labels(&[
            "deploy, production".to_owned(),
            "deploy".to_owned(),
            " ".to_owned(),
        ]);
        assert_eq!(l, vec!["deploy", "production"]);
    }

    #[test]
    fn need_names_quorums() {
        let rules = Rules {
            minimum_approvals: 2,
            minimum_denials: 1,
            quorums: vec![("octo/sre".to_owned(), 1)],
        };
        assert_eq!(need(&rules), "2 approvals (octo/sre: 1)");
    }
}
