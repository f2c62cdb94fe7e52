//! Adding accounts: a typed or pasted URI, a hand-typed account, a QR image, the camera.

use tauri::{AppHandle, Runtime, State};
use twofold_core::migration::BatchProgress;
use twofold_core::otp::{Kind, OtpParams};
use twofold_core::payload::{self, Entries, Payload};
use twofold_core::rng::SystemRng;
use twofold_core::vault::Vault;
use twofold_core::{AccountEntry, OtpAccount, Secret, scan};
use zeroize::Zeroizing;

use super::accounts::view;
use crate::dto::{AddResult, ImportSkip, ManualAccount, MigrationProgress, OtpKind};
use crate::error::{AppError, AppResult};
use crate::state::{AppState, Inner, unix_now};

/// Adds the accounts to the vault and records in `result` which were added and which were
/// there already.
fn add_accounts(
    vault: &mut Vault,
    accounts: Vec<AccountEntry>,
    result: &mut AddResult,
) -> AppResult<()> {
    let report = vault.add_all(accounts, unix_now(), &SystemRng::new())?;
    result.added.extend(
        report
            .added()
            .filter_map(|id| vault.account(id))
            .map(|a| view(vault, a)),
    );
    result
        .duplicates
        .extend(report.duplicates().map(|(name, _)| name.to_owned()));
    Ok(())
}

/// Adds what the payloads hold. Every payload is read before the vault changes, so a bad one
/// adds nothing.
fn add_payloads(inner: &mut Inner, texts: &[Zeroizing<String>]) -> AppResult<AddResult> {
    inner.vault()?;
    let mut accounts: Vec<AccountEntry> = Vec::new();
    let mut result = AddResult::default();
    let mut batches = Vec::new();
    for text in texts {
        match payload::parse(text)? {
            Payload::Account(a) => accounts.push(AccountEntry::new(a)),
            Payload::Migration(batch) => batches.push(batch),
            // Enrolled by `add_texts` before this point, one at a time.
            Payload::PushEnrolment(_) => {
                return Err(AppError::invalid(
                    "a push enrolment QR code must be scanned on its own",
                ));
            }
        }
    }
    for batch in batches {
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
            result.migration = Some(MigrationProgress {
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
        result
            .skipped
            .extend(read.failures.into_iter().map(|f| ImportSkip {
                name: format!(
                    "account {} of QR code {batch_number} of the export",
                    f.position
                ),
                reason: f.error.to_string(),
            }));
    }
    add_accounts(inner.vault_mut()?, accounts, &mut result)?;
    Ok(result)
}

/// Adds, saves when something was added, and reports a failed automatic backup.
fn add_and_save<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    texts: &[Zeroizing<String>],
) -> AppResult<AddResult> {
    let mut inner = state.get()?;
    let writer = state.begin_change(&mut inner)?;
    let result = add_payloads(&mut inner, texts)?;
    if !result.added.is_empty() {
        let backup = state.save_vault(&mut inner, &writer)?;
        super::report_backup(app, backup);
    }
    Ok(result)
}

/// Adds what the texts hold; a privacyIDEA push enrolment (which must come alone) is read
/// for the confirmation screen, not sent.
async fn add_texts<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    texts: Vec<Zeroizing<String>>,
) -> AppResult<AddResult> {
    if let Some(i) = texts
        .iter()
        .position(|t| crate::container::is_container_uri(t))
    {
        if texts.len() > 1 {
            return Err(AppError::invalid(
                "this image holds a container registration QR code among others; scan it on its own",
            ));
        }
        // Nothing is sent before the user confirms (container_register).
        let mut texts = texts;
        let service = tauri::Manager::state::<crate::container::ContainerService>(app);
        return Ok(AddResult {
            container_preview: Some(crate::container::preview(&service, texts.swap_remove(i))?),
            ..AddResult::default()
        });
    }
    let push = texts
        .iter()
        .position(|t| matches!(payload::parse(t), Ok(Payload::PushEnrolment(_))));
    match push {
        Some(i) if texts.len() == 1 => {
            // Nothing is sent before the user confirms (push_enrol_confirm).
            let mut texts = texts;
            let service = tauri::Manager::state::<crate::push::PushService>(app);
            Ok(AddResult {
                push_preview: Some(crate::push::enrol::preview(&service, texts.swap_remove(i))?),
                ..AddResult::default()
            })
        }
        Some(_) => Err(AppError::invalid(
            "this image holds a push enrolment QR code among others; scan it on its own",
        )),
        None => add_and_save(app, state, &texts),
    }
}

/// A typed or pasted `otpauth://`, `otpauth-migration://` or `steam://` URI, or a privacyIDEA
/// push enrolment (`otpauth://pipush/...`, `pia://pipush/...`), returned as a preview to
/// confirm.
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
    let writer = state.begin_change(&mut inner)?;
    let mut result = AddResult::default();
    add_accounts(
        inner.vault_mut()?,
        vec![AccountEntry::new(otp)],
        &mut result,
    )?;
    if !result.added.is_empty() {
        let backup = state.save_vault(&mut inner, &writer)?;
        super::report_backup(&app, backup);
    }
    Ok(result)
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
