//! The "With a vault" commands: open (password from the environment, a file or a prompt),
//! change, and save atomically only when the whole command succeeded.
//!
//! Opening takes no lock: a save replaces the file by a rename, so a reader always sees one
//! whole version, and commands that only read never wait for a writer. A change takes the
//! vault's writer lock only around itself ([`Opened::change`], the core's
//! [`store::change`]): never while a prompt waits for the person or a request for a server.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use twofold_core::payload::Entries;
use twofold_core::rng::SystemRng;
use twofold_core::vault::store::{self, Save};
use twofold_core::vault::{AddOutcome, AddReport, KdfParams, Vault, file};
use twofold_core::{AccountEntry, scan};
use zeroize::Zeroizing;

use crate::accounts::{display, now, read_accounts, warn_short_secret};
use crate::args::KdfChoice;
use crate::error::CliError;
use crate::output::{AccountJson, print_json, terminal_safe};

pub struct Context {
    vault: Option<PathBuf>,
    password_file: Option<PathBuf>,
}

/// The vault as one command opened it (read and unlocked without any lock), and the
/// fingerprint of the file it was read from or last saved as.
pub(crate) struct Opened {
    pub(crate) path: PathBuf,
    pub(crate) vault: Vault,
    loaded: Option<file::Fingerprint>,
}

/// Saves with the previous version kept as `<vault>.bak`: every change but a password change.
pub(crate) const SAVE: Save = Save::Yes(file::Backup::KeepPrevious);

impl Opened {
    /// One change under the writer lock: the vault is brought up to what the file holds now
    /// (another process may have saved since it was opened), `apply` changes it, and it is
    /// saved when `apply` says so. Nothing another process saved is lost.
    pub(crate) fn change<T>(
        &mut self,
        apply: impl FnOnce(&mut Vault) -> Result<(T, Save), CliError>,
    ) -> Result<T, CliError> {
        store::change(
            &self.path,
            file::LOCK_WAIT,
            &mut self.vault,
            &mut self.loaded,
            &SystemRng::new(),
            // The CLI keeps `<vault>.bak` only: no backup folder (`docs/cli.md`).
            None,
            apply,
        )
        .map(|changed| changed.value)
    }

    /// Brings the vault up to what the file holds now, when another process saved since it
    /// was opened or last saved here (one `stat` when nothing changed).
    pub(crate) fn refresh(&mut self) -> Result<(), CliError> {
        store::refresh(&self.path, &mut self.vault, &mut self.loaded)?;
        Ok(())
    }

    /// Saves the vault as this command changed it since it was opened, under the writer lock
    /// and only if no other process saved in between ([`file::FileError::Changed`] then: run
    /// the command again). For commands whose change cannot be applied again to a newer vault.
    pub(crate) fn save(&mut self) -> Result<(), CliError> {
        let lock = file::lock(&self.path, file::LOCK_WAIT)?;
        store::save(
            &lock,
            &mut self.vault,
            &mut self.loaded,
            &SystemRng::new(),
            &store::SaveOptions::KEEP_PREVIOUS,
        )
        .map_err(|failed| failed.error.into_error::<CliError>())?;
        Ok(())
    }
}

impl Context {
    pub fn new(vault: Option<PathBuf>, password_file: Option<PathBuf>) -> Self {
        Context {
            vault,
            password_file,
        }
    }

    fn path(&self) -> Result<PathBuf, CliError> {
        if let Some(p) = &self.vault {
            return Ok(p.clone());
        }
        if let Some(p) = std::env::var_os("TWOFOLD_VAULT").filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(p));
        }
        dirs::data_dir()
            .map(|d| d.join("twofold").join("vault.json"))
            .ok_or_else(|| {
                CliError::Password("no data directory; name the vault with --vault".into())
            })
    }

    fn password(&self, confirm: bool) -> Result<Zeroizing<String>, CliError> {
        if let Some(p) = std::env::var_os("TWOFOLD_PASSWORD") {
            return p
                .into_string()
                .map(Zeroizing::new)
                .map_err(|_| CliError::Password("TWOFOLD_PASSWORD is not valid UTF-8".into()));
        }
        if let Some(f) = &self.password_file {
            return read_password_file(f);
        }
        prompt("Vault password: ", confirm)
    }

    /// Reads and unlocks the vault, asking for the password if need be: no lock is taken,
    /// so neither a reader nor a person at the prompt keeps another command waiting.
    pub(crate) fn open(&self) -> Result<Opened, CliError> {
        self.open_with_password().map(|(opened, _)| opened)
    }

    /// [`Context::open`], also returning the password that opened it (asked once).
    pub(crate) fn open_with_password(&self) -> Result<(Opened, Zeroizing<String>), CliError> {
        let path = self.path()?;
        if !path.exists() {
            return Err(file::FileError::NotFound(path).into());
        }
        let password = self.password(false)?;
        let (bytes, loaded) = file::read_fingerprinted(&path)?;
        let vault = Vault::open(&bytes, password.as_bytes())?;
        Ok((
            Opened {
                path,
                vault,
                loaded: Some(loaded),
            },
            password,
        ))
    }
}

