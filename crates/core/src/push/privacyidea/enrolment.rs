//! Enrolment: a scanned `pipush` URI read into an [`Enrolment`], the request that finishes it
//! ([`PendingEnrolment`]) and the enrolled [`PushAccount`] read from the server's reply.

use std::fmt;

use serde_json::Value;
use zeroize::Zeroizing;

use super::reply::{Reply, reply};
use super::{DEFAULT_TTL_MINUTES, NAME, NO_PUSH_TOKEN};
use crate::push::{KeyError, Method, PhoneKey, PushAccount, Request, ServerError, ServerKey};
use crate::uri::{excerpt, query_pairs, split_scheme};

/// Why an enrolment failed. Never holds the enrolment credential or a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrolError {
    /// Not an `otpauth://pipush/` or `pia://pipush/` URI.
    #[error("not a privacyIDEA push enrolment URI")]
    NotPush,
    /// A required parameter is missing.
    #[error("the enrolment URI lacks {0:?}")]
    Missing(&'static str),
    /// A parameter has a value we cannot use.
    #[error("the enrolment URI's {field} is invalid ({value:?})")]
    Invalid {
        /// The parameter.
        field: &'static str,
        /// An excerpt of its value (never for the credential).
        value: String,
    },
    /// The QR code's `ttl` has passed since it was scanned.
    #[error(
        "the enrolment QR code expired {ttl_minutes} minutes after it was scanned; ask for a new one"
    )]
    Expired {
        /// The QR's time to live.
        ttl_minutes: u64,
    },
    /// The phone key could not be made or used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The server said no (a wrong credential is error 905).
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The reply is not what the protocol says.
    #[error("unexpected enrolment reply: {0}")]
    Response(String),
}

/// Something the user should know before enrolling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrolWarning {
    /// `sslverify=0`: the server's TLS certificate will not be checked, for the enrolment
    /// and for every later challenge that says the same.
    TlsNotVerified,
    /// The server has no push service for this token: sign-ins are only seen by polling.
    PollOnly,
}

impl fmt::Display for EnrolWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EnrolWarning::TlsNotVerified => {
                "the server turned off TLS certificate checks (sslverify=0): anyone on the network path could impersonate it"
            }
            EnrolWarning::PollOnly => {
                "the server sends no push notifications for this token: sign-in requests appear when the app polls"
            }
        })
    }
}

/// A scanned enrolment QR code (`otpauth://pipush/LABEL?url=...&ttl=...`), checked. The
/// enrolment credential is kept in zeroizing memory and never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Enrolment {
    serial: String,
    label: String,
    issuer: String,
    url: crate::server_url::ServerUrl,
    ttl_minutes: u64,
    scanned_at: u64,
    credential: Zeroizing<String>,
    verify_tls: bool,
    poll_only: bool,
    require_pin: bool,
    force_unlock: Option<String>,
}

impl fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Enrolment")
            .field("serial", &self.serial)
            .field("label", &self.label)
            .field("issuer", &self.issuer)
            .field("url", &self.url)
            .field("ttl_minutes", &self.ttl_minutes)
            .field("scanned_at", &self.scanned_at)
            .field("verify_tls", &self.verify_tls)
            .field("poll_only", &self.poll_only)
            .finish_non_exhaustive()
    }
}

fn decoded(raw: &str, field: &'static str) -> Result<String, EnrolError> {
    percent_encoding::percent_decode_str(&raw.replace('+', " "))
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| EnrolError::Invalid {
            field,
            value: excerpt(raw),
        })
}

fn flag(value: Option<&str>, field: &'static str) -> Result<bool, EnrolError> {
    match value.map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0" | "") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(v) => Err(EnrolError::Invalid {
            field,
            value: excerpt(v),
        }),
    }
}

