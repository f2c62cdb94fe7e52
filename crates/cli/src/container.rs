//! `twofold container ...`: privacyIDEA token containers. The core's runner
//! (`twofold_core::container::Runner`) runs every sequence and decides what is saved when a
//! step fails; the CLI gives it `twofold-http`, the passphrase prompt and the core's vault
//! store, and prints the results (`docs/containers.md`, "One runner").

use serde::Serialize;
use twofold_core::container::{
    Container, Host, Policies, Registration, Response, Runner, is_registration_uri,
};
use twofold_core::push::Request;
use twofold_core::rng::SystemRng;
use twofold_core::vault::{ContainerSyncReport, Vault};
use twofold_core::{Clock, SystemClock, scan};
use zeroize::Zeroizing;

use crate::args::ContainerCommand;
use crate::error::CliError;
use crate::output::{print_json, terminal_safe};
use crate::vault::{Context, Opened, SAVE};

pub fn run(ctx: &Context, command: ContainerCommand) -> Result<(), CliError> {
    match command {
        ContainerCommand::Register {
            uri,
            image,
            device_info,
            offer,
            json,
        } => register(
            ctx,
            uri.as_deref(),
            image.as_deref(),
            device_info,
            &offer,
            json,
        ),
        ContainerCommand::Sync { serial, json } => sync(ctx, serial.as_deref(), json),
        ContainerCommand::List { json } => list(ctx, json),
        ContainerCommand::Rollover {
            serial,
            transfer,
            json,
        } => rollover(ctx, &serial, transfer, json),
        ContainerCommand::Unregister { serial, json } => unregister(ctx, &serial, json),
    }
}

/// The CLI's side of the core's container runner: `twofold-http` carries the requests, the
/// passphrase comes from `TWOFOLD_CONTAINER_PASSPHRASE` or the terminal, and each change of
/// the vault goes through the core's store ([`crate::vault::Opened::change`]).
struct Cli<'o> {
    opened: &'o mut Opened,
}

impl Host for Cli<'_> {
    type Error = CliError;

    fn check_url(&self, url: &str) -> Result<(), CliError> {
        twofold_http::check_url(url)?;
        Ok(())
    }

    fn send(&self, request: &Request) -> Result<Response, CliError> {
        let reply = twofold_http::send(request)?;
        Ok(Response {
            status: reply.status,
            body: reply.body,
        })
    }

    fn passphrase(&mut self, prompt: &str) -> Result<Zeroizing<String>, CliError> {
        passphrase(prompt)
    }

    fn read<T>(&self, read: impl FnOnce(&Vault) -> T) -> Result<T, CliError> {
        Ok(read(&self.opened.vault))
    }

    fn change<T>(
        &mut self,
        apply: impl FnOnce(&mut Vault) -> Result<T, CliError>,
    ) -> Result<T, CliError> {
        self.opened.change(|vault| Ok((apply(vault)?, SAVE)))
    }
}

/// The runner over this command's vault, the system clock and randomness.
fn runner<'o>(opened: &'o mut Opened, rng: &'o SystemRng) -> Runner<'o, Cli<'o>> {
    Runner::new(Cli { opened }, &SystemClock, rng)
}

fn now() -> u64 {
    SystemClock.now()
}

fn read_qr(uri: Option<&str>, image: Option<&std::path::Path>) -> Result<String, CliError> {
    if let Some(u) = uri {
        return Ok(u.to_owned());
    }
    let img = image.ok_or_else(|| CliError::Nothing("give a URI or --image".into()))?;
    let bytes =
        std::fs::read(img).map_err(|e| CliError::Scan(format!("{}: {e}", img.display())))?;
    let found = scan::scan_image(&bytes)
        .map_err(|e| CliError::Scan(crate::error::scan_failure(img, &e)))?;
    found
        .into_iter()
        .find(|t| is_registration_uri(t))
        .ok_or_else(|| {
            CliError::Scan(format!(
                "{}: no pia://container/ QR code found",
                img.display()
            ))
        })
}

fn passphrase(prompt: &str) -> Result<Zeroizing<String>, CliError> {
    if let Some(p) = std::env::var_os("TWOFOLD_CONTAINER_PASSPHRASE") {
        return p.into_string().map(Zeroizing::new).map_err(|_| {
            CliError::Password("TWOFOLD_CONTAINER_PASSPHRASE is not valid UTF-8".into())
        });
    }
    eprintln!("The server asks: {}", terminal_safe(prompt));
    crate::vault::prompt("Passphrase: ", false).map_err(|_| {
        CliError::Password(format!(
            "the server asks for a passphrase ({}); set TWOFOLD_CONTAINER_PASSPHRASE (no terminal to ask on)",
            terminal_safe(prompt)
        ))
    })
}

