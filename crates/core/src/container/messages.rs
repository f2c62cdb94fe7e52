//! The strings the phone signs, the endpoints' paths and URLs, the client's container dict,
//! and privacyIDEA's time stamps.

use serde::Serialize;

use super::{OfferedOtp, ReportedToken};

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
