//! What a device keeps in its vault to take part in a sync set: the [`Membership`] (keys, the
//! set's devices, the synced state), the device list it shows, and its JSON form in the vault
//! (with the reading of vaults written before it was typed).

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::hlc::{DeviceId, HlcClock};
use super::replica::{SyncKey, Writer, clean_device_name};
use super::session::SyncError;
use super::state::State;

/// The most retired keys a device keeps (to write re-key notices under them for devices that
/// missed a re-key); older ones are forgotten.
pub const MAX_RETIRED_KEYS: usize = 8;

/// What a device keeps (in its vault) to take part in a sync set.
#[derive(Debug, Clone)]
pub struct Membership {
    /// The key file's id and the key every replica is sealed with; more than one when two
    /// devices created sync sets at once (replicas under each are read; the smallest id writes).
    pub keys: Vec<(String, SyncKey)>,
    /// The key files of [`Membership::keys`] (by key id) as this device opened or made them:
    /// a rejoin refuses a passphrase that opens one of them (the old passphrase, which a
    /// removed device knows, never opens a key of a re-keyed set, even one the removed device
    /// forged and named in a notice of its own).
    pub key_files: BTreeMap<String, Vec<u8>>,
    /// Keys a re-key replaced (newest last): replicas under them are never merged again (a
    /// removed device holds them); a re-key made here writes a notice under each, for the
    /// devices that missed an earlier one.
    pub retired: Vec<(String, SyncKey)>,
    /// This device.
    pub device: DeviceId,
    /// This device's name, sealed in its replica (the platform's device name or host name).
    pub name: String,
    /// When this device last synced, Unix milliseconds.
    pub last_sync: Option<u64>,
    /// The other devices of the set, as their newest merged replica names them (name, and
    /// when it was written: their last sync).
    pub devices: BTreeMap<DeviceId, Writer>,
    /// Devices removed from the set: never listed again.
    pub removed: BTreeSet<DeviceId>,
    /// Its clock.
    pub clock: HlcClock,
    /// The state as of the last sync.
    pub state: State,
    /// How many replicas this device has written.
    pub generation: u64,
    /// The highest generation merged from each other device.
    pub seen: BTreeMap<DeviceId, u64>,
}

/// One device of the set as listed (`twofold sync --devices`, the app's Settings → Sync).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    /// Its id (32 hex digits).
    pub id: DeviceId,
    /// Its name.
    pub name: String,
    /// When it last synced, Unix seconds (`None`: not known).
    pub last_sync: Option<u64>,
    /// Whether it is this device.
    pub this: bool,
}

impl Membership {
    /// The set's devices as of this device's last sync: this one first, then by name.
    pub fn device_list(&self) -> Vec<DeviceInfo> {
        let mut others: Vec<DeviceInfo> = self
            .devices
            .iter()
            .filter(|(id, _)| !self.removed.contains(id) && **id != self.device)
            .map(|(id, w)| DeviceInfo {
                id: *id,
                name: w.name.clone(),
                last_sync: (w.at > 0).then_some(w.at / 1000),
                this: false,
            })
            .collect();
        others.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
        let mut out = vec![DeviceInfo {
            id: self.device,
            name: self.name.clone(),
            last_sync: self.last_sync.map(|ms| ms / 1000),
            this: true,
        }];
        out.extend(others);
        out
    }

    /// Keeps the newest [`MAX_RETIRED_KEYS`] retired keys, and the key files of the keys kept.
    pub(super) fn forget_old_retired(&mut self) {
        let excess = self.retired.len().saturating_sub(MAX_RETIRED_KEYS);
        self.retired.drain(..excess);
        let kept: BTreeSet<&str> = self
            .keys
            .iter()
            .chain(&self.retired)
            .map(|(id, _)| id.as_str())
            .collect();
        self.key_files.retain(|id, _| kept.contains(id.as_str()));
    }

    /// Whether `device` is one this device may remove: another device of the set.
    pub fn removable(&self, device: DeviceId) -> Result<(), SyncError> {
        if device == self.device {
            return Err(SyncError::CannotRemove(
                "this device: remove it from another device, or turn sync off here".into(),
            ));
        }
        if !self.devices.contains_key(&device) {
            return Err(SyncError::CannotRemove(format!(
                "{device}: no such device in this sync set (list them with --devices)"
            )));
        }
        Ok(())
    }

    /// Renames this device (sent with its next replica).
    pub fn set_name(&mut self, name: &str) {
        self.name = clean_device_name(name);
    }
}

