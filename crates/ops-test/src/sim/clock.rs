//! Virtual time for the stand-ins: timestamps in bodies and rate-limit resets come from here, and
//! only scripted steps move it, so runs are reproducible and tests never sleep.

/// A virtual clock in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    now: i64,
}

impl Default for Clock {
    fn default() -> Self {
        // 2026-01-01T00:00:00Z: a fixed, recognisable start so snapshots of bodies stay stable.
        Self { now: 1_767_225_600 }
    }
}

impl Clock {
    /// Current virtual time, Unix seconds.
    #[must_use]
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Current virtual time as RFC 3339 (`2026-01-01T00:00:00Z`).
    #[must_use]
    pub fn now_rfc3339(&self) -> String {
        rfc3339(self.now)
    }

    /// Moves the clock forward.
    pub fn tick(&mut self, seconds: i64) {
        self.now += seconds.max(0);
    }
}

/// Formats Unix seconds as RFC 3339 in UTC.
#[must_use]
pub fn rfc3339(secs: i64) -> String {
    // Days since 1970-01-01 to a civil date (proleptic Gregorian), counting eras of 400 years
    // from 0000-03-01 so that the leap day is the last day of a "year".
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_767_225_600 + 3_661), "2026-01-01T01:01:01Z");
        assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn ticks_only_forward() {
        let mut c = Clock::default();
        c.tick(10);
        c.tick(-5);
        assert_eq!(c.now_rfc3339(), "2026-01-01T00:00:10Z");
    }
}
