//! End-to-end tests of the `twofold` binary: the "Without a vault" part of
//! `docs/cli.md`, run as a user or a script runs it.

mod backup;
mod code;
mod container;
mod hardening;
mod privacyidea;
mod push;
mod real_app;
mod removed;
mod scale;
mod scan;
mod sync;
mod sync_devices;
mod sync_trust;
mod vault;
mod waiting;
mod webdav;

use std::process::{Command, Output};

pub fn twofold(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twofold"))
        .args(args)
        .env_remove("TWOFOLD_VAULT")
        .env_remove("TWOFOLD_PASSWORD")
        .output()
        .expect("the twofold binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 stdout")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("UTF-8 stderr")
}

/// A failure as the contract wants it: the exit code, one `error: ...` line, no panic.
pub fn assert_error(o: &Output, code: i32) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "one error line: {err}");
    lines[0].to_owned()
}

/// The previous version is kept as `<vault>.bak` once a vault has been saved twice.
pub fn scan_backup_exists(vault: &std::path::Path) -> bool {
    let mut name = vault.file_name().unwrap().to_os_string();
    name.push(".bak");
    vault.with_file_name(name).is_file()
}
