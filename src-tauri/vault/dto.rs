//! The vault's events that cross the IPC boundary (docs/ipc.md, "Events"): locked, and a
//! backup that failed after a save.

use serde::Serialize;

use crate::settings::dto::BackupFailure;

/// Why the vault was locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum LockReason {
    /// No activity for the lock timeout.
    Idle,
    /// The app went to the background.
    Background,
    /// The user locked it.
    User,
}

/// Payload of the `vault-locked` event.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct VaultLockedPayload {
    /// Why.
    pub reason: LockReason,
}

/// Payload of the `backup-failed` event.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct BackupFailedPayload {
    /// What went wrong (names the path, never a secret).
    pub message: String,
    /// Writing failed, or the written backup failed its restore drill.
    pub kind: BackupFailure,
}

/// The `vault-locked` event's name.
pub const EVENT_VAULT_LOCKED: &str = "vault-locked";
/// The `backup-failed` event's name.
pub const EVENT_BACKUP_FAILED: &str = "backup-failed";
/// The `clipboard-cleared` event's name (no payload): a copied code was cleared after its time.
pub const EVENT_CLIPBOARD_CLEARED: &str = "clipboard-cleared";
