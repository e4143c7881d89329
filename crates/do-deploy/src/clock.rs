//! The time a deployment is measured in: wall time, plus the sleeps a test scaled away.
//!
//! Every wait of the tool goes through [`Clock::sleep`]. It sleeps `delay × scale`
//! (`OPS_RETRY_DELAY_SCALE`, 1 in production, 0 in tests) and adds the part it skipped to the clock,
//! so that timeouts, stall detection and the elapsed times in the log read as they would in
//! production while a test never waits. A hook sees the clock after every sleep; the benchmark uses
//! it to move a stand-in's deployment along in step with the tool's own time.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Called with the elapsed time after each sleep.
pub type Hook = Arc<dyn Fn(Duration) + Send + Sync>;

/// A monotonic clock whose sleeps can be scaled away.
pub struct Clock {
    start: Instant,
    scale: f64,
    skipped: Mutex<Duration>,
    hook: Option<Hook>,
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clock")
            .field("scale", &self.scale)
            .field("elapsed", &self.elapsed())
            .finish_non_exhaustive()
    }
}

impl Clock {
    /// A clock starting now; sleeps are multiplied by `scale` (finite, at least 0).
    pub fn new(scale: f64) -> Self {
        Self {
            start: Instant::now(),
            scale: if scale.is_finite() && scale >= 0.0 {
                scale
            } else {
                1.0
            },
            skipped: Mutex::new(Duration::ZERO),
            hook: None,
        }
    }

    /// Runs `hook` with the elapsed time after every sleep.
    #[must_use]
    pub fn with_hook(mut self, hook: impl Fn(Duration) + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Time since the start, counting skipped sleeps in full.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed() + *self.skipped.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits `delay` of clock time.
    pub async fn sleep(&self, delay: Duration) {
        let real = if self.scale == 1.0 {
            delay
        } else {
            Duration::try_from_secs_f64(delay.as_secs_f64() * self.scale).unwrap_or(delay)
        };
        if !real.is_zero() {
            tokio::time::sleep(real).await;
        }
        {
            let mut skipped = self.skipped.lock().unwrap_or_else(PoisonError::into_inner);
            *skipped += delay.saturating_sub(real);
        }
        if let Some(hook) = &self.hook {
            hook(self.elapsed());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[tokio::test]
    async fn scaled_sleeps_count_in_full() {
        let seen = Arc::new(AtomicU64::new(0));
        let s = Arc::clone(&seen);
        let clock = Clock::new(0.0).with_hook(move |e| s.store(e.as_secs(), Ordering::SeqCst));
        clock.sleep(Duration::from_secs(90)).await;
        clock.sleep(Duration::from_secs(30)).await;
        assert!(clock.elapsed() >= Duration::from_secs(120));
        assert!(clock.elapsed() < Duration::from_secs(130));
        assert_eq!(seen.load(Ordering::SeqCst), 120);
    }
}
