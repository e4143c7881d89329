//! Following one deployment, by its ID, until it ends, times out or stalls.
//!
//! Polls back off from `poll-interval` by half each time nothing changed, up to 15 s (or the interval
//! when larger), hold their pace while steps move, and drop back to the first interval when the phase
//! changes, so a five-minute deployment costs a few dozen calls rather than app_action's 150. A poll that fails
//! for a transient reason (connection, 5xx, rate limit, after ops-net's own retries) is not fatal:
//! the deployment is still running on DigitalOcean's side, so we keep following it until the
//! timeout. When the API's budget runs low (`ratelimit-remaining` under a fifth of the limit),
//! the interval stretches so that the rest of the budget lasts until the reset.
//!
//! Each phase or step change prints one line, `m:ss` from the start of the deployment.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use ops_core::Runner;
use ops_net::RateLimit;

use crate::app_platform::api::{Api, App, ComponentHealth, Deployment, Step, is_transient};
use crate::clock::Clock;
use crate::duration::{human, stamp};
use crate::error::Error;

/// The longest regular wait between polls.
pub const MAX_INTERVAL: Duration = Duration::from_secs(15);
/// The longest wait the rate-limit budget can ask for.
const MAX_BUDGET_WAIT: Duration = Duration::from_secs(300);

/// How to poll.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// First wait between polls.
    pub first: Duration,
    /// Longest regular wait.
    pub max: Duration,
    /// Give up after this long without a change.
    pub stall: Duration,
}

impl Settings {
    /// From `poll-interval` and `stall-timeout`.
    pub fn new(first: Duration, stall: Duration) -> Self {
        Self {
            first,
            max: MAX_INTERVAL.max(first),
            stall,
        }
    }
}

/// Waits that grow by half while nothing changes.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    current: Duration,
}

impl Backoff {
    /// Starts at `first`.
    pub fn new(settings: Settings) -> Self {
        Self {
            first: settings.first,
            max: settings.max,
            current: settings.first,
        }
    }

    /// The wait to use now.
    pub fn current(&self) -> Duration {
        self.current
    }

    /// Nothing changed: wait longer next time.
    pub fn grow(&mut self) {
        self.current = (self.current + self.current / 2).min(self.max);
    }

    /// Something changed: back to the first wait.
    pub fn reset(&mut self) {
        self.current = self.first;
    }
}

/// Everything a wait needs.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The API.
    pub api: &'a Api,
    /// The clock.
    pub clock: &'a Clock,
    /// Where progress goes.
    pub runner: &'a Runner,
    /// How to poll.
    pub settings: Settings,
    /// Retry reports from the HTTP client, printed as they happen.
    pub notes: Option<&'a Mutex<Vec<String>>>,
}

impl Ctx<'_> {
    /// Prints the retry reports gathered since the last call.
    pub fn flush(&self) {
        if let Some(notes) = self.notes {
            let taken = std::mem::take(&mut *notes.lock().unwrap_or_else(PoisonError::into_inner));
            for note in taken {
                self.runner.info(&note);
            }
        }
    }
}

/// How following ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The deployment reached a final phase.
    Finished,
    /// The overall timeout passed.
    TimedOut,
    /// Nothing changed for the stall timeout.
    Stalled,
}

/// The result of following a deployment.
#[derive(Debug, Clone)]
pub struct Followed {
    /// The deployment as last seen.
    pub deployment: Deployment,
    /// How it ended.
    pub ending: Ending,
    /// Successful polls.
    pub polls: u32,
    /// Polls that failed and were waited out.
    pub failed_polls: u32,
    /// Clock time spent.
    pub took: Duration,
}

