//! Device features behind one name: `desktop.rs` and `mobile.rs` (as Tauri's plugins do).
//!
//! | feature | desktop | Android / iOS |
//! |---|---|---|
//! | camera scan | `Unsupported`: choose an image or paste a screenshot | the UI runs the barcode-scanner plugin (its Rust side exposes no scan) and sends the text to `add_uri` |
//! | location | `LocationUnavailable` (the geolocation plugin's desktop stub returns a zeroed position, which must never be shown) | geolocation plugin |
//! | biometric unlock | `Unsupported` | `Unsupported` until the device-key slot plugin exists (README, "Biometric unlock") |

#[cfg(desktop)]
mod desktop;
#[cfg(desktop)]
pub use desktop::*;

#[cfg(mobile)]
mod mobile;
#[cfg(mobile)]
pub use mobile::*;

/// Why biometrics cannot be turned on.
pub const BIOMETRICS_MISSING: &str = "biometric unlock needs a device-key slot in the Android Keystore or iOS Keychain, which this version does not have yet; unlock with your password";
