//! privacyIDEA smartphone token containers (3.11+), sans-IO: this module builds the requests
//! and reads the replies; the app and the CLI carry the bytes (`docs/containers.md`).
//!
//! One type per state: a scanned [`Registration`] becomes a [`PendingRegistration`] (the
//! signed finalize request) and then a registered [`Container`]. A registered container asks
//! for an [`OpenChallenge`] and spends it on a [`PendingSync`] (whose reply becomes a
//! [`SyncReply`]), a [`PendingRollover`] or a [`PendingUnregister`].
//!
//! Every string the phone signs is built by one named function ([`register_message`],
//! [`sync_message`], [`rollover_message`], [`unregister_message`]), with golden vectors in
//! `tests/container_vectors.rs`.

mod keys;

use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

pub use keys::{ContainerKey, ContainerKeyError, SyncKey, aes_gcm16_open};

use crate::push::{Method, Request, ServerError};
use crate::rng::Rng;
use crate::server_url::{ServerUrl, ServerUrlError};
use crate::uri::{MAX_URI_LEN, excerpt, query_pairs, split_scheme};

/// The registration QR's `ttl` when it has none or ≤ 0, in minutes (privacyIDEA's default).
pub const DEFAULT_TTL_MINUTES: u64 = 10;
/// The most tokens (`add` + `update`) a sync reply may list; more is refused before any work.
pub const MAX_SYNC_TOKENS: usize = 1000;
/// The largest encrypted token list taken (base64 characters).
pub const MAX_SYNC_CIPHERTEXT: usize = 1024 * 1024;
/// The device brand Twofold sends with `--device-info`.
pub const DEVICE_BRAND: &str = "Twofold";

/// The paths of the phone's endpoints, after the server URL.
pub mod path {
    /// Registration, step 2.
    pub const FINALIZE: &str = "container/register/finalize";
    /// A one-time challenge for the three operations below.
    pub const CHALLENGE: &str = "container/challenge";
    /// Synchronisation.
    pub const SYNC: &str = "container/synchronize";
    /// Rollover.
    pub const ROLLOVER: &str = "container/rollover";
    /// Unregister.
    pub const UNREGISTER: &str = "container/register/terminate/client";
}

// ---------------------------------------------------------------------------------------------
// Signed strings and URLs.

/// An endpoint URL by the server's rule (`create_endpoint_url`): `url`, a `/` unless it ends in
/// one, then `path`. Also the signed *scope*.
pub fn endpoint_url(url: &str, path: &str) -> String {
    if url.ends_with('/') {
        format!("{url}{path}")
    } else {
        format!("{url}/{path}")
    }
}

fn join_nonempty(base: String, parts: &[&str]) -> String {
    let mut s = base;
    for p in parts.iter().filter(|p| !p.is_empty()) {
        s.push('|');
        s.push_str(p);
    }
    s
}

/// What the phone signs to finalize a registration:
/// `{nonce}|{time}|{serial}|{scope}[|{brand}][|{model}][|{passphrase}]` (each optional part
/// only when non-empty; the public key is not part of it).
pub fn register_message(
    nonce: &str,
    time: &str,
    serial: &str,
    scope: &str,
    device_brand: &str,
    device_model: &str,
    passphrase: &str,
) -> String {
    join_nonempty(
        format!("{nonce}|{time}|{serial}|{scope}"),
        &[device_brand, device_model, passphrase],
    )
}

/// What the phone signs to synchronize:
/// `{nonce}|{time_stamp}|{serial}|{scope}|{public_enc_key_client}|{container_dict_client}`.
pub fn sync_message(
    nonce: &str,
    time_stamp: &str,
    serial: &str,
    scope: &str,
    public_enc_key_client: &str,
    container_dict_client: &str,
) -> String {
    join_nonempty(
        format!("{nonce}|{time_stamp}|{serial}|{scope}"),
        &[public_enc_key_client, container_dict_client],
    )
}

