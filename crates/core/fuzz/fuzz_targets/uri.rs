//! Any text as a scanned payload: otpauth/steam URIs, migration URIs, push enrolments,
//! container registrations.
//! Must never panic; whatever parses must write back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_core::{payload, uri};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(payload::Payload::Account(a)) = payload::parse(text, 1_700_000_000) {
        let _ = a.code_at(1_700_000_000);
        let written = uri::write(&a);
        let again = uri::parse(&written).expect("a written URI parses");
        assert_eq!(again.secret, a.secret);
        assert_eq!(again.params, a.params);
    }
});
