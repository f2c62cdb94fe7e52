//! The account list, codes, edits and the account as a QR code.

use std::time::Instant;

use tauri::{AppHandle, Emitter, Manager, Runtime, State};
use twofold_core::otp::{Code, Generator, time_step};
use twofold_core::rng::SystemRng;
use twofold_core::vault::{Account, AccountUpdate, RemovedBy, Vault};
use zeroize::Zeroizing;

use crate::dto::{
    AccountPatch, AccountView, CodeView, EVENT_CLIPBOARD_CLEARED, RemovedByKind, RemovedView,
};
use crate::error::{AppError, AppResult};
use crate::state::{AppState, unix_now, unix_now_ms};

/// An account without its secret.
pub(crate) fn view(vault: &Vault, a: &Account) -> AccountView {
    let params = a.otp.params;
    let kind = params.kind();
    let managed = vault.managed_account(&a.id).map(|(c, _)| &c.container);
    AccountView {
        id: a.id.clone(),
        issuer: a.otp.issuer.clone(),
        name: a.otp.name.clone(),
        kind: kind.into(),
        algorithm: params.algorithm().into(),
        digits: params.digits(),
        period: kind.period().unwrap_or(0),
        counter: kind.counter(),
        favorite: a.favorite,
        groups: a
            .groups
            .iter()
            .filter_map(|g| vault.group_name(g).map(str::to_owned))
            .collect(),
        note: a.note.clone(),
        order: a.order,
        created_at: a.created,
        used_at: a.used,
        container: managed.map(|c| c.serial.clone()),
        managed_by: managed.map(|c| c.issuer.clone()),
        deletable: !managed.is_some_and(|c| c.policies.disable_client_token_deletion),
    }
}

/// The code of `a` at Unix milliseconds `now_ms`, with the next one for time-based kinds.
pub(crate) fn code_view(a: &Account, now_ms: u64) -> CodeView {
    let generator = Generator::new(&a.otp.secret, a.otp.params);
    let now = now_ms / 1000;
    match a.otp.params.kind().period() {
        Some(period) => {
            let step = time_step(now, period);
            let p = u64::from(period);
            CodeView {
                id: a.id.clone(),
                code: generator.code_at_counter(step).to_string(),
                next_code: Some(generator.code_at_counter(step + 1).to_string()),
                period,
                valid_from_ms: step * p * 1000,
                valid_until_ms: (step + 1) * p * 1000,
            }
        }
        None => hotp_view(&a.id, generator.code_at(now)),
    }
}

fn hotp_view(id: &str, code: Code) -> CodeView {
    CodeView {
        id: id.to_owned(),
        code: code.to_string(),
        next_code: None,
        period: 0,
        valid_from_ms: 0,
        valid_until_ms: 0,
    }
}

/// Every account, favourites first, then in their order.
#[tauri::command]
pub async fn accounts_list(state: State<'_, AppState>) -> AppResult<Vec<AccountView>> {
    let inner = state.get()?;
    let vault = inner.vault()?;
    let mut list: Vec<AccountView> = vault.accounts().iter().map(|a| view(vault, a)).collect();
    list.sort_by_key(|a| (!a.favorite, a.order));
    Ok(list)
}

/// The code of every account now.
#[tauri::command]
pub async fn codes_now(state: State<'_, AppState>) -> AppResult<Vec<CodeView>> {
    let inner = state.get()?;
    let now = unix_now_ms();
    Ok(inner
        .vault()?
        .accounts()
        .iter()
        .map(|a| code_view(a, now))
        .collect())
}

/// HOTP: advances the counter, saves, and returns the new code.
#[tauri::command]
pub async fn hotp_next<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
) -> AppResult<CodeView> {
    let mut inner = state.get()?;
    let code = state.change(&app, &mut inner, |vault| {
        Ok(vault.next_hotp(&id, unix_now_ms() / 1000)?)
    })?;
    Ok(hotp_view(&id, code))
}

/// Renames, notes, favourites, groups or moves an account.
#[tauri::command]
pub async fn account_update<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
    patch: AccountPatch,
) -> AppResult<AccountView> {
    let update = AccountUpdate {
        issuer: patch.issuer.map(|s| s.trim().to_owned()),
        name: patch.name.map(|s| s.trim().to_owned()),
        note: patch.note,
        favorite: patch.favorite,
        groups: patch.groups,
        order: patch.order,
    };
    let mut inner = state.get()?;
    state.change(&app, &mut inner, |vault| {
        vault.update_account(&id, update, &SystemRng::new())?;
        vault
            .account(&id)
            .map(|a| view(vault, a))
            .ok_or_else(|| AppError::internal("the account vanished while being changed"))
    })
}

