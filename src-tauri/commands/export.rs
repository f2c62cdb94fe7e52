//! Exporting the vault in open formats, so no user is ever locked in.
//!
//! The writers belong to the core (`twofold_core::export`); [`export`] is the one place that
//! calls them. Push accounts are never exported (the core's export takes OTP accounts only).

use tauri::State;
use zeroize::Zeroizing;

use crate::dto::ExportFormat;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The one call into the core's exporter; the file is written atomically, owner-only.
fn export(
    vault: &twofold_core::vault::Vault,
    format: ExportFormat,
    path: &std::path::Path,
    password: Option<&[u8]>,
) -> AppResult<()> {
    use twofold_core::export::{self as core_export, ExportError, ExportFormat as Core};
    if path.as_os_str().is_empty() || path.is_relative() {
        return Err(AppError::invalid("give the full path of the file to write"));
    }
    let format = match format {
        ExportFormat::Aegis => Core::Aegis,
        ExportFormat::AegisPlain => Core::AegisPlain,
        ExportFormat::OtpauthList => Core::OtpauthList,
        ExportFormat::GoogleMigration => Core::GoogleMigration,
    };
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
    twofold_core::vault::file::write_atomic(path, &out.bytes, false)?;
    Ok(())
}

/// Writes the vault's accounts to `path` in `format` (`password` for encrypted formats).
#[tauri::command]
pub async fn export_file(
    state: State<'_, AppState>,
    format: ExportFormat,
    path: String,
    password: Option<Zeroizing<String>>,
) -> AppResult<()> {
    let inner = state.get()?;
    export(
        inner.vault()?,
        format,
        std::path::Path::new(&path),
        password.as_ref().map(|p| p.as_bytes()),
    )
}