/// Follows `initial` (as the create call returned it) until `deadline` on the clock.
pub async fn follow(
    ctx: Ctx<'_>,
    app_id: &str,
    initial: Deployment,
    deadline: Duration,
) -> Result<Followed, Error> {
    let start = ctx.clock.elapsed();
    let since = |clock: &Clock| clock.elapsed().saturating_sub(start);
    for line in changes(None, &initial) {
        ctx.runner.info(&format!("{} {line}", stamp(Duration::ZERO)));
    }
    let mut last = initial;
    let mut last_change = start;
    let mut backoff = Backoff::new(ctx.settings);
    let mut polls = 0;
    let mut failed_polls = 0;
    let mut budget_noted = false;
    loop {
        let now = ctx.clock.elapsed();
        let ending = if last.is_terminal() {
            Some(Ending::Finished)
        } else if now >= deadline {
            Some(Ending::TimedOut)
        } else if now.saturating_sub(last_change) >= ctx.settings.stall {
            Some(Ending::Stalled)
        } else {
            None
        };
        if let Some(ending) = ending {
            return Ok(Followed {
                deployment: last,
                ending,
                polls,
                failed_polls,
                took: since(ctx.clock),
            });
        }
        let mut wait = backoff.current();
        if let Some(stretched) = budget_wait(ctx.api.http().rate_limit().as_ref(), ctx.api.http().now())
            && stretched > wait
        {
            if !budget_noted {
                ctx.runner.info(&format!(
                    "{} the API budget is low; polling every {} until it resets",
                    stamp(since(ctx.clock)),
                    human(stretched)
                ));
                budget_noted = true;
            }
            wait = stretched;
        }
        let left = deadline
            .saturating_sub(now)
            .min(ctx.settings.stall.saturating_sub(now.saturating_sub(last_change)));
        ctx.clock
            .sleep(wait.min(left).max(Duration::from_millis(1)))
            .await;
        let polled = ctx.api.deployment(app_id, &last.id).await;
        ctx.flush();
        match polled {
            Ok(current) => {
                polls += 1;
                let lines = changes(Some(&last), &current);
                if lines.is_empty() {
                    backoff.grow();
                } else {
                    for line in lines {
                        ctx.runner.info(&format!("{} {line}", stamp(since(ctx.clock))));
                    }
                    last_change = ctx.clock.elapsed();
                    // A new phase brings the next change soon; a step moving within a phase only keeps
                    // the pace (busy builds change steps often, and must not poll every 2 s).
                    if current.phase != last.phase {
                        backoff.reset();
                    }
                }
                last = current;
            }
            Err(e) if is_transient(&e) => {
                failed_polls += 1;
                backoff.grow();
                ctx.runner.info(&format!(
                    "{} could not read the deployment ({e}); still following it",
                    stamp(since(ctx.clock))
                ));
            }
            Err(e) => {
                return Err(Error::api(format!("could not read deployment `{}`", last.id), e));
            }
        }
    }
}

/// One line per change between two looks at a deployment: the phase, then each step whose status
/// changed (child steps included).
pub fn changes(old: Option<&Deployment>, new: &Deployment) -> Vec<String> {
    let mut out = Vec::new();
    if old.is_none_or(|o| o.phase != new.phase) {
        out.push(format!(
            "phase {}",
            if new.phase.is_empty() {
                "UNKNOWN"
            } else {
                &new.phase
            }
        ));
    }
    let before = old.map(flatten).unwrap_or_default();
    for (label, status) in flatten(new) {
        let seen = before.iter().any(|(l, s)| *l == label && *s == status);
        let first_look_pending = old.is_none() && status == "PENDING";
        if !seen && !first_look_pending {
            out.push(format!("step {label}: {status}"));
        }
    }
    out
}

fn flatten(d: &Deployment) -> Vec<(String, String)> {
    fn walk(steps: &[Step], prefix: &str, out: &mut Vec<(String, String)>) {
        for s in steps {
            let label = if prefix.is_empty() || s.component_name.is_some() {
                s.label()
            } else {
                format!("{prefix} › {}", s.label())
            };
            out.push((
                label.clone(),
                s.status.clone().unwrap_or_else(|| "UNKNOWN".to_owned()),
            ));
            walk(&s.steps, &label, out);
        }
    }
    let mut out = Vec::new();
    if let Some(p) = &d.progress {
        walk(&p.steps, "", &mut out);
    }
    out
}

/// How long to wait between polls so that the rest of the budget lasts until it resets, when less
/// than a fifth of it is left. A reset in the past (clock skew) counts as DigitalOcean's
/// one-minute window.
pub fn budget_wait(limit: Option<&RateLimit>, now: SystemTime) -> Option<Duration> {
    let limit = limit?;
    let (total, remaining) = (limit.limit?, limit.remaining?);
    if total == 0 || remaining.saturating_mul(5) >= total {
        return None;
    }
    let window = limit
        .reset
        .and_then(|r| r.duration_since(now).ok())
        .unwrap_or(Duration::ZERO)
        .max(Duration::from_secs(60));
    // Keep half of what is left for the calls around the polls (logs, rollback, GitHub).
    let share = (remaining / 2).max(1);
    let per = window / u32::try_from(share).unwrap_or(u32::MAX);
    Some(per.min(MAX_BUDGET_WAIT))
}

/// Polls `GET /v2/apps/{id}` until it has a `live_url`.
pub async fn live_url(ctx: Ctx<'_>, app_id: &str, deadline: Duration) -> Result<Option<App>, Error> {
    let start = ctx.clock.elapsed();
    let mut backoff = Backoff::new(ctx.settings);
    loop {
        match ctx.api.app(app_id).await {
            Ok(app) if app.live_url.as_deref().is_some_and(|u| !u.is_empty()) => return Ok(Some(app)),
            Ok(_) => {}
            Err(e) if is_transient(&e) => {
                ctx.runner
                    .info(&format!("could not read the app ({e}); trying again"));
            }
            Err(e) => return Err(Error::api(format!("could not read app `{app_id}`"), e)),
        }
        let now = ctx.clock.elapsed();
        let left = deadline
            .saturating_sub(now)
            .min(ctx.settings.stall.saturating_sub(now.saturating_sub(start)));
        if left.is_zero() {
            return Ok(None);
        }
        ctx.clock.sleep(backoff.current().min(left)).await;
        backoff.grow();
    }
}

