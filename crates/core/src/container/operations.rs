//! A registered container and its operations: the challenge, then a sync, a rollover or an
//! unregister request spending it.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

use super::error::result_value;
use super::reply::b64_any;
use super::{
    ContainerError, ContainerKey, MAX_SYNC_CIPHERTEXT, Policies, SyncKey, SyncReply,
    aes_gcm16_open, container_dict_client_offering, endpoint_url, is_registration_uri, path,
    read_sync_plaintext, rollover_message, sync_message, unregister_message,
};
use crate::push::{Method, Request};
use crate::rng::Rng;
use crate::server_url::ServerUrl;
use crate::uri::{MAX_URI_LEN, excerpt};

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
    pub(super) fn path(self) -> &'static str {
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

    /// The request of a rollover or an unregister: the challenge's nonce and time signed with
    /// the container's serial and the operation's scope (`message`: the operation's string).
    fn signed(
        &self,
        challenge: &OpenChallenge,
        op: Operation,
        message: fn(&str, &str, &str, &str) -> String,
    ) -> Result<Request, ContainerError> {
        let scope = self.scope(op);
        let message = message(
            &challenge.nonce,
            &challenge.time_stamp,
            &self.serial,
            &scope,
        );
        Ok(self.post(
            scope.clone(),
            vec![
                ("container_serial".into(), self.serial.clone()),
                ("scope".into(), scope),
                ("signature".into(), self.key.sign(&message)?),
            ],
        ))
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
        let request = self.signed(challenge, Operation::Rollover, rollover_message)?;
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
        let request = self.signed(challenge, Operation::Unregister, unregister_message)?;
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
    pub(super) request: Request,
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