pub(crate) fn read_password_file(f: &Path) -> Result<Zeroizing<String>, CliError> {
    let cannot = |e: &dyn std::fmt::Display| {
        CliError::Password(format!(
            "cannot read the password file {}: {e}",
            f.display()
        ))
    };
    let bytes = Zeroizing::new(crate::output::read_capped(f).map_err(|e| cannot(&e))?);
    let text = Zeroizing::new(
        std::str::from_utf8(&bytes)
            .map_err(|_| cannot(&"not valid UTF-8"))?
            .to_owned(),
    );
    let line = text.lines().next().unwrap_or("");
    Ok(Zeroizing::new(line.to_owned()))
}

pub(crate) fn prompt(label: &str, confirm: bool) -> Result<Zeroizing<String>, CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Password(
            "no password given: set TWOFOLD_PASSWORD or use --password-file (no terminal to ask on)"
                .into(),
        ));
    }
    let read = |l: &str| {
        rpassword::prompt_password(l)
            .map(Zeroizing::new)
            .map_err(|e| CliError::Password(format!("cannot read the password: {e}")))
    };
    let first = read(label)?;
    if confirm && *read("Again: ")? != *first {
        return Err(CliError::Password("the passwords differ".into()));
    }
    Ok(first)
}

pub(crate) fn kdf(choice: KdfChoice) -> Result<KdfParams, CliError> {
    match choice {
        KdfChoice::Minimum => Ok(KdfParams::MIN),
        KdfChoice::Calibrate => KdfParams::calibrate().map_err(|e| CliError::Vault(e.into())),
    }
}

pub fn init(ctx: &Context, choice: KdfChoice) -> Result<(), CliError> {
    let path = ctx.path()?;
    if path.exists() {
        return Err(file::FileError::Exists(path).into());
    }
    let password = ctx.password(true)?;
    if password.is_empty() {
        return Err(CliError::Password("the password must not be empty".into()));
    }
    let vault = Vault::create(password.as_bytes(), kdf(choice)?, &SystemRng::new())?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|source| file::FileError::Io {
        op: "cannot create directory",
        path: dir.clone(),
        source,
    })?;
    // Two `init`s at once: the second finds the first's vault, under the lock.
    let lock = file::lock(&path, file::LOCK_WAIT)?;
    // Encrypting refuses a vault too large to open again.
    let bytes = vault.to_bytes(&SystemRng::new())?;
    file::write_with(lock.vault(), &bytes, true, file::Backup::KeepPrevious)?;
    println!("created {}", path.display());
    Ok(())
}

pub fn add(ctx: &Context, uri: Option<&str>, image: Option<&Path>) -> Result<(), CliError> {
    let texts = match (uri, image) {
        (Some(u), _) => vec![u.to_owned()],
        (None, Some(img)) => {
            let bytes = crate::output::read_capped(img)
                .map_err(|e| CliError::Scan(format!("{}: {e}", img.display())))?;
            let found = scan::scan_image(&bytes)
                .map_err(|e| CliError::Scan(crate::error::scan_failure(img, &e)))?;
            if found.is_empty() {
                return Err(CliError::Scan(format!(
                    "{}: no QR code found",
                    img.display()
                )));
            }
            found
        }
        (None, None) => return Err(CliError::Nothing("give a URI or --image".into())),
    };
    let read = read_accounts(&texts, now(None))?;
    for batch in read.exports.iter().filter(|b| b.batch_size > 1) {
        eprintln!(
            "note: this is QR code {} of {} of a Google Authenticator export; add the others too",
            batch.batch_index + 1,
            batch.batch_size
        );
    }
    let Entries { accounts, failures } = read.into_entries();
    let accounts: Vec<AccountEntry> = accounts
        .into_iter()
        .map(|(_, a)| AccountEntry::new(a))
        .collect();
    if accounts.is_empty() {
        // Nothing to add: fail without touching the vault.
        return Err(CliError::entries(&failures));
    }
    let mut opened = ctx.open()?;
    for e in &accounts {
        warn_short_secret(&e.account);
    }
    let report = add_all(&mut opened, accounts)?;
    for (name, outcome) in &report.outcomes {
        match outcome {
            AddOutcome::Added(id) => println!("added {id} {}", display(name)),
            AddOutcome::Duplicate(id) => println!("already in the vault: {id} {}", display(name)),
        }
    }
    // The accounts that could be read were added; the others are reported, not dropped.
    for f in failures {
        eprintln!("warning: not added: {}", terminal_safe(&f.to_string()));
    }
    Ok(())
}

