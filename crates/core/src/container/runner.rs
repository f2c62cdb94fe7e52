//! The container sequences, written once for the CLI and the app (`docs/containers.md`,
//! "One runner"): register and the first sync, sync (with the enrolment of the PUSH tokens it
//! brings), rollover (in place, or the link for another device) and unregister. The runner
//! builds every request and reads every reply; the front end ([`Host`]) carries the bytes,
//! asks the person for a passphrase, and makes each change of the vault through its store
//! (the writer lock around the change alone, the vault brought up to the file first: another
//! writer's save is built on, never lost). Time comes from an injected [`Clock`], randomness
//! from an injected [`Rng`].
//!
//! What is saved when a step fails, the one rule:
//! - Nothing is saved before the server has answered a step, and the vault's lock is never
//!   held while a request waits for the server or a prompt for the person.
//! - A step the server completed is saved at once, in its own change, whatever follows: a
//!   registration (the new key), a rollover in place (the old key stopped working), an
//!   unregistration (the container and its tokens removed).
//! - A server that says the container is not registered (any more) is saved at once too
//!   ([`Vault::container_gone`]), before the error is returned: unregistering here is no
//!   longer the server's to refuse.
//! - A sync's token changes are all or nothing: they are applied in one change only once the
//!   challenge, the sync and the enrolment of every PUSH token it brings have succeeded.
//! - Registering or rolling over returns `Ok` once the new key is saved; the first sync's
//!   outcome is in [`Renewed::sync`].

use zeroize::Zeroizing;

use super::{
    Container, ContainerError, ContainerKey, OpenChallenge, Operation, Registration, SyncReply,
};
use crate::Clock;
use crate::push::privacyidea::{EnrolError, Enrolment};
use crate::push::{KeyError, PhoneKey, PushAccount, Request};
use crate::rng::Rng;
use crate::vault::{ContainerSyncReport, ContainerSyncTokens, StoredContainer, Vault, VaultError};

/// A server's response: the status and the body (privacyIDEA puts its errors in the body,
/// so every status is read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// What a front end supplies to the [`Runner`]: transport, the passphrase prompt and its
/// vault store. Errors are the front end's own, built from the core's.
pub trait Host {
    /// The front end's error.
    type Error: From<ContainerError> + From<VaultError> + From<EnrolError> + From<KeyError>;

    /// Refuses a server address that breaks the transport's rules; called before a key is
    /// made for that server.
    fn check_url(&self, url: &str) -> Result<(), Self::Error>;

    /// Sends `request` (checking its URL against the transport's rules) and returns the
    /// response, whatever its status.
    fn send(&self, request: &Request) -> Result<Response, Self::Error>;

    /// The passphrase the server asks for with `prompt` (the user-store password, or one
    /// the administrator set), or [`ContainerError::PassphraseRequired`] when there is no one
    /// to ask.
    fn passphrase(&mut self, prompt: &str) -> Result<Zeroizing<String>, Self::Error>;

    /// Reads the vault as this front end holds it (no writer lock).
    fn read<T>(&self, read: impl FnOnce(&Vault) -> T) -> Result<T, Self::Error>;

    /// One saved change through the front end's vault store: the writer lock, the vault
    /// brought up to the file, `apply`, the write (only when `apply` succeeded). Another
    /// program's save in between is built on, not an error.
    fn change<T>(
        &mut self,
        apply: impl FnOnce(&mut Vault) -> Result<T, Self::Error>,
    ) -> Result<T, Self::Error>;
}

/// A container registered, or rolled over in place: saved with its new key. The first sync
/// ran after that save; its failure does not undo it.
#[derive(Debug)]
pub struct Renewed<E> {
    /// The container as saved (its server URL and policies as the server sent them).
    pub container: Container,
    /// That sync was the initial transfer (policy `initially_add_tokens_to_container`): the
    /// offered accounts were sent.
    pub initial_transfer: bool,
    /// The first sync.
    pub sync: Result<ContainerSyncReport, E>,
}

/// The sequences over one front end's [`Host`], clock and randomness.
pub struct Runner<'a, H> {
    host: H,
    clock: &'a dyn Clock,
    rng: &'a dyn Rng,
}

impl<'a, H: Host> Runner<'a, H> {
    /// A runner over `host`.
    pub fn new(host: H, clock: &'a dyn Clock, rng: &'a dyn Rng) -> Self {
        Runner { host, clock, rng }
    }

    /// The host, for what the front end kept in it.
    pub fn into_host(self) -> H {
        self.host
    }

    /// The host.
    pub fn host(&self) -> &H {
        &self.host
    }

