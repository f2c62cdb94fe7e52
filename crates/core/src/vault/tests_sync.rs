//! The merged accounts of a sync taken into the vault ([`Vault::apply_synced`]): edits kept by
//! id with the vault's own fields, new accounts added, the others removed and restorable, over
//! thousands of accounts; and the time it takes, printed (`vault::sync`).

use std::collections::BTreeMap;
use std::time::Instant;

use super::{KdfParams, RemovedBy, Vault};
use crate::otp::{Algorithm, Kind, OtpParams};
use crate::rng::SystemRng;
use crate::sync::{DeviceId, Visible};
use crate::{AccountEntry, OtpAccount, Secret};

const T0: u64 = 1_700_000_000;

fn visible(i: usize, note: &str, groups: &[&str]) -> Visible {
    let mut entry = AccountEntry::new(OtpAccount {
        issuer: format!("Issuer {}", i % 97),
        name: format!("user{i}@example.com"),
        secret: Secret::from_bytes((0..20).map(|j| (i * 31 + j) as u8).collect()),
        params: OtpParams::new(Kind::Totp { period: 30 }, Algorithm::Sha1, 6).unwrap(),
    });
    entry.note = note.to_owned();
    entry.groups = groups.iter().map(|g| (*g).to_owned()).collect();
    Visible {
        id: format!("id-{i}"),
        entry,
        order: i as u32,
    }
}

#[test]
fn a_merge_of_thousands_keeps_edits_by_id_adds_the_new_and_records_the_removed() {
    const N: usize = 3_000;
    let rng = SystemRng::new();
    let mut v = Vault::create(b"pw", KdfParams::MIN, &rng).unwrap();
    let first: Vec<Visible> = (0..N).map(|i| visible(i, "", &["Work"])).collect();
    v.apply_synced(&first, &BTreeMap::new(), T0, &rng).unwrap();
    assert_eq!(v.accounts().len(), N);
    assert_eq!(v.groups().len(), 1);

    // Every third account is removed elsewhere, every other edited; N/2 new ones arrive.
    let remover = DeviceId::from_bytes([7; 16]);
    let mut removed_by = BTreeMap::new();
    let mut merged = Vec::new();
    for i in 0..N {
        if i % 3 == 0 {
            removed_by.insert(format!("id-{i}"), remover);
        } else if i % 2 == 0 {
            merged.push(visible(i, "edited", &["Work", "Home"]));
        } else {
            merged.push(visible(i, "", &["Work"]));
        }
    }
    merged.extend((N..N + N / 2).map(|i| visible(i, "new", &[])));
    v.apply_synced(&merged, &removed_by, T0 + 60, &rng).unwrap();

    assert_eq!(v.accounts().len(), merged.len());
    assert_eq!(v.groups().len(), 2);
    for (a, m) in v.accounts().iter().zip(&merged) {
        assert_eq!(a.id, m.id);
        assert_eq!(a.note, m.entry.note);
        assert_eq!(a.order, m.order);
        assert_eq!(a.groups.len(), m.entry.groups.len());
        // Kept by id: a kept account is the same account (added at T0), a new one is new.
        let i: usize = a.id["id-".len()..].parse().unwrap();
        assert_eq!(a.created, if i < N { T0 } else { T0 + 60 }, "{}", a.id);
    }
    let removed = v.removed(T0 + 60);
    assert_eq!(removed.len(), N.div_ceil(3));
    assert!(removed.iter().all(|r| {
        r.account.id["id-".len()..].parse::<usize>().unwrap() % 3 == 0
            && r.by == RemovedBy::Sync(remover.to_hex())
    }));
}

/// `cargo test -p twofold-core --lib apply_synced_speed -- --ignored --nocapture`: the time of
/// taking a merge of 10,000 accounts into a vault holding them (each one edited), printed.
#[test]
#[ignore = "prints a measurement"]
fn apply_synced_speed() {
    const N: usize = 10_000;
    let rng = SystemRng::new();
    let mut v = Vault::create(b"pw", KdfParams::MIN, &rng).unwrap();
    let first: Vec<Visible> = (0..N).map(|i| visible(i, "", &["Work"])).collect();
    let start = Instant::now();
    v.apply_synced(&first, &BTreeMap::new(), T0, &rng).unwrap();
    let into_empty = start.elapsed();
    let edited: Vec<Visible> = (0..N).map(|i| visible(i, "edited", &["Work"])).collect();
    let start = Instant::now();
    v.apply_synced(&edited, &BTreeMap::new(), T0 + 1, &rng)
        .unwrap();
    let into_full = start.elapsed();
    assert_eq!(v.accounts().len(), N);
    println!(
        "apply_synced of {N} records: into an empty vault {into_empty:?}, \
         into a vault holding them {into_full:?}"
    );
}
