//! `twofold sync`: the vault's OTP accounts synced through a folder or a WebDAV folder
//! (`docs/sync.md`, `docs/cli.md` "Sync"). `twofold-sync` reads and writes the target and runs
//! the sync; this chooses the target, finds the WebDAV login, asks for the passphrase when one
//! is needed, and saves the vault (with the WebDAV login, encrypted).

use std::io::IsTerminal;
use std::path::Path;

use serde::Serialize;
use twofold_core::SystemClock;
use twofold_core::rng::SystemRng;
use twofold_core::vault::file::FileError;
use twofold_core::vault::{SyncCredentials, Vault};
use twofold_sync::{Need, RunError, Target, WebDavTarget};
use zeroize::Zeroizing;

use crate::args::KdfChoice;
use crate::error::CliError;
use crate::output::{print_json, terminal_safe};
use crate::vault::{Context, SAVE, kdf, prompt};

#[derive(Serialize)]
struct SyncJson {
    target: String,
    devices: usize,
    received: usize,
    sent: bool,
    changed: usize,
}

/// A passphrase (`what`) from `$<var>`, else a prompt (`confirm`: asked twice).
fn secret_from(
    var: &str,
    what: &str,
    label: &str,
    confirm: bool,
) -> Result<Zeroizing<String>, CliError> {
    if let Some(p) = std::env::var_os(var) {
        return p
            .into_string()
            .map(Zeroizing::new)
            .map_err(|_| CliError::Password(format!("{var} is not valid UTF-8")));
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Password(format!(
            "no {what} given: set {var} (no terminal to ask on)"
        )));
    }
    prompt(label, confirm)
}

/// The sync passphrase: `$TWOFOLD_SYNC_PASSWORD`, else a prompt (twice when creating a set).
fn passphrase(need: Need) -> Result<Zeroizing<String>, CliError> {
    let label = match need {
        Need::Rejoin => "The sync set has a new passphrase: ",
        Need::Create | Need::Join => "Sync passphrase: ",
    };
    secret_from(
        "TWOFOLD_SYNC_PASSWORD",
        "sync passphrase",
        label,
        need == Need::Create,
    )
}

/// The target named on the command line, if any.
pub struct Choice<'a> {
    pub folder: Option<&'a Path>,
    pub webdav: Option<&'a str>,
    pub webdav_user: Option<String>,
}

/// The WebDAV password: `$TWOFOLD_WEBDAV_PASSWORD`, else the one kept in the vault for this
/// target and user, else a prompt.
fn webdav_password(
    kept: Option<&SyncCredentials>,
    user: &str,
) -> Result<Zeroizing<String>, CliError> {
    if std::env::var_os("TWOFOLD_WEBDAV_PASSWORD").is_none()
        && let Some(c) = kept.filter(|c| c.user == user)
    {
        return Ok(c.password.clone());
    }
    secret_from(
        "TWOFOLD_WEBDAV_PASSWORD",
        "WebDAV password",
        "WebDAV password: ",
        false,
    )
}

/// The target to sync with and the WebDAV login for it (`None` for a folder, or a WebDAV
/// server that wants none).
fn choose(
    vault: &Vault,
    choice: Choice<'_>,
) -> Result<(Target, Option<SyncCredentials>), CliError> {
    let stored = vault.sync_target();
    let target = match (choice.folder, choice.webdav, stored) {
        (Some(f), _, _) => Target::Folder(
            std::path::absolute(f)
                .map_err(|e| CliError::SyncTarget(format!("cannot find {}: {e}", f.display())))?,
        ),
        (None, Some(url), _) => Target::WebDav(WebDavTarget::new(url, choice.webdav_user)?),
        (None, None, Some(t)) => {
            Target::parse(t).map_err(|e| CliError::SyncTarget(e.to_string()))?
        }
        (None, None, None) => {
            return Err(CliError::Nothing(
                "no sync target: name a folder with --folder DIR or a WebDAV folder with \
                 --webdav URL"
                    .into(),
            ));
        }
    };
    let Target::WebDav(mut dav) = target else {
        return Ok((target, None));
    };
    // The login kept in the vault belongs to the stored target only.
    let kept = vault
        .sync_credentials()
        .filter(|_| stored == Some(Target::WebDav(dav.clone()).stored().as_str()));
    if dav.user.is_none() {
        dav.user = kept.map(|c| c.user.clone());
    }
    let login = match &dav.user {
        Some(user) => Some(SyncCredentials {
            user: user.clone(),
            password: webdav_password(kept, user)?,
        }),
        None => None,
    };
    Ok((Target::WebDav(dav), login))
}

/// How many times one `twofold sync` runs when other processes keep saving the vault while it
/// talks to the target; then it fails cleanly (exit 1, nothing lost).
const SYNC_ATTEMPTS: u32 = 3;

