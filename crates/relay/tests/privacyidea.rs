//! The real privacyIDEA 3.14 (the CLI suite's fixture, `tests/cli/privacyidea.rs`) with an HTTP
//! gateway pointing at the real twofold-relay on 127.0.0.1: trigger → privacyIDEA's gateway
//! POST → the relay → a Web Push receiver; Python's http_ece decrypts, and the challenge's
//! signature is checked with the app's own `verify_challenge` against the server's key. The
//! device is the app's vault: enrolled with its device token, moved to a new endpoint with the
//! signed `new_fb_token` update (the server takes it), each message read by `Vault::read_pushed`.
//! Named `privacyidea_3_14_*`: `tests/run` runs it in its real-server step.

#[allow(dead_code)]
#[path = "../../../tests/cli/privacyidea.rs"]
mod privacyidea;
mod support;
use privacyidea::venv;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};
use support::*;
use twofold_core::push::PhoneKey;
use twofold_core::push::privacyidea::{Enrolment, verify_challenge};
use twofold_core::rng::SystemRng;
use twofold_core::vault::{EndpointChange, KdfParams, Vault};

fn b64d(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn privacyidea_3_14_gateway_to_the_relay_to_web_push() {
    if std::env::var_os("TWOFOLD_SKIP_PRIVACYIDEA").is_some() {
        println!(
            "SKIPPED privacyidea_3_14_gateway_to_the_relay_to_web_push: TWOFOLD_SKIP_PRIVACYIDEA is set"
        );
        return;
    }
    let venv = match venv() {
        Ok(v) => v,
        Err(reason) => {
            println!("SKIPPED privacyidea_3_14_gateway_to_the_relay_to_web_push: {reason}");
            return;
        }
    };
    let pi = privacyidea::PiServer::start().unwrap_or_else(|e| panic!("privacyIDEA fixture: {e}"));
    pi.configure();

    // The stand-in Web Push service and the relay. The stand-in runs on its own runtime: the
    // fixture's client is blocking.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut receiver = runtime.block_on(StandIn::start(StandInOptions {
        responder: responder(|_| reply(StatusCode::CREATED, "")),
        tls: None,
        gated: false,
        capture: true,
    }));
    let dir = tempfile::tempdir().unwrap();
    write_vapid(dir.path());
    // Only privacyIDEA may use the relay: the gateway sends the bearer token as a header.
    std::fs::write(
        dir.path().join("token"),
        "pi-gateway-token-0123456789abcdef\n",
    )
    .unwrap();
    let relay = Relay::start(
        dir.path(),
        "listen = \"127.0.0.1:0\"\nallow_private_endpoints = true\nbearer_token_file = \"token\"\n\
         [webpush]\nvapid_private_key = \"vapid.pem\"\nsubject = \"mailto:admin@example.org\"\n",
    );

    // privacyIDEA's gateway, as docs/relay.md tells an administrator to set it up.
    pi.relay_gateway(&relay.base, Some("pi-gateway-token-0123456789abcdef"));

    // The phone's Web Push registration, as the app makes it (the vault's), and its device
    // token as the push token of the enrolment.
    let rng = SystemRng::new();
    let mut vault = Vault::create(b"pw", KdfParams::MIN, &rng).unwrap();
    let connection = vault
        .ensure_push_registration(&rng)
        .unwrap()
        .0
        .connection()
        .to_owned();
    let first_endpoint = format!("http://{}/wpush/v2/alice-phone", receiver.addr);
    assert_eq!(
        vault
            .set_push_endpoint(&connection, &first_endpoint)
            .unwrap(),
        EndpointChange::Changed
    );
    let device_token = vault.push_device_token().unwrap();
    // The independent decryption needs the private key: the vault's stored form holds it.
    let stored = serde_json::to_value(vault.push_registration().unwrap()).unwrap();
    let device = Device {
        token: device_token.clone(),
        private: b64d(stored["secret"].as_str().unwrap()).try_into().unwrap(),
        auth: b64d(stored["auth"].as_str().unwrap()).try_into().unwrap(),
    };
    let (qr, serial) = pi.enrol_token("alice");
    let enrolment = Enrolment::parse(&qr, now()).unwrap();
    let key = PhoneKey::generate_bits(&SystemRng::new(), 2048).unwrap();
    let pending = enrolment.start(key, Some(&device.token), now()).unwrap();
    let request = pending.request();
    let reply = reqwest::blocking::Client::new()
        .post(&request.url)
        .form(&request.params)
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    let account = pending.finish(&reply, now()).unwrap();
    assert_eq!(pi.token_info(&serial)["rollout_state"], "enrolled");
    vault.add_push_account(account.clone());
    assert!(
        vault.push_token_updates(now()).is_empty(),
        "enrolled with it"
    );

    // The distributor gives a new endpoint: privacyIDEA takes the signed new_fb_token update,
    // and its gateway posts with the new device token from then on.
    let endpoint = format!("http://{}/wpush/v2/alice-phone-2", receiver.addr);
    assert_eq!(
        vault.set_push_endpoint(&connection, &endpoint).unwrap(),
        EndpointChange::Changed
    );
    let updates = vault.push_token_updates(now());
    assert_eq!(updates.len(), 1);
    let update = updates.into_iter().next().unwrap().1.unwrap();
    let reply = reqwest::blocking::Client::new()
        .post(&update.request().url)
        .form(&update.request().params)
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    vault
        .finish_token_update(&update, &reply)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&reply)));
    assert!(vault.push_token_updates(now()).is_empty());
    assert_ne!(vault.push_device_token().unwrap(), device_token);

    // Trigger: privacyIDEA posts to the relay, which delivers to the device.
    let mut figures = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let (tx, triggered) = pi.trigger("alice");
        let got = runtime.block_on(receiver.next());
        let delivered = started.elapsed();
        let message = triggered["detail"]["message"].as_str().unwrap_or("");
        assert!(!message.contains("polling feature"), "{triggered}");
        figures.push(delivered.as_secs_f64() * 1000.0);
        assert_eq!(got.uri.path(), "/wpush/v2/alice-phone-2");
        assert_eq!(got.header("content-encoding"), "aes128gcm");
        let plain = independent(
            &venv,
            json!([{"op": "decrypt", "body": b64(&got.body), "private_key": b64(&device.private), "auth": b64(&device.auth)}]),
        );
        let challenge: Value =
            serde_json::from_str(plain[0]["plaintext"].as_str().unwrap()).unwrap();
        // The app's own check: privacyIDEA's signature over every field, with the server's key.
        let verified = verify_challenge(&account, &challenge, now())
            .unwrap_or_else(|e| panic!("{e}: {challenge}"));
        assert_eq!(verified.serial(), serial);
        assert_eq!(challenge["serial"], serial.as_str());
        assert!(
            challenge["question"]
                .as_str()
                .unwrap()
                .starts_with("Sign-in to")
        );
        assert_eq!(pi.challenge_status(&tx), "pending");
        // The app's path: decrypted with the vault's registration, verified as a polled
        // challenge, pending once (a redelivery is not new).
        let news = vault.read_pushed(&got.body, now()).unwrap();
        assert!(news.new);
        assert_eq!(news.serial, serial);
        assert_eq!(news.nonce, challenge["nonce"].as_str().unwrap());
        assert!(!vault.read_pushed(&got.body, now()).unwrap().new);
        assert!(
            vault
                .pending_challenges(now())
                .iter()
                .any(|c| c.nonce() == news.nonce)
        );
    }
    figures.sort_by(f64::total_cmp);
    let log = relay.log.lock().unwrap().join("\n");
    assert!(
        !log.contains("Sign-in to") && !log.contains("alice-phone"),
        "{log}"
    );
    assert!(log.contains("delivered"), "{log}");
    // The relay's own part: from the gateway's POST to the push service's answer (its log).
    let mut relay_ms: Vec<u64> = log
        .lines()
        .filter(|l| l.contains("delivered"))
        .filter_map(|l| {
            l.split("ms=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect();
    relay_ms.sort_unstable();
    println!(
        "privacyIDEA 3.14 trigger → gateway POST → twofold-relay → Web Push receiver: median of 3 \
         {:.0} ms (min {:.0}, max {:.0}); the relay's part (POST arrived → receiver answered): {relay_ms:?} ms",
        figures[1], figures[0], figures[2]
    );
    drop(relay);
    drop(receiver);
    runtime.shutdown_timeout(Duration::from_secs(5));
}
