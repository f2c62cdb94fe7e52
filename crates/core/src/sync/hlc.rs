//! Hybrid logical clock stamps (`docs/sync.md`, "Clock"): wall-clock milliseconds, a counter
//! and the device id, compared in that order. A device's next stamp is always greater than every
//! stamp it has seen, so a change made after seeing another wins over it whatever the wall
//! clocks say; two devices never make equal stamps, because the device id is part of it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A device's id: 128 random bits, written as 32 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceId([u8; 16]);

impl DeviceId {
    /// The id from its 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        DeviceId(bytes)
    }

    /// A fresh random id.
    pub fn random(rng: &dyn crate::rng::Rng) -> Result<Self, crate::rng::RngError> {
        let mut b = [0u8; 16];
        rng.fill(&mut b)?;
        Ok(DeviceId(b))
    }

    /// The 32 hex digits.
    pub fn to_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.0)
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({})", self.to_hex())
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Text that is not 32 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a device id is 32 lower-case hex digits")]
pub struct BadDeviceId;

impl TryFrom<String> for DeviceId {
    type Error = BadDeviceId;
    fn try_from(text: String) -> Result<Self, BadDeviceId> {
        text.parse()
    }
}

impl std::str::FromStr for DeviceId {
    type Err = BadDeviceId;
    fn from_str(text: &str) -> Result<Self, BadDeviceId> {
        let digits = text.as_bytes();
        if digits.len() != 32
            || !digits
                .iter()
                .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(BadDeviceId);
        }
        let mut out = [0u8; 16];
        for (i, pair) in digits.chunks(2).enumerate() {
            let s = std::str::from_utf8(pair).map_err(|_| BadDeviceId)?;
            out[i] = u8::from_str_radix(s, 16).map_err(|_| BadDeviceId)?;
        }
        Ok(DeviceId(out))
    }
}

impl From<DeviceId> for String {
    fn from(id: DeviceId) -> String {
        id.to_hex()
    }
}

/// One stamp. The derived order compares `ms`, then `counter`, then `device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hlc {
    /// Wall-clock milliseconds since 1970 (or the highest seen, when the clock is behind).
    pub ms: u64,
    /// Orders events within one millisecond.
    pub counter: u32,
    /// The device that made the stamp.
    pub device: DeviceId,
}

/// How far ahead of this device's clock a stamp may be (24 hours, `docs/sync.md` "Time"): a
/// replica holding a later stamp is not merged, and the clock never adopts one, so no member
/// can freeze an account by stamping it in the far future.
pub const MAX_AHEAD_MS: u64 = 24 * 60 * 60 * 1000;

/// True when `stamp` is more than [`MAX_AHEAD_MS`] ahead of the wall-clock time `now_ms`.
pub fn too_far_ahead(stamp: &Hlc, now_ms: u64) -> bool {
    stamp.ms > now_ms.saturating_add(MAX_AHEAD_MS)
}

/// A device's clock: the last stamp it made or saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HlcClock {
    device: DeviceId,
    last_ms: u64,
    last_counter: u32,
}

impl HlcClock {
    /// A new clock for `device` that has seen nothing.
    pub fn new(device: DeviceId) -> Self {
        HlcClock {
            device,
            last_ms: 0,
            last_counter: 0,
        }
    }

    /// The device this clock stamps for.
    pub fn device(&self) -> DeviceId {
        self.device
    }

    /// The next stamp at wall-clock time `now_ms`: greater than every stamp made or seen.
    pub fn tick(&mut self, now_ms: u64) -> Hlc {
        if now_ms > self.last_ms {
            self.last_ms = now_ms;
            self.last_counter = 0;
        } else if let Some(c) = self.last_counter.checked_add(1) {
            self.last_counter = c;
        } else {
            // 4 billion events in one millisecond: borrow the next millisecond.
            self.last_ms = self.last_ms.saturating_add(1);
            self.last_counter = 0;
        }
        Hlc {
            ms: self.last_ms,
            counter: self.last_counter,
            device: self.device,
        }
    }

    /// Takes note of a stamp seen in merged data at wall-clock time `now_ms`, so later ticks
    /// exceed it. A stamp more than [`MAX_AHEAD_MS`] ahead of `now_ms` is never adopted (false):
    /// one forged stamp must not drag this clock to the end of time.
    pub fn observe(&mut self, seen: &Hlc, now_ms: u64) -> bool {
        if too_far_ahead(seen, now_ms) {
            return false;
        }
        if (seen.ms, seen.counter) > (self.last_ms, self.last_counter) {
            self.last_ms = seen.ms;
            self.last_counter = seen.counter;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(n: u8) -> DeviceId {
        DeviceId::from_bytes([n; 16])
    }

    #[test]
    fn ticks_grow_even_when_the_wall_clock_goes_back() {
        let mut c = HlcClock::new(dev(1));
        let a = c.tick(1_000);
        let b = c.tick(1_000);
        let d = c.tick(500);
        assert!(a < b && b < d);
        assert_eq!(d.ms, 1_000);
    }

    #[test]
    fn a_stamp_after_seeing_another_is_greater_even_with_a_slow_clock() {
        let mut fast = HlcClock::new(dev(1));
        let mut slow = HlcClock::new(dev(2));
        let seen = fast.tick(9_000_000);
        assert!(slow.observe(&seen, 10));
        assert!(slow.tick(10) > seen);
    }

    #[test]
    fn the_clock_never_adopts_a_stamp_more_than_a_day_ahead() {
        let now = 1_700_000_000_000;
        let mut c = HlcClock::new(dev(1));
        let at_bound = Hlc {
            ms: now + MAX_AHEAD_MS,
            counter: 7,
            device: dev(2),
        };
        assert!(c.observe(&at_bound, now));
        assert!(c.tick(now) > at_bound);
        for ms in [now + MAX_AHEAD_MS + 1, u64::MAX] {
            let mut c = HlcClock::new(dev(1));
            let forged = Hlc {
                ms,
                counter: u32::MAX,
                device: dev(2),
            };
            assert!(!c.observe(&forged, now));
            assert_eq!(c.tick(now).ms, now, "the clock kept to the wall clock");
        }
    }

    #[test]
    fn device_ids_round_trip_as_hex_and_reject_anything_else() {
        let id = dev(0xab);
        let text = id.to_hex();
        assert_eq!(text, "ab".repeat(16));
        assert_eq!(text.parse::<DeviceId>(), Ok(id));
        assert!("AB".repeat(16).parse::<DeviceId>().is_err());
        assert!("ab".repeat(15).parse::<DeviceId>().is_err());
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            format!("\"{}\"", "ab".repeat(16))
        );
    }
}
