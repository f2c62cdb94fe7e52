//! Sync speed and size (`cargo bench -p twofold-core --bench sync`): one sync of a device
//! with 1,000 accounts against the replicas of two other devices (record local changes, open
//! and merge two replicas, seal its own), and the bytes of a replica with 1,000 accounts, and
//! with 1,000 accounts plus 1,000 and 10,000 removals (tombstones).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use twofold_core::otp::{Kind, OtpParams};
use twofold_core::rng::SystemRng;
use twofold_core::sync::{self, DeviceId, HlcClock, State};
use twofold_core::vault::KdfParams;
use twofold_core::{AccountEntry, Algorithm, OtpAccount, Secret};

fn entry(i: usize) -> AccountEntry {
    AccountEntry::new(OtpAccount {
        issuer: format!("Issuer {}", i % 97),
        name: format!("user{i}@example.com"),
        secret: Secret::from_bytes((0..20).map(|j| (i * 31 + j) as u8).collect()),
        params: OtpParams::new(Kind::Totp { period: 30 }, Algorithm::Sha1, 6).expect("valid"),
    })
}

fn accounts(n: usize, offset: usize) -> Vec<(String, AccountEntry, u32)> {
    (0..n)
        .map(|i| (format!("id-{}", i + offset), entry(i + offset), i as u32))
        .collect()
}

fn bench(c: &mut Criterion) {
    let rng = SystemRng::new();
    // Three devices that joined one set, each with a third of 1,000 accounts, synced once.
    let mut files = Vec::new();
    let (first, key_file) = sync::join(
        &[],
        b"pass",
        KdfParams::MIN,
        DeviceId::from_bytes([1; 16]),
        "bench 1",
        &rng,
    )
    .expect("create");
    let key_file = key_file.expect("key file");
    files.push(key_file.clone());
    let mut members = vec![first];
    for d in 2..=3u8 {
        let (m, _) = sync::join(
            &files,
            b"pass",
            KdfParams::MIN,
            DeviceId::from_bytes([d; 16]),
            "bench",
            &rng,
        )
        .expect("join");
        members.push(m);
    }
    let mut locals: Vec<_> = (0..3).map(|d| accounts(334, d * 334)).collect();
    for round in 0..2 {
        for d in 0..3 {
            let out =
                sync::sync(&mut members[d], &locals[d], &files, 1_000 + round, &rng).expect("sync");
            locals[d] = out
                .accounts
                .iter()
                .map(|v| (v.id.clone(), v.entry.clone(), v.order))
                .collect();
            files.retain(|f| f.name != out.write.name);
            files.push(out.write);
        }
    }
    let replica_bytes = files
        .iter()
        .filter(|f| f.name != key_file.name)
        .map(|f| f.bytes.len())
        .max();
    println!("accounts per device after sync: {}", locals[0].len());
    println!(
        "replica with 1,000 accounts: {} bytes",
        replica_bytes.unwrap_or(0)
    );

    let mut group = c.benchmark_group("sync");
    group.sample_size(20);
    group.bench_function("one_sync_1000_accounts_3_devices", |b| {
        b.iter(|| {
            let mut m = members[0].clone();
            let out = sync::sync(&mut m, &locals[0], &files, 5_000, &rng).expect("sync");
            black_box(out.write.bytes.len())
        })
    });
    group.finish();

    // Tombstones: remove accounts and see what a replica weighs.
    for removed in [1_000usize, 10_000] {
        let mut clock = HlcClock::new(DeviceId::from_bytes([9; 16]));
        let mut state = State::new();
        state.record_local(&accounts(1_000 + removed, 0), &mut clock, 1_000);
        state.record_local(&accounts(1_000, 0), &mut clock, 2_000);
        let key = sync::SyncKey::from_bytes([7; 32]);
        let writer = sync::Writer {
            name: "bench".into(),
            at: 2_000,
        };
        let seal = |state: &State, generation| {
            sync::replica::seal_replica(
                state,
                &writer,
                "k",
                &key,
                DeviceId::from_bytes([9; 16]),
                generation,
                &rng,
            )
            .expect("seal")
        };
        let sealed = seal(&state, 1);
        let mut pruned = state.clone();
        pruned.prune_removed_before(3_000);
        let after = seal(&pruned, 2);
        println!(
            "replica with 1,000 accounts + {removed} removals: {} bytes; after pruning old removals: {} bytes",
            sealed.len(),
            after.len()
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