    /// Registers `registration` and runs its first sync. `device`: (brand, model) sent when
    /// the user allows it; `offer`: the OTP accounts the user chose for the initial transfer
    /// (checked before anything is sent; sent only if the server asks for this device's
    /// tokens). The passphrase is asked of the [`Host`] when the QR asks for one.
    pub fn register(
        &mut self,
        registration: Registration,
        device: Option<(&str, &str)>,
        offer: &[String],
    ) -> Result<Renewed<H::Error>, H::Error> {
        self.host
            .read(|v| offer.iter().try_for_each(|id| v.check_offerable(id)))??;
        self.host.check_url(registration.server_url().as_str())?;
        let secret = match registration.passphrase_prompt() {
            Some(prompt) => Some(self.host.passphrase(prompt)?),
            None => None,
        };
        let container = self.finalize(registration, device, secret.as_ref().map(|s| s.as_str()))?;
        self.renewed(container, offer)
    }

    /// Saves a container the server just finalized, then syncs it.
    fn renewed(
        &mut self,
        container: Container,
        offer: &[String],
    ) -> Result<Renewed<H::Error>, H::Error> {
        let serial = container.serial.clone();
        let saved = container.clone();
        // Registered on the server (or the old key stopped working): kept whatever follows.
        self.host.change(|v| {
            v.add_container(saved);
            Ok(())
        })?;
        let initial_transfer = self.host.read(|v| v.initial_transfer_open(&serial))?;
        let sync = self.sync(&serial, offer);
        Ok(Renewed {
            container,
            initial_transfer,
            sync,
        })
    }

    /// The finalize exchange with a new P-384 key: the registered container.
    fn finalize(
        &self,
        registration: Registration,
        device: Option<(&str, &str)>,
        passphrase: Option<&str>,
    ) -> Result<Container, H::Error> {
        let key = ContainerKey::generate(self.rng).map_err(ContainerError::from)?;
        let pending = registration.start(key, device, passphrase, self.clock.now())?;
        let response = self.host.send(pending.request())?;
        Ok(pending.finish(&response.body, self.clock.now())?)
    }

    /// The stored container `serial` (a copy: no lock is held during the exchanges).
    fn stored(&self, serial: &str) -> Result<Container, H::Error> {
        self.host
            .read(|v| v.container(serial).map(|c| c.container.clone()))?
            .ok_or_else(|| VaultError::NotFound(serial.to_owned()).into())
    }

    /// A fresh challenge for `op`.
    fn challenge(&self, container: &Container, op: Operation) -> Result<OpenChallenge, Step<H>> {
        let response = self
            .host
            .send(&container.challenge_request(op))
            .map_err(Step::Host)?;
        Ok(container.read_challenge(op, &response.body)?)
    }

    /// Saves that the server no longer knows `serial` when `e` says so; the error either way.
    fn gone(&mut self, serial: &str, e: Step<H>) -> H::Error {
        match e {
            Step::Container(e) if e.is_unregistered() => {
                match self.host.change(|v| {
                    v.container_gone(serial);
                    Ok(())
                }) {
                    Ok(()) => e.into(),
                    Err(saving) => saving,
                }
            }
            Step::Container(e) => e.into(),
            Step::Host(e) => e,
        }
    }

    /// One container's sync, all or nothing: the vault changes (in one change) only once
    /// every request (challenge, sync, the enrolment of each PUSH token) has succeeded. A
    /// server that no longer knows the container is saved at once ([`Vault::container_gone`]).
    /// `offer`: OTP accounts the user chose for the initial transfer (sent only when this
    /// sync is it).
    pub fn sync(
        &mut self,
        serial: &str,
        offer: &[String],
    ) -> Result<ContainerSyncReport, H::Error> {
        let now = self.clock.now();
        let (container, sent) = self.host.read(|v| {
            v.container(serial)
                .map(|c| c.container.clone())
                .ok_or_else(|| VaultError::NotFound(serial.to_owned()))
                .and_then(|c| Ok((c, v.container_sync_tokens(serial, offer, now)?)))
        })??;
        let reply = match self.exchange(&container, sent) {
            Ok(reply) => reply,
            Err(e) => return Err(self.gone(serial, e)),
        };
        // Only the container's own PUSH tokens are enrolled (the others are skipped with the
        // reason by apply_container_sync): no key goes to another server.
        let uris: Vec<Zeroizing<String>> = self.host.read(|v| {
            v.container_push_to_enrol(&reply)
                .into_iter()
                .map(|a| a.uri.clone())
                .collect()
        })?;
        let push = uris
            .iter()
            .map(|uri| self.enrol_push(uri))
            .collect::<Result<Vec<_>, _>>()?;
        let (clock, rng) = (self.clock, self.rng);
        self.host
            .change(|v| Ok(v.apply_container_sync(&reply, push, clock.now(), rng)?))
    }

