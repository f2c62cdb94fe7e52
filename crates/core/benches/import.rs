//! Import speed (`cargo bench -p twofold-core --bench import`): a 10,000-entry Aegis export,
//! plain (read + convert) and encrypted (one scrypt unwrap at Aegis's N = 2^15, then AES-GCM
//! and convert), and the same accounts added to a vault with duplicate detection. The files
//! are written by Twofold's own exporter.

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

criterion_group!(benches, import_aegis);
criterion_main!(benches);
