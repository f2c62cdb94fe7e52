//! The commands the UI invokes (docs/ipc.md), grouped by domain. Each converts its arguments,
//! calls the core, and converts the result back; errors are [`AppError`](crate::error::AppError).

pub mod accounts;
pub mod container;
pub mod export;
pub mod import;
pub mod platform;
pub mod push;
pub mod scan;
pub mod settings;
pub mod sync;
pub mod vault;

use tauri::{AppHandle, Emitter, Runtime};

use crate::dto::{BackupFailedPayload, BackupFailure, EVENT_BACKUP_FAILED};

/// Tells the UI that the automatic backup after a save failed (the save itself succeeded):
/// writing it, or its restore drill. Called while the caller may still hold the state's
/// lock: which step failed comes from a flag beside it, never from the locked state.
pub(crate) fn report_backup<R: Runtime>(app: &AppHandle<R>, failure: Option<String>) {
    use tauri::Manager;
    if let Some(message) = failure {
        let check = app
            .try_state::<crate::state::AppState>()
            .is_some_and(|s| s.last_backup_failure_was_drill());
        let kind = if check {
            BackupFailure::Check
        } else {
            BackupFailure::Write
        };
        // An event that cannot be delivered has no one to be reported to; the status keeps it.
        let _ = app.emit(EVENT_BACKUP_FAILED, BackupFailedPayload { message, kind });
    }
}
