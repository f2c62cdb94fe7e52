//! Importing other apps' exports, in three steps per format (Aegis style): **read** the file's
//! structure, **decrypt** it when it is encrypted, **convert** each entry to an
//! [`AccountEntry`]. Every entry that cannot be taken is reported in
//! [`ImportReport::skipped`] with a reason: nothing is ever dropped silently.

use crate::AccountEntry;

/// An entry of the file that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// How the entry is named in the file (issuer/name, or its position), never its secret.
    pub entry: String,
    /// Why it was not imported.
    pub reason: String,
}

/// What an import produced.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// The entries taken, in file order.
    pub entries: Vec<AccountEntry>,
    /// The entries not taken.
    pub skipped: Vec<Skipped>,
}

/// Why a whole file could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The file is encrypted and no password was given.
    #[error("the file is encrypted; a password is needed")]
    PasswordRequired,
    /// The password does not open the file.
    #[error("wrong password for the file being imported")]
    WrongPassword,
    /// The file is not of the format asked for, or is damaged.
    #[error("not a valid {format} file: {reason}")]
    Malformed {
        /// The format's name.
        format: &'static str,
        /// What is wrong, without any secret.
        reason: String,
    },
    /// `auto` could not tell the format.
    #[error("the file's format was not recognised")]
    UnknownFormat,
}

mod aegis;
mod andotp;
mod android_prefs;
mod authenticator_plus;
mod authy;
mod battlenet;
mod bitwarden;
mod common;
mod duo;
mod ente;
mod freeotp;
mod java_serial;
mod proton;
mod sqlite;
mod steam;
mod stratum;
mod totp_authenticator;
mod twofas;
mod uri_list;

/// The export formats Twofold reads, named as on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Aegis vault, plain or encrypted (`aegis`).
    Aegis,
    /// 2FAS `.2fas` backup, schemas 1–4, plain or encrypted (`2fas`).
    TwoFas,
    /// andOTP backup, plain, encrypted or old encrypted (`andotp`).
    AndOtp,
    /// Bitwarden JSON or CSV export, plain or password-protected (`bitwarden`).
    Bitwarden,
    /// Ente Auth export, plain text or encrypted (`ente`).
    Ente,
    /// FreeOTP+ JSON export (`freeotp-plus`).
    FreeOtpPlus,
    /// Proton Authenticator JSON export (`proton`).
    Proton,
    /// Lines of Google Authenticator `otpauth-migration://` URIs (`google-migration`).
    GoogleMigration,
    /// One `otpauth://` or `steam://` URI a line (`otpauth-list`).
    OtpauthList,
    /// Stratum (Authenticator Pro) backup, plain or encrypted (`stratum`).
    Stratum,
    /// Steam Desktop Authenticator / steamguard maFile (`steam`).
    Steam,
    /// Duo Mobile JSON export (`duo`).
    Duo,
    /// FreeOTP / FreeOTP+ token store, `tokens.xml`; FreeOTP 2's encrypted store too (`freeotp`).
    FreeOtp,
    /// Authy's token store XML, with decrypted secrets (`authy`).
    Authy,
    /// Battle.net Authenticator's preferences XML (`battle-net`).
    BattleNet,
    /// TOTP Authenticator's preferences XML, or its encrypted backup (`totp-authenticator`).
    TotpAuthenticator,
    /// Google Authenticator's own SQLite database, `databases` (`google-authenticator`).
    GoogleAuthenticator,
    /// Microsoft Authenticator's SQLite database, `PhoneFactor` (`microsoft-authenticator`).
    MicrosoftAuthenticator,
    /// Authenticator Plus backup, a password-protected zip (`authenticator-plus`).
    AuthenticatorPlus,
}

