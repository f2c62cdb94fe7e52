//! Twofold's sync targets and one sync run over them (`docs/sync.md`), shared by the CLI and
//! the app. The core does the merge and the cryptography, sans-IO; this crate lists a target's
//! `*.twofold-sync` files, writes this device's replica (and a new sync set's key file), and
//! hands the merged accounts to the vault. A run is [`plan`] (sans-IO: the listing in, the
//! vault merged and the files to write out) then [`apply`] (the writes); [`run`] does both over
//! a [`Store`], the app calls them apart. Saving the vault is the caller's (it holds the
//! vault's writer lock around the whole run).

#![forbid(unsafe_code)]

mod budget;
mod documents;
mod folder;
mod multistatus;
mod target;
mod webdav;

use twofold_core::Clock;
use twofold_core::rng::Rng;
use twofold_core::sync::{self, DeviceId, FileKind, SyncError, TargetFile, Warning};
use twofold_core::vault::{KdfParams, Vault, VaultError};
use zeroize::Zeroizing;

pub use budget::MAX_SYNC_BYTES;
pub use documents::{DirDocuments, Document, DocumentFolder, Documents};
pub use folder::Folder;
pub use target::{Target, TargetParseError, WebDavTarget, saf_document_uri};
pub use webdav::WebDav;

/// Why a target could not be listed or written (the sync itself did not run, or its replica
/// was not written; the vault is unchanged either way).
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// A folder target: the file system refused.
    #[error("cannot {what} {path}: {source}")]
    Io {
        /// What was being done ("read the folder", "write").
        what: &'static str,
        /// The path it was done to.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A folder only the app on one Android phone can reach (chosen in its system picker);
    /// this program cannot open it.
    #[error("{place} is a folder chosen on an Android phone: only the app there can reach it")]
    PhoneFolder {
        /// The folder as a person reads it.
        place: String,
    },
    /// More `*.twofold-sync` files than [`sync::session::MAX_FILES`].
    #[error(
        "the sync target holds more than {} sync files",
        sync::session::MAX_FILES
    )]
    TooManyFiles,
    /// The random number generator failed (temporary file names).
    #[error("the random number generator failed")]
    Rng,
    /// A WebDAV address Twofold does not use (not HTTPS, credentials in it, ...).
    #[error("{url} is not a WebDAV folder Twofold can use: {why}")]
    WebDavUrl {
        /// The address (without credentials).
        url: String,
        /// Why.
        why: &'static str,
    },
    /// The WebDAV request got no usable reply (network, TLS, timeout, redirect, too large).
    #[error(transparent)]
    Http(#[from] twofold_http::HttpError),
    /// The WebDAV server refused the login (401) or the access (403).
    #[error(
        "the WebDAV server refused the login for {url} (HTTP {status}): check the WebDAV user \
         and password"
    )]
    Unauthorized {
        /// The collection's address.
        url: String,
        /// 401 or 403.
        status: u16,
    },
    /// A conditional `PUT` failed (412): the file changed on the server after this sync read
    /// it. Nothing was written; the caller does not save, so the vault is unchanged.
    #[error(
        "{name} changed on the WebDAV server while this sync ran (HTTP 412: another writer); \
         nothing was written and the vault is unchanged: sync again"
    )]
    Conflict {
        /// The file's name.
        name: String,
    },
    /// The WebDAV server answered with an unexpected status.
    #[error("the WebDAV server answered HTTP {status} to {what} ({url})")]
    Status {
        /// What was being done.
        what: &'static str,
        /// The request's address.
        url: String,
        /// The status.
        status: u16,
    },
    /// The WebDAV listing could not be read (not a multistatus, too many entries, malformed).
    #[error("the WebDAV listing of {url} cannot be used: {reason}")]
    Listing {
        /// The collection's address.
        url: String,
        /// Why.
        reason: String,
    },
}