/// What the phone signs to ask for a rollover: `{nonce}|{time_stamp}|{serial}|{scope}`.
pub fn rollover_message(nonce: &str, time_stamp: &str, serial: &str, scope: &str) -> String {
    format!("{nonce}|{time_stamp}|{serial}|{scope}")
}

/// What the phone signs to unregister: `{nonce}|{time_stamp}|{serial}|{scope}`.
pub fn unregister_message(nonce: &str, time_stamp: &str, serial: &str, scope: &str) -> String {
    format!("{nonce}|{time_stamp}|{serial}|{scope}")
}

/// The `container_dict_client` the phone sends (and signs):
/// `{"container_serial":"SMPH...","type":"smartphone","tokens":[{"serial","tokentype"},...]}`.
pub fn container_dict_client(serial: &str, tokens: &[ReportedToken]) -> String {
    container_dict_client_offering(serial, tokens, &[])
}

/// [`container_dict_client`] with OTP tokens offered for the initial transfer by their next
/// two values: `{"tokentype":"totp","otp":["123456","654321"]}`, HOTP adding
/// `"counter":"5"` (the counter of the first value, as text as the official app sends it).
pub fn container_dict_client_offering(
    serial: &str,
    tokens: &[ReportedToken],
    offers: &[OfferedOtp],
) -> String {
    #[derive(Serialize)]
    #[serde(untagged)]
    enum Entry<'a> {
        Serial(&'a ReportedToken),
        Otp {
            tokentype: &'a str,
            otp: [&'a str; 2],
            #[serde(skip_serializing_if = "Option::is_none")]
            counter: Option<String>,
        },
    }
    #[derive(Serialize)]
    struct Dict<'a> {
        container_serial: &'a str,
        #[serde(rename = "type")]
        kind: &'static str,
        tokens: Vec<Entry<'a>>,
    }
    let mut entries: Vec<Entry> = tokens.iter().map(Entry::Serial).collect();
    entries.extend(offers.iter().map(|o| Entry::Otp {
        tokentype: &o.tokentype,
        otp: [o.otp[0].as_str(), o.otp[1].as_str()],
        counter: o.counter.map(|c| c.to_string()),
    }));
    serde_json::to_string(&Dict {
        container_serial: serial,
        kind: "smartphone",
        tokens: entries,
    })
    .unwrap_or_default()
}

