//! Keys kept by the platform, apart from the password-protected vault: the push keyring in
//! the platform's secure storage ([`SecureStore`], readable without the user: the poller
//! signs with it while the vault is locked) and the vault's device key behind biometrics
//! ([`Biometrics`], every read is a biometric prompt). Both are traits so the shell tests
//! replace them at the plugin's Rust boundary; the app uses [`KeyringStore`] and, on phones,
//! [`PluginBiometrics`].
//!
//! | platform | push keyring ([`SecureStore`]) | device key ([`Biometrics`]) |
//! |---|---|---|
//! | Linux, BSD | Secret Service (GNOME Keyring, KWallet) over D-Bus; none running: `Unsupported`, polling only while unlocked | `Unsupported` |
//! | macOS | login Keychain | `Unsupported` (the plugin's macOS code is not built: untested) |
//! | Windows | Credential Manager | `Unsupported` (likewise) |
//! | Android | SharedPreferences under an Android Keystore key | tauri-plugin-biometry: Keystore key with user authentication, invalidated by new biometrics |
//! | iOS | data-protection Keychain | tauri-plugin-biometry: Keychain item with user presence |

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::error::{AppError, AppResult, ErrorKind};

/// The name the vault's device slot gives its key (`key_alias`, docs/vault.md).
pub const DEVICE_KEY_ALIAS: &str = "twofold-vault-device-key";
/// The service name of Twofold's entries in the platform's secure storage.
pub const SERVICE: &str = "app.twofold.authenticator";
/// The entry of the push keyring.
pub const PUSH_KEYRING: &str = "push-keyring";

/// The platform's secure storage for what the app needs while the vault is locked.
pub trait SecureStore: Send + Sync + 'static {
    /// What it is, for the settings screen ("Secret Service", "Keychain", ...).
    fn name(&self) -> &'static str;
    /// The entry `name`, `None` when there is none.
    fn read(&self, name: &str) -> AppResult<Option<Zeroizing<Vec<u8>>>>;
    /// Stores `bytes` as the entry `name` (replacing it).
    fn write(&self, name: &str, bytes: &[u8]) -> AppResult<()>;
    /// Removes the entry `name` (nothing to do when there is none).
    fn delete(&self, name: &str) -> AppResult<()>;
}

/// The device key behind biometrics.
pub trait Biometrics: Send + Sync + 'static {
    /// The device has biometrics enrolled now.
    fn available(&self) -> bool;
    /// Keeps `key` as `alias` behind biometrics (replacing any key of that alias). Asks for
    /// nothing: reading it back does.
    fn store_key(&self, alias: &str, key: &[u8; 32]) -> AppResult<()>;
    /// Asks for biometrics (showing `reason`) and returns the key. `Ok(None)`: the key is
    /// gone (biometrics were added or removed since, which invalidates it, or it was never
    /// stored). A cancelled or failed prompt is `AuthRequired`.
    fn load_key(&self, alias: &str, reason: &str) -> AppResult<Option<Zeroizing<[u8; 32]>>>;
    /// Forgets the key (nothing to do when there is none).
    fn remove_key(&self, alias: &str) -> AppResult<()>;
}

/// The platform keys the app was started with, managed by Tauri.
#[derive(Clone)]
pub struct DeviceKeys {
    /// The secure storage, or why there is none (then push polls only while unlocked).
    pub store: Result<Arc<dyn SecureStore>, String>,
    /// Biometrics.
    pub biometrics: Arc<dyn Biometrics>,
}

impl std::fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKeys")
            .field("store", &self.store.as_ref().map(|s| s.name()))
            .finish_non_exhaustive()
    }
}

impl DeviceKeys {
    /// The platform's: its secure storage (when one answers) and its biometrics.
    pub fn platform<R: tauri::Runtime>(_app: &tauri::AppHandle<R>) -> Self {
        #[cfg(mobile)]
        let biometrics: Arc<dyn Biometrics> = Arc::new(PluginBiometrics(_app.clone()));
        #[cfg(desktop)]
        let biometrics: Arc<dyn Biometrics> = Arc::new(NoBiometrics);
        DeviceKeys {
            store: KeyringStore::open().map(|s| Arc::new(s) as Arc<dyn SecureStore>),
            biometrics,
        }
    }

    /// The name of the secure storage, `None` when there is none.
    pub fn store_name(&self) -> Option<&'static str> {
        self.store.as_ref().ok().map(|s| s.name())
    }
}

/// [`SecureStore`] through keyring-core and the platform's maintained store crate.
pub struct KeyringStore {
    store: Arc<keyring_core::CredentialStore>,
    name: &'static str,
}

fn store_error(e: keyring_core::Error) -> AppError {
    // keyring-core's messages name the service and entry, never the secret.
    AppError::new(
        ErrorKind::Io,
        format!("the platform's secure storage failed: {e}"),
    )
}

