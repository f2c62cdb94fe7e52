//! The sync reply: the token list decrypted for the phone's key, capped and read.

use std::fmt;

use base64::Engine as _;
use serde_json::Value;
use zeroize::Zeroizing;

use super::registration::valid_serial;
use super::{ContainerError, IdentifiedToken, MAX_SYNC_TOKENS, OfferedOtp, Policies};
use crate::server_url::ServerUrl;
use crate::uri::{MAX_URI_LEN, excerpt, query_pairs, split_scheme};

/// A token the server sent in `add`: a fresh enrolment (a new secret for a token the phone may
/// hold already).
#[derive(Clone, PartialEq, Eq)]
pub struct AddedToken {
    /// The server's token serial (the URI's `serial`).
    pub serial: String,
    /// `hotp`, `totp`, `daypassword`, `push`, ...
    pub tokentype: String,
    /// The enrolment URI (holds the secret or the enrolment credential).
    pub uri: Zeroizing<String>,
}

impl fmt::Debug for AddedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AddedToken")
            .field("serial", &self.serial)
            .field("tokentype", &self.tokentype)
            .finish_non_exhaustive()
    }
}

impl AddedToken {
    /// True for a PUSH token (enrol it through [`crate::push::privacyidea::Enrolment`]).
    pub fn is_push(&self) -> bool {
        self.tokentype == "push"
    }

    /// A PUSH token's server (its enrolment URI's `url`, where the phone enrols, polls and
    /// answers) as the transport reads it; why not, when it has none or it is refused.
    pub fn push_server(&self) -> Result<ServerUrl, String> {
        // The enrolment's own reading of the URI (its time is not looked at here).
        crate::push::privacyidea::Enrolment::parse(&self.uri, 0)
            .map(|e| e.server_url().clone())
            .map_err(|e| e.to_string())
    }

    /// The OTP account an OTP token's URI holds: `daypassword` is a TOTP with its period
    /// (86400 s), HOTP starts at the URI's counter.
    pub fn otp_account(&self) -> Result<crate::OtpAccount, crate::uri::UriError> {
        let uri = if self.tokentype == "daypassword" {
            Zeroizing::new(
                self.uri
                    .replacen("otpauth://daypassword/", "otpauth://totp/", 1),
            )
        } else {
            self.uri.clone()
        };
        crate::uri::parse(&uri)
    }
}

/// A token the server listed in `update`. `Debug` never shows the echoed OTP values (an
/// offered HOTP's values stay valid).
#[derive(Clone, PartialEq, Eq)]
pub struct UpdatedToken {
    /// The server's token serial.
    pub serial: String,
    /// Its type.
    pub tokentype: String,
    /// HOTP: the next counter the server expects.
    pub counter: Option<u64>,
    /// The OTP values the phone identified it by, echoed (a token offered without a serial).
    pub otp: Vec<String>,
}

impl fmt::Debug for UpdatedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpdatedToken")
            .field("serial", &self.serial)
            .field("tokentype", &self.tokentype)
            .field("counter", &self.counter)
            .field("otp_values", &self.otp.len())
            .finish()
    }
}

/// A decrypted, checked sync reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReply {
    /// The container's serial.
    pub serial: String,
    /// The newest client policies.
    pub policies: Policies,
    /// New enrolments (new tokens, and tokens re-keyed).
    pub add: Vec<AddedToken>,
    /// Tokens the server still has in the container.
    pub update: Vec<UpdatedToken>,
    /// Offline tokens that cannot move (after a rollover).
    pub offline: Vec<String>,
    /// `add` entries that could not be read: (an excerpt, why).
    pub skipped: Vec<(String, String)>,
    /// Offered OTP accounts the server found by their values and lists in `update`.
    pub identified: Vec<IdentifiedToken>,
}

impl SyncReply {
    /// Maps the `update` entries whose echoed `otp` values are those of one of `offers` to
    /// that offer's account ([`SyncReply::identified`]); [`PendingSync::finish`] does it with
    /// the offers it sent.
    pub fn identify(&mut self, offers: &[OfferedOtp]) {
        for u in self.update.iter().filter(|u| u.otp.len() == 2) {
            let Some(o) = offers.iter().find(|o| {
                o.otp[0].as_str() == u.otp[0]
                    && o.otp[1].as_str() == u.otp[1]
                    && o.tokentype == u.tokentype
            }) else {
                continue;
            };
            if self
                .identified
                .iter()
                .any(|i| i.account == o.account || i.serial == u.serial)
            {
                continue;
            }
            self.identified.push(IdentifiedToken {
                account: o.account.clone(),
                serial: u.serial.clone(),
            });
        }
    }
}

