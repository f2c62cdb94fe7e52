//! One-time codes: HOTP (RFC 4226), TOTP (RFC 6238) and Steam Guard.
//!
//! HMAC comes from `ring`. Time is never read here: callers pass Unix seconds, usually from an
//! injected [`Clock`](crate::Clock).

use ring::hmac;
use serde::{Deserialize, Serialize};

use crate::Secret;

/// The HMAC hash function of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    /// HMAC-SHA-1, the default everywhere.
    #[serde(rename = "SHA1")]
    Sha1,
    /// HMAC-SHA-256.
    #[serde(rename = "SHA256")]
    Sha256,
    /// HMAC-SHA-512.
    #[serde(rename = "SHA512")]
    Sha512,
}

impl Algorithm {
    /// `SHA1`, `SHA256` or `SHA512`: the spelling of otpauth URIs and of the CLI's JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }

    /// Reads `SHA1`, `sha256`, `SHA-512`... in any case; `None` for anything else (MD5 too).
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim().to_ascii_uppercase().replace('-', "");
        match t.as_str() {
            "SHA1" => Some(Algorithm::Sha1),
            "SHA256" => Some(Algorithm::Sha256),
            "SHA512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            Algorithm::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Algorithm::Sha256 => hmac::HMAC_SHA256,
            Algorithm::Sha512 => hmac::HMAC_SHA512,
        }
    }
}

/// What moves the code forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Time-based (RFC 6238): a new code every `period` seconds.
    Totp {
        /// Seconds per code, at least 1.
        period: u32,
    },
    /// Counter-based (RFC 4226).
    Hotp {
        /// The counter the next code is computed at.
        counter: u64,
    },
    /// Steam Guard: TOTP with SHA-1 rendered as 5 characters of Steam's alphabet.
    Steam {
        /// Seconds per code (Steam uses 30).
        period: u32,
    },
}

impl Kind {
    /// `totp`, `hotp` or `steam`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Totp { .. } => "totp",
            Kind::Hotp { .. } => "hotp",
            Kind::Steam { .. } => "steam",
        }
    }

    /// The period of time-based kinds.
    pub fn period(&self) -> Option<u32> {
        match *self {
            Kind::Totp { period } | Kind::Steam { period } => Some(period),
            Kind::Hotp { .. } => None,
        }
    }

    /// The counter of HOTP.
    pub fn counter(&self) -> Option<u64> {
        match *self {
            Kind::Hotp { counter } => Some(counter),
            _ => None,
        }
    }
}

/// Parameters that cannot make a code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    /// Digits outside 4..=10.
    #[error("digits must be between 4 and 10, not {0}")]
    Digits(u32),
    /// A period of zero seconds.
    #[error("the period must be at least 1 second")]
    ZeroPeriod,
    /// Steam Guard codes are always 5 characters with SHA-1.
    #[error("Steam Guard codes are 5 characters with SHA1")]
    Steam,
}

/// Everything but the secret that decides an account's codes. Always valid once built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OtpParams {
    kind: Kind,
    algorithm: Algorithm,
    digits: u8,
}

impl OtpParams {
    /// The fewest digits accepted.
    pub const MIN_DIGITS: u32 = 4;
    /// The most digits accepted.
    pub const MAX_DIGITS: u32 = 10;
    /// Steam Guard's code length.
    pub const STEAM_DIGITS: u8 = 5;

    /// Checks and builds parameters: 4–10 digits, a period of at least 1 s; Steam must be
    /// SHA-1 with 5 characters.
    pub fn new(kind: Kind, algorithm: Algorithm, digits: u32) -> Result<Self, ParamsError> {
        if let Some(0) = kind.period() {
            return Err(ParamsError::ZeroPeriod);
        }
        if let Kind::Steam { .. } = kind
            && (algorithm != Algorithm::Sha1 || digits != u32::from(Self::STEAM_DIGITS))
        {
            return Err(ParamsError::Steam);
        }
        if !(Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&digits) {
            return Err(ParamsError::Digits(digits));
        }
        Ok(OtpParams {
            kind,
            algorithm,
            digits: digits as u8,
        })
    }

