//! Shell tests: every command through Tauri's IPC with `tauri::test::mock_builder()` (no window,
//! no display), on a vault in a temporary folder; and the check that the TypeScript bindings
//! in ui/src/bindings match these Rust types.

use std::io::Cursor;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tauri::test::{INVOKE_KEY, MockRuntime, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;
use tauri::{App, Listener, Manager, WebviewWindow, WebviewWindowBuilder};
use twofold_core::otp::Generator;
use twofold_core::vault::KdfParams;
use twofold_core::{OtpAccount, migration, uri};

use crate::state::{AppState, KdfSource};

const SECRET: &str = "JBSWY3DPEHPK3PXP";
const URI: &str =
    "otpauth://totp/ACME%20Co:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co";
const HOTP_URI: &str = "otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=3";

pub(crate) struct Shell {
    pub(crate) app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    pub(crate) dir: tempfile::TempDir,
}

fn shell_in(dir: tempfile::TempDir) -> Shell {
    shell_with(dir, None, false)
}

/// A shell set up as the app is ([`crate::app_builder`]), on a mock runtime; with the push
/// poller when `poll_every` is given and the idle lock's thread when `idle_lock` (otherwise
/// the lock is driven through `lock_if_idle`).
pub(crate) fn shell_with(
    dir: tempfile::TempDir,
    poll_every: Option<std::time::Duration>,
    idle_lock: bool,
) -> Shell {
    let options = crate::AppOptions {
        data_dir: Some(dir.path().to_owned()),
        kdf: KdfSource::Fixed(KdfParams::MIN),
        poll_every,
        idle_lock,
    };
    let mut app = crate::app_builder(mock_builder(), options)
        .build(mock_context(noop_assets()))
        .expect("mock app");
    // The set-up (state, push service, poller) runs with the first turn of the event loop;
    // the mock runtime's turn returns at once.
    #[allow(deprecated)]
    app.run_iteration(|_, _| {});
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("mock window");
    Shell { app, window, dir }
}

pub(crate) fn shell() -> Shell {
    shell_in(tempfile::tempdir().expect("temp dir"))
}

impl Shell {
    /// Invokes `cmd` as the UI would; `Err` holds the serialized error.
    pub(crate) fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        tauri::test::get_ipc_response(
            &self.window,
            InvokeRequest {
                cmd: cmd.into(),
                callback: tauri::ipc::CallbackFn(0),
                error: tauri::ipc::CallbackFn(1),
                url: "tauri://localhost".parse().expect("url"),
                body: tauri::ipc::InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().expect("json response"))
    }

    pub(crate) fn ok(&self, cmd: &str, args: Value) -> Value {
        match self.call(cmd, args) {
            Ok(v) => v,
            Err(e) => panic!("{cmd} failed: {e}"),
        }
    }

    /// The error kind of a call that must fail.
    pub(crate) fn kind(&self, cmd: &str, args: Value) -> String {
        match self.call(cmd, args) {
            Ok(v) => panic!("{cmd} succeeded with {v}, an error was expected"),
            Err(e) => {
                assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
                e["kind"].as_str().expect("kind").to_owned()
            }
        }
    }

    pub(crate) fn unlocked(self) -> Self {
        self.ok("vault_create", json!({ "password": "correct horse" }));
        self
    }

    pub(crate) fn events(&self, name: &str) -> Arc<Mutex<Vec<String>>> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        self.app.listen_any(name.to_owned(), move |e| {
            s.lock().expect("events").push(e.payload().to_owned())
        });
        seen
    }
}

fn code_of(uri_text: &str, unix: u64) -> String {
    let a: OtpAccount = uri::parse(uri_text).expect("uri");
    Generator::new(&a.secret, a.params)
        .code_at(unix)
        .to_string()
}

