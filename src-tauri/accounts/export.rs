//! Exporting the vault in open formats, so no user is ever locked in.
//!
//! The writers belong to the core (`twofold_core::export`); [`export`] is the one place that
//! calls them. Push accounts are never exported (the core's export takes OTP accounts only).
//! The webview names no path: the file is chosen in the system's save dialog, opened from
//! here, and a plain-text export needs the password entered within the last minute.

use std::path::{Path, PathBuf};
use std::time::Instant;

use tauri::State;
use zeroize::Zeroizing;

use crate::dto::ExportFormat;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Whether `format` writes the secrets readable by anyone who gets the file.
pub fn is_plain(format: ExportFormat) -> bool {
    !matches!(format, ExportFormat::Aegis)
}

/// The file name the save dialog suggests.
fn suggested_name(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Aegis => "twofold-aegis-encrypted.json",
        ExportFormat::AegisPlain => "twofold-aegis-plain.json",
        ExportFormat::OtpauthList => "twofold-otpauth.txt",
        ExportFormat::GoogleMigration => "twofold-google-migration.txt",
    }
}

/// `path` with its folder resolved (symlinks, `..`), for comparing places.
fn resolved(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?;
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty())?;
    Some(parent.canonicalize().ok()?.join(name))
}

/// Refuses a target that is not a full path, or that lies in the app's own folder (the vault,
/// its previous version, the settings): an export must never replace them.
fn check_target(path: &Path, app_dir: &Path) -> AppResult<()> {
    if path.as_os_str().is_empty() || path.is_relative() {
        return Err(AppError::invalid(
            "choose the file to write in the save dialog",
        ));
    }
    let own = app_dir.canonicalize().ok();
    // An existing file is followed to what it is (a link to the vault is the vault).
    let target = path.canonicalize().ok().or_else(|| resolved(path));
    let in_app_dir = match (&target, &own) {
        (Some(t), Some(own)) => t.parent() == Some(own.as_path()),
        _ => false,
    };
    if in_app_dir {
        return Err(AppError::invalid(
            "an export cannot be written into the app's own folder (it would replace the vault); choose another place",
        ));
    }
    Ok(())
}

/// The one call into the core's exporter; the file is written atomically, owner-only.
fn export(
    vault: &twofold_core::vault::Vault,
    format: ExportFormat,
    path: &Path,
    password: Option<&[u8]>,
) -> AppResult<bool> {
    use twofold_core::export::{self as core_export, ExportError, ExportFormat as Core};
    let format: Core = format.into();
    let out = core_export::export(
        &vault.export_entries(),
        format,
        password,
        &twofold_core::rng::SystemRng::new(),
    )
    .map_err(|e| match e {
        ExportError::PasswordRequired | ExportError::EmptyPassword => {
            AppError::invalid(e.to_string())
        }
        other => AppError::internal(other.to_string()),
    })?;
    twofold_core::vault::file::write_export(path, &out.bytes)?;
    // The export read back and compared with the vault, as the restore drill does: true
    // when it brings every account back (a Google export cannot hold Steam accounts).
    let restores = twofold_core::vault::file::read(path)
        .ok()
        .map(Zeroizing::new)
        .and_then(|bytes| twofold_core::backup::check(&bytes, vault, password).ok())
        .is_some_and(|c| c.restores_everything());
    Ok(restores)
}

/// Writes the vault's accounts in `format` (`password` for the encrypted format) to the file
/// the person chooses in the save dialog. Returns the path written, `null` when the dialog was
/// cancelled. A plain format needs the password entered within the last minute
/// (`AuthRequired` otherwise).
#[tauri::command]
pub async fn export_file(
    state: State<'_, AppState>,
    format: ExportFormat,
    password: Option<Zeroizing<String>>,
) -> AppResult<Option<String>> {
    {
        let inner = state.get()?;
        inner.vault()?;
        if is_plain(format) {
            inner
                .require_recent_password(Instant::now(), "exporting your secrets in plain text")?;
        } else if password.as_ref().is_none_or(|p| p.is_empty()) {
            return Err(AppError::invalid(
                "an encrypted export needs a password for the file",
            ));
        }
    }
    // The dialog waits for the person: not while holding the state.
    let device = state.device()?;
    let chosen = tauri::async_runtime::spawn_blocking(move || {
        device.choose_save_path(suggested_name(format))
    })
    .await
    .map_err(|e| AppError::internal(format!("the save dialog failed: {e}")))??;
    let Some(path) = chosen else {
        return Ok(None);
    };
    check_target(&path, state.dir())?;
    let mut inner = state.get()?;
    let restores = export(
        inner.vault()?,
        format,
        &path,
        password.as_ref().map(|p| p.as_bytes()),
    )?;
    if restores {
        state.mark_backed_up(&mut inner);
    }
    Ok(Some(path.display().to_string()))
}
