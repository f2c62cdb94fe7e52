//! Vault files on disk (`docs/vault.md`, "Saving and durability" and "One writer at a time"):
//! an advisory lock beside the vault, a fingerprint to tell whether the file is still the one
//! loaded, atomic saves that keep the previous version as a backup, and exports written the
//! same careful way.
//!
//! Every file written here holds secrets or is a vault: each is first written to a temp file
//! with a unique name, created exclusively (`O_CREAT | O_EXCL`, which never follows a
//! symlink), set to mode 0600 on its handle, synced, and renamed into place (a rename replaces
//! a symlink at the destination, it never writes through it). The temp file is removed on
//! every failure path.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ring::rand::SecureRandom;

/// A file operation failed.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// There is no vault at the path.
    #[error("no vault at {0}")]
    NotFound(PathBuf),
    /// A vault is already there.
    #[error("a vault already exists at {0}")]
    Exists(PathBuf),
    /// Another writer held the vault's lock for longer than we waited.
    #[error("the vault {0} is in use by another program; try again when it has finished")]
    Busy(PathBuf),
    /// The vault on disk is no longer the one loaded: another writer saved in between.
    #[error("the vault {0} was changed by another program since it was opened; reload it")]
    Changed(PathBuf),
    /// Any other I/O error.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// On which file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
}

fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> FileError + use<> {
    let path = path.to_owned();
    move |source| FileError::Io { op, path, source }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// The backup of the previous version: `<vault>.bak`.
pub fn backup_path(path: &Path) -> PathBuf {
    sibling(path, ".bak")
}

/// The lock file: `<vault>.lock`. It stays in place (an empty file); deleting it while a
/// writer holds it would let a second writer lock a new file of the same name.
pub fn lock_path(path: &Path) -> PathBuf {
    sibling(path, ".lock")
}

/// How long a writer waits for another one to finish before giving up ([`FileError::Busy`]).
/// A save takes milliseconds and a password change a few seconds of key derivation; 30 s
/// covers a slow phone without leaving a user staring at a hung command.
pub const LOCK_WAIT: Duration = Duration::from_secs(30);

/// The held advisory lock of one vault (`flock` on `<vault>.lock`, exclusive). Released when
/// dropped (or when the process ends, however it ends). Every change of a vault holds it from
/// the (re)read to the write, and only then: never across a prompt or a network exchange
/// ([`super::store`]). Readers never take it.
#[derive(Debug)]
pub struct VaultLock {
    _file: File,
    vault: PathBuf,
}

impl VaultLock {
    /// The vault this lock is for.
    pub fn vault(&self) -> &Path {
        &self.vault
    }
}

/// Takes the exclusive lock of the vault at `path`, waiting up to `wait` for another holder.
/// Creates the lock file (mode 0600) if needed; the vault's directory must exist.
pub fn lock(path: &Path, wait: Duration) -> Result<VaultLock, FileError> {
    let lock = lock_path(path);
    // Another user who can write the vault's folder could point the lock at a file of ours
    // (opening it with create would make or open that file): a link there is refused. The
    // remaining check-then-open race needs write access to the folder, which already allows
    // replacing the vault itself.
    if fs::symlink_metadata(&lock).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(FileError::Io {
            op: "cannot open the lock",
            path: lock,
            source: std::io::Error::other("it is a symbolic link"),
        });
    }
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(&lock)
        .map_err(io("cannot open the lock", &lock))?;
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => {
                return Ok(VaultLock {
                    _file: file,
                    vault: path.to_owned(),
                });
            }
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(TryLockError::WouldBlock) => return Err(FileError::Busy(path.to_owned())),
            Err(TryLockError::Error(e)) => return Err(io("cannot lock", &lock)(e)),
        }
    }
}

/// What a vault file held when it was read or last written: SHA-256 of its bytes, and when
/// known the file's [`Stamp`] at that moment. The app keeps the fingerprint of what it loaded
/// and passes it to [`write_if_unchanged`], so a save never overwrites a change another
/// program made in between. Two fingerprints are equal when the bytes are: the stamp only
/// lets [`look`] tell "unchanged" from one `stat`, without reading the file.
#[derive(Clone, Copy)]
pub struct Fingerprint {
    hash: [u8; 32],
    stamp: Option<Stamp>,
}

impl PartialEq for Fingerprint {
    fn eq(&self, other: &Fingerprint) -> bool {
        self.hash == other.hash
    }
}

impl Eq for Fingerprint {}

impl Fingerprint {
    /// The fingerprint of a file's bytes (no stamp: the next [`look`] reads the file once).
    pub fn of(bytes: &[u8]) -> Fingerprint {
        let mut hash = [0u8; 32];
        hash.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
        Fingerprint { hash, stamp: None }
    }