/// Deletes an account (the UI asks for confirmation first).
#[tauri::command]
pub async fn account_delete<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
) -> AppResult<()> {
    let mut inner = state.get()?;
    state.change(&app, &mut inner, |vault| {
        vault.remove(&id, unix_now())?;
        Ok(())
    })
}

/// The accounts removed in the last 30 days (here, by a sync or by a token container), newest
/// first: Settings → Recently removed.
#[tauri::command]
pub async fn removed_list(state: State<'_, AppState>) -> AppResult<Vec<RemovedView>> {
    let inner = state.get()?;
    let vault = inner.vault()?;
    Ok(vault
        .removed(unix_now())
        .into_iter()
        .map(|r| {
            let (by, by_id) = match &r.by {
                RemovedBy::ThisDevice => (RemovedByKind::ThisDevice, None),
                RemovedBy::Sync(d) => (RemovedByKind::Sync, Some(d.clone())),
                RemovedBy::Container(s) => (RemovedByKind::Container, Some(s.clone())),
            };
            RemovedView {
                id: r.account.id.clone(),
                issuer: r.account.otp.issuer.clone(),
                name: r.account.otp.name.clone(),
                removed_at: r.removed_at,
                by,
                by_id,
            }
        })
        .collect())
}

/// Brings a removed account back with its secret and settings; it syncs like any change and
/// wins over the removal it undoes (docs/vault.md, "Recently removed").
#[tauri::command]
pub async fn account_restore<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
) -> AppResult<AccountView> {
    let mut inner = state.get()?;
    state.change(&app, &mut inner, |vault| {
        vault.restore(&id, unix_now())?;
        vault
            .account(&id)
            .map(|a| view(vault, a))
            .ok_or_else(|| AppError::from(twofold_core::vault::VaultError::NotFound(id.clone())))
    })
}

/// The account's `otpauth://` URI as an SVG QR code, to scan it with another phone. It shows
/// the secret: the password must have been entered within the last minute (`AuthRequired`).
#[tauri::command]
pub async fn account_qr_svg(state: State<'_, AppState>, id: String) -> AppResult<String> {
    let inner = state.get()?;
    inner.require_recent_password(Instant::now(), "showing an account's secret as a QR code")?;
    let account = inner.vault()?.account(&id).ok_or_else(|| {
        AppError::new(
            crate::error::ErrorKind::NotFound,
            format!("no account with id {id:?}"),
        )
    })?;
    let uri = twofold_core::uri::write(&account.otp);
    let qr = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| AppError::internal(format!("cannot draw the QR code: {e}")))?;
    Ok(qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}

/// The user did something: the idle lock timer starts again.
#[tauri::command]
pub async fn touch(state: State<'_, AppState>) -> AppResult<()> {
    state.get()?.last_activity = Instant::now();
    Ok(())
}

/// Copies the account's current code to the clipboard. It is cleared after
/// [`CLIPBOARD_CLEAR_SECS`](crate::state::CLIPBOARD_CLEAR_SECS) (event `clipboard-cleared`),
/// on lock and on exit, each time only if the clipboard still holds it.
#[tauri::command]
pub async fn code_copy<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
) -> AppResult<()> {
    let mut inner = state.get()?;
    let code = {
        let account = inner.vault()?.account(&id).ok_or_else(|| {
            AppError::new(
                crate::error::ErrorKind::NotFound,
                format!("no account with id {id:?}"),
            )
        })?;
        Zeroizing::new(code_view(account, unix_now_ms()).code)
    };
    let seq = state.copy(&mut inner, code)?;
    inner.last_activity = Instant::now();
    drop(inner);
    let after = state.clipboard_clear_after();
    std::thread::spawn(move || {
        std::thread::sleep(after);
        let state = app.state::<AppState>();
        let cleared = state
            .get()
            .is_ok_and(|mut inner| state.clear_copied(&mut inner, Some(seq)));
        if cleared {
            // Nobody to tell when the webview is gone; the clipboard is clear either way.
            let _ = app.emit(EVENT_CLIPBOARD_CLEARED, ());
        }
    });
    Ok(())
}
