//! Vault files on disk: atomic saves that keep the previous version as a backup
//! (`docs/vault.md`, "Saving and durability").

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file operation failed.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// There is no vault at the path.
    #[error("no vault at {0}")]
    NotFound(PathBuf),
    /// A vault is already there.
    #[error("a vault already exists at {0}")]
    Exists(PathBuf),
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

/// The backup of the previous version: `<vault>.bak`.
pub fn backup_path(path: &Path) -> PathBuf {
    sibling(path, ".bak")
}

/// Reads a vault file.
pub fn read(path: &Path) -> Result<Vec<u8>, FileError> {
    match fs::read(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(FileError::NotFound(path.to_owned()))
        }
        r => r.map_err(io("cannot read", path)),
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    // Vaults, backups and plain exports are readable by their owner only.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(io("cannot create", path))?;
    f.write_all(bytes).map_err(io("cannot write", path))?;
    f.sync_all().map_err(io("cannot sync", path))
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

/// Saves `bytes` as the vault at `path`: temp file, fsync, backup of the previous version,
/// rename, fsync of the directory. Killed at any moment, `path` holds the old or the new
/// content. `create_new` refuses to replace an existing vault.
pub fn write_atomic(path: &Path, bytes: &[u8], create_new: bool) -> Result<(), FileError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    if create_new {
        if path.exists() {
            return Err(FileError::Exists(path.to_owned()));
        }
        fs::create_dir_all(&dir).map_err(io("cannot create directory", &dir))?;
    }
    let tmp = sibling(path, ".tmp");
    write_synced(&tmp, bytes)?;
    if path.exists() {
        let previous = fs::read(path).map_err(io("cannot read", path))?;
        let bak_tmp = sibling(path, ".bak.tmp");
        write_synced(&bak_tmp, &previous)?;
        let bak = backup_path(path);
        fs::rename(&bak_tmp, &bak).map_err(io("cannot rename", &bak_tmp))?;
    }
    fs::rename(&tmp, path).map_err(io("cannot rename", &tmp))?;
    sync_dir(&dir)
}
