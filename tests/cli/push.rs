//! `twofold push ...` against a real privacyIDEA 3.14 on loopback (the fixture in
//! `privacyidea.rs`), plus the core's token update. One server serves every scenario in turn;
//! the figures (median trigger -> visible, approve -> accept) are printed for the CI log.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use twofold_core::push::{PrivacyIdea, PushProtocol, Request};
use twofold_core::vault::{Vault, file};
use twofold_core::{Clock, SystemClock};

use crate::privacyidea::{PIN, PiServer};
use crate::{assert_error, stderr, stdout};

const PASSWORD: &str = "push-test-pw";

fn tw(vault: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twofold"))
        .arg("--vault")
        .arg(vault)
        .args(args)
        .env_remove("TWOFOLD_VAULT")
        .env("TWOFOLD_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .output()
        .expect("the twofold binary runs")
}

fn ok_json(vault: &Path, args: &[&str]) -> Value {
    let o = tw(vault, args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap_or_else(|_| panic!("{args:?}: {}", stdout(&o)))
}

/// Polls through the CLI until a challenge for `serial` that is not in `seen` shows up.
fn wait_for_challenge(vault: &Path, serial: &str, seen: &[String]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = ok_json(vault, &["push", "poll", "--json"]);
        if let Some(c) = list
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["serial"] == serial && !seen.iter().any(|s| c["nonce"] == s.as_str()))
        {
            return c.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no challenge for {serial} within 10 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The core's requests over HTTP, through the transport the app and the CLI use.
fn send(r: &Request) -> Vec<u8> {
    twofold_http::send_body(r).unwrap()
}

fn open(vault: &Path) -> Vault {
    Vault::open(&file::read(vault).unwrap(), PASSWORD.as_bytes()).unwrap()
}

fn temp_vault(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("twofold-push-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.join("vault.json")
}

/// The push commands' failures, with no server: typed errors, exit codes, nothing stored.
#[test]
fn push_commands_without_a_server() {
    let v = temp_vault("offline");
    assert!(tw(&v, &["init", "--kdf", "minimum"]).status.success());
    assert_eq!(
        ok_json(&v, &["push", "list", "--json"]),
        serde_json::json!([])
    );
    assert_eq!(
        ok_json(&v, &["push", "poll", "--json"]),
        serde_json::json!([])
    );
    let err = assert_error(
        &tw(&v, &["push", "enroll", "otpauth://totp/x?secret=AA"]),
        1,
    );
    assert!(err.contains("not a privacyIDEA push"), "{err}");
    let err = assert_error(&tw(&v, &["push", "approve", "NONCE", "--json"]), 1);
    assert!(err.contains("no pending sign-in request"), "{err}");
    assert_error(&tw(&v, &["push", "deny", "NONCE", "--reason", "bogus"]), 2);
    let before = std::fs::read(&v).unwrap();
    // Nobody listens on port 1: the enrolment fails after key generation, nothing is stored,
    // and the credential is not in the message.
    let qr = "otpauth://pipush/PIPU0001?url=http%3A//127.0.0.1%3A1/ttype/push&ttl=10&issuer=x&enrollment_credential=0123456789abcdef0123456789abcdef01234567&v=1&serial=PIPU0001&sslverify=1&poll_only=True";
    let err = assert_error(&tw(&v, &["push", "enroll", qr]), 1);
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert!(!err.contains("0123456789abcdef"), "{err}");
    assert_eq!(std::fs::read(&v).unwrap(), before);
    // A wrong vault password is exit 3, as for every vault command.
    let o = Command::new(env!("CARGO_BIN_EXE_twofold"))
        .arg("--vault")
        .arg(&v)
        .args(["push", "list"])
        .env("TWOFOLD_PASSWORD", "wrong")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_error(&o, 3);
}

/// Serves `reply` (raw HTTP) to every connection on 127.0.0.1; counts the connections.
fn serve_raw(reply: Vec<u8>) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if line == "\r\n" {
                    break;
                }
                line.clear();
            }
            // The client may hang up early on an oversized reply.
            let _ = stream.write_all(&reply);
        }
    });
    (format!("http://{addr}/ttype/push"), hits)
}

