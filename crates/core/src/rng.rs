//! The injected source of randomness (keys, salts, nonces, ids).

/// The system's random number generator failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct RngError;

/// Fills buffers with cryptographically secure random bytes.
pub trait Rng {
    /// Fills `dest` entirely.
    fn fill(&self, dest: &mut [u8]) -> Result<(), RngError>;
}

/// The operating system's generator, through `ring`.
#[derive(Debug)]
pub struct SystemRng(ring::rand::SystemRandom);

impl SystemRng {
    /// The system generator.
    pub fn new() -> Self {
        SystemRng(ring::rand::SystemRandom::new())
    }
}

impl Default for SystemRng {
    fn default() -> Self {
        Self::new()
    }
}

impl Rng for SystemRng {
    fn fill(&self, dest: &mut [u8]) -> Result<(), RngError> {
        ring::rand::SecureRandom::fill(&self.0, dest).map_err(|_| RngError)
    }
}

/// A random version-4 UUID from `rng`.
pub fn uuid(rng: &dyn Rng) -> Result<String, RngError> {
    let mut b = [0u8; 16];
    rng.fill(&mut b)?;
    Ok(uuid::Builder::from_random_bytes(b).into_uuid().to_string())
}
