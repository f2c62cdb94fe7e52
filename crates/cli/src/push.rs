//! `twofold push ...`: the core builds and reads the protocol's messages, this module carries
//! them over HTTP (reqwest, rustls) and keeps the vault.

use std::time::Duration;

use serde::Serialize;
use twofold_core::push::privacyidea::Enrolment;
use twofold_core::push::{Answer, DeclineReason, Method, PhoneKey, Request};
use twofold_core::rng::SystemRng;
use twofold_core::{Clock, SystemClock};

use crate::args::{PushCommand, ReasonArg};
use crate::error::CliError;
use crate::output::print_json;
use crate::vault::{Context, save};

/// How long one HTTP exchange may take.
const TIMEOUT: Duration = Duration::from_secs(20);

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

/// Sends a request and returns the reply's body, whatever its HTTP status (privacyIDEA puts
/// its errors in a JSON body). TLS certificates are checked unless the server said otherwise.
pub fn send(request: &Request) -> Result<Vec<u8>, CliError> {
    let fail = |e: reqwest::Error| {
        CliError::Http(format!(
            "cannot reach {}: {}",
            request.url,
            describe(&e.without_url())
        ))
    };
    let client = reqwest::blocking::Client::builder()
        .danger_accept_invalid_certs(!request.verify_tls)
        .timeout(TIMEOUT)
        .user_agent(concat!("twofold/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(fail)?;
    let builder = match request.method {
        Method::Get => client.get(&request.url).query(&request.params),
        Method::Post => client.post(&request.url).form(&request.params),
    };
    let reply = builder.send().map_err(fail)?;
    Ok(reply.bytes().map_err(fail)?.to_vec())
}

/// The error and its causes on one line.
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn enroll(ctx: &Context, uri: &str) -> Result<(), CliError> {
    let scanned_at = SystemClock.now();
    let enrolment = Enrolment::parse(uri, scanned_at)?;
    let (path, mut vault) = ctx.open()?;
    for w in enrolment.warnings() {
        eprintln!("warning: {w}");
    }
    let key = PhoneKey::generate(&SystemRng::new())?;
    let pending = enrolment.start(key, None, SystemClock.now())?;
    let body = send(pending.request())?;
    let account = pending.finish(&body, SystemClock.now())?;
    let serial = account.serial.clone();
    let issuer = account.issuer.clone();
    let unlock = account.requires_unlock();
    if vault.add_push_account(account) {
        eprintln!("note: {serial} was enrolled before; the new enrolment replaces it");
    }
    save(&path, &vault, false)?;
    println!("enrolled {serial} ({issuer})");
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
    let (path, mut vault) = ctx.open()?;
    let now = SystemClock.now();
    let requests = vault.poll_requests(now);
    let total = requests.len();
    let mut failures = Vec::new();
    for (serial, request) in requests {
        let result = request
            .map_err(CliError::from)
            .and_then(|r| send(&r))
            .and_then(|body| {
                vault
                    .read_poll_reply(&serial, &body, SystemClock.now())
                    .map_err(CliError::from)
            });
        match result {
            Ok(outcome) => {
                for r in outcome.rejected {
                    eprintln!("warning: {serial}: refused a sign-in request: {r}");
                }
            }
            Err(e) => failures.push(format!("{serial}: {e}")),
        }
    }
    if total > 0 && failures.len() == total {
        return Err(CliError::Http(failures.join("; ")));
    }
    for f in &failures {
        eprintln!("warning: {f}");
    }
    save(&path, &vault, false)?;
    let pending = vault.pending_challenges(SystemClock.now());
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
                "{}  {}  {}: {}{options}",
                c.nonce(),
                c.serial(),
                c.title(),
                c.question()
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
    let (path, mut vault) = ctx.open()?;
    let approve = matches!(answer, Answer::Accept { .. });
    let pending = vault.prepare_answer(nonce, answer, SystemClock.now())?;
    let body = send(pending.request())?;
    // The vault is saved whatever the reply: the answer reached the server, so its nonce is
    // spent (and logged) even when the server refused it.
    let outcome = vault.finish_answer(&pending, &body, None, SystemClock.now());
    save(&path, &vault, false)?;
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
            println!("enter this code on the sign-in page: {code}");
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
    let (_, vault) = ctx.open()?;
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
            println!("{}  {}  {}  {}", a.serial, a.issuer, a.label, a.url);
        }
    }
    Ok(())
}
