//! URIs parsed per second (`cargo bench -p twofold-core --bench uri`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use twofold_core::otp::{Kind, OtpParams};
use twofold_core::{Algorithm, OtpAccount, Secret, migration, uri};

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(1));
    let typical = "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30";
    group.bench_function("otpauth", |b| {
        b.iter(|| black_box(uri::parse(black_box(typical))))
    });
    let quirky = "otpauth://hotp/Air%20Canada:Benjamin?secret=kuvj-jom7 53ih-tnds-zvcn-kl7g-ii%3D%3D&issuer=Air+Canada&algorithm=sha256&digits=7&counter=50&codeDisplay=%7B%22pinned%22%3Afalse%2C%22trashed%22%3Afalse%7D";
    group.bench_function("otpauth_quirky", |b| {
        b.iter(|| black_box(uri::parse(black_box(quirky))))
    });
    let accounts: Vec<OtpAccount> = (0..10)
        .map(|i| OtpAccount {
            issuer: format!("Issuer {i}"),
            name: format!("user{i}@example.com"),
            secret: Secret::from_bytes(vec![i as u8; 20]),
            params: OtpParams::new(Kind::Totp { period: 30 }, Algorithm::Sha1, 6).expect("valid"),
        })
        .collect();
    let export = migration::write(&accounts, 1);
    let batch = export.uris[0].clone();
    group.bench_function("migration_10_accounts", |b| {
        b.iter(|| black_box(migration::parse_uri(black_box(&batch))))
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
