//! Sync between a user's devices, end-to-end encrypted, sans-IO (`docs/sync.md`).
//!
//! - [`hlc`]: hybrid logical clock stamps and device ids;
//! - [`state`]: the synced state of the OTP accounts and its merge, a state-based CRDT;
//! - [`replica`]: the sealed replicas, with the key file (the sync key under the passphrase,
//!   `key_file`) and the re-key notices (`notice`) re-exported;
//! - [`session`]: one sync (join, record, merge, the replica to write);
//! - `membership`: what a device keeps in its vault to take part ([`Membership`]);
//! - `rekey`: removing a device (the re-key, its notices, the rejoin).
//!
//! The front ends list, read and write the target's files (a folder, WebDAV); everything here
//! takes and returns bytes. Push accounts never enter a [`State`].

pub mod hlc;
mod key_file;
mod membership;
mod notice;
mod rekey;
pub mod replica;
pub mod session;
pub mod state;

pub use hlc::{DeviceId, Hlc, HlcClock, MAX_AHEAD_MS};
pub use replica::{
    FileKind, KeyFileError, RekeyNotice, ReplicaError, ReplicaHeader, SyncKey, Writer,
};
pub use session::{
    DeviceInfo, Membership, Outcome, SyncError, TargetFile, Warning, join, rejoin, rekey, sync,
};
pub use state::{Record, State, StateError, Tombstone, TooFarAhead, Version, Visible};

#[cfg(test)]
mod tests_replica;
#[cfg(test)]
mod tests_session;
