//! Enrolment of a privacyIDEA `pipush` QR code in two steps: a preview that contacts no one
//! (host, issuer, label and every warning, for the confirmation screen), then, once the user
//! confirmed, the enrolment itself.

use std::sync::atomic::Ordering;

use twofold_core::push::PhoneKey;
use twofold_core::push::privacyidea::{EnrolWarning, Enrolment};
use twofold_core::rng::SystemRng;

use super::PushService;
use crate::dto::{AddResult, PushDelivery, PushEnrolPreview, PushEnrolWarning};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::events::BackupNotice;
use crate::state::{AppState, unix_now};
use crate::support::http_error;

/// Keeps a read `pipush` QR code for [`confirm`]: nothing is sent. Refuses one whose server
/// address breaks the transport's rules (plain HTTP to another machine). A new preview
/// replaces the one before.
pub fn preview(service: &PushService, enrolment: Enrolment) -> AppResult<PushEnrolPreview> {
    let url = twofold_http::check_url(enrolment.url()).map_err(http_error)?;
    let mut warnings: Vec<PushEnrolWarning> = enrolment
        .warnings()
        .into_iter()
        .map(|w| match w {
            EnrolWarning::TlsNotVerified => PushEnrolWarning::TlsNotVerified,
            EnrolWarning::PollOnly => PushEnrolWarning::PollOnly,
        })
        .collect();
    if url.scheme() == "http" {
        warnings.push(PushEnrolWarning::PlainHttp);
    }
    // Pushed when the server has a push service for the token and this device a device token.
    let delivery = if !warnings.contains(&PushEnrolWarning::PollOnly)
        && super::delivery::push_ready(service)
    {
        PushDelivery::Push
    } else {
        PushDelivery::WhileOpen
    };
    let id = service
        .previews
        .fetch_add(1, Ordering::Relaxed)
        .saturating_add(1)
        .to_string();
    let preview = PushEnrolPreview {
        id: id.clone(),
        host: url.host_str().unwrap_or_default().to_owned(),
        url: enrolment.url().to_owned(),
        issuer: enrolment.issuer().to_owned(),
        label: enrolment.label().to_owned(),
        serial: enrolment.serial().to_owned(),
        requires_unlock: enrolment.requires_unlock(),
        expires_at: enrolment.expires_at(),
        warnings,
        delivery,
    };
    *PushService::lock(&service.enrolment)? = Some((id, enrolment));
    Ok(preview)
}

/// Forgets the enrolment shown for confirmation (the user said no).
pub fn cancel(service: &PushService, id: &str) -> AppResult<()> {
    let mut slot = PushService::lock(&service.enrolment)?;
    if slot.as_ref().is_some_and(|(i, _)| i == id) {
        *slot = None;
    }
    Ok(())
}

/// Enrols the previewed QR code `id` the user confirmed: a new RSA-4096 phone key (a few
/// seconds, off the async workers), the registration request (its `fbtoken` this device's push
/// device token when it has one, else `no_firebase_token`), the server's reply checked,
/// and only then the vault saved with the new push account. A failed enrolment saves
/// nothing. Returns the result and what the UI is to hear of the backup.
pub async fn confirm(
    state: &AppState,
    service: &PushService,
    id: &str,
) -> AppResult<(AddResult, BackupNotice)> {
    // This device's token for the server's push service (docs/relay.md), or poll-only.
    let push_token = state.get()?.vault()?.push_device_token();
    let enrolment = {
        let mut slot = PushService::lock(&service.enrolment)?;
        match slot.take() {
            Some((i, e)) if i == id => e,
            other => {
                *slot = other;
                return Err(AppError::new(
                    ErrorKind::NotFound,
                    "no push enrolment waits for this confirmation; scan the QR code again",
                ));
            }
        }
    };
    let account = crate::support::off_thread(move || {
        let key = PhoneKey::generate(&SystemRng::new())?;
        let pending = enrolment.start(key, push_token.as_deref(), unix_now())?;
        let body = twofold_http::send_body(pending.request()).map_err(http_error)?;
        Ok(pending.finish(&body, unix_now())?)
    })
    .await?;
    let serial = account.serial.clone();
    let mut inner = state.get()?;
    let changed = state.change_saved(&mut inner, |vault| {
        vault.add_push_account(account);
        Ok(())
    })?;
    Ok((AddResult::PushEnrolled { serial }, changed.backup))
}
