//! RFC 8291 Web Push message encryption: the core's one definition
//! (`twofold_core::push::webpush`), which the app's decryption shares.

pub use twofold_core::push::webpush::{EceError, MAX_PLAINTEXT, RECORD_SIZE};

/// Encrypts `plaintext` for the device with a fresh key and salt from the system's
/// generator, padded (`twofold_core::push::webpush::encrypt`).
pub fn encrypt(
    plaintext: &[u8],
    ua_public: &[u8; 65],
    auth: &[u8; 16],
) -> Result<Vec<u8>, EceError> {
    twofold_core::push::webpush::encrypt(
        plaintext,
        ua_public,
        auth,
        &twofold_core::rng::SystemRng::new(),
    )
}
