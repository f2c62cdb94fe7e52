//! Exporting the vault in open formats, so no user is ever locked in.
//!
//! The writers belong to the core (`twofold_core::export`, being written on its own branch);
//! [`export`] is the one place that calls them. Until it lands, exporting answers
//! `Unsupported` with that reason rather than pretending.

use tauri::State;
use zeroize::Zeroizing;

use crate::dto::ExportFormat;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The one call into the core's exporter.
fn export(
    _vault: &twofold_core::vault::Vault,
    format: ExportFormat,
    _path: &std::path::Path,
    _password: Option<&[u8]>,
) -> AppResult<()> {
    Err(AppError::unsupported(format!(
        "exporting ({}) is not available in this build yet: the core's exporter has not landed",
        match format {
            ExportFormat::Aegis => "Aegis, encrypted",
            ExportFormat::AegisPlain => "Aegis, plain",
            ExportFormat::OtpauthList => "otpauth:// list",
            ExportFormat::GoogleMigration => "Google Authenticator",
        }
    )))
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
