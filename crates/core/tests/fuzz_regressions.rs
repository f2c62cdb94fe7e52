//! Inputs the fuzzers (`crates/core/fuzz`) once crashed on, kept as files in
//! `tests/regressions/` and run through every importer and the vault reader: each must give a
//! report or a typed error, never a panic.

use twofold_core::import::{self, Format};
use twofold_core::vault::Vault;

#[test]
fn every_regression_input_is_handled() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/regressions exists")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        let bytes = std::fs::read(&path).expect("readable");
        for format in Format::ALL {
            let _ = import::import(&bytes, Some(format), Some(b"password"));
        }
        let _ = import::import(&bytes, None, None);
        let _ = Vault::open(&bytes, b"password");
        println!("{}: handled", path.display());
    }
}
