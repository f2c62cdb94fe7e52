//! Secret bytes that zeroize on drop and cannot be printed.

use std::fmt;

use zeroize::Zeroizing;

/// The alphabet of RFC 4648 Base32, decoded without padding and without checking the unused
/// trailing bits (real issuers emit secrets whose last character carries stray bits).
fn base32_lenient() -> data_encoding::Encoding {
    let mut spec = data_encoding::Specification::new();
    spec.symbols.push_str("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    spec.check_trailing_bits = false;
    // The specification is a constant that is known to be valid; fall back to the strict
    // no-padding encoding so this can never panic.
    spec.encoding().unwrap_or(data_encoding::BASE32_NOPAD)
}

/// Why a Base32 secret could not be read. The messages never contain the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Nothing left once spaces, dashes and padding are removed.
    #[error("the secret is empty")]
    Empty,
    /// A character outside the Base32 alphabet.
    #[error("the secret is not valid Base32 (character {position} is not A-Z or 2-7)")]
    InvalidCharacter {
        /// 1-based position of the character in the cleaned secret.
        position: usize,
    },
    /// A length that no byte string encodes to (1, 3 or 6 characters past a multiple of 8).
    #[error("the secret is not valid Base32 (its length {length} is impossible)")]
    InvalidLength {
        /// The cleaned length.
        length: usize,
    },
}

/// The shared secret of an account: raw key bytes, zeroized when dropped.
///
/// `Debug` prints only the length; there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Secrets shorter than this many bits are accepted (real services issue 80-bit ones) but
    /// flagged as weak (RFC 4226 §4 asks for at least 128 bits).
    pub const RECOMMENDED_BITS: usize = 128;

    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Secret(Zeroizing::new(bytes))
    }

    /// Reads a Base32 secret the way real exports write it: any case, with spaces, dashes and
    /// `=` padding anywhere ignored.
    pub fn from_base32(text: &str) -> Result<Self, SecretError> {
        let mut clean = Zeroizing::new(String::with_capacity(text.len()));
        for c in text.chars() {
            match c {
                ' ' | '-' | '=' | '\t' | '\n' | '\r' => {}
                c => clean.push(c.to_ascii_uppercase()),
            }
        }
        if clean.is_empty() {
            return Err(SecretError::Empty);
        }
        if let Some(i) = clean
            .chars()
            .position(|c| !matches!(c, 'A'..='Z' | '2'..='7'))
        {
            return Err(SecretError::InvalidCharacter { position: i + 1 });
        }
        if matches!(clean.len() % 8, 1 | 3 | 6) {
            return Err(SecretError::InvalidLength {
                length: clean.len(),
            });
        }
        base32_lenient()
            .decode(clean.as_bytes())
            .map(Secret::from_bytes)
            .map_err(|_| SecretError::InvalidLength {
                length: clean.len(),
            })
    }

    /// The key bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Upper-case Base32 without padding, in a zeroizing string.
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(data_encoding::BASE32_NOPAD.encode(&self.0))
    }

    /// Length in bits.
    pub fn bits(&self) -> usize {
        self.0.len() * 8
    }

    /// True when shorter than [`Secret::RECOMMENDED_BITS`].
    pub fn is_short(&self) -> bool {
        self.bits() < Self::RECOMMENDED_BITS
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes redacted>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_base32() {
        let a = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        let b = Secret::from_base32("jbsw y3dp-ehpk 3pxp====").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.expose(), b"Hello!\xde\xad\xbe\xef");
        assert_eq!(&*a.to_base32(), "JBSWY3DPEHPK3PXP");
    }

    #[test]
    fn eighty_bit_secret_is_accepted_and_flagged() {
        let s = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(s.bits(), 80);
        assert!(s.is_short());
    }

    #[test]
    fn stray_trailing_bits_are_ignored() {
        // 26 characters = 130 bits: the last 2 bits are unused and here non-zero.
        let s = Secret::from_base32("4SJHB4GSD43FZBAI7C2HLRJGPR").unwrap();
        assert_eq!(s.expose().len(), 16);
    }

    #[test]
    fn bad_secrets_are_typed_errors() {
        assert_eq!(Secret::from_base32(""), Err(SecretError::Empty));
        assert_eq!(Secret::from_base32(" - ="), Err(SecretError::Empty));
        assert_eq!(
            Secret::from_base32("ABC1"),
            Err(SecretError::InvalidCharacter { position: 4 })
        );
        assert_eq!(
            Secret::from_base32("A"),
            Err(SecretError::InvalidLength { length: 1 })
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let s = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        let shown = format!("{s:?}");
        assert_eq!(shown, "Secret(<10 bytes redacted>)");
        assert!(!shown.contains("JBSW"));
    }
}
