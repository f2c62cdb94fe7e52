//! The relay's TOML configuration (docs/relay.md, "The configuration"): read, checked and its
//! keys loaded once at start; paths are relative to the config file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use p256::ecdsa::SigningKey;
use p256::pkcs8::DecodePrivateKey as _;
use ring::signature::RsaKeyPair;
use serde::Deserialize;
use url::Url;

/// The longest retry window (the contract's 20 s).
pub const MAX_RETRY: Duration = Duration::from_secs(20);
/// A config, key or service-account file larger than this is not one.
const MAX_FILE_BYTES: u64 = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    listen: SocketAddr,
    #[serde(default = "default_max_body")]
    max_body_bytes: usize,
    #[serde(default)]
    allow_private_endpoints: bool,
    /// A file holding a secret privacyIDEA's gateway must send as `Authorization: Bearer`.
    bearer_token_file: Option<PathBuf>,
    /// How long 429, 5xx and connection failures are retried (at most 20).
    #[serde(default = "default_retry")]
    retry_seconds: f64,
    webpush: Option<WebPushFile>,
    fcm: Option<FcmFile>,
    apns: Option<ApnsFile>,
}

fn default_max_body() -> usize {
    65536
}
fn default_retry() -> f64 {
    20.0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebPushFile {
    vapid_private_key: PathBuf,
    subject: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FcmFile {
    service_account: PathBuf,
    #[serde(default = "default_fcm_endpoint")]
    endpoint: String,
}

fn default_fcm_endpoint() -> String {
    "https://fcm.googleapis.com".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApnsFile {
    key: PathBuf,
    key_id: String,
    team_id: String,
    topic: String,
    #[serde(default = "default_apns_endpoint")]
    endpoint: String,
    /// Where `"sandbox": true` tokens go.
    #[serde(default = "default_apns_sandbox")]
    sandbox_endpoint: String,
    ca_file: Option<PathBuf>,
}

fn default_apns_endpoint() -> String {
    "https://api.push.apple.com".into()
}
fn default_apns_sandbox() -> String {
    "https://api.sandbox.push.apple.com".into()
}

/// A checked configuration with its keys loaded.
pub struct Config {
    pub listen: SocketAddr,
    pub max_body_bytes: usize,
    pub allow_private_endpoints: bool,
    /// Requests to /privacyidea/push must carry `Authorization: Bearer <this>`.
    pub bearer_token: Option<zeroize::Zeroizing<Vec<u8>>>,
    pub retry: Duration,
    pub webpush: Option<WebPushConfig>,
    pub fcm: Option<FcmConfig>,
    pub apns: Option<ApnsConfig>,
}

pub struct WebPushConfig {
    pub key: SigningKey,
    pub subject: String,
}

pub struct FcmConfig {
    pub key: RsaKeyPair,
    pub key_id: String,
    pub client_email: String,
    pub project_id: String,
    pub token_uri: Url,
    pub endpoint: Url,
}

pub struct ApnsConfig {
    pub key: SigningKey,
    pub key_id: String,
    pub team_id: String,
    pub topic: String,
    pub endpoint: Url,
    pub sandbox_endpoint: Url,
    /// PEM text of an extra trust anchor.
    pub ca_pem: Option<Vec<u8>>,
}

/// A Google service-account key file (only the fields the relay uses).
#[derive(Deserialize)]
struct ServiceAccount {
    project_id: String,
    private_key_id: String,
    private_key: String,
    client_email: String,
    token_uri: String,
}

fn read(path: &Path) -> Result<Vec<u8>, ConfigError> {
    let err = |reason: String| ConfigError::Read {
        path: path.display().to_string(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(err(format!("larger than {MAX_FILE_BYTES} bytes")));
    }
    std::fs::read(path).map_err(|e| err(e.to_string()))
}

fn invalid(path: &Path, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

fn base_url(path: &Path, what: &str, text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text).map_err(|e| invalid(path, format!("{what}: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(invalid(path, format!("{what}: not an http(s) URL")));
    }
    Ok(url)
}

/// A P-256 private key in PKCS#8 PEM (the VAPID key, an APNs `.p8` key).
fn p256_key(path: &Path) -> Result<SigningKey, ConfigError> {
    let pem = read(path)?;
    let pem = std::str::from_utf8(&pem).map_err(|_| invalid(path, "not PEM"))?;
    SigningKey::from_pkcs8_pem(pem)
        .map_err(|_| invalid(path, "not a P-256 private key in PKCS#8 PEM"))
}

/// Reads and checks the config file and every file it names.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = read(path)?;
    let text = std::str::from_utf8(&text).map_err(|_| invalid(path, "not UTF-8"))?;
    let file: File = toml::from_str(text).map_err(|e| invalid(path, e.message().to_string()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    if !(1..=16 << 20).contains(&file.max_body_bytes) {
        return Err(invalid(path, "max_body_bytes: between 1 and 16777216"));
    }
    if !(0.0..=MAX_RETRY.as_secs_f64()).contains(&file.retry_seconds) {
        return Err(invalid(path, "retry_seconds: between 0 and 20"));
    }
    let bearer_token = match &file.bearer_token_file {
        None => None,
        Some(f) => {
            let token_path = dir.join(f);
            let text = zeroize::Zeroizing::new(read(&token_path)?);
            let token = text.trim_ascii();
            if token.len() < 16 || !token.iter().all(|b| b.is_ascii_graphic()) {
                return Err(invalid(
                    &token_path,
                    "the bearer token must be 16 or more printable characters without spaces",
                ));
            }
            Some(zeroize::Zeroizing::new(token.to_vec()))
        }
    };
    let webpush = match file.webpush {
        None => None,
        Some(w) => {
            let key = p256_key(&dir.join(&w.vapid_private_key))?;
            if !(w.subject.starts_with("mailto:") || w.subject.starts_with("https://")) {
                return Err(invalid(
                    path,
                    "webpush.subject: a mailto: or https: URI (RFC 8292 §2.1)",
                ));
            }
            Some(WebPushConfig {
                key,
                subject: w.subject,
            })
        }
    };
    let fcm = match file.fcm {
        None => None,
        Some(f) => {
            let sa_path = dir.join(&f.service_account);
            let sa: ServiceAccount = serde_json::from_slice(&read(&sa_path)?)
                .map_err(|e| invalid(&sa_path, format!("not a service-account key: {e}")))?;
            let (label, der) = pem_rfc7468::decode_vec(sa.private_key.as_bytes())
                .map_err(|_| invalid(&sa_path, "private_key is not PEM"))?;
            if label != "PRIVATE KEY" {
                return Err(invalid(&sa_path, "private_key is not a PKCS#8 key"));
            }
            let key = RsaKeyPair::from_pkcs8(&der)
                .map_err(|e| invalid(&sa_path, format!("private_key: {e}")))?;
            Some(FcmConfig {
                key,
                key_id: sa.private_key_id,
                client_email: sa.client_email,
                project_id: sa.project_id,
                token_uri: base_url(&sa_path, "token_uri", &sa.token_uri)?,
                endpoint: base_url(path, "fcm.endpoint", &f.endpoint)?,
            })
        }
    };
    let apns = match file.apns {
        None => None,
        Some(a) => {
            let key = p256_key(&dir.join(&a.key))?;
            let ca_pem = match &a.ca_file {
                None => None,
                Some(ca) => {
                    let ca_path = dir.join(ca);
                    let pem = read(&ca_path)?;
                    reqwest::Certificate::from_pem(&pem)
                        .map_err(|_| invalid(&ca_path, "not a PEM certificate"))?;
                    Some(pem)
                }
            };
            Some(ApnsConfig {
                key,
                key_id: a.key_id,
                team_id: a.team_id,
                topic: a.topic,
                endpoint: base_url(path, "apns.endpoint", &a.endpoint)?,
                sandbox_endpoint: base_url(path, "apns.sandbox_endpoint", &a.sandbox_endpoint)?,
                ca_pem,
            })
        }
    };
    Ok(Config {
        listen: file.listen,
        max_body_bytes: file.max_body_bytes,
        allow_private_endpoints: file.allow_private_endpoints,
        bearer_token,
        retry: Duration::from_secs_f64(file.retry_seconds),
        webpush,
        fcm,
        apns,
    })
}
