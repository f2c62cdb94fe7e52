//! The vault store: refresh, save, the backup after it and its drill, and a change under the
//! writer lock over real vault files (`vault::store`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::file::{self, Backup, BackupFolderError, FileError, Fingerprint};
use super::store::*;
use super::{Vault, VaultError};
use crate::rng::SystemRng;
use crate::vault::KdfParams;

fn account(name: &str) -> crate::OtpAccount {
    crate::uri::parse(&format!(
        "otpauth://totp/Store:{name}?secret=JBSWY3DPEHPK3PXP&issuer=Store"
    ))
    .unwrap()
}

/// A fresh directory `twofold-store-<tag>-<pid>` holding a new vault (password `pw`).
fn new_vault_file(tag: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("twofold-store-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("vault.json");
    let rng = SystemRng::new();
    let created = Vault::create(b"pw", KdfParams::MIN, &rng).unwrap();
    file::write_atomic(&path, &created.to_bytes(&rng).unwrap(), true).unwrap();
    (dir, path)
}

/// The vault at `path` opened as a writer does: no lock, with its fingerprint.
fn open(path: &Path) -> (Vault, Option<Fingerprint>) {
    let (bytes, loaded) = file::read_fingerprinted(path).unwrap();
    (Vault::open(&bytes, b"pw").unwrap(), Some(loaded))
}

#[test]
fn a_change_lands_on_top_of_what_another_writer_saved_and_unchanged_files_are_not_read() {
    let (_dir, path) = new_vault_file("two");
    let rng = SystemRng::new();

    // Two writers open the same version without any lock.
    let open = || open(&path);
    let (mut first, mut first_loaded) = open();
    let (mut second, mut second_loaded) = open();
    let wait = Duration::from_secs(5);
    change(
        &path,
        wait,
        &mut first,
        &mut first_loaded,
        &rng,
        None,
        |v| {
            Ok::<_, TestError>((
                v.add(account("first"), 1, &rng)?,
                Save::Yes(Backup::KeepPrevious),
            ))
        },
    )
    .unwrap();
    // The second applies its change to the vault as the first left it.
    let reads = file::reads_on_this_thread();
    change(
        &path,
        wait,
        &mut second,
        &mut second_loaded,
        &rng,
        None,
        |v| {
            Ok::<_, TestError>((
                v.add(account("second"), 1, &rng)?,
                Save::Yes(Backup::KeepPrevious),
            ))
        },
    )
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
    change(
        &path,
        wait,
        &mut check,
        &mut check_loaded,
        &rng,
        None,
        |_| Ok::<_, TestError>(((), Save::No)),
    )
    .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn stamps_are_utc_calendar_times() {
    assert_eq!(stamp(0), "19700101-000000");
    assert_eq!(stamp(1_700_000_000), "20231114-221320");
    assert_eq!(stamp(951_782_400), "20000229-000000");
}

#[test]
fn a_failed_backup_is_reported_and_the_save_stands() {
    let (dir, path) = new_vault_file("bk");
    let folder = dir.join("backups");
    std::fs::create_dir_all(&folder).unwrap();
    let rng = SystemRng::new();
    let (mut vault, mut loaded) = open(&path);
    let wait = Duration::from_secs(5);
    let saved_names = || {
        let v = Vault::open(&std::fs::read(&path).unwrap(), b"pw").unwrap();
        v.accounts()
            .iter()
            .map(|a| a.otp.name.clone())
            .collect::<Vec<_>>()
    };
    let mut add = |name: &str, folder: BackupFolder<'_>| {
        change(
            &path,
            wait,
            &mut vault,
            &mut loaded,
            &rng,
            Some(folder),
            |v| {
                Ok::<_, TestError>((
                    v.add(account(name), 1, &rng)?,
                    Save::Yes(Backup::KeepPrevious),
                ))
            },
        )
        .unwrap()
        .backup
    };

    // The folder is gone (an unplugged drive): the backup fails, the save stands.
    let gone = folder.join("unplugged");
    let outcome = add(
        "first",
        BackupFolder {
            dir: &gone,
            now: 1_700_000_000,
            after_write: None,
        },
    );
    assert!(matches!(
        outcome,
        BackupOutcome::Failed(BackupFolderError::Missing(_))
    ));
    let failure = outcome.failure().unwrap();
    assert_eq!(failure.step, BackupStep::Write);
    assert!(
        failure.message.starts_with("backup failed: the folder"),
        "{failure:?}"
    );
    assert_eq!(saved_names(), ["first"]);

    // A disk that damages what it stores: the copy is written, its drill fails.
    fn flip_a_byte(p: &Path) {
        let mut b = std::fs::read(p).unwrap();
        let i = b.len() / 2;
        b[i] ^= 0x01;
        std::fs::write(p, b).unwrap();
    }
    let outcome = add(
        "second",
        BackupFolder {
            dir: &folder,
            now: 1_700_000_001,
            after_write: Some(flip_a_byte),
        },
    );
    let BackupOutcome::Written { path: copy, drill } = &outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(copy, &folder.join("twofold-backup-20231114-221321.json"));
    assert!(!drill.verified && drill.error.is_some(), "{drill:?}");
    let failure = outcome.failure().unwrap();
    assert_eq!(failure.step, BackupStep::Check);
    assert!(
        failure.message.contains("does not open again"),
        "{failure:?}"
    );
    assert_eq!(saved_names(), ["first", "second"]);

    // A sound disk: the copy restores the vault, nothing to report; the newest
    // `BACKUPS_KEPT` copies stay.
    for i in 0..(file::BACKUPS_KEPT as u64 + 2) {
        let outcome = add(
            &format!("n{i}"),
            BackupFolder {
                dir: &folder,
                now: 1_700_000_010 + i,
                after_write: None,
            },
        );
        let BackupOutcome::Written { drill, .. } = &outcome else {
            panic!("{outcome:?}");
        };
        assert!(
            drill.verified && drill.accounts == 3 + i as usize,
            "{drill:?}"
        );
        assert!(outcome.failure().is_none());
    }
    let mut kept: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    kept.sort();
    assert_eq!(kept.len(), file::BACKUPS_KEPT);
    assert_eq!(
        kept[0],
        format!("twofold-backup-{}.json", stamp(1_700_000_012))
    );
    // What the newest copy holds is the vault as saved.
    let newest = folder.join(kept.last().unwrap());
    assert_eq!(
        std::fs::read(&newest).unwrap(),
        std::fs::read(&path).unwrap()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failed_save_reads_the_vault_back_from_the_file() {
    let (dir, path) = new_vault_file("rv");
    let rng = SystemRng::new();
    let (mut vault, mut loaded) = open(&path);
    let bytes = std::fs::read(&path).unwrap();
    // Another writer saves without this one noticing (no refresh before this save).
    let mut other = Vault::open(&bytes, b"pw").unwrap();
    other.add(account("other"), 1, &rng).unwrap();
    file::write_atomic(&path, &other.to_bytes(&rng).unwrap(), false).unwrap();
    vault.add(account("mine"), 1, &rng).unwrap();
    let lock = file::lock(&path, Duration::from_secs(5)).unwrap();
    let failed = save(
        &lock,
        &mut vault,
        &mut loaded,
        &rng,
        &SaveOptions::KEEP_PREVIOUS,
    )
    .unwrap_err();
    assert!(matches!(
        failed.error,
        SaveError::Write(FileError::Changed(_))
    ));
    assert!(!failed.rekeyed);
    // The vault in memory is the file's: the unsaved change is gone, the other's is there.
    let names: Vec<&str> = vault
        .accounts()
        .iter()
        .map(|a| a.otp.name.as_str())
        .collect();
    assert_eq!(names, ["other"]);
    assert_eq!(loaded, file::current(&path).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
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
