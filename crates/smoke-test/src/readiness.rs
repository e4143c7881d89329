//! Waiting for readiness, separately from testing: poll a URL until it answers with anything but
//! 502/503/504, retrying only those statuses, refused and reset connections, and attempts that time
//! out; exponential backoff with jitter; an overall deadline.
//!
//! The deadline counts the attempts' real time plus the planned (unscaled) delays, and only the sleeps
//! are multiplied by `OPS_RETRY_DELAY_SCALE`; so with a scale of `0` a test never sleeps, yet gives up
//! after exactly the attempts production would make.

use std::time::Duration;

use http::{HeaderMap, Method};
use ops_core::Runner;
use ops_core::secret::redact_url;

use crate::http::{Outgoing, Pool, TransportKind};
use crate::measure::{human, millis};
use crate::outcome::{Case, CaseError, CaseKind};
use crate::plan::Wait;

/// The environment variable that scales every sleep (`0` never sleeps); shared with `ops-net`.
pub const DELAY_SCALE_VAR: &str = "OPS_RETRY_DELAY_SCALE";

/// Whether an HTTP status means "not ready yet".
pub fn retryable_status(code: u16) -> bool {
    matches!(code, 502..=504)
}

/// Whether a transport error means "not ready yet".
pub fn retryable_transport(kind: TransportKind) -> bool {
    matches!(
        kind,
        TransportKind::Refused | TransportKind::Reset | TransportKind::Timeout
    )
}

/// The delay before attempt `attempt + 1` (1-based `attempt`): `initial · 2^(attempt-1)`, capped at
/// `max`, then "equal jitter" (half fixed, half random) so that many jobs do not poll in step.
pub fn backoff(wait: &Wait, attempt: u32, random: u64) -> Duration {
    let exp = wait
        .initial_delay
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(20)));
    let capped = exp.min(wait.max_delay);
    let half = capped / 2;
    let span = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    let jitter = if span == 0 { 0 } else { random % (span + 1) };
    half + Duration::from_millis(jitter)
}

fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    // a failure only makes the jitter zero, which is still a valid delay
    let _ = getrandom::fill(&mut bytes);
    u64::from_le_bytes(bytes)
}

/// Polls until ready or the deadline; the case passes when the service answered.
pub async fn wait(pool: &Pool, wait: &Wait, scale: f64, runner: &Runner) -> Case {
    let url = redact_url(wait.url.as_str());
    let mut case = Case::new("readiness", CaseKind::Readiness);
    case.method = Some("GET".to_owned());
    case.url = Some(url.clone());
    case.line = wait.line;
    let started = std::time::Instant::now();
    let mut budget = Duration::ZERO;
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let remaining = wait.deadline.saturating_sub(budget);
        let request = Outgoing {
            method: Method::GET,
            url: wait.url.clone(),
            headers: HeaderMap::new(),
            body: None,
            timeout: wait.attempt_timeout.min(remaining).max(Duration::from_millis(1)),
            redirects: crate::plan::DEFAULT_REDIRECTS,
            insecure: false,
        };
        let result = pool.send(&request).await;
        let why = match result {
            Ok(ex) if !retryable_status(ex.status.as_u16()) => {
                case.http_status = Some(ex.status.as_u16());
                case.durations.push(ex.elapsed);
                case.notes.push(format!(
                    "ready after {attempt} attempt{} ({} in {}ms)",
                    if attempt == 1 { "" } else { "s" },
                    ex.status.as_u16(),
                    millis(ex.elapsed)
                ));
                runner.info(&format!(
                    "ready: {url} answered {} (attempt {attempt})",
                    ex.status.as_u16()
                ));
                case.time = started.elapsed();
                return case;
            }
            Ok(ex) => {
                budget += ex.elapsed;
                case.http_status = Some(ex.status.as_u16());
                format!("status {}", ex.status.as_u16())
            }
            Err(e) if retryable_transport(e.kind) => {
                budget += e.elapsed;
                e.kind.label().to_owned()
            }
            Err(e) => {
                case.error = Some(CaseError {
                    kind: e.kind.label().to_owned(),
                    message: format!("readiness stopped at attempt {attempt}: {}", e.detail),
                });
                case.time = started.elapsed();
                return case;
            }
        };
        let delay = backoff(wait, attempt, random_u64());
        if budget + delay >= wait.deadline {
            case.error = Some(CaseError {
                kind: "not ready".to_owned(),
                message: format!(
                    "`{url}` not ready within {} ({attempt} attempts, last: {why})",
                    human(wait.deadline)
                ),
            });
            case.time = started.elapsed();
            return case;
        }
        runner.info(&format!(
            "not ready: {url} ({why}); retrying in {} (attempt {attempt})",
            human(delay)
        ));
        budget += delay;
        let sleep = delay.mul_f64(scale);
        if !sleep.is_zero() {
            tokio::time::sleep(sleep).await;
        }
    }
}

/// Reads the delay scale; `None` when the value is not a number ≥ 0.
pub fn delay_scale(raw: Option<&str>) -> Option<f64> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None => Some(1.0),
        Some(v) => v.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait() -> Wait {
        Wait {
            url: url::Url::parse("http://127.0.0.1:1/").unwrap(),
            deadline: Duration::from_secs(60),
            attempt_timeout: Duration::from_secs(5),
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            line: None,
        }
    }

    #[test]
    fn backoff_doubles_caps_and_jitters_within_half() {
        let w = wait();
        for (attempt, low, high) in [
            (1, 500, 1000),
            (2, 1000, 2000),
            (3, 2000, 4000),
            (4, 4000, 8000),
            (9, 4000, 8000),
        ] {
            for random in [0, 1, 499, u64::MAX] {
                let d = backoff(&w, attempt, random).as_millis();
                assert!((low..=high).contains(&d), "attempt {attempt}: {d}ms");
            }
            assert_eq!(backoff(&w, attempt, 0).as_millis(), low);
        }
    }

    #[test]
    fn retry_rules() {
        for code in [502, 503, 504] {
            assert!(retryable_status(code));
        }
        for code in [200, 301, 404, 500, 501, 505] {
            assert!(!retryable_status(code), "{code}");
        }
        assert!(retryable_transport(TransportKind::Refused));
        assert!(retryable_transport(TransportKind::Reset));
        assert!(retryable_transport(TransportKind::Timeout));
        assert!(!retryable_transport(TransportKind::Tls));
        assert!(!retryable_transport(TransportKind::Dns));
    }

    #[test]
    fn delay_scale_table() {
        assert_eq!(delay_scale(None), Some(1.0));
        assert_eq!(delay_scale(Some("0")), Some(0.0));
        assert_eq!(delay_scale(Some(" 0.5 ")), Some(0.5));
        assert_eq!(delay_scale(Some("")), Some(1.0));
        assert_eq!(delay_scale(Some("-1")), None);
        assert_eq!(delay_scale(Some("fast")), None);
    }
}
