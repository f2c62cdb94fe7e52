//! Google Authenticator's exports: `otpauth-migration://offline?data=<base64 protobuf>`.
//!
//! `MigrationPayload{1: repeated OtpParameters, 2: version, 3: batch_size, 4: batch_index,
//! 5: batch_id}`; `OtpParameters{1: secret, 2: name, 3: issuer, 4: algorithm, 5: digits,
//! 6: type, 7: counter}`. Unspecified (0) algorithm, digits and type mean SHA1, 6 and TOTP; MD5
//! or an unknown value, or an empty secret, is an error for that account alone. TOTP is always
//! 30 s. A multi-QR export is complete when every `batch_index` in `0..batch_size` of one
//! `batch_id` has been seen ([`BatchProgress`]).

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use prost::Message;
use zeroize::{Zeroize, Zeroizing};

use crate::otp::{Algorithm, Kind, OtpParams};
use crate::uri::{MAX_URI_LEN, query_pairs, split_scheme};
use crate::{OtpAccount, Secret};

/// Google Authenticator puts at most this many accounts in one QR code.
pub const ACCOUNTS_PER_URI: usize = 10;
/// The most QR codes one export may claim (`batch_size`; `batch_index` is below it): 100,000.
/// A vault (64 MiB) cannot hold the million accounts that would take at
/// [`ACCOUNTS_PER_URI`] each, so no export written here exceeds it, while the progress of a
/// multi-QR import (its list of missing indexes) stays under 400 KB. Without it one QR
/// claiming 2^31−1 codes made the app build a list of two billion indexes.
pub const MAX_BATCH_SIZE: i32 = 100_000;

#[derive(Clone, PartialEq, Message)]
struct Payload {
    #[prost(message, repeated, tag = "1")]
    otp_parameters: Vec<Parameters>,
    #[prost(int32, tag = "2")]
    version: i32,
    #[prost(int32, tag = "3")]
    batch_size: i32,
    #[prost(int32, tag = "4")]
    batch_index: i32,
    #[prost(int32, tag = "5")]
    batch_id: i32,
}

#[derive(Clone, PartialEq, Message)]
struct Parameters {
    #[prost(bytes = "vec", tag = "1")]
    secret: Vec<u8>,
    #[prost(string, tag = "2")]
    name: String,
    #[prost(string, tag = "3")]
    issuer: String,
    #[prost(int32, tag = "4")]
    algorithm: i32,
    #[prost(int32, tag = "5")]
    digits: i32,
    #[prost(int32, tag = "6")]
    otp_type: i32,
    #[prost(int64, tag = "7")]
    counter: i64,
}

impl Drop for Parameters {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

/// Why an export could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrationError {
    /// Longer than 64 KiB.
    #[error("the URI is {len} bytes long; at most {max} are accepted", max = MAX_URI_LEN)]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// Not `otpauth-migration://offline?data=...`.
    #[error("not a Google Authenticator export (otpauth-migration://offline?data=...)")]
    NotMigration,
    /// No `data` parameter.
    #[error("the export has no data parameter")]
    MissingData,
    /// `data` is not Base64.
    #[error("the export's data is not valid Base64")]
    Base64,
    /// The bytes are not a migration payload (truncated or garbage).
    #[error("the export's data is truncated or is not a Google Authenticator payload")]
    Protobuf,
    /// Batch fields that contradict each other, or more than [`MAX_BATCH_SIZE`] codes.
    #[error("the export's batch fields are inconsistent or too large (index {index} of {size})")]
    Batch {
        /// `batch_index`.
        index: i32,
        /// `batch_size`.
        size: i32,
    },
}

/// Why one account of an export was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// MD5 (4) or an unknown algorithm number.
    #[error("unsupported algorithm ({})", if *.0 == 4 { "MD5".to_owned() } else { format!("value {}", .0) })]
    Algorithm(i32),
    /// Neither unspecified, 6 nor 8 digits.
    #[error("unsupported digits value {0}")]
    Digits(i32),
    /// Neither unspecified, HOTP nor TOTP.
    #[error("unsupported OTP type value {0}")]
    Type(i32),
    /// An empty secret.
    #[error("the secret is empty")]
    EmptySecret,
    /// A negative HOTP counter.
    #[error("negative HOTP counter")]
    Counter,
}

