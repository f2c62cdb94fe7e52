//! A container sync on the vault's side (`docs/containers.md`): what a sync sends (the tokens
//! it reports, the initial transfer's offers) and its reply applied in one step
//! ([`Vault::apply_container_sync`]): everything is read and checked first, so a failure
//! changes nothing.

use super::container::{ContainerToken, StoredContainer};
use super::model::Account;
use super::removed::RemovedBy;
use super::{Vault, VaultError};
use crate::container::{AddedToken, OfferedOtp, ReportedToken, SyncReply};
use crate::push::PushAccount;
use crate::rng::{Rng, uuid};
use crate::server_url::ServerUrl;

/// What a container's sync sends: the tokens it reports by serial and the OTP accounts it
/// offers by their values ([`Vault::container_sync_tokens`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerSyncTokens {
    /// Every token the vault holds for the container, then (initial transfer) this vault's
    /// push accounts of the same server that no container manages.
    pub report: Vec<ReportedToken>,
    /// The OTP accounts the user chose to offer (initial transfer only).
    pub offers: Vec<OfferedOtp>,
}

/// What one container sync did (the CLI's REPORT).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerSyncReport {
    /// The container.
    pub serial: String,
    /// Tokens added or re-keyed: (serial, type).
    pub added: Vec<(String, String)>,
    /// Tokens the server kept (HOTP counters set to the server's).
    pub updated: Vec<String>,
    /// Tokens the server removed from the container, removed here too.
    pub removed: Vec<String>,
    /// This vault's own tokens the server took into the container (initial transfer), now
    /// managed by it; also listed in `updated`.
    pub joined: Vec<String>,
    /// Entries that could not be taken: (entry, reason).
    pub skipped: Vec<(String, String)>,
}

impl ContainerSyncReport {
    /// A sync's outcome as the front ends show it: the report, and why it failed (a failed
    /// sync changed nothing: its report for `serial` is empty).
    pub fn or_failure<E>(serial: &str, outcome: Result<Self, E>) -> (Self, Option<E>) {
        match outcome {
            Ok(report) => (report, None),
            Err(e) => (
                ContainerSyncReport {
                    serial: serial.to_owned(),
                    ..ContainerSyncReport::default()
                },
                Some(e),
            ),
        }
    }
}
impl Vault {
    /// The push accounts the initial transfer of container `c` reports by serial: enrolled
    /// from the container's own server (the same origin, both as the transport reads them)
    /// and managed by no container. Automatic: it tells that server only serials it issued.
    fn transferable_push(&self, c: &StoredContainer) -> Vec<&PushAccount> {
        self.db
            .push_accounts
            .iter()
            .filter(|p| on_server(&p.url, &c.container.server_url))
            .filter(|p| !self.managed_anywhere(Some(&p.serial), None))
            .collect()
    }

    /// Why container `c` may not take the token `a` of its sync's `add`, if it may not: a
    /// PUSH token on another server than the container's, or whose serial names a push
    /// account of this vault that the container does not hold (a container never replaces
    /// or takes over an account it does not hold; a serial alone never makes it its own).
    fn refuse_add(&self, c: &StoredContainer, a: &AddedToken) -> Option<String> {
        if !a.is_push() {
            return None;
        }
        let server = &c.container.server_url;
        match a.push_server() {
            Err(why) => return Some(why),
            Ok(url) if !url.same_origin(server) => {
                return Some(format!(
                    "the push token is on another server ({}), not the container's ({})",
                    url.origin(),
                    server.origin()
                ));
            }
            Ok(_) => {}
        }
        let held = c
            .tokens
            .iter()
            .any(|t| t.account.is_none() && t.serial == a.serial);
        if self.push_account(&a.serial).is_some() && !held {
            return Some(format!(
                "this device has a push account {} that the container does not manage; it is left as it is (remove it to take the container's)",
                a.serial
            ));
        }
        None
    }

