//! One vault file, several writers (`docs/vault.md`, "One writer at a time"): the rules the
//! CLI and the app share. A writer reads and unlocks the vault without any lock (a save
//! replaces the file by a rename, so a reader always sees one whole version), asks the person
//! and talks to servers without any lock, and takes the file's writer lock only around a
//! change: under it, the vault is first brought up to what the file holds now ([`refresh`]:
//! one `stat` when nothing changed), the change is applied to that, and the result is written
//! only if the file is still the one just read ([`file::write_if_unchanged`]).

use std::path::Path;
use std::time::Duration;

use super::file::{self, Backup, FileError, Fingerprint, Look};
use super::{OpenError, Vault, VaultError};
use crate::rng::Rng;

/// The vault on disk could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The file could not be looked at or read.
    #[error(transparent)]
    File(#[from] FileError),
    /// The file is there but does not open with this vault's master key: another program
    /// changed the password (or damaged the file) since this one opened it.
    #[error(
        "the vault was changed by another program in a way this one cannot follow ({0}); open it again"
    )]
    Reopen(OpenError),
    /// The file was removed since it was opened.
    #[error("the vault {0} was removed by another program since it was opened")]
    Removed(std::path::PathBuf),
}

/// Brings `vault` up to the file at `path` when another writer saved since `loaded` (the
/// fingerprint of what `vault` was read from or last saved as), and updates `loaded`. True
/// when the vault was reloaded. An unchanged file costs one `stat` ([`file::look`]).
pub fn refresh(
    path: &Path,
    vault: &mut Vault,
    loaded: &mut Option<Fingerprint>,
) -> Result<bool, RefreshError> {
    match file::look(path, loaded.as_ref())? {
        Look::Same(now) => {
            *loaded = Some(now);
            Ok(false)
        }
        Look::Changed(bytes, now) => {
            *vault = vault.reload(&bytes).map_err(RefreshError::Reopen)?;
            *loaded = Some(now);
            Ok(true)
        }
        Look::Missing => Err(RefreshError::Removed(path.to_owned())),
    }
}

/// Whether a change is to be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Save {
    /// Write the vault (with what becomes of the previous version).
    Yes(Backup),
    /// Nothing changed: write nothing.
    No,
}

/// One change of the vault at `path`, the way every front end makes it: takes the writer lock
/// (waiting up to `wait` for another writer), [`refresh`]es `vault`, applies `apply` to it, and
/// when `apply` asks for it seals and writes the result (only if the file is still the one
/// just read). The lock is held for this alone: prompts and network exchanges happen before
/// (their results go into `apply`) or after. On an error nothing is written.
pub fn change<T, E>(
    path: &Path,
    wait: Duration,
    vault: &mut Vault,
    loaded: &mut Option<Fingerprint>,
    rng: &dyn Rng,
    apply: impl FnOnce(&mut Vault) -> Result<(T, Save), E>,
) -> Result<T, E>
where
    E: From<FileError> + From<RefreshError> + From<VaultError>,
{
    let lock = file::lock(path, wait)?;
    refresh(path, vault, loaded)?;
    let (out, save) = apply(vault)?;
    if let Save::Yes(backup) = save {
        let bytes = vault.to_bytes(rng)?;
        *loaded = Some(file::write_if_unchanged(
            &lock,
            &bytes,
            loaded.as_ref(),
            backup,
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SystemRng;
    use crate::vault::KdfParams;

    fn account(name: &str) -> crate::OtpAccount {
        crate::uri::parse(&format!(
            "otpauth://totp/Store:{name}?secret=JBSWY3DPEHPK3PXP&issuer=Store"
        ))
        .unwrap()
    }

    #[test]
    fn a_change_lands_on_top_of_what_another_writer_saved_and_unchanged_files_are_not_read() {
        let dir = std::env::temp_dir().join(format!("twofold-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("vault.json");
        let rng = SystemRng::new();
        let created = Vault::create(b"pw", KdfParams::MIN, &rng).unwrap();
        file::write_atomic(&path, &created.to_bytes(&rng).unwrap(), true).unwrap();

        // Two writers open the same version without any lock.
        let open = || {
            let (bytes, loaded) = file::read_fingerprinted(&path).unwrap();
            (Vault::open(&bytes, b"pw").unwrap(), Some(loaded))
        };
        let (mut first, mut first_loaded) = open();
        let (mut second, mut second_loaded) = open();
        let wait = Duration::from_secs(5);
        change(&path, wait, &mut first, &mut first_loaded, &rng, |v| {
            Ok::<_, TestError>((
                v.add(account("first"), 1, &rng)?,
                Save::Yes(Backup::KeepPrevious),
            ))
        })
        .unwrap();
        // The second applies its change to the vault as the first left it.
        let reads = file::reads_on_this_thread();
        change(&path, wait, &mut second, &mut second_loaded, &rng, |v| {
            Ok::<_, TestError>((
                v.add(account("second"), 1, &rng)?,
                Save::Yes(Backup::KeepPrevious),
            ))
        })
        .unwrap();
        assert!(file::reads_on_this_thread() > reads);
        let (mut check, mut check_loaded) = open();
        let names: Vec<&str> = check
            .accounts()
            .iter()
            .map(|a| a.otp.name.as_str())
            .collect();
        assert_eq!(names, ["first", "second"]);

        // Nothing changed since: a refresh is one `stat`, no read.
        let reads = file::reads_on_this_thread();
        assert!(!refresh(&path, &mut check, &mut check_loaded).unwrap());
        assert_eq!(file::reads_on_this_thread(), reads);
        // A change that saves nothing writes nothing.
        let before = std::fs::read(&path).unwrap();
        change(&path, wait, &mut check, &mut check_loaded, &rng, |_| {
            Ok::<_, TestError>(((), Save::No))
        })
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[derive(Debug)]
    enum TestError {
        File,
        Refresh,
        Vault,
    }
    impl From<FileError> for TestError {
        fn from(_: FileError) -> Self {
            TestError::File
        }
    }
    impl From<RefreshError> for TestError {
        fn from(_: RefreshError) -> Self {
            TestError::Refresh
        }
    }
    impl From<VaultError> for TestError {
        fn from(_: VaultError) -> Self {
            TestError::Vault
        }
    }
}
