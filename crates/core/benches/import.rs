//! Import speed (`cargo bench -p twofold-core --bench import`): a 10,000-entry Aegis export,
//! plain (read + convert) and encrypted (one scrypt unwrap at Aegis's N = 2^15, then AES-GCM
//! and convert), and the same accounts added to a vault with duplicate detection. The files
//! are written by Twofold's own exporter.
//!
//! Encrypted Ente Auth and Bitwarden exports of 1,000 accounts, sealed here as the apps seal
//! them (libsodium secretstream; EncString type 2): "kdf_excluded" with the cheapest
//! parameters the formats allow (Argon2id 8 KiB × 1 pass; PBKDF2 1 iteration), so the time is
//! reading, decrypting and converting; "kdf_included" with the apps' own defaults (Ente:
//! 256 MiB × 16 passes; Bitwarden: PBKDF2 600,000 iterations, and Argon2id 64 MiB × 3 × 4).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use twofold_core::AccountEntry;
use twofold_core::export::{self, ExportFormat};
use twofold_core::import::{self, Format};
use twofold_core::otp::{Kind, OtpParams};
use twofold_core::rng::SystemRng;
use twofold_core::vault::{KdfParams, Vault};
use twofold_core::{Algorithm, OtpAccount, Secret};

const N: usize = 10_000;

fn entries() -> Vec<AccountEntry> {
    (0..N)
        .map(|i| {
            let mut e = AccountEntry::new(OtpAccount {
                issuer: format!("Issuer {}", i % 97),
                name: format!("user{i}@example.com"),
                secret: Secret::from_bytes((0..20).map(|j| (i * 31 + j) as u8).collect()),
                params: OtpParams::new(Kind::Totp { period: 30 }, Algorithm::Sha1, 6)
                    .expect("valid"),
            });
            e.groups = vec![format!("Group {}", i % 7)];
            e
        })
        .collect()
}

fn import_aegis(c: &mut Criterion) {
    let rng = SystemRng::new();
    let all = entries();
    let plain = export::export(&all, ExportFormat::AegisPlain, None, &rng).expect("export");
    let sealed = export::export(&all, ExportFormat::Aegis, Some(b"bench"), &rng).expect("export");
    let mut group = c.benchmark_group("import_aegis_10k");
    group.sample_size(10);
    group.bench_function("plain_read_convert", |b| {
        b.iter(|| {
            let r = import::import(black_box(&plain.bytes), Some(Format::Aegis), None);
            assert_eq!(r.expect("import").entries.len(), N);
        })
    });
    group.bench_function("encrypted_read_decrypt_convert", |b| {
        b.iter(|| {
            let r = import::import(
                black_box(&sealed.bytes),
                Some(Format::Aegis),
                Some(b"bench"),
            );
            assert_eq!(r.expect("import").entries.len(), N);
        })
    });
    group.bench_function("plain_import_into_vault", |b| {
        b.iter(|| {
            let report = import::import(&plain.bytes, Some(Format::Aegis), None).expect("import");
            let mut v = Vault::create(b"bench", KdfParams::MIN, &rng).expect("vault");
            v.add_all(report.entries, 1_700_000_000, &rng).expect("add");
            black_box(v.accounts().len())
        })
    });
    group.finish();
}

const N_ENCRYPTED: usize = 1_000;