/// Reads privacyIDEA's ISO 8601 time (`2026-12-01T21:17:26.235976+00:00`, fraction and offset
/// optional) as Unix seconds.
pub fn parse_server_time(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| -> Option<i64> { text.get(r)?.parse().ok() };
    let (y, mo, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (h, mi, s) = (n(11..13)?, n(14..16)?, n(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(r) = rest.strip_prefix('.') {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        rest = &r[digits..];
    }
    let offset = match rest {
        "" | "Z" | "+00:00" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o[1..3].parse::<i64>().ok()? * 3600 + o[4..6].parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let t = days * 86_400 + h * 3600 + mi * 60 + s - offset;
    u64::try_from(t).ok()
}

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
fn result_value(body: &[u8]) -> Result<Value, ContainerError> {
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
fn excerpt_long(text: &str) -> String {
    text.chars().take(200).collect()
}

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
    fn read(v: &Value) -> Result<Policies, ContainerError> {
        match v.get("policies") {
            Some(p) if p.is_object() => serde_json::from_value(p.clone())
                .map_err(|_| ContainerError::Response("malformed policies".into())),
            _ => Err(ContainerError::Response("no policies in the reply".into())),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Registration.

/// A scanned `pia://container/` QR code, checked. Its nonce is kept in zeroizing memory.
#[derive(Clone, PartialEq, Eq)]
pub struct Registration {
    serial: String,
    issuer: String,
    ttl_minutes: u64,
    nonce: Zeroizing<String>,
    time: String,
    url: ServerUrl,
    verify_tls: bool,
    passphrase_prompt: String,
    send_passphrase: bool,
    scanned_at: u64,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("serial", &self.serial)
            .field("issuer", &self.issuer)
            .field("url", &self.url)
            .field("time", &self.time)
            .field("ttl_minutes", &self.ttl_minutes)
            .field("verify_tls", &self.verify_tls)
            .finish_non_exhaustive()
    }
}

fn decode(raw: &str, field: &'static str) -> Result<String, ContainerError> {
    // Python's `quote` never writes `+` for a space, so a `+` is a `+`.
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| ContainerError::Invalid {
            field,
            value: excerpt(raw),
        })
}

fn valid_serial(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// True for text that is a `pia://container/` registration QR: the one classifier's answer
/// ([`crate::payload::PayloadKind::of`]).
pub fn is_registration_uri(text: &str) -> bool {
    crate::payload::PayloadKind::of(text) == crate::payload::PayloadKind::ContainerRegistration
}

impl Registration {
    /// Reads a registration QR scanned at `scanned_at` (Unix seconds).
    pub fn parse(uri: &str, scanned_at: u64) -> Result<Registration, ContainerError> {
        let uri = uri.trim();
        if uri.len() > MAX_URI_LEN {
            return Err(ContainerError::Invalid {
                field: "URI",
                value: format!("{} bytes long", uri.len()),
            });
        }
        if !is_registration_uri(uri) {
            return Err(ContainerError::NotContainer);
        }
        let rest = &uri["pia://container/".len()..];
        let (raw_label, query) = rest.split_once('?').unwrap_or((rest, ""));
        let pairs = query_pairs(query);
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        let required = |k: &'static str| -> Result<String, ContainerError> {
            let v = decode(get(k).ok_or(ContainerError::Missing(k))?, k)?;
            if v.is_empty() {
                return Err(ContainerError::Missing(k));
            }
            Ok(v)
        };
        let optional = |k: &'static str| -> Result<String, ContainerError> {
            get(k)
                .map(|v| decode(v, k))
                .transpose()
                .map(Option::unwrap_or_default)
        };
        let serial = match get("serial") {
            Some(_) => required("serial")?,
            None => decode(raw_label, "label")?,
        };
        if !valid_serial(&serial) {
            return Err(ContainerError::Invalid {
                field: "serial",
                value: excerpt(&serial),
            });
        }
        let key_algorithm = optional("key_algorithm")?;
        if !key_algorithm.is_empty() && !key_algorithm.eq_ignore_ascii_case("secp384r1") {
            return Err(ContainerError::Algorithm(excerpt(&key_algorithm)));
        }
        let hash_algorithm = optional("hash_algorithm")?;
        if !hash_algorithm.is_empty() && !hash_algorithm.eq_ignore_ascii_case("sha256") {
            return Err(ContainerError::Algorithm(excerpt(&hash_algorithm)));
        }
        let nonce = Zeroizing::new(required("nonce")?);
        if nonce.contains('|') {
            return Err(ContainerError::Invalid {
                field: "nonce",
                value: "contains '|'".into(),
            });
        }
        let time = required("time")?;
        if parse_server_time(&time).is_none() || time.contains('|') {
            return Err(ContainerError::Invalid {
                field: "time",
                value: excerpt(&time),
            });
        }
        let url = ServerUrl::parse(&required("url")?)?;
        // A `|` would make the signed scope ambiguous; a query or fragment would swallow the
        // endpoint paths appended to the base URL.
        if url.as_str().contains('|')
            || url.url().query().is_some()
            || url.url().fragment().is_some()
        {
            return Err(ContainerError::Invalid {
                field: "url",
                value: excerpt(url.as_str()),
            });
        }
        let ttl_minutes = match optional("ttl")?.trim() {
            "" => DEFAULT_TTL_MINUTES,
            t => match t.parse::<i64>() {
                Ok(n) if n > 0 => n as u64,
                Ok(_) => DEFAULT_TTL_MINUTES,
                Err(_) => {
                    return Err(ContainerError::Invalid {
                        field: "ttl",
                        value: excerpt(t),
                    });
                }
            },
        };
        let verify_tls = match optional("ssl_verify")?.to_ascii_lowercase().as_str() {
            "" | "true" | "1" => true,
            "false" | "0" => false,
            v => {
                return Err(ContainerError::Invalid {
                    field: "ssl_verify",
                    value: excerpt(v),
                });
            }
        };
        let send_passphrase = match optional("send_passphrase")?.to_ascii_lowercase().as_str() {
            "" | "false" | "0" => false,
            "true" | "1" => true,
            v => {
                return Err(ContainerError::Invalid {
                    field: "send_passphrase",
                    value: excerpt(v),
                });
            }
        };
        Ok(Registration {
            issuer: optional("issuer")?,
            passphrase_prompt: optional("passphrase")?,
            serial,
            ttl_minutes,
            nonce,
            time,
            url,
            verify_tls,
            send_passphrase,
            scanned_at,
        })
    }

    /// The container's serial.
    pub fn serial(&self) -> &str {
        &self.serial
    }
    /// Who made the QR (`privacyIDEA`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    /// The server's base URL (every endpoint is under it), as the transport reads it.
    pub fn server_url(&self) -> &ServerUrl {
        &self.url
    }
    /// Check TLS certificates (`ssl_verify=True`).
    pub fn verify_tls(&self) -> bool {
        self.verify_tls
    }
    /// The server's prompt when it asks for a passphrase.
    pub fn passphrase_prompt(&self) -> Option<&str> {
        if self.passphrase_prompt.is_empty() && !self.send_passphrase {
            None
        } else if self.passphrase_prompt.is_empty() {
            Some("Please enter the passphrase of your user store.")
        } else {
            Some(&self.passphrase_prompt)
        }
    }
    /// After this (Unix seconds, by this device's clock) the QR is discarded: its `time` plus
    /// `ttl` minutes, as the server enforces it.
    pub fn expires_at(&self) -> u64 {
        parse_server_time(&self.time)
            .unwrap_or(self.scanned_at)
            .saturating_add(self.ttl_minutes.saturating_mul(60))
    }

    /// Registration step 2: the signed finalize request with the new `key`. `device` is
    /// (brand, model), sent only when the user agreed; `passphrase` is required when
    /// [`Registration::passphrase_prompt`] says so.
    pub fn start(
        self,
        key: ContainerKey,
        device: Option<(&str, &str)>,
        passphrase: Option<&str>,
        now: u64,
    ) -> Result<PendingRegistration, ContainerError> {
        if now > self.expires_at() {
            return Err(ContainerError::Expired {
                ttl_minutes: self.ttl_minutes,
            });
        }
        let passphrase = match (self.passphrase_prompt(), passphrase) {
            (Some(prompt), None) => {
                return Err(ContainerError::PassphraseRequired(excerpt_long(prompt)));
            }
            (Some(_), Some(p)) => Zeroizing::new(p.to_owned()),
            (None, _) => Zeroizing::new(String::new()),
        };
        let (brand, model) = device.unwrap_or(("", ""));
        for (field, v) in [("device brand", brand), ("device model", model)] {
            if v.contains('|') {
                return Err(ContainerError::Invalid {
                    field,
                    value: excerpt(v),
                });
            }
        }
        let scope = endpoint_url(self.url.as_str(), path::FINALIZE);
        let message = Zeroizing::new(register_message(
            &self.nonce,
            &self.time,
            &self.serial,
            &scope,
            brand,
            model,
            &passphrase,
        ));
        let mut params = vec![
            ("container_serial".to_owned(), self.serial.clone()),
            ("public_client_key".to_owned(), key.public_key_pem()?),
            ("signature".to_owned(), key.sign(&message)?),
        ];
        if !brand.is_empty() {
            params.push(("device_brand".to_owned(), brand.to_owned()));
        }
        if !model.is_empty() {
            params.push(("device_model".to_owned(), model.to_owned()));
        }
        if self.send_passphrase {
            params.push(("passphrase".to_owned(), passphrase.to_string()));
        }
        let request = Request {
            method: Method::Post,
            url: scope,
            params,
            verify_tls: self.verify_tls,
        };
        Ok(PendingRegistration {
            registration: self,
            key,
            request,
        })
    }
}

/// A registration whose finalize request is ready: send [`PendingRegistration::request`], then
/// give the reply to [`PendingRegistration::finish`]. Nothing is stored before that.
#[derive(Debug)]
pub struct PendingRegistration {
    registration: Registration,
    key: ContainerKey,
    request: Request,
}

impl PendingRegistration {
    /// The request to send.
    pub fn request(&self) -> &Request {
        &self.request
    }
    /// The QR it came from.
    pub fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Reads the finalize reply: the registered container, with the server's policies.
    pub fn finish(self, body: &[u8], now: u64) -> Result<Container, ContainerError> {
        let v = result_value(body)?;
        if v.get("success").and_then(Value::as_bool) == Some(false) {
            return Err(ContainerError::Response(
                "the server did not confirm".into(),
            ));
        }
        let policies = Policies::read(&v)?;
        let r = self.registration;
        Ok(Container {
            serial: r.serial,
            issuer: r.issuer,
            server_url: r.url,
            verify_tls: r.verify_tls,
            key: self.key,
            policies,
            registered_at: now,
            last_sync: None,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// A registered container.

/// A registered container: everything needed to sync, roll over and unregister it. Lives in
/// the vault (the key encrypted with the rest). `Debug` never shows the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// The container's serial (`SMPH...`).
    pub serial: String,
    /// Who registered it (the QR's `issuer`).
    pub issuer: String,
    /// The server's base URL, as the transport reads it (also the origin every push token of
    /// the container must have).
    pub server_url: ServerUrl,
    /// Check TLS certificates.
    pub verify_tls: bool,
    /// The phone's P-384 key.
    pub key: ContainerKey,
    /// The server's newest client policies.
    pub policies: Policies,
    /// When it was registered (Unix seconds).
    pub registered_at: u64,
    /// When it last synced successfully (Unix seconds).
    pub last_sync: Option<u64>,
}

/// What a challenge is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `/container/synchronize`.
    Sync,
    /// `/container/rollover`.
    Rollover,
    /// `/container/register/terminate/client`.
    Unregister,
}

impl Operation {
    fn path(self) -> &'static str {
        match self {
            Operation::Sync => path::SYNC,
            Operation::Rollover => path::ROLLOVER,
            Operation::Unregister => path::UNREGISTER,
        }
    }
}

/// A one-time server challenge for one operation (used once, within the server's window).
#[derive(Clone, PartialEq, Eq)]
pub struct OpenChallenge {
    operation: Operation,
    nonce: Zeroizing<String>,
    time_stamp: String,
}

impl fmt::Debug for OpenChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenChallenge")
            .field("operation", &self.operation)
            .field("time_stamp", &self.time_stamp)
            .finish_non_exhaustive()
    }
}

impl OpenChallenge {
    /// A challenge from its parts (tests and vectors).
    pub fn new(operation: Operation, nonce: &str, time_stamp: &str) -> OpenChallenge {
        OpenChallenge {
            operation,
            nonce: Zeroizing::new(nonce.to_owned()),
            time_stamp: time_stamp.to_owned(),
        }
    }
}

/// A token as a sync reports it: every container token the vault holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedToken {
    /// The server's token serial.
    pub serial: String,
    /// `hotp`, `totp`, `daypassword` or `push`.
    pub tokentype: String,
}

/// An OTP account the phone offers for the initial transfer (policy
/// `initially_add_tokens_to_container`) without knowing its server serial: by its next two
/// values, from which the server finds the token (`get_serial_by_otp_list`). Only accounts the
/// user chose: the values are valid codes. `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct OfferedOtp {
    /// The vault's account id (stays on the device; maps the server's answer back).
    pub account: String,
    /// `hotp`, `totp`, or `daypassword` (a TOTP with a period of one day).
    pub tokentype: String,
    /// The next two values.
    pub otp: [Zeroizing<String>; 2],
    /// HOTP: the counter of the first value.
    pub counter: Option<u64>,
}

impl fmt::Debug for OfferedOtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OfferedOtp")
            .field("account", &self.account)
            .field("tokentype", &self.tokentype)
            .field("counter", &self.counter)
            .finish_non_exhaustive()
    }
}

