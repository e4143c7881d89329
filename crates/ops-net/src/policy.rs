//! How long to wait between attempts, and when to stop.
//!
//! Three kinds of wait, all capped by [`RetryPolicy::max_total_wait`]:
//! - **backoff** for 5xx and broken connections: exponential with full jitter (a random wait between zero
//!   and `base_delay · 2ⁿ`, at most `max_delay`), so parallel matrix jobs do not retry in lock step;
//! - **server-mandated** waits (`retry-after`, a rate-limit reset): honoured as given, never shortened,
//!   because retrying early only spends budget on another refusal;
//! - **header-less limits** (a 429 or a secondary-limit 403 that says nothing about when): GitHub's rule,
//!   at least `limit_min_delay` (60 s) and doubling each time.
//!
//! Delays are computed and reported unscaled; only the actual sleep is multiplied by `delay_scale`, so a
//! test with `delay_scale = 0` still sees (and can assert) the delays the policy chose, and the total-wait
//! cap still trips exactly as it would in production.

use std::time::Duration;

use ops_core::Env;

use crate::{Error, ErrorKind};

/// The environment variable that scales every retry sleep (`0` disables sleeping, `0.5` halves it).
pub const DELAY_SCALE_VAR: &str = "OPS_RETRY_DELAY_SCALE";
/// The environment variable that sets [`RetryPolicy::max_total_wait`] in whole seconds.
pub const MAX_WAIT_VAR: &str = "OPS_RETRY_MAX_WAIT";
/// The environment variable that sets [`RetryPolicy::max_attempts`].
pub const MAX_ATTEMPTS_VAR: &str = "OPS_RETRY_MAX_ATTEMPTS";

/// When and how long to retry.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included; `1` means no retry.
    pub max_attempts: u32,
    /// The backoff ceiling of the first retry; doubles on each retry.
    pub base_delay: Duration,
    /// The longest single backoff wait. Server-mandated waits are not shortened by it.
    pub max_delay: Duration,
    /// The most time one request may spend waiting between attempts. A server-mandated wait that would
    /// pass it fails at once with [`ErrorKind::WaitCapExceeded`], naming the limit and when it resets.
    pub max_total_wait: Duration,
    /// The first wait for a rate limit that does not say how long to wait (GitHub's docs: at least a
    /// minute, then exponential).
    pub limit_min_delay: Duration,
    /// Multiplies every actual sleep; `0.0` in tests. Must be finite and not negative.
    pub delay_scale: f64,
    /// Sends in total, the first included, of a request that creates something
    /// ([`crate::HttpClient::create`]): a create is sent again only after its answer was lost and a
    /// look-up showed that nothing was created. Never more than `max_attempts`.
    pub max_create_sends: u32,
}

impl Default for RetryPolicy {
    /// Five attempts, backoff from 1 s up to 30 s, at most 5 minutes of waiting in total (a primary-limit
    /// reset can be an hour away; a CI job should fail clearly instead); a create is sent at most three
    /// times, each re-send after a look-up found nothing.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_total_wait: Duration::from_secs(300),
            limit_min_delay: Duration::from_secs(60),
            delay_scale: 1.0,
            max_create_sends: 3,
        }
    }
}

impl RetryPolicy {
    /// One attempt, never a retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            max_create_sends: 1,
            ..Self::default()
        }
    }

    /// The default policy that never sleeps: delays are still computed, reported and counted against the
    /// total-wait cap.
    pub fn for_tests() -> Self {
        Self {
            delay_scale: 0.0,
            ..Self::default()
        }
    }

    /// The default policy adjusted by `OPS_RETRY_DELAY_SCALE`, `OPS_RETRY_MAX_WAIT` and
    /// `OPS_RETRY_MAX_ATTEMPTS`.
    pub fn from_env(env: &Env) -> Result<Self, Error> {
        Self::default().with_env(env)
    }

    /// This policy adjusted by the `OPS_RETRY_*` variables that are set and not empty.
    pub fn with_env(mut self, env: &Env) -> Result<Self, Error> {
        if let Some(raw) = env.non_empty(DELAY_SCALE_VAR) {
            self.delay_scale = raw
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .ok_or_else(|| {
                    config(
                        DELAY_SCALE_VAR,
                        raw,
                        "a number of at least 0, such as `0` or `0.5`",
                    )
                })?;
        }
        if let Some(raw) = env.non_empty(MAX_WAIT_VAR) {
            let secs = raw
                .trim()
                .parse::<u64>()
                .map_err(|_| config(MAX_WAIT_VAR, raw, "a whole number of seconds, such as `300`"))?;
            self.max_total_wait = Duration::from_secs(secs);
        }
        if let Some(raw) = env.non_empty(MAX_ATTEMPTS_VAR) {
            self.max_attempts = raw
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| config(MAX_ATTEMPTS_VAR, raw, "a whole number of at least 1"))?;
        }
        Ok(self)
    }

    /// The ceiling of the `retry`-th backoff (0-based): `base_delay · 2^retry`, at most `max_delay`.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.checked_pow(retry.min(31)).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// The `retry`-th backoff with full jitter: uniform in `[0, ceiling]`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self.backoff_ceiling(retry);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        if millis == 0 {
            return Duration::ZERO;
        }
        // Without randomness, the ceiling is still a correct (if less spread out) backoff.
        match getrandom::u64() {
            Ok(random) => Duration::from_millis(random % millis.saturating_add(1)),
            Err(_) => ceiling,
        }
    }

    /// The `retry`-th wait for a rate limit that gave no time: `limit_min_delay · 2^retry`.
    pub fn limit_delay(&self, retry: u32) -> Duration {
        let factor = 2u32.checked_pow(retry.min(31)).unwrap_or(u32::MAX);
        self.limit_min_delay.saturating_mul(factor)
    }

    /// How long to actually sleep for a computed delay.
    pub fn scaled(&self, delay: Duration) -> Duration {
        if self.delay_scale == 1.0 {
            return delay;
        }
        if !(self.delay_scale.is_finite() && self.delay_scale > 0.0) {
            return Duration::ZERO;
        }
        Duration::try_from_secs_f64(delay.as_secs_f64() * self.delay_scale).unwrap_or(Duration::MAX)
    }
}

