//! Any bytes as a vault file: opening must fail with a typed error, never panic. (A random file
//! cannot carry a valid checksum, so this exercises the header and checksum readers.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_core::vault::Vault;

fuzz_target!(|data: &[u8]| {
    let _ = Vault::open(data, b"password");
    let _ = Vault::open_with_device_key(data, &[7; 32]);
});