#[derive(Serialize)]
struct AddedJson {
    serial: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Serialize)]
struct SkippedJson {
    entry: String,
    reason: String,
}

#[derive(Serialize)]
struct ReportJson {
    serial: String,
    added: Vec<AddedJson>,
    updated: Vec<String>,
    removed: Vec<String>,
    /// This device's own tokens the server took into the container (initial transfer).
    joined: Vec<String>,
    skipped: Vec<SkippedJson>,
    error: Option<String>,
}

impl ReportJson {
    fn new(serial: &str, r: Result<ContainerSyncReport, String>) -> Self {
        let (r, error) = ContainerSyncReport::or_failure(serial, r);
        ReportJson {
            serial: r.serial,
            added: r
                .added
                .into_iter()
                .map(|(serial, kind)| AddedJson { serial, kind })
                .collect(),
            updated: r.updated,
            removed: r.removed,
            joined: r.joined,
            skipped: r
                .skipped
                .into_iter()
                .map(|(entry, reason)| SkippedJson { entry, reason })
                .collect(),
            error,
        }
    }

    fn print_text(&self) {
        let s = terminal_safe(&self.serial);
        if let Some(e) = &self.error {
            println!("{s}: sync failed: {}", terminal_safe(e));
            return;
        }
        let added: Vec<String> = self
            .added
            .iter()
            .map(|a| format!("{} ({})", a.serial, a.kind))
            .collect();
        println!(
            "{s}: added [{}], updated [{}], removed [{}]",
            terminal_safe(&added.join(", ")),
            terminal_safe(&self.updated.join(", ")),
            terminal_safe(&self.removed.join(", "))
        );
        if !self.joined.is_empty() {
            println!(
                "{s}: now managed by the container: [{}]",
                terminal_safe(&self.joined.join(", "))
            );
        }
        for k in &self.skipped {
            println!(
                "{s}: skipped {}: {}",
                terminal_safe(&k.entry),
                terminal_safe(&k.reason)
            );
        }
    }
}

#[derive(Serialize)]
struct RegisterJson {
    serial: String,
    server_url: String,
    policies: Policies,
    sync: ReportJson,
}

fn register(
    ctx: &Context,
    uri: Option<&str>,
    image: Option<&std::path::Path>,
    device_info: bool,
    offer: &[String],
    json: bool,
) -> Result<(), CliError> {
    let text = read_qr(uri, image)?;
    let registration = Registration::parse(&text, now())?;
    if !registration.verify_tls() {
        eprintln!(
            "warning: the server turned off certificate checks for this container (ssl_verify=False): anyone on the network path to {} could pretend to be it",
            terminal_safe(registration.server_url().host())
        );
    }
    let mut opened = ctx.open()?;
    let model = format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
    let device = device_info.then_some((twofold_core::container::DEVICE_BRAND, model.as_str()));
    let rng = SystemRng::new();
    // A mistyped --offer fails before anything is sent; the registration is saved before the
    // first sync, and whatever that sync saved stays saved if it fails (the core's rule).
    let done = runner(&mut opened, &rng).register(registration, device, offer)?;
    if !offer.is_empty() && !done.initial_transfer {
        eprintln!(
            "note: the server does not ask for this device's tokens (initially_add_tokens_to_container is off); nothing offered"
        );
    }
    let serial = done.container.serial.clone();
    let policies = opened
        .vault
        .container(&serial)
        .map(|c| c.container.policies)
        .unwrap_or_default();
    let failed = done.sync.as_ref().err().map(ToString::to_string);
    let out = RegisterJson {
        serial: serial.clone(),
        server_url: done.container.server_url.as_str().to_owned(),
        policies,
        sync: ReportJson::new(&serial, done.sync.map_err(|e| e.to_string())),
    };
    if json {
        print_json(&out)?;
    } else {
        println!(
            "registered {} with {}",
            terminal_safe(&out.serial),
            terminal_safe(&out.server_url)
        );
        out.sync.print_text();
    }
    match failed {
        Some(e) => Err(CliError::ContainerSync(format!(
            "registered, but the first sync failed: {e}"
        ))),
        None => Ok(()),
    }
}

