//! The device token: what the app sends as the PUSH token's `fbtoken`, self-contained so the
//! relay keeps no database (docs/relay.md, "The device token").

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use url::Url;

/// The longest device token the relay reads (bytes of its JSON text).
pub const MAX_TOKEN_BYTES: usize = 2048;

/// Where and how one device is reached.
#[derive(Clone, PartialEq, Eq)]
pub enum DeviceToken {
    WebPush(WebPushTarget),
    Fcm { token: String },
    Apns { token: String, sandbox: bool },
}

/// A Web Push subscription (RFC 8030 endpoint, RFC 8291 keys).
#[derive(Clone, PartialEq, Eq)]
pub struct WebPushTarget {
    pub endpoint: Url,
    /// The device's uncompressed P-256 public key (65 bytes, SEC 1).
    pub p256dh: [u8; 65],
    /// The device's authentication secret.
    pub auth: [u8; 16],
}

/// The kinds of device token, as they appear in metrics and replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    WebPush,
    Fcm,
    Apns,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::WebPush => "webpush",
            Kind::Fcm => "fcm",
            Kind::Apns => "apns",
        }
    }
}

impl DeviceToken {
    pub fn kind(&self) -> Kind {
        match self {
            DeviceToken::WebPush(_) => Kind::WebPush,
            DeviceToken::Fcm { .. } => Kind::Fcm,
            DeviceToken::Apns { .. } => Kind::Apns,
        }
    }
}

// Never prints the endpoint's path, a registration token nor the keys.
impl std::fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceToken::WebPush(t) => {
                write!(f, "WebPush({})", t.endpoint.host_str().unwrap_or("no host"))
            }
            DeviceToken::Fcm { .. } => f.write_str("Fcm(..)"),
            DeviceToken::Apns { sandbox, .. } => write!(f, "Apns(sandbox: {sandbox})"),
        }
    }
}

/// Why a device token was refused. The messages never quote the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the device token is longer than {MAX_TOKEN_BYTES} bytes")]
    TooLong,
    #[error("the device token is not a JSON object of the relay's shape")]
    NotJson,
    #[error("the device token's version is not 1")]
    Version,
    #[error("the device token's kind is unknown")]
    UnknownKind,
    #[error("the device token has no valid {0}")]
    Field(&'static str),
}

#[derive(Deserialize)]
struct Raw {
    v: serde_json::Value,
    kind: String,
    endpoint: Option<String>,
    p256dh: Option<String>,
    auth: Option<String>,
    token: Option<String>,
    sandbox: Option<bool>,
}

/// Reads a device token, its size checked before any parsing.
pub fn parse(text: &str) -> Result<DeviceToken, TokenError> {
    if text.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLong);
    }
    let raw: Raw = serde_json::from_str(text).map_err(|_| TokenError::NotJson)?;
    if raw.v != 1 {
        return Err(TokenError::Version);
    }
    match raw.kind.as_str() {
        "webpush" => {
            let endpoint = raw.endpoint.ok_or(TokenError::Field("endpoint"))?;
            let endpoint = Url::parse(&endpoint).map_err(|_| TokenError::Field("endpoint"))?;
            if !matches!(endpoint.scheme(), "https" | "http")
                || endpoint.host_str().is_none()
                || !endpoint.username().is_empty()
                || endpoint.password().is_some()
            {
                return Err(TokenError::Field("endpoint"));
            }
            let p256dh = decode_fixed::<65>(raw.p256dh.as_deref(), "p256dh")?;
            if p256::PublicKey::from_sec1_bytes(&p256dh).is_err() || p256dh[0] != 4 {
                return Err(TokenError::Field("p256dh"));
            }
            let auth = decode_fixed::<16>(raw.auth.as_deref(), "auth")?;
            Ok(DeviceToken::WebPush(WebPushTarget {
                endpoint,
                p256dh,
                auth,
            }))
        }
        "fcm" => {
            let token = raw.token.ok_or(TokenError::Field("token"))?;
            // FCM registration tokens are URL-safe text: letters, digits, `-`, `_` and `:`.
            if token.is_empty()
                || !token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':'))
            {
                return Err(TokenError::Field("token"));
            }
            Ok(DeviceToken::Fcm { token })
        }
        "apns" => {
            let token = raw.token.ok_or(TokenError::Field("token"))?;
            // Hex only: it becomes a path segment of the APNs request.
            if token.is_empty()
                || token.len() % 2 != 0
                || !token.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(TokenError::Field("token"));
            }
            Ok(DeviceToken::Apns {
                token: token.to_ascii_lowercase(),
                sandbox: raw.sandbox.unwrap_or(false),
            })
        }
        _ => Err(TokenError::UnknownKind),
    }
}

