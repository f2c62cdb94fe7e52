//! `twofold container ...`: privacyIDEA token containers. The core builds and reads every
//! message (`twofold_core::container`), `twofold-http` carries them, and the vault keeps the
//! containers and their tokens (`docs/containers.md`).

use serde::Serialize;
use twofold_core::container::{
    Container, ContainerError, ContainerKey, Operation, Policies, Registration, is_registration_uri,
};
use twofold_core::push::privacyidea::Enrolment;
use twofold_core::push::{PhoneKey, PushAccount, Request};
use twofold_core::rng::SystemRng;
use twofold_core::vault::{ContainerSyncReport, Vault};
use twofold_core::{Clock, SystemClock, scan};
use zeroize::Zeroizing;

use crate::args::ContainerCommand;
use crate::error::CliError;
use crate::output::{print_json, terminal_safe};
use crate::vault::{Context, SAVE};

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

/// Sends a request; privacyIDEA puts its errors in the body, so any status is read by the core.
fn send(request: &Request) -> Result<Vec<u8>, CliError> {
    twofold_http::check_url(&request.url)?;
    Ok(twofold_http::send_body(request)?)
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

/// Finalizes a registration QR with a new key: the registered container.
fn finalize(
    registration: Registration,
    device_info: bool,
    ask: bool,
) -> Result<Container, CliError> {
    twofold_http::check_url(registration.server_url().as_str())?;
    let secret = match registration.passphrase_prompt() {
        Some(prompt) if ask => Some(passphrase(prompt)?),
        Some(prompt) => {
            return Err(ContainerError::PassphraseRequired(prompt.to_owned()).into());
        }
        None => None,
    };
    let model = format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
    let device = device_info.then_some((twofold_core::container::DEVICE_BRAND, model.as_str()));
    let key = ContainerKey::generate(&SystemRng::new())?;
    let pending = registration.start(key, device, secret.as_ref().map(|s| s.as_str()), now())?;
    let body = send(pending.request())?;
    Ok(pending.finish(&body, now())?)
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
        match r {
            Ok(r) => ReportJson {
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
                error: None,
            },
            Err(e) => ReportJson {
                serial: serial.to_owned(),
                added: Vec::new(),
                updated: Vec::new(),
                removed: Vec::new(),
                joined: Vec::new(),
                skipped: Vec::new(),
                error: Some(e),
            },
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

/// Enrols a PUSH token a sync brought, through the push code (RSA key, `/ttype/push`).
fn enrol_push(uri: &str) -> Result<PushAccount, CliError> {
    let enrolment = Enrolment::parse(uri, now())?;
    twofold_http::check_url(enrolment.url())?;
    let key = PhoneKey::generate(&SystemRng::new())?;
    let pending = enrolment.start(key, None, now())?;
    let body = send(pending.request())?;
    Ok(pending.finish(&body, now())?)
}

/// One container's sync, all or nothing: the vault changes only once every request
/// (challenge, sync, the enrolment of each PUSH token) has succeeded. `offer`: the OTP
/// accounts the user chose for the initial transfer (sent only when this sync is it).
fn sync_one(
    vault: &mut Vault,
    serial: &str,
    offer: &[String],
) -> Result<ContainerSyncReport, CliError> {
    let stored = vault
        .container(serial)
        .ok_or_else(|| CliError::Nothing(format!("no container {serial:?} in the vault")))?;
    let container = stored.container.clone();
    let sent = vault.container_sync_tokens(serial, offer, now())?;
    let result = (|| {
        let body = send(&container.challenge_request(Operation::Sync))?;
        let challenge = container.read_challenge(Operation::Sync, &body)?;
        let pending =
            container.sync_offering(&challenge, &sent.report, sent.offers, &SystemRng::new())?;
        let body = send(pending.request())?;
        Ok::<_, CliError>(pending.finish(&body)?)
    })();
    let reply = match result {
        Ok(r) => r,
        Err(CliError::Container(e)) if e.is_unregistered() => {
            // Gone from the server: unregistering locally is no longer the server's to refuse.
            vault.container_gone(serial);
            return Err(CliError::Container(e));
        }
        Err(e) => return Err(e),
    };
    // Only the container's own PUSH tokens are enrolled (the others are skipped with the
    // reason by apply_container_sync): no key goes to another server.
    let mut push = Vec::new();
    for a in vault.container_push_to_enrol(&reply) {
        push.push(enrol_push(&a.uri)?);
    }
    Ok(vault.apply_container_sync(&reply, push, now(), &SystemRng::new())?)
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
    // A mistyped --offer fails before anything is sent.
    for id in offer {
        opened.vault.check_offerable(id)?;
    }
    let container = finalize(registration, device_info, true)?;
    let serial = container.serial.clone();
    let server_url = container.server_url.as_str().to_owned();
    opened.vault.add_container(container);
    // Registered on the server: keep the key even if the first sync fails.
    opened.save()?;
    if !offer.is_empty() && !opened.vault.initial_transfer_open(&serial) {
        eprintln!(
            "note: the server does not ask for this device's tokens (initially_add_tokens_to_container is off); nothing offered"
        );
    }
    let sync = sync_one(&mut opened.vault, &serial, offer);
    if sync.is_ok() {
        opened.save()?;
    }
    let policies = opened
        .vault
        .container(&serial)
        .map(|c| c.container.policies)
        .unwrap_or_default();
    let failed = sync.as_ref().err().map(ToString::to_string);
    let out = RegisterJson {
        serial: serial.clone(),
        server_url,
        policies,
        sync: ReportJson::new(&serial, sync.map_err(|e| e.to_string())),
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
    for s in &serials {
        let r = sync_one(&mut opened.vault, s, &[]).map_err(|e| e.to_string());
        failed += usize::from(r.is_err());
        reports.push(ReportJson::new(s, r));
    }
    opened.save()?;
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
    let container = stored(&opened.vault, serial)?;
    if !container.policies.container_client_rollover {
        return Err(ContainerError::Forbidden("container_client_rollover (not set)").into());
    }
    let body = send(&container.challenge_request(Operation::Rollover))?;
    let challenge = container.read_challenge(Operation::Rollover, &body)?;
    let pending = container.rollover(&challenge)?;
    let body = send(pending.request())?;
    let uri = pending.finish(&body)?;
    if transfer {
        if json {
            print_json(&TransferJson { uri })?;
        } else {
            println!("{}", terminal_safe(&uri));
            eprintln!(
                "note: register this link on the other device; this vault's copy works until it does"
            );
        }
        return Ok(());
    }
    // In place: this vault finalizes the new QR with a new key, then takes the re-keyed tokens.
    let registration = Registration::parse(&uri, now())?;
    if registration.serial() != serial {
        return Err(
            ContainerError::Response("the rollover QR names another container".into()).into(),
        );
    }
    let renewed = finalize(registration, false, false)?;
    opened.vault.add_container(renewed);
    // The old key stopped working: the new one is kept whatever the sync does.
    opened.save()?;
    let report = sync_one(&mut opened.vault, serial, &[]);
    if report.is_ok() {
        opened.save()?;
    }
    let out = ReportJson::new(serial, report.map_err(|e| e.to_string()));
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
    let container = stored(&opened.vault, serial)?;
    if container.policies.disable_client_container_unregister {
        return Err(ContainerError::Forbidden("disable_client_container_unregister").into());
    }
    let challenge = send(&container.challenge_request(Operation::Unregister))
        .and_then(|body| Ok(container.read_challenge(Operation::Unregister, &body)?));
    match challenge {
        Ok(ch) => {
            let pending = container.unregister(&ch)?;
            let reply = twofold_http::send(pending.request())?;
            pending.finish_with_status(reply.status, &reply.body)?;
        }
        // Already unregistered on the server (ERR3001, ERR601).
        Err(CliError::Container(e)) if e.is_unregistered() => {}
        Err(e) => return Err(e),
    }
    // After the exchange, on the vault as it is now (another command may have saved meanwhile).
    let removed = opened.change(|vault| Ok((vault.remove_container(serial, now())?, SAVE)))?;
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
