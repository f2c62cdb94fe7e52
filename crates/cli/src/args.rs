//! The command line, as `docs/cli.md` fixes it.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Twofold: two-factor codes from otpauth URIs, Google Authenticator exports and QR images.
#[derive(Debug, Parser)]
#[command(name = "twofold", version, about, max_term_width = 100)]
pub struct Cli {
    /// The vault file (else $TWOFOLD_VAULT, else the platform data directory).
    #[arg(long, global = true, value_name = "PATH")]
    pub vault: Option<PathBuf>,
    /// A file whose first line is the vault password (else $TWOFOLD_PASSWORD, else a prompt).
    #[arg(long, global = true, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KdfChoice {
    /// Measure this machine and aim at 0.3-0.8 s per unlock (from 64 MiB, 3 passes).
    Calibrate,
    /// The floor: 19 MiB and 2 passes (slow machines, tests).
    Minimum,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new encrypted vault.
    Init {
        /// How to choose the Argon2id parameters of the password.
        #[arg(long, value_enum, default_value = "calibrate")]
        kdf: KdfChoice,
    },
    /// Add the account(s) a URI or a QR image holds.
    Add {
        /// otpauth://, steam:// or otpauth-migration:// URI.
        #[arg(required_unless_present = "image", conflicts_with = "image")]
        uri: Option<String>,
        /// A PNG or JPEG image with QR codes.
        #[arg(long, value_name = "IMAGE")]
        image: Option<PathBuf>,
    },
    /// List the vault's accounts.
    List {
        /// Print a JSON array of accounts.
        #[arg(long)]
        json: bool,
    },
    /// Print codes: of a URI (--uri), or of the vault's accounts matching QUERY.
    Code {
        /// Issuer, name or id to match (case-insensitive substring); all accounts if absent.
        #[arg(conflicts_with = "uri")]
        query: Option<String>,
        /// The URI, as a QR code holds it (no vault needed).
        #[arg(long, value_name = "URI")]
        uri: Option<String>,
        /// Compute at this Unix time instead of now.
        #[arg(long, value_name = "UNIX_SECONDS")]
        at: Option<u64>,
        /// Print a JSON array of accounts with their code.
        #[arg(long)]
        json: bool,
    },
    /// HOTP: advance the counter and print the new code.
    Next {
        /// The account's id.
        id: String,
    },
    /// Remove an account.
    Remove {
        /// The account's id.
        id: String,
    },
    /// List the accounts removed in the last 30 days (here, by a sync or by a container),
    /// newest first.
    Removed {
        /// Print a JSON array of `{"id", "issuer", "name", "removed_at", "by"}`.
        #[arg(long)]
        json: bool,
    },
    /// Bring back a removed account with its secret and settings (it syncs like any change).
    Restore {
        /// The removed account's id.
        id: String,
    },
    /// Change the vault password ($TWOFOLD_NEW_PASSWORD or a prompt).
    Passwd {
        /// How to choose the Argon2id parameters of the new password.
        #[arg(long, value_enum, default_value = "calibrate")]
        kdf: KdfChoice,
    },
    /// Import another app's export into the vault.
    Import {
        /// The exported file.
        file: PathBuf,
        /// The export's format (auto, aegis, 2fas, andotp, bitwarden, ente, ...).
        #[arg(long, default_value = "auto", value_name = "NAME")]
        format: String,
        /// A file whose first line is the export's password (encrypted exports).
        #[arg(long, value_name = "FILE")]
        import_password_file: Option<PathBuf>,
        /// Print `{"imported": N, "skipped": [{"entry", "reason"}]}`.
        #[arg(long)]
        json: bool,
    },
    /// Export every account of the vault in an open format (the file holds the secrets).
    Export {
        /// The file to write (replaced atomically, mode 0600, no FILE.bak, never via a symlink).
        file: PathBuf,
        /// aegis (encrypted), aegis-plain, otpauth-list or google-migration.
        #[arg(long, value_name = "NAME")]
        format: String,
        /// A file whose first line is the export's password (`aegis`); else the vault password.
        #[arg(long, value_name = "FILE")]
        export_password_file: Option<PathBuf>,
    },
    /// Check a backup or export against the vault: accounts missing, extra or different.
    Backup {
        #[command(subcommand)]
        command: BackupCommand,
    },
    /// Push sign-in approvals (privacyIDEA PUSH tokens).
    Push {
        #[command(subcommand)]
        command: PushCommand,
    },
    /// privacyIDEA token containers: register, sync, rollover, unregister.
    Container {
        #[command(subcommand)]
        command: ContainerCommand,
    },
    /// Sync the vault's OTP accounts with your other devices, end-to-end encrypted, through a
    /// folder that a sync tool carries or a WebDAV folder (the passphrase:
    /// $TWOFOLD_SYNC_PASSWORD or a prompt; the WebDAV password: $TWOFOLD_WEBDAV_PASSWORD or a
    /// prompt, then kept in the vault).
    Sync {
        /// Sync through this folder (and keep it as the vault's sync target).
        #[arg(long, value_name = "DIR", conflicts_with_all = ["off", "webdav"])]
        folder: Option<PathBuf>,
        /// Sync through this WebDAV folder, https:// (and keep it as the vault's sync target).
        #[arg(long, value_name = "URL", conflicts_with = "off")]
        webdav: Option<String>,
        /// The WebDAV user (HTTP Basic login), kept in the vault with the password.
        #[arg(long, value_name = "NAME", requires = "webdav")]
        webdav_user: Option<String>,
        /// Forget the sync target and the sync key (the accounts stay).
        #[arg(long)]
        off: bool,
        /// List the sync set's devices as of this device's last sync (no sync runs).
        #[arg(long, conflicts_with_all = ["off", "folder", "webdav", "remove_device", "device_name"])]
        devices: bool,
        /// Remove a device (its id, from --devices) and re-key the set with a new passphrase
        /// ($TWOFOLD_SYNC_NEW_PASSWORD or a prompt): it decrypts nothing written afterwards.
        #[arg(long, value_name = "ID", conflicts_with = "off")]
        remove_device: Option<String>,
        /// This device's name in the sync set (kept; sent with its replica).
        #[arg(long, value_name = "NAME", conflicts_with = "off")]
        device_name: Option<String>,
        /// How to choose the Argon2id parameters of a new sync set's passphrase.
        #[arg(long, value_enum, default_value = "calibrate")]
        kdf: KdfChoice,
        /// Print `{"target", "devices", "received", "sent", "changed"}` (with --devices:
        /// `[{"id", "name", "last_sync", "this"}]`).
        #[arg(long)]
        json: bool,
    },
    /// Print every QR code found in PNG or JPEG images.
    Scan {
        /// Image files (PNG or JPEG).
        #[arg(required = true, value_name = "IMAGE")]
        images: Vec<PathBuf>,
        /// Print `[{"file": ..., "text": ...}]`.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Compare a backup or export (any format `import` reads, or a Twofold vault backup) with
    /// the vault by issuer, name, type, parameters and secret, never printing a secret. Exit
    /// 1 when an account of the vault is missing from it or different in it.
    Check {
        /// The backup or export.
        file: PathBuf,
        /// A file whose first line is the backup's password (else the vault password).
        #[arg(long, value_name = "FILE")]
        import_password_file: Option<PathBuf>,
        /// Print `{"missing": [ACCOUNT], "extra": [ACCOUNT], "different": [{"id", "fields"}],
        /// "matching": N}`.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReasonArg {
    /// "That wasn't me": you did not start this sign-in.
    #[value(name = "unknown_trigger")]
    UnknownTrigger,
    /// You started it and changed your mind.
    #[value(name = "cancelled")]
    Cancelled,
}

#[derive(Debug, Subcommand)]
pub enum PushCommand {
    /// Complete a push enrolment from an otpauth://pipush/... or pia://pipush/... QR payload.
    Enroll {
        /// The QR code's text.
        uri: String,
    },
    /// Fetch, verify and list pending sign-in requests.
    Poll {
        /// Print `[{"serial", "nonce", "title", "question", "options", "received_at"}]`.
        #[arg(long)]
        json: bool,
    },
    /// Approve a pending sign-in request.
    Approve {
        /// The request's nonce (from `push poll`).
        nonce: String,
        /// Number matching: the option shown on the sign-in page.
        #[arg(long, value_name = "OPTION")]
        answer: Option<String>,
        /// Print `{"accepted": bool, "display_code": "..." or null}`.
        #[arg(long)]
        json: bool,
    },
    /// Deny a pending sign-in request.
    Deny {
        /// The request's nonce (from `push poll`).
        nonce: String,
        /// Why, where the server takes a reason.
        #[arg(long, value_enum)]
        reason: Option<ReasonArg>,
        /// Print `{"accepted": bool, "display_code": null}`.
        #[arg(long)]
        json: bool,
    },
    /// List the enrolled push accounts.
    List {
        /// Print `[{"serial", "issuer", "label", "url"}]`.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ContainerCommand {
    /// Register a privacyIDEA container from its pia://container/ QR code, then sync it (a
    /// passphrase the QR asks for: $TWOFOLD_CONTAINER_PASSPHRASE, else a prompt).
    Register {
        /// The QR code's text (pia://container/...).
        #[arg(required_unless_present = "image", conflicts_with = "image")]
        uri: Option<String>,
        /// A PNG or JPEG image with the QR code.
        #[arg(long, value_name = "IMAGE")]
        image: Option<PathBuf>,
        /// Send the device brand and model (Twofold, the OS) to the server.
        #[arg(long)]
        device_info: bool,
        /// An OTP account (its id, as `list` shows it) to offer if the server's policy
        /// `initially_add_tokens_to_container` asks for this device's tokens: the first sync
        /// sends its next two codes, and a token the server finds becomes managed by the
        /// container. Repeatable; none by default.
        #[arg(long = "offer", value_name = "ID")]
        offer: Vec<String>,
        /// Print `{"serial", "server_url", "policies", "sync"}`.
        #[arg(long)]
        json: bool,
    },
    /// Sync every container, or one: new, renewed and removed tokens.
    Sync {
        /// The container's serial (all containers if absent).
        serial: Option<String>,
        /// Print an array of `{"serial", "added", "updated", "removed", "skipped", "error"}`.
        #[arg(long)]
        json: bool,
    },
    /// List the registered containers.
    List {
        /// Print `[{"serial", "issuer", "server_url", "tokens", "policies", "last_sync"}]`.
        #[arg(long)]
        json: bool,
    },
    /// A new key and new secrets in place (when the server allows it).
    Rollover {
        /// The container's serial.
        serial: String,
        /// Print a new pia://container/ link for another device instead.
        #[arg(long)]
        transfer: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Unregister a container: it and its tokens leave the vault (when the server allows it).
    Unregister {
        /// The container's serial.
        serial: String,
        /// Print `{"serial", "unregistered": true}`.
        #[arg(long)]
        json: bool,
    },
}
