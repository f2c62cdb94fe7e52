//! `twofold push ...`: the core builds and reads the protocol's messages, `twofold-http`
//! carries them (HTTPS, no redirects, capped replies) and this module keeps the vault.

use serde::Serialize;
use twofold_core::push::privacyidea::Enrolment;
use twofold_core::push::{Answer, DeclineReason, PhoneKey};
use twofold_core::rng::SystemRng;
use twofold_core::{Clock, SystemClock};
use twofold_http::{check_url, poll_all, send_body};

use crate::args::{PushCommand, ReasonArg};
use crate::error::CliError;
use crate::output::{print_json, terminal_safe};
use crate::vault::{Context, SAVE};

pub fn run(ctx: &Context, command: PushCommand) -> Result<(), CliError> {
    match command {
        PushCommand::Enroll { uri } => enroll(ctx, &uri),
        PushCommand::Poll { json } => poll(ctx, json),
        PushCommand::Approve {
            nonce,
            answer,
            json,
        } => answer_cmd(ctx, &nonce, Answer::Accept { option: answer }, json),
        PushCommand::Deny {
            nonce,
            reason,
            json,
        } => {
            let reason = reason.map(|r| match r {
                ReasonArg::UnknownTrigger => DeclineReason::UnknownTrigger,
                ReasonArg::Cancelled => DeclineReason::Cancelled,
            });
            answer_cmd(ctx, &nonce, Answer::Decline { reason }, json)
        }
        PushCommand::List { json } => list(ctx, json),
    }
}

fn enroll(ctx: &Context, uri: &str) -> Result<(), CliError> {
    let scanned_at = SystemClock.now();
    let enrolment = Enrolment::parse(uri, scanned_at)?;
    // Refused before the key is made or anything is sent: plain HTTP to another machine.
    check_url(enrolment.url())?;
    let mut opened = ctx.open()?;
    for w in enrolment.warnings() {
        eprintln!("warning: {}", terminal_safe(&w.to_string()));
    }
    let key = PhoneKey::generate(&SystemRng::new())?;
    let pending = enrolment.start(key, None, SystemClock.now())?;
    let body = send_body(pending.request())?;
    let account = pending.finish(&body, SystemClock.now())?;
    let serial = account.serial.clone();
    let issuer = account.issuer.clone();
    let unlock = account.requires_unlock();
    // The server answered: the account goes into the vault as it is now.
    if opened.change(|vault| Ok((vault.add_push_account(account), SAVE)))? {
        eprintln!(
            "note: {} was enrolled before; the new enrolment replaces it",
            terminal_safe(&serial)
        );
    }
    println!(
        "enrolled {} ({})",
        terminal_safe(&serial),
        terminal_safe(&issuer)
    );
    if unlock {
        eprintln!("note: the server asks for device authentication before each approval");
    }
    Ok(())
}

#[derive(Serialize)]
struct ChallengeJson<'a> {
    serial: &'a str,
    nonce: &'a str,
    title: &'a str,
    question: &'a str,
    options: Option<&'a [String]>,
    received_at: u64,
}

fn poll(ctx: &Context, json: bool) -> Result<(), CliError> {
    let mut opened = ctx.open()?;
    let replies = poll_all(opened.vault.poll_requests(SystemClock.now()));
    // The replies are read into the vault as it is after the requests, under the lock.
    let round =
        opened.change(|vault| Ok((vault.read_poll_replies(replies, SystemClock.now())?, SAVE)))?;
    for (serial, r) in &round.rejected {
        eprintln!(
            "warning: {}: refused a sign-in request: {r}",
            terminal_safe(serial)
        );
    }
    for (serial, e) in &round.failed {
        eprintln!(
            "warning: {}: {}",
            terminal_safe(serial),
            terminal_safe(&e.to_string())
        );
    }
    let pending = opened.vault.pending_challenges(SystemClock.now());
    if json {
        let list: Vec<ChallengeJson> = pending
            .iter()
            .map(|c| ChallengeJson {
                serial: c.serial(),
                nonce: c.nonce(),
                title: c.title(),
                question: c.question(),
                options: c.options(),
                received_at: c.received_at(),
            })
            .collect();
        print_json(&list)?;
    } else {
        for c in pending {
            let options = c
                .options()
                .map(|o| format!("  [options: {}]", o.join(", ")))
                .unwrap_or_default();
            println!(
                "{}  {}  {}: {}{}",
                terminal_safe(c.nonce()),
                terminal_safe(c.serial()),
                terminal_safe(c.title()),
                terminal_safe(c.question()),
                terminal_safe(&options)
            );
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct AnswerJson {
    accepted: bool,
    display_code: Option<String>,
}

fn answer_cmd(ctx: &Context, nonce: &str, answer: Answer, json: bool) -> Result<(), CliError> {
    let mut opened = ctx.open()?;
    let approve = matches!(answer, Answer::Accept { .. });
    let pending = opened
        .vault
        .prepare_answer(nonce, answer, SystemClock.now())?;
    let body = send_body(pending.request())?;
    // The vault is saved whatever the reply: the answer reached the server, so its nonce is
    // spent (and logged) even when the server refused it.
    let outcome = opened.change(|vault| {
        Ok((
            vault.finish_answer(&pending, &body, None, SystemClock.now()),
            SAVE,
        ))
    })?;
    let outcome = outcome?;
    if json {
        print_json(&AnswerJson {
            accepted: outcome.accepted,
            display_code: outcome.display_code,
        })?;
    } else {
        match (outcome.accepted, approve) {
            (true, true) => println!("approved"),
            (true, false) => println!("denied"),
            (false, _) => {
                println!("not accepted by the server (a wrong option can be answered again)")
            }
        }
        if let Some(code) = outcome.display_code {
            println!(
                "enter this code on the sign-in page: {}",
                terminal_safe(&code)
            );
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct PushAccountJson<'a> {
    serial: &'a str,
    issuer: &'a str,
    label: &'a str,
    url: &'a str,
}

fn list(ctx: &Context, json: bool) -> Result<(), CliError> {
    let vault = ctx.open()?.vault;
    if json {
        let list: Vec<PushAccountJson> = vault
            .push_accounts()
            .iter()
            .map(|a| PushAccountJson {
                serial: &a.serial,
                issuer: &a.issuer,
                label: &a.label,
                url: &a.url,
            })
            .collect();
        print_json(&list)?;
    } else {
        for a in vault.push_accounts() {
            println!(
                "{}  {}  {}  {}",
                terminal_safe(&a.serial),
                terminal_safe(&a.issuer),
                terminal_safe(&a.label),
                terminal_safe(&a.url)
            );
        }
    }
    Ok(())
}
