//! Golden vectors of privacyIDEA containers: a real exchange with privacyIDEA 3.14
//! (`tests/vectors/container_sync.json`, the facts file's test vectors): the register and sync
//! messages are rebuilt by the named functions, the server-accepted signature verifies with
//! `ring` (P-384, SHA-256), our own signature verifies the same way, the public key PEM, the
//! X25519 public key and shared secret, and the reply's AES-256-GCM (16-byte IV) decryption.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use data_encoding::HEXLOWER;
use ring::signature::{ECDSA_P384_SHA256_ASN1, UnparsedPublicKey};
use serde_json::{Value, json};
use twofold_core::container::{
    Container, ContainerKey, OpenChallenge, Operation, Policies, Registration, ReportedToken,
    SyncKey, aes_gcm16_open, container_dict_client, endpoint_url, path, register_message,
    sync_message,
};

fn vectors() -> Value {
    let text = include_str!("vectors/container_sync.json");
    serde_json::from_str(text).unwrap()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("{k}"))
}

fn key(v: &Value) -> ContainerKey {
    ContainerKey::from_scalar(
        &HEXLOWER
            .decode(s(v, "p384_private_scalar_hex").as_bytes())
            .unwrap(),
    )
    .unwrap()
}

fn tokens(v: &Value) -> Vec<ReportedToken> {
    serde_json::from_value(v["tokens"].clone()).unwrap()
}

#[test]
fn register_message_of_the_real_qr() {
    let v = vectors();
    let r = &v["register"];
    let reg = Registration::parse(s(r, "qr"), 0).unwrap();
    assert_eq!(reg.serial(), "SMPH0008F19E");
    assert_eq!(reg.server_url().as_str(), "http://127.0.0.1:5066/");
    assert!(!reg.verify_tls());
    assert_eq!(reg.passphrase_prompt(), None);
    let scope = endpoint_url(reg.server_url().as_str(), path::FINALIZE);
    assert_eq!(scope, "http://127.0.0.1:5066/container/register/finalize");
    assert_eq!(
        register_message(
            "8e1afc836697758b55388f9f441d256097c976f9",
            "2026-12-01T21:17:26.235976+00:00",
            "SMPH0008F19E",
            &scope,
            s(r, "device_brand"),
            s(r, "device_model"),
            ""
        ),
        s(r, "message")
    );
    // The request Registration::start builds signs exactly that message.
    let k = key(&v);
    let p = reg
        .start(k.clone(), Some(("Twofold", "CLI")), None, 0)
        .unwrap();
    let req = p.request();
    assert_eq!(req.url, scope);
    assert_eq!(req.param("container_serial"), Some("SMPH0008F19E"));
    assert_eq!(req.param("device_brand"), Some("Twofold"));
    assert_eq!(req.param("passphrase"), None);
    assert_eq!(
        req.param("public_client_key"),
        Some(s(&v, "public_key_pem"))
    );
    verify(&k, s(r, "message"), req.param("signature").unwrap());
}

fn verify(k: &ContainerKey, message: &str, sig_b64: &str) {
    let sig = STANDARD.decode(sig_b64).unwrap();
    UnparsedPublicKey::new(&ECDSA_P384_SHA256_ASN1, k.public_key_sec1().unwrap())
        .verify(message.as_bytes(), &sig)
        .unwrap_or_else(|_| panic!("signature does not verify over {message}"));
}

#[test]
fn sync_vector_signature_key_and_message() {
    let v = vectors();
    let k = key(&v);
    assert_eq!(k.public_key_pem().unwrap(), s(&v, "public_key_pem"));
    // The signature the server accepted verifies with ring's P-384/SHA-256.
    verify(&k, s(&v, "message"), s(&v, "signature_der_base64"));
    // The named functions rebuild the signed message byte for byte.
    let dict = container_dict_client(s(&v, "serial"), &tokens(&v));
    let scope = endpoint_url(s(&v, "server_url"), path::SYNC);
    let msg = sync_message(
        s(&v, "nonce"),
        s(&v, "time_stamp"),
        s(&v, "serial"),
        &scope,
        s(&v, "client_x25519_public_base64"),
        &dict,
    );
    assert_eq!(msg, s(&v, "message"));
    // A tampered message does not verify.
    let sig = STANDARD.decode(s(&v, "signature_der_base64")).unwrap();
    let tampered = msg.replace("OATH0004A5AF", "OATH0004A5AE");
    assert!(
        UnparsedPublicKey::new(&ECDSA_P384_SHA256_ASN1, k.public_key_sec1().unwrap())
            .verify(tampered.as_bytes(), &sig)
            .is_err()
    );
}

fn sync_key(v: &Value) -> SyncKey {
    let b: [u8; 32] = STANDARD
        .decode(s(v, "client_x25519_private_base64"))
        .unwrap()
        .try_into()
        .unwrap();
    SyncKey::from_bytes(b)
}

