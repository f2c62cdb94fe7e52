//! `otpauth://` (Google's Key Uri Format, with the quirks of real exports) and `steam://`.
//!
//! Read leniently, write exactly: for every account `a`, `parse(&write(&a)) == Ok(a)` (proved
//! by property tests), except that spaces at the start of an account name are dropped when
//! the label holds a colon (the Key Uri Format allows spaces after the issuer's colon).
//!
//! Quirks handled (see `docs/conformance.md`): lower-case Base32, spaces, dashes and
//! `=` in secrets, lower-case `algorithm`, `+` for a space in query values, an unencoded `#` in
//! a label (there are no fragments in otpauth URIs), issuers containing colons, raw UTF-8
//! labels, vendor parameters (ignored), HOTP without `counter` (0), `otpauth://steam` and
//! `steam://SECRET`. `period=0`, `digits=0` and `digits=11` are errors.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use zeroize::Zeroizing;

use crate::OtpAccount;
use crate::otp::{Algorithm, Kind, OtpParams, ParamsError};
use crate::secret::{Secret, SecretError};

/// URIs longer than this are refused before any parsing (64 KiB).
pub const MAX_URI_LEN: usize = 64 * 1024;

/// Issuer given to `steam://SECRET` accounts, which carry no label.
pub const STEAM_ISSUER: &str = "Steam";

/// Why a URI is not an account. Messages quote at most a short, secret-free part of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// Longer than [`MAX_URI_LEN`].
    #[error("the URI is {len} bytes long; at most {max} are accepted", max = MAX_URI_LEN)]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// Not `otpauth://` or `steam://`.
    #[error("not an otpauth:// or steam:// URI (scheme {0:?})")]
    Scheme(String),
    /// A Google Authenticator export, which holds several accounts.
    #[error("this is a Google Authenticator export (otpauth-migration://), not a single account")]
    Migration,
    /// An OTP type Twofold cannot compute.
    #[error("unsupported OTP type {0:?} (supported: totp, hotp, steam)")]
    UnsupportedType(String),
    /// No `secret` parameter.
    #[error("the URI has no secret")]
    MissingSecret,
    /// The secret is not Base32.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// A number parameter that is not a number.
    #[error("{field} is not a valid number: {value:?}")]
    Number {
        /// `digits`, `period` or `counter`.
        field: &'static str,
        /// The offending text (shortened).
        value: String,
    },
    /// An algorithm other than SHA1, SHA256, SHA512.
    #[error("unsupported algorithm {0:?} (supported: SHA1, SHA256, SHA512)")]
    Algorithm(String),
    /// Digits or period out of range.
    #[error(transparent)]
    Params(#[from] ParamsError),
    /// The label or a parameter does not decode to UTF-8 text.
    #[error("the {0} is not valid percent-encoded UTF-8")]
    Encoding(&'static str),
}

/// A short, printable excerpt of untrusted input for error messages.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 24;
    let mut out: String = text.chars().take(MAX).collect();
    if text.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}

fn decode(text: &str, what: &'static str) -> Result<String, UriError> {
    percent_decode_str(text)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| UriError::Encoding(what))
}

fn decode_query_value(text: &str, what: &'static str) -> Result<String, UriError> {
    decode(&text.replace('+', " "), what)
}

/// Splits `scheme://rest`, lower-casing the scheme.
pub(crate) fn split_scheme(uri: &str) -> Option<(String, &str)> {
    let (scheme, rest) = uri.split_once("://")?;
    Some((scheme.to_ascii_lowercase(), rest))
}

/// The query parameters of an URI, keys lower-cased, raw (still encoded) values; the first of
/// repeated keys wins.
pub(crate) fn query_pairs(query: &str) -> Vec<(String, &str)> {
    let mut pairs: Vec<(String, &str)> = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let k = k.to_ascii_lowercase();
        if !pairs.iter().any(|(seen, _)| *seen == k) {
            pairs.push((k, v));
        }
    }
    pairs
}