/// One QR code's worth of an export.
#[derive(Debug)]
pub struct Batch {
    /// The payload format version.
    pub version: i32,
    /// How many QR codes the whole export has (at least 1).
    pub batch_size: u32,
    /// Which of them this is (0-based).
    pub batch_index: u32,
    /// Identifies one export across its QR codes.
    pub batch_id: i32,
    /// The accounts, in payload order; an entry that could not be taken is an error in place.
    pub entries: Vec<Result<OtpAccount, EntryError>>,
}

fn base64_lenient() -> GeneralPurpose {
    GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
}

/// Reads an `otpauth-migration://offline?data=...` URI.
pub fn parse_uri(uri: &str) -> Result<Batch, MigrationError> {
    let uri = uri.trim();
    if uri.len() > MAX_URI_LEN {
        return Err(MigrationError::TooLong { len: uri.len() });
    }
    let rest = match split_scheme(uri) {
        Some((scheme, rest)) if scheme == "otpauth-migration" => rest,
        _ => return Err(MigrationError::NotMigration),
    };
    let (_, query) = rest.split_once('?').ok_or(MigrationError::MissingData)?;
    let raw = query_pairs(query)
        .into_iter()
        .find(|(k, _)| k == "data")
        .map(|(_, v)| v)
        .ok_or(MigrationError::MissingData)?;
    // Percent-decode by hand so that a literal '+' stays a Base64 character; a '+' that was
    // turned into a space along the way (form decoding) becomes '+' again.
    let text = Zeroizing::new(
        percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| MigrationError::Base64)?
            .replace(' ', "+"),
    );
    let bytes = Zeroizing::new(
        base64_lenient()
            .decode(text.trim().as_bytes())
            .or_else(|_| {
                GeneralPurpose::new(
                    &base64::alphabet::URL_SAFE,
                    GeneralPurposeConfig::new()
                        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
                )
                .decode(text.trim().as_bytes())
            })
            .map_err(|_| MigrationError::Base64)?,
    );
    parse_payload(&bytes)
}

/// Reads the protobuf payload of an export.
pub fn parse_payload(bytes: &[u8]) -> Result<Batch, MigrationError> {
    let payload = Payload::decode(bytes).map_err(|_| MigrationError::Protobuf)?;
    let size = payload.batch_size.max(1);
    if payload.batch_index < 0 || payload.batch_index >= size || size > MAX_BATCH_SIZE {
        return Err(MigrationError::Batch {
            index: payload.batch_index,
            size: payload.batch_size,
        });
    }
    Ok(Batch {
        version: payload.version,
        batch_size: size as u32,
        batch_index: payload.batch_index as u32,
        batch_id: payload.batch_id,
        entries: payload.otp_parameters.iter().map(convert).collect(),
    })
}

fn convert(p: &Parameters) -> Result<OtpAccount, EntryError> {
    let algorithm = match p.algorithm {
        0 | 1 => Algorithm::Sha1,
        2 => Algorithm::Sha256,
        3 => Algorithm::Sha512,
        other => return Err(EntryError::Algorithm(other)),
    };
    let digits = match p.digits {
        0 | 1 => 6,
        2 => 8,
        other => return Err(EntryError::Digits(other)),
    };
    let kind = match p.otp_type {
        0 | 2 => Kind::Totp { period: 30 },
        1 => Kind::Hotp {
            counter: u64::try_from(p.counter).map_err(|_| EntryError::Counter)?,
        },
        other => return Err(EntryError::Type(other)),
    };
    if p.secret.is_empty() {
        return Err(EntryError::EmptySecret);
    }
    // Digits 6 and 8 and a 30 s period are always valid parameters.
    let params =
        OtpParams::new(kind, algorithm, digits).map_err(|_| EntryError::Digits(p.digits))?;
    // Google stores "Issuer:name" as the name of accounts scanned from such labels.
    let name = match p
        .name
        .strip_prefix(p.issuer.as_str())
        .and_then(|rest| rest.strip_prefix(':'))
    {
        Some(rest) if !p.issuer.is_empty() => rest.trim_start_matches(' ').to_owned(),
        _ => p.name.clone(),
    };
    Ok(OtpAccount {
        issuer: p.issuer.clone(),
        name,
        secret: Secret::from_bytes(p.secret.clone()),
        params,
    })
}