    /// Steam Guard with the given period (Steam uses 30 s).
    pub fn steam(period: u32) -> Result<Self, ParamsError> {
        Self::new(
            Kind::Steam { period },
            Algorithm::Sha1,
            u32::from(Self::STEAM_DIGITS),
        )
    }

    /// The kind, with its period or counter.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The HMAC algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Code length.
    pub fn digits(&self) -> u32 {
        u32::from(self.digits)
    }

    /// The same parameters with the HOTP counter set (no change for time-based kinds).
    pub fn with_counter(mut self, counter: u64) -> Self {
        if let Kind::Hotp { .. } = self.kind {
            self.kind = Kind::Hotp { counter };
        }
        self
    }
}

/// The characters of a Steam Guard code.
pub const STEAM_ALPHABET: &[u8; 26] = b"23456789BCDFGHJKMNPQRTVWXY";

/// Computes codes for one account. Building it prepares the HMAC key once, so computing many
/// codes (a list refresh, a benchmark) costs one HMAC each.
pub struct Generator {
    key: hmac::Key,
    params: OtpParams,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Generator {
    /// Prepares the key for `params`.
    pub fn new(secret: &Secret, params: OtpParams) -> Self {
        Generator {
            key: hmac::Key::new(params.algorithm.hmac(), secret.expose()),
            params,
        }
    }

    /// The RFC 4226 §5.3 dynamic truncation of HMAC(counter): a 31-bit number.
    pub fn truncated(&self, counter: u64) -> u32 {
        let tag = hmac::sign(&self.key, &counter.to_be_bytes());
        let mac = tag.as_ref();
        // The last byte's low nibble is at most 15 and every digest is at least 20 bytes long,
        // so offset + 3 is always in range.
        let offset = usize::from(mac[mac.len() - 1] & 0x0f);
        u32::from_be_bytes([
            mac[offset] & 0x7f,
            mac[offset + 1],
            mac[offset + 2],
            mac[offset + 3],
        ])
    }

    /// The code at a counter value (HOTP), rendered for this account's kind and digits.
    pub fn code_at_counter(&self, counter: u64) -> Code {
        let value = self.truncated(counter);
        match self.params.kind {
            Kind::Steam { .. } => Code::steam(value),
            _ => Code::decimal(value, self.params.digits),
        }
    }

    /// The code shown at Unix time `unix`: TOTP and Steam use the time step, HOTP the stored
    /// counter.
    pub fn code_at(&self, unix: u64) -> Code {
        let counter = match self.params.kind {
            Kind::Totp { period } | Kind::Steam { period } => time_step(unix, period),
            Kind::Hotp { counter } => counter,
        };
        self.code_at_counter(counter)
    }

    /// The parameters this generator was built for.
    pub fn params(&self) -> &OtpParams {
        &self.params
    }
}

/// The RFC 6238 time step `T = floor(unix / period)` (T0 = 0). A period of 0, which
/// [`OtpParams`] never holds, is treated as 1.
pub fn time_step(unix: u64, period: u32) -> u64 {
    unix / u64::from(period.max(1))
}

/// Seconds until the code at `unix` changes.
pub fn seconds_remaining(unix: u64, period: u32) -> u32 {
    let p = u64::from(period.max(1));
    (p - unix % p) as u32
}

/// A rendered code: 4 to 10 ASCII characters, held on the stack (computing a code allocates
/// nothing).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Code {
    bytes: [u8; OtpParams::MAX_DIGITS as usize],
    len: u8,
}

impl Code {
    fn decimal(value: u32, digits: u8) -> Self {
        // Taking the lowest `digits` decimal digits is `value mod 10^digits`; 10 digits of a
        // 31-bit value only pad with zeros.
        let mut bytes = [b'0'; OtpParams::MAX_DIGITS as usize];
        let mut v = value;
        for slot in bytes[..usize::from(digits)].iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
        Code { bytes, len: digits }
    }