#[test]
fn sync_vector_x25519_and_aes_gcm_16_byte_iv() {
    let v = vectors();
    let sk = sync_key(&v);
    assert_eq!(sk.public_base64(), s(&v, "client_x25519_public_base64"));
    let server: [u8; 32] = URL_SAFE
        .decode(s(&v, "public_server_key"))
        .unwrap()
        .try_into()
        .unwrap();
    let shared = sk.shared_secret(&server).unwrap();
    assert_eq!(HEXLOWER.encode(&*shared), s(&v, "shared_secret_hex"));
    let iv = URL_SAFE.decode(s(&v, "init_vector")).unwrap();
    let tag = URL_SAFE.decode(s(&v, "tag")).unwrap();
    let ct = URL_SAFE.decode(s(&v, "container_dict_server")).unwrap();
    let plain = aes_gcm16_open(&shared, &iv, &ct, &tag).unwrap();
    assert_eq!(std::str::from_utf8(&plain).unwrap(), s(&v, "plaintext"));
    // Any altered byte fails authentication.
    let mut bad = ct.clone();
    bad[0] ^= 1;
    assert!(aes_gcm16_open(&shared, &iv, &bad, &tag).is_none());
    assert!(aes_gcm16_open(&shared, &iv[..12], &ct, &tag).is_none());
}

fn container(v: &Value) -> Container {
    Container {
        serial: s(v, "serial").into(),
        issuer: "privacyIDEA".into(),
        server_url: twofold_core::server_url::ServerUrl::parse(s(v, "server_url")).unwrap(),
        verify_tls: false,
        key: key(v),
        policies: Policies::default(),
        registered_at: 0,
        last_sync: None,
    }
}

/// The whole sync through the state types: the request is the vector's (but for the
/// signature's random-free RFC 6979 nonce) and the server's reply decrypts into the update.
#[test]
fn sync_vector_through_the_states() {
    let v = vectors();
    let c = container(&v);
    let ch = OpenChallenge::new(Operation::Sync, s(&v, "nonce"), s(&v, "time_stamp"));
    let pending = c.sync_with_key(&ch, &tokens(&v), sync_key(&v)).unwrap();
    let req = pending.request();
    assert_eq!(req.url, "http://127.0.0.1:5066/container/synchronize");
    assert_eq!(
        req.param("public_enc_key_client"),
        Some(s(&v, "client_x25519_public_base64"))
    );
    verify(&c.key, s(&v, "message"), req.param("signature").unwrap());
    let policies = json!({"container_client_rollover": true, "disable_client_container_unregister": false,
        "disable_client_token_deletion": true, "initially_add_tokens_to_container": false});
    let reply = json!({"result": {"status": true, "value": {
        "container_dict_server": s(&v, "container_dict_server"),
        "encryption_algorithm": "AES",
        "encryption_params": {"algorithm": "AES", "mode": "GCM",
            "init_vector": s(&v, "init_vector"), "tag": s(&v, "tag")},
        "public_server_key": s(&v, "public_server_key"),
        "policies": policies, "server_url": s(&v, "server_url")}}});
    let out = pending.finish(reply.to_string().as_bytes()).unwrap();
    assert!(out.add.is_empty());
    assert_eq!(out.update.len(), 1);
    assert_eq!(out.update[0].serial, "OATH0004A5AF");
    assert_eq!(out.update[0].counter, Some(0));
    assert!(out.policies.container_client_rollover && out.policies.disable_client_token_deletion);

    // A tampered tag is refused (nothing decrypted).
    let mut bad = reply.clone();
    bad["result"]["value"]["encryption_params"]["tag"] = json!("AAAAAAAAAAAAAAAAAAAAAA==");
    let pending = c.sync_with_key(&ch, &tokens(&v), sync_key(&v)).unwrap();
    assert_eq!(
        pending.finish(bad.to_string().as_bytes()).unwrap_err(),
        twofold_core::container::ContainerError::Decrypt
    );
}

mod hostile {
    use proptest::prelude::*;
    use twofold_core::container::{Policies, Registration, read_sync_plaintext};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Any text after the scheme is a clean error or a checked registration, never a panic.
        #[test]
        fn registration_qr_never_panics(rest in "\\PC{0,200}", q in "[a-z_=&%0-9A-F:/.+]{0,200}") {
            let _ = Registration::parse(&format!("pia://container/{rest}?{q}"), 0);
        }

        /// Any decrypted token list is read or refused, never a panic.
        #[test]
        fn sync_plaintext_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = read_sync_plaintext("SMPH1", &bytes, Policies::default());
        }

        /// Token lists of any shape: each add entry is taken or named as skipped.
        #[test]
        fn every_add_entry_is_taken_or_skipped(
            entries in proptest::collection::vec("otpauth://(totp|hotp|pipush|spass)/[A-Z0-9]{1,8}\\?(secret=GEZDGNBV&)?serial=[A-Z0-9|]{0,8}", 0..20)
        ) {
            let body = serde_json::json!({"container": {"serial": "SMPH1"}, "tokens": {"add": entries, "update": []}});
            let r = read_sync_plaintext("SMPH1", body.to_string().as_bytes(), Policies::default()).unwrap();
            prop_assert_eq!(r.add.len() + r.skipped.len(), entries.len());
        }
    }
}
