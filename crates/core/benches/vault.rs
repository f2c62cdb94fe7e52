//! Vault speed (`cargo bench -p twofold-core --bench vault`): open + decrypt + parse and save
//! of vaults with 100, 1,000 and 10,000 accounts, beyond the KDF (opened through a device
//! slot, which costs one AES-GCM unwrap); and one unlock at the calibrated Argon2id
//! parameters of this machine.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Instant;
use twofold_core::otp::{Kind, OtpParams};
use twofold_core::rng::SystemRng;
use twofold_core::vault::{KdfParams, Vault};
use twofold_core::{Algorithm, OtpAccount, Secret};

fn vault(n: usize, rng: &SystemRng) -> Vault {
    let mut v = Vault::create(b"bench", KdfParams::MIN, rng).expect("create");
    for i in 0..n {
        let a = OtpAccount {
            issuer: format!("Issuer {}", i % 97),
            name: format!("user{i}@example.com"),
            secret: Secret::from_bytes((0..20).map(|j| (i * 31 + j) as u8).collect()),
            params: OtpParams::new(Kind::Totp { period: 30 }, Algorithm::Sha1, 6).expect("valid"),
        };
        v.add(a, 1_700_000_000, rng).expect("add");
    }
    v
}

fn open_and_save(c: &mut Criterion) {
    let rng = SystemRng::new();
    let kek = [9u8; 32];
    let mut group = c.benchmark_group("vault");
    group.sample_size(20);
    for n in [100usize, 1_000, 10_000] {
        let mut v = vault(n, &rng);
        v.add_device_slot("bench", &kek, &rng).expect("slot");
        let bytes = v.to_bytes(&rng).expect("save");
        group.bench_with_input(
            BenchmarkId::new("open_decrypt_parse", n),
            &bytes,
            |b, bytes| {
                b.iter(|| black_box(Vault::open_with_device_key(bytes, &kek).expect("open")))
            },
        );
        group.bench_with_input(BenchmarkId::new("save", n), &v, |b, v| {
            b.iter(|| black_box(v.to_bytes(&rng).expect("save")))
        });
    }
    group.finish();
}

fn unlock(_c: &mut Criterion) {
    let rng = SystemRng::new();
    let t = Instant::now();
    let params = KdfParams::calibrate().expect("calibrate");
    println!(
        "calibration took {:.2} s and chose {params:?}",
        t.elapsed().as_secs_f64()
    );
    let v = Vault::create(b"bench", params, &rng).expect("create");
    let bytes = v.to_bytes(&rng).expect("save");
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        black_box(Vault::open(&bytes, b"bench").expect("open"));
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "unlock at calibrated parameters: median {:.3} s of 5",
        times[2]
    );
}

criterion_group!(benches, open_and_save, unlock);
criterion_main!(benches);
