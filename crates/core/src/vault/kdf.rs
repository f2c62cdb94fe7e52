//! Argon2id (RFC 9106) parameters of password slots: stored per slot, calibrated per device.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Argon2id parameters as a slot stores them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Parallel lanes.
    pub lanes: u32,
}

impl KdfParams {
    /// The floor: 19 MiB and 2 iterations (OWASP's minimum for Argon2id).
    pub const MIN: KdfParams = KdfParams {
        memory_kib: 19 * 1024,
        iterations: 2,
        lanes: 1,
    };
    /// Where calibration starts: 64 MiB, 3 iterations, 4 lanes.
    pub const START: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        iterations: 3,
        lanes: 4,
    };
    /// The most memory a vault file may ask for: 1 GiB. Calibration never raises memory above
    /// [`KdfParams::START`] (64 MiB), so only a damaged or hostile file asks for more; 1 GiB
    /// still fits a phone's and a 32-bit process's address space, where 4 GiB aborts.
    pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
    /// The most iterations a vault file may ask for (calibration's own ceiling).
    pub const MAX_ITERATIONS: u32 = 64;
    /// The most lanes: four is what Twofold writes; 16 covers any phone's cores.
    pub const MAX_LANES: u32 = 16;
    /// The most total work, memory × passes in KiB (64 MiB × 64 passes, calibration's
    /// extreme): a few seconds on a phone. Bounds time as [`Self::MAX_MEMORY_KIB`] bounds
    /// memory, so 1 GiB × 64 passes (minutes) is refused too.
    pub const MAX_WORK_KIB: u64 = 64 * 1024 * 64;

    /// True when within the floor and the ceiling.
    pub fn is_acceptable(&self) -> bool {
        self.memory_kib >= Self::MIN.memory_kib
            && self.memory_kib <= Self::MAX_MEMORY_KIB
            && self.iterations >= Self::MIN.iterations
            && self.iterations <= Self::MAX_ITERATIONS
            && (1..=Self::MAX_LANES).contains(&self.lanes)
            && self.memory_kib >= 8 * self.lanes
            && u64::from(self.memory_kib) * u64::from(self.iterations) <= Self::MAX_WORK_KIB
    }

    /// The same parameters raised to the floor where below it.
    pub fn at_least_floor(self) -> Self {
        KdfParams {
            memory_kib: self.memory_kib.max(Self::MIN.memory_kib),
            iterations: self.iterations.max(Self::MIN.iterations),
            lanes: self.lanes.clamp(1, Self::MAX_LANES),
        }
    }

    /// Derives a 32-byte key from `password` and `salt`.
    pub fn derive(&self, password: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, KdfError> {
        let params = argon2::Params::new(self.memory_kib, self.iterations, self.lanes, Some(32))
            .map_err(|_| KdfError)?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(password, salt, &mut *out)
            .map_err(|_| KdfError)?;
        Ok(out)
    }

    /// Finds parameters whose derivation takes 0.3–0.8 s on this device, starting from
    /// [`KdfParams::START`] and never going below [`KdfParams::MIN`]. Runs a few derivations.
    pub fn calibrate() -> Result<KdfParams, KdfError> {
        Self::calibrate_with(|p| {
            let start = Instant::now();
            p.derive(b"calibration", &[0u8; 32])?;
            Ok(start.elapsed())
        })
    }

    /// Calibration with an injected measurement (tests).
    pub fn calibrate_with(
        mut measure: impl FnMut(&KdfParams) -> Result<Duration, KdfError>,
    ) -> Result<KdfParams, KdfError> {
        const LOW: Duration = Duration::from_millis(300);
        const HIGH: Duration = Duration::from_millis(800);
        let mut p = Self::START;
        for _ in 0..12 {
            let t = measure(&p)?;
            if t < LOW && p.iterations < Self::MAX_ITERATIONS {
                // Scale iterations toward the middle of the window.
                let factor = (550.0 / t.as_millis().max(1) as f64).clamp(1.25, 8.0);
                p.iterations =
                    ((f64::from(p.iterations) * factor) as u32).min(Self::MAX_ITERATIONS);
            } else if t > HIGH && p.memory_kib > Self::MIN.memory_kib {
                p.memory_kib = (p.memory_kib / 2).max(Self::MIN.memory_kib);
            } else if t > HIGH && p.iterations > Self::MIN.iterations {
                p.iterations -= 1;
            } else {
                break;
            }
        }
        Ok(p.at_least_floor())
    }
}

/// Argon2 refused the parameters (never the password: every password is accepted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid key derivation parameters")]
pub struct KdfError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_stays_in_window_and_above_floor() {
        // A device where each iteration of 64 MiB costs 50 ms.
        let p = KdfParams::calibrate_with(|p| {
            Ok(Duration::from_millis(
                u64::from(p.iterations) * 50 * u64::from(p.memory_kib) / 65536,
            ))
        })
        .unwrap();
        let ms = u64::from(p.iterations) * 50 * u64::from(p.memory_kib) / 65536;
        assert!((300..=800).contains(&ms), "{p:?} -> {ms} ms");
        // A very slow device: the floor holds.
        let slow = KdfParams::calibrate_with(|_| Ok(Duration::from_secs(5))).unwrap();
        assert_eq!(slow.memory_kib, KdfParams::MIN.memory_kib);
        assert_eq!(slow.iterations, KdfParams::MIN.iterations);
        assert!(slow.is_acceptable());
    }

    #[test]
    fn bounds() {
        assert!(KdfParams::MIN.is_acceptable());
        assert!(KdfParams::START.is_acceptable());
        assert!(
            !KdfParams {
                memory_kib: 1024,
                ..KdfParams::MIN
            }
            .is_acceptable()
        );
        assert!(
            !KdfParams {
                iterations: 1,
                ..KdfParams::MIN
            }
            .is_acceptable()
        );
        assert!(
            !KdfParams {
                memory_kib: u32::MAX,
                ..KdfParams::MIN
            }
            .is_acceptable()
        );
    }
}