impl KeyringStore {
    /// The platform's store, or why there is none (no Secret Service on the session bus).
    pub fn open() -> Result<Self, String> {
        let (store, name): (Arc<keyring_core::CredentialStore>, _) = {
            #[cfg(any(
                target_os = "linux",
                target_os = "freebsd",
                target_os = "openbsd",
                target_os = "netbsd",
                target_os = "dragonfly"
            ))]
            {
                let s = dbus_secret_service_keyring_store::Store::new().map_err(|e| {
                    format!("no Secret Service (such as GNOME Keyring) answers: {e}")
                })?;
                // A Secret Service without a default keyring (a headless session, WSL) opens
                // but cannot store: found out now, so the settings say so.
                let s: Arc<keyring_core::CredentialStore> = s;
                let probe = keyring_core::Entry::new_in_store(&s, SERVICE, "probe")
                    .and_then(|e| e.set_secret(b"-").and_then(|()| e.delete_credential()));
                probe.map_err(|e| format!("the Secret Service cannot store keys: {e}"))?;
                (s, "Secret Service")
            }
            #[cfg(target_os = "macos")]
            {
                let s = apple_native_keyring_store::keychain::Store::new()
                    .map_err(|e| format!("the Keychain cannot be opened: {e}"))?;
                (s, "Keychain")
            }
            #[cfg(target_os = "ios")]
            {
                let s = apple_native_keyring_store::protected::Store::new()
                    .map_err(|e| format!("the Keychain cannot be opened: {e}"))?;
                (s, "Keychain")
            }
            #[cfg(target_os = "windows")]
            {
                let s = windows_native_keyring_store::Store::new()
                    .map_err(|e| format!("the Credential Manager cannot be opened: {e}"))?;
                (s, "Credential Manager")
            }
            #[cfg(target_os = "android")]
            {
                // ndk-context panics when MainActivity did not hand over the app context
                // (io.crates.keyring.Keyring): then there is no storage, not a crash.
                let s = std::panic::catch_unwind(android_native_keyring_store::Store::new)
                    .map_err(|_| {
                        "the Android Keystore cannot be reached: no app context".to_owned()
                    })?
                    .map_err(|e| format!("the Android Keystore cannot be opened: {e}"))?;
                (s, "Android Keystore")
            }
        };
        Ok(KeyringStore { store, name })
    }

    fn entry(&self, name: &str) -> AppResult<keyring_core::Entry> {
        keyring_core::Entry::new_in_store(&self.store, SERVICE, name).map_err(store_error)
    }
}

impl SecureStore for KeyringStore {
    fn name(&self) -> &'static str {
        self.name
    }

    fn read(&self, name: &str) -> AppResult<Option<Zeroizing<Vec<u8>>>> {
        match self.entry(name)?.get_secret() {
            Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(store_error(e)),
        }
    }

    fn write(&self, name: &str, bytes: &[u8]) -> AppResult<()> {
        self.entry(name)?.set_secret(bytes).map_err(store_error)
    }

    fn delete(&self, name: &str) -> AppResult<()> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }
}

/// Desktop: no biometric unlock (tauri-plugin-biometry's macOS and Windows code is not built:
/// it cannot be tested here).
#[cfg(desktop)]
pub struct NoBiometrics;

#[cfg(desktop)]
impl Biometrics for NoBiometrics {
    fn available(&self) -> bool {
        false
    }
    fn store_key(&self, _alias: &str, _key: &[u8; 32]) -> AppResult<()> {
        Err(AppError::unsupported(super::BIOMETRICS_MISSING))
    }
    fn load_key(&self, _alias: &str, _reason: &str) -> AppResult<Option<Zeroizing<[u8; 32]>>> {
        Err(AppError::unsupported(super::BIOMETRICS_MISSING))
    }
    fn remove_key(&self, _alias: &str) -> AppResult<()> {
        Ok(())
    }
}

/// The key as the plugin keeps it: text (its data is a string), lowercase hex.
#[cfg_attr(desktop, allow(dead_code))] // the plugin's side: phones (and the tests)
pub fn key_text(key: &[u8; 32]) -> Zeroizing<String> {
    Zeroizing::new(data_encoding::HEXLOWER.encode(key))
}

/// [`key_text`] read back; `None` when it is not a 32-byte key.
#[cfg_attr(desktop, allow(dead_code))] // the plugin's side: phones (and the tests)
pub fn key_from_text(text: &str) -> Option<Zeroizing<[u8; 32]>> {
    let bytes = Zeroizing::new(data_encoding::HEXLOWER.decode(text.as_bytes()).ok()?);
    let mut key = Zeroizing::new([0u8; 32]);
    if bytes.len() != key.len() {
        return None;
    }
    key.copy_from_slice(&bytes);
    Some(key)
}