/// A PNG holding `text` as a QR code.
pub(crate) fn qr_png(text: &str) -> Vec<u8> {
    use rxing::Writer;
    let m = rxing::qrcode::QRCodeWriter
        .encode(text, &rxing::BarcodeFormat::QR_CODE, 0, 0)
        .expect("qr");
    let scale = 6;
    let size = (m.getWidth() + 8) * scale;
    let img = image::GrayImage::from_fn(size, size, |x, y| {
        let (mx, my) = (x / scale, y / scale);
        let on = mx >= 4
            && my >= 4
            && mx - 4 < m.getWidth()
            && my - 4 < m.getHeight()
            && m.get(mx - 4, my - 4);
        image::Luma([if on { 0 } else { 255 }])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

#[test]
fn first_run_create_add_lock_unlock() {
    let s = shell();
    let status = s.ok("app_status", json!({}));
    assert_eq!(status["vaultExists"], false);
    assert_eq!(status["unlocked"], false);
    assert_eq!(status["firstRunDone"], false);
    assert_eq!(status["platform"], "desktop");
    assert_eq!(status["biometricsAvailable"], false);
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        s.kind("vault_unlock", json!({ "password": "x" })),
        "NoVault"
    );
    assert_eq!(s.kind("accounts_list", json!({})), "Locked");

    s.ok("first_run_accept", json!({}));
    assert_eq!(s.ok("app_status", json!({}))["firstRunDone"], true);
    assert_eq!(
        s.kind("vault_create", json!({ "password": "" })),
        "InvalidInput"
    );
    let s = s.unlocked();
    let status = s.ok("app_status", json!({}));
    assert_eq!(
        (status["vaultExists"].clone(), status["unlocked"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(
        s.kind("vault_create", json!({ "password": "again" })),
        "VaultExists"
    );

    let added = s.ok("add_uri", json!({ "uri": URI }));
    assert_eq!(added["added"].as_array().map(Vec::len), Some(1));
    assert_eq!(added["added"][0]["issuer"], "ACME Co");
    assert_eq!(added["added"][0]["name"], "alice@example.com");
    assert_eq!(added["added"][0]["kind"], "totp");
    assert_eq!(added["migration"], Value::Null);
    let id = added["added"][0]["id"].as_str().expect("id").to_owned();

    let before = crate::state::unix_now();
    let codes = s.ok("codes_now", json!({}));
    let after = crate::state::unix_now();
    let c = &codes[0];
    assert_eq!(c["id"], id.as_str());
    assert_eq!(c["period"], 30);
    let valid_from = c["validFromMs"].as_u64().expect("from") / 1000;
    assert!(valid_from <= after && before < valid_from + 30);
    assert_eq!(c["validUntilMs"].as_u64(), Some((valid_from + 30) * 1000));
    assert_eq!(c["code"], code_of(URI, valid_from).as_str());
    assert_eq!(c["nextCode"], code_of(URI, valid_from + 30).as_str());

    // The same account again is a duplicate, not a second entry.
    let again = s.ok("add_uri", json!({ "uri": URI }));
    assert_eq!(again["added"], json!([]));
    assert_eq!(again["duplicates"], json!(["ACME Co (alice@example.com)"]));

    let locked = s.events("vault-locked");
    s.ok("vault_lock", json!({}));
    assert_eq!(*locked.lock().expect("events"), [r#"{"reason":"user"}"#]);
    assert_eq!(s.kind("codes_now", json!({})), "Locked");
    assert_eq!(s.kind("add_uri", json!({ "uri": URI })), "Locked");
    let wrong = s
        .call("vault_unlock", json!({ "password": "wrong" }))
        .expect_err("wrong password");
    assert_eq!(wrong["kind"], "WrongPassword");
    assert_eq!(wrong["message"], "wrong password");

    // A new app on the same folder: the vault and the accepted statement are still there.
    let Shell { dir, .. } = s;
    let s = shell_in(dir);
    let status = s.ok("app_status", json!({}));
    assert_eq!(
        (
            status["vaultExists"].clone(),
            status["unlocked"].clone(),
            status["firstRunDone"].clone()
        ),
        (json!(true), json!(false), json!(true))
    );
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    let list = s.ok("accounts_list", json!({}));
    assert_eq!(list[0]["id"], id.as_str());
}

#[test]
fn secrets_never_reach_the_webview() {
    let s = shell().unlocked();
    let mut seen = Vec::new();
    seen.push(s.ok("add_uri", json!({ "uri": URI })));
    seen.push(s.ok("add_uri", json!({ "uri": HOTP_URI })));
    seen.push(s.ok("accounts_list", json!({})));
    seen.push(s.ok("codes_now", json!({})));
    seen.push(s.ok("app_status", json!({})));
    let id = seen[2][0]["id"].as_str().expect("id").to_owned();
    seen.push(s.ok(
        "account_update",
        json!({ "id": id, "patch": { "note": "n" } }),
    ));
    for v in &seen {
        let text = v.to_string();
        assert!(!text.contains(SECRET), "{text}");
        assert!(!text.contains("GEZDGNBVGY3TQOJQ"), "{text}");
        assert!(!text.to_lowercase().contains("secret"), "{text}");
    }
}

#[test]
fn scan_image_adds_what_the_qr_code_holds() {
    let s = shell().unlocked();
    let added = s.ok("scan_image", json!({ "image": qr_png(HOTP_URI) }));
    assert_eq!(added["added"][0]["issuer"], "Bank");
    assert_eq!(added["added"][0]["kind"], "hotp");
    assert_eq!(added["added"][0]["counter"], 3);
    // An image with no QR code, and bytes that are no image.
    let blank = {
        let mut out = Cursor::new(Vec::new());
        image::GrayImage::from_pixel(64, 64, image::Luma([255]))
            .write_to(&mut out, image::ImageFormat::Png)
            .expect("png");
        out.into_inner()
    };
    let e = s
        .call("scan_image", json!({ "image": blank }))
        .expect_err("no qr");
    assert_eq!(e["kind"], "InvalidInput");
    assert_eq!(e["message"], "no QR code was found in the image");
    assert_eq!(
        s.kind("scan_image", json!({ "image": [1, 2, 3] })),
        "InvalidInput"
    );
    assert_eq!(
        s.kind("add_uri", json!({ "uri": "https://example.com" })),
        "InvalidInput"
    );
    assert_eq!(
        s.kind(
            "add_uri",
            json!({ "uri": "otpauth://pipush/PIPU0001?url=https://pi.example&ttl=10" })
        ),
        // A push enrolment QR without its credential and serial.
        "InvalidInput"
    );
    // The camera is a phone feature.
    assert_eq!(s.kind("scan_camera", json!({})), "Unsupported");
}

#[test]
fn a_google_export_in_two_qr_codes_is_collected() {
    let s = shell().unlocked();
    let accounts: Vec<OtpAccount> = (0..12u8)
        .map(|i| OtpAccount {
            issuer: format!("Service {i}"),
            name: format!("user{i}"),
            secret: twofold_core::Secret::from_bytes(vec![i + 1; 20]),
            params: twofold_core::OtpParams::new(
                twofold_core::Kind::Totp { period: 30 },
                twofold_core::Algorithm::Sha1,
                6,
            )
            .expect("params"),
        })
        .collect();
    let export = migration::write(&accounts, 4242);
    assert_eq!(export.uris.len(), 2);
    let first = s.ok("scan_image", json!({ "image": qr_png(&export.uris[1]) }));
    assert_eq!(first["added"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        first["migration"],
        json!({ "batchId": 4242, "batchSize": 2, "received": [1], "missing": [0] })
    );
    let second = s.ok("add_uri", json!({ "uri": export.uris[0].as_str() }));
    assert_eq!(second["added"].as_array().map(Vec::len), Some(10));
    assert_eq!(second["migration"]["missing"], json!([]));
    assert_eq!(
        s.ok("accounts_list", json!({})).as_array().map(Vec::len),
        Some(12)
    );
}

#[test]
fn manual_accounts_hotp_and_edits() {
    let s = shell().unlocked();
    let manual = |secret: &str, kind: &str, digits: u32| {
        json!({ "account": { "issuer": "Example", "name": "me", "secret": secret, "kind": kind,
            "algorithm": "SHA1", "digits": digits, "period": 30, "counter": 0 } })
    };
    assert_eq!(
        s.kind("add_manual", manual("not base32!", "totp", 6)),
        "InvalidInput"
    );
    assert_eq!(
        s.kind("add_manual", manual(SECRET, "totp", 3)),
        "InvalidInput"
    );
    let hotp = s.ok("add_manual", manual("GEZD GNBV GY3T QOJQ", "hotp", 6));
    let id = hotp["added"][0]["id"].as_str().expect("id").to_owned();
    assert_eq!(hotp["added"][0]["counter"], 0);
    let steam = s.ok("add_manual", manual(SECRET, "steam", 5));
    assert_eq!(steam["added"][0]["kind"], "steam");

    // HOTP: the code at the stored counter, then the next one, saved.
    let hotp_code = |c: u64| {
        let a = twofold_core::Secret::from_base32("GEZDGNBVGY3TQOJQ").expect("secret");
        let p = twofold_core::OtpParams::new(
            twofold_core::Kind::Hotp { counter: c },
            twofold_core::Algorithm::Sha1,
            6,
        )
        .expect("p");
        Generator::new(&a, p).code_at_counter(c).to_string()
    };
    let codes = s.ok("codes_now", json!({}));
    let c = codes
        .as_array()
        .expect("codes")
        .iter()
        .find(|c| c["id"] == id.as_str())
        .expect("hotp code")
        .clone();
    assert_eq!(c["code"], hotp_code(0).as_str());
    assert_eq!(
        (c["nextCode"].clone(), c["validUntilMs"].clone()),
        (Value::Null, json!(0))
    );
    let next = s.ok("hotp_next", json!({ "id": id }));
    assert_eq!(next["code"], hotp_code(1).as_str());
    assert_eq!(
        s.kind("hotp_next", json!({ "id": steam["added"][0]["id"] })),
        "InvalidInput"
    );
    assert_eq!(s.kind("hotp_next", json!({ "id": "nope" })), "NotFound");

    // Edits; favourites come first.
    let edited = s.ok(
        "account_update",
        json!({ "id": id, "patch": { "name": "  work  ", "favorite": true, "groups": ["Work"] } }),
    );
    assert_eq!(
        (
            edited["name"].clone(),
            edited["favorite"].clone(),
            edited["groups"].clone()
        ),
        (json!("work"), json!(true), json!(["Work"]))
    );
    assert_eq!(edited["issuer"], "Example");
    let list = s.ok("accounts_list", json!({}));
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["counter"], 1);
    assert_eq!(
        s.kind("account_update", json!({ "id": "nope", "patch": {} })),
        "NotFound"
    );

    let svg = s.ok("account_qr_svg", json!({ "id": id }));
    assert!(svg.as_str().is_some_and(|t| t.contains("<svg")), "{svg}");
    s.ok("account_delete", json!({ "id": id }));
    assert_eq!(s.kind("account_delete", json!({ "id": id })), "NotFound");
    assert_eq!(
        s.ok("accounts_list", json!({})).as_array().map(Vec::len),
        Some(1)
    );

    // The changes are on disk.
    s.ok("vault_lock", json!({}));
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    assert_eq!(s.ok("accounts_list", json!({}))[0]["kind"], "steam");
}

#[test]
fn change_password() {
    let s = shell().unlocked();
    assert_eq!(
        s.kind(
            "vault_change_password",
            json!({ "current": "nope", "next": "new one" })
        ),
        "WrongPassword"
    );
    assert_eq!(
        s.kind(
            "vault_change_password",
            json!({ "current": "correct horse", "next": "" })
        ),
        "InvalidInput"
    );
    s.ok(
        "vault_change_password",
        json!({ "current": "correct horse", "next": "new one" }),
    );
    s.ok("vault_lock", json!({}));
    assert_eq!(
        s.kind("vault_unlock", json!({ "password": "correct horse" })),
        "WrongPassword"
    );
    s.ok("vault_unlock", json!({ "password": "new one" }));
}

#[test]
fn import_reports_added_duplicates_and_formats() {
    let s = shell().unlocked();
    let formats = s.ok("import_formats", json!({}));
    let names: Vec<&str> = formats
        .as_array()
        .expect("formats")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(names.len(), twofold_core::import::Format::ALL.len());
    assert!(names.contains(&"aegis") && names.contains(&"otpauth-list"));
    let file = format!("{URI}\n{HOTP_URI}\nnot a uri\n");
    let report = s.ok(
        "import_file",
        json!({ "data": file.as_bytes(), "format": null, "password": null }),
    );
    assert_eq!(report["added"], 2);
    assert_eq!(report["skipped"].as_array().map(Vec::len), Some(1));
    let again = s.ok(
        "import_file",
        json!({ "data": file.as_bytes(), "format": "otpauth-list", "password": null }),
    );
    assert_eq!(
        (
            again["added"].clone(),
            again["duplicates"].as_array().map(Vec::len)
        ),
        (json!(0), Some(2))
    );
    assert_eq!(
        s.kind(
            "import_file",
            json!({ "data": [0, 159, 146, 150], "format": null, "password": null })
        ),
        "UnknownFormat"
    );
    assert_eq!(
        s.kind(
            "import_file",
            json!({ "data": [1], "format": "nope", "password": null })
        ),
        "InvalidInput"
    );
}

#[test]
fn export_writes_files_the_importer_reads_back() {
    let s = shell().unlocked();
    s.ok("add_uri", json!({ "uri": URI }));
    s.ok("add_uri", json!({ "uri": HOTP_URI }));
    let target = shell().unlocked();
    for (format, password) in [
        ("aegis", Some("export pw")),
        ("aegis-plain", None),
        ("otpauth-list", None),
        ("google-migration", None),
    ] {
        let path = s.dir.path().join(format!("export-{format}"));
        s.ok(
            "export_file",
            json!({ "format": format, "path": path, "password": password }),
        );
        let bytes = std::fs::read(&path).expect("export written");
        let report = target.ok(
            "import_file",
            json!({ "data": bytes, "format": null, "password": password }),
        );
        let added = report["added"].as_u64().unwrap_or(0);
        let duplicates = report["duplicates"].as_array().map_or(0, Vec::len) as u64;
        assert_eq!(added + duplicates, 2, "{format}: {report}");
    }
    assert_eq!(
        target
            .ok("accounts_list", json!({}))
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(
        s.kind(
            "export_file",
            json!({ "format": "aegis", "path": s.dir.path().join("x"), "password": null })
        ),
        "InvalidInput"
    );
    assert_eq!(
        s.kind(
            "export_file",
            json!({ "format": "otpauth-list", "path": "relative.txt", "password": null })
        ),
        "InvalidInput"
    );
}

#[test]
fn desktop_has_no_camera_location_or_biometrics() {
    let s = shell().unlocked();
    assert_eq!(s.kind("location_current", json!({})), "LocationUnavailable");
    assert_eq!(s.kind("vault_unlock_biometric", json!({})), "Unsupported");
    let mut settings = s.ok("settings_get", json!({}));
    settings["biometrics"] = json!(true);
    assert_eq!(
        s.kind("settings_set", json!({ "settings": settings })),
        "Unsupported"
    );
}

#[test]
fn settings_persist_and_are_checked() {
    let s = shell();
    let defaults = s.ok("settings_get", json!({}));
    assert_eq!(
        defaults,
        json!({ "lockTimeoutSecs": 300, "lockOnBackground": true, "biometrics": false,
        "language": "system", "theme": "system", "backupFolder": null })
    );
    let mut changed = defaults.clone();
    changed["language"] = json!("sv");
    changed["theme"] = json!("dark");
    changed["lockTimeoutSecs"] = json!(60);
    assert_eq!(
        s.ok("settings_set", json!({ "settings": changed })),
        changed
    );
    let mut bad = changed.clone();
    bad["lockTimeoutSecs"] = json!(100_000);
    assert_eq!(
        s.kind("settings_set", json!({ "settings": bad })),
        "InvalidInput"
    );
    bad = changed.clone();
    bad["backupFolder"] = json!("relative/folder");
    assert_eq!(
        s.kind("settings_set", json!({ "settings": bad })),
        "InvalidInput"
    );
    let Shell { dir, .. } = s;
    assert_eq!(shell_in(dir).ok("settings_get", json!({})), changed);
}

#[test]
fn backups_follow_every_save_and_failures_are_reported() {
    let s = shell().unlocked();
    let backups = tempfile::tempdir().expect("backup dir");
    assert_eq!(s.kind("backup_now", json!({})), "InvalidInput");
    let mut settings = s.ok("settings_get", json!({}));
    settings["backupFolder"] = json!(backups.path().to_str());
    s.ok("settings_set", json!({ "settings": settings }));
    s.ok("add_uri", json!({ "uri": URI }));
    let status = s.ok("backup_status", json!({}));
    let path = status["lastPath"].as_str().expect("backup path").to_owned();
    assert!(status["lastOkAt"].as_u64().is_some() && status["lastError"].is_null());
    // The backup is the encrypted vault: it opens with the password and holds the account.
    let bytes = std::fs::read(&path).expect("backup file");
    let vault = twofold_core::vault::Vault::open(&bytes, b"correct horse").expect("backup opens");
    assert_eq!(vault.accounts().len(), 1);
    assert!(!String::from_utf8_lossy(&bytes).contains(SECRET));
    assert!(s.ok("backup_now", json!({}))["lastPath"].is_string());

    // The folder disappears: the save succeeds, the failure is an event and in the status.
    let failed = s.events("backup-failed");
    drop(backups);
    s.ok("add_uri", json!({ "uri": HOTP_URI }));
    let events = failed.lock().expect("events").clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].contains("backup failed"), "{events:?}");
    assert!(
        s.ok("backup_status", json!({}))["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("does not exist"))
    );
    assert_eq!(s.kind("backup_now", json!({})), "Io");
    assert_eq!(
        s.ok("accounts_list", json!({})).as_array().map(Vec::len),
        Some(2)
    );
}

#[test]
fn idle_and_background_locks() {
    let s = shell().unlocked();
    let state = s.app.state::<AppState>();
    let mut settings = s.ok("settings_get", json!({}));
    settings["lockTimeoutSecs"] = json!(10);
    s.ok("settings_set", json!({ "settings": settings.clone() }));
    let now = Instant::now();
    assert!(!state.lock_if_idle(now + Duration::from_secs(5)));
    s.ok("touch", json!({}));
    assert!(!state.lock_if_idle(Instant::now() + Duration::from_secs(9)));
    assert!(state.lock_if_idle(Instant::now() + Duration::from_secs(11)));
    assert_eq!(s.kind("codes_now", json!({})), "Locked");
    assert!(!state.lock_if_idle(Instant::now() + Duration::from_secs(60)));

    // A timeout of 0 never locks on idle.
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    settings["lockTimeoutSecs"] = json!(0);
    s.ok("settings_set", json!({ "settings": settings.clone() }));
    assert!(!state.lock_if_idle(Instant::now() + Duration::from_secs(86_400)));

    // Background: only when the setting is on.
    settings["lockOnBackground"] = json!(false);
    s.ok("settings_set", json!({ "settings": settings.clone() }));
    assert!(!state.lock_on_background());
    settings["lockOnBackground"] = json!(true);
    s.ok("settings_set", json!({ "settings": settings }));
    assert!(state.lock_on_background());
    assert_eq!(s.ok("app_status", json!({}))["unlocked"], false);
}

#[test]
fn a_damaged_vault_is_corrupt_not_a_wrong_password() {
    let s = shell().unlocked();
    s.ok("add_uri", json!({ "uri": URI }));
    s.ok("vault_lock", json!({}));
    let path = s.dir.path().join("vault.json");
    let mut bytes = std::fs::read(&path).expect("vault");
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&path, bytes).expect("write");
    assert_eq!(
        s.kind("vault_unlock", json!({ "password": "correct horse" })),
        "Corrupt"
    );
}

/// ui/src/bindings/index.ts is what ts-rs makes of the IPC types. Regenerate with
/// `UPDATE_BINDINGS=1 cargo test -p twofold-app bindings`.
#[test]
fn typescript_bindings_are_current() {
    use crate::dto::*;
    use crate::error::{AppErrorTs, ErrorKind};
    use ts_rs::TS;
    let mut out = String::from(
        "// Generated by ts-rs from src-tauri/dto.rs and src-tauri/error.rs: do not edit.\n\
         // Regenerate: UPDATE_BINDINGS=1 cargo test -p twofold-app bindings\n",
    );
    let decls = [
        Platform::decl(),
        AppStatus::decl(),
        OtpKind::decl(),
        OtpAlgorithm::decl(),
        AccountView::decl(),
        CodeView::decl(),
        MigrationProgress::decl(),
        AddResult::decl(),
        ManualAccount::decl(),
        AccountPatch::decl(),
        ImportFormat::decl(),
        ImportSkip::decl(),
        ImportReportView::decl(),
        ExportFormat::decl(),
        Theme::decl(),
        Language::decl(),
        Settings::decl(),
        BackupStatus::decl(),
        LocationView::decl(),
        LockReason::decl(),
        VaultLockedPayload::decl(),
        BackupFailedPayload::decl(),
        PushAccountView::decl(),
        PushChallengeView::decl(),
        PushDecision::decl(),
        DeclineReason::decl(),
        PushAnswerView::decl(),
        ActivityView::decl(),
        PushOpenPayload::decl(),
        PushEnrolWarning::decl(),
        PushEnrolPreview::decl(),
        PushPollFailure::decl(),
        PushPollStatus::decl(),
        ErrorKind::decl(),
        AppErrorTs::decl(),
    ];
    for d in decls {
        out.push_str("\nexport ");
        out.push_str(&d);
        out.push('\n');
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/bindings/index.ts");
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("bindings dir");
        std::fs::write(&path, &out).expect("write bindings");
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == out,
        "{} is stale: run `UPDATE_BINDINGS=1 cargo test -p twofold-app bindings` and commit it",
        path.display()
    );
}

fn json_file(path: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    serde_json::from_slice(&std::fs::read(&p).expect("config file")).expect("json")
}

/// The security settings the shell relies on stay as they are: strict CSP with no remote
/// origin, frozen prototypes, the UI from ui/dist, and the camera/location permissions only
/// in the phones' capability.
#[test]
fn configuration_is_locked_down() {
    let conf = json_file("tauri.conf.json");
    assert_eq!(conf["build"]["frontendDist"], "ui/dist");
    assert_eq!(conf["build"]["devUrl"], "http://localhost:1420");
    let security = &conf["app"]["security"];
    assert_eq!(security["freezePrototype"], true);
    assert_eq!(conf["app"]["withGlobalTauri"], false);
    let csp = security["csp"].as_object().expect("csp");
    assert_eq!(csp["default-src"], "'self'");
    assert_eq!(csp["script-src"], "'self'");
    assert_eq!(csp["style-src"], "'self'");
    assert_eq!(csp["object-src"], "'none'");
    for (directive, sources) in csp {
        let sources = sources.as_str().expect("sources");
        for s in sources.split_whitespace() {
            let local = s.starts_with('\'')
                || ["data:", "blob:", "ipc:", "http://ipc.localhost"].contains(&s);
            assert!(local, "{directive} allows {s}: no remote content");
        }
    }
    let default = json_file("src-tauri/capabilities/default.json");
    assert!(default.get("platforms").is_none());
    let listed = default["permissions"].to_string();
    assert!(
        !listed.contains("barcode-scanner") && !listed.contains("geolocation"),
        "{listed}"
    );
    let mobile = json_file("src-tauri/capabilities/mobile.json");
    assert_eq!(mobile["platforms"], json!(["android", "iOS"]));
    assert!(
        mobile["permissions"]
            .to_string()
            .contains("barcode-scanner:default")
    );
}
