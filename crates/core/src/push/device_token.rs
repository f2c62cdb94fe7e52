//! The device token: what the app sends as the PUSH token's `fbtoken`, self-contained so the
//! relay keeps no database (docs/relay.md, "The device token"). The one definition: the app
//! writes it ([`WebPushTarget::to_token`]), `twofold-relay` reads it ([`parse`]).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use url::Url;

/// The longest device token the relay reads (bytes of its JSON text).
pub const MAX_TOKEN_BYTES: usize = 2048;

/// Where and how one device is reached.
#[derive(Clone, PartialEq, Eq)]
pub enum DeviceToken {
    /// A Web Push subscription (a UnifiedPush distributor's or a browser's).
    WebPush(WebPushTarget),
    /// An FCM registration token.
    Fcm {
        /// The registration token (letters, digits, `-_:`).
        token: String,
    },
    /// An APNs device token.
    Apns {
        /// The device token, lower-case hex.
        token: String,
        /// Delivered through Apple's sandbox (a development build).
        sandbox: bool,
    },
}

/// A Web Push subscription (RFC 8030 endpoint, RFC 8291 keys).
#[derive(Clone, PartialEq, Eq)]
pub struct WebPushTarget {
    /// Where the push service takes messages for the device.
    pub endpoint: Url,
    /// The device's uncompressed P-256 public key (65 bytes, SEC 1).
    pub p256dh: [u8; 65],
    /// The device's authentication secret.
    pub auth: [u8; 16],
}

/// The kinds of device token, as they appear in metrics and replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// RFC 8030 Web Push.
    WebPush,
    /// Firebase Cloud Messaging.
    Fcm,
    /// Apple Push Notification service.
    Apns,
}

impl Kind {
    /// The name in the token's `kind` and in the relay's metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::WebPush => "webpush",
            Kind::Fcm => "fcm",
            Kind::Apns => "apns",
        }
    }
}

impl DeviceToken {
    /// Which kind of token it is.
    pub fn kind(&self) -> Kind {
        match self {
            DeviceToken::WebPush(_) => Kind::WebPush,
            DeviceToken::Fcm { .. } => Kind::Fcm,
            DeviceToken::Apns { .. } => Kind::Apns,
        }
    }
}

// Only the push service's host.
impl std::fmt::Debug for WebPushTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "WebPushTarget({})",
            self.endpoint.host_str().unwrap_or("no host")
        )
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
    /// Over [`MAX_TOKEN_BYTES`].
    #[error("the device token is longer than {MAX_TOKEN_BYTES} bytes")]
    TooLong,
    /// Not JSON, or not an object of this shape.
    #[error("the device token is not a JSON object of the relay's shape")]
    NotJson,
    /// `v` is not 1.
    #[error("the device token's version is not 1")]
    Version,
    /// `kind` is none of `webpush`, `fcm`, `apns`.
    #[error("the device token's kind is unknown")]
    UnknownKind,
    /// A field is missing or unusable.
    #[error("the device token has no valid {0}")]
    Field(&'static str),
}

/// The written form of a Web Push token, fields in the documented order.
#[derive(Serialize)]
struct WebPushOut<'a> {
    v: u8,
    kind: &'static str,
    endpoint: &'a str,
    p256dh: String,
    auth: String,
}

impl WebPushTarget {
    /// A Web Push target from a distributor's endpoint and the device's keys, checked as
    /// [`parse`] checks it (an `http(s)` URL with a host and without user information).
    pub fn new(endpoint: &str, p256dh: [u8; 65], auth: [u8; 16]) -> Result<Self, TokenError> {
        let endpoint = read_endpoint(endpoint)?;
        if p256::PublicKey::from_sec1_bytes(&p256dh).is_err() || p256dh[0] != 4 {
            return Err(TokenError::Field("p256dh"));
        }
        Ok(WebPushTarget {
            endpoint,
            p256dh,
            auth,
        })
    }

    /// The device token the app sends as its `fbtoken`: compact JSON,
    /// `{"v":1,"kind":"webpush","endpoint":...,"p256dh":...,"auth":...}`, the keys base64url
    /// without padding; refused over [`MAX_TOKEN_BYTES`].
    pub fn to_token(&self) -> Result<String, TokenError> {
        let out = WebPushOut {
            v: 1,
            kind: Kind::WebPush.as_str(),
            endpoint: self.endpoint.as_str(),
            p256dh: URL_SAFE_NO_PAD.encode(self.p256dh),
            auth: URL_SAFE_NO_PAD.encode(self.auth),
        };
        let text = serde_json::to_string(&out).map_err(|_| TokenError::NotJson)?;
        if text.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLong);
        }
        Ok(text)
    }
}

/// A Web Push endpoint: an `http(s)` URL with a host and without user information.
pub(crate) fn read_endpoint(endpoint: &str) -> Result<Url, TokenError> {
    let endpoint = Url::parse(endpoint).map_err(|_| TokenError::Field("endpoint"))?;
    if !matches!(endpoint.scheme(), "https" | "http")
        || endpoint.host_str().is_none()
        || !endpoint.username().is_empty()
        || endpoint.password().is_some()
    {
        return Err(TokenError::Field("endpoint"));
    }
    Ok(endpoint)
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
            let endpoint = read_endpoint(&raw.endpoint.ok_or(TokenError::Field("endpoint"))?)?;
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
        "fcm" => DeviceToken::fcm(&raw.token.ok_or(TokenError::Field("token"))?),
        "apns" => DeviceToken::apns(
            &raw.token.ok_or(TokenError::Field("token"))?,
            raw.sandbox.unwrap_or(false),
        ),
        _ => Err(TokenError::UnknownKind),
    }
}

