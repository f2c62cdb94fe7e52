//! What the UI is shown: push accounts, prompts collapsed per account and minute, muted
//! accounts left out, the activity log.

use std::collections::BTreeMap;

use twofold_core::container::Container;
use twofold_core::push::{
    Activity, Answer, Challenge, DeclineReason as CoreReason, Location, PushAccount,
};

use crate::dto::{
    ActivityView, DeclineReason, LocationView, PushAccountView, PushChallengeView, PushDecision,
};
use crate::error::AppResult;
use crate::state::Inner;

/// Prompts of one account this close together (seconds) collapse into one with a count.
pub const COLLAPSE_SECS: u64 = 60;

/// Until when (Unix seconds) `serial`'s prompts are muted, if they are now.
pub fn muted_until(muted: &BTreeMap<String, u64>, serial: &str, now: u64) -> Option<u64> {
    muted.get(serial).copied().filter(|&until| until > now)
}

/// A push account as the accounts list shows it; `managed`: the container that manages it.
pub fn account_view(
    a: &PushAccount,
    managed: Option<&Container>,
    muted: &BTreeMap<String, u64>,
    now: u64,
) -> PushAccountView {
    PushAccountView {
        serial: a.serial.clone(),
        issuer: a.issuer.clone(),
        label: a.label.clone(),
        url: a.url.clone(),
        requires_unlock: a.requires_unlock(),
        enrolled_at: a.enrolled_at,
        muted_until: muted_until(muted, &a.serial, now),
        insecure_tls: !a.verify_tls,
        container: managed.map(|c| c.serial.clone()),
        managed_by: managed.map(|c| c.issuer.clone()),
        deletable: !managed.is_some_and(|c| c.policies.disable_client_token_deletion),
    }
}

pub(crate) fn challenge_view(c: &Challenge, account: Option<&PushAccount>) -> PushChallengeView {
    PushChallengeView {
        nonce: c.nonce().to_owned(),
        serial: c.serial().to_owned(),
        issuer: account.map(|a| a.issuer.clone()).unwrap_or_default(),
        label: account.map(|a| a.label.clone()).unwrap_or_default(),
        title: c.title().to_owned(),
        question: c.question().to_owned(),
        options: c.options().map(<[String]>::to_vec),
        decline_reasons: c.decline_reasons(),
        received_at: c.received_at(),
        expires_at: c.expires_at(),
        count: 1,
        requires_unlock: account.is_some_and(PushAccount::requires_unlock),
    }
}

/// Collapses the prompts of one account that arrived within [`COLLAPSE_SECS`] of the one
/// before into one: the newest (answering it answers that nonce; the older ones stay
/// pending and show next), with `count` saying how many there were. Oldest group first.
pub fn collapse(mut views: Vec<PushChallengeView>) -> Vec<PushChallengeView> {
    // Stable: requests received in the same second keep their order of arrival (the list's),
    // so a group's newest is the one that came last (pushed sign-ins are often a second apart).
    views.sort_by(|a, b| {
        (a.serial.as_str(), a.received_at).cmp(&(b.serial.as_str(), b.received_at))
    });
    let mut out: Vec<PushChallengeView> = Vec::new();
    for v in views {
        match out.last_mut() {
            Some(last)
                if last.serial == v.serial
                    && v.received_at.saturating_sub(last.received_at) <= COLLAPSE_SECS =>
            {
                let count = last.count.saturating_add(1);
                *last = PushChallengeView { count, ..v };
            }
            _ => out.push(v),
        }
    }
    out.sort_by(|a, b| (a.received_at, &a.nonce).cmp(&(b.received_at, &b.nonce)));
    out
}

/// The pending, unexpired, unanswered challenges of accounts not muted, one view per
/// collapsed group.
pub fn pending_views(inner: &Inner, now: u64) -> AppResult<Vec<PushChallengeView>> {
    let vault = inner.vault()?;
    let views = vault
        .pending_challenges(now)
        .into_iter()
        .filter(|c| muted_until(&inner.prefs.push_muted, c.serial(), now).is_none())
        .map(|c| challenge_view(c, vault.push_account(c.serial())))
        .collect();
    Ok(collapse(views))
}

/// The enrolled push accounts.
pub fn accounts(inner: &Inner, now: u64) -> AppResult<Vec<PushAccountView>> {
    let vault = inner.vault()?;
    Ok(vault
        .push_accounts()
        .iter()
        .map(|a| {
            let managed = vault.managed_push_account(&a.serial).map(|c| &c.container);
            account_view(a, managed, &inner.prefs.push_muted, now)
        })
        .collect())
}

/// The core's form of a location from the UI.
pub fn location(l: LocationView) -> Location {
    Location {
        latitude: l.latitude,
        longitude: l.longitude,
        accuracy_m: l.accuracy_m,
    }
}

/// The core's decline reason.
pub fn core_reason(r: DeclineReason) -> CoreReason {
    match r {
        DeclineReason::UnknownTrigger => CoreReason::UnknownTrigger,
        DeclineReason::Cancelled => CoreReason::Cancelled,
    }
}

fn activity_view(a: &Activity, account: Option<&PushAccount>) -> ActivityView {
    let (decision, answer, reason) = match &a.answer {
        Answer::Accept { option } => (PushDecision::Approve, option.clone(), None),
        Answer::Decline { reason } => (
            PushDecision::Deny,
            None,
            reason.map(|r| match r {
                CoreReason::UnknownTrigger => DeclineReason::UnknownTrigger,
                CoreReason::Cancelled => DeclineReason::Cancelled,
            }),
        ),
    };
    ActivityView {
        at: a.at,
        serial: a.serial.clone(),
        issuer: account.map(|x| x.issuer.clone()).unwrap_or_default(),
        label: account.map(|x| x.label.clone()).unwrap_or_default(),
        title: a.title.clone(),
        question: a.question.clone(),
        decision,
        answer,
        reason,
        accepted: a.accepted,
        location: a.location.map(|l| {
            crate::place::with_place(LocationView {
                latitude: l.latitude,
                longitude: l.longitude,
                accuracy_m: l.accuracy_m,
                place: None,
            })
        }),
    }
}

/// The sign-in activity log, newest first.
pub fn activity(inner: &Inner) -> AppResult<Vec<ActivityView>> {
    let vault = inner.vault()?;
    Ok(vault
        .push_activity()
        .iter()
        .rev()
        .map(|a| activity_view(a, vault.push_account(&a.serial)))
        .collect())
}
