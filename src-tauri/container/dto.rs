//! The privacyIDEA token container types that cross the IPC boundary (docs/ipc.md,
//! "Containers"). No key and no token secret: the passphrase only comes in, as a command
//! argument, wiped on drop.

use serde::Serialize;

/// Sent after a background sync of the containers (launch, resume), with every
/// [`ContainerSyncView`]: the accounts may have changed.
pub const EVENT_CONTAINERS_SYNCED: &str = "containers-synced";

/// Why a container QR code deserves a second look before it is registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum ContainerWarning {
    /// The QR code turns off TLS certificate checks (`ssl_verify=False`).
    TlsNotVerified,
    /// The server is reached over plain HTTP (a local address only).
    PlainHttp,
}

/// A `pia://container/` QR code, read but not sent: the confirmation screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ContainerPreview {
    /// Register (or cancel) with this id.
    pub id: String,
    /// The container's serial.
    pub serial: String,
    /// Who asks (the QR code's issuer).
    pub issuer: String,
    /// The server's host name, as the registration will contact it.
    pub host: String,
    /// The whole server address.
    pub url: String,
    /// The server asks for a passphrase: its prompt text; `null` when it does not.
    pub passphrase_prompt: Option<String>,
    /// After this (Unix seconds) the QR code can no longer be used.
    #[cfg_attr(test, ts(type = "number"))]
    pub expires_at: u64,
    /// Every warning, in this order: TLS, plain HTTP.
    pub warnings: Vec<ContainerWarning>,
}

/// What the server allows this device to do with a container (its client policies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ContainerPolicies {
    /// "Move to a new phone" (rollover) is allowed.
    pub rollover: bool,
    /// The container's accounts may be deleted on this device.
    pub delete_tokens: bool,
    /// The container may be unregistered from this device.
    pub unregister: bool,
}

/// One token a container manages on this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ContainerTokenView {
    /// The server's token serial.
    pub serial: String,
    /// `hotp`, `totp`, `daypassword` or `push`.
    pub tokentype: String,
    /// The account's id (OTP tokens); `null` for a push token (its push account has `serial`).
    pub account: Option<String>,
}

/// A registered container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ContainerView {
    /// The container's serial.
    pub serial: String,
    /// The organization (the registration QR code's issuer).
    pub issuer: String,
    /// The server's address.
    pub server_url: String,
    /// Its tokens on this device.
    pub tokens: Vec<ContainerTokenView>,
    /// What the server allows.
    pub policies: ContainerPolicies,
    /// When it was registered (Unix seconds).
    #[cfg_attr(test, ts(type = "number"))]
    pub registered_at: u64,
    /// When it last synced (Unix seconds); `null`: never.
    #[cfg_attr(test, ts(type = "number | null"))]
    pub last_sync: Option<u64>,
    /// Why the last sync failed; `null` when it succeeded (or none ran since the app started).
    pub last_error: Option<String>,
}

/// An entry of a sync reply that could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ContainerSkip {
    /// The token (its serial or an excerpt of the entry).
    pub entry: String,
    /// Why.
    pub reason: String,
}

/// What one container sync did; all or nothing: when `error` is set nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ContainerSyncView {
    /// The container.
    pub serial: String,
    /// Serials of the tokens added (or re-keyed).
    pub added: Vec<String>,
    /// Serials of the tokens kept.
    pub updated: Vec<String>,
    /// Serials of the tokens the server removed, removed here too.
    pub removed: Vec<String>,
    /// Serials of this device's own tokens the server took into the container (the initial
    /// transfer); also in `updated`.
    pub joined: Vec<String>,
    /// Entries not taken.
    pub skipped: Vec<ContainerSkip>,
    /// Why the sync failed; `null` when it succeeded.
    pub error: Option<String>,
}

/// A registration: the container, and how its first sync went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ContainerRegistered {
    /// The registered container (kept even when the first sync failed).
    pub container: ContainerView,
    /// The first sync.
    pub sync: ContainerSyncView,
}

/// "Move to a new phone": the registration for the other device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ContainerTransfer {
    /// The `pia://container/` link; whoever registers it takes the container's accounts.
    pub link: String,
    /// The link as an SVG QR code, to scan with the new phone.
    pub qr_svg: String,
}
