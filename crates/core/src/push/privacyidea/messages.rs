//! The strings privacyIDEA's PUSH token signs, byte-exact, each built by one named function,
//! and the timestamp they carry.

use serde_json::Value;

use crate::push::ChallengeError;

/// What the phone signs to poll: `{serial}|{timestamp}`.
pub fn poll_message(serial: &str, timestamp: &str) -> String {
    format!("{serial}|{timestamp}")
}

/// What the server signs in a challenge:
/// `{nonce}|{url}|{serial}|{question}|{title}|{sslverify}`, then `|{require_presence}` when
/// the challenge asks for number matching.
pub fn challenge_message(
    nonce: &str,
    url: &str,
    serial: &str,
    question: &str,
    title: &str,
    sslverify: &str,
    require_presence: Option<&str>,
) -> String {
    let mut s = format!("{nonce}|{url}|{serial}|{question}|{title}|{sslverify}");
    if let Some(p) = require_presence {
        s.push('|');
        s.push_str(p);
    }
    s
}

/// What the server signs for its capabilities (3.14): the RFC 8785 canonical JSON of
/// `{"capabilities": <the parsed capabilities>, "nonce": "<nonce>"}`.
pub fn capabilities_message(capabilities: &Value, nonce: &str) -> Result<Vec<u8>, ChallengeError> {
    let mut outer = serde_json::Map::new();
    outer.insert("capabilities".to_owned(), capabilities.clone());
    outer.insert("nonce".to_owned(), Value::String(nonce.to_owned()));
    serde_json_canonicalizer::to_vec(&Value::Object(outer))
        .map_err(|_| ChallengeError::BadCapabilities("they cannot be canonicalized"))
}

/// What the phone signs to approve: `{nonce}|{serial}`.
pub fn accept_message(nonce: &str, serial: &str) -> String {
    format!("{nonce}|{serial}")
}

/// What the phone signs to approve with number matching: `{nonce}|{serial}|{option}`.
pub fn accept_option_message(nonce: &str, serial: &str, option: &str) -> String {
    format!("{nonce}|{serial}|{option}")
}

/// What the phone signs to decline: `{nonce}|{serial}|decline`, then `|{reason}` with a reason.
pub fn decline_message(nonce: &str, serial: &str, reason: Option<&str>) -> String {
    match reason {
        Some(r) => format!("{nonce}|{serial}|decline|{r}"),
        None => format!("{nonce}|{serial}|decline"),
    }
}

/// What the phone signs to give the server a new push token:
/// `{new_fb_token}|{serial}|{timestamp}`.
pub fn token_update_message(new_token: &str, serial: &str, timestamp: &str) -> String {
    format!("{new_token}|{serial}|{timestamp}")
}

/// ISO 8601 UTC with an explicit offset, as privacyIDEA parses it:
/// `2026-11-27T17:47:00+00:00`. The server accepts ±60 s for polls, ±5 min for updates.
pub fn timestamp(unix_seconds: u64) -> String {
    let t = crate::clock::Utc::from_unix(unix_seconds);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}