/// The membership as the vault stores it: a JSON object nested in the vault's JSON, keys and
/// key files in Base64. Vaults written before it was typed kept the whole membership, and its
/// state, as JSON strings: both read (see [`Membership`]'s `Deserialize`).
#[derive(Serialize, Deserialize)]
struct MembershipDto {
    keys: Vec<(String, Zeroizing<String>)>,
    /// Key files, Base64.
    #[serde(default)]
    key_files: BTreeMap<String, String>,
    #[serde(default)]
    retired: Vec<(String, Zeroizing<String>)>,
    device: DeviceId,
    #[serde(default)]
    name: String,
    #[serde(default)]
    last_sync: Option<u64>,
    #[serde(default)]
    devices: BTreeMap<DeviceId, Writer>,
    #[serde(default)]
    removed: BTreeSet<DeviceId>,
    clock: HlcClock,
    #[serde(deserialize_with = "state_or_legacy_string")]
    state: State,
    generation: u64,
    seen: BTreeMap<DeviceId, u64>,
}

/// The state of a [`MembershipDto`]: an array of records, or (as written before the
/// membership was typed) that array as a JSON string.
fn state_or_legacy_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<State, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = State;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a sync state")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<State, E> {
            State::from_json(v.as_bytes()).map_err(E::custom)
        }
        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<State, E> {
            self.visit_str(&Zeroizing::new(v))
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<State, A::Error> {
            State::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
        }
    }
    d.deserialize_any(V)
}

impl Membership {
    fn to_dto(&self) -> MembershipDto {
        let encode = |keys: &[(String, SyncKey)]| {
            keys.iter()
                .map(|(id, k)| (id.clone(), Zeroizing::new(B64.encode(k.expose()))))
                .collect()
        };
        MembershipDto {
            keys: encode(&self.keys),
            key_files: self
                .key_files
                .iter()
                .map(|(id, bytes)| (id.clone(), B64.encode(bytes)))
                .collect(),
            retired: encode(&self.retired),
            device: self.device,
            name: self.name.clone(),
            last_sync: self.last_sync,
            devices: self.devices.clone(),
            removed: self.removed.clone(),
            clock: self.clock,
            state: self.state.clone(),
            generation: self.generation,
            seen: self.seen.clone(),
        }
    }

    fn from_dto(dto: MembershipDto) -> Result<Membership, SyncError> {
        let decode = |keys: Vec<(String, Zeroizing<String>)>| {
            keys.into_iter()
                .map(|(id, k)| {
                    let raw = crate::crypto::base64(&k).ok_or(SyncError::Membership)?;
                    let key: [u8; 32] = raw[..].try_into().map_err(|_| SyncError::Membership)?;
                    Ok((id, SyncKey::from_bytes(key)))
                })
                .collect::<Result<Vec<_>, SyncError>>()
        };
        let keys = decode(dto.keys)?;
        if keys.is_empty() {
            return Err(SyncError::Membership);
        }
        let mut key_files = BTreeMap::new();
        for (id, b64) in dto.key_files {
            let bytes = B64.decode(b64).map_err(|_| SyncError::Membership)?;
            key_files.insert(id, bytes);
        }
        Ok(Membership {
            keys,
            key_files,
            retired: decode(dto.retired)?,
            device: dto.device,
            name: clean_device_name(&dto.name),
            last_sync: dto.last_sync,
            devices: dto.devices,
            removed: dto.removed,
            clock: dto.clock,
            state: dto.state,
            generation: dto.generation,
            seen: dto.seen,
        })
    }

    /// The membership as JSON (it holds the sync key and secrets).
    pub fn to_json(&self) -> Zeroizing<Vec<u8>> {
        // Serializing plain data to a Vec cannot fail.
        Zeroizing::new(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Reads what [`Membership::to_json`] wrote (or a membership written before it was
    /// typed, its state a JSON string).
    pub fn from_json(bytes: &[u8]) -> Result<Membership, SyncError> {
        let dto: MembershipDto =
            serde_json::from_slice(bytes).map_err(|_| SyncError::Membership)?;
        Membership::from_dto(dto)
    }
}

/// Written as a JSON object (the vault nests it in its own JSON).
impl Serialize for Membership {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_dto().serialize(serializer)
    }
}

/// Reads what `Serialize` wrote; also a membership as a JSON string, as vaults kept it before
/// it was typed (the migration on read: the next save writes the object).
impl<'de> Deserialize<'de> for Membership {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Membership, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Membership;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sync membership")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Membership, E> {
                Membership::from_json(v.as_bytes()).map_err(E::custom)
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Membership, E> {
                self.visit_str(&Zeroizing::new(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Membership, A::Error> {
                let dto =
                    MembershipDto::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Membership::from_dto(dto).map_err(serde::de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}