/// The period privacyIDEA's `daypassword` tokens have (one day).
pub const DAYPASSWORD_PERIOD: u32 = 86_400;

impl OfferedOtp {
    /// The offer of the OTP account `otp` (id `account`) at Unix time `now`: TOTP the values
    /// of the current and the next time step, HOTP those at the stored counter and the one
    /// after (with that counter). `None` for kinds privacyIDEA has no token for (Steam).
    pub fn new(account: &str, otp: &crate::OtpAccount, now: u64) -> Option<OfferedOtp> {
        let g = crate::otp::Generator::new(&otp.secret, otp.params);
        let (tokentype, first, counter) = match otp.params.kind() {
            crate::Kind::Totp { period } => (
                if period == DAYPASSWORD_PERIOD {
                    "daypassword"
                } else {
                    "totp"
                },
                crate::otp::time_step(now, period),
                None,
            ),
            crate::Kind::Hotp { counter } => ("hotp", counter, Some(counter)),
            crate::Kind::Steam { .. } => return None,
        };
        let value = |c: u64| Zeroizing::new(g.code_at_counter(c).as_str().to_owned());
        Some(OfferedOtp {
            account: account.to_owned(),
            tokentype: tokentype.to_owned(),
            otp: [value(first), value(first.checked_add(1)?)],
            counter,
        })
    }
}

