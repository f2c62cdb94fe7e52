//! Sync between the user's devices in the app (`docs/sync.md`, `docs/ipc.md` "Sync"):
//! choosing the target, joining or creating the sync set with the passphrase entered once,
//! syncing on demand and automatically, and the status the settings screen shows.
//! `twofold-sync` lists and writes the target and runs the merge (the core's, sans-IO); this
//! module decides when, holds the locks, saves the vault and keeps the status.
//!
//! Locks: the target is listed with no lock held (its I/O may be slow: a network folder, a
//! WebDAV server). Then a copy of the vault is read from its file under the state's lock (a
//! moment), and the merge, the sealing of the merged copy and this device's writes to the
//! target run with no lock held, so the app's other commands go on meanwhile. Last, under the
//! state's lock, [`AppState::change_with`] takes the vault's writer lock and reloads; if the
//! vault file is still the one copied, the merged copy becomes the vault and its sealed bytes
//! are written; if a change was saved meanwhile (here or by the CLI), the sync starts again
//! from a new listing (this device's new replica in it is merged, and the next one gets a
//! higher generation). The third attempt, and a setup, hold the locks throughout, as every
//! other change of the vault in this app does: it cannot lose that race.
//!
//! When: after an unlock (the app's launch included), when the app comes back to the
//! foreground, [`DEBOUNCE`] after the last saved change of the vault, and on demand. A
//! background thread ([`spawn`]) watches the state for the first three; a change is any save
//! (the fingerprint of the vault file as the app last wrote it changes), so no command has to
//! remember to ask.
//!
//! The folder comes from [`crate::platform::Device::choose_sync_folder`]: a path on desktop;
//! on Android the storage-access-framework picker's tree URI (`saf:` target), whose documents
//! the platform reaches through tauri-plugin-android-fs and [`twofold_sync::DocumentFolder`]
//! keeps the folder's rules on; on iOS `Unsupported` (no maintained plugin gives Rust the
//! document picker's folder with lasting security-scoped access), and the UI offers WebDAV.

pub mod commands;
pub mod dto;
mod run;
mod service;
#[cfg(test)]
mod tests;

pub use run::*;
pub use service::*;
