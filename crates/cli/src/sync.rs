//! `twofold sync`: the vault's OTP accounts synced through a folder (`docs/sync.md`,
//! `docs/cli.md` "Sync"). `twofold-sync` reads and writes the target and runs the sync; this
//! chooses the target, asks for the passphrase when one is needed, and saves the vault.

use std::io::IsTerminal;
use std::path::Path;

use serde::Serialize;
use twofold_core::rng::SystemRng;
use twofold_sync::{RunError, Target};
use zeroize::Zeroizing;

use crate::args::KdfChoice;
use crate::error::CliError;
use crate::output::{print_json, terminal_safe};
use crate::vault::{Context, kdf, prompt, save};

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
    let target = match (folder, vault.sync_target()) {
        (Some(f), _) => Target::Folder(
            std::path::absolute(f)
                .map_err(|e| CliError::SyncTarget(format!("cannot find {}: {e}", f.display())))?,
        ),
        (None, Some(t)) => Target::parse(t).map_err(|e| CliError::SyncTarget(e.to_string()))?,
        (None, None) => {
            return Err(CliError::Nothing(
                "no sync target: name a folder with --folder DIR".into(),
            ));
        }
    };
    let rng = SystemRng::new();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let mut store = twofold_sync::open(&target);
    let mut ask = |creating: bool| {
        let pass = passphrase(creating).map_err(|e| RunError::Passphrase(e.to_string()))?;
        let params = if creating {
            kdf(choice).map_err(|e| RunError::Passphrase(e.to_string()))?
        } else {
            twofold_core::vault::KdfParams::MIN
        };
        Ok((pass, params))
    };
    let report = twofold_sync::run(&mut vault, &target, store.as_mut(), &mut ask, now_ms, &rng)?;
    for w in &report.warnings {
        eprintln!(
            "warning: {}: {}; left out",
            terminal_safe(&w.file),
            terminal_safe(&w.reason)
        );
    }
    save(&path, &vault, false)?;
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