    fn stamped(bytes: &[u8], stamp: Stamp) -> Fingerprint {
        Fingerprint {
            stamp: Some(stamp),
            ..Fingerprint::of(bytes)
        }
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hex: String = self.hash[..8].iter().map(|b| format!("{b:02x}")).collect();
        write!(f, "Fingerprint({hex}…)")
    }
}

/// What `stat` says of a file: size, modification time and, on Unix, device, inode and change
/// time. Every save replaces the vault by a new file (atomic rename), so a save by any writer
/// changes the inode and the times; a stamp equal to the one recorded with a [`Fingerprint`]
/// means the file was not replaced since, and need not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    unix: (u64, u64, i64, i64),
}

impl Stamp {
    fn of(m: &fs::Metadata) -> Stamp {
        Stamp {
            len: m.len(),
            modified: m.modified().ok(),
            #[cfg(unix)]
            unix: {
                use std::os::unix::fs::MetadataExt;
                (m.dev(), m.ino(), m.ctime(), m.ctime_nsec())
            },
        }
    }
}

/// Reads a vault file.
pub fn read(path: &Path) -> Result<Vec<u8>, FileError> {
    read_fingerprinted(path).map(|(bytes, _)| bytes)
}

/// Reads a vault file with its fingerprint, stamped from the open handle (the stamp of the
/// bytes read, whatever replaces the file meanwhile). No lock is needed: saves replace the
/// file by a rename, so a reader always gets one whole version.
pub fn read_fingerprinted(path: &Path) -> Result<(Vec<u8>, Fingerprint), FileError> {
    let mut f = match File::open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(FileError::NotFound(path.to_owned()));
        }
        r => r.map_err(io("cannot read", path))?,
    };
    READS.with(|r| r.set(r.get() + 1));
    let stamp = Stamp::of(&f.metadata().map_err(io("cannot read", path))?);
    let mut bytes = Vec::with_capacity(usize::try_from(stamp.len).unwrap_or(0));
    std::io::Read::read_to_end(&mut f, &mut bytes).map_err(io("cannot read", path))?;
    let fingerprint = Fingerprint::stamped(&bytes, stamp);
    Ok((bytes, fingerprint))
}

