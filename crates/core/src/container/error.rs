//! Why a container operation failed, and the reading of privacyIDEA's result envelope.

use serde_json::Value;

use super::ContainerKeyError;
use crate::push::ServerError;
use crate::server_url::ServerUrlError;

// ---------------------------------------------------------------------------------------------
// Errors.

/// Why a container operation failed. Never holds a key, a passphrase or a token secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContainerError {
    /// Not a `pia://container/` URI.
    #[error("not a privacyIDEA container registration URI (pia://container/...)")]
    NotContainer,
    /// A required parameter is missing.
    #[error("the container QR code lacks {0:?}")]
    Missing(&'static str),
    /// A parameter has a value we cannot use.
    #[error("the container QR code's {field} is invalid ({value:?})")]
    Invalid {
        /// The parameter.
        field: &'static str,
        /// An excerpt of its value.
        value: String,
    },
    /// The server address is not one the transport reads one way only (`docs/containers.md`,
    /// "Origin"): refused before anything is sent.
    #[error("the container QR code's url (its server address) is refused: {0}")]
    Url(#[from] ServerUrlError),
    /// The QR asks for a key or hash algorithm this version does not speak.
    #[error("the container asks for {0:?}, but Twofold speaks secp384r1 with SHA256")]
    Algorithm(String),
    /// The registration QR's `ttl` has passed.
    #[error(
        "the registration QR code expired ({ttl_minutes} minutes after it was made); ask for a new one"
    )]
    Expired {
        /// The QR's time to live.
        ttl_minutes: u64,
    },
    /// The QR asks for a passphrase and none was given.
    #[error("the server asks for a passphrase: {0}")]
    PassphraseRequired(String),
    /// A key could not be made or used.
    #[error(transparent)]
    Key(#[from] ContainerKeyError),
    /// The server said no.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The server's policy forbids this (also checked locally before anything is sent).
    #[error("the server's policy {0} forbids this")]
    Forbidden(&'static str),
    /// The reply is not what the protocol says.
    #[error("unexpected container reply: {0}")]
    Response(String),
    /// The encrypted token list does not decrypt (altered, or not for this sync's key).
    #[error("the server's encrypted token list does not decrypt (altered or not for this request)")]
    Decrypt,
    /// The reply names more tokens or bytes than any container has.
    #[error("the sync reply is too large ({0})")]
    TooLarge(String),
}

impl ContainerError {
    /// True when the server says the container is not registered (any more): ERR3001, or an
    /// unknown container (ERR601).
    pub fn is_unregistered(&self) -> bool {
        matches!(
            self,
            ContainerError::Server(ServerError {
                code: 3001 | 601,
                ..
            })
        )
    }
}

/// `result.value` of a privacyIDEA reply, or its `result.error` as a [`ServerError`].
pub(super) fn result_value(body: &[u8]) -> Result<Value, ContainerError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| ContainerError::Response("the reply is not JSON".into()))?;
    let result = &v["result"];
    if result["status"] == Value::Bool(true) {
        return Ok(result["value"].clone());
    }
    if let Some(err) = result.get("error") {
        return Err(ServerError {
            code: err["code"].as_i64().unwrap_or(0),
            message: excerpt_long(err["message"].as_str().unwrap_or("")),
        }
        .into());
    }
    Err(ContainerError::Response("no result in the reply".into()))
}

/// Server text kept for an error message: at most 200 characters.
pub(super) fn excerpt_long(text: &str) -> String {
    text.chars().take(200).collect()
}