impl Enrolment {
    /// Reads an enrolment URI scanned at `scanned_at` (Unix seconds): its `ttl` counts from then.
    pub fn parse(uri: &str, scanned_at: u64) -> Result<Enrolment, EnrolError> {
        let uri = uri.trim();
        if uri.len() > crate::uri::MAX_URI_LEN {
            return Err(EnrolError::Invalid {
                field: "URI",
                value: format!("{} bytes long", uri.len()),
            });
        }
        let (scheme, rest) = split_scheme(uri).ok_or(EnrolError::NotPush)?;
        if scheme != "otpauth" && scheme != "pia" {
            return Err(EnrolError::NotPush);
        }
        let rest = match rest.get(..7) {
            Some(host) if host.eq_ignore_ascii_case("pipush/") => &rest[7..],
            _ => return Err(EnrolError::NotPush),
        };
        let (raw_label, query) = rest.split_once('?').unwrap_or((rest, ""));
        let label = decoded(raw_label, "label")?;
        let pairs = query_pairs(query);
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        let required = |k: &'static str| -> Result<String, EnrolError> {
            let v = decoded(get(k).ok_or(EnrolError::Missing(k))?, k)?;
            if v.is_empty() {
                return Err(EnrolError::Missing(k));
            }
            Ok(v)
        };
        let optional = |k: &'static str| -> Result<Option<String>, EnrolError> {
            get(k).map(|v| decoded(v, k)).transpose()
        };

        if let Some(v) = optional("v")?
            && v != "1"
        {
            return Err(EnrolError::Invalid {
                field: "version (v)",
                value: excerpt(&v),
            });
        }
        // Read as the transport reads it; an address two readers could take for two hosts is
        // refused (crate::server_url).
        let url = crate::server_url::ServerUrl::parse(&required("url")?).map_err(|e| {
            EnrolError::Invalid {
                field: "url",
                value: e.to_string(),
            }
        })?;
        let serial = required("serial")?;
        if serial.contains('|') {
            return Err(EnrolError::Invalid {
                field: "serial",
                value: excerpt(&serial),
            });
        }
        // The credential goes through zeroizing buffers only.
        let credential = {
            let raw =
                get("enrollment_credential").ok_or(EnrolError::Missing("enrollment_credential"))?;
            let spaced = Zeroizing::new(raw.replace('+', " "));
            let value = Zeroizing::new(
                percent_encoding::percent_decode_str(&spaced)
                    .decode_utf8()
                    .map_err(|_| EnrolError::Invalid {
                        field: "enrollment_credential",
                        value: "not UTF-8".to_owned(),
                    })?
                    .into_owned(),
            );
            if value.is_empty() {
                return Err(EnrolError::Missing("enrollment_credential"));
            }
            value
        };
        let ttl_minutes = match optional("ttl")? {
            None => DEFAULT_TTL_MINUTES,
            Some(t) => t.trim().parse().map_err(|_| EnrolError::Invalid {
                field: "ttl",
                value: excerpt(&t),
            })?,
        };
        let verify_tls = match optional("sslverify")?.as_deref() {
            None | Some("1") => true,
            Some("0") => false,
            Some(v) => {
                return Err(EnrolError::Invalid {
                    field: "sslverify",
                    value: excerpt(v),
                });
            }
        };
        let force_unlock = match optional("app_force_unlock")? {
            None => None,
            Some(v) if v.is_empty() => None,
            Some(v) if matches!(v.as_str(), "any" | "biometric" | "pin") => Some(v),
            Some(v) => {
                return Err(EnrolError::Invalid {
                    field: "app_force_unlock",
                    value: excerpt(&v),
                });
            }
        };
        Ok(Enrolment {
            poll_only: flag(optional("poll_only")?.as_deref(), "poll_only")?,
            require_pin: flag(optional("pin")?.as_deref(), "pin")?,
            issuer: optional("issuer")?.unwrap_or_default(),
            serial,
            label,
            url,
            ttl_minutes,
            scanned_at,
            credential,
            verify_tls,
            force_unlock,
        })
    }

    /// The token's serial.
    pub fn serial(&self) -> &str {
        &self.serial
    }
    /// The QR's label.
    pub fn label(&self) -> &str {
        &self.label
    }
    /// The QR's issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    /// Where the enrolment goes.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }
    /// [`Enrolment::url`] as the transport reads it.
    pub fn server_url(&self) -> &crate::server_url::ServerUrl {
        &self.url
    }
    /// Check TLS certificates for the enrolment request.
    pub fn verify_tls(&self) -> bool {
        self.verify_tls
    }
    /// `pin=True` or `app_force_unlock`: approving will need device authentication.
    pub fn requires_unlock(&self) -> bool {
        self.require_pin || self.force_unlock.is_some()
    }
    /// After this (Unix seconds) the QR code may no longer be used.
    pub fn expires_at(&self) -> u64 {
        self.scanned_at
            .saturating_add(self.ttl_minutes.saturating_mul(60))
    }
    /// What to tell the user before going on.
    pub fn warnings(&self) -> Vec<EnrolWarning> {
        let mut w = Vec::new();
        if !self.verify_tls {
            w.push(EnrolWarning::TlsNotVerified);
        }
        if self.poll_only {
            w.push(EnrolWarning::PollOnly);
        }
        w
    }

    /// Step 2 of the enrolment: with the phone's new key (see [`PhoneKey::generate`]) and its
    /// push token (`None` for poll-only), the request that registers the key. Refused once
    /// the QR's `ttl` has passed.
    pub fn start(
        self,
        phone_key: PhoneKey,
        push_token: Option<&str>,
        now: u64,
    ) -> Result<PendingEnrolment, EnrolError> {
        if now > self.expires_at() {
            return Err(EnrolError::Expired {
                ttl_minutes: self.ttl_minutes,
            });
        }
        let push_token = push_token
            .filter(|t| !t.is_empty())
            .unwrap_or(NO_PUSH_TOKEN)
            .to_owned();
        let request = Request {
            method: Method::Post,
            url: self.url.as_str().to_owned(),
            params: vec![
                (
                    "enrollment_credential".to_owned(),
                    self.credential.as_str().to_owned(),
                ),
                ("serial".to_owned(), self.serial.clone()),
                ("fbtoken".to_owned(), push_token.clone()),
                ("pubkey".to_owned(), phone_key.public_key_spki_base64()?),
            ],
            verify_tls: self.verify_tls,
        };
        Ok(PendingEnrolment {
            enrolment: self,
            phone_key,
            push_token,
            request,
        })
    }
}

