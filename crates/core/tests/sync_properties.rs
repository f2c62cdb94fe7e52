//! Property tests of the sync merge (`docs/sync.md`): three devices make random offline changes
//! and sync with each other in random orders; their states, merged in any order and grouping,
//! converge to one; merging a state with itself or with any older state of any device changes
//! nothing (so a stale copy can undo no removal); HOTP counters never go back. With clocks
//! skewed near the 24-hour bound (`docs/sync.md`, "Time"), no device merges or adopts a stamp
//! beyond it, and a local edit made after any sync sticks. A restore of a removed account (the
//! vault's recently removed, `docs/vault.md`) wins over the removal it undoes on every device.
//! A re-key notice (`docs/sync.md`, "Removing a device") changed anywhere, or opened under
//! another key, is refused.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use twofold_core::sync::{DeviceId, HlcClock, MAX_AHEAD_MS, State};
use twofold_core::{AccountEntry, Algorithm, Kind, OtpAccount, OtpParams, Secret};

const DEVICES: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    Add { hotp: bool, seed: u8 },
    Edit { pick: usize, seed: u8 },
    Remove { pick: usize },
    Next { pick: usize, by: u64 },
    Restore { pick: usize },
    Sync { from: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<bool>(), any::<u8>()).prop_map(|(hotp, seed)| Op::Add { hotp, seed }),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(pick, seed)| Op::Edit { pick, seed }),
        1 => any::<usize>().prop_map(|pick| Op::Remove { pick }),
        1 => (any::<usize>(), 1u64..5).prop_map(|(pick, by)| Op::Next { pick, by }),
        1 => any::<usize>().prop_map(|pick| Op::Restore { pick }),
        3 => (0..DEVICES).prop_map(|from| Op::Sync { from }),
    ]
}

fn account(seed: u8, hotp: bool) -> AccountEntry {
    let kind = if hotp {
        Kind::Hotp { counter: 0 }
    } else {
        Kind::Totp { period: 30 }
    };
    AccountEntry::new(OtpAccount {
        issuer: format!("Issuer {}", seed % 7),
        name: format!("user{seed}"),
        secret: Secret::from_bytes(vec![seed; 20]),
        params: OtpParams::new(kind, Algorithm::Sha1, 6).unwrap(),
    })
}

/// A device: its vault's accounts, its synced state and clock, and every state it published.
struct Device {
    vault: Vec<(String, AccountEntry, u32)>,
    state: State,
    clock: HlcClock,
    skew_ms: u64,
    published: Vec<State>,
    added: usize,
    /// What left the vault (removed here or by a sync), as the vault's recently removed keeps it.
    removed: Vec<(String, AccountEntry, u32)>,
}

impl Device {
    fn new(n: usize, skew_ms: u64) -> Self {
        Device {
            vault: Vec::new(),
            state: State::new(),
            clock: HlcClock::new(DeviceId::from_bytes([n as u8 + 1; 16])),
            skew_ms,
            published: Vec::new(),
            added: 0,
            removed: Vec::new(),
        }
    }

    /// Records local changes, merges `incoming` (unless it is stamped too far ahead: then
    /// false), takes the merged accounts into the vault and publishes its state: one sync as a
    /// front end will run it.
    fn sync(&mut self, incoming: Option<&State>, now_ms: u64) -> bool {
        let now = now_ms + self.skew_ms;
        self.state.record_local(&self.vault, &mut self.clock, now);
        let merged = incoming.is_none_or(|other| self.state.merge_bounded(other, now).is_ok());
        if let Some(seen) = self.state.max_stamp() {
            self.clock.observe(&seen, now);
        }
        let before = std::mem::replace(
            &mut self.vault,
            self.state
                .visible()
                .into_iter()
                .map(|v| (v.id, v.entry, v.order))
                .collect(),
        );
        for gone in before {
            if !self.vault.iter().any(|(id, _, _)| *id == gone.0) {
                self.removed.retain(|(id, _, _)| *id != gone.0);
                self.removed.push(gone);
            }
        }
        self.published.push(self.state.clone());
        merged
    }
}