/// What `/health` said in the end.
#[derive(Debug, Clone)]
pub enum Health {
    /// Every component is healthy (or there is none to check).
    Healthy,
    /// The endpoint is not available for this app.
    Unavailable,
    /// Not healthy within the time allowed; the last report.
    Unhealthy(Vec<ComponentHealth>),
}

/// Polls `/health` until every component is `HEALTHY`, within the stall timeout.
pub async fn health(ctx: Ctx<'_>, app_id: &str, deadline: Duration) -> Result<Health, Error> {
    let start = ctx.clock.elapsed();
    let mut backoff = Backoff::new(ctx.settings);
    let mut last = Vec::new();
    loop {
        match ctx.api.health(app_id).await {
            Ok(components) => {
                if components.iter().all(|c| c.state.as_deref() == Some("HEALTHY")) {
                    return Ok(Health::Healthy);
                }
                last = components;
            }
            Err(e) if e.status().is_some_and(|s| s.as_u16() == 404) => return Ok(Health::Unavailable),
            Err(e) if is_transient(&e) => {
                ctx.runner
                    .info(&format!("could not read the app's health ({e}); trying again"));
            }
            Err(e) => {
                return Err(Error::api(
                    format!("could not read the health of app `{app_id}`"),
                    e,
                ));
            }
        }
        let now = ctx.clock.elapsed();
        let left = deadline
            .saturating_sub(now)
            .min(ctx.settings.stall.saturating_sub(now.saturating_sub(start)));
        if left.is_zero() {
            return Ok(Health::Unhealthy(last));
        }
        ctx.clock.sleep(backoff.current().min(left)).await;
        backoff.grow();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app_platform::api::Progress;
    use ops_net::RateLimitScheme;

    fn dep(phase: &str, steps: &[(&str, &str)]) -> Deployment {
        Deployment {
            id: "d".into(),
            phase: phase.into(),
            progress: Some(Progress {
                steps: steps
                    .iter()
                    .map(|(n, s)| Step {
                        name: (*n).into(),
                        status: Some((*s).into()),
                        steps: vec![Step {
                            name: (*n).into(),
                            component_name: Some("api".into()),
                            status: Some((*s).into()),
                            ..Step::default()
                        }],
                        ..Step::default()
                    })
                    .collect(),
            }),
            ..Deployment::default()
        }
    }

    #[test]
    fn one_line_per_change() {
        let a = dep("PENDING_BUILD", &[("build", "PENDING"), ("deploy", "PENDING")]);
        assert_eq!(changes(None, &a), vec!["phase PENDING_BUILD"]);
        let b = dep("BUILDING", &[("build", "RUNNING"), ("deploy", "PENDING")]);
        assert_eq!(
            changes(Some(&a), &b),
            vec![
                "phase BUILDING",
                "step build: RUNNING",
                "step build › api: RUNNING"
            ]
        );
        assert_eq!(changes(Some(&b), &b), Vec::<String>::new());
    }

    #[test]
    fn backoff_grows_by_half_to_the_cap_and_resets() {
        let mut b = Backoff::new(Settings::new(Duration::from_secs(2), Duration::from_secs(600)));
        let mut seen = Vec::new();
        for _ in 0..8 {
            seen.push(b.current().as_millis());
            b.grow();
        }
        assert_eq!(seen, vec![2000, 3000, 4500, 6750, 10125, 15000, 15000, 15000]);
        b.reset();
        assert_eq!(b.current(), Duration::from_secs(2));
        let slow = Settings::new(Duration::from_secs(30), Duration::from_secs(600));
        assert_eq!(slow.max, Duration::from_secs(30));
    }

    #[test]
    fn budget_wait_table() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let rl = |limit, remaining, reset_in: Option<u64>| RateLimit {
            scheme: RateLimitScheme::Standard,
            limit: Some(limit),
            remaining: Some(remaining),
            used: None,
            reset: reset_in.map(|s| now + Duration::from_secs(s)),
            resource: None,
        };
        for (limit, expected) in [
            (rl(5000, 4000, Some(3600)), None),
            (rl(5000, 1000, Some(3600)), None),
            (rl(5000, 999, Some(3600)), Some(7)),
            (rl(5000, 100, Some(3600)), Some(72)),
            (rl(5000, 2, Some(3600)), Some(300)),
            (rl(250, 10, None), Some(12)),
            (rl(250, 0, Some(30)), Some(60)),
        ] {
            assert_eq!(
                budget_wait(Some(&limit), now).map(|d| d.as_secs()),
                expected,
                "{limit:?}"
            );
        }
        assert_eq!(budget_wait(None, now), None);
    }
}