/// Adds the entries to the vault as the file holds it now; saves only when one was added.
fn add_all(opened: &mut Opened, entries: Vec<AccountEntry>) -> Result<AddReport, CliError> {
    opened.change(|vault| {
        let report = vault.add_all(entries, now(None), &SystemRng::new())?;
        let save = if report.added_count() > 0 {
            SAVE
        } else {
            Save::No
        };
        Ok((report, save))
    })
}

pub fn list(ctx: &Context, json: bool) -> Result<(), CliError> {
    let vault = ctx.open()?.vault;
    if json {
        let list: Vec<AccountJson> = vault
            .accounts()
            .iter()
            .map(|a| AccountJson::new(a.id.clone(), &a.otp, None).managed(&vault, &a.id))
            .collect();
        print_json(&list)?;
    } else {
        for a in vault.accounts() {
            println!("{}  {}", a.id, terminal_safe(&a.otp.display_name()));
        }
    }
    Ok(())
}

pub fn code(
    ctx: &Context,
    query: Option<&str>,
    at: Option<u64>,
    json: bool,
) -> Result<(), CliError> {
    let vault = ctx.open()?.vault;
    let q = query.map(str::to_lowercase);
    let matching: Vec<_> = vault
        .accounts()
        .iter()
        .filter(|a| match &q {
            None => true,
            Some(q) => {
                a.id == *q
                    || a.otp.issuer.to_lowercase().contains(q)
                    || a.otp.name.to_lowercase().contains(q)
            }
        })
        .collect();
    if matching.is_empty() && query.is_some() {
        return Err(CliError::Nothing("no account matches".into()));
    }
    let t = now(at);
    if json {
        let list: Vec<AccountJson> = matching
            .iter()
            .map(|a| {
                AccountJson::new(a.id.clone(), &a.otp, Some(a.otp.code_at(t)))
                    .managed(&vault, &a.id)
            })
            .collect();
        print_json(&list)?;
    } else {
        for a in matching {
            println!(
                "{}  {}",
                a.otp.code_at(t),
                terminal_safe(&a.otp.display_name())
            );
        }
    }
    Ok(())
}

pub fn next(ctx: &Context, id: &str) -> Result<(), CliError> {
    let code = ctx
        .open()?
        .change(|vault| Ok((vault.next_hotp(id, now(None))?, SAVE)))?;
    println!("{code}");
    Ok(())
}

pub fn remove(ctx: &Context, id: &str) -> Result<(), CliError> {
    let removed = ctx
        .open()?
        .change(|vault| Ok((vault.remove(id, now(None))?, SAVE)))?;
    println!(
        "removed {} {}",
        removed.id,
        terminal_safe(&removed.otp.display_name())
    );
    Ok(())
}

/// One recently removed account in `removed --json` (the CLI contract's shape).
#[derive(serde::Serialize)]
struct RemovedJson<'a> {
    id: &'a str,
    issuer: &'a str,
    name: &'a str,
    removed_at: u64,
    by: &'a str,
}

pub fn removed(ctx: &Context, json: bool) -> Result<(), CliError> {
    let vault = ctx.open()?.vault;
    let removed = vault.removed(now(None));
    if json {
        let list: Vec<RemovedJson> = removed
            .iter()
            .map(|r| RemovedJson {
                id: &r.account.id,
                issuer: &r.account.otp.issuer,
                name: &r.account.otp.name,
                removed_at: r.removed_at,
                by: r.by.label(),
            })
            .collect();
        print_json(&list)?;
    } else {
        for r in removed {
            println!(
                "{}  {}  removed at {} by {}",
                r.account.id,
                terminal_safe(&r.account.otp.display_name()),
                r.removed_at,
                terminal_safe(r.by.label())
            );
        }
    }
    Ok(())
}

pub fn restore(ctx: &Context, id: &str) -> Result<(), CliError> {
    let line = ctx.open()?.change(|vault| {
        let restored = vault.restore(id, now(None))?;
        let line = format!(
            "restored {} {}",
            restored.id,
            terminal_safe(&restored.otp.display_name())
        );
        Ok((line, SAVE))
    })?;
    println!("{line}");
    Ok(())
}