fn get<'a>(pairs: &'a [(String, &'a str)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

fn number<T: std::str::FromStr>(
    pairs: &[(String, &str)],
    field: &'static str,
) -> Result<Option<T>, UriError> {
    match get(pairs, field) {
        None => Ok(None),
        Some(raw) => {
            let text = decode_query_value(raw, field)?;
            text.trim().parse().map(Some).map_err(|_| UriError::Number {
                field,
                value: excerpt(&text),
            })
        }
    }
}

/// Reads one account from an `otpauth://totp|hotp|steam/...` or `steam://SECRET` URI.
pub fn parse(uri: &str) -> Result<OtpAccount, UriError> {
    let uri = uri.trim();
    if uri.len() > MAX_URI_LEN {
        return Err(UriError::TooLong { len: uri.len() });
    }
    let Some((scheme, rest)) = split_scheme(uri) else {
        return Err(UriError::Scheme(excerpt(
            uri.split(':').next().unwrap_or(""),
        )));
    };
    match scheme.as_str() {
        "otpauth" => parse_otpauth(rest),
        "steam" => {
            let secret = rest.split(['?', '/']).next().unwrap_or("");
            let secret = Secret::from_base32(&decode(secret, "secret")?)?;
            Ok(OtpAccount {
                issuer: STEAM_ISSUER.to_owned(),
                name: String::new(),
                secret,
                params: OtpParams::steam(30)?,
            })
        }
        "otpauth-migration" => Err(UriError::Migration),
        "motp" | "yandex" => Err(UriError::UnsupportedType(scheme)),
        _ => Err(UriError::Scheme(excerpt(&scheme))),
    }
}

fn parse_otpauth(rest: &str) -> Result<OtpAccount, UriError> {
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (otp_type, raw_label) = path.split_once('/').unwrap_or((path, ""));
    let otp_type = otp_type.to_ascii_lowercase();
    let pairs = query_pairs(query);

    let secret = get(&pairs, "secret").ok_or(UriError::MissingSecret)?;
    let secret = Secret::from_base32(&Zeroizing::new(decode(secret, "secret")?))?;
    let algorithm = match get(&pairs, "algorithm") {
        None => Algorithm::Sha1,
        Some(raw) => {
            let text = decode_query_value(raw, "algorithm")?;
            Algorithm::parse(&text).ok_or_else(|| UriError::Algorithm(excerpt(&text)))?
        }
    };
    let digits: Option<u32> = number(&pairs, "digits")?;
    let params = match otp_type.as_str() {
        "totp" => {
            let period = number(&pairs, "period")?.unwrap_or(30);
            OtpParams::new(Kind::Totp { period }, algorithm, digits.unwrap_or(6))?
        }
        "hotp" => {
            let counter = number(&pairs, "counter")?.unwrap_or(0);
            OtpParams::new(Kind::Hotp { counter }, algorithm, digits.unwrap_or(6))?
        }
        // Steam Guard is always SHA-1 with 5 characters, whatever the URI claims.
        "steam" => OtpParams::steam(number(&pairs, "period")?.unwrap_or(30))?,
        other => return Err(UriError::UnsupportedType(excerpt(other))),
    };

    let issuer_param = match get(&pairs, "issuer") {
        Some(raw) => Some(decode_query_value(raw, "issuer")?),
        None => None,
    };
    let (issuer, name) = split_label(raw_label, issuer_param.as_deref())?;
    Ok(OtpAccount {
        issuer,
        name,
        secret,
        params,
    })
}

/// Splits a raw label into issuer and account name.
fn split_label(raw: &str, issuer_param: Option<&str>) -> Result<(String, String), UriError> {
    let label = decode(raw, "label")?;
    let issuer_param = issuer_param.filter(|i| !i.is_empty());
    // An issuer that itself holds colons, written in full before the separator.
    if let Some(issuer) = issuer_param
        && let Some(name) = label
            .strip_prefix(issuer)
            .and_then(|rest| rest.strip_prefix(':'))
    {
        return Ok((issuer.to_owned(), name.trim_start_matches(' ').to_owned()));
    }
    let split = raw.split_once(':').or_else(|| {
        let at = raw.to_ascii_lowercase().find("%3a")?;
        Some((&raw[..at], &raw[at + 3..]))
    });
    let (prefix, name) = match split {
        Some((prefix, name)) => (
            decode(prefix, "label")?,
            decode(name, "label")?.trim_start_matches(' ').to_owned(),
        ),
        None => (String::new(), label),
    };
    Ok((issuer_param.map(str::to_owned).unwrap_or(prefix), name))
}

/// Characters left as they are in written URIs: RFC 3986's unreserved set.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn enc(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// Writes an account as an `otpauth://` URI (Steam as `otpauth://steam/...`). The result holds
/// the secret, so it comes in a zeroizing string.
pub fn write(account: &OtpAccount) -> Zeroizing<String> {
    let p = &account.params;
    let label = if !account.issuer.is_empty() {
        format!("{}:{}", enc(&account.issuer), enc(&account.name))
    } else if account.name.contains(':') {
        // A leading colon keeps a name that holds colons from being split.
        format!(":{}", enc(&account.name))
    } else {
        enc(&account.name)
    };
    let mut out = Zeroizing::new(String::with_capacity(128));
    out.push_str("otpauth://");
    out.push_str(p.kind().type_name());
    out.push('/');
    out.push_str(&label);
    out.push_str("?secret=");
    out.push_str(&account.secret.to_base32());
    if !account.issuer.is_empty() {
        out.push_str("&issuer=");
        out.push_str(&enc(&account.issuer));
    }
    out.push_str("&algorithm=");
    out.push_str(p.algorithm().as_str());
    out.push_str(&format!("&digits={}", p.digits()));
    match p.kind() {
        Kind::Totp { period } | Kind::Steam { period } => {
            out.push_str(&format!("&period={period}"));
        }
        Kind::Hotp { counter } => out.push_str(&format!("&counter={counter}")),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(uri: &str) -> OtpAccount {
        parse(uri).unwrap()
    }

    #[test]
    fn defaults() {
        let a = p("otpauth://totp/alice@example.com?secret=JBSWY3DPEHPK3PXP");
        assert_eq!(a.issuer, "");
        assert_eq!(a.name, "alice@example.com");
        assert_eq!(a.params.kind(), Kind::Totp { period: 30 });
        assert_eq!(a.params.algorithm(), Algorithm::Sha1);
        assert_eq!(a.params.digits(), 6);
        let h = p("otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP");
        assert_eq!(h.params.kind(), Kind::Hotp { counter: 0 });
    }

    #[test]
    fn label_quirks() {
        let a = p(
            "otpauth://totp/ACME%20Co:%20%20john@example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME+Co",
        );
        assert_eq!(
            (a.issuer.as_str(), a.name.as_str()),
            ("ACME Co", "john@example.com")
        );
        let a = p("otpauth://totp/ACME Co:  john?secret=JBSWY3DPEHPK3PXP");
        assert_eq!((a.issuer.as_str(), a.name.as_str()), ("ACME Co", "john"));
        let a = p("otpauth://totp/Bank:#1 account?secret=JBSWY3DPEHPK3PXP");
        assert_eq!(a.name, "#1 account");
        let a = p("otpauth://totp/Sköld%3Aåsa?secret=JBSWY3DPEHPK3PXP");
        assert_eq!((a.issuer.as_str(), a.name.as_str()), ("Sköld", "åsa"));
        let a = p("otpauth://totp/Ärlig:Åsa?secret=jbsw-y3dp ehpk3pxp===");
        assert_eq!((a.issuer.as_str(), a.name.as_str()), ("Ärlig", "Åsa"));
        let a = p("otpauth://totp/AWS:prod:root?secret=JBSWY3DPEHPK3PXP&issuer=AWS:prod");
        assert_eq!((a.issuer.as_str(), a.name.as_str()), ("AWS:prod", "root"));
        let a = p("otpauth://totp/Other:me?secret=JBSWY3DPEHPK3PXP&issuer=Param");
        assert_eq!((a.issuer.as_str(), a.name.as_str()), ("Param", "me"));
    }

    #[test]
    fn vendor_parameters_and_case() {
        let a = p(
            "OTPAUTH://TOTP/WWE:Mason?algorithm=sha512&digits=8&issuer=WWE&period=30&secret=5VAML3X35THCEBVRLV24CGBKOY&codeDisplay=%7B%7D&pipush=1",
        );
        assert_eq!(a.params.algorithm(), Algorithm::Sha512);
        assert_eq!(a.params.digits(), 8);
    }

    #[test]
    fn steam() {
        let a = p("steam://JRZCL47CMXVOQMNPZR2F7J4RGI");
        assert_eq!(a.issuer, STEAM_ISSUER);
        assert_eq!(a.params.kind(), Kind::Steam { period: 30 });
        assert_eq!(a.code_at(1700000000), "747JR");
        let b = p(
            "otpauth://steam/Boeing:Sophia?secret=JRZCL47CMXVOQMNPZR2F7J4RGI&digits=8&algorithm=SHA256",
        );
        assert_eq!(b.params, a.params);
    }

    #[test]
    fn errors() {
        use UriError::*;
        let e = |u: &str| parse(u).unwrap_err();
        assert!(matches!(
            e("otpauth://totp/x?secret=JBSWY3DP&period=0"),
            Params(ParamsError::ZeroPeriod)
        ));
        assert!(matches!(
            e("otpauth://totp/x?secret=JBSWY3DP&digits=0"),
            Params(ParamsError::Digits(0))
        ));
        assert!(matches!(
            e("otpauth://totp/x?secret=JBSWY3DP&digits=11"),
            Params(ParamsError::Digits(11))
        ));
        assert!(matches!(e("otpauth://totp/x?digits=6"), MissingSecret));
        assert!(matches!(
            e("otpauth://totp/x?secret="),
            Secret(SecretError::Empty)
        ));
        assert!(matches!(
            e("otpauth://totp/x?secret=JBSW1"),
            Secret(SecretError::InvalidCharacter { .. })
        ));
        assert!(matches!(
            e("otpauth://yandex/x?secret=JBSWY3DP"),
            UnsupportedType(_)
        ));
        assert!(matches!(e("motp://x?secret=abc"), UnsupportedType(_)));
        assert!(matches!(
            e("otpauth://totp/x?secret=JBSWY3DP&algorithm=MD5"),
            Algorithm(_)
        ));
        assert!(matches!(
            e("otpauth://totp/x?secret=JBSWY3DP&period=-5"),
            Number {
                field: "period",
                ..
            }
        ));
        assert!(matches!(
            e("otpauth://totp/x?secret=JBSWY3DP&digits=99999999999"),
            Number { .. }
        ));
        assert!(matches!(e("https://example.com"), Scheme(_)));
        assert!(matches!(e("hello"), Scheme(_)));
        assert!(matches!(
            e("otpauth-migration://offline?data=AA"),
            Migration
        ));
        assert!(matches!(
            e("otpauth://totp/x?secret=%FF%FE"),
            Encoding("secret")
        ));
        let long = format!(
            "otpauth://totp/x?secret=JBSWY3DP&issuer={}",
            "a".repeat(100_000)
        );
        assert!(matches!(e(&long), TooLong { len } if len > 100_000));
    }

    #[test]
    fn error_messages_never_hold_the_secret() {
        let secret = "JBSWY3DPEHPK3PXP1";
        for uri in [
            format!("otpauth://totp/x?secret={secret}"),
            format!("otpauth://md5/x?secret={secret}"),
            format!("otpauth://totp/x?secret={secret}&algorithm={secret}"),
        ] {
            let msg = parse(&uri).unwrap_err().to_string();
            assert!(!msg.contains("JBSWY3DPEHPK3PXP"), "{msg}");
        }
    }

    #[test]
    fn write_then_parse() {
        for uri in [
            "otpauth://totp/ACME%20Co:john?secret=JBSWY3DPEHPK3PXP&issuer=ACME+Co",
            "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=7",
            "otpauth://totp/:a:b?secret=JBSWY3DPEHPK3PXP",
            "otpauth://steam/Boeing:Sophia?secret=JRZCL47CMXVOQMNPZR2F7J4RGI",
        ] {
            let a = p(uri);
            let written = write(&a);
            assert_eq!(p(&written), a, "{uri} -> {}", &*written);
        }
        let a = p("otpauth://totp/ACME%20Co:john?secret=JBSWY3DPEHPK3PXP&issuer=ACME+Co");
        assert_eq!(
            &*write(&a),
            "otpauth://totp/ACME%20Co:john?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30"
        );
    }
}
