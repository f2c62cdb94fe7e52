//! The JSON shapes of the contract.

use serde::Serialize;
use twofold_core::OtpAccount;

/// An account as every `--json` listing shows it; no secret.
#[derive(Debug, Serialize)]
pub struct AccountJson<'a> {
    /// The vault's id; `null` for an account that is not in the vault (`backup check`'s extra).
    pub id: Option<String>,
    pub issuer: &'a str,
    pub name: &'a str,
    #[serde(rename = "type")]
    pub otp_type: &'static str,
    pub algorithm: &'static str,
    pub digits: u32,
    pub period: Option<u32>,
    pub counter: Option<u64>,
    /// The token container that manages it (`SMPH...`), else null.
    pub container: Option<&'a str>,
    /// The server's token serial of a container token, else null.
    pub serial: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl<'a> AccountJson<'a> {
    pub fn new(id: String, account: &'a OtpAccount, code: Option<String>) -> Self {
        let kind = account.params.kind();
        AccountJson {
            id: Some(id),
            issuer: &account.issuer,
            name: &account.name,
            otp_type: kind.type_name(),
            algorithm: account.params.algorithm().as_str(),
            digits: account.params.digits(),
            period: kind.period(),
            counter: kind.counter(),
            container: None,
            serial: None,
            code,
        }
    }
}

impl<'a> AccountJson<'a> {
    /// Adds the container and server serial of a vault account a container manages.
    pub fn managed(mut self, vault: &'a twofold_core::vault::Vault, id: &str) -> Self {
        if let Some((c, t)) = vault.managed_account(id) {
            self.container = Some(&c.container.serial);
            self.serial = Some(&t.serial);
        }
        self
    }
}

/// `{"file": ..., "text": ...}` of `scan --json`.
#[derive(Debug, Serialize)]
pub struct ScanJson {
    pub file: String,
    pub text: String,
}

/// Prints exactly one JSON document and a newline.
pub fn print_json<T: Serialize>(value: &T) -> Result<(), std::io::Error> {
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    println!("{text}");
    Ok(())
}

/// Data (issuer, name, note, server text) made safe to print on a terminal: every control
/// character (C0, DEL, C1: ESC, BEL, CR, LF, ...) and every bidirectional-override character
/// is written as a `\u{..}` escape, so no file, QR code or server can move the cursor, retitle
/// the window or forge a line. Text without such characters is returned as it is.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    }
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The most bytes read from any file the user names (an import, an image, a password file):
/// the core's own input cap, checked before reading, so a huge or endless file (`/dev/zero`)
/// is refused instead of filling memory.
pub const MAX_READ_BYTES: usize = twofold_core::import::MAX_INPUT_BYTES;

/// Reads `path`, refusing it when it holds more than [`MAX_READ_BYTES`].
pub fn read_capped(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_READ_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > MAX_READ_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("larger than {} MiB; not read", MAX_READ_BYTES >> 20),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert_eq!(terminal_safe("ACME (alice)"), "ACME (alice)");
        assert_eq!(
            terminal_safe("a\u{1b}]0;pwned\u{7}b\r\nc\u{9b}d\u{202e}e"),
            "a\\u{1b}]0;pwned\\u{7}b\\u{d}\\u{a}c\\u{9b}d\\u{202e}e"
        );
        assert_eq!(terminal_safe("Ünïcødé ok"), "Ünïcødé ok");
    }
}
