//! The client policies privacyIDEA sends with every finalize and sync reply.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ContainerError;

// ---------------------------------------------------------------------------------------------
// Policies.

/// The four client policies privacyIDEA sends with every finalize and sync reply, by their
/// privacyIDEA names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policies {
    /// The phone may start a rollover.
    #[serde(default)]
    pub container_client_rollover: bool,
    /// The first sync may take the phone's own privacyIDEA tokens into the container.
    #[serde(default)]
    pub initially_add_tokens_to_container: bool,
    /// The user must not delete container tokens on the phone.
    #[serde(default)]
    pub disable_client_token_deletion: bool,
    /// The phone must not unregister the container (or delete it).
    #[serde(default)]
    pub disable_client_container_unregister: bool,
}

impl Policies {
    pub(super) fn read(v: &Value) -> Result<Policies, ContainerError> {
        match v.get("policies") {
            Some(p) if p.is_object() => serde_json::from_value(p.clone())
                .map_err(|_| ContainerError::Response("malformed policies".into())),
            _ => Err(ContainerError::Response("no policies in the reply".into())),
        }
    }
}
