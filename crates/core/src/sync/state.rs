//! The synced state and its merge: a state-based CRDT (`docs/sync.md`, "The state and the
//! merge"). Per account: the latest version by stamp, the HOTP counter by max, and the
//! tombstone that covers the most. Each part is a max over a total order, so [`State::merge`]
//! is commutative, associative and idempotent.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::hlc::{Hlc, HlcClock, MAX_AHEAD_MS, too_far_ahead};
use crate::{AccountEntry, Kind};

/// The most records (accounts and tombstones) one state may hold: the vault's own cap on
/// accounts (100,000) plus as many removals.
pub const MAX_RECORDS: usize = 200_000;

/// One edit of an account: what it was made into, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// When the edit was made.
    pub stamp: Hlc,
    /// The account's fields (its HOTP counter is kept in [`Record::counter`], not here).
    pub entry: AccountEntry,
    /// Its place in the list.
    pub order: u32,
}

/// A removal: when, and the stamp of the version the removing device had seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tombstone {
    /// Versions up to this stamp are removed; a later (concurrent) edit is not.
    pub covers: Hlc,
    /// When the removal was made.
    pub stamp: Hlc,
}

/// Everything known of one account id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    /// The latest edit.
    pub version: Option<Version>,
    /// The highest HOTP counter seen (0 for time-based accounts).
    pub counter: u64,
    /// The removal that covers the most, if any.
    pub removed: Option<Tombstone>,
}

impl Record {
    /// True when the account is shown: it has a version that no removal covers.
    pub fn is_visible(&self) -> bool {
        match (&self.version, &self.removed) {
            (Some(v), Some(t)) => t.covers < v.stamp,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    fn merge(&mut self, other: &Record) {
        match (&self.version, &other.version) {
            (Some(mine), Some(theirs)) if theirs.stamp > mine.stamp => {
                self.version = other.version.clone()
            }
            (None, Some(_)) => self.version = other.version.clone(),
            _ => {}
        }
        self.counter = self.counter.max(other.counter);
        if other.removed > self.removed {
            self.removed = other.removed;
        }
        self.drop_covered();
    }

    /// A version that a removal covers can never show again (a later edit would replace it),
    /// so only the removal is kept: what keeps a removed account small in every replica.
    /// Merging commutes with this, because a removal only ever grows.
    fn drop_covered(&mut self) {
        if let (Some(v), Some(t)) = (&self.version, &self.removed)
            && t.covers >= v.stamp
        {
            self.version = None;
        }
    }
}

/// One account as the merged state shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visible {
    /// The account's id (the same on every device).
    pub id: String,
    /// Its fields, with the merged HOTP counter.
    pub entry: AccountEntry,
    /// Its place in the list.
    pub order: u32,
}

/// The synced state of every OTP account of a sync set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct State {
    records: BTreeMap<String, Record>,
}

/// A state holding a change stamped more than [`MAX_AHEAD_MS`] ahead of this device's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "it holds a change stamped {hours} hours ahead of this device's clock (more than {} hours)",
    MAX_AHEAD_MS / 3_600_000
)]
pub struct TooFarAhead {
    /// How far ahead its latest stamp is, in whole hours.
    pub hours: u64,
}

/// A state that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// Not the JSON of a state, or an account in it does not parse.
    #[error("the synced state is malformed: {0}")]
    Malformed(&'static str),
    /// More records than [`MAX_RECORDS`].
    #[error("the synced state holds more than {MAX_RECORDS} accounts and removals")]
    TooLarge,
}

fn without_counter(entry: &AccountEntry) -> AccountEntry {
    let mut e = entry.clone();
    e.account.params = e.account.params.with_counter(0);
    e
}

fn counter_of(entry: &AccountEntry) -> u64 {
    match entry.account.params.kind() {
        Kind::Hotp { counter } => counter,
        _ => 0,
    }
}

impl State {
    /// An empty state.
    pub fn new() -> Self {
        State::default()
    }

    /// Every record, by account id.
    pub fn records(&self) -> &BTreeMap<String, Record> {
        &self.records
    }

    /// Merges `other` into this state.
    pub fn merge(&mut self, other: &State) {
        for (id, theirs) in &other.records {
            self.records.entry(id.clone()).or_default().merge(theirs);
        }
    }

    /// The greatest stamp in the state (versions, removals and what they cover), for the
    /// clock to observe.
    pub fn max_stamp(&self) -> Option<Hlc> {
        self.records
            .values()
            .flat_map(|r| {
                let v = r.version.as_ref().map(|v| v.stamp);
                let t = r.removed.into_iter().flat_map(|t| [t.stamp, t.covers]);
                v.into_iter().chain(t)
            })
            .max()
    }