/// Why an account cannot travel in a Google Authenticator export.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// Steam Guard codes have no counterpart in the format.
    #[error("Google Authenticator exports cannot hold Steam Guard accounts")]
    Steam,
    /// The format knows only 30-second TOTP.
    #[error("Google Authenticator exports hold only 30-second periods, not {0} s")]
    Period(u32),
    /// The format knows only 6 and 8 digits.
    #[error("Google Authenticator exports hold only 6 or 8 digits, not {0}")]
    Digits(u32),
    /// The counter does not fit the format's signed 64-bit field.
    #[error("the HOTP counter is too large for a Google Authenticator export")]
    Counter,
}

/// An export: the URIs (one per QR code) and the accounts that could not be written, by index.
pub struct Export {
    /// `otpauth-migration://offline?data=...`, at most [`ACCOUNTS_PER_URI`] accounts each, with
    /// the batch fields set.
    pub uris: Vec<Zeroizing<String>>,
    /// Accounts left out, with the reason.
    pub skipped: Vec<(usize, WriteError)>,
}

fn to_parameters(a: &OtpAccount) -> Result<Parameters, WriteError> {
    let p = &a.params;
    let (otp_type, counter) = match p.kind() {
        Kind::Totp { period: 30 } => (2, 0),
        Kind::Totp { period } => return Err(WriteError::Period(period)),
        Kind::Hotp { counter } => (1, i64::try_from(counter).map_err(|_| WriteError::Counter)?),
        Kind::Steam { .. } => return Err(WriteError::Steam),
    };
    let digits = match p.digits() {
        6 => 1,
        8 => 2,
        d => return Err(WriteError::Digits(d)),
    };
    let algorithm = match p.algorithm() {
        Algorithm::Sha1 => 1,
        Algorithm::Sha256 => 2,
        Algorithm::Sha512 => 3,
    };
    // A name that itself begins with "Issuer:" keeps it through the prefix rule of `convert`.
    let name = if !a.issuer.is_empty() && a.name.starts_with(&format!("{}:", a.issuer)) {
        format!("{}:{}", a.issuer, a.name)
    } else {
        a.name.clone()
    };
    Ok(Parameters {
        secret: a.secret.expose().to_vec(),
        name,
        issuer: a.issuer.clone(),
        algorithm,
        digits,
        otp_type,
        counter,
    })
}

/// Writes accounts as a Google Authenticator export split into QR-sized batches.
pub fn write(accounts: &[OtpAccount], batch_id: i32) -> Export {
    let mut params = Vec::new();
    let mut skipped = Vec::new();
    for (i, a) in accounts.iter().enumerate() {
        match to_parameters(a) {
            Ok(p) => params.push(p),
            Err(e) => skipped.push((i, e)),
        }
    }
    let chunks: Vec<&[Parameters]> = params.chunks(ACCOUNTS_PER_URI).collect();
    let size = chunks.len() as i32;
    let uris = chunks
        .iter()
        .enumerate()
        .map(|(index, chunk)| {
            let payload = Payload {
                otp_parameters: chunk.to_vec(),
                version: 1,
                batch_size: size,
                batch_index: index as i32,
                batch_id,
            };
            let bytes = Zeroizing::new(payload.encode_to_vec());
            let b64 = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*bytes));
            let mut uri = Zeroizing::new(String::from("otpauth-migration://offline?data="));
            uri.push_str(
                &percent_encoding::utf8_percent_encode(&b64, percent_encoding::NON_ALPHANUMERIC)
                    .to_string(),
            );
            uri
        })
        .collect();
    Export { uris, skipped }
}

