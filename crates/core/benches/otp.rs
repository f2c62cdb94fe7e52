//! Codes per second per algorithm on one core (`cargo bench -p twofold-core --bench otp`).
//! The key is prepared once per account ([`Generator`]), as a list refresh does; each code is
//! one HMAC plus the decimal rendering.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use twofold_core::otp::{Generator, Kind, OtpParams};
use twofold_core::{Algorithm, Secret};

fn codes(c: &mut Criterion) {
    let mut group = c.benchmark_group("codes");
    group.throughput(Throughput::Elements(1));
    for (alg, len) in [
        (Algorithm::Sha1, 20),
        (Algorithm::Sha256, 32),
        (Algorithm::Sha512, 64),
    ] {
        let secret = Secret::from_bytes(vec![0x5a; len]);
        let params = OtpParams::new(Kind::Totp { period: 30 }, alg, 6).expect("valid");
        let generator = Generator::new(&secret, params);
        let mut t = 1_700_000_000u64;
        group.bench_function(BenchmarkId::new("totp", alg.as_str()), |b| {
            b.iter(|| {
                t += 30;
                black_box(generator.code_at(black_box(t)))
            })
        });
    }
    let secret = Secret::from_bytes(vec![0x5a; 20]);
    let hotp = Generator::new(
        &secret,
        OtpParams::new(Kind::Hotp { counter: 0 }, Algorithm::Sha1, 6).expect("valid"),
    );
    let mut counter = 0u64;
    group.bench_function(BenchmarkId::new("hotp", "SHA1"), |b| {
        b.iter(|| {
            counter += 1;
            black_box(hotp.code_at_counter(black_box(counter)))
        })
    });
    let steam = Generator::new(&secret, OtpParams::steam(30).expect("valid"));
    let mut t = 1_700_000_000u64;
    group.bench_function(BenchmarkId::new("steam", "SHA1"), |b| {
        b.iter(|| {
            t += 30;
            black_box(steam.code_at(black_box(t)))
        })
    });
    group.finish();
}

criterion_group!(benches, codes);
criterion_main!(benches, parts_group);

fn parts(c: &mut Criterion) {
    let secret = Secret::from_bytes(vec![0x5a; 20]);
    let g = Generator::new(
        &secret,
        OtpParams::new(Kind::Hotp { counter: 0 }, Algorithm::Sha1, 6).expect("valid"),
    );
    let mut counter = 0u64;
    c.bench_function("parts/truncate_sha1", |b| {
        b.iter(|| {
            counter += 1;
            black_box(g.truncated(black_box(counter)))
        })
    });
}
criterion_group!(parts_group, parts);