/// An enrolment whose request is ready: send [`PendingEnrolment::request`], then give the
/// reply to [`PendingEnrolment::finish`]. Nothing is stored before `finish` succeeds, so a
/// failed enrolment leaves no half-enrolled token behind.
#[derive(Debug)]
pub struct PendingEnrolment {
    enrolment: Enrolment,
    phone_key: PhoneKey,
    push_token: String,
    request: Request,
}

impl PendingEnrolment {
    /// The request to send.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The enrolment being completed.
    pub fn enrolment(&self) -> &Enrolment {
        &self.enrolment
    }

    /// Reads the server's reply: the enrolled token, with the server's public key.
    pub fn finish(self, body: &[u8], now: u64) -> Result<PushAccount, EnrolError> {
        let json = reply(body).map_err(|e| match e {
            Reply::Server(s) => EnrolError::Server(s),
            Reply::Bad(m) => EnrolError::Response(m),
        })?;
        let detail = json.get("detail").unwrap_or(&Value::Null);
        let state = detail.get("rollout_state").and_then(Value::as_str);
        if state != Some("enrolled") {
            return Err(EnrolError::Response(format!(
                "the token's rollout state is {}, not \"enrolled\"",
                state.map_or("missing".to_owned(), |s| format!("{:?}", excerpt(s)))
            )));
        }
        if let Some(serial) = detail.get("serial").and_then(Value::as_str)
            && serial != self.enrolment.serial
        {
            return Err(EnrolError::Response(format!(
                "the reply is for another token ({})",
                excerpt(serial)
            )));
        }
        let key = detail
            .get("public_key")
            .and_then(Value::as_str)
            .ok_or_else(|| EnrolError::Response("the server's public key is missing".into()))?;
        let server_key = ServerKey::from_base64(key)?;
        let e = self.enrolment;
        Ok(PushAccount {
            protocol: NAME.to_owned(),
            serial: e.serial,
            issuer: e.issuer,
            label: e.label,
            url: e.url.as_str().to_owned(),
            verify_tls: e.verify_tls,
            poll_only: e.poll_only,
            require_pin: e.require_pin,
            force_unlock: e.force_unlock,
            phone_key: self.phone_key,
            server_key,
            push_token: self.push_token,
            enrolled_at: now,
        })
    }
}