pub fn run(
    ctx: &Context,
    choice: Choice<'_>,
    off: bool,
    name: Option<&str>,
    kdf_choice: KdfChoice,
    json: bool,
) -> Result<(), CliError> {
    let mut opened = ctx.open()?;
    if off {
        opened.change(|vault| {
            vault.clear_sync();
            Ok(((), SAVE))
        })?;
        println!("sync is off; the accounts stay in this vault");
        return Ok(());
    }
    let (target, login) = choose(&opened.vault, choice)?;
    let rng = SystemRng::new();
    let mut store = twofold_sync::open(&target, login.as_ref().map(|l| l.password.clone()))?;
    let mut ask = |need: Need| {
        let creating = need == Need::Create;
        let pass = passphrase(need).map_err(|e| RunError::Passphrase(e.to_string()))?;
        let params = if creating {
            kdf(kdf_choice).map_err(|e| RunError::Passphrase(e.to_string()))?
        } else {
            twofold_core::vault::KdfParams::MIN
        };
        Ok((pass, params))
    };
    // The sync talks to the target without the vault's lock; when another process saved the
    // vault meanwhile, the sync runs again on top of that (merging is idempotent, and what
    // this run wrote to the target is merged back), so neither change is lost.
    let mut attempt = 1;
    let report = loop {
        let report = twofold_sync::run(
            &mut opened.vault,
            &target,
            store.as_mut(),
            &mut ask,
            name,
            &SystemClock,
            &rng,
        )?;
        opened.vault.set_sync_credentials(login.clone());
        match opened.save() {
            Ok(()) => break report,
            Err(CliError::File(FileError::Changed(_))) if attempt < SYNC_ATTEMPTS => {
                attempt += 1;
                opened.refresh()?;
            }
            Err(e) => return Err(e),
        }
    };
    warn(&report.warnings);
    if json {
        print_json(&SyncJson {
            target: report.target,
            devices: report.devices,
            received: report.received,
            sent: true,
            changed: report.changed,
        })?;
    } else {
        println!(
            "synced with {} other device(s) through {}: {} change(s) here",
            report.devices,
            terminal_safe(&target.describe()),
            report.changed
        );
    }
    Ok(())
}

/// The `warning:` line of every file a sync left out.
fn warn(warnings: &[twofold_core::sync::Warning]) {
    for w in warnings {
        eprintln!(
            "warning: {}: {}; left out",
            terminal_safe(&w.file),
            terminal_safe(&w.reason)
        );
    }
}

/// `twofold sync --devices`: the set's devices as of this device's last sync.
pub fn devices(ctx: &Context, json: bool) -> Result<(), CliError> {
    let opened = ctx.open()?;
    let list = opened.vault.sync_devices().ok_or_else(|| {
        CliError::Nothing("sync is not set up: sync with --folder DIR or --webdav URL".into())
    })?;
    if json {
        print_json(&list)?;
        return Ok(());
    }
    for d in &list {
        let when = d.last_sync.map_or_else(
            || "never synced".to_owned(),
            |s| format!("last sync {s} (Unix time)"),
        );
        println!(
            "{}  {}  {when}{}",
            d.id,
            terminal_safe(&d.name),
            if d.this { "  (this device)" } else { "" }
        );
    }
    Ok(())
}

#[derive(Serialize)]
struct RemovedJson {
    removed: String,
    key_id: String,
    bytes_written: usize,
}

/// `twofold sync --remove-device ID`: syncs, then removes the device and re-keys the set with
/// a new passphrase (`$TWOFOLD_SYNC_NEW_PASSWORD`, else asked twice).
pub fn remove_device(
    ctx: &Context,
    choice: Choice<'_>,
    id: &str,
    kdf_choice: KdfChoice,
    json: bool,
) -> Result<(), CliError> {
    let device: twofold_core::sync::DeviceId = id
        .parse()
        .map_err(|e| CliError::Nothing(format!("{}: {e}", terminal_safe(id))))?;
    let mut opened = ctx.open()?;
    if opened.vault.sync_target().is_none() {
        return Err(CliError::Nothing(
            "sync is not set up: sync with --folder DIR or --webdav URL".into(),
        ));
    }
    // Refused before any passphrase is asked or anything is written.
    opened
        .vault
        .sync_membership()
        .ok_or(twofold_core::sync::SyncError::Membership)?
        .removable(device)?;
    let (target, login) = choose(&opened.vault, choice)?;
    let new = secret_from(
        "TWOFOLD_SYNC_NEW_PASSWORD",
        "new sync passphrase",
        "New sync passphrase: ",
        true,
    )?;
    twofold_core::strength::check(&new)?;
    let params = kdf(kdf_choice)?;
    let rng = SystemRng::new();
    let mut store = twofold_sync::open(&target, login.as_ref().map(|l| l.password.clone()))?;
    let removal = twofold_sync::remove_device(
        &mut opened.vault,
        &target,
        store.as_mut(),
        device,
        (&new, params),
        &SystemClock,
        &rng,
    )?;
    // The notice is written: if this save fails, this vault's next sync asks for the new
    // passphrase like any other device's, and loses nothing.
    opened.save()?;
    warn(&removal.sync.warnings);
    if json {
        print_json(&RemovedJson {
            removed: device.to_hex(),
            key_id: removal.key_id,
            bytes_written: removal.bytes_written,
        })?;
        return Ok(());
    }
    println!(
        "removed device {device}; the sync set has a new passphrase: your other devices ask \
         for it at their next sync. The removed device can still delete files in {}: take its \
         access to that place away too.",
        terminal_safe(&target.describe())
    );
    Ok(())
}
