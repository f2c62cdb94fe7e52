//! `twofold sync`: the vault's OTP accounts synced through a folder (`docs/sync.md`,
//! `docs/cli.md` "Sync"). The core does the merge and the cryptography; this reads the folder's
//! `*.twofold-sync` files, writes this device's replica atomically, and saves the vault.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use twofold_core::rng::{Rng, SystemRng};
use twofold_core::sync::{self, DeviceId, TargetFile, replica::MAX_REPLICA_BYTES};
use zeroize::Zeroizing;

use crate::args::KdfChoice;
use crate::error::CliError;
use crate::output::{print_json, terminal_safe};
use crate::vault::{Context, kdf, prompt, save};

const FOLDER: &str = "folder:";

#[derive(Serialize)]
struct SyncJson {
    target: String,
    devices: usize,
    received: usize,
    sent: bool,
    changed: usize,
}

fn target_error(what: &str, path: &Path, e: std::io::Error) -> CliError {
    CliError::SyncTarget(format!("cannot {what} {}: {e}", path.display()))
}

/// Every `*.twofold-sync` regular file of the folder (links and other files are passed over).
fn list(dir: &Path) -> Result<Vec<TargetFile>, CliError> {
    let entries = std::fs::read_dir(dir).map_err(|e| target_error("read the folder", dir, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| target_error("read the folder", dir, e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if !name.ends_with(sync::session::SUFFIX) {
            continue;
        }
        let meta = entry
            .metadata()
            .map_err(|e| target_error("read", &entry.path(), e))?;
        if !meta.is_file() {
            continue;
        }
        if files.len() >= sync::session::MAX_FILES {
            return Err(sync::SyncError::TooManyFiles.into());
        }
        if meta.len() > MAX_REPLICA_BYTES as u64 {
            eprintln!(
                "warning: {}: larger than any replica; left out",
                terminal_safe(&name)
            );
            continue;
        }
        let bytes =
            std::fs::read(entry.path()).map_err(|e| target_error("read", &entry.path(), e))?;
        files.push(TargetFile { name, bytes });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// Writes `file` into `dir` atomically: a temporary `.*.tmp.twofold-sync` created exclusively,
/// synced, renamed over the old one; the temporary file is removed on any failure.
fn write(dir: &Path, file: &TargetFile, device: DeviceId, rng: &dyn Rng) -> Result<(), CliError> {
    let mut tag = [0u8; 8];
    rng.fill(&mut tag)
        .map_err(|e| CliError::SyncTarget(e.to_string()))?;
    let tag: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = dir.join(format!(".{device}.{tag}.tmp{}", sync::session::SUFFIX));
    let dest = dir.join(&file.name);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(&file.bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &dest)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|e: std::io::Error| {
        let _ = std::fs::remove_file(&tmp);
        target_error("write", &dest, e)
    })
}

fn passphrase(confirm: bool) -> Result<Zeroizing<String>, CliError> {
    if let Some(p) = std::env::var_os("TWOFOLD_SYNC_PASSWORD") {
        return p
            .into_string()
            .map(Zeroizing::new)
            .map_err(|_| CliError::Password("TWOFOLD_SYNC_PASSWORD is not valid UTF-8".into()));
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Password(
            "no sync passphrase given: set TWOFOLD_SYNC_PASSWORD (no terminal to ask on)".into(),
        ));
    }
    prompt("Sync passphrase: ", confirm)
}

pub fn run(
    ctx: &Context,
    folder: Option<&Path>,
    off: bool,
    choice: KdfChoice,
    json: bool,
) -> Result<(), CliError> {
    let (path, mut vault) = ctx.open()?;
    if off {
        vault.clear_sync();
        save(&path, &vault, false)?;
        println!("sync is off; the accounts stay in this vault");
        return Ok(());
    }
    let dir: PathBuf = match (folder, vault.sync_target()) {
        (Some(f), _) => std::path::absolute(f).map_err(|e| target_error("find", f, e))?,
        (None, Some(t)) => match t.strip_prefix(FOLDER) {
            Some(p) => PathBuf::from(p),
            None => {
                return Err(CliError::SyncTarget(format!(
                    "this vault syncs with {}, which this command line cannot reach yet",
                    terminal_safe(t)
                )));
            }
        },
        (None, None) => {
            return Err(CliError::Nothing(
                "no sync target: name a folder with --folder DIR".into(),
            ));
        }
    };
    let target = format!("{FOLDER}{}", dir.display());
    let rng = SystemRng::new();
    let files = list(&dir)?;
    let stored = vault
        .sync_membership()
        .filter(|_| vault.sync_target() == Some(target.as_str()));
    let mut membership = match stored {
        Some(m) => m?,
        None => {
            let creating = !files
                .iter()
                .any(|f| sync::replica::kind_of(&f.bytes) == sync::FileKind::KeyFile);
            let pass = passphrase(creating)?;
            if pass.is_empty() {
                return Err(CliError::Password(
                    "the sync passphrase must not be empty".into(),
                ));
            }
            let device = DeviceId::random(&rng).map_err(|e| CliError::SyncTarget(e.to_string()))?;
            let kdf = if creating {
                kdf(choice)?
            } else {
                twofold_core::vault::KdfParams::MIN
            };
            let (m, key_file) = sync::join(&files, pass.as_bytes(), kdf, device, &rng)?;
            if let Some(k) = key_file {
                write(&dir, &k, device, &rng)?;
            }
            m
        }
    };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let local = vault.sync_local();
    let outcome = sync::sync(&mut membership, &local, &files, now_ms, &rng)?;
    for w in &outcome.warnings {
        eprintln!(
            "warning: {}: {}; left out",
            terminal_safe(&w.file),
            terminal_safe(&w.reason)
        );
    }
    write(&dir, &outcome.write, membership.device, &rng)?;
    vault.apply_synced(&outcome.accounts, now_ms / 1000, &rng)?;
    vault.set_sync(&target, &membership);
    save(&path, &vault, false)?;
    if json {
        print_json(&SyncJson {
            target,
            devices: outcome.devices,
            received: outcome.received,
            sent: true,
            changed: outcome.changed,
        })?;
    } else {
        println!(
            "synced with {} other device(s) through {}: {} change(s) here",
            outcome.devices,
            terminal_safe(&dir.display().to_string()),
            outcome.changed
        );
    }
    Ok(())
}