/// The written form of an FCM or APNs token.
#[derive(Serialize)]
struct NativeOut<'a> {
    v: u8,
    kind: &'static str,
    token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sandbox: Option<bool>,
}

impl DeviceToken {
    /// An FCM registration token as a phone's FirebaseMessaging gives it, checked as [`parse`]
    /// checks it: URL-safe text (letters, digits, `-`, `_` and `:`).
    pub fn fcm(token: &str) -> Result<DeviceToken, TokenError> {
        if token.is_empty()
            || token.len() > MAX_TOKEN_BYTES
            || !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':'))
        {
            return Err(TokenError::Field("token"));
        }
        Ok(DeviceToken::Fcm {
            token: token.to_owned(),
        })
    }

    /// An APNs device token as iOS gives it (hex; kept lower-case), checked as [`parse`]
    /// checks it: hex only, since it becomes a path segment of the APNs request. `sandbox`:
    /// the app was signed for Apple's development environment.
    pub fn apns(token: &str, sandbox: bool) -> Result<DeviceToken, TokenError> {
        if token.is_empty()
            || token.len() > MAX_TOKEN_BYTES
            || !token.len().is_multiple_of(2)
            || !token.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(TokenError::Field("token"));
        }
        Ok(DeviceToken::Apns {
            token: token.to_ascii_lowercase(),
            sandbox,
        })
    }

    /// The device token the app sends as its `fbtoken` (compact JSON in the documented field
    /// order, docs/relay.md), refused over [`MAX_TOKEN_BYTES`]: what [`parse`] reads back.
    pub fn to_token(&self) -> Result<String, TokenError> {
        let out = match self {
            DeviceToken::WebPush(t) => return t.to_token(),
            DeviceToken::Fcm { token } => NativeOut {
                v: 1,
                kind: Kind::Fcm.as_str(),
                token,
                sandbox: None,
            },
            DeviceToken::Apns { token, sandbox } => NativeOut {
                v: 1,
                kind: Kind::Apns.as_str(),
                token,
                sandbox: Some(*sandbox),
            },
        };
        let text = serde_json::to_string(&out).map_err(|_| TokenError::NotJson)?;
        if text.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLong);
        }
        Ok(text)
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

    #[test]
    fn phone_tokens_are_written_as_the_relay_reads_them() {
        let fcm = DeviceToken::fcm("dE4k:APA91bH-reg_token").unwrap();
        let text = fcm.to_token().unwrap();
        assert_eq!(
            text,
            r#"{"v":1,"kind":"fcm","token":"dE4k:APA91bH-reg_token"}"#
        );
        assert_eq!(parse(&text).unwrap(), fcm);
        let apns = DeviceToken::apns("00FFaa", true).unwrap();
        let text = apns.to_token().unwrap();
        assert_eq!(
            text,
            r#"{"v":1,"kind":"apns","token":"00ffaa","sandbox":true}"#
        );
        assert_eq!(parse(&text).unwrap(), apns);
        for bad in ["", "a b", "a/b", "x\"y"] {
            assert_eq!(
                DeviceToken::fcm(bad),
                Err(TokenError::Field("token")),
                "{bad:?}"
            );
        }
        for bad in ["", "0", "zz", "00/1"] {
            assert_eq!(
                DeviceToken::apns(bad, false),
                Err(TokenError::Field("token")),
                "{bad:?}"
            );
        }
        let long = "a".repeat(MAX_TOKEN_BYTES);
        assert_eq!(
            DeviceToken::fcm(&long).unwrap().to_token(),
            Err(TokenError::TooLong)
        );
        assert_eq!(
            DeviceToken::fcm(&"a".repeat(MAX_TOKEN_BYTES + 1)),
            Err(TokenError::Field("token"))
        );
    }

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
    fn what_the_app_writes_the_relay_reads() {
        let p256dh: [u8; 65] = URL_SAFE_NO_PAD.decode(P256DH).unwrap().try_into().unwrap();
        let auth: [u8; 16] = URL_SAFE_NO_PAD.decode(AUTH).unwrap().try_into().unwrap();
        let target = WebPushTarget::new("https://push.example.org/up/x?y=1", p256dh, auth).unwrap();
        let token = target.to_token().unwrap();
        assert_eq!(
            token,
            format!(
                r#"{{"v":1,"kind":"webpush","endpoint":"https://push.example.org/up/x?y=1","p256dh":"{P256DH}","auth":"{AUTH}"}}"#
            )
        );
        assert_eq!(parse(&token).unwrap(), DeviceToken::WebPush(target));
        assert_eq!(
            WebPushTarget::new("https://u:p@push.example.org/x", p256dh, auth),
            Err(TokenError::Field("endpoint"))
        );
        let mut off_curve = p256dh;
        off_curve[64] ^= 1;
        assert_eq!(
            WebPushTarget::new("https://push.example.org/x", off_curve, auth),
            Err(TokenError::Field("p256dh"))
        );
        let long = format!("https://push.example.org/{}", "a".repeat(MAX_TOKEN_BYTES));
        let target = WebPushTarget::new(&long, p256dh, auth).unwrap();
        assert_eq!(target.to_token(), Err(TokenError::TooLong));
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