    /// The challenge and the sync request: the checked, decrypted reply.
    fn exchange(
        &self,
        container: &Container,
        sent: ContainerSyncTokens,
    ) -> Result<SyncReply, Step<H>> {
        let challenge = self.challenge(container, Operation::Sync)?;
        let pending = container.sync_offering(&challenge, &sent.report, sent.offers, self.rng)?;
        let response = self.host.send(pending.request()).map_err(Step::Host)?;
        Ok(pending.finish(&response.body)?)
    }

    /// Enrols a PUSH token a sync brought, through the push code (RSA key, `/ttype/push`), with
    /// this device's push device token as its `fbtoken` when it has one (docs/relay.md), as
    /// a scanned push token is; else poll-only.
    fn enrol_push(&self, uri: &str) -> Result<PushAccount, H::Error> {
        let enrolment = Enrolment::parse(uri, self.clock.now())?;
        self.host.check_url(enrolment.url())?;
        let push_token = self.host.read(|v| v.push_device_token())?;
        let key = PhoneKey::generate(self.rng)?;
        let pending = enrolment.start(key, push_token.as_deref(), self.clock.now())?;
        let response = self.host.send(pending.request())?;
        Ok(pending.finish(&response.body, self.clock.now())?)
    }

    /// Asks the server for a rollover of `serial` (when its policy allows): the new
    /// registration QR's text, for another device ("move to a new phone"). This vault's copy
    /// keeps working until that device registers it; nothing is saved.
    pub fn rollover_uri(&mut self, serial: &str) -> Result<Zeroizing<String>, H::Error> {
        let container = self.stored(serial)?;
        if !container.policies.container_client_rollover {
            return Err(ContainerError::Forbidden("container_client_rollover (not set)").into());
        }
        let run = || -> Result<Zeroizing<String>, Step<H>> {
            let challenge = self.challenge(&container, Operation::Rollover)?;
            let pending = container.rollover(&challenge)?;
            let response = self.host.send(pending.request()).map_err(Step::Host)?;
            Ok(Zeroizing::new(pending.finish(&response.body)?))
        };
        run().map_err(Step::into_error)
    }

    /// Rollover in place: the new QR finalized here with a new key (saved at once: the old
    /// key stopped working), then a sync (the server re-keys every token).
    pub fn rollover(&mut self, serial: &str) -> Result<Renewed<H::Error>, H::Error> {
        let uri = self.rollover_uri(serial)?;
        let registration = Registration::parse(&uri, self.clock.now())?;
        drop(uri);
        if registration.serial() != serial {
            return Err(
                ContainerError::Response("the rollover QR names another container".into()).into(),
            );
        }
        self.host.check_url(registration.server_url().as_str())?;
        if let Some(prompt) = registration.passphrase_prompt() {
            return Err(ContainerError::PassphraseRequired(prompt.to_owned()).into());
        }
        let renewed = self.finalize(registration, None, None)?;
        self.renewed(renewed, &[])
    }

    /// Unregisters `serial` on the server (when its policy allows; one the server no longer
    /// knows needs no more) and then removes it, and every account and push account it
    /// manages, from the vault (restorable for 30 days): what was removed.
    pub fn unregister(&mut self, serial: &str) -> Result<StoredContainer, H::Error> {
        let container = self.stored(serial)?;
        if container.policies.disable_client_container_unregister {
            return Err(ContainerError::Forbidden("disable_client_container_unregister").into());
        }
        match self.challenge(&container, Operation::Unregister) {
            Ok(challenge) => {
                let pending = container.unregister(&challenge)?;
                let response = self.host.send(pending.request())?;
                pending.finish_with_status(response.status, &response.body)?;
            }
            // Already unregistered on the server (ERR3001, ERR601).
            Err(Step::Container(e)) if e.is_unregistered() => {}
            Err(e) => return Err(e.into_error()),
        }
        // After the exchange, on the vault as it is now (another program may have saved).
        let now = self.clock.now();
        self.host.change(|v| Ok(v.remove_container(serial, now)?))
    }
}

/// A step's failure: the protocol's own (read before it becomes the front end's error, to
/// see whether the server no longer knows the container) or the front end's.
enum Step<H: Host> {
    Container(ContainerError),
    Host(H::Error),
}

impl<H: Host> Step<H> {
    fn into_error(self) -> H::Error {
        match self {
            Step::Container(e) => e.into(),
            Step::Host(e) => e,
        }
    }
}

impl<H: Host> From<ContainerError> for Step<H> {
    fn from(e: ContainerError) -> Self {
        Step::Container(e)
    }
}