thread_local! {
    static READS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many times this thread has read a vault file whole: what tests count to check that an
/// unchanged file is not read again.
pub fn reads_on_this_thread() -> u64 {
    READS.with(std::cell::Cell::get)
}

/// The fingerprint of the file at `path` now; `None` when there is no file.
pub fn current(path: &Path) -> Result<Option<Fingerprint>, FileError> {
    match read_fingerprinted(path) {
        Ok((_, fingerprint)) => Ok(Some(fingerprint)),
        Err(FileError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What [`look`] found.
#[derive(Debug)]
pub enum Look {
    /// The file holds what was known (its fingerprint, stamped as the file is now).
    Same(Fingerprint),
    /// The file holds other bytes: here they are, with their fingerprint.
    Changed(Vec<u8>, Fingerprint),
    /// There is no file.
    Missing,
}

/// Whether the file at `path` still holds `known`: one `stat` when `known` carries a stamp
/// and the file's is the same; the file is read and hashed only when the stamp differs (or
/// was never taken). A poll every few seconds costs a `stat`, not a read of the vault.
pub fn look(path: &Path, known: Option<&Fingerprint>) -> Result<Look, FileError> {
    let stamp = match fs::metadata(path) {
        Ok(m) => Stamp::of(&m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Look::Missing),
        Err(e) => return Err(io("cannot read", path)(e)),
    };
    if let Some(k) = known
        && k.stamp == Some(stamp)
    {
        return Ok(Look::Same(*k));
    }
    match read_fingerprinted(path) {
        Ok((_, now)) if Some(&now) == known => Ok(Look::Same(now)),
        Ok((bytes, now)) => Ok(Look::Changed(bytes, now)),
        Err(FileError::NotFound(_)) => Ok(Look::Missing),
        Err(e) => Err(e),
    }
}

/// A temp file beside its destination: unique name, created exclusively, mode 0600; removed
/// when dropped unless it was renamed into place.
struct Temp {
    path: PathBuf,
    kept: bool,
}

impl Temp {
    fn write(dest: &Path, bytes: &[u8]) -> Result<Temp, FileError> {
        let mut random = [0u8; 8];
        ring::rand::SystemRandom::new()
            .fill(&mut random)
            .map_err(|_| io("cannot name a temp file for", dest)(std::io::Error::other("rng")))?;
        let tag: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let path = sibling(dest, &format!(".{tag}.tmp"));
        let mut options = OpenOptions::new();
        // create_new is O_CREAT|O_EXCL: fails on any existing name, symlinks included.
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&path).map_err(io("cannot create", &path))?;
        // From here on the guard removes the file whatever fails.
        let temp = Temp { path, kept: false };
        set_owner_only(&f, &temp.path)?;
        f.write_all(bytes).map_err(io("cannot write", &temp.path))?;
        f.sync_all().map_err(io("cannot sync", &temp.path))?;
        Ok(temp)
    }

    fn rename_to(mut self, dest: &Path) -> Result<(), FileError> {
        fs::rename(&self.path, dest).map_err(io("cannot rename", &self.path))?;
        self.kept = true;
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.kept {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Mode 0600 on the open handle (`fchmod`): the umask cannot loosen it and no path is
/// looked up again.
fn set_owner_only(f: &File, path: &Path) -> Result<(), FileError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(io("cannot set the mode of", path))?;
    }
    #[cfg(not(unix))]
    let _ = (f, path);
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), FileError> {
    // Directories can be opened and synced on Unix; elsewhere this is best effort.
    match File::open(dir) {
        Ok(d) => {
            if cfg!(unix) {
                d.sync_all().map_err(io("cannot sync directory", dir))?;
            }
            Ok(())
        }
        Err(e) if cfg!(unix) => Err(io("cannot open directory", dir)(e)),
        Err(_) => Ok(()),
    }
}

/// What happens to `<vault>.bak` on a save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backup {
    /// The version being replaced becomes `<vault>.bak` (every ordinary save).
    KeepPrevious,
    /// `<vault>.bak` is removed before the new version is put in place (a password change:
    /// the previous version opens with the old password and must not stay beside the vault).
    Remove,
}

/// Saves `bytes` as the vault at `path`: temp file, fsync, backup of the previous version,
/// rename, fsync of the directory. Killed at any moment, `path` holds the old or the new
/// content. `create_new` refuses to replace an existing vault. Callers hold the vault's
/// [`lock`] around their change ([`super::store::change`]); [`write_if_unchanged`] checks that
/// the file is still the one they read.
pub fn write_atomic(path: &Path, bytes: &[u8], create_new: bool) -> Result<(), FileError> {
    write_with(path, bytes, create_new, Backup::KeepPrevious)
}

/// [`write_atomic`] with a choice of what happens to the backup.
pub fn write_with(
    path: &Path,
    bytes: &[u8],
    create_new: bool,
    backup: Backup,
) -> Result<(), FileError> {
    let dir = parent(path);
    if create_new {
        if path.exists() {
            return Err(FileError::Exists(path.to_owned()));
        }
        fs::create_dir_all(&dir).map_err(io("cannot create directory", &dir))?;
    }
    let tmp = Temp::write(path, bytes)?;
    let bak = backup_path(path);
    match backup {
        Backup::KeepPrevious => {
            if path.exists() {
                let previous = fs::read(path).map_err(io("cannot read", path))?;
                Temp::write(&bak, &previous)?.rename_to(&bak)?;
            }
        }
        Backup::Remove => match fs::remove_file(&bak) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io("cannot remove", &bak)(e));
            }
            _ => {}
        },
    }
    tmp.rename_to(path)?;
    sync_dir(&dir)
}

/// Saves under the caller's lock, only if the file on disk is still `expected` (`None`: no
/// file expected). Returns the fingerprint of what it wrote, the `expected` of the next save.
/// [`FileError::Changed`] means another writer saved in between: reload, re-apply, retry.
pub fn write_if_unchanged(
    lock: &VaultLock,
    bytes: &[u8],
    expected: Option<&Fingerprint>,
    backup: Backup,
) -> Result<Fingerprint, FileError> {
    let path = lock.vault();
    // Read and hashed here, not judged by its stamp: a save never overwrites a change,
    // however close in time the two saves were.
    if current(path)?.as_ref() != expected {
        return Err(FileError::Changed(path.to_owned()));
    }
    write_with(path, bytes, expected.is_none(), backup)?;
    // Stamped as written, under the lock: the next look at an unchanged file is one `stat`.
    let stamp = fs::metadata(path).map_err(io("cannot read", path))?;
    Ok(Fingerprint::stamped(bytes, Stamp::of(&stamp)))
}

/// Writes an export (or any file of secrets that is not a vault) at `path`: no backup of what
/// was there, mode 0600 whether or not the file existed, never through a symlink at `path` or
/// at any temp name (a symlink at `path` is replaced, not followed).
pub fn write_export(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let tmp = Temp::write(path, bytes)?;
    tmp.rename_to(path)?;
    sync_dir(&parent(path))
}

/// Copies kept in a backup folder ([`write_backup`]); older ones are removed.
pub const BACKUPS_KEPT: usize = 10;
const BACKUP_PREFIX: &str = "twofold-backup-";

