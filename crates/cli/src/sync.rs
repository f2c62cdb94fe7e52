//! `twofold sync`: the vault's OTP accounts synced through a folder or a WebDAV folder
//! (`docs/sync.md`, `docs/cli.md` "Sync"). `twofold-sync` reads and writes the target and runs
//! the sync; this chooses the target, finds the WebDAV login, asks for the passphrase when one
//! is needed, and saves the vault (with the WebDAV login, encrypted).

use std::io::IsTerminal;
use std::path::Path;

use serde::Serialize;
use twofold_core::rng::SystemRng;
use twofold_core::vault::file::FileError;
use twofold_core::vault::{SyncCredentials, Vault};
use twofold_sync::{RunError, Target, WebDavTarget};
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
    if let Some(p) = std::env::var_os("TWOFOLD_WEBDAV_PASSWORD") {
        return p
            .into_string()
            .map(Zeroizing::new)
            .map_err(|_| CliError::Password("TWOFOLD_WEBDAV_PASSWORD is not valid UTF-8".into()));
    }
    if let Some(c) = kept.filter(|c| c.user == user) {
        return Ok(c.password.clone());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Password(
            "no WebDAV password given: set TWOFOLD_WEBDAV_PASSWORD (no terminal to ask on)".into(),
        ));
    }
    prompt("WebDAV password: ", false)
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
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let mut store = twofold_sync::open(&target, login.as_ref().map(|l| l.password.clone()))?;
    let mut ask = |creating: bool| {
        let pass = passphrase(creating).map_err(|e| RunError::Passphrase(e.to_string()))?;
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
            now_ms,
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
    for w in &report.warnings {
        eprintln!(
            "warning: {}: {}; left out",
            terminal_safe(&w.file),
            terminal_safe(&w.reason)
        );
    }
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