    /// Merges `other` unless it holds a stamp more than [`MAX_AHEAD_MS`] ahead of the
    /// wall-clock time `now_ms` (`docs/sync.md`, "Time"): then nothing of it is merged.
    pub fn merge_bounded(&mut self, other: &State, now_ms: u64) -> Result<(), TooFarAhead> {
        if let Some(max) = other.max_stamp().filter(|m| too_far_ahead(m, now_ms)) {
            return Err(TooFarAhead {
                hours: (max.ms - now_ms) / 3_600_000,
            });
        }
        self.merge(other);
        Ok(())
    }

    /// The accounts shown, ordered by `order`, then id; HOTP counters are the merged ones.
    pub fn visible(&self) -> Vec<Visible> {
        let mut out: Vec<Visible> = self
            .records
            .iter()
            .filter(|(_, r)| r.is_visible())
            .filter_map(|(id, r)| {
                let v = r.version.as_ref()?;
                let mut entry = v.entry.clone();
                entry.account.params = entry.account.params.with_counter(r.counter);
                Some(Visible {
                    id: id.clone(),
                    entry,
                    order: v.order,
                })
            })
            .collect();
        out.sort_by(|a, b| (a.order, &a.id).cmp(&(b.order, &b.id)));
        out
    }

    /// Records a local add or edit of account `id`.
    pub fn upsert(&mut self, id: &str, entry: AccountEntry, order: u32, stamp: Hlc) {
        let record = self.records.entry(id.to_owned()).or_default();
        record.counter = record.counter.max(counter_of(&entry));
        let entry = without_counter(&entry);
        let newer = record.version.as_ref().is_none_or(|v| stamp > v.stamp);
        if newer {
            record.version = Some(Version {
                stamp,
                entry,
                order,
            });
        }
        record.drop_covered();
    }

    /// Records a local removal of account `id`, covering the version this device sees. False
    /// when there is nothing shown to remove.
    pub fn remove(&mut self, id: &str, stamp: Hlc) -> bool {
        let Some(record) = self.records.get_mut(id) else {
            return false;
        };
        if !record.is_visible() {
            return false;
        }
        let Some(covers) = record.version.as_ref().map(|v| v.stamp) else {
            return false;
        };
        let tomb = Some(Tombstone { covers, stamp });
        if tomb > record.removed {
            record.removed = tomb;
        }
        record.drop_covered();
        true
    }

    /// Brings the state up to date with the device's accounts as they are now (what the user
    /// changed since the last sync): new or edited accounts get a version stamped now, accounts
    /// that are gone get a removal, higher HOTP counters are taken. Returns how many accounts
    /// were added, edited or removed.
    pub fn record_local(
        &mut self,
        local: &[(String, AccountEntry, u32)],
        clock: &mut HlcClock,
        now_ms: u64,
    ) -> usize {
        if let Some(seen) = self.max_stamp() {
            clock.observe(&seen, now_ms);
        }
        let mut changed = 0;
        let mut present = std::collections::BTreeSet::new();
        for (id, entry, order) in local {
            present.insert(id.as_str());
            let same = self.records.get(id).is_some_and(|r| {
                r.is_visible()
                    && r.version
                        .as_ref()
                        .is_some_and(|v| v.order == *order && v.entry == without_counter(entry))
            });
            if same {
                let r = self.records.entry(id.clone()).or_default();
                r.counter = r.counter.max(counter_of(entry));
            } else {
                let stamp = clock.tick(now_ms);
                self.upsert(id, entry.clone(), *order, stamp);
                changed += 1;
            }
        }
        let gone: Vec<String> = self
            .records
            .iter()
            .filter(|(id, r)| r.is_visible() && !present.contains(id.as_str()))
            .map(|(id, _)| id.clone())
            .collect();
        for id in gone {
            let stamp = clock.tick(now_ms);
            if self.remove(&id, stamp) {
                changed += 1;
            }
        }
        changed
    }

    /// Forgets removals made before `cutoff_ms` of accounts that stay removed. Version 1 never
    /// calls it (`docs/sync.md`, "Tombstones and size": removals are kept for good, because a
    /// device back after the cutoff would bring pruned accounts back); it measures what pruning
    /// would save (the `sync` benchmark) for a later version with a rejoin protocol.
    pub fn prune_removed_before(&mut self, cutoff_ms: u64) {
        self.records.retain(|_, r| {
            let old_removal = matches!(r.removed, Some(t) if t.stamp.ms < cutoff_ms);
            r.is_visible() || !old_removal
        });
    }

