//! The JSON shapes of the contract.

use serde::Serialize;
use twofold_core::OtpAccount;

/// An account as every `--json` listing shows it; no secret.
#[derive(Debug, Serialize)]
pub struct AccountJson<'a> {
    pub id: String,
    pub issuer: &'a str,
    pub name: &'a str,
    #[serde(rename = "type")]
    pub otp_type: &'static str,
    pub algorithm: &'static str,
    pub digits: u32,
    pub period: Option<u32>,
    pub counter: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl<'a> AccountJson<'a> {
    pub fn new(id: String, account: &'a OtpAccount, code: Option<String>) -> Self {
        let kind = account.params.kind();
        AccountJson {
            id,
            issuer: &account.issuer,
            name: &account.name,
            otp_type: kind.type_name(),
            algorithm: account.params.algorithm().as_str(),
            digits: account.params.digits(),
            period: kind.period(),
            counter: kind.counter(),
            code,
        }
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