pub fn passwd(ctx: &Context, choice: KdfChoice) -> Result<(), CliError> {
    let mut opened = ctx.open()?;
    let new =
        match std::env::var_os("TWOFOLD_NEW_PASSWORD") {
            Some(p) => Zeroizing::new(p.into_string().map_err(|_| {
                CliError::Password("TWOFOLD_NEW_PASSWORD is not valid UTF-8".into())
            })?),
            None => prompt("New vault password: ", true)?,
        };
    if new.is_empty() {
        return Err(CliError::Password("the password must not be empty".into()));
    }
    // A new master key re-encrypts everything; the previous version (`.bak`, old key, old
    // password) is removed so that nothing beside the vault opens with the old password.
    let params = kdf(choice)?;
    opened.change(|vault| {
        vault.set_password(new.as_bytes(), params, &SystemRng::new())?;
        Ok(((), Save::Yes(file::Backup::Remove)))
    })?;
    println!("password changed");
    Ok(())
}

#[derive(serde::Serialize)]
struct ImportJson {
    imported: usize,
    skipped: Vec<SkippedJson>,
}

#[derive(serde::Serialize)]
struct SkippedJson {
    entry: String,
    reason: String,
}

pub fn import(
    ctx: &Context,
    path: &Path,
    format: &str,
    password_file: Option<&Path>,
    json: bool,
) -> Result<(), CliError> {
    use twofold_core::import::{self, Format, ImportError};
    let format = match format {
        "auto" => None,
        name => Some(Format::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            CliError::Nothing(format!(
                "unknown format {name:?}; one of: auto, {}",
                names.join(", ")
            ))
        })?),
    };
    let bytes = Zeroizing::new(
        crate::output::read_capped(path)
            .map_err(|e| CliError::Nothing(format!("{}: {e}", path.display())))?,
    );
    let password = match password_file {
        Some(f) => Some(read_password_file(f)?),
        None => None,
    };
    let report = match import::import(&bytes, format, password.as_ref().map(|p| p.as_bytes())) {
        // An encrypted export with no password file: the vault password is tried, as the
        // contract says for export; a wrong one is exit 3.
        Err(ImportError::PasswordRequired) if password_file.is_none() => {
            let p = ctx.password(false)?;
            import::import(&bytes, format, Some(p.as_bytes()))?
        }
        r => r?,
    };
    let added = add_all(&mut ctx.open()?, report.entries)?;
    let imported = added.added_count();
    let skipped: Vec<SkippedJson> = report
        .skipped
        .into_iter()
        .map(|s| SkippedJson {
            entry: s.entry,
            reason: s.reason,
        })
        .chain(added.duplicates().map(|(name, id)| SkippedJson {
            entry: name.to_owned(),
            reason: format!("already in the vault (id {id})"),
        }))
        .collect();
    let out = ImportJson { imported, skipped };
    if json {
        print_json(&out)?;
    } else {
        println!("imported {imported}");
        for s in &out.skipped {
            println!(
                "skipped {}: {}",
                terminal_safe(&s.entry),
                terminal_safe(&s.reason)
            );
        }
    }
    if imported == 0 {
        return Err(CliError::Nothing("nothing could be imported".into()));
    }
    Ok(())
}

pub fn export(
    ctx: &Context,
    path: &Path,
    format: &str,
    password_file: Option<&Path>,
) -> Result<(), CliError> {
    use twofold_core::export::{self, ExportFormat};
    let format = ExportFormat::from_name(format).ok_or_else(|| {
        let names: Vec<&str> = ExportFormat::ALL.iter().map(|f| f.name()).collect();
        CliError::Nothing(format!(
            "unknown export format {format:?}; one of: {}",
            names.join(", ")
        ))
    })?;
    let vault = ctx.open()?.vault;
    let export_password = match (format.is_encrypted(), password_file) {
        (false, _) => None,
        (true, Some(f)) => Some(read_password_file(f)?),
        // The contract: without a password file, the vault's own password protects the export.
        (true, None) => Some(ctx.password(false)?),
    };
    let out = export::export(
        &vault.export_entries(),
        format,
        export_password.as_ref().map(|p| p.as_bytes()),
        &SystemRng::new(),
    )
    .map_err(|e| CliError::Nothing(e.to_string()))?;
    file::write_export(path, &out.bytes)?;
    eprintln!("exported {} to {}", out.written, path.display());
    for s in &out.skipped {
        eprintln!(
            "not exported {}: {}",
            terminal_safe(&s.entry),
            terminal_safe(&s.reason)
        );
    }
    Ok(())
}