fn config(name: &str, value: &str, expected: &str) -> Error {
    ErrorKind::Config {
        name: name.to_owned(),
        reason: format!("expected {expected}, got `{}`", value.trim()),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_ceiling_doubles_up_to_max() {
        let p = RetryPolicy::default();
        let got: Vec<u64> = (0..8).map(|n| p.backoff_ceiling(n).as_secs()).collect();
        assert_eq!(got, vec![1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(p.backoff_ceiling(u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn backoff_is_full_jitter_within_the_ceiling() {
        let p = RetryPolicy::default();
        for retry in 0..6 {
            for _ in 0..50 {
                assert!(p.backoff(retry) <= p.backoff_ceiling(retry));
            }
        }
        let zero = RetryPolicy {
            base_delay: Duration::ZERO,
            ..RetryPolicy::default()
        };
        assert_eq!(zero.backoff(3), Duration::ZERO);
    }

    #[test]
    fn limit_delay_is_a_minute_then_exponential() {
        let p = RetryPolicy::default();
        let got: Vec<u64> = (0..4).map(|n| p.limit_delay(n).as_secs()).collect();
        assert_eq!(got, vec![60, 120, 240, 480]);
    }

    #[test]
    fn scaled_sleeps() {
        let d = Duration::from_secs(10);
        assert_eq!(RetryPolicy::default().scaled(d), d);
        assert_eq!(RetryPolicy::for_tests().scaled(d), Duration::ZERO);
        let half = RetryPolicy {
            delay_scale: 0.5,
            ..RetryPolicy::default()
        };
        assert_eq!(half.scaled(d), Duration::from_secs(5));
        let nan = RetryPolicy {
            delay_scale: f64::NAN,
            ..RetryPolicy::default()
        };
        assert_eq!(nan.scaled(d), Duration::ZERO);
    }

    #[test]
    fn env_overrides_table() {
        for (pairs, expected) in [
            (vec![(DELAY_SCALE_VAR, "0")], Ok((0.0, 300, 5))),
            (vec![(DELAY_SCALE_VAR, " 0.25 ")], Ok((0.25, 300, 5))),
            (vec![(DELAY_SCALE_VAR, "")], Ok((1.0, 300, 5))),
            (
                vec![(MAX_WAIT_VAR, "30"), (MAX_ATTEMPTS_VAR, "2")],
                Ok((1.0, 30, 2)),
            ),
            (vec![(DELAY_SCALE_VAR, "-1")], Err(DELAY_SCALE_VAR)),
            (vec![(DELAY_SCALE_VAR, "NaN")], Err(DELAY_SCALE_VAR)),
            (vec![(DELAY_SCALE_VAR, "fast")], Err(DELAY_SCALE_VAR)),
            (vec![(MAX_WAIT_VAR, "5m")], Err(MAX_WAIT_VAR)),
            (vec![(MAX_ATTEMPTS_VAR, "0")], Err(MAX_ATTEMPTS_VAR)),
        ] {
            let got = RetryPolicy::from_env(&Env::from_pairs(pairs.clone()));
            match (got, expected) {
                (Ok(p), Ok((scale, wait, attempts))) => {
                    assert_eq!(p.delay_scale, scale, "{pairs:?}");
                    assert_eq!(p.max_total_wait, Duration::from_secs(wait), "{pairs:?}");
                    assert_eq!(p.max_attempts, attempts, "{pairs:?}");
                }
                (Err(e), Err(var)) => {
                    let text = e.to_string();
                    assert!(text.starts_with(&format!("invalid `{var}`: expected ")), "{text}");
                }
                (got, expected) => panic!("{pairs:?}: got {got:?}, expected {expected:?}"),
            }
        }
    }
}
