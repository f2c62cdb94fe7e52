//! The vault in the app: creating, unlocking and locking it, changing its password
//! (`commands.rs`), biometric unlock through its device slot (`biometric.rs`), and the one way
//! the app changes it, with the backup that follows each save (`store.rs`).

pub mod biometric;
pub mod commands;
pub mod store;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod tests_backup;
#[cfg(test)]
pub(crate) mod tests_unlock;
