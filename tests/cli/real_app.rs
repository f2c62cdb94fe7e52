//! The real desktop app against the real privacyIDEA 3.14, push while locked (docs/push.md):
//! this test starts the server with the push suite's fixture (`privacyidea.rs`), enrols a
//! push token for alice, and hands the server and the token's QR to the WebDriver test
//! `tests/app/push-locked.test.mjs`, which drives the app, triggers the sign-ins and checks
//! the desktop notifications and the server's verdict. The server is killed by its PID when
//! the fixture is dropped, also when the WebDriver test fails.
//!
//! With `TWOFOLD_RELAY_BIN` and a UnifiedPush distributor stand-in on the bus
//! (`tests/app/unifiedpush-distributor.py`, started by `tests/app/push-locked`), the server's
//! HTTP gateway posts each challenge to the real `twofold-relay`, which delivers it by Web Push
//! to the stand-in, which hands it to the app over D-Bus (docs/push.md, "Push through the
//! relay").
//!
//! Ignored in a plain `cargo test`: it needs the built app, Xvfb, tauri-driver and a session
//! bus with a Secret Service and a notification recorder, which `tests/app/push-locked` sets
//! up before it runs this with `--ignored`.

use std::io::BufRead as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
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
    // The relay and privacyIDEA's gateway to it (docs/relay.md), when the relay was built.
    let work = std::env::temp_dir().join(format!("twofold-relay-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("work dir");
    let relay = std::env::var_os("TWOFOLD_RELAY_BIN").map(|bin| start_relay(&bin, &work));
    if let Some(relay) = &relay {
        pi.relay_gateway(&relay.base, None);
    }
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
        .env("PI_SERIAL", &serial)
        .env("PI_ADMIN", pi.admin_token())
        .env("TWOFOLD_PUSH_RELAY", if relay.is_some() { "1" } else { "" })
        .status()
        .expect("node runs");
    drop(relay);
    let _ = std::fs::remove_dir_all(&work);
    assert!(status.success(), "push-locked.test.mjs failed ({status})");
    println!(
        "real app, push while locked: {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

/// The relay on a port the OS chooses, its log read for that port; killed when dropped.
struct RelayProcess {
    child: Child,
    base: String,
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_relay(bin: &std::ffi::OsStr, dir: &Path) -> RelayProcess {
    let key = dir.join("vapid.pem");
    let made = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
        ])
        .arg(&key)
        .status()
        .expect("openssl runs");
    assert!(made.success(), "openssl made no VAPID key");
    let config = dir.join("relay.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\nallow_private_endpoints = true\n\
         [webpush]\nvapid_private_key = \"vapid.pem\"\nsubject = \"mailto:admin@example.org\"\n",
    )
    .expect("config");
    let mut child = Command::new(bin)
        .arg("--config")
        .arg(&config)
        .stderr(Stdio::piped())
        .spawn()
        .expect("the relay starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the relay said where it listens")
            .expect("its log");
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.trim().to_owned();
        }
    };
    // The rest of its log goes to this test's output (one line per delivery).
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            eprintln!("relay: {line}");
        }
    });
    println!("twofold-relay on {addr}");
    RelayProcess {
        child,
        base: format!("http://{addr}"),
    }
}
