//! A scanned `pia://container/` registration QR, and its finalize request.

use std::fmt;

use serde_json::Value;
use zeroize::Zeroizing;

use super::error::{excerpt_long, result_value};
use super::{
    Container, ContainerError, ContainerKey, DEFAULT_TTL_MINUTES, Policies, endpoint_url,
    is_registration_uri, parse_server_time, path, register_message,
};
use crate::push::{Method, Request};
use crate::server_url::ServerUrl;
use crate::uri::{MAX_URI_LEN, excerpt, query_pairs};

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

pub(super) fn decode(raw: &str, field: &'static str) -> Result<String, ContainerError> {
    // Python's `quote` never writes `+` for a space, so a `+` is a `+`.
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| ContainerError::Invalid {
            field,
            value: excerpt(raw),
        })
}

pub(super) fn valid_serial(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
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
