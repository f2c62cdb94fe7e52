//! Twofold's core: everything the app and the CLI share, with no I/O in its logic.
//!
//! - [`otp`]: HOTP (RFC 4226), TOTP (RFC 6238) and Steam Guard codes on `ring`'s HMAC.
//! - [`uri`]: `otpauth://` and `steam://` URIs, read and written.
//! - [`migration`]: Google Authenticator's `otpauth-migration://` exports, read and written.
//! - [`scan`]: every QR code in a PNG/JPEG image or a raw luma buffer.
//! - [`payload`]: one entry point for whatever a QR code holds.
//! - [`clock`]: the injected time source.
//! - `crypto` (private): the AEADs and key derivations that import, export and the vault share.
//! - [`push`]: push sign-in approvals (privacyIDEA PUSH), sans-IO.
//! - [`container`]: privacyIDEA token containers (register, sync, rollover, unregister), sans-IO.
//! - [`server_url`]: a server's address as the HTTP transport reads it (origin checks).
//! - [`backup`]: a backup or export compared with the vault (restore drill, `backup check`).
//! - [`sync`]: end-to-end encrypted sync between devices (CRDT merge, sealed replicas), sans-IO.
//!
//! Secrets live in [`Secret`], which zeroizes on drop and never prints.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod account;
pub mod backup;
pub mod clock;
pub mod container;
pub(crate) mod crypto;
pub mod export;
pub mod import;
pub mod migration;
pub mod otp;
pub mod payload;
pub mod push;
pub mod rng;
pub mod scan;
pub mod secret;
pub mod server_url;
pub mod strength;
pub mod sync;
pub mod uri;
pub mod vault;

pub use account::{AccountEntry, OtpAccount};
pub use clock::{Clock, FixedClock, SystemClock};
pub use otp::{Algorithm, Kind, OtpParams};
pub use secret::Secret;