fn decode_fixed<const N: usize>(
    text: Option<&str>,
    field: &'static str,
) -> Result<[u8; N], TokenError> {
    let text = text.ok_or(TokenError::Field(field))?;
    // Browsers hand out unpadded base64url; some distributors pad it.
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| TokenError::Field(field))?;
    bytes.try_into().map_err(|_| TokenError::Field(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    const P256DH: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";

    #[test]
    fn reads_the_three_kinds() {
        let web = format!(
            r#"{{"v":1,"kind":"webpush","endpoint":"https://push.example.org/x/y","p256dh":"{P256DH}","auth":"{AUTH}"}}"#
        );
        assert_eq!(parse(&web).unwrap().kind(), Kind::WebPush);
        let fcm = parse(r#"{"v":1,"kind":"fcm","token":"abc:DEF-_1"}"#).unwrap();
        assert_eq!(
            fcm,
            DeviceToken::Fcm {
                token: "abc:DEF-_1".into()
            }
        );
        let apns = parse(r#"{"v":1,"kind":"apns","token":"00FFaa","sandbox":true}"#).unwrap();
        assert_eq!(
            apns,
            DeviceToken::Apns {
                token: "00ffaa".into(),
                sandbox: true
            }
        );
    }

    #[test]
    fn refuses_what_is_not_a_token() {
        assert_eq!(parse("nope"), Err(TokenError::NotJson));
        assert_eq!(
            parse(r#"{"v":2,"kind":"fcm","token":"a"}"#),
            Err(TokenError::Version)
        );
        assert_eq!(
            parse(r#"{"v":"1","kind":"fcm","token":"a"}"#),
            Err(TokenError::Version)
        );
        assert_eq!(
            parse(r#"{"v":1,"kind":"sms","token":"a"}"#),
            Err(TokenError::UnknownKind)
        );
        assert_eq!(
            parse(r#"{"v":1,"kind":"apns","token":"../x"}"#),
            Err(TokenError::Field("token"))
        );
        assert_eq!(
            parse(r#"{"v":1,"kind":"fcm","token":"a/b"}"#),
            Err(TokenError::Field("token"))
        );
        let long = format!(r#"{{"v":1,"kind":"fcm","token":"{}"}}"#, "a".repeat(2100));
        assert_eq!(parse(&long), Err(TokenError::TooLong));
        for endpoint in ["ftp://x.org/a", "https://user:pw@x.org/a", "not a url"] {
            let web = format!(
                r#"{{"v":1,"kind":"webpush","endpoint":"{endpoint}","p256dh":"{P256DH}","auth":"{AUTH}"}}"#
            );
            assert_eq!(
                parse(&web),
                Err(TokenError::Field("endpoint")),
                "{endpoint}"
            );
        }
        let bad_key = format!(
            r#"{{"v":1,"kind":"webpush","endpoint":"https://x.org/a","p256dh":"{}","auth":"{AUTH}"}}"#,
            &P256DH[..80]
        );
        assert_eq!(parse(&bad_key), Err(TokenError::Field("p256dh")));
        let bad_auth = format!(
            r#"{{"v":1,"kind":"webpush","endpoint":"https://x.org/a","p256dh":"{P256DH}","auth":"AAAA"}}"#
        );
        assert_eq!(parse(&bad_auth), Err(TokenError::Field("auth")));
    }

    #[test]
    fn debug_shows_no_path_nor_token() {
        let web = format!(
            r#"{{"v":1,"kind":"webpush","endpoint":"https://push.example.org/secret-path","p256dh":"{P256DH}","auth":"{AUTH}"}}"#
        );
        let shown = format!("{:?}", parse(&web).unwrap());
        assert_eq!(shown, "WebPush(push.example.org)");
        let shown = format!(
            "{:?}",
            parse(r#"{"v":1,"kind":"fcm","token":"secret"}"#).unwrap()
        );
        assert!(!shown.contains("secret"));
    }
}
