//! One function per command; each converts its input, calls the core, and prints.

use std::path::PathBuf;

use twofold_core::payload::Entries;
use twofold_core::scan;

use crate::accounts::{now, read_accounts, warn_short_secret};
use crate::args::{Cli, Command};
use crate::error::{CliError, scan_failure};
use crate::output::{AccountJson, ScanJson, print_json};

pub fn run(cli: Cli) -> Result<(), CliError> {
    let ctx = crate::vault::Context::new(cli.vault, cli.password_file);
    match cli.command {
        Command::Code {
            uri: Some(uri),
            at,
            json,
            ..
        } => code(&uri, at, json),
        Command::Code {
            query,
            uri: None,
            at,
            json,
        } => crate::vault::code(&ctx, query.as_deref(), at, json),
        Command::Scan { images, json } => scan(&images, json),
        Command::Push { command } => crate::push::run(&ctx, command),
        Command::Backup {
            command:
                crate::args::BackupCommand::Check {
                    file,
                    import_password_file,
                    json,
                },
        } => crate::backup::check(&ctx, &file, import_password_file.as_deref(), json),
        Command::Container { command } => crate::container::run(&ctx, command),
        Command::Sync {
            folder,
            webdav,
            webdav_user,
            off,
            devices,
            remove_device,
            device_name,
            kdf,
            json,
        } => {
            let choice = crate::sync::Choice {
                folder: folder.as_deref(),
                webdav: webdav.as_deref(),
                webdav_user,
            };
            if devices {
                crate::sync::devices(&ctx, json)
            } else if let Some(id) = remove_device {
                crate::sync::remove_device(&ctx, choice, &id, kdf, json)
            } else {
                crate::sync::run(&ctx, choice, off, device_name.as_deref(), kdf, json)
            }
        }
        Command::Init { kdf } => crate::vault::init(&ctx, kdf),
        Command::Add { uri, image } => crate::vault::add(&ctx, uri.as_deref(), image.as_deref()),
        Command::List { json } => crate::vault::list(&ctx, json),
        Command::Next { id } => crate::vault::next(&ctx, &id),
        Command::Remove { id } => crate::vault::remove(&ctx, &id),
        Command::Removed { json } => crate::vault::removed(&ctx, json),
        Command::Restore { id } => crate::vault::restore(&ctx, &id),
        Command::Passwd { kdf } => crate::vault::passwd(&ctx, kdf),
        Command::Import {
            file,
            format,
            import_password_file,
            json,
        } => crate::vault::import(&ctx, &file, &format, import_password_file.as_deref(), json),
        Command::Export {
            file,
            format,
            export_password_file,
        } => crate::vault::export(&ctx, &file, &format, export_password_file.as_deref()),
    }
}

fn code(uri: &str, at: Option<u64>, json: bool) -> Result<(), CliError> {
    let now = now(at);
    let Entries { accounts, failures } = read_accounts(&[uri], now)?.into_entries();
    for (_, a) in &accounts {
        warn_short_secret(a);
    }
    if json {
        let list: Vec<AccountJson> = accounts
            .iter()
            .map(|(id, a)| AccountJson::new(id.to_string(), a, Some(a.code_at(now))))
            .collect();
        print_json(&list)?;
    } else {
        for (_, a) in &accounts {
            println!("{}", a.code_at(now));
        }
    }
    match failures.len() {
        0 => Ok(()),
        _ => Err(CliError::entries(&failures)),
    }
}

fn scan(images: &[PathBuf], json: bool) -> Result<(), CliError> {
    let mut found = Vec::new();
    let mut failures = Vec::new();
    for path in images {
        let result = crate::output::read_capped(path)
            .map_err(|e| format!("{}: {e}", path.display()))
            .and_then(|bytes| scan::scan_image(&bytes).map_err(|e| scan_failure(path, &e)));
        match result {
            Ok(texts) if texts.is_empty() => {
                failures.push(format!("{}: no QR code found", path.display()));
            }
            Ok(texts) => found.extend(texts.into_iter().map(|text| ScanJson {
                file: path.display().to_string(),
                text,
            })),
            Err(e) => failures.push(e),
        }
    }
    if json {
        print_json(&found)?;
    } else {
        for f in &found {
            println!("{}", crate::output::terminal_safe(&f.text));
        }
    }
    match failures.len() {
        0 => Ok(()),
        _ => Err(CliError::Scan(failures.join("; "))),
    }
}