/// A sync target's files: listed once per run, then this device's file(s) written.
pub trait Store {
    /// Every `*.twofold-sync` file of the target, sorted by name. Files that cannot be a sync
    /// file (too large) are left out with a warning.
    fn list(&mut self) -> Result<Listing, TargetError>;
    /// Writes `file` (replacing the one of that name) so that a reader sees either the old or
    /// the new bytes, never a mix. `device` names this device's temporary files.
    fn put(
        &mut self,
        file: &TargetFile,
        device: DeviceId,
        rng: &dyn Rng,
    ) -> Result<(), TargetError>;
}

/// What a [`Store::list`] found.
#[derive(Debug, Default)]
pub struct Listing {
    /// The files to merge, sorted by name.
    pub files: Vec<TargetFile>,
    /// Files left out before reading (too large), with why.
    pub warnings: Vec<Warning>,
}

/// Why a sync run failed. A failure leaves the vault as it was.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The target could not be read or written.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The sync could not run (a wrong passphrase among the reasons).
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// The merged accounts could not be taken into the vault.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// No passphrase could be had (the caller's reason: no terminal, cancelled, empty).
    #[error("{0}")]
    Passphrase(String),
    /// The passphrase that would create a sync set is too weak (the core's one rule).
    #[error("sync passphrase refused: {0}")]
    WeakPassphrase(#[from] twofold_core::strength::WeakPassphrase),
}

/// What a sync did.
#[derive(Debug)]
pub struct Report {
    /// The target as the vault stores it (`folder:<path>`, `webdav:<URL>`).
    pub target: String,
    /// Other devices whose data was merged.
    pub devices: usize,
    /// Files merged.
    pub received: usize,
    /// Accounts this sync added, removed or changed in the vault.
    pub changed: usize,
    /// Of those, the accounts this sync removed (kept among the vault's recently removed).
    pub removed: usize,
    /// Files left out, each with why.
    pub warnings: Vec<Warning>,
}

/// Which passphrase a sync needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The target has no sync set: the passphrase creates one (asked twice; the strength
    /// rule applies; the Argon2id parameters are the caller's).
    Create,
    /// The target's set, joined once with its passphrase.
    Join,
    /// The set was re-keyed (a device removed): its new passphrase, once.
    Rejoin,
}

/// This device's default name in a sync set: the host name; on a phone, whose host name is
/// `localhost` (no maintained plugin gives Rust the name the user gave the phone), the kind of
/// device. The user may edit it (the CLI's `--device-name`, the app's Settings → Sync).
pub fn device_name() -> String {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    name_or_kind(&host, std::env::consts::OS)
}

/// `host`, cleaned, unless it names no device (`localhost`, empty): then the kind of device
/// that `os` (a [`std::env::consts::OS`]) is.
fn name_or_kind(host: &str, os: &str) -> String {
    let name = sync::replica::clean_device_name(host);
    if !name.is_empty() && !name.eq_ignore_ascii_case("localhost") {
        return name;
    }
    match os {
        "android" => "Android phone",
        "ios" => "iPhone",
        "macos" => "Mac",
        "windows" => "Windows PC",
        _ => "this device",
    }
    .to_owned()
}

#[cfg(test)]
mod tests_webdav;

#[cfg(test)]
mod name_tests {
    use super::name_or_kind;

    #[test]
    fn a_host_name_is_the_name_and_a_phones_localhost_is_its_kind() {
        assert_eq!(name_or_kind("anna-laptop\n", "linux"), "anna-laptop");
        assert_eq!(name_or_kind("localhost", "android"), "Android phone");
        assert_eq!(name_or_kind("", "ios"), "iPhone");
        assert_eq!(name_or_kind("", "linux"), "this device");
        assert!(!super::device_name().is_empty());
    }
}

/// Whether this vault is a member of `target`'s sync set already (no passphrase needed).
pub fn is_member(vault: &Vault, target: &Target) -> bool {
    vault.sync_target() == Some(target.stored().as_str()) && vault.sync_membership().is_some()
}