fn counter(entry: &AccountEntry) -> u64 {
    match entry.account.params.kind() {
        Kind::Hotp { counter } => counter,
        _ => 0,
    }
}

fn run(ops: &[(usize, Op)], skews: [u64; DEVICES]) -> Vec<Device> {
    let mut devices: Vec<Device> = (0..DEVICES).map(|n| Device::new(n, skews[n])).collect();
    for (step, (d, op)) in ops.iter().enumerate() {
        let now = 1_000_000 + step as u64 * 10;
        match op {
            Op::Add { hotp, seed } => {
                let dev = &mut devices[*d];
                dev.added += 1;
                let id = format!("{d}-{}", dev.added);
                let order = dev.vault.len() as u32;
                dev.vault.push((id, account(*seed, *hotp), order));
            }
            Op::Edit { pick, seed } => {
                let dev = &mut devices[*d];
                if !dev.vault.is_empty() {
                    let n = pick % dev.vault.len();
                    dev.vault[n].1.account.name = format!("edited{seed}");
                }
            }
            Op::Remove { pick } => {
                let dev = &mut devices[*d];
                if !dev.vault.is_empty() {
                    let n = pick % dev.vault.len();
                    let gone = dev.vault.remove(n);
                    dev.removed.retain(|(id, _, _)| *id != gone.0);
                    dev.removed.push(gone);
                }
            }
            Op::Restore { pick } => {
                let dev = &mut devices[*d];
                if !dev.removed.is_empty() {
                    let back = dev.removed.remove(pick % dev.removed.len());
                    if !dev.vault.iter().any(|(id, _, _)| *id == back.0) {
                        dev.vault.push(back);
                    }
                }
            }
            Op::Next { pick, by } => {
                let dev = &mut devices[*d];
                if !dev.vault.is_empty() {
                    let n = pick % dev.vault.len();
                    let p = dev.vault[n].1.account.params;
                    if let Kind::Hotp { counter } = p.kind() {
                        dev.vault[n].1.account.params = p.with_counter(counter + by);
                    }
                }
            }
            Op::Sync { from } => {
                let incoming = devices[*from].published.last().cloned();
                let skew = devices[*d].skew_ms;
                let merged = devices[*d].sync(incoming.as_ref(), now);
                // Refused exactly when the incoming state is stamped beyond the bound.
                let ahead = incoming
                    .as_ref()
                    .and_then(State::max_stamp)
                    .is_some_and(|m| m.ms > now + skew + MAX_AHEAD_MS);
                assert_eq!(merged, !ahead);
            }
        }
    }
    // Each device publishes what it changed since its last sync.
    for dev in devices.iter_mut() {
        dev.sync(None, 2_000_000);
    }
    devices
}