fn sync(ctx: &Context, serial: Option<&str>, json: bool) -> Result<(), CliError> {
    let mut opened = ctx.open()?;
    let serials: Vec<String> = match serial {
        Some(s) => {
            if opened.vault.container(s).is_none() {
                return Err(CliError::Nothing(format!(
                    "no container {s:?} in the vault"
                )));
            }
            vec![s.to_owned()]
        }
        None => opened
            .vault
            .containers()
            .iter()
            .map(|c| c.container.serial.clone())
            .collect(),
    };
    let mut reports = Vec::new();
    let mut failed = 0;
    let rng = SystemRng::new();
    let mut runner = runner(&mut opened, &rng);
    // Each container's sync is saved on its own (the core's rule): a failed one does not undo
    // the others, and another program's save in between is built on.
    for s in &serials {
        let r = runner.sync(s, &[]).map_err(|e| e.to_string());
        failed += usize::from(r.is_err());
        reports.push(ReportJson::new(s, r));
    }
    if json {
        print_json(&reports)?;
    } else {
        for r in &reports {
            r.print_text();
        }
    }
    if failed > 0 {
        return Err(CliError::ContainerSync(format!(
            "{failed} of {} container syncs failed",
            serials.len()
        )));
    }
    Ok(())
}

#[derive(Serialize)]
struct ContainerJson<'a> {
    serial: &'a str,
    issuer: &'a str,
    server_url: &'a str,
    tokens: Vec<&'a str>,
    policies: Policies,
    last_sync: Option<u64>,
}

fn list(ctx: &Context, json: bool) -> Result<(), CliError> {
    let vault = ctx.open()?.vault;
    let list: Vec<ContainerJson> = vault
        .containers()
        .iter()
        .map(|c| ContainerJson {
            serial: &c.container.serial,
            issuer: &c.container.issuer,
            server_url: c.container.server_url.as_str(),
            tokens: c.tokens.iter().map(|t| t.serial.as_str()).collect(),
            policies: c.container.policies,
            last_sync: c.container.last_sync,
        })
        .collect();
    if json {
        print_json(&list)?;
    } else {
        for c in &list {
            println!(
                "{}  {}  {} tokens  last sync: {}",
                terminal_safe(c.serial),
                terminal_safe(c.server_url),
                c.tokens.len(),
                c.last_sync.map_or("never".to_owned(), |t| t.to_string())
            );
        }
    }
    Ok(())
}

fn stored(vault: &Vault, serial: &str) -> Result<Container, CliError> {
    vault
        .container(serial)
        .map(|c| c.container.clone())
        .ok_or_else(|| CliError::Nothing(format!("no container {serial:?} in the vault")))
}

#[derive(Serialize)]
struct TransferJson {
    uri: String,
}

fn rollover(ctx: &Context, serial: &str, transfer: bool, json: bool) -> Result<(), CliError> {
    let mut opened = ctx.open()?;
    stored(&opened.vault, serial)?;
    let rng = SystemRng::new();
    let mut runner = runner(&mut opened, &rng);
    if transfer {
        let uri = runner.rollover_uri(serial)?;
        if json {
            print_json(&TransferJson {
                uri: uri.to_string(),
            })?;
        } else {
            println!("{}", terminal_safe(&uri));
            eprintln!(
                "note: register this link on the other device; this vault's copy works until it does"
            );
        }
        return Ok(());
    }
    // In place: the new key is saved whatever the sync does (the old one stopped working).
    let done = runner.rollover(serial)?;
    let out = ReportJson::new(serial, done.sync.map_err(|e| e.to_string()));
    if json {
        print_json(&out)?;
    } else {
        println!("rolled over {} (new key)", terminal_safe(serial));
        out.print_text();
    }
    match out.error {
        Some(e) => Err(CliError::ContainerSync(format!(
            "rolled over, but the sync failed: {e}"
        ))),
        None => Ok(()),
    }
}

#[derive(Serialize)]
struct UnregisterJson<'a> {
    serial: &'a str,
    unregistered: bool,
    removed_tokens: Vec<String>,
}

fn unregister(ctx: &Context, serial: &str, json: bool) -> Result<(), CliError> {
    let mut opened = ctx.open()?;
    stored(&opened.vault, serial)?;
    let rng = SystemRng::new();
    let removed = runner(&mut opened, &rng).unregister(serial)?;
    let removed_tokens: Vec<String> = removed.tokens.into_iter().map(|t| t.serial).collect();
    if json {
        print_json(&UnregisterJson {
            serial,
            unregistered: true,
            removed_tokens,
        })?;
    } else {
        println!(
            "unregistered {}; removed {} tokens from the vault",
            terminal_safe(serial),
            removed_tokens.len()
        );
    }
    Ok(())
}