/// An offered OTP account the server found and took into the container: listed in `update`
/// with the offer's values echoed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifiedToken {
    /// The vault's account id (from the offer).
    pub account: String,
    /// The server's serial for it.
    pub serial: String,
}

impl Container {
    fn scope(&self, op: Operation) -> String {
        endpoint_url(self.server_url.as_str(), op.path())
    }

    fn post(&self, url: String, params: Vec<(String, String)>) -> Request {
        Request {
            method: Method::Post,
            url,
            params,
            verify_tls: self.verify_tls,
        }
    }

    /// The request for a one-time challenge for `op`.
    pub fn challenge_request(&self, op: Operation) -> Request {
        self.post(
            endpoint_url(self.server_url.as_str(), path::CHALLENGE),
            vec![
                ("container_serial".into(), self.serial.clone()),
                ("scope".into(), self.scope(op)),
            ],
        )
    }

    /// Reads the challenge reply.
    pub fn read_challenge(
        &self,
        op: Operation,
        body: &[u8],
    ) -> Result<OpenChallenge, ContainerError> {
        let v = result_value(body)?;
        let field = |k: &str| -> Result<String, ContainerError> {
            match v.get(k).and_then(Value::as_str) {
                Some(s) if !s.is_empty() && s.len() <= 256 && !s.contains('|') => Ok(s.to_owned()),
                _ => Err(ContainerError::Response(format!("the challenge lacks {k}"))),
            }
        };
        if let Some(alg) = v.get("enc_key_algorithm").and_then(Value::as_str)
            && op == Operation::Sync
            && !alg.eq_ignore_ascii_case("x25519")
        {
            return Err(ContainerError::Algorithm(excerpt(alg)));
        }
        Ok(OpenChallenge {
            operation: op,
            nonce: Zeroizing::new(field("nonce")?),
            time_stamp: field("time_stamp")?,
        })
    }

