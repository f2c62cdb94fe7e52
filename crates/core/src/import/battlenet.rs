//! Battle.net Authenticator's preferences (`com.blizzard.messenger.authenticator_preferences.xml`).
//!
//! Read: `AUTHENTICATOR_DEVICE_SECRET` and `AUTHENTICATOR_SERIAL`, hex of text XOR-masked with
//! the app's fixed key. Decrypt: unmask. Convert: the secret is the hex the unmasked text spells;
//! TOTP, SHA-1, 8 digits, 30 s, issuer Battle.net, name the serial.

use super::android_prefs;
use super::common::{self, malformed};
use super::{AccountEntry, Format, ImportError, ImportReport};
use crate::crypto;
use crate::{Algorithm, Kind, Secret};

const FORMAT: Format = Format::BattleNet;
pub(super) const SECRET_KEY: &str = "com.blizzard.messenger.AUTHENTICATOR_DEVICE_SECRET";
const SERIAL_KEY: &str = "com.blizzard.messenger.AUTHENTICATOR_SERIAL";
const ISSUER: &str = "Battle.net";
/// The Battle.net app's fixed mask.
const MASK_HEX: &str = "398e27fc50276a656065b0e525f4c06c04c61075286b8e7aeda59da9813b5dd6c80d2fb38068773fa59ba47c17ca6c6479015c1d5b8b8f6b9a";

/// Imports Battle.net Authenticator's preferences.
pub(super) fn import(bytes: &[u8]) -> Result<ImportReport, ImportError> {
    let prefs = android_prefs::strings(bytes, FORMAT)?;
    let secret = android_prefs::get(&prefs, SECRET_KEY)
        .ok_or_else(|| malformed(FORMAT, "no device secret"))?;
    let serial = android_prefs::get(&prefs, SERIAL_KEY).unwrap_or("");
    let mut report = ImportReport::default();
    let serial = if serial.is_empty() {
        Ok(String::new())
    } else {
        unmask(serial).map(|s| String::from_utf8_lossy(&s).into_owned())
    };
    let label = serial.clone().unwrap_or_default();
    let result = serial.and_then(|serial| {
        let hex = unmask(secret)?;
        let raw = crypto::hex(std::str::from_utf8(&hex).map_err(|_| "bad secret")?)
            .ok_or("the unmasked secret is not hex")?;
        let account = common::account(
            ISSUER,
            &serial,
            Secret::from_bytes(raw),
            Kind::Totp { period: 30 },
            Algorithm::Sha1,
            8,
        )?;
        Ok(AccountEntry::new(account))
    });
    report.push(common::label(ISSUER, &label, 0), result);
    Ok(report)
}

fn unmask(hex: &str) -> Result<Vec<u8>, String> {
    let masked = crypto::hex(hex.trim()).ok_or("a masked value is not hex")?;
    let mask = crypto::hex(MASK_HEX).unwrap_or_default();
    if masked.len() > mask.len() {
        return Err("a masked value is longer than the mask".to_owned());
    }
    Ok(masked.iter().zip(&mask).map(|(a, b)| a ^ b).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(text: &[u8]) -> String {
        let mask = crypto::hex(MASK_HEX).unwrap();
        let masked: Vec<u8> = text.iter().zip(&mask).map(|(a, b)| a ^ b).collect();
        data_encoding::HEXLOWER.encode(&masked)
    }

    #[test]
    fn minimal_preferences() {
        let xml = format!(
            "<map><string name=\"{SECRET_KEY}\">{}</string><string name=\"{SERIAL_KEY}\">{}</string></map>",
            mask(b"0102ff"),
            mask(b"EU-1")
        );
        let report = import(xml.as_bytes()).unwrap();
        let a = &report.entries[0].account;
        assert_eq!(a.secret.expose(), [1, 2, 255]);
        assert_eq!((a.issuer.as_str(), a.name.as_str()), ("Battle.net", "EU-1"));
        assert_eq!(a.params.digits(), 8);
    }

    #[test]
    fn bad_secret_is_skipped_and_missing_secret_is_malformed() {
        let xml = format!(
            "<map><string name=\"{SECRET_KEY}\">{}</string></map>",
            mask(b"zz")
        );
        let report = import(xml.as_bytes()).unwrap();
        assert_eq!(report.skipped.len(), 1);
        assert!(matches!(
            import(b"<map></map>"),
            Err(ImportError::Malformed { .. })
        ));
    }
}
