//! Authenticator Plus backups: a zip protected with the backup password (traditional PKWARE
//! encryption, "ZipCrypto"), holding `Accounts.txt` with one `otpauth://` URI a line.
//!
//! Read: the zip's directory. Decrypt: `Accounts.txt` with the password (ZipCrypto's 12-byte
//! header check rejects a wrong password, except about once in 256 tries, when the CRC-32 of
//! the inflated text does). Convert: as a plain otpauth list.

use std::io::{Cursor, Read};

use zeroize::Zeroizing;

use super::common::malformed;
use super::{Format, ImportError, ImportReport, uri_list};

const FORMAT: Format = Format::AuthenticatorPlus;
const ACCOUNTS: &str = "Accounts.txt";
/// Larger than any list of accounts; stops zip bombs.
const MAX_TEXT: u64 = 16 << 20;

/// True for a zip archive (the local file header signature).
pub(super) fn looks_like(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Imports an Authenticator Plus backup.
pub(super) fn import(bytes: &[u8], password: Option<&[u8]>) -> Result<ImportReport, ImportError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|_| malformed(FORMAT, "not a readable zip archive"))?;
    let index = (0..archive.len())
        .find(|&i| {
            archive
                .name_for_index(i)
                .is_some_and(|n| n.rsplit('/').next() == Some(ACCOUNTS))
        })
        .ok_or_else(|| malformed(FORMAT, "the archive holds no Accounts.txt"))?;
    let encrypted = archive
        .by_index_raw(index)
        .map_err(|_| malformed(FORMAT, "unreadable Accounts.txt"))?
        .encrypted();
    let mut text = Zeroizing::new(Vec::new());
    let read = |file: &mut dyn Read, text: &mut Vec<u8>| {
        file.take(MAX_TEXT + 1).read_to_end(text).map(|_| ())
    };
    if encrypted {
        let password = password.ok_or(ImportError::PasswordRequired)?;
        let mut file = match archive.by_index_decrypt(index, password) {
            Ok(f) => f,
            Err(zip::result::ZipError::InvalidPassword) => return Err(ImportError::WrongPassword),
            Err(_) => return Err(malformed(FORMAT, "unreadable Accounts.txt")),
        };
        // A wrong password that slips past the header check fails inflation or the CRC.
        read(&mut file, &mut text).map_err(|_| ImportError::WrongPassword)?;
    } else {
        let mut file = archive
            .by_index(index)
            .map_err(|_| malformed(FORMAT, "unreadable Accounts.txt"))?;
        read(&mut file, &mut text).map_err(|_| malformed(FORMAT, "damaged Accounts.txt"))?;
    }
    if text.len() as u64 > MAX_TEXT {
        return Err(malformed(FORMAT, "Accounts.txt is too large"));
    }
    uri_list::import_list(&text).map_err(|e| match e {
        ImportError::Malformed { reason, .. } => malformed(FORMAT, reason),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_backup() {
        assert!(looks_like(b"PK\x03\x04rest"));
        for bad in [&b""[..], b"PK\x03\x04", b"not a zip"] {
            assert!(matches!(
                import(bad, Some(b"pw")),
                Err(ImportError::Malformed { .. })
            ));
        }
    }
}