/// Why a copy could not be written into the backup folder. The messages start with "backup
/// failed" where the UI shows them as they are.
#[derive(Debug, thiserror::Error)]
pub enum BackupFolderError {
    /// The folder is given relative to nothing in particular.
    #[error("the backup folder must be an absolute path")]
    NotAbsolute,
    /// The folder is not there (an unplugged drive, a removed folder).
    #[error("backup failed: the folder {0} does not exist")]
    Missing(PathBuf),
    /// The copy could not be written, or the older copies not listed or removed.
    #[error("backup failed: {0}")]
    File(#[from] FileError),
}

/// Writes `bytes` (an encrypted vault, as on disk) into `folder` as
/// `twofold-backup-<stamp>.json` ([`write_export`]: mode 0600, no symlink followed) and keeps
/// the newest [`BACKUPS_KEPT`] of those copies (names sort by their UTC `YYYYMMDD-HHMMSS`
/// stamp). Returns the new copy's path.
pub fn write_backup(
    folder: &Path,
    bytes: &[u8],
    stamp: &str,
) -> Result<PathBuf, BackupFolderError> {
    if !folder.is_absolute() {
        return Err(BackupFolderError::NotAbsolute);
    }
    if !folder.is_dir() {
        return Err(BackupFolderError::Missing(folder.to_owned()));
    }
    let path = folder.join(format!("{BACKUP_PREFIX}{stamp}.json"));
    write_export(&path, bytes)?;
    let mut old: Vec<PathBuf> = fs::read_dir(folder)
        .map_err(io("cannot list", folder))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(BACKUP_PREFIX) && n.ends_with(".json"))
        })
        .collect();
    old.sort();
    let excess = old.len().saturating_sub(BACKUPS_KEPT);
    for p in &old[..excess] {
        fs::remove_file(p).map_err(io("cannot remove the old backup", p))?;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("twofold-file-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn names(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn saves_keep_the_previous_version_and_leave_no_temp() {
        let d = dir("save");
        let v = d.join("vault.json");
        write_atomic(&v, b"one", true).unwrap();
        write_atomic(&v, b"two", false).unwrap();
        assert_eq!(fs::read(&v).unwrap(), b"two");
        assert_eq!(fs::read(backup_path(&v)).unwrap(), b"one");
        assert_eq!(names(&d), ["vault.json", "vault.json.bak"]);
        write_with(&v, b"three", false, Backup::Remove).unwrap();
        assert_eq!(names(&d), ["vault.json"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&v).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }

    #[test]
    fn the_lock_excludes_a_second_holder_and_conditional_writes_detect_changes() {
        let d = dir("lock");
        let v = d.join("vault.json");
        let held = lock(&v, LOCK_WAIT).unwrap();
        assert!(matches!(
            lock(&v, Duration::from_millis(50)),
            Err(FileError::Busy(_))
        ));
        let first = write_if_unchanged(&held, b"one", None, Backup::KeepPrevious).unwrap();
        assert_eq!(Some(first), current(&v).unwrap());
        // Someone else wrote: the stale fingerprint is refused and nothing changes.
        write_atomic(&v, b"other", false).unwrap();
        assert!(matches!(
            write_if_unchanged(&held, b"two", Some(&first), Backup::KeepPrevious),
            Err(FileError::Changed(_))
        ));
        assert_eq!(fs::read(&v).unwrap(), b"other");
        drop(held);
        let again = lock(&v, Duration::from_millis(50)).unwrap();
        let now = current(&v).unwrap().unwrap();
        write_if_unchanged(&again, b"two", Some(&now), Backup::KeepPrevious).unwrap();
        assert_eq!(fs::read(&v).unwrap(), b"two");
    }

    #[cfg(unix)]
    #[test]
    fn a_lock_that_is_a_symlink_is_refused_and_its_target_untouched() {
        let d = dir("locklink");
        let v = d.join("vault.json");
        let victim = d.join("victim");
        std::os::unix::fs::symlink(&victim, lock_path(&v)).unwrap();
        let e = lock(&v, Duration::from_millis(50)).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(!victim.exists());
    }

    #[cfg(unix)]
    #[test]
    fn exports_replace_symlinks_and_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir("export");
        let target = d.join("victim");
        fs::write(&target, b"untouched").unwrap();
        let out = d.join("out.json");
        std::os::unix::fs::symlink(&target, &out).unwrap();
        write_export(&out, b"secret").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"untouched");
        assert!(!fs::symlink_metadata(&out).unwrap().file_type().is_symlink());
        assert_eq!(fs::read(&out).unwrap(), b"secret");
        let plain = d.join("plain.txt");
        fs::write(&plain, b"old").unwrap();
        fs::set_permissions(&plain, fs::Permissions::from_mode(0o644)).unwrap();
        write_export(&plain, b"new").unwrap();
        assert_eq!(
            fs::metadata(&plain).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(names(&d), ["out.json", "plain.txt", "victim"]);
    }
}