pub(super) fn b64_any(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    URL_SAFE
        .decode(text)
        .or_else(|_| STANDARD.decode(text))
        .ok()
}

/// Reads the decrypted `container_dict_server` (tests feed it directly).
pub fn read_sync_plaintext(
    serial: &str,
    plain: &[u8],
    policies: Policies,
) -> Result<SyncReply, ContainerError> {
    // The parsed JSON holds the secrets only until the URIs are copied into zeroizing strings
    // below; serde_json's values cannot be zeroized in place.
    let dict: Value = serde_json::from_slice(plain)
        .map_err(|_| ContainerError::Response("the decrypted token list is not JSON".into()))?;
    if let Some(s) = dict["container"]["serial"].as_str()
        && s != serial
    {
        return Err(ContainerError::Response(format!(
            "the reply is for container {}",
            excerpt(s)
        )));
    }
    let tokens = &dict["tokens"];
    let list = |k: &str| -> Result<&[Value], ContainerError> {
        match tokens.get(k) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) => Ok(a.as_slice()),
            Some(_) => Err(ContainerError::Response(format!(
                "tokens.{k} is not a list"
            ))),
        }
    };
    let (adds, updates, offline) = (list("add")?, list("update")?, list("offline")?);
    let count = adds.len() + updates.len() + offline.len();
    if count > MAX_SYNC_TOKENS {
        return Err(ContainerError::TooLarge(format!("{count} tokens")));
    }
    let mut reply = SyncReply {
        serial: serial.to_owned(),
        policies,
        add: Vec::new(),
        update: Vec::new(),
        offline: offline
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        skipped: Vec::new(),
        identified: Vec::new(),
    };
    for a in adds {
        let Some(uri) = a.as_str() else {
            reply
                .skipped
                .push(("(not text)".into(), "an add entry is not a URI".into()));
            continue;
        };
        match added_token(uri) {
            Ok(t) if reply.add.iter().any(|a| a.serial == t.serial) => reply
                .skipped
                .push((t.serial.clone(), "listed twice in one reply".into())),
            Ok(t) => reply.add.push(t),
            Err(reason) => reply.skipped.push((uri_label(uri), reason)),
        }
    }
    for u in updates {
        let serial = u["serial"].as_str().unwrap_or("");
        if !valid_serial(serial) {
            return Err(ContainerError::Response(
                "an update entry lacks a valid serial".into(),
            ));
        }
        if reply.update.iter().any(|x| x.serial == serial) {
            continue;
        }
        reply.update.push(UpdatedToken {
            serial: serial.to_owned(),
            tokentype: u["tokentype"].as_str().unwrap_or("").to_ascii_lowercase(),
            counter: u["counter"].as_u64(),
            otp: match u.get("otp") {
                Some(Value::Array(a)) if a.len() <= 2 => a
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|v| v.len() <= 16)
                    .map(str::to_owned)
                    .collect(),
                _ => Vec::new(),
            },
        });
    }
    Ok(reply)
}

/// The label part of an enrolment URI (never its secret), for a skipped entry.
fn uri_label(uri: &str) -> String {
    let head = uri.split('?').next().unwrap_or("");
    excerpt(head.rsplit('/').next().unwrap_or(""))
}

fn added_token(uri: &str) -> Result<AddedToken, String> {
    if uri.len() > MAX_URI_LEN {
        return Err(format!("the URI is {} bytes long", uri.len()));
    }
    let (scheme, rest) = split_scheme(uri).ok_or("not a URI")?;
    let kind = rest.split('/').next().unwrap_or("").to_ascii_lowercase();
    let tokentype = match (scheme.as_str(), kind.as_str()) {
        ("otpauth" | "pia", "pipush") => "push",
        ("otpauth", "hotp") => "hotp",
        ("otpauth", "totp") => "totp",
        ("otpauth", "daypassword") => "daypassword",
        _ => return Err(format!("unsupported token type {:?}", excerpt(&kind))),
    };
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    let pairs = query_pairs(query);
    let serial = pairs
        .iter()
        .find(|(k, _)| k == "serial")
        .and_then(|(_, v)| percent_encoding::percent_decode_str(v).decode_utf8().ok())
        .map(|s| s.into_owned())
        .ok_or("the URI has no serial")?;
    if !valid_serial(&serial) {
        return Err(format!("invalid serial {:?}", excerpt(&serial)));
    }
    Ok(AddedToken {
        serial,
        tokentype: tokentype.to_owned(),
        uri: Zeroizing::new(uri.to_owned()),
    })
}