/// True when the plugin's error says the key is gone rather than the prompt failing: Android
/// rejects with "No key pair found" (never stored, removed) or a KeyPermanentlyInvalidated
/// ("Key permanently invalidated", biometrics changed); iOS with "item not found"
/// (errSecItemNotFound, after the biometry set changed: the item is bound to it).
#[cfg_attr(desktop, allow(dead_code))] // the plugin's side: phones (and the tests)
pub fn says_key_gone(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "no key pair",
        "invalidated",
        "item not found",
        "no data found",
        "itemnotfound",
    ]
    .iter()
    .any(|s| m.contains(s))
}

/// [`Biometrics`] through tauri-plugin-biometry, from Rust (the webview has no permission of
/// the plugin).
#[cfg(mobile)]
pub struct PluginBiometrics<R: tauri::Runtime>(pub tauri::AppHandle<R>);

#[cfg(mobile)]
impl<R: tauri::Runtime> Biometrics for PluginBiometrics<R> {
    fn available(&self) -> bool {
        use tauri_plugin_biometry::BiometryExt;
        self.0.biometry().status().is_ok_and(|s| s.is_available)
    }

    fn store_key(&self, alias: &str, key: &[u8; 32]) -> AppResult<()> {
        use tauri_plugin_biometry::{BiometryExt, SetDataOptions};
        let text = key_text(key);
        self.0
            .biometry()
            .set_data(SetDataOptions {
                domain: alias.to_owned(),
                name: alias.to_owned(),
                data: text.as_str().to_owned(),
            })
            .map_err(|e| AppError::internal(format!("cannot keep the device key: {e}")))
    }

    fn load_key(&self, alias: &str, reason: &str) -> AppResult<Option<Zeroizing<[u8; 32]>>> {
        use tauri_plugin_biometry::{BiometryExt, DataOptions, GetDataOptions};
        let options = DataOptions {
            domain: alias.to_owned(),
            name: alias.to_owned(),
        };
        if !self.0.biometry().has_data(options).unwrap_or(false) {
            return Ok(None);
        }
        match self.0.biometry().get_data(GetDataOptions {
            domain: alias.to_owned(),
            name: alias.to_owned(),
            reason: reason.to_owned(),
            cancel_title: None,
        }) {
            Ok(data) => {
                let text = Zeroizing::new(data.data);
                Ok(key_from_text(&text))
            }
            Err(e) if says_key_gone(&e.to_string()) => Ok(None),
            Err(e) => Err(AppError::new(
                ErrorKind::AuthRequired,
                format!("biometrics did not unlock the vault ({e}); use your password"),
            )),
        }
    }

    fn remove_key(&self, alias: &str) -> AppResult<()> {
        use tauri_plugin_biometry::{BiometryExt, DataOptions};
        self.0
            .biometry()
            .remove_data(DataOptions {
                domain: alias.to_owned(),
                name: alias.to_owned(),
            })
            .or_else(|e| {
                if says_key_gone(&e.to_string()) {
                    Ok(())
                } else {
                    Err(AppError::internal(format!(
                        "cannot remove the device key: {e}"
                    )))
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_device_key_survives_the_plugins_text_form() {
        let key = [7u8; 32];
        let text = key_text(&key);
        assert_eq!(text.len(), 64);
        assert_eq!(key_from_text(&text).as_deref(), Some(&key));
        assert!(key_from_text("00").is_none());
        assert!(key_from_text("zz").is_none());
    }

    /// The real storage of this platform (on Linux a Secret Service, e.g. under
    /// `dbus-run-session` with `gnome-keyring-daemon --unlock`); skipped where there is none.
    #[test]
    fn the_platforms_secure_storage_keeps_an_entry() {
        let store = match KeyringStore::open() {
            Ok(store) => store,
            Err(why) => {
                println!("SKIPPED: no secure storage here: {why}");
                return;
            }
        };
        let name = format!("test-entry-{}", std::process::id());
        assert!(store.read(&name).expect("read").is_none());
        store.write(&name, b"push keys").expect("write");
        assert_eq!(
            store
                .read(&name)
                .expect("read")
                .as_deref()
                .map(Vec::as_slice),
            Some(&b"push keys"[..])
        );
        store.write(&name, b"replaced").expect("write again");
        assert_eq!(
            store
                .read(&name)
                .expect("read")
                .as_deref()
                .map(Vec::as_slice),
            Some(&b"replaced"[..])
        );
        store.delete(&name).expect("delete");
        assert!(store.read(&name).expect("read").is_none());
        store.delete(&name).expect("deleting nothing");
        println!("{} keeps, replaces and removes an entry", store.name());
    }

    #[test]
    fn a_gone_key_is_told_apart_from_a_cancelled_prompt() {
        assert!(says_key_gone("No key pair found"));
        assert!(says_key_gone(
            "Failed to decrypt data: Key permanently invalidated"
        ));
        assert!(!says_key_gone("Authentication canceled by user"));
        assert!(!says_key_gone("Too many attempts"));
    }
}