fn pipush_qr(url: &str) -> String {
    let url = url.replace(':', "%3A");
    format!(
        "otpauth://pipush/PIPU0001?url={url}&ttl=10&issuer=x&enrollment_credential=0123456789abcdef0123456789abcdef01234567&v=1&serial=PIPU0001&sslverify=1&poll_only=True"
    )
}

/// The transport's rules through `twofold push enroll`: a redirect is not followed, an
/// oversized reply is refused, plain HTTP to another machine is refused before anything is
/// sent; nothing is stored.
#[test]
fn push_enroll_refuses_redirects_oversized_replies_and_plain_http() {
    let v = temp_vault("transport");
    assert!(tw(&v, &["init", "--kdf", "minimum"]).status.success());
    let before = std::fs::read(&v).unwrap();

    let (target, target_hits) =
        serve_raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".to_vec());
    let redirect = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n"
    );
    let (url, hits) = serve_raw(redirect.into_bytes());
    let err = assert_error(&tw(&v, &["push", "enroll", &pipush_qr(&url)]), 1);
    assert!(err.contains("redirect"), "{err}");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(target_hits.load(std::sync::atomic::Ordering::SeqCst), 0);

    let mut big = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
        twofold_http::MAX_BODY_BYTES + 1
    )
    .into_bytes();
    big.resize(big.len() + twofold_http::MAX_BODY_BYTES + 1, b'x');
    let (url, _) = serve_raw(big);
    let err = assert_error(&tw(&v, &["push", "enroll", &pipush_qr(&url)]), 1);
    assert!(err.contains("larger than"), "{err}");

    let err = assert_error(
        &tw(
            &v,
            &["push", "enroll", &pipush_qr("http://192.0.2.7/ttype/push")],
        ),
        1,
    );
    assert!(err.contains("only https://"), "{err}");
    assert_eq!(std::fs::read(&v).unwrap(), before, "nothing stored");
}