    fn check_op(challenge: &OpenChallenge, op: Operation) -> Result<(), ContainerError> {
        if challenge.operation != op {
            return Err(ContainerError::Response(
                "a challenge for another operation".into(),
            ));
        }
        Ok(())
    }

    /// The signed sync request reporting `tokens` (every container token the vault holds),
    /// with a fresh X25519 key from `rng`.
    pub fn sync(
        &self,
        challenge: &OpenChallenge,
        tokens: &[ReportedToken],
        rng: &dyn Rng,
    ) -> Result<PendingSync, ContainerError> {
        self.sync_with_key(challenge, tokens, SyncKey::generate(rng)?)
    }

    /// [`Container::sync`] that also offers OTP accounts by their values for the initial
    /// transfer (the caller decides when: the first sync with `initially_add_tokens_to_container`,
    /// and only accounts the user chose). The reply maps the ones the server took
    /// ([`SyncReply::identified`]).
    pub fn sync_offering(
        &self,
        challenge: &OpenChallenge,
        tokens: &[ReportedToken],
        offers: Vec<OfferedOtp>,
        rng: &dyn Rng,
    ) -> Result<PendingSync, ContainerError> {
        self.sync_inner(challenge, tokens, offers, SyncKey::generate(rng)?)
    }

    /// [`Container::sync`] with a given X25519 key (the golden vectors).
    pub fn sync_with_key(
        &self,
        challenge: &OpenChallenge,
        tokens: &[ReportedToken],
        sync_key: SyncKey,
    ) -> Result<PendingSync, ContainerError> {
        self.sync_inner(challenge, tokens, Vec::new(), sync_key)
    }