    /// The state as JSON, in a zeroizing buffer (it holds secrets).
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        // Serializing plain data to a Vec cannot fail; an empty state is the safe fallback.
        Zeroizing::new(serde_json::to_vec(self).unwrap_or_else(|_| b"[]".to_vec()))
    }

    /// Reads a state written by [`State::to_json`].
    pub fn from_json(bytes: &[u8]) -> Result<State, StateError> {
        let dto: Vec<RecordDto> =
            serde_json::from_slice(bytes).map_err(|_| StateError::Malformed("not a state"))?;
        State::from_dto(dto)
    }

    /// How many records (accounts and tombstones) it holds.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether it holds no record.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    fn to_dto(&self) -> Vec<RecordDto> {
        self.records
            .iter()
            .map(|(id, r)| RecordDto {
                id: id.clone(),
                version: r.version.as_ref().map(|v| VersionDto {
                    stamp: v.stamp,
                    uri: crate::uri::write(&v.entry.account),
                    note: v.entry.note.clone(),
                    favorite: v.entry.favorite,
                    groups: v.entry.groups.clone(),
                    order: v.order,
                }),
                counter: r.counter,
                removed: r.removed,
            })
            .collect()
    }

    fn from_dto(dto: Vec<RecordDto>) -> Result<State, StateError> {
        if dto.len() > MAX_RECORDS {
            return Err(StateError::TooLarge);
        }
        let mut records = BTreeMap::new();
        for r in dto {
            let version = match r.version {
                None => None,
                Some(v) => {
                    let account = crate::uri::parse(&v.uri)
                        .map_err(|_| StateError::Malformed("an account does not parse"))?;
                    Some(Version {
                        stamp: v.stamp,
                        entry: AccountEntry {
                            account,
                            note: v.note,
                            favorite: v.favorite,
                            groups: v.groups,
                        },
                        order: v.order,
                    })
                }
            };
            let mut record = Record {
                version,
                counter: r.counter,
                removed: r.removed,
            };
            record.drop_covered();
            if records.insert(r.id, record).is_some() {
                return Err(StateError::Malformed("an account id appears twice"));
            }
        }
        Ok(State { records })
    }
}

/// The state as a JSON array of records (in a replica, and nested in the vault's membership).
impl Serialize for State {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_dto().serialize(serializer)
    }
}

/// Reads what `Serialize` wrote, with the checks of [`State::from_json`].
impl<'de> Deserialize<'de> for State {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<State, D::Error> {
        let dto = Vec::<RecordDto>::deserialize(deserializer)?;
        State::from_dto(dto).map_err(serde::de::Error::custom)
    }
}

#[derive(Serialize, Deserialize)]
struct VersionDto {
    stamp: Hlc,
    uri: Zeroizing<String>,
    #[serde(default)]
    note: String,
    #[serde(default)]
    favorite: bool,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    order: u32,
}

#[derive(Serialize, Deserialize)]
struct RecordDto {
    id: String,
    version: Option<VersionDto>,
    #[serde(default)]
    counter: u64,
    removed: Option<Tombstone>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::hlc::DeviceId;
    use crate::{Algorithm, OtpAccount, OtpParams, Secret};

    fn entry(name: &str, counter: Option<u64>) -> AccountEntry {
        let kind = match counter {
            Some(counter) => Kind::Hotp { counter },
            None => Kind::Totp { period: 30 },
        };
        AccountEntry::new(OtpAccount {
            issuer: "ACME".into(),
            name: name.into(),
            secret: Secret::from_bytes(b"12345678901234567890".to_vec()),
            params: OtpParams::new(kind, Algorithm::Sha1, 6).unwrap(),
        })
    }

    fn clock(n: u8) -> HlcClock {
        HlcClock::new(DeviceId::from_bytes([n; 16]))
    }

    #[test]
    fn a_stale_copy_does_not_undo_a_removal() {
        let (mut a, mut b) = (clock(1), clock(2));
        let mut s = State::new();
        s.upsert("x", entry("alice", None), 0, a.tick(1_000));
        let stale = s.clone();
        assert!(s.remove("x", a.tick(2_000)));
        let mut other = stale.clone();
        other.merge(&s);
        assert!(other.visible().is_empty());
        s.merge(&stale);
        assert!(s.visible().is_empty());
        // A device that saw the removal and adds again makes a new account.
        b.observe(&s.max_stamp().unwrap(), 0);
        s.upsert("y", entry("alice", None), 0, b.tick(0));
        assert_eq!(s.visible().len(), 1);
    }

