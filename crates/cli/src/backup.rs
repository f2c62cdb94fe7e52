//! `twofold backup check`: a backup or export compared with the vault by the core's one
//! comparison (the app's restore drill uses the same), never printing a secret.

use std::path::Path;

use serde::Serialize;
use twofold_core::backup;
use zeroize::Zeroizing;

use crate::error::CliError;
use crate::output::{AccountJson, print_json, terminal_safe};

#[derive(Serialize)]
struct DifferentJson {
    id: String,
    fields: Vec<&'static str>,
}

#[derive(Serialize)]
struct CheckJson<'a> {
    missing: Vec<AccountJson<'a>>,
    extra: Vec<AccountJson<'a>>,
    different: Vec<DifferentJson>,
    matching: usize,
}

pub fn check(
    ctx: &crate::vault::Context,
    path: &Path,
    password_file: Option<&Path>,
    json: bool,
) -> Result<(), CliError> {
    let bytes = Zeroizing::new(
        crate::output::read_capped(path)
            .map_err(|e| CliError::Nothing(format!("{}: {e}", path.display())))?,
    );
    let (opened, vault_password) = ctx.open_with_password()?;
    let vault = opened.vault;
    // The backup's password: the file's first line, else the vault password (as `import`).
    let password = match password_file {
        Some(f) => crate::vault::read_password_file(f)?,
        None => vault_password,
    };
    let comparison = backup::check(&bytes, &vault, Some(password.as_bytes()))?;
    for s in &comparison.unreadable {
        eprintln!(
            "warning: unreadable in the backup: {}: {}",
            terminal_safe(&s.entry),
            terminal_safe(&s.reason)
        );
    }
    let name = |id: &str| {
        vault
            .account(id)
            .map(|a| a.otp.display_name())
            .unwrap_or_default()
    };
    if json {
        let out = CheckJson {
            missing: comparison
                .missing
                .iter()
                .filter_map(|id| vault.account(id))
                .map(|a| AccountJson::new(a.id.clone(), &a.otp, None).managed(&vault, &a.id))
                .collect(),
            extra: comparison
                .extra
                .iter()
                .map(|a| AccountJson {
                    id: None,
                    ..AccountJson::new(String::new(), a, None)
                })
                .collect(),
            different: comparison
                .different
                .iter()
                .map(|d| DifferentJson {
                    id: d.id.clone(),
                    fields: d.fields.iter().map(|f| f.name()).collect(),
                })
                .collect(),
            matching: comparison.matching,
        };
        print_json(&out)?;
    } else {
        println!("matching {}", comparison.matching);
        for id in &comparison.missing {
            println!("missing {id}  {}", terminal_safe(&name(id)));
        }
        for d in &comparison.different {
            let fields: Vec<&str> = d.fields.iter().map(|f| f.name()).collect();
            println!(
                "different {}  {}: {}",
                d.id,
                terminal_safe(&name(&d.id)),
                fields.join(", ")
            );
        }
        for a in &comparison.extra {
            println!("extra {}", terminal_safe(&a.display_name()));
        }
    }
    if comparison.restores_everything() {
        return Ok(());
    }
    Err(CliError::BackupIncomplete(format!(
        "the backup does not restore the vault: {} account(s) missing, {} different",
        comparison.missing.len(),
        comparison.different.len()
    )))
}