#[test]
fn privacyidea_3_14_end_to_end() {
    if std::env::var_os("TWOFOLD_SKIP_PRIVACYIDEA").is_some() {
        println!("SKIPPED privacyidea_3_14_end_to_end: TWOFOLD_SKIP_PRIVACYIDEA is set");
        return;
    }
    let suite = Instant::now();
    let pi = PiServer::start().unwrap_or_else(|e| panic!("privacyIDEA fixture: {e}"));
    println!(
        "privacyIDEA 3.14 up on {} after {:.1} s",
        pi.base,
        suite.elapsed().as_secs_f64()
    );
    pi.configure();
    let mut keygen: Vec<f64> = (0..3)
        .map(|_| {
            let t = Instant::now();
            twofold_core::push::PhoneKey::generate(&twofold_core::rng::SystemRng::new()).unwrap();
            t.elapsed().as_secs_f64()
        })
        .collect();
    let v = temp_vault("privacyidea");
    let o = tw(&v, &["init", "--kdf", "minimum"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // ----- enrolment -----
    let (qr_alice, alice) = pi.enrol_token("alice");
    // A wrong credential is refused by the server (ERR905) and leaves nothing behind.
    let forged = qr_alice.replace("enrollment_credential=", "enrollment_credential=0");
    let err = assert_error(&tw(&v, &["push", "enroll", &forged]), 1);
    assert!(err.contains("905"), "{err}");
    assert_eq!(
        ok_json(&v, &["push", "list", "--json"]),
        serde_json::json!([])
    );

    let t = Instant::now();
    let o = tw(&v, &["push", "enroll", &qr_alice]);
    let enrol_secs = t.elapsed().as_secs_f64();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("sslverify=0"),
        "the TLS warning: {}",
        stderr(&o)
    );
    assert_eq!(pi.token_info(&alice)["rollout_state"], "enrolled");
    let (qr_bob, bob) = pi.enrol_token("bob");
    assert!(tw(&v, &["push", "enroll", &qr_bob]).status.success());
    let (qr_carol, carol) = pi.enrol_token("carol");
    assert!(
        tw(
            &v,
            &["push", "enroll", &qr_carol.replace("otpauth://", "pia://")]
        )
        .status
        .success()
    );
    let list = ok_json(&v, &["push", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert_eq!(list[0]["serial"], alice.as_str());
    assert_eq!(list[0]["issuer"], "privacyIDEA");
    assert_eq!(list[0]["url"], format!("{}/ttype/push", pi.base));
    // Push accounts are not OTP accounts.
    assert_eq!(ok_json(&v, &["list", "--json"]), serde_json::json!([]));
    println!("enrolment through the CLI (RSA-4096 key generation included): {enrol_secs:.2} s");

    // ----- trigger -> poll -> approve -> polltransaction accept -> finalize ACCEPT -----
    let mut seen: Vec<String> = Vec::new();
    let mut visible = Vec::new();
    let mut trigger_call = Vec::new();
    let mut after_trigger = Vec::new();
    let mut accepted = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let (tx, _) = pi.trigger("alice");
        let triggered = t.elapsed().as_secs_f64();
        let c = wait_for_challenge(&v, &alice, &seen);
        visible.push(t.elapsed().as_secs_f64());
        trigger_call.push(triggered);
        after_trigger.push(t.elapsed().as_secs_f64() - triggered);
        let nonce = c["nonce"].as_str().unwrap().to_owned();
        seen.push(nonce.clone());
        assert_eq!(c["title"], "Twofold test");
        assert!(
            c["question"].as_str().unwrap().contains("from 127.0.0.1"),
            "{c}"
        );
        assert_eq!(c["options"], Value::Null);
        assert_eq!(pi.challenge_status(&tx), "pending");

        let t = Instant::now();
        let a = ok_json(&v, &["push", "approve", &nonce, "--json"]);
        assert_eq!(
            a,
            serde_json::json!({"accepted": true, "display_code": null})
        );
        assert_eq!(pi.challenge_status(&tx), "accept");
        accepted.push(t.elapsed().as_secs_f64());
        assert_eq!(pi.finalize("alice", "", &tx), "ACCEPT");

        // Replay: refused by us, before anything is sent.
        let err = assert_error(&tw(&v, &["push", "approve", &nonce, "--json"]), 1);
        assert!(err.contains("already answered"), "{err}");
    }

    // The same, timed through the core alone (what the app's 3 s poll does).
    let mut core_visible = Vec::new();
    let mut core_accepted = Vec::new();
    for _ in 0..3 {
        let mut vault = open(&v);
        let t = Instant::now();
        let (tx, _) = pi.trigger("alice");
        let serial = alice.as_str();
        let challenge = loop {
            let req = vault
                .poll_requests(SystemClock.now())
                .into_iter()
                .find(|(s, _)| s == serial)
                .unwrap()
                .1
                .unwrap();
            let out = vault
                .read_poll_reply(serial, &send(&req), SystemClock.now())
                .unwrap();
            assert!(out.rejected.is_empty(), "{:?}", out.rejected);
            if let Some(c) = out
                .challenges
                .into_iter()
                .find(|c| !seen.iter().any(|s| s == c.nonce()))
            {
                break c;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        core_visible.push(t.elapsed().as_secs_f64());
        // 3.14's signed capabilities verified (RFC 8785 form) and allow decline reasons.
        assert!(challenge.decline_reasons());
        seen.push(challenge.nonce().to_owned());
        let t = Instant::now();
        let p = vault
            .prepare_answer(
                challenge.nonce(),
                twofold_core::push::Answer::Accept { option: None },
                SystemClock.now(),
            )
            .unwrap();
        let out = vault
            .finish_answer(&p, &send(p.request()), None, SystemClock.now())
            .unwrap();
        assert!(out.accepted);
        assert_eq!(pi.challenge_status(&tx), "accept");
        core_accepted.push(t.elapsed().as_secs_f64());
        assert_eq!(pi.finalize("alice", "", &tx), "ACCEPT");
        file::write_atomic(
            &v,
            &vault
                .to_bytes(&twofold_core::rng::SystemRng::new())
                .unwrap(),
            false,
        )
        .unwrap();
    }

    // ----- decline with a reason -> declined -----
    let (tx, _) = pi.trigger("alice");
    let c = wait_for_challenge(&v, &alice, &seen);
    let nonce = c["nonce"].as_str().unwrap().to_owned();
    seen.push(nonce.clone());
    let d = ok_json(
        &v,
        &[
            "push",
            "deny",
            &nonce,
            "--reason",
            "unknown_trigger",
            "--json",
        ],
    );
    assert_eq!(
        d,
        serde_json::json!({"accepted": true, "display_code": null})
    );
    assert_eq!(pi.challenge_status(&tx), "declined");
    assert_ne!(pi.finalize("alice", "", &tx), "ACCEPT");
    assert_error(&tw(&v, &["push", "deny", &nonce]), 1);

    // ----- number matching: wrong, then right -----
    let (tx, reply) = pi.trigger("bob");
    let right = reply["detail"]["presence_answer"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = wait_for_challenge(&v, &bob, &seen);
    let nonce = c["nonce"].as_str().unwrap().to_owned();
    seen.push(nonce.clone());
    let options: Vec<String> = c["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(options.len(), 3);
    assert!(options.contains(&right));
    let wrong = options.iter().find(|o| **o != right).unwrap();
    // Approving without an option, or with one not offered, is refused by us.
    assert_error(&tw(&v, &["push", "approve", &nonce]), 1);
    assert_error(&tw(&v, &["push", "approve", &nonce, "--answer", "xx"]), 1);
    let a = ok_json(
        &v,
        &["push", "approve", &nonce, "--answer", wrong, "--json"],
    );
    assert_eq!(a["accepted"], false);
    assert_eq!(pi.challenge_status(&tx), "pending");
    let a = ok_json(
        &v,
        &["push", "approve", &nonce, "--answer", &right, "--json"],
    );
    assert_eq!(a["accepted"], true);
    assert_eq!(pi.challenge_status(&tx), "accept");
    assert_eq!(pi.finalize("bob", "", &tx), "ACCEPT");

    // ----- code to phone -----
    let (tx, _) = pi.trigger("carol");
    let c = wait_for_challenge(&v, &carol, &seen);
    let nonce = c["nonce"].as_str().unwrap().to_owned();
    seen.push(nonce.clone());
    let a = ok_json(&v, &["push", "approve", &nonce, "--json"]);
    assert_eq!(a["accepted"], true);
    let code = a["display_code"]
        .as_str()
        .expect("a display code")
        .to_owned();
    assert_eq!(code.len(), 2, "{code}");
    assert!(code.chars().all(|c| c.is_ascii_digit()));
    assert_ne!(pi.finalize("carol", "", &tx), "ACCEPT");
    assert_eq!(pi.finalize("carol", &code, &tx), "ACCEPT");

    // ----- two tokens on one server, answered apart -----
    let (tx_a, _) = pi.trigger("alice");
    let (tx_b, reply) = pi.trigger("bob");
    let right = reply["detail"]["presence_answer"]
        .as_str()
        .unwrap()
        .to_owned();
    let ca = wait_for_challenge(&v, &alice, &seen);
    let cb = wait_for_challenge(&v, &bob, &seen);
    let (na, nb) = (ca["nonce"].as_str().unwrap(), cb["nonce"].as_str().unwrap());
    assert_ne!(na, nb);
    let pending = ok_json(&v, &["push", "poll", "--json"]);
    assert_eq!(pending.as_array().unwrap().len(), 2, "{pending}");
    let o = tw(&v, &["push", "deny", na, "--reason", "cancelled"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("denied"));
    assert!(
        ok_json(&v, &["push", "approve", nb, "--answer", &right, "--json"])["accepted"] == true
    );
    assert_eq!(pi.challenge_status(&tx_a), "cancelled");
    assert_eq!(pi.challenge_status(&tx_b), "accept");
    seen.extend([na.to_owned(), nb.to_owned()]);

    // ----- Firebase-token update, through the core -----
    let mut vault = open(&v);
    let account = vault.push_account(&alice).unwrap().clone();
    assert_eq!(
        pi.token_info(&alice)["info"]["firebase_token"],
        "no_firebase_token"
    );
    // A stale timestamp (more than 5 minutes off) is refused by the server.
    let stale = PrivacyIdea
        .update_token(&account, "stale-token", SystemClock.now() - 600)
        .unwrap();
    assert!(
        PrivacyIdea
            .read_update(&stale, &send(stale.request()))
            .is_err()
    );
    let p = PrivacyIdea
        .update_token(&account, "fcm:twofold-test-token-1", SystemClock.now())
        .unwrap();
    PrivacyIdea.read_update(&p, &send(p.request())).unwrap();
    vault.set_push_token(&alice, p.new_token()).unwrap();
    file::write_atomic(
        &v,
        &vault
            .to_bytes(&twofold_core::rng::SystemRng::new())
            .unwrap(),
        false,
    )
    .unwrap();
    assert_eq!(
        pi.token_info(&alice)["info"]["firebase_token"],
        "fcm:twofold-test-token-1"
    );
    assert_eq!(
        open(&v).push_account(&alice).unwrap().push_token,
        "fcm:twofold-test-token-1"
    );

    // ----- expiry: a 3 s challenge life on the server -----
    pi.set_config("PushChallengeValidityTime", "3");
    let (tx, _) = pi.trigger("alice");
    let c = wait_for_challenge(&v, &alice, &seen);
    let nonce = c["nonce"].as_str().unwrap().to_owned();
    seen.push(nonce.clone());
    std::thread::sleep(Duration::from_secs(4));
    // The server no longer offers it...
    let mut vault = open(&v);
    let req = vault
        .poll_requests(SystemClock.now())
        .into_iter()
        .find(|(s, _)| *s == alice)
        .unwrap()
        .1
        .unwrap();
    let out = vault
        .read_poll_reply(&alice, &send(&req), SystemClock.now())
        .unwrap();
    assert!(out.challenges.iter().all(|c| c.nonce() != nonce));
    // ...and does not take a late answer; the sign-in fails.
    let o = tw(&v, &["push", "approve", &nonce, "--json"]);
    let late: Option<Value> = serde_json::from_str(&stdout(&o)).ok();
    println!(
        "late approval after the server's 3 s: exit {:?}, {}{}",
        o.status.code(),
        stdout(&o).trim(),
        stderr(&o).trim()
    );
    assert!(late.is_none_or(|l| l["accepted"] == false));
    assert_ne!(pi.challenge_status(&tx), "accept");
    assert_ne!(pi.finalize("alice", "", &tx), "ACCEPT");
    pi.set_config("PushChallengeValidityTime", "120");

    // The activity log has every decision, with no location from the CLI.
    let log = open(&v).push_activity().to_vec();
    assert!(log.len() >= 14, "{}", log.len());
    assert!(log.iter().all(|e| e.location.is_none()));

    println!(
        "privacyIDEA figures (median of {} / {} / {} rounds):",
        visible.len(),
        core_visible.len(),
        accepted.len()
    );
    println!(
        "  trigger request itself (POST /validate/check with user and PIN, server side): {:.3} s",
        median(&mut trigger_call)
    );
    println!(
        "  trigger -> challenge visible, CLI poll (process + vault unlock + HTTP + verify): {:.3} s",
        median(&mut visible)
    );
    println!(
        "  trigger returned -> challenge visible, CLI poll: {:.3} s",
        median(&mut after_trigger)
    );
    println!(
        "  trigger -> challenge visible, core poll (HTTP + verify): {:.3} s",
        median(&mut core_visible)
    );
    println!(
        "  approve -> server accept (CLI approve + polltransaction): {:.3} s",
        median(&mut accepted)
    );
    println!(
        "  approve -> server accept, core (sign + HTTP + polltransaction): {:.3} s",
        median(&mut core_accepted)
    );
    println!(
        "  RSA-4096 phone key generation (rsa crate, this build): {:.2} s",
        median(&mut keygen)
    );
    println!(
        "privacyIDEA suite: {:.1} s (PIN {PIN}, server {})",
        suite.elapsed().as_secs_f64(),
        pi.base
    );
}
