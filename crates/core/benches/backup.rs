//! The restore drill (`cargo bench -p twofold-core --bench backup`): a backup of a vault of
//! 1,000 and 10,000 accounts opened with the vault's key and compared with the vault, as the
//! app does after each automatic backup and `twofold backup check` does (reading the file from
//! disk aside: a few milliseconds for 10,000 accounts' 2 MB).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use twofold_core::otp::{Kind, OtpParams};
use twofold_core::rng::SystemRng;
use twofold_core::vault::{KdfParams, Vault};
use twofold_core::{AccountEntry, Algorithm, OtpAccount, Secret, backup};

fn vault(n: usize) -> Vault {
    let rng = SystemRng::new();
    let mut v = Vault::create(b"bench", KdfParams::MIN, &rng).expect("vault");
    let entries = (0..n).map(|i| {
        AccountEntry::new(OtpAccount {
            issuer: format!("Issuer {}", i % 97),
            name: format!("user{i}@example.com"),
            secret: Secret::from_bytes((0..20).map(|j| (i * 31 + j) as u8).collect()),
            params: OtpParams::new(Kind::Totp { period: 30 }, Algorithm::Sha1, 6).expect("valid"),
        })
    });
    v.add_all(entries, 1_700_000_000, &rng).expect("add");
    v
}

fn restore_drill(c: &mut Criterion) {
    let mut group = c.benchmark_group("restore_drill");
    group.sample_size(10);
    for n in [1_000, 10_000] {
        let v = vault(n);
        let bytes = v.to_bytes(&SystemRng::new()).expect("seal");
        group.bench_function(format!("{n}_accounts"), |b| {
            b.iter(|| {
                let c = backup::check(black_box(&bytes), &v, None).expect("check");
                assert!(c.restores_everything() && c.matching == n);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, restore_drill);
criterion_main!(benches);
