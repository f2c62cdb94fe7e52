//! Why a vault could not be opened or changed: one enum per operation, every reason typed, no
//! front end's wording (the CLI and the app add their own hints).

use crate::otp::ParamsError;
use crate::push::KeyError;
use crate::rng::RngError;
use crate::secret::SecretError;

use super::kdf::KdfError;

/// Why a vault could not be opened. A wrong password and a damaged file are different.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// No password slot unwraps the master key with this password.
    #[error("wrong password")]
    WrongPassword,
    /// The file is empty, truncated, altered or not a vault.
    #[error("the vault file is corrupt: {0}")]
    Corrupt(#[from] Corruption),
    /// Written by a newer Twofold.
    #[error("the vault was written by a newer Twofold (format version {0}); update the app")]
    UnsupportedVersion(u32),
    /// The device key does not open any device slot.
    #[error("the device key does not unlock this vault")]
    DeviceKeyRejected,
}

/// What is wrong with a corrupt vault file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Corruption {
    /// Nothing but white space.
    #[error("the file is empty")]
    Empty,
    /// Larger than [`super::MAX_FILE_BYTES`].
    #[error("the file is larger than any vault")]
    TooLarge,
    /// Not JSON of the vault's shape.
    #[error("not a vault file, or truncated")]
    NotVaultJson,
    /// JSON, but its `format` is not [`super::FORMAT`].
    #[error("not a Twofold vault")]
    NotTwofold,
    /// The checksum over header and database does not match.
    #[error("its checksum does not match (the file was altered or damaged)")]
    Checksum,
    /// The header is not of the header's shape.
    #[error("the header is malformed")]
    Header,
    /// A password slot names another KDF or parameters below the floor.
    #[error("a password slot has unacceptable key derivation parameters")]
    SlotKdfUnacceptable,
    /// A password slot's salt is not base64.
    #[error("a password slot's salt is malformed")]
    SlotSaltMalformed,
    /// A password slot's salt is shorter than 16 bytes.
    #[error("a password slot's salt is too short")]
    SlotSaltShort,
    /// Argon2id refused a password slot's parameters.
    #[error("a password slot has invalid key derivation parameters")]
    SlotKdfInvalid,
    /// There is no password slot at all.
    #[error("the vault has no password slot")]
    NoPasswordSlot,
    /// More key slots (or password slots) than any vault has ([`super::MAX_SLOTS`],
    /// [`super::MAX_PASSWORD_SLOTS`]): refused before any key derivation.
    #[error("the vault lists more key slots than any vault has")]
    TooManySlots,
    /// The encrypted database does not decrypt with the master key.
    #[error("the encrypted database fails authentication (altered or damaged)")]
    DatabaseAuth,
    /// The decrypted database is not JSON of the database's shape.
    #[error("the decrypted database is not valid JSON")]
    DatabaseJson,
    /// An account of the database cannot be read.
    #[error("account {position}: {reason}")]
    Account {
        /// Its place in the database, from 1.
        position: usize,
        /// What is wrong with it.
        reason: StoredAccountError,
    },
    /// A recently removed account of the database cannot be read.
    #[error("removed account {position}: {reason}")]
    RemovedAccount {
        /// Its place among the removed accounts, from 1.
        position: usize,
        /// What is wrong with it.
        reason: StoredAccountError,
    },
    /// A token container of the database cannot be read.
    #[error("token container {position} cannot be read")]
    Container {
        /// Its place in the database, from 1.
        position: usize,
    },
    /// A push account of the database cannot be read.
    #[error("push account {position}: {reason}")]
    PushAccount {
        /// Its place in the database, from 1.
        position: usize,
        /// What is wrong with it.
        reason: StoredPushAccountError,
    },
}

/// Why a stored OTP account cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoredAccountError {
    /// The type is unknown, or a TOTP/Steam account has no period or an HOTP one no counter.
    #[error("unknown type or missing period/counter")]
    Kind,
    /// Digits or period out of range.
    #[error(transparent)]
    Params(#[from] ParamsError),
    /// The secret is not valid Base32.
    #[error(transparent)]
    Secret(#[from] SecretError),
}

/// Why a stored push account cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoredPushAccountError {
    /// The phone's private key is not base64.
    #[error("the phone key is not base64")]
    PhoneKeyBase64,
    /// A key is not a valid key.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// Why the vault could not be changed or encrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// No account with that id.
    #[error("no account with id {0:?}")]
    NotFound(String),
    /// A restore of an account that is in the vault already.
    #[error("account {0:?} is in the vault already")]
    AlreadyPresent(String),
    /// `next` on an account that is not HOTP.
    #[error("only HOTP accounts have a counter to advance")]
    NotHotp,
    /// The HOTP counter cannot go further.
    #[error("the HOTP counter is at its maximum")]
    CounterOverflow,
    /// Random bytes were not available.
    #[error(transparent)]
    Rng(#[from] RngError),
    /// Key derivation failed.
    #[error(transparent)]
    Kdf(#[from] KdfError),
    /// Encryption failed (never expected with valid keys).
    #[error("encryption failed")]
    Encrypt,
    /// The account belongs to a token container whose server forbids deleting it on the
    /// device (policy `disable_client_token_deletion`).
    #[error(
        "this account is managed by the token container {0}, whose server does not allow deleting it here"
    )]
    ManagedDeletion(String),
    /// The account cannot be offered to a token container's initial transfer.
    #[error("account {id:?} cannot be offered to the token container: {reason}")]
    NotOfferable {
        /// The account's id.
        id: String,
        /// Why not.
        reason: &'static str,
    },
    /// No device slot has that id.
    #[error("no device slot with that id")]
    NoDeviceSlot,
    /// The encrypted vault would be larger than any vault the reader accepts
    /// ([`super::MAX_FILE_BYTES`]); nothing was written.
    #[error(
        "the vault would be {bytes} bytes, more than the {max} a vault may hold; nothing was saved (remove long notes or accounts)",
        max = super::MAX_FILE_BYTES
    )]
    TooLarge {
        /// The size the file would have had.
        bytes: usize,
    },
}