/// Tracks the QR codes of one multi-QR export until every batch has been seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchProgress {
    batch_id: i32,
    batch_size: u32,
    seen: BTreeSet<u32>,
}

/// A QR code from another export than the one being collected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this QR code belongs to another export (batch id {found}, expected {expected})")]
pub struct OtherExport {
    /// The batch id being collected.
    pub expected: i32,
    /// The batch id of the QR code offered.
    pub found: i32,
}

impl BatchProgress {
    /// Starts with the first QR code scanned (any of them).
    pub fn new(first: &Batch) -> Self {
        BatchProgress {
            batch_id: first.batch_id,
            batch_size: first.batch_size,
            seen: BTreeSet::from([first.batch_index]),
        }
    }

    /// Records a further QR code; `Ok(false)` when it was seen already.
    pub fn add(&mut self, batch: &Batch) -> Result<bool, OtherExport> {
        if batch.batch_id != self.batch_id || batch.batch_size != self.batch_size {
            return Err(OtherExport {
                expected: self.batch_id,
                found: batch.batch_id,
            });
        }
        Ok(self.seen.insert(batch.batch_index))
    }

    /// True once every QR code of the export has been seen.
    pub fn is_complete(&self) -> bool {
        self.seen.len() as u32 == self.batch_size
    }

    /// The 0-based indexes still missing.
    pub fn missing(&self) -> Vec<u32> {
        (0..self.batch_size)
            .filter(|i| !self.seen.contains(i))
            .collect()
    }

