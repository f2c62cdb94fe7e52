//! Adding accounts: a typed or pasted URI, a hand-typed account, a QR image, the camera.

use tauri::{AppHandle, Runtime, State};
use twofold_core::migration::BatchProgress;
use twofold_core::otp::{Kind, OtpParams};
use twofold_core::payload::{self, Accounts, Entries, Scanned};
use twofold_core::rng::SystemRng;
use twofold_core::vault::Vault;
use twofold_core::{AccountEntry, OtpAccount, Secret, scan};
use zeroize::Zeroizing;

use super::commands::view;
use crate::dto::{AccountView, AddResult, ImportSkip, ManualAccount, MigrationProgress, OtpKind};
use crate::error::{AppError, AppResult};
use crate::state::{AppState, Inner, unix_now};
use crate::store::{By, Write};

/// Adds the accounts to the vault: the views of those added and the names of those that
/// were there already.
fn add_accounts(
    vault: &mut Vault,
    accounts: Vec<AccountEntry>,
) -> AppResult<(Vec<AccountView>, Vec<String>)> {
    let report = vault.add_all(accounts, unix_now(), &SystemRng::new())?;
    let added = report
        .added()
        .filter_map(|id| vault.account(id))
        .map(|a| view(vault, a))
        .collect();
    let duplicates = report
        .duplicates()
        .map(|(name, _)| name.to_owned())
        .collect();
    Ok((added, duplicates))
}

/// Adds the accounts read (every QR code was read before the vault changes, so a bad one
/// adds nothing) and follows a multi-QR export.
fn add_read(inner: &mut Inner, read: Accounts) -> AppResult<AddResult> {
    inner.vault()?;
    let Accounts { accounts, exports } = read;
    let mut accounts: Vec<AccountEntry> = accounts.into_iter().map(AccountEntry::new).collect();
    let mut skipped = Vec::new();
    let mut migration = None;
    for batch in exports {
        let progress = match inner.migration.take() {
            Some(mut p) => match p.add(&batch) {
                Ok(_) => p,
                // A QR code of another export: start over with it.
                Err(_) => BatchProgress::new(&batch),
            },
            None => BatchProgress::new(&batch),
        };
        if batch.batch_size > 1 {
            let missing = progress.missing();
            migration = Some(MigrationProgress {
                batch_id: batch.batch_id,
                batch_size: progress.batch_size(),
                received: (0..progress.batch_size())
                    .filter(|i| !missing.contains(i))
                    .collect(),
                missing,
            });
        }
        if !progress.is_complete() {
            inner.migration = Some(progress);
        }
        let batch_number = batch.batch_index + 1;
        let read = Entries::from(batch);
        accounts.extend(read.accounts.into_iter().map(|(_, a)| AccountEntry::new(a)));
        skipped.extend(read.failures.into_iter().map(|f| ImportSkip {
            name: format!(
                "account {} of QR code {batch_number} of the export",
                f.position
            ),
            reason: f.error.to_string(),
        }));
    }
    let (added, duplicates) = add_accounts(inner.vault_mut()?, accounts)?;
    Ok(AddResult::Added {
        added,
        duplicates,
        skipped,
        migration,
    })
}

/// Adds, saves when something was added, and reports a failed automatic backup.
fn add_and_save<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    read: Accounts,
) -> AppResult<AddResult> {
    let mut inner = state.get()?;
    let changed = state.change_with(&mut inner, By::User, |inner| {
        let result = add_read(inner, read)?;
        let added = matches!(&result, AddResult::Added { added, .. } if !added.is_empty());
        Ok((result, Write::when(added)))
    })?;
    changed.backup.report(app);
    Ok(changed.value)
}

