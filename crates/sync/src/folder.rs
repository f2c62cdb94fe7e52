//! A folder target: every `*.twofold-sync` regular file is read; this device's replica is
//! written atomically (a temporary `.<device>.<random>.tmp.twofold-sync` created exclusively,
//! synced, renamed over the old one, the folder synced).

use std::io::Write;
use std::path::{Path, PathBuf};

use data_encoding::HEXLOWER;
use twofold_core::rng::Rng;
use twofold_core::sync::session::{MAX_FILES, SUFFIX};
use twofold_core::sync::{DeviceId, TargetFile};

use crate::budget::{Budget, read_order};
use crate::documents::read_capped;
use crate::{Listing, Store, TargetError};

/// A fresh name for a replica being written by `device`: `.<device>.<random>.tmp.twofold-sync`
/// (readers skip it; the contract wants every file Twofold writes to end in the suffix).
pub(crate) fn temporary_name(device: DeviceId, rng: &dyn Rng) -> Result<String, TargetError> {
    let mut tag = [0u8; 8];
    rng.fill(&mut tag).map_err(|_| TargetError::Rng)?;
    Ok(format!(".{device}.{}.tmp{SUFFIX}", HEXLOWER.encode(&tag)))
}

/// A folder sync target.
#[derive(Debug, Clone)]
pub struct Folder {
    dir: PathBuf,
}

impl Folder {
    /// The folder at `dir`.
    pub fn new(dir: PathBuf) -> Folder {
        Folder { dir }
    }
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> TargetError {
    let path = path.display().to_string();
    move |source| TargetError::Io { what, path, source }
}

impl Store for Folder {
    fn list(&mut self) -> Result<Listing, TargetError> {
        let dir = &self.dir;
        let mut listing = Listing::default();
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io("read the folder", dir))? {
            let entry = entry.map_err(io("read the folder", dir))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if !name.ends_with(SUFFIX) {
                continue;
            }
            // Not followed: a link in the folder is not a sync file.
            let meta = entry.metadata().map_err(io("read", &entry.path()))?;
            if !meta.is_file() {
                continue;
            }
            if found.len() >= MAX_FILES {
                return Err(TargetError::TooManyFiles);
            }
            found.push((name, entry.path(), meta.len()));
        }
        read_order(&mut found, |f| &f.0, |f| Some(f.2));
        let mut budget = Budget::new();
        for (name, path, len) in found {
            if let Err(skip) = budget.admit(Some(len)) {
                listing.warnings.push(skip.warning(name));
                continue;
            }
            // The file may have grown since the listing: never more than the budget.
            let file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io("read", &path)(e)),
            };
            match read_capped(file, budget.cap()).map_err(io("read", &path))? {
                Some(bytes) => {
                    budget.spend(bytes.len());
                    listing.files.push(TargetFile { name, bytes });
                }
                None => listing.warnings.push(budget.past_cap().warning(name)),
            }
        }
        listing.files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(listing)
    }

    fn put(
        &mut self,
        file: &TargetFile,
        device: DeviceId,
        rng: &dyn Rng,
    ) -> Result<(), TargetError> {
        let tmp = self.dir.join(temporary_name(device, rng)?);
        let dest = self.dir.join(&file.name);
        let result = (|| {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            f.write_all(&file.bytes)?;
            f.sync_all()?;
            drop(f);
            std::fs::rename(&tmp, &dest)?;
            // The rename is durable once the folder is synced; a folder that cannot be opened
            // for that (some network file systems) still has the complete file.
            if let Ok(d) = std::fs::File::open(&self.dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })();
        result.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io("write", &dest)(e)
        })
    }
}
