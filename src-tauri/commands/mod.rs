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

use crate::dto::{BackupFailedPayload, EVENT_BACKUP_FAILED};

/// Tells the UI that the automatic backup after a save failed (the save itself succeeded).
pub(crate) fn report_backup<R: Runtime>(app: &AppHandle<R>, failure: Option<String>) {
    if let Some(message) = failure {
        // An event that cannot be delivered has no one to be reported to; the status keeps it.
        let _ = app.emit(EVENT_BACKUP_FAILED, BackupFailedPayload { message });
    }
}