    fn steam(mut value: u32) -> Self {
        let mut bytes = [b'0'; OtpParams::MAX_DIGITS as usize];
        for slot in bytes[..usize::from(OtpParams::STEAM_DIGITS)].iter_mut() {
            *slot = STEAM_ALPHABET[(value % 26) as usize];
            value /= 26;
        }
        Code {
            bytes,
            len: OtpParams::STEAM_DIGITS,
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and Steam letters are ever stored.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Code({:?})", self.as_str())
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<Code> for String {
    fn from(c: Code) -> String {
        c.as_str().to_owned()
    }
}

/// One code for a secret and parameters at a Unix time (convenience over [`Generator`]).
pub fn code(secret: &Secret, params: OtpParams, unix: u64) -> String {
    Generator::new(secret, params).code_at(unix).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totp(alg: Algorithm, digits: u32, period: u32) -> OtpParams {
        OtpParams::new(Kind::Totp { period }, alg, digits).unwrap()
    }

    #[test]
    fn params_are_checked() {
        assert_eq!(
            OtpParams::new(Kind::Totp { period: 0 }, Algorithm::Sha1, 6),
            Err(ParamsError::ZeroPeriod)
        );
        assert_eq!(
            OtpParams::new(Kind::Totp { period: 30 }, Algorithm::Sha1, 0),
            Err(ParamsError::Digits(0))
        );
        assert_eq!(
            OtpParams::new(Kind::Hotp { counter: 0 }, Algorithm::Sha1, 11),
            Err(ParamsError::Digits(11))
        );
        assert!(OtpParams::new(Kind::Totp { period: 1 }, Algorithm::Sha512, 10).is_ok());
        assert!(OtpParams::new(Kind::Totp { period: 30 }, Algorithm::Sha1, 4).is_ok());
        assert_eq!(
            OtpParams::new(Kind::Steam { period: 30 }, Algorithm::Sha256, 5),
            Err(ParamsError::Steam)
        );
    }

    #[test]
    fn ten_digits_pad_and_four_digits_cut() {
        let s = Secret::from_bytes(b"12345678901234567890".to_vec());
        let g = Generator::new(&s, totp(Algorithm::Sha1, 10, 30));
        let ten = g.code_at(59);
        assert_eq!(ten.as_str().len(), 10);
        assert_eq!(ten, format!("{:010}", g.truncated(1)).as_str());
        let g4 = Generator::new(&s, totp(Algorithm::Sha1, 4, 30));
        assert_eq!(g4.code_at(59), &ten.as_str()[6..]);
    }

    #[test]
    fn one_second_period_and_remaining() {
        let s = Secret::from_bytes(b"12345678901234567890".to_vec());
        let g = Generator::new(&s, totp(Algorithm::Sha1, 6, 1));
        assert_eq!(time_step(59, 1), 59);
        assert_eq!(g.code_at(59), g.code_at_counter(59));
        assert_eq!(seconds_remaining(59, 30), 1);
        assert_eq!(seconds_remaining(60, 30), 30);
        assert_eq!(seconds_remaining(u64::MAX, 30), 30 - (u64::MAX % 30) as u32);
    }

    #[test]
    fn algorithm_names() {
        assert_eq!(Algorithm::parse("sha512"), Some(Algorithm::Sha512));
        assert_eq!(Algorithm::parse("SHA-256"), Some(Algorithm::Sha256));
        assert_eq!(Algorithm::parse("MD5"), None);
        assert_eq!(Algorithm::Sha1.as_str(), "SHA1");
    }

    #[test]
    fn far_future_time_does_not_overflow() {
        let s = Secret::from_bytes(vec![1; 20]);
        let g = Generator::new(&s, totp(Algorithm::Sha1, 6, 1));
        assert_eq!(g.code_at(u64::MAX).as_str().len(), 6);
    }
}