    #[test]
    fn an_edit_the_remover_had_not_seen_wins_over_the_removal() {
        let (mut a, mut b) = (clock(1), clock(2));
        let mut base = State::new();
        base.upsert("x", entry("alice", None), 0, a.tick(1_000));
        let mut on_a = base.clone();
        let mut on_b = base.clone();
        assert!(on_a.remove("x", a.tick(5_000)));
        on_b.upsert("x", entry("alice@work", None), 0, b.tick(2_000));
        let mut ab = on_a.clone();
        ab.merge(&on_b);
        let mut ba = on_b.clone();
        ba.merge(&on_a);
        assert_eq!(ab, ba);
        let shown = ab.visible();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].entry.account.name, "alice@work");
    }

    #[test]
    fn a_state_stamped_more_than_a_day_ahead_is_not_merged() {
        let now = 1_700_000_000_000;
        let (mut a, mut m) = (clock(1), clock(2));
        let mut mine = State::new();
        mine.upsert("x", entry("alice", None), 0, a.tick(now));
        let before = mine.clone();
        let mut forged = State::new();
        forged.upsert(
            "x",
            entry("mallory", None),
            0,
            m.tick(now + MAX_AHEAD_MS + 1),
        );
        assert_eq!(
            mine.merge_bounded(&forged, now),
            Err(TooFarAhead { hours: 24 })
        );
        assert_eq!(mine, before);
        // A removal covering the far future is refused too.
        let mut cover = before.clone();
        cover.records.get_mut("x").unwrap().removed = Some(Tombstone {
            covers: Hlc {
                ms: u64::MAX,
                counter: u32::MAX,
                device: DeviceId::from_bytes([2; 16]),
            },
            stamp: clock(4).tick(now),
        });
        assert!(mine.merge_bounded(&cover, now).is_err());
        // At the bound exactly it merges.
        let mut edge = State::new();
        edge.upsert(
            "x",
            entry("bob", None),
            0,
            clock(3).tick(now + MAX_AHEAD_MS),
        );
        assert_eq!(mine.merge_bounded(&edge, now), Ok(()));
        assert_eq!(mine.visible()[0].entry.account.name, "bob");
    }

    #[test]
    fn hotp_counters_never_go_back_whichever_edit_wins() {
        let (mut a, mut b) = (clock(1), clock(2));
        let mut on_a = State::new();
        on_a.upsert("x", entry("alice", Some(10)), 0, a.tick(1_000));
        let mut on_b = on_a.clone();
        on_b.upsert("x", entry("alice", Some(3)), 0, b.tick(9_000));
        on_a.merge(&on_b);
        let shown = on_a.visible();
        assert_eq!(
            shown[0].entry.account.params.kind(),
            Kind::Hotp { counter: 10 }
        );
    }

    #[test]
    fn record_local_finds_adds_edits_removals_and_counters() {
        let mut c = clock(1);
        let mut s = State::new();
        let v1 = vec![
            ("x".to_owned(), entry("alice", None), 0),
            ("y".to_owned(), entry("bob", Some(1)), 1),
        ];
        assert_eq!(s.record_local(&v1, &mut c, 1_000), 2);
        assert_eq!(s.record_local(&v1, &mut c, 2_000), 0);
        let v2 = vec![("y".to_owned(), entry("bob", Some(7)), 1)];
        assert_eq!(s.record_local(&v2, &mut c, 3_000), 1);
        let shown = s.visible();
        assert_eq!(shown.len(), 1);
        assert_eq!(
            shown[0].entry.account.params.kind(),
            Kind::Hotp { counter: 7 }
        );
    }

    #[test]
    fn json_round_trip_keeps_everything_and_prunes_old_removals() {
        let mut c = clock(1);
        let mut s = State::new();
        s.upsert("x", entry("alice", Some(4)), 2, c.tick(1_000));
        s.upsert("y", entry("bob", None), 3, c.tick(1_000));
        assert!(s.remove("y", c.tick(1_500)));
        let back = State::from_json(&s.to_json()).unwrap();
        assert_eq!(back, s);
        let mut pruned = back.clone();
        pruned.prune_removed_before(2_000);
        assert_eq!(pruned.records().len(), 1);
        assert_eq!(pruned.visible(), s.visible());
        assert!(State::from_json(b"{}").is_err());
    }
}