    /// The PUSH tokens of a sync's reply that the container may take, to be enrolled (through
    /// [`crate::push::privacyidea::Enrolment`]) before [`Vault::apply_container_sync`]: the
    /// others are skipped there, with the reason, and nothing is sent for them.
    pub fn container_push_to_enrol<'r>(&self, reply: &'r SyncReply) -> Vec<&'r AddedToken> {
        let Some(c) = self.container(&reply.serial) else {
            return Vec::new();
        };
        reply
            .add
            .iter()
            .filter(|a| a.is_push() && self.refuse_add(c, a).is_none())
            .collect()
    }

    /// What a sync of `serial` sends at Unix time `now`: every token the vault holds for it
    /// and, when this sync is the initial transfer ([`Vault::initial_transfer_open`]), this
    /// vault's push accounts of the same server that no container manages (by serial), and
    /// the OTP accounts `chosen` by the user (by their next two values). Outside the initial
    /// transfer `chosen` is ignored and nothing else is sent.
    pub fn container_sync_tokens(
        &self,
        serial: &str,
        chosen: &[String],
        now: u64,
    ) -> Result<ContainerSyncTokens, VaultError> {
        let mut out = ContainerSyncTokens {
            report: self.container_report(serial)?,
            offers: Vec::new(),
        };
        if !self.initial_transfer_open(serial) {
            return Ok(out);
        }
        let c = self
            .container(serial)
            .ok_or_else(|| VaultError::NotFound(serial.to_owned()))?;
        for p in self.transferable_push(c) {
            if !out.report.iter().any(|r| r.serial == p.serial) {
                out.report.push(ReportedToken {
                    serial: p.serial.clone(),
                    tokentype: "push".into(),
                });
            }
        }
        for id in chosen {
            if out.offers.iter().any(|o| &o.account == id) {
                continue;
            }
            self.check_offerable(id)?;
            let a = self
                .account(id)
                .ok_or_else(|| VaultError::NotFound(id.clone()))?;
            if let Some(o) = OfferedOtp::new(id, &a.otp, now) {
                out.offers.push(o);
            }
        }
        Ok(out)
    }

    /// What a sync of `serial` reports: every token the vault holds for it.
    pub fn container_report(&self, serial: &str) -> Result<Vec<ReportedToken>, VaultError> {
        let c = self
            .container(serial)
            .ok_or_else(|| VaultError::NotFound(serial.to_owned()))?;
        Ok(c.tokens
            .iter()
            .map(|t| ReportedToken {
                serial: t.serial.clone(),
                tokentype: t.tokentype.clone(),
            })
            .collect())
    }
    /// Applies a checked sync reply: OTP tokens in `add` become accounts (a token held already
    /// gets its new secret in place, same id), `push` holds the push accounts enrolled for the
    /// reply's push tokens, HOTP counters are set to the server's, and the container's tokens
    /// that are in neither list are removed. All or nothing: every entry is read before the
    /// vault changes.
    pub fn apply_container_sync(
        &mut self,
        reply: &SyncReply,
        push: Vec<PushAccount>,
        now: u64,
        rng: &dyn Rng,
    ) -> Result<ContainerSyncReport, VaultError> {
        let ci = self
            .db
            .containers
            .iter()
            .position(|c| c.container.serial == reply.serial)
            .ok_or_else(|| VaultError::NotFound(reply.serial.clone()))?;
        let mut report = ContainerSyncReport {
            serial: reply.serial.clone(),
            skipped: reply.skipped.clone(),
            ..ContainerSyncReport::default()
        };
        // 1. Read everything (no change yet).
        enum New {
            Otp(crate::OtpAccount, String),
            Push(PushAccount),
        }
        let mut push = push;
        let mut news: Vec<(String, String, New)> = Vec::new();
        for a in &reply.add {
            if let Some(why) = self.refuse_add(&self.db.containers[ci], a) {
                report.skipped.push((a.serial.clone(), why));
                continue;
            }
            if a.is_push() {
                let own = |p: &PushAccount| {
                    p.serial == a.serial
                        && on_server(&p.url, &self.db.containers[ci].container.server_url)
                };
                match push.iter().position(own) {
                    Some(i) => news.push((
                        a.serial.clone(),
                        a.tokentype.clone(),
                        New::Push(push.remove(i)),
                    )),
                    None => report
                        .skipped
                        .push((a.serial.clone(), "the push token was not enrolled".into())),
                }
                continue;
            }
            match a.otp_account() {
                Ok(otp) => news.push((
                    a.serial.clone(),
                    a.tokentype.clone(),
                    New::Otp(otp, uuid(rng)?),
                )),
                Err(e) => report.skipped.push((a.serial.clone(), e.to_string())),
            }
        }
        // Tokens of this vault the server took into the container (initial transfer): the
        // push accounts that sync reported and the OTP accounts it offered and the server found.
        let mut joins: Vec<ContainerToken> = Vec::new();
        if self.initial_transfer_open(&reply.serial) {
            let push_ok: Vec<String> = self
                .transferable_push(&self.db.containers[ci])
                .iter()
                .map(|p| p.serial.clone())
                .collect();
            for u in &reply.update {
                let held = self.db.containers[ci].tokens.iter();
                if held.clone().any(|t| t.serial == u.serial)
                    || reply.add.iter().any(|a| a.serial == u.serial)
                    || joins.iter().any(|j| j.serial == u.serial)
                {
                    continue;
                }
                if let Some(i) = reply.identified.iter().find(|i| i.serial == u.serial) {
                    if self.check_offerable(&i.account).is_ok() {
                        joins.push(ContainerToken {
                            serial: u.serial.clone(),
                            tokentype: u.tokentype.clone(),
                            account: Some(i.account.clone()),
                        });
                    }
                } else if u.tokentype == "push" && push_ok.contains(&u.serial) {
                    joins.push(ContainerToken {
                        serial: u.serial.clone(),
                        tokentype: u.tokentype.clone(),
                        account: None,
                    });
                }
            }
        }
        // 2. Apply.
        let mut held = self.db.containers[ci].tokens.clone();
        held.extend(joins.iter().cloned());
        let keep = |s: &str| {
            reply.add.iter().any(|a| a.serial == s) || reply.update.iter().any(|u| u.serial == s)
        };
        let mut tokens: Vec<ContainerToken> = Vec::new();
        for t in &held {
            if keep(&t.serial) {
                continue;
            }
            match &t.account {
                Some(id) => {
                    self.discard_account(id, RemovedBy::Container(reply.serial.clone()), now);
                }
                None => {
                    let _ = self.drop_push_account(&t.serial);
                }
            }
            report.removed.push(t.serial.clone());
        }
        for u in &reply.update {
            let Some(t) = held.iter().find(|t| t.serial == u.serial) else {
                continue;
            };
            if reply.add.iter().any(|a| a.serial == u.serial) {
                continue;
            }
            if let (Some(id), Some(counter)) = (&t.account, u.counter)
                && let Some(a) = self.db.accounts.iter_mut().find(|a| &a.id == id)
                && matches!(a.otp.params.kind(), crate::Kind::Hotp { .. })
            {
                a.otp.params = a.otp.params.with_counter(counter);
            }
            tokens.push(t.clone());
            report.updated.push(u.serial.clone());
            if joins.iter().any(|j| j.serial == u.serial) {
                report.joined.push(u.serial.clone());
            }
        }
        let mut order = self
            .db
            .accounts
            .iter()
            .map(|a| a.order + 1)
            .max()
            .unwrap_or(0);
        for (serial, tokentype, new) in news {
            let old = held.iter().find(|t| t.serial == serial);
            match new {
                New::Otp(otp, fresh_id) => {
                    let existing = old
                        .and_then(|t| t.account.as_ref())
                        .and_then(|id| self.db.accounts.iter_mut().find(|a| &a.id == id));
                    let id = match existing {
                        Some(a) => {
                            a.otp = otp;
                            a.id.clone()
                        }
                        None => {
                            if old.is_some_and(|t| t.account.is_none()) {
                                let _ = self.drop_push_account(&serial);
                            }
                            self.db
                                .accounts
                                .push(Account::new(fresh_id.clone(), otp, order, now));
                            order += 1;
                            fresh_id
                        }
                    };
                    tokens.push(ContainerToken {
                        serial: serial.clone(),
                        tokentype: tokentype.clone(),
                        account: Some(id),
                    });
                }
                New::Push(account) => {
                    if let Some(id) = old.and_then(|t| t.account.as_ref()) {
                        self.discard_account(id, RemovedBy::Container(reply.serial.clone()), now);
                    }
                    self.add_push_account(account);
                    tokens.push(ContainerToken {
                        serial: serial.clone(),
                        tokentype: tokentype.clone(),
                        account: None,
                    });
                }
            }
            report.added.push((serial, tokentype));
        }
        let c = &mut self.db.containers[ci];
        c.tokens = tokens;
        c.container.policies = reply.policies;
        c.container.last_sync = Some(now);
        c.initial_transfer_done = true;
        Ok(report)
    }
}

/// True when the push account URL `url` is on `server` (the same origin as the transport reads
/// both; an address it cannot read is on no server).
fn on_server(url: &str, server: &ServerUrl) -> bool {
    ServerUrl::parse(url).is_ok_and(|u| u.same_origin(server))
}
