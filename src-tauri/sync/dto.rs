//! The sync types that cross the IPC boundary (docs/ipc.md, "Sync"). No secret: the
//! passphrase and a WebDAV password only come in, as command arguments, wiped on drop.

use serde::{Deserialize, Serialize};

use crate::error::ErrorKind;

/// Whether this device syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum SyncState {
    /// No target.
    Off,
    /// A target was chosen; the sync passphrase is needed (`sync_setup`).
    NeedsPassphrase,
    /// This device is a member of the target's sync set.
    On,
}

/// What kind of place the accounts sync through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum SyncTargetKind {
    /// A folder that a sync tool carries.
    Folder,
    /// A WebDAV server.
    Webdav,
}

/// The target as a person reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SyncTargetView {
    /// Folder or WebDAV.
    pub kind: SyncTargetKind,
    /// The folder's path, or the server's URL (never with credentials).
    pub place: String,
    /// The WebDAV user, if any.
    pub user: Option<String>,
}

/// A file of the target left out of the last sync (damaged, altered, rolled back, too large).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SyncProblem {
    /// The file's name in the target.
    pub file: String,
    /// Why it was left out, in plain words.
    pub reason: String,
}

/// Why the last sync failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SyncFailure {
    /// As a command's error.
    pub kind: ErrorKind,
    /// Plain words, never a secret.
    pub message: String,
}

/// How sync stands (`sync_status` and the `sync-status` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SyncStatus {
    /// Off, waiting for the passphrase, or on.
    pub state: SyncState,
    /// The target (chosen or joined); `null` when off.
    pub target: Option<SyncTargetView>,
    /// Waiting for the passphrase, and the target holds no sync set yet: the passphrase
    /// creates one (ask for it twice).
    pub creating: bool,
    /// A sync is running now.
    pub running: bool,
    /// When the last sync succeeded (Unix seconds); `null`: never.
    #[cfg_attr(test, ts(type = "number | null"))]
    pub last_sync_at: Option<u64>,
    /// When the last sync was tried (Unix seconds).
    #[cfg_attr(test, ts(type = "number | null"))]
    pub last_attempt_at: Option<u64>,
    /// Other devices whose data the last sync merged.
    pub devices: u32,
    /// Accounts the last sync added, changed or removed here.
    pub last_changed: u32,
    /// Of those, the accounts it removed (all in Settings → Recently removed): the app says
    /// so when more than [`MANY_REMOVED`].
    pub last_removed: u32,
    /// `last_removed` is more than [`MANY_REMOVED`]: show the notice.
    pub many_removed: bool,
    /// Files the last sync left out, each with why.
    pub problems: Vec<SyncProblem>,
    /// Why the last sync failed; `null` when it succeeded.
    pub last_error: Option<SyncFailure>,
}

/// One device of the sync set (`sync_devices`), as of this device's last sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SyncDevice {
    /// Its id (32 hex digits): what `sync_remove_device` takes.
    pub id: String,
    /// Its name (the platform's device name or host name, or the one the user gave).
    pub name: String,
    /// When it last synced (Unix seconds); `null`: not known.
    #[cfg_attr(test, ts(type = "number | null"))]
    pub last_sync: Option<u64>,
    /// This device (its name is the one `sync_rename_device` edits).
    pub this: bool,
}

impl From<twofold_core::sync::DeviceInfo> for SyncDevice {
    fn from(d: twofold_core::sync::DeviceInfo) -> Self {
        SyncDevice {
            id: d.id.to_hex(),
            name: d.name,
            last_sync: d.last_sync,
            this: d.this,
        }
    }
}

/// A sync that removes more than this many accounts here is told in a notice.
pub const MANY_REMOVED: u32 = 3;

/// The `sync-status` event's name (payload `SyncStatus`): a sync finished or failed.
pub const EVENT_SYNC_STATUS: &str = "sync-status";

/// How strong a new password or passphrase is, by the core's one rule
/// (`twofold_core::strength`): the meter shows `score`, and a form refuses what is not
/// `acceptable` (the CLI refuses the same sync passphrases).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct PassphraseStrength {
    /// 0 (very weak) to 4 (strong).
    pub score: u8,
    /// The score reaches the minimum (2, "fair").
    pub acceptable: bool,
}

impl From<twofold_core::strength::Strength> for PassphraseStrength {
    fn from(s: twofold_core::strength::Strength) -> Self {
        PassphraseStrength {
            score: s.score,
            acceptable: s.acceptable(),
        }
    }
}
