//! The key file, replicas and re-key notices: sealed, opened, and every change caught
//! (`sync::replica`, `sync::key_file`, `sync::notice`).

use super::hlc::DeviceId;
use super::replica::*;
use super::state::State;
use crate::rng::SystemRng;
use crate::sync::hlc::HlcClock;
use crate::vault::KdfParams;
use crate::{AccountEntry, Algorithm, Kind, OtpAccount, OtpParams, Secret};

fn state() -> State {
    let mut c = HlcClock::new(DeviceId::from_bytes([1; 16]));
    let mut s = State::new();
    let account = OtpAccount {
        issuer: "ACME".into(),
        name: "alice".into(),
        secret: Secret::from_bytes(b"12345678901234567890".to_vec()),
        params: OtpParams::new(Kind::Totp { period: 30 }, Algorithm::Sha1, 6).unwrap(),
    };
    s.upsert("x", AccountEntry::new(account), 0, c.tick(1_000));
    s
}

#[test]
fn key_file_opens_with_the_passphrase_only() {
    let rng = SystemRng::new();
    let (id, key, file) = create_key_file(b"correct horse", KdfParams::MIN, &rng).unwrap();
    assert_eq!(kind_of(&file), FileKind::KeyFile);
    let (id2, key2) = open_key_file(&file, b"correct horse").unwrap();
    assert_eq!((id2, key2.expose()), (id, key.expose()));
    assert_eq!(
        open_key_file(&file, b"wrong").unwrap_err(),
        KeyFileError::WrongPassphrase
    );
    assert!(!String::from_utf8_lossy(&file).contains("correct horse"));
    assert_eq!(format!("{key:?}"), "SyncKey(..)");
}

#[test]
fn key_file_costs_are_capped_before_any_work() {
    let rng = SystemRng::new();
    let (_, _, file) = create_key_file(b"pw", KdfParams::MIN, &rng).unwrap();
    let text = String::from_utf8(file).unwrap();
    let hostile = text.replace(
        &format!("\"memory_kib\":{}", KdfParams::MIN.memory_kib),
        "\"memory_kib\":4294967295",
    );
    assert_eq!(
        open_key_file(hostile.as_bytes(), b"pw").unwrap_err(),
        KeyFileError::KdfRefused
    );
}

#[test]
fn replicas_round_trip_and_any_change_is_caught() {
    let rng = SystemRng::new();
    let key = SyncKey::from_bytes([9; 32]);
    let device = DeviceId::from_bytes([2; 16]);
    let s = state();
    let writer = Writer {
        name: "Pixel\u{7}".into(),
        at: 5,
    };
    let file = seal_replica(&s, &writer, "k1", &key, device, 7, &rng).unwrap();
    assert_eq!(kind_of(&file), FileKind::Replica);
    let text = String::from_utf8(file.clone()).unwrap();
    assert!(!text.contains("alice") && !text.contains("ACME") && !text.contains("Pixel"));
    let opened = open_replica(&file, &[("k1", &key)]).unwrap();
    assert_eq!(
        (opened.header.device, opened.header.generation),
        (device, 7)
    );
    assert_eq!(opened.state, s);
    // The name is kept clean: no control character.
    assert_eq!(
        opened.writer,
        Some(Writer {
            name: "Pixel".into(),
            at: 5
        })
    );

    // Another device's id, or an older generation, in the header: refused.
    let swapped = text.replace(&device.to_hex(), &"03".repeat(16));
    assert_eq!(
        open_replica(swapped.as_bytes(), &[("k1", &key)]).unwrap_err(),
        ReplicaError::Altered
    );
    let rolled = text.replace("\"generation\":7", "\"generation\":6");
    assert_eq!(
        open_replica(rolled.as_bytes(), &[("k1", &key)]).unwrap_err(),
        ReplicaError::Altered
    );
    // One byte of the content changed: a Base64 character inside the ciphertext, whose six
    // bits all count (the last one before the padding carries bits a decoder ignores, so
    // changing it could leave the bytes as they were: it did in 15 of 40 runs).
    let mut flipped = file.clone();
    let inside = text.find('\n').unwrap() + 10;
    flipped[inside] = if flipped[inside] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        open_replica(&flipped, &[("k1", &key)]).unwrap_err(),
        ReplicaError::Altered
    );
    assert_eq!(
        open_replica(&file, &[("k2", &key)]).unwrap_err(),
        ReplicaError::UnknownKey
    );
    assert_eq!(
        open_replica(&file, &[("k1", &SyncKey::from_bytes([8; 32]))]).unwrap_err(),
        ReplicaError::Altered
    );
    assert_eq!(kind_of(b"garbage"), FileKind::Unknown);
}