    fn sync_inner(
        &self,
        challenge: &OpenChallenge,
        tokens: &[ReportedToken],
        offers: Vec<OfferedOtp>,
        sync_key: SyncKey,
    ) -> Result<PendingSync, ContainerError> {
        Self::check_op(challenge, Operation::Sync)?;
        let scope = self.scope(Operation::Sync);
        let enc_key = sync_key.public_base64();
        let dict = container_dict_client_offering(&self.serial, tokens, &offers);
        let message = sync_message(
            &challenge.nonce,
            &challenge.time_stamp,
            &self.serial,
            &scope,
            &enc_key,
            &dict,
        );
        let signature = self.key.sign(&message)?;
        let request = self.post(
            scope,
            vec![
                ("container_serial".into(), self.serial.clone()),
                ("public_enc_key_client".into(), enc_key),
                ("container_dict_client".into(), dict),
                ("signature".into(), signature),
            ],
        );
        Ok(PendingSync {
            serial: self.serial.clone(),
            sync_key,
            offers,
            request,
        })
    }

    /// The signed rollover request (check [`Policies::container_client_rollover`] first; this
    /// refuses without it).
    pub fn rollover(&self, challenge: &OpenChallenge) -> Result<PendingRollover, ContainerError> {
        Self::check_op(challenge, Operation::Rollover)?;
        if !self.policies.container_client_rollover {
            return Err(ContainerError::Forbidden(
                "container_client_rollover (not set)",
            ));
        }
        let scope = self.scope(Operation::Rollover);
        let message = rollover_message(
            &challenge.nonce,
            &challenge.time_stamp,
            &self.serial,
            &scope,
        );
        let request = self.post(
            scope.clone(),
            vec![
                ("container_serial".into(), self.serial.clone()),
                ("scope".into(), scope),
                ("signature".into(), self.key.sign(&message)?),
            ],
        );
        Ok(PendingRollover { request })
    }

    /// The signed unregister request; refused when the server's policy forbids it.
    pub fn unregister(
        &self,
        challenge: &OpenChallenge,
    ) -> Result<PendingUnregister, ContainerError> {
        Self::check_op(challenge, Operation::Unregister)?;
        if self.policies.disable_client_container_unregister {
            return Err(ContainerError::Forbidden(
                "disable_client_container_unregister",
            ));
        }
        let scope = self.scope(Operation::Unregister);
        let message = unregister_message(
            &challenge.nonce,
            &challenge.time_stamp,
            &self.serial,
            &scope,
        );
        let request = self.post(
            scope.clone(),
            vec![
                ("container_serial".into(), self.serial.clone()),
                ("scope".into(), scope),
                ("signature".into(), self.key.sign(&message)?),
            ],
        );
        Ok(PendingUnregister { request })
    }
}

/// A rollover request on its way.
#[derive(Debug)]
pub struct PendingRollover {
    request: Request,
}