fn join(states: &[&State]) -> State {
    let mut out = State::new();
    for s in states {
        out.merge(s);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/sync_properties.proptest-regressions"
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn replicas_converge_in_any_order_and_grouping(
        ops in prop::collection::vec((0..DEVICES, op()), 1..60),
        skews in prop::array::uniform3(0u64..100_000),
        order in Just([0usize, 1, 2]).prop_shuffle(),
    ) {
        let devices = run(&ops, skews);
        let finals: Vec<&State> = devices.iter().map(|d| &d.state).collect();
        let left = join(&[finals[0], finals[1], finals[2]]);
        let shuffled = join(&[finals[order[0]], finals[order[1]], finals[order[2]]]);
        let mut grouped = finals[order[1]].clone();
        grouped.merge(&join(&[finals[order[2]], finals[order[0]]]));
        prop_assert_eq!(&left, &shuffled);
        prop_assert_eq!(&left, &grouped);

        // Idempotent: merging with itself, or with what is already in it, changes nothing.
        let mut twice = left.clone();
        twice.merge(&left);
        prop_assert_eq!(&twice, &left);

        // Every device that syncs with the join shows the same accounts.
        let views: Vec<_> = devices
            .iter()
            .map(|d| {
                let mut s = d.state.clone();
                s.merge(&left);
                s.visible()
            })
            .collect();
        prop_assert_eq!(&views[0], &views[1]);
        prop_assert_eq!(&views[1], &views[2]);
    }

    #[test]
    fn stale_copies_change_nothing_and_counters_only_grow(
        ops in prop::collection::vec((0..DEVICES, op()), 1..60),
        skews in prop::array::uniform3(0u64..100_000),
    ) {
        let devices = run(&ops, skews);
        let finals: Vec<&State> = devices.iter().map(|d| &d.state).collect();
        let all = join(&finals);
        for dev in &devices {
            for old in &dev.published {
                // A conflict copy or rolled-back replica: any state a device published before.
                let mut merged = all.clone();
                merged.merge(old);
                prop_assert_eq!(&merged, &all);
                // Counters only grow; a removal seen earlier stays unless a later edit beat it.
                for (id, rec) in old.records() {
                    let now = &all.records()[id];
                    prop_assert!(now.counter >= rec.counter);
                    if let (Some(t), true) = (rec.removed, now.is_visible()) {
                        let v = now.version.as_ref().unwrap();
                        prop_assert!(v.stamp > t.covers, "a removal was undone by an older edit");
                    }
                }
            }
        }
        for v in all.visible() {
            prop_assert_eq!(counter(&v.entry), all.records()[&v.id].counter);
        }
    }

    /// Clocks skewed around the bound: no device holds a stamp beyond its own clock plus the
    /// bound, and an edit of every account a device shows, made after everything, sticks there.
    #[test]
    fn stamps_near_the_bound_are_refused_and_local_edits_stick(
        ops in prop::collection::vec((0..DEVICES, op()), 1..60),
        skews in prop::array::uniform3(prop_oneof![
            Just(0u64),
            Just(MAX_AHEAD_MS - 1_000),
            Just(MAX_AHEAD_MS + 1_000),
            Just(2 * MAX_AHEAD_MS),
            (MAX_AHEAD_MS - 2_000)..(MAX_AHEAD_MS + 2_000),
        ]),
    ) {
        let mut devices = run(&ops, skews);
        for dev in devices.iter_mut() {
            let now = 2_000_000 + dev.skew_ms;
            if let Some(max) = dev.state.max_stamp() {
                prop_assert!(max.ms <= now + MAX_AHEAD_MS, "a stamp beyond the bound was kept");
            }
            for (_, entry, _) in dev.vault.iter_mut() {
                entry.account.name = format!("{} (last)", entry.account.name);
            }
            let want: Vec<String> = dev.vault.iter().map(|(_, e, _)| e.account.name.clone()).collect();
            dev.sync(None, 2_000_100);
            let got: Vec<String> = dev.vault.iter().map(|(_, e, _)| e.account.name.clone()).collect();
            prop_assert_eq!(got, want);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 200,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/sync_properties.proptest-regressions"
        ))),
        ..ProptestConfig::default()
    })]

    /// One device removes an account, another (or the same) sees the removal and restores it:
    /// whatever the clocks (the remover up to the 24-hour bound ahead) and whatever came
    /// before, the restore's stamp is newer than the tombstone, so every device that merges
    /// the restorer's state, in any order, shows the account again.
    #[test]
    fn a_restore_wins_over_the_removal_it_undoes_on_every_device(
        ops in prop::collection::vec((0..DEVICES, op()), 0..30),
        skews in prop::array::uniform3(prop_oneof![
            Just(0u64),
            Just(MAX_AHEAD_MS - 1_000),
            0u64..MAX_AHEAD_MS,
        ]),
        remover in 0..DEVICES,
        restorer in 0..DEVICES,
        order in Just([0usize, 1, 2]).prop_shuffle(),
    ) {
        let mut devices = run(&ops, skews);
        let now = 3_000_000;
        // A fresh account, known to every device.
        devices[0].vault.push(("x".into(), account(42, false), 99));
        devices[0].sync(None, now);
        for d in 1..DEVICES {
            let s = devices[0].published.last().cloned();
            devices[d].sync(s.as_ref(), now);
        }
        // The remover removes it and syncs; the restorer takes that in and restores it.
        let pos = devices[remover].vault.iter().position(|(id, _, _)| id == "x");
        prop_assume!(pos.is_some());
        let gone = devices[remover].vault.remove(pos.unwrap_or(0));
        devices[remover].removed.push(gone);
        devices[remover].sync(None, now + 10);
        let tomb = devices[remover].published.last().cloned();
        devices[restorer].sync(tomb.as_ref(), now + 20);
        prop_assert!(!devices[restorer].vault.iter().any(|(id, _, _)| id == "x"));
        let back = devices[restorer].removed.iter().position(|(id, _, _)| id == "x");
        prop_assert!(back.is_some(), "the removal is among the restorer's recently removed");
        let back = devices[restorer].removed.remove(back.unwrap_or(0));
        devices[restorer].vault.push(back);
        devices[restorer].sync(None, now + 30);
        let restored = devices[restorer].published.last().cloned().unwrap_or_default();
        let t = restored.records()["x"].version.as_ref().map(|v| v.stamp);
        let covers = tomb.as_ref().and_then(|s| s.records()["x"].removed).map(|t| t.covers);
        prop_assert!(t > covers, "the restore's stamp is newer than what the removal covers");
        // Every device, whatever it holds and in whatever order it merges, shows it again.
        for &d in &order {
            let s = restored.clone();
            devices[d].sync(Some(&s), now + 40);
            prop_assert!(devices[d].vault.iter().any(|(id, _, _)| id == "x"), "device {} lost the restore", d);
        }
        let finals: Vec<&State> = devices.iter().map(|d| &d.state).collect();
        let all = join(&[finals[order[0]], finals[order[1]], finals[order[2]]]);
        prop_assert!(all.visible().iter().any(|v| v.id == "x"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/sync_properties.proptest-regressions"
        ))),
        ..ProptestConfig::default()
    })]

    /// A re-key notice (`docs/sync.md`, "Removing a device") opens only as it was sealed: any
    /// byte changed (header or content), or any key other than the one it retires, is refused;
    /// a change the decoder cannot see (padding bits of the Base64) gives back the very notice.
    #[test]
    fn a_rekey_notice_changed_anywhere_or_sealed_under_another_key_is_refused(
        at in any::<u64>(),
        removed in proptest::collection::vec(any::<[u8; 16]>(), 0..4),
        pos in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        other in any::<[u8; 32]>(),
    ) {
        use twofold_core::sync::replica::{key_check, open_notice, seal_notice};
        use twofold_core::sync::{RekeyNotice, SyncKey};
        let rng = twofold_core::rng::SystemRng::new();
        let old = SyncKey::from_bytes([1; 32]);
        let new = SyncKey::from_bytes([2; 32]);
        let notice = RekeyNotice {
            old_key_id: "ab".repeat(16),
            new_key_id: "cd".repeat(16),
            key_check: key_check(&"cd".repeat(16), &new),
            removed: removed.into_iter().map(DeviceId::from_bytes).collect(),
            by: DeviceId::from_bytes([3; 16]),
            at,
        };
        let id = "ab".repeat(16);
        let sealed = seal_notice(&notice, &old, &rng).unwrap();
        prop_assert_eq!(open_notice(&sealed, &[(id.as_str(), &old)]).unwrap(), notice.clone());
        let mut changed = sealed.clone();
        let i = pos.index(changed.len());
        prop_assume!(changed[i] != byte);
        changed[i] = byte;
        if let Ok(back) = open_notice(&changed, &[(id.as_str(), &old)]) {
            prop_assert_eq!(back, notice);
        }
        prop_assume!(other != [1; 32]);
        prop_assert!(open_notice(&sealed, &[(id.as_str(), &SyncKey::from_bytes(other))]).is_err());
    }
}