impl Format {
    /// Every format, in the order auto-detection reports them.
    pub const ALL: [Format; 19] = [
        Format::Aegis,
        Format::TwoFas,
        Format::AndOtp,
        Format::Bitwarden,
        Format::Ente,
        Format::FreeOtpPlus,
        Format::Proton,
        Format::GoogleMigration,
        Format::OtpauthList,
        Format::Stratum,
        Format::Steam,
        Format::Duo,
        Format::FreeOtp,
        Format::Authy,
        Format::BattleNet,
        Format::TotpAuthenticator,
        Format::GoogleAuthenticator,
        Format::MicrosoftAuthenticator,
        Format::AuthenticatorPlus,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Aegis => "aegis",
            Format::TwoFas => "2fas",
            Format::AndOtp => "andotp",
            Format::Bitwarden => "bitwarden",
            Format::Ente => "ente",
            Format::FreeOtpPlus => "freeotp-plus",
            Format::Proton => "proton",
            Format::GoogleMigration => "google-migration",
            Format::OtpauthList => "otpauth-list",
            Format::Stratum => "stratum",
            Format::Steam => "steam",
            Format::Duo => "duo",
            Format::FreeOtp => "freeotp",
            Format::Authy => "authy",
            Format::BattleNet => "battle-net",
            Format::TotpAuthenticator => "totp-authenticator",
            Format::GoogleAuthenticator => "google-authenticator",
            Format::MicrosoftAuthenticator => "microsoft-authenticator",
            Format::AuthenticatorPlus => "authenticator-plus",
        }
    }

    /// The format of a command-line name (any case); `None` for unknown names.
    pub fn from_name(name: &str) -> Option<Format> {
        let name = name.trim().to_ascii_lowercase();
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Guesses the format of an export from its structure; `None` when nothing fits (old andOTP
/// encrypted files, for one, look like random bytes).
pub fn detect(bytes: &[u8]) -> Option<Format> {
    if stratum::is_encrypted(bytes) {
        return Some(Format::Stratum);
    }
    if freeotp::is_v2(bytes) {
        return Some(Format::FreeOtp);
    }
    if sqlite::looks_like(bytes) {
        return sqlite::detect(bytes);
    }
    if authenticator_plus::looks_like(bytes) {
        return Some(Format::AuthenticatorPlus);
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return andotp::looks_encrypted(bytes).then_some(Format::AndOtp);
    };
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.starts_with('{') || text.starts_with('[') {
        // A parsed value costs about 32 bytes whatever its text: too many, and the file is
        // not an export (the importer named with --format says why).
        if common::json_values(text.as_bytes()) > common::MAX_JSON_VALUES {
            return None;
        }
        let value: serde_json::Value = serde_json::from_str(text).ok()?;
        return detect_json(&value);
    }
    if android_prefs::looks_like(text) {
        return detect_prefs(bytes);
    }
    let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let lower = first.to_ascii_lowercase();
    if lower.starts_with("otpauth-migration://") {
        Some(Format::GoogleMigration)
    } else if lower.starts_with("otpauth://") || lower.starts_with("steam://") {
        if uri_list::has_ente_metadata(text) {
            Some(Format::Ente)
        } else {
            Some(Format::OtpauthList)
        }
    } else if bitwarden::is_csv_header(first) {
        Some(Format::Bitwarden)
    } else {
        andotp::looks_encrypted(bytes).then_some(Format::AndOtp)
    }
}

fn detect_prefs(bytes: &[u8]) -> Option<Format> {
    let prefs = android_prefs::strings(bytes, Format::FreeOtp).ok()?;
    let has = |key: &str| android_prefs::get(&prefs, key).is_some();
    if has(authy::KEY) {
        Some(Format::Authy)
    } else if has(battlenet::SECRET_KEY) {
        Some(Format::BattleNet)
    } else if has(totp_authenticator::KEY) {
        Some(Format::TotpAuthenticator)
    } else if has(freeotp::ORDER_KEY) {
        Some(Format::FreeOtp)
    } else {
        None
    }
}

fn detect_json(value: &serde_json::Value) -> Option<Format> {
    use serde_json::Value;
    let has = |key: &str| value.get(key).is_some();
    match value {
        Value::Object(_) if has("header") && has("db") => Some(Format::Aegis),
        Value::Object(_) if has("schemaVersion") && has("services") => Some(Format::TwoFas),
        Value::Object(_) if has("items") && has("encrypted") => Some(Format::Bitwarden),
        Value::Object(_) if has("passwordProtected") && has("data") => Some(Format::Bitwarden),
        Value::Object(_) if has("tokens") && has("tokenOrder") => Some(Format::FreeOtpPlus),
        Value::Object(_) if has("Authenticators") => Some(Format::Stratum),
        Value::Object(_) if has("accounts") || has("shared_secret") => Some(Format::Steam),
        Value::Object(_) if ente::is_encrypted(value) => Some(Format::Ente),
        Value::Object(_) if has("entries") && has("version") => Some(Format::Proton),
        Value::Array(items) => {
            let first = items.first()?;
            if first.get("otpGenerator").is_some() {
                Some(Format::Duo)
            } else if first.get("secret").is_some() {
                Some(Format::AndOtp)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The most password-based key derivations one file may ask for (formats that derive a key per
/// entry, such as Authy's, one per salt): each takes about a millisecond on a laptop, a few on
/// a phone, so the cap keeps an import to seconds; real files need one per account, and
/// hundreds of accounts at most.
pub const MAX_KEY_DERIVATIONS: usize = 2_000;

/// The largest file imported: 64 MiB, the largest vault ([`crate::vault::MAX_FILE_BYTES`]).
/// Real exports are kilobytes (100,000 accounts of JSON take about 30 MB); a larger file could
/// not fit in a vault anyway, and reading it would only cost memory.
pub const MAX_INPUT_BYTES: usize = crate::vault::MAX_FILE_BYTES;

/// Imports an export: `format` `None` detects it; `password` opens encrypted files.
pub fn import(
    bytes: &[u8],
    format: Option<Format>,
    password: Option<&[u8]>,
) -> Result<ImportReport, ImportError> {
    if bytes.len() > MAX_INPUT_BYTES {
        // Refused before detection, which would parse it.
        return Err(ImportError::Malformed {
            format: format.map_or("export", Format::name),
            reason: format!("the file is larger than {MAX_INPUT_BYTES} bytes"),
        });
    }
    let format = match format {
        Some(f) => f,
        None => detect(bytes).ok_or(ImportError::UnknownFormat)?,
    };
    match format {
        Format::Aegis => aegis::import(bytes, password),
        Format::TwoFas => twofas::import(bytes, password),
        Format::AndOtp => andotp::import(bytes, password),
        Format::Bitwarden => bitwarden::import(bytes, password),
        Format::Ente => ente::import(bytes, password),
        Format::Proton => proton::import(bytes),
        Format::GoogleMigration => uri_list::import_migration(bytes),
        Format::OtpauthList => uri_list::import_list(bytes),
        Format::Stratum => stratum::import(bytes, password),
        Format::Steam => steam::import(bytes),
        Format::Duo => duo::import(bytes),
        Format::FreeOtp | Format::FreeOtpPlus => freeotp::import(bytes, format, password),
        Format::Authy => authy::import(bytes, password),
        Format::BattleNet => battlenet::import(bytes),
        Format::TotpAuthenticator => totp_authenticator::import(bytes, password),
        Format::GoogleAuthenticator => sqlite::import_google(bytes),
        Format::MicrosoftAuthenticator => sqlite::import_microsoft(bytes),
        Format::AuthenticatorPlus => authenticator_plus::import(bytes, password),
    }
}

/// Shared test data: a secret and its Base32 form.
#[cfg(test)]
pub(crate) mod test_support {
    /// Base32 of the test secret.
    pub const B32: &str = "JBSWY3DPEHPK3PXP";
    /// Raw bytes of the test secret.
    pub const RAW: &[u8] = b"Hello!\xde\xad\xbe\xef";

    /// An encrypted file of `format` with the password `pw` is detected as such, opens into
    /// `entries` entries (the first with [`RAW`] as its secret), and handles wrong and missing
    /// passwords ([`assert_password_handling`]).
    pub fn assert_encrypted_file(file: &[u8], format: super::Format, entries: usize) {
        assert_eq!(super::detect(file), Some(format));
        let report = super::import(file, Some(format), Some(b"pw")).unwrap();
        assert_eq!(report.entries[0].account.secret.expose(), RAW);
        assert_password_handling(|pw| super::import(file, Some(format), pw), b"pw", entries);
    }

    /// An encrypted file opens with `right` into `entries` entries, a wrong password is
    /// `WrongPassword`, and no password is `PasswordRequired`.
    pub fn assert_password_handling(
        import: impl Fn(Option<&[u8]>) -> Result<super::ImportReport, super::ImportError>,
        right: &[u8],
        entries: usize,
    ) {
        assert_eq!(import(Some(right)).unwrap().entries.len(), entries);
        assert_eq!(
            import(Some(b"wrong")).err(),
            Some(super::ImportError::WrongPassword)
        );
        assert_eq!(
            import(None).err(),
            Some(super::ImportError::PasswordRequired)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(f));
            assert_eq!(Format::from_name(&f.name().to_uppercase()), Some(f));
        }
        assert_eq!(Format::from_name("nope"), None);
    }

    #[test]
    fn detection_of_small_inputs() {
        let cases: [(&str, Option<Format>); 12] = [
            (r#"{"version":1,"header":{},"db":{}}"#, Some(Format::Aegis)),
            (r#"{"schemaVersion":4,"services":[]}"#, Some(Format::TwoFas)),
            (r#"[{"secret":"A","type":"TOTP"}]"#, Some(Format::AndOtp)),
            (r#"{"encrypted":false,"items":[]}"#, Some(Format::Bitwarden)),
            ("name,login_totp\nx,y\n", Some(Format::Bitwarden)),
            (
                r#"{"tokenOrder":[],"tokens":[]}"#,
                Some(Format::FreeOtpPlus),
            ),
            (r#"{"version":1,"entries":[]}"#, Some(Format::Proton)),
            (
                "otpauth-migration://offline?data=",
                Some(Format::GoogleMigration),
            ),
            ("\n otpauth://totp/a?secret=A\n", Some(Format::OtpauthList)),
            (r#"{"Authenticators":[]}"#, Some(Format::Stratum)),
            (r#"{"shared_secret":"AA=="}"#, Some(Format::Steam)),
            (r#"[{"otpGenerator":{}}]"#, Some(Format::Duo)),
        ];
        for (text, want) in cases {
            assert_eq!(detect(text.as_bytes()), want, "{text}");
        }
        assert_eq!(detect(b"hello"), None);
        assert_eq!(detect(b"{}"), None);
        assert_eq!(detect(b""), None);
    }

    #[test]
    fn garbage_never_panics() {
        let samples: [&[u8]; 8] = [
            b"",
            b"\0\0\0\x10",
            b"AUTHENTICATORPRO",
            b"<map><string name=\"a",
            br#"{"version":1,"header":{"slots":[{"type":1,"n":3}],"params":{}},"db":"AA"}"#,
            br#"{"schemaVersion":2,"services":[],"servicesEncrypted":"::"}"#,
            br#"[{"secret":1,"type":[],"digits":-1}]"#,
            "otpauth://totp/é?secret=é&period=0".as_bytes(),
        ];
        for sample in samples {
            for cut in 0..=sample.len() {
                let Some(bytes) = sample.get(..cut) else {
                    continue;
                };
                for format in Format::ALL {
                    let _ = import(bytes, Some(format), Some(b"pw"));
                }
                let _ = detect(bytes);
            }
        }
    }

    #[test]
    fn unknown_format_is_an_error() {
        assert_eq!(
            import(b"hello", None, None).err(),
            Some(ImportError::UnknownFormat)
        );
    }

    #[test]
    fn errors_never_quote_secrets() {
        let text = format!("otpauth://totp/a?secret={}&digits=x", test_support::B32);
        let report = import(text.as_bytes(), None, None).unwrap();
        let shown = format!("{report:?}");
        assert!(!shown.contains(test_support::B32), "{shown}");
        assert_eq!(report.skipped.len(), 1);
    }
}