impl PendingRollover {
    /// The request to send.
    pub fn request(&self) -> &Request {
        &self.request
    }
    /// Reads the reply: the new `pia://container/` registration QR (for this device with a new
    /// key, or for another device).
    pub fn finish(self, body: &[u8]) -> Result<String, ContainerError> {
        let v = result_value(body)?;
        let uri = v["container_url"]["value"]
            .as_str()
            .ok_or_else(|| ContainerError::Response("no container_url in the reply".into()))?;
        if !is_registration_uri(uri) || uri.len() > MAX_URI_LEN {
            return Err(ContainerError::Response(
                "the rollover QR is not a container registration".into(),
            ));
        }
        Ok(uri.to_owned())
    }
}

/// An unregister request on its way.
#[derive(Debug)]
pub struct PendingUnregister {
    request: Request,
}

impl PendingUnregister {
    /// The request to send.
    pub fn request(&self) -> &Request {
        &self.request
    }
    /// Reads the reply with its HTTP status: a bare 404 (no privacyIDEA JSON) also counts as
    /// "already unregistered".
    pub fn finish_with_status(self, status: u16, body: &[u8]) -> Result<(), ContainerError> {
        if status == 404 && serde_json::from_slice::<Value>(body).is_err() {
            return Ok(());
        }
        self.finish(body)
    }

    /// Reads the reply; "not registered" (ERR3001) and "no such container" (ERR601) count as
    /// done.
    pub fn finish(self, body: &[u8]) -> Result<(), ContainerError> {
        match result_value(body) {
            Ok(v) if v["success"] == Value::Bool(true) => Ok(()),
            Ok(_) => Err(ContainerError::Response(
                "the server did not confirm".into(),
            )),
            Err(e) if e.is_unregistered() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Synchronisation.

/// A sync request on its way: send [`PendingSync::request`], then give the reply to
/// [`PendingSync::finish`].
#[derive(Debug)]
pub struct PendingSync {
    serial: String,
    sync_key: SyncKey,
    offers: Vec<OfferedOtp>,
    request: Request,
}

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

fn b64_any(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    URL_SAFE
        .decode(text)
        .or_else(|_| STANDARD.decode(text))
        .ok()
}

impl PendingSync {
    /// The request to send.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Reads the sync reply: decrypts the token list with this sync's key and checks it.
    pub fn finish(self, body: &[u8]) -> Result<SyncReply, ContainerError> {
        let v = result_value(body)?;
        let policies = Policies::read(&v)?;
        let text = |k: &str, obj: &Value| -> Result<String, ContainerError> {
            obj.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| ContainerError::Response(format!("no {k} in the reply")))
        };
        let params = &v["encryption_params"];
        let mode_ok = params["algorithm"].as_str().unwrap_or("AES") == "AES"
            && params["mode"].as_str().unwrap_or("GCM") == "GCM";
        if !mode_ok {
            return Err(ContainerError::Response(
                "encryption other than AES-GCM".into(),
            ));
        }
        let ciphertext = text("container_dict_server", &v)?;
        if ciphertext.len() > MAX_SYNC_CIPHERTEXT {
            return Err(ContainerError::TooLarge(format!(
                "{} bytes of tokens",
                ciphertext.len()
            )));
        }
        let ciphertext = b64_any(&ciphertext).ok_or(ContainerError::Decrypt)?;
        let iv = b64_any(&text("init_vector", params)?).ok_or(ContainerError::Decrypt)?;
        let tag = b64_any(&text("tag", params)?).ok_or(ContainerError::Decrypt)?;
        let server_key: [u8; 32] = b64_any(&text("public_server_key", &v)?)
            .and_then(|k| k.try_into().ok())
            .ok_or(ContainerError::Decrypt)?;
        let shared = self
            .sync_key
            .shared_secret(&server_key)
            .ok_or(ContainerError::Decrypt)?;
        let plain =
            aes_gcm16_open(&shared, &iv, &ciphertext, &tag).ok_or(ContainerError::Decrypt)?;
        let mut reply = read_sync_plaintext(&self.serial, &plain, policies)?;
        reply.identify(&self.offers);
        Ok(reply)
    }
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

#[cfg(test)]
mod tests;
