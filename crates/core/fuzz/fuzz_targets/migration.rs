//! Any bytes as a Google Authenticator migration payload, and as the data of a URI.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_core::migration;

fuzz_target!(|data: &[u8]| {
    if let Ok(batch) = migration::parse_payload(data) {
        assert!(batch.batch_index < batch.batch_size);
        for a in batch.entries.iter().flatten() {
            let _ = a.code_at(59);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = migration::parse_uri(&format!("otpauth-migration://offline?data={text}"));
    }
});
