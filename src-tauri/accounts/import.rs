//! Importing other apps' exports, in every format the core reads.

use tauri::{AppHandle, Runtime, State};
use twofold_core::import::{self, Format};
use twofold_core::rng::SystemRng;
use zeroize::Zeroizing;

use crate::dto::{ImportFormat, ImportReportView, ImportSkip};
use crate::error::{AppError, AppResult};
use crate::state::{AppState, unix_now};
use crate::store::{By, Write};

/// What a person calls a format, and whether its files can be encrypted.
fn describe(f: Format) -> (&'static str, bool) {
    match f {
        Format::Aegis => ("Aegis Authenticator", true),
        Format::TwoFas => ("2FAS Authenticator", true),
        Format::AndOtp => ("andOTP", true),
        Format::Bitwarden => ("Bitwarden (JSON, password-protected JSON or CSV)", true),
        Format::Ente => ("Ente Auth (plain text or encrypted)", true),
        Format::FreeOtpPlus => ("FreeOTP+ (JSON)", false),
        Format::Proton => ("Proton Authenticator", false),
        Format::GoogleMigration => (
            "Google Authenticator export (otpauth-migration lines)",
            false,
        ),
        Format::OtpauthList => ("otpauth:// URIs, one a line", false),
        Format::Stratum => ("Stratum / Authenticator Pro", true),
        Format::Steam => ("Steam Desktop Authenticator (maFile)", false),
        Format::Duo => ("Duo Mobile", false),
        Format::FreeOtp => ("FreeOTP (tokens.xml, also FreeOTP 2's encrypted one)", true),
        Format::Authy => ("Authy (token store XML)", true),
        Format::BattleNet => ("Battle.net Authenticator (preferences XML)", false),
        Format::TotpAuthenticator => ("TOTP Authenticator (preferences XML or .bin backup)", true),
        Format::GoogleAuthenticator => ("Google Authenticator (app database)", false),
        Format::MicrosoftAuthenticator => ("Microsoft Authenticator (app database)", false),
        Format::AuthenticatorPlus => ("Authenticator Plus (backup zip)", true),
    }
}

/// The formats the importer reads.
#[tauri::command]
pub async fn import_formats() -> AppResult<Vec<ImportFormat>> {
    Ok(Format::ALL
        .into_iter()
        .map(|f| {
            let (label, encrypted) = describe(f);
            ImportFormat {
                name: f.name().to_owned(),
                label: label.to_owned(),
                encrypted,
            }
        })
        .collect())
}

/// Imports a file's bytes (the call's raw body); the `format` header names the format (absent:
/// detect it), the `password` header opens encrypted files (both percent-encoded).
#[tauri::command]
pub async fn import_file<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    request: tauri::ipc::Request<'_>,
) -> AppResult<ImportReportView> {
    let data = crate::dto::raw_body(&request)?;
    let format = crate::dto::raw_header(&request, "format")?.map(|f| f.to_string());
    let password: Option<Zeroizing<String>> = crate::dto::raw_header(&request, "password")?;
    let format = match format.as_deref() {
        None | Some("") | Some("auto") => None,
        Some(name) => Some(
            Format::from_name(name)
                .ok_or_else(|| AppError::invalid(format!("unknown import format {name:?}")))?,
        ),
    };
    // Locked: refuse before any work; the import itself (KDFs) runs without the state's lock.
    state.get()?.vault()?;
    let report = import::import(&data, format, password.as_ref().map(|p| p.as_bytes()))?;
    let mut inner = state.get()?;
    let changed = state.change_with(&mut inner, By::User, |inner| {
        let added = inner
            .vault_mut()?
            .add_all(report.entries, unix_now(), &SystemRng::new())?;
        let view = ImportReportView {
            added: u32::try_from(added.added_count()).unwrap_or(u32::MAX),
            duplicates: added
                .duplicates()
                .map(|(name, _)| name.to_owned())
                .collect(),
            skipped: report
                .skipped
                .into_iter()
                .map(|s| ImportSkip {
                    name: s.entry,
                    reason: s.reason,
                })
                .collect(),
        };
        let write = Write::when(view.added > 0);
        Ok((view, write))
    })?;
    changed.backup.report(&app);
    let view = changed.value;
    Ok(view)
}
