//! Push costs on one core (`cargo bench -p twofold-core --bench push`): RSA-4096 phone key
//! generation (`rsa`, once per enrolment; its time varies with the prime search), signing a poll
//! with it and verifying a server-signed challenge (`ring`, on every poll).

use std::hint::black_box;

use base64::Engine as _;
use criterion::{Criterion, criterion_group, criterion_main};
use twofold_core::push::privacyidea::{NO_PUSH_TOKEN, poll_message, verify_challenge};
use twofold_core::push::{PhoneKey, PushAccount, ServerKey};
use twofold_core::rng::SystemRng;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/push/");

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{VECTORS}{name}")).expect("test vector")
}

fn push(c: &mut Criterion) {
    let mut group = c.benchmark_group("push");
    group.sample_size(10);
    group.bench_function("keygen_rsa4096", |b| {
        b.iter(|| black_box(PhoneKey::generate(&SystemRng::new()).expect("key")))
    });
    let key = PhoneKey::generate(&SystemRng::new()).expect("key");
    group.bench_function("sign_poll_rsa4096", |b| {
        b.iter(|| {
            black_box(
                key.sign(poll_message("PIPU0001A2B3", "2026-11-27T17:47:00+00:00").as_bytes())
                    .expect("signature"),
            )
        })
    });
    let der = base64::engine::general_purpose::STANDARD
        .decode(read("phone-key-2048.pk8.b64").trim())
        .expect("base64");
    let account = PushAccount {
        protocol: "privacyidea".into(),
        serial: "PIPU0001A2B3".into(),
        issuer: String::new(),
        label: String::new(),
        url: "https://pi.example.com/ttype/push".into(),
        verify_tls: true,
        poll_only: true,
        require_pin: false,
        force_unlock: None,
        phone_key: PhoneKey::from_pkcs8(&der).expect("key"),
        server_key: ServerKey::from_base64(&read("server-key.pkcs1.b64")).expect("key"),
        push_token: NO_PUSH_TOKEN.into(),
        enrolled_at: 0,
    };
    let line = read("challenges.jsonl");
    let last = line.lines().last().expect("a vector");
    let challenge =
        serde_json::from_str::<serde_json::Value>(last).expect("JSON")["challenge"].clone();
    group.bench_function("verify_challenge_rsa4096_with_capabilities", |b| {
        b.iter(|| black_box(verify_challenge(&account, &challenge, 0).expect("verifies")))
    });
    group.finish();
}

criterion_group!(benches, push);
criterion_main!(benches);