    /// How many QR codes the export has.
    pub fn batch_size(&self) -> u32 {
        self.batch_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(params: Vec<Parameters>, size: i32, index: i32, id: i32) -> Vec<u8> {
        Payload {
            otp_parameters: params,
            version: 1,
            batch_size: size,
            batch_index: index,
            batch_id: id,
        }
        .encode_to_vec()
    }

    fn param(secret: &[u8], algorithm: i32, digits: i32, otp_type: i32) -> Parameters {
        Parameters {
            secret: secret.to_vec(),
            name: "Deno:Mason".into(),
            issuer: "Deno".into(),
            algorithm,
            digits,
            otp_type,
            counter: 3,
        }
    }

    #[test]
    fn unspecified_means_defaults_and_bad_entries_stay_in_place() {
        let bytes = raw(
            vec![
                param(b"12345678901234567890", 0, 0, 0),
                param(b"12345678901234567890", 4, 1, 2),
                param(b"", 1, 1, 2),
                param(b"12345678901234567890", 2, 2, 1),
                param(b"12345678901234567890", 1, 3, 2),
                param(b"12345678901234567890", 1, 1, 9),
            ],
            1,
            0,
            7,
        );
        let b = parse_payload(&bytes).unwrap();
        let a = b.entries[0].as_ref().unwrap();
        assert_eq!((a.issuer.as_str(), a.name.as_str()), ("Deno", "Mason"));
        assert_eq!(a.params.kind(), Kind::Totp { period: 30 });
        assert_eq!(a.params.algorithm(), Algorithm::Sha1);
        assert_eq!(a.params.digits(), 6);
        assert_eq!(
            b.entries[1].as_ref().unwrap_err(),
            &EntryError::Algorithm(4)
        );
        assert_eq!(
            b.entries[1].as_ref().unwrap_err().to_string(),
            "unsupported algorithm (MD5)"
        );
        assert_eq!(b.entries[2].as_ref().unwrap_err(), &EntryError::EmptySecret);
        let h = b.entries[3].as_ref().unwrap();
        assert_eq!(h.params.kind(), Kind::Hotp { counter: 3 });
        assert_eq!(h.params.digits(), 8);
        assert_eq!(b.entries[4].as_ref().unwrap_err(), &EntryError::Digits(3));
        assert_eq!(b.entries[5].as_ref().unwrap_err(), &EntryError::Type(9));
    }

    #[test]
    fn garbage_and_truncation_are_errors() {
        let good = raw(vec![param(b"12345678901234567890", 1, 1, 2)], 1, 0, 1);
        for cut in 1..good.len() {
            // Every strict prefix either fails or decodes to fewer fields; never panics.
            let _ = parse_payload(&good[..cut]);
        }
        assert_eq!(
            parse_payload(&[0xff, 0xff, 0xff]).unwrap_err(),
            MigrationError::Protobuf
        );
        assert_eq!(
            parse_uri("otpauth-migration://offline?data=!!!").unwrap_err(),
            MigrationError::Base64
        );
        assert_eq!(
            parse_uri("otpauth-migration://offline").unwrap_err(),
            MigrationError::MissingData
        );
        assert_eq!(
            parse_uri("otpauth://totp/x").unwrap_err(),
            MigrationError::NotMigration
        );
        let bad_index = raw(vec![], 2, 5, 1);
        assert!(matches!(
            parse_payload(&bad_index),
            Err(MigrationError::Batch { .. })
        ));
    }

    #[test]
    fn batches_complete_in_any_order() {
        let accounts: Vec<OtpAccount> = (0..25)
            .map(|i| OtpAccount {
                issuer: format!("Issuer {i}"),
                name: format!("user{i}@example.com"),
                secret: Secret::from_bytes(vec![i as u8 + 1; 20]),
                params: OtpParams::new(Kind::Totp { period: 30 }, Algorithm::Sha1, 6).unwrap(),
            })
            .collect();
        let export = write(&accounts, 42);
        assert_eq!(export.uris.len(), 3);
        assert!(export.skipped.is_empty());
        let batches: Vec<Batch> = export.uris.iter().map(|u| parse_uri(u).unwrap()).collect();
        let mut progress = BatchProgress::new(&batches[2]);
        assert_eq!(progress.missing(), vec![0, 1]);
        assert!(progress.add(&batches[0]).unwrap());
        assert!(!progress.add(&batches[0]).unwrap());
        assert!(!progress.is_complete());
        assert!(progress.add(&batches[1]).unwrap());
        assert!(progress.is_complete());
        let back: Vec<OtpAccount> = batches
            .into_iter()
            .flat_map(|b| b.entries)
            .map(|e| e.unwrap())
            .collect();
        assert_eq!(back, accounts);
        let other = parse_uri(&write(&accounts[..1], 7).uris[0]).unwrap();
        assert_eq!(
            progress.add(&other),
            Err(OtherExport {
                expected: 42,
                found: 7
            })
        );
    }

    #[test]
    fn batch_fields_are_capped() {
        let p = || vec![param(b"12345678901234567890", 1, 1, 2)];
        // One QR claiming 2^31-1 codes: refused, no progress list is ever built.
        assert!(matches!(
            parse_payload(&raw(p(), i32::MAX, 0, 1)),
            Err(MigrationError::Batch { .. })
        ));
        assert!(matches!(
            parse_payload(&raw(p(), MAX_BATCH_SIZE + 1, MAX_BATCH_SIZE, 1)),
            Err(MigrationError::Batch { .. })
        ));
        assert!(matches!(
            parse_payload(&raw(p(), 3, i32::MAX, 1)),
            Err(MigrationError::Batch { .. })
        ));
        let last = parse_payload(&raw(p(), MAX_BATCH_SIZE, MAX_BATCH_SIZE - 1, 1)).unwrap();
        assert_eq!(
            BatchProgress::new(&last).missing().len(),
            MAX_BATCH_SIZE as usize - 1
        );
    }

    #[test]
    fn unrepresentable_accounts_are_reported() {
        let steam = OtpAccount {
            issuer: "Steam".into(),
            name: String::new(),
            secret: Secret::from_bytes(vec![1; 10]),
            params: OtpParams::steam(30).unwrap(),
        };
        let export = write(&[steam], 1);
        assert!(export.uris.is_empty());
        assert_eq!(export.skipped, vec![(0, WriteError::Steam)]);
    }
}
