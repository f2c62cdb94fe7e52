//! Events the shell sends the UI on its own, outside a command's answer: the one way each is
//! built and emitted, whichever flow (a command, the push poller, a sync, a pushed message)
//! has something to tell.

use tauri::{AppHandle, Emitter, Runtime};
use twofold_core::vault::store::{BackupOutcome, BackupStep};

use crate::dto::{
    BackupFailedPayload, BackupFailure, EVENT_BACKUP_FAILED, LockReason, VaultLockedPayload,
};

/// What the UI is to hear of the automatic backup that followed a save: nothing (no backup
/// folder, or a backup that passed its restore drill), or a `backup-failed` event saying
/// whether writing it or its restore drill failed. Built from the core's typed outcome right
/// after the save, so a save in the background is told exactly as a command's is.
#[derive(Debug, Clone, Default)]
#[must_use = "a failed backup is told to the UI: call `report`"]
pub struct BackupNotice(Option<BackupFailedPayload>);

impl BackupNotice {
    /// Nothing to tell: nothing was saved, or the backup is fine.
    pub const NONE: BackupNotice = BackupNotice(None);

    /// What to tell of `outcome`.
    pub fn of(outcome: &BackupOutcome) -> Self {
        BackupNotice(outcome.failure().map(|f| BackupFailedPayload {
            message: f.message,
            kind: match f.step {
                BackupStep::Write => BackupFailure::Write,
                BackupStep::Check => BackupFailure::Check,
            },
        }))
    }

    /// This notice, or `other` when this one has nothing to tell.
    pub fn or(self, other: BackupNotice) -> Self {
        BackupNotice(self.0.or(other.0))
    }

    /// The event's payload, if a backup failed.
    pub fn failure(&self) -> Option<&BackupFailedPayload> {
        self.0.as_ref()
    }

    /// Tells the UI that the automatic backup after a save failed (the save itself
    /// succeeded): `backup-failed`. Nothing to do when the backup is fine. Safe to call while
    /// holding the state's lock: it reads nothing of the state.
    pub fn report<R: Runtime>(self, app: &AppHandle<R>) {
        if let Some(payload) = self.0 {
            // An event that cannot be delivered has no one to be reported to; the backup
            // status keeps it.
            let _ = app.emit(EVENT_BACKUP_FAILED, payload);
        }
    }
}

/// Why the vault is locked, for the `vault-locked` event.
pub fn reason(reason: LockReason) -> VaultLockedPayload {
    VaultLockedPayload { reason }
}