/// One sync of `vault` with `store` (at `target`): list, join or create the sync set when
/// this vault is not a member yet, or take the set's new key after a re-key
/// (`passphrase(need)` is asked then, and only then; it returns the passphrase and, when
/// creating, the Argon2id parameters for the key file), merge, write this device's replica,
/// and take the merged accounts into the vault, which the caller then saves. On a failure the
/// caller does not save: the file keeps what it had (the in-memory vault is unchanged, except
/// for groups that a failed take-over may have made). A re-keyed set whose new passphrase is
/// not given is [`SyncError::NewPassphrase`], and nothing is written. `name`, when given,
/// becomes this device's name in the set (sent with this sync's replica); a device that has
/// none takes [`device_name`]. `clock` is read once: the sync's time.
pub fn run(
    vault: &mut Vault,
    target: &Target,
    store: &mut dyn Store,
    passphrase: &mut dyn FnMut(Need) -> Result<(Zeroizing<String>, KdfParams), RunError>,
    name: Option<&str>,
    clock: &dyn Clock,
    rng: &dyn Rng,
) -> Result<Report, RunError> {
    let listing = store.list()?;
    let planned = plan(vault, target, listing, passphrase, name, clock, rng)?;
    apply(store, &planned, rng)?;
    Ok(planned.done)
}

/// A sync (or removal) done in the vault, and what it leaves to write to the target.
#[derive(Debug)]
pub struct Planned<T> {
    /// What it did.
    pub done: T,
    /// This device's files to write, in order (a new set's key file first, re-key files, this
    /// device's replica last).
    pub writes: Vec<TargetFile>,
    /// This device (it names its temporary files).
    pub device: DeviceId,
}

/// Writes what `planned` leaves to write, in order.
pub fn apply<T>(
    store: &mut dyn Store,
    planned: &Planned<T>,
    rng: &dyn Rng,
) -> Result<(), TargetError> {
    planned
        .writes
        .iter()
        .try_for_each(|w| store.put(w, planned.device, rng))
}

/// [`run`] without I/O: `listing` is the target's, read beforehand by the caller, who then
/// writes [`Planned::writes`] ([`apply`]) before saving the vault. Nothing is written when it
/// fails.
pub fn plan(
    vault: &mut Vault,
    target: &Target,
    listing: Listing,
    passphrase: &mut dyn FnMut(Need) -> Result<(Zeroizing<String>, KdfParams), RunError>,
    name: Option<&str>,
    clock: &dyn Clock,
    rng: &dyn Rng,
) -> Result<Planned<Report>, RunError> {
    plan_at(
        vault,
        target,
        listing,
        passphrase,
        name,
        clock.now_ms(),
        rng,
    )
}

/// [`plan`] at `now_ms` (Unix milliseconds).
fn plan_at(
    vault: &mut Vault,
    target: &Target,
    listing: Listing,
    passphrase: &mut dyn FnMut(Need) -> Result<(Zeroizing<String>, KdfParams), RunError>,
    name: Option<&str>,
    now_ms: u64,
    rng: &dyn Rng,
) -> Result<Planned<Report>, RunError> {
    let mut writes = Vec::new();
    let stored_target = target.stored();
    let files = listing.files;
    let stored = vault
        .sync_membership()
        .filter(|_| vault.sync_target() == Some(stored_target.as_str()));
    let mut membership = match stored {
        Some(m) => m.clone(),
        None => {
            let creating = !files
                .iter()
                .any(|f| sync::replica::kind_of(&f.bytes) == FileKind::KeyFile);
            let (pass, kdf) = passphrase(if creating { Need::Create } else { Need::Join })?;
            if pass.is_empty() {
                return Err(RunError::Passphrase(
                    "the sync passphrase must not be empty".into(),
                ));
            }
            // A new sync set gets only a passphrase the app would accept; joining takes the
            // one the set already has.
            if creating {
                twofold_core::strength::check(&pass)?;
            }
            let device = DeviceId::random(rng).map_err(SyncError::from)?;
            let kdf = if creating { kdf } else { KdfParams::MIN };
            let (m, key_file) =
                sync::join(&files, pass.as_bytes(), kdf, device, &device_name(), rng)?;
            writes.extend(key_file);
            m
        }
    };
    if let Some(name) = name {
        membership.set_name(name);
    }
    if membership.name.is_empty() {
        membership.set_name(&device_name());
    }
    let local = vault.sync_local();
    let outcome = match sync::sync(&mut membership, &local, &files, now_ms, rng) {
        Err(SyncError::NewPassphrase) => {
            // Re-keyed: the new passphrase, once; none (or a wrong one) writes nothing.
            let (pass, _) = passphrase(Need::Rejoin).map_err(|_| SyncError::NewPassphrase)?;
            sync::rejoin(&mut membership, &files, pass.as_bytes())?;
            sync::sync(&mut membership, &local, &files, now_ms, rng)?
        }
        other => other?,
    };
    vault.apply_synced(&outcome.accounts, &outcome.removed_by, now_ms / 1000, rng)?;
    let device = membership.device;
    writes.push(outcome.write);
    vault.set_sync(&stored_target, membership);
    let mut warnings = listing.warnings;
    warnings.extend(outcome.warnings);
    let report = Report {
        target: stored_target,
        devices: outcome.devices,
        received: outcome.received,
        changed: outcome.changed,
        removed: outcome.removed_by.len(),
        warnings,
    };
    Ok(Planned {
        done: report,
        writes,
        device,
    })
}