/// The accounts as one otpauth URI a line (what both apps' exports hold).
fn uris() -> Vec<String> {
    entries()
        .into_iter()
        .take(N_ENCRYPTED)
        .map(|e| twofold_core::uri::write(&e.account).to_string())
        .collect()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// An Ente Auth encrypted export with `mem_limit` bytes and `ops_limit` passes.
fn ente(password: &[u8], mem_limit: u32, ops_limit: u32) -> Vec<u8> {
    let salt = [3u8; 16];
    let params = argon2::Params::new(mem_limit / 1024, ops_limit, 1, Some(32)).expect("params");
    let mut key = [0u8; 32];
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(password, &salt, &mut key)
        .expect("argon2");
    let key = crypto_secretstream::Key::from(key);
    let (header, mut stream) = crypto_secretstream::PushStream::init(rand_core::OsRng, &key);
    let mut data = uris().join("\n").into_bytes();
    stream
        .push(&mut data, &[], crypto_secretstream::Tag::Final)
        .expect("push");
    serde_json::json!({
        "version": 1,
        "kdfParams": {"memLimit": mem_limit, "opsLimit": ops_limit, "salt": b64(&salt)},
        "encryptedData": b64(&data),
        "encryptionNonce": b64(header.as_ref()),
    })
    .to_string()
    .into_bytes()
}

/// A Bitwarden password-protected export: PBKDF2 (`iterations`) or Argon2id (`argon`: MiB,
/// passes, lanes).
fn bitwarden(password: &[u8], iterations: u32, argon: Option<(u32, u32, u32)>) -> Vec<u8> {
    use aes::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
    let salt = "YmVuY2hzYWx0YmVuY2hzYWx0";
    let mut key = [0u8; 32];
    match argon {
        None => ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            std::num::NonZeroU32::new(iterations).expect("iterations"),
            salt.as_bytes(),
            password,
            &mut key,
        ),
        Some((mib, passes, lanes)) => {
            let params = argon2::Params::new(mib * 1024, passes, lanes, Some(32)).expect("params");
            let salt = ring::digest::digest(&ring::digest::SHA256, salt.as_bytes());
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                .hash_password_into(password, salt.as_ref(), &mut key)
                .expect("argon2");
        }
    }
    let prk = ring::hkdf::Prk::new_less_safe(ring::hkdf::HKDF_SHA256, &key);
    let expand = |info: &[u8]| {
        let mut out = [0u8; 32];
        prk.expand(&[info], ring::hkdf::HKDF_SHA256)
            .expect("expand")
            .fill(&mut out)
            .expect("fill");
        out
    };
    let (enc, mac) = (expand(b"enc"), expand(b"mac"));
    let seal = |iv: [u8; 16], plain: &[u8]| {
        let ct = cbc::Encryptor::<aes::Aes256>::new_from_slices(&enc, &iv)
            .expect("cbc")
            .encrypt_padded_vec::<Pkcs7>(plain);
        let tag = ring::hmac::sign(
            &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &mac),
            &[&iv[..], &ct].concat(),
        );
        format!("2.{}|{}|{}", b64(&iv), b64(&ct), b64(tag.as_ref()))
    };
    let items: Vec<serde_json::Value> = uris()
        .into_iter()
        .enumerate()
        .map(|(i, uri)| {
            serde_json::json!({"type": 1, "name": format!("Item {i}"),
                "login": {"username": format!("user{i}"), "totp": uri}})
        })
        .collect();
    let plain = serde_json::json!({"encrypted": false, "folders": [], "items": items}).to_string();
    let (kdf_type, memory, lanes, iterations) = match argon {
        None => (0, None, None, iterations),
        Some((mib, passes, lanes)) => (1, Some(mib), Some(lanes), passes),
    };
    serde_json::json!({
        "encrypted": true, "passwordProtected": true, "salt": salt,
        "kdfType": kdf_type, "kdfIterations": iterations, "kdfMemory": memory,
        "kdfParallelism": lanes,
        "encKeyValidation_DO_NOT_EDIT": seal([1; 16], b"check"),
        "data": seal([2; 16], plain.as_bytes()),
    })
    .to_string()
    .into_bytes()
}

fn import_encrypted_1k(c: &mut Criterion) {
    let files = [
        ("ente_kdf_excluded", Format::Ente, ente(b"bench", 8192, 1)),
        (
            "ente_kdf_included_256mib_x16",
            Format::Ente,
            ente(b"bench", 256 << 20, 16),
        ),
        (
            "bitwarden_kdf_excluded",
            Format::Bitwarden,
            bitwarden(b"bench", 1, None),
        ),
        (
            "bitwarden_kdf_included_pbkdf2_600k",
            Format::Bitwarden,
            bitwarden(b"bench", 600_000, None),
        ),
        (
            "bitwarden_kdf_included_argon2id_64mib_x3_x4",
            Format::Bitwarden,
            bitwarden(b"bench", 0, Some((64, 3, 4))),
        ),
    ];
    let mut group = c.benchmark_group("import_encrypted_1k");
    group.sample_size(10);
    for (name, format, bytes) in &files {
        group.bench_function(*name, |b| {
            b.iter(|| {
                let r = import::import(black_box(bytes), Some(*format), Some(b"bench"));
                assert_eq!(r.expect("import").entries.len(), N_ENCRYPTED);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, import_aegis, import_encrypted_1k);
criterion_main!(benches);
