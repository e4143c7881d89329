//! The waiting clock, and the poll interval.
//!
//! The gate measures its wait (timeout, `waited-seconds`) on a [`Clock`]. The real clock sleeps and
//! reads a monotonic instant. A scaled clock multiplies every sleep by a factor and counts time as
//! the sum of the nominal sleeps, so with a factor of 0 an hour of waiting passes at once and
//! still reads as an hour: tests and the budget benchmark run on it (`OPS_POLL_DELAY_SCALE=0`).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The variable that scales the gate's sleeps (`0`: virtual time).
pub const POLL_SCALE_VAR: &str = "OPS_POLL_DELAY_SCALE";

/// Time as the gate sees it. Cheap to clone; clones share their time.
#[derive(Debug, Clone)]
pub struct Clock {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Real(Instant),
    Scaled {
        scale: f64,
        elapsed: Arc<Mutex<Duration>>,
    },
}

impl Clock {
    /// Wall-clock time.
    pub fn real() -> Self {
        Self {
            kind: Kind::Real(Instant::now()),
        }
    }

    /// Virtual time: sleeps return at once and move the clock by their nominal length.
    pub fn virtual_time() -> Self {
        Self::scaled(0.0)
    }

    /// Sleeps of `scale` times their nominal length; time is the sum of nominal sleeps.
    pub fn scaled(scale: f64) -> Self {
        Self {
            kind: Kind::Scaled {
                scale: if scale.is_finite() && scale > 0.0 {
                    scale
                } else {
                    0.0
                },
                elapsed: Arc::new(Mutex::new(Duration::ZERO)),
            },
        }
    }

    /// The clock `OPS_POLL_DELAY_SCALE` asks for: real unless set to something other than 1.
    pub fn from_env(env: &ops_core::Env) -> Result<Self, String> {
        match env.non_empty(POLL_SCALE_VAR) {
            None => Ok(Self::real()),
            Some(raw) => match raw.trim().parse::<f64>() {
                Ok(s) if s.is_finite() && s >= 0.0 => {
                    if (s - 1.0).abs() < f64::EPSILON {
                        Ok(Self::real())
                    } else {
                        Ok(Self::scaled(s))
                    }
                }
                _ => Err(format!(
                    "`{POLL_SCALE_VAR}` must be a number of at least 0, such as `0` or `0.5`"
                )),
            },
        }
    }

    /// Time since the clock started.
    pub fn elapsed(&self) -> Duration {
        match &self.kind {
            Kind::Real(start) => start.elapsed(),
            Kind::Scaled { elapsed, .. } => *elapsed.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// Sleeps for `d` on this clock.
    pub async fn sleep(&self, d: Duration) {
        match &self.kind {
            Kind::Real(_) => tokio::time::sleep(d).await,
            Kind::Scaled { scale, elapsed } => {
                let real = d.mul_f64(*scale);
                if real.is_zero() {
                    // Let other tasks (the signal listener) run, as a real sleep would.
                    tokio::task::yield_now().await;
                } else {
                    tokio::time::sleep(real).await;
                }
                let mut e = elapsed.lock().unwrap_or_else(PoisonError::into_inner);
                *e = e.saturating_add(d);
            }
        }
    }
}

/// The adaptive poll interval: `initial` at first and after activity, doubling up to `max` while
/// nothing changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    initial: Duration,
    max: Duration,
    current: Duration,
}

impl Interval {
    /// A new interval; `max` is raised to `initial` if lower.
    pub fn new(initial: Duration, max: Duration) -> Self {
        let initial = initial.max(Duration::from_secs(1));
        Self {
            initial,
            max: max.max(initial),
            current: initial,
        }
    }

    /// The wait before the next poll, given whether the last poll saw activity.
    pub fn next(&mut self, activity: bool) -> Duration {
        if activity {
            self.current = self.initial;
            return self.initial;
        }
        let wait = self.current;
        self.current = (self.current * 2).min(self.max);
        wait
    }

    /// The longest wait (used after a failed poll).
    pub fn max(&self) -> Duration {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_backs_off_and_resets() {
        let mut i = Interval::new(Duration::from_secs(10), Duration::from_secs(60));
        let secs = |i: &mut Interval, a: bool| i.next(a).as_secs();
        let idle: Vec<u64> = (0..6).map(|_| secs(&mut i, false)).collect();
        assert_eq!(idle, [10, 20, 40, 60, 60, 60]);
        assert_eq!(secs(&mut i, true), 10, "activity resets");
        assert_eq!(secs(&mut i, false), 10);
        assert_eq!(secs(&mut i, false), 20);
        assert_eq!(i.max(), Duration::from_secs(60));
    }

    #[test]
    fn interval_bounds_table() {
        for (initial, max, want) in [(0, 0, [1, 1, 1]), (30, 10, [30, 30, 30]), (5, 12, [5, 10, 12])] {
            let mut i = Interval::new(Duration::from_secs(initial), Duration::from_secs(max));
            let got: Vec<u64> = (0..3).map(|_| i.next(false).as_secs()).collect();
            assert_eq!(got, want, "{initial} {max}");
        }
    }

    #[tokio::test]
    async fn virtual_time_passes_at_once() {
        let clock = Clock::virtual_time();
        let other = clock.clone();
        for _ in 0..60 {
            clock.sleep(Duration::from_secs(60)).await;
        }
        assert_eq!(other.elapsed(), Duration::from_secs(3_600));
    }

    #[test]
    fn scale_from_env_table() {
        let env = |v: &str| ops_core::Env::from_pairs([(POLL_SCALE_VAR, v)]);
        assert!(Clock::from_env(&env("0")).is_ok());
        assert!(Clock::from_env(&env("0.5")).is_ok());
        assert!(Clock::from_env(&env("-1")).is_err());
        assert!(Clock::from_env(&env("fast")).is_err());
        assert!(matches!(Clock::from_env(&env("1")).unwrap().kind, Kind::Real(_)));
        assert!(matches!(
            Clock::from_env(&env("0")).unwrap().kind,
            Kind::Scaled { .. }
        ));
    }
}