/// What removing a device did.
#[derive(Debug)]
pub struct Removal {
    /// The sync that ran first (everything the set had, merged and written).
    pub sync: Report,
    /// The new key's id.
    pub key_id: String,
    /// Bytes written to the target by the re-key (key file, notices, this device's replica
    /// under the new key).
    pub bytes_written: usize,
}

/// Removes `device` from `vault`'s sync set and re-keys it with `new_passphrase`
/// (`docs/sync.md`, "Removing a device"): a normal sync first (as [`run`]), then a new key
/// file under `new`'s passphrase (the one strength rule applies) and Argon2id parameters, a re-key notice under every key this device holds or retired, and this
/// device's replica under the new key. The caller saves the vault, as after [`run`]; a failure
/// before the notice is written leaves the set as it was (a key file nobody uses at worst).
/// `clock` is read once: the time of the sync and of the re-key.
pub fn remove_device(
    vault: &mut Vault,
    target: &Target,
    store: &mut dyn Store,
    device: DeviceId,
    new: (&str, KdfParams),
    clock: &dyn Clock,
    rng: &dyn Rng,
) -> Result<Removal, RunError> {
    let listing = store.list()?;
    let planned = plan_removal(vault, target, listing, device, new, clock, rng)?;
    apply(store, &planned, rng)?;
    Ok(planned.done)
}

/// [`remove_device`] without I/O, as [`plan`] is [`run`]'s.
pub fn plan_removal(
    vault: &mut Vault,
    target: &Target,
    listing: Listing,
    device: DeviceId,
    new: (&str, KdfParams),
    clock: &dyn Clock,
    rng: &dyn Rng,
) -> Result<Planned<Removal>, RunError> {
    let now_ms = clock.now_ms();
    let (new_passphrase, kdf) = new;
    twofold_core::strength::check(new_passphrase)?;
    if !is_member(vault, target) {
        return Err(RunError::Sync(SyncError::PassphraseNeeded));
    }
    // Fail before any write when the device is not one to remove.
    vault
        .sync_membership()
        .ok_or(SyncError::Membership)?
        .removable(device)?;
    let mut refuse = |_: Need| -> Result<(Zeroizing<String>, KdfParams), RunError> {
        Err(RunError::Sync(SyncError::NewPassphrase))
    };
    let Planned {
        done: report,
        mut writes,
        ..
    } = plan_at(vault, target, listing, &mut refuse, None, now_ms, rng)?;
    let mut m = vault
        .sync_membership()
        .ok_or(SyncError::Membership)?
        .clone();
    let files = sync::rekey(&mut m, device, new_passphrase.as_bytes(), kdf, now_ms, rng)?;
    let mut bytes_written: usize = files.iter().map(|f| f.bytes.len()).sum();
    writes.extend(files);
    // This device's replica under the new key (nothing to merge: its state is the sync's).
    let local = vault.sync_local();
    let outcome = sync::sync(&mut m, &local, &[], now_ms, rng)?;
    bytes_written += outcome.write.bytes.len();
    writes.push(outcome.write);
    let this = m.device;
    let key_id = m.keys.first().map(|(id, _)| id.clone()).unwrap_or_default();
    vault.set_sync(&target.stored(), m);
    Ok(Planned {
        done: Removal {
            sync: report,
            key_id,
            bytes_written,
        },
        writes,
        device: this,
    })
}