/// Adds what the texts hold, each read once by the core's classifier (as in the CLI); a
/// privacyIDEA push enrolment or container registration (which must come alone) is read for
/// its confirmation screen, not sent.
async fn add_texts<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    texts: Vec<Zeroizing<String>>,
) -> AppResult<AddResult> {
    let texts: Vec<&str> = texts.iter().map(|t| t.as_str()).collect();
    match payload::parse_all(&texts, unix_now())? {
        Scanned::Accounts(read) => add_and_save(app, state, read),
        // Nothing is sent before the user confirms (push_enrol_confirm).
        Scanned::PushEnrolment(enrolment) => {
            let service = tauri::Manager::state::<crate::push::PushService>(app);
            Ok(AddResult::PushPreview {
                preview: crate::push::enrol::preview(&service, enrolment)?,
            })
        }
        // Nothing is sent before the user confirms (container_register).
        Scanned::ContainerRegistration(registration) => {
            let service = tauri::Manager::state::<crate::container::ContainerService>(app);
            Ok(AddResult::ContainerPreview {
                preview: crate::container::preview(&service, registration)?,
            })
        }
    }
}

/// A typed or pasted `otpauth://`, `otpauth-migration://` or `steam://` URI, or a privacyIDEA
/// push enrolment (`otpauth://pipush/...`, `pia://pipush/...`) or container registration
/// (`pia://container/...`), returned as a preview to confirm.
#[tauri::command]
pub async fn add_uri<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    uri: Zeroizing<String>,
) -> AppResult<AddResult> {
    add_texts(&app, &state, vec![uri]).await
}

fn otp_account(m: &ManualAccount) -> AppResult<OtpAccount> {
    let issuer = m.issuer.trim().to_owned();
    let name = m.name.trim().to_owned();
    if issuer.is_empty() && name.is_empty() {
        return Err(AppError::invalid("give the account an issuer or a name"));
    }
    let secret = Secret::from_base32(&m.secret).map_err(|e| AppError::invalid(e.to_string()))?;
    let algorithm = m.algorithm.into();
    let params = match m.kind {
        OtpKind::Totp => OtpParams::new(Kind::Totp { period: m.period }, algorithm, m.digits),
        OtpKind::Hotp => OtpParams::new(Kind::Hotp { counter: m.counter }, algorithm, m.digits),
        OtpKind::Steam => OtpParams::steam(m.period),
    }
    .map_err(|e| AppError::invalid(e.to_string()))?;
    Ok(OtpAccount {
        issuer,
        name,
        secret,
        params,
    })
}

/// An account typed in by hand ("Enter code manually").
#[tauri::command]
pub async fn add_manual<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    account: ManualAccount,
) -> AppResult<AddResult> {
    let otp = otp_account(&account)?;
    let mut inner = state.get()?;
    let changed = state.change_with(&mut inner, By::User, |inner| {
        let (added, duplicates) = add_accounts(inner.vault_mut()?, vec![AccountEntry::new(otp)])?;
        let write = Write::when(!added.is_empty());
        Ok(((added, duplicates), write))
    })?;
    changed.backup.report(&app);
    let (added, duplicates) = changed.value;
    Ok(AddResult::Added {
        added,
        duplicates,
        skipped: Vec::new(),
        migration: None,
    })
}

/// Every QR code in a PNG or JPEG image (a file or a pasted screenshot), decoded here. The
/// image is the call's raw body.
#[tauri::command]
pub async fn scan_image<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    request: tauri::ipc::Request<'_>,
) -> AppResult<AddResult> {
    let image = crate::dto::raw_body(&request)?;
    let texts: Vec<Zeroizing<String>> = scan::scan_image(&image)?
        .into_iter()
        .map(Zeroizing::new)
        .collect();
    if texts.is_empty() {
        return Err(AppError::invalid("no QR code was found in the image"));
    }
    add_texts(&app, &state, texts).await
}

/// The camera (see `platform`: phones scan through the barcode-scanner plugin).
#[tauri::command]
pub async fn scan_camera() -> AppResult<AddResult> {
    Err(crate::platform::scan_camera())
}
