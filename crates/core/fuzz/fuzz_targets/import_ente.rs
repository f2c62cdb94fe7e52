//! Any bytes as a `ente` export: the importer must return a report or an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twofold_core::import::{self, Format};

fuzz_target!(|data: &[u8]| {
    let format = Format::from_name("ente").expect("a known format");
    let _ = import::import(data, Some(format), Some(b"password"));
});