/// The store for `target`; `password` is the WebDAV password of `target`'s user (ignored
/// for a folder). Nothing is contacted yet: a WebDAV address is only checked. An Android
/// folder is [`TargetError::PhoneFolder`] here: the app opens it through its document API
/// ([`DocumentFolder`]).
pub fn open(
    target: &Target,
    password: Option<Zeroizing<String>>,
) -> Result<Box<dyn Store>, TargetError> {
    match target {
        Target::Folder(dir) => Ok(Box::new(Folder::new(dir.clone()))),
        Target::WebDav(t) => Ok(Box::new(WebDav::new(t, password)?)),
        Target::Saf(_) => Err(TargetError::PhoneFolder {
            place: target.describe(),
        }),
    }
}

#[cfg(test)]
mod plan_tests {
    use super::*;
    use twofold_core::FixedClock;
    use twofold_core::rng::SystemRng;

    fn vault(rng: &SystemRng, issuer: &str) -> Vault {
        let mut v = Vault::create(b"pw", KdfParams::MIN, rng).unwrap();
        let otp = twofold_core::uri::parse(&format!(
            "otpauth://totp/{issuer}:alice?secret=JBSWY3DPEHPK3PXP&issuer={issuer}"
        ))
        .unwrap();
        v.add(otp, 1_700_000_000, rng).unwrap();
        v
    }

    /// The plan reads only the listing it is given and writes nothing: the caller applies its
    /// writes (key file first, replica last) and another device then merges them.
    #[test]
    fn a_plan_writes_nothing_until_applied() {
        let rng = SystemRng::new();
        let dir = tempfile::tempdir().unwrap();
        let target = Target::Folder(dir.path().to_owned());
        let mut store = Folder::new(dir.path().to_owned());
        let mut ask = |_: Need| {
            Ok((
                Zeroizing::new("tangerine orbit velvet ladder".to_owned()),
                KdfParams::MIN,
            ))
        };
        let clock = FixedClock(1_700_000_000);
        let mut a = vault(&rng, "GitHub");
        let listing = store.list().unwrap();
        let planned = plan(&mut a, &target, listing, &mut ask, None, &clock, &rng).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert_eq!(planned.writes.len(), 2);
        assert_eq!(
            sync::replica::kind_of(&planned.writes[0].bytes),
            FileKind::KeyFile
        );
        assert_eq!(
            planned.writes[1].name,
            sync::session::replica_name(planned.device)
        );
        assert_eq!(a.sync_membership().unwrap().device, planned.device);
        apply(&mut store, &planned, &rng).unwrap();
        assert_eq!(store.list().unwrap().files.len(), 2);
        // A failed plan (a wrong passphrase) writes nothing either.
        let mut b = vault(&rng, "Bank");
        let mut wrong = |_: Need| Ok((Zeroizing::new("wrong".to_owned()), KdfParams::MIN));
        let listing = store.list().unwrap();
        assert!(matches!(
            plan(&mut b, &target, listing, &mut wrong, None, &clock, &rng),
            Err(RunError::Sync(SyncError::WrongPassphrase))
        ));
        assert_eq!(store.list().unwrap().files.len(), 2);
        let report = run(&mut b, &target, &mut store, &mut ask, None, &clock, &rng).unwrap();
        assert_eq!(report.devices, 1);
        assert_eq!(b.accounts().len(), 2);
    }
}
