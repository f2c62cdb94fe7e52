//! The real desktop app against the real privacyIDEA 3.14, push while locked (docs/push.md):
//! this test starts the server with the push suite's fixture (`privacyidea.rs`), enrols a
//! push token for alice, and hands the server and the token's QR to the WebDriver test
//! `tests/app/push-locked.test.mjs`, which drives the app, triggers the sign-ins and checks
//! the desktop notifications and the server's verdict. The server is killed by its PID when
//! the fixture is dropped, also when the WebDriver test fails.
//!
//! Ignored in a plain `cargo test`: it needs the built app, Xvfb, tauri-driver and a session
//! bus with a Secret Service and a notification recorder, which `tests/app/push-locked` sets
//! up before it runs this with `--ignored`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::privacyidea::{PIN, PiServer};

#[test]
#[ignore = "run by tests/app/push-locked (the built app, Xvfb, a private session bus)"]
fn real_app_push_while_locked() {
    let app = std::env::var("TWOFOLD_APP_BIN")
        .expect("TWOFOLD_APP_BIN names the app built by `tauri build --debug --no-bundle`");
    let log =
        std::env::var("TWOFOLD_NOTIFY_LOG").expect("TWOFOLD_NOTIFY_LOG names the recorder's log");
    let start = Instant::now();
    let pi = PiServer::start().unwrap_or_else(|e| panic!("privacyIDEA: {e}"));
    pi.configure();
    let (qr, serial) = pi.enrol_token("alice");
    println!(
        "privacyIDEA up, token {serial} for alice: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let tests_app = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/app");
    let status = Command::new("node")
        .args(["--test", "--test-reporter=spec", "push-locked.test.mjs"])
        .current_dir(&tests_app)
        .env("TWOFOLD_APP_BIN", &app)
        .env("TWOFOLD_CLI_BIN", env!("CARGO_BIN_EXE_twofold"))
        .env("TWOFOLD_NOTIFY_LOG", &log)
        .env("PI_BASE", &pi.base)
        .env("PI_QR", &qr)
        .env("PI_USER", "alice")
        .env("PI_PIN", PIN)
        .status()
        .expect("node runs");
    assert!(status.success(), "push-locked.test.mjs failed ({status})");
    println!(
        "real app, push while locked: {:.1} s",
        start.elapsed().as_secs_f64()
    );
}
