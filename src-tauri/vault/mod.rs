//! The vault in the app: creating, unlocking and locking it, changing its password
//! (`commands.rs`) and biometric unlock through its device slot (`biometric.rs`). The one way
//! every domain changes the vault is the shared `src-tauri/store.rs`.

pub mod biometric;
pub mod commands;
pub mod dto;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod tests_backup;
#[cfg(test)]
pub(crate) mod tests_unlock;
