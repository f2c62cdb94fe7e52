//! The injected time source: the core never reads the system clock on its own.

/// A UTC calendar time (proleptic Gregorian), for the timestamps protocols and file names use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    /// Year, e.g. 2026.
    pub year: i64,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month, 1–31.
    pub day: u8,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
    /// Second, 0–59.
    pub second: u8,
}

impl Utc {
    /// The calendar time of Unix seconds (Howard Hinnant's days-to-civil algorithm).
    pub fn from_unix(unix_seconds: u64) -> Utc {
        let days = (unix_seconds / 86_400) as i64;
        let secs = unix_seconds % 86_400;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        // Every value below fits its type: day 1–31, month 1–12, and the time of day.
        Utc {
            year: yoe + era * 400 + i64::from(month <= 2),
            month: month as u8,
            day: day as u8,
            hour: (secs / 3_600) as u8,
            minute: (secs % 3_600 / 60) as u8,
            second: (secs % 60) as u8,
        }
    }
}

/// Something that tells the current Unix time in seconds.
pub trait Clock {
    /// Seconds since 1970-01-01T00:00:00Z.
    fn now(&self) -> u64;

    /// Milliseconds since 1970-01-01T00:00:00Z (sync's hybrid logical clock); a clock that
    /// tells only seconds reads the start of its second.
    fn now_ms(&self) -> u64 {
        self.now().saturating_mul(1000)
    }
}

/// The operating system's wall clock. A clock set before 1970 reads as 0.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        self.now_ms() / 1000
    }

    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

/// A clock stopped at a given instant (tests, `--at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedClock(pub u64);

impl Clock for FixedClock {
    fn now(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Utc;

    #[test]
    fn a_clock_of_seconds_reads_the_start_of_its_second_in_milliseconds() {
        use super::{Clock, FixedClock};
        assert_eq!(FixedClock(1_700_000_000).now_ms(), 1_700_000_000_000);
        assert_eq!(FixedClock(u64::MAX).now_ms(), u64::MAX);
    }

    #[test]
    fn calendar_times() {
        let t = |year, month, day, hour, minute, second| Utc {
            year,
            month,
            day,
            hour,
            minute,
            second,
        };
        assert_eq!(Utc::from_unix(0), t(1970, 1, 1, 0, 0, 0));
        assert_eq!(Utc::from_unix(951_782_400), t(2000, 2, 29, 0, 0, 0));
        assert_eq!(Utc::from_unix(1_798_393_620), t(2026, 12, 27, 17, 47, 0));
        assert_eq!(Utc::from_unix(4_102_444_799), t(2099, 12, 31, 23, 59, 59));
    }
}
