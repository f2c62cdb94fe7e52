//! privacyIDEA smartphone token containers (3.11+), sans-IO: this module builds the requests
//! and reads the replies; the app and the CLI carry the bytes (`docs/containers.md`).
//!
//! One type per state: a scanned [`Registration`] becomes a [`PendingRegistration`] (the
//! signed finalize request) and then a registered [`Container`]. A registered container asks
//! for an [`OpenChallenge`] and spends it on a [`PendingSync`] (whose reply becomes a
//! [`SyncReply`]), a [`PendingRollover`] or a [`PendingUnregister`].
//!
//! Every string the phone signs is built by one named function ([`register_message`],
//! [`sync_message`], [`rollover_message`], [`unregister_message`]), with golden vectors in
//! `tests/container_vectors.rs`.
//!
//! The map, one file per concern:
//! - `registration`: the scanned QR ([`Registration`]) and its finalize request.
//! - `operations`: a registered [`Container`], its challenge and the sync, rollover and
//!   unregister requests spending it.
//! - `reply`: the sync reply decrypted and read ([`SyncReply`]).
//! - `messages`: the signed strings, endpoint paths, the client's container dict, server time.
//! - `policies`: the client [`Policies`] the server sends.
//! - `error`: [`ContainerError`] and the reading of privacyIDEA's result envelope.
//! - `keys`: the P-384 signing key and the X25519 sync key.
//! - `runner`: the sequences (register and first sync, sync, rollover, unregister) written
//!   once over the front end's transport and vault store, with the rule for what is saved
//!   when a step fails.

mod error;
mod keys;
mod messages;
mod operations;
mod policies;
mod registration;
mod reply;
mod runner;

pub use error::ContainerError;
pub use keys::{ContainerKey, ContainerKeyError, SyncKey, aes_gcm16_open};
pub use messages::{
    container_dict_client, container_dict_client_offering, endpoint_url, parse_server_time, path,
    register_message, rollover_message, sync_message, unregister_message,
};
pub use operations::{
    Container, DAYPASSWORD_PERIOD, IdentifiedToken, OfferedOtp, OpenChallenge, Operation,
    PendingRollover, PendingSync, PendingUnregister, ReportedToken,
};
pub use policies::Policies;
pub use registration::{PendingRegistration, Registration};
pub use reply::{AddedToken, SyncReply, UpdatedToken, read_sync_plaintext};
pub use runner::{Host, Renewed, Response, Runner};

/// The registration QR's `ttl` when it has none or ≤ 0, in minutes (privacyIDEA's default).
pub const DEFAULT_TTL_MINUTES: u64 = 10;
/// The most tokens (`add` + `update`) a sync reply may list; more is refused before any work.
pub const MAX_SYNC_TOKENS: usize = 1000;
/// The largest encrypted token list taken (base64 characters).
pub const MAX_SYNC_CIPHERTEXT: usize = 1024 * 1024;
/// The device brand Twofold sends with `--device-info`.
pub const DEVICE_BRAND: &str = "Twofold";

/// True for text that is a `pia://container/` registration QR.
pub fn is_registration_uri(text: &str) -> bool {
    crate::payload::PayloadKind::of(text) == crate::payload::PayloadKind::ContainerRegistration
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_runner;
