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

use crate::dto::{Permission, PermissionState};
use crate::error::AppResult;
use crate::platform::Device;
use crate::state::{AppState, KdfSource};

const SECRET: &str = "JBSWY3DPEHPK3PXP";
const URI: &str =
    "otpauth://totp/ACME%20Co:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co";
const HOTP_URI: &str = "otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=3";

pub(crate) struct Shell {
    pub(crate) app: App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    pub(crate) dir: tempfile::TempDir,
    /// What the save and folder dialogs answer, and the clipboard.
    pub(crate) device: Arc<FakeDevice>,
}

/// The dialogs answer what a test put here (`None`: the person cancels); the clipboard is a
/// string.
#[derive(Default)]
pub(crate) struct FakeDevice {
    pub(crate) save_path: Mutex<Option<std::path::PathBuf>>,
    pub(crate) folder: Mutex<Option<std::path::PathBuf>>,
    /// When set, the sync folder picker answers as Android's does: this tree URI, whose
    /// documents are the files of the directory beside it (through the same document rules).
    pub(crate) tree: Mutex<Option<(String, std::path::PathBuf)>>,
    pub(crate) clipboard: Mutex<Option<String>>,
    /// The file names the save dialog suggested.
    pub(crate) suggested: Mutex<Vec<String>>,
    /// What the OS allows per permission (absent: not asked yet), and what its prompt
    /// answers when asked (absent: the user allows).
    pub(crate) permissions: Mutex<std::collections::HashMap<Permission, PermissionState>>,
    pub(crate) prompt_answers: Mutex<std::collections::HashMap<Permission, PermissionState>>,
    /// The permissions whose OS prompt was shown, in order.
    pub(crate) prompted: Mutex<Vec<Permission>>,
}

impl Device for FakeDevice {
    fn choose_save_path(&self, file_name: &str) -> AppResult<Option<std::path::PathBuf>> {
        self.suggested
            .lock()
            .expect("fake")
            .push(file_name.to_owned());
        Ok(self.save_path.lock().expect("fake").clone())
    }
    fn choose_folder(&self) -> AppResult<Option<std::path::PathBuf>> {
        Ok(self.folder.lock().expect("fake").clone())
    }
    fn choose_sync_folder(&self) -> AppResult<Option<twofold_sync::Target>> {
        if let Some((tree, _)) = &*self.tree.lock().expect("fake") {
            return Ok(Some(twofold_sync::Target::Saf(tree.clone())));
        }
        Ok(self.choose_folder()?.map(twofold_sync::Target::Folder))
    }
    fn documents(&self, tree: &str) -> AppResult<Box<dyn twofold_sync::Documents>> {
        match &*self.tree.lock().expect("fake") {
            Some((t, dir)) if t == tree => {
                Ok(Box::new(twofold_sync::DirDocuments::new(dir.clone())))
            }
            _ => Err(crate::error::AppError::unsupported("no such tree here")),
        }
    }
    fn clipboard_write(&self, text: &str) -> AppResult<()> {
        *self.clipboard.lock().expect("fake") = Some(text.to_owned());
        Ok(())
    }
    fn clipboard_read(&self) -> Option<String> {
        self.clipboard.lock().expect("fake").clone()
    }
    fn clipboard_clear(&self) -> AppResult<()> {
        *self.clipboard.lock().expect("fake") = None;
        Ok(())
    }
    fn permission_state(&self, which: Permission) -> AppResult<PermissionState> {
        Ok(self
            .permissions
            .lock()
            .expect("fake")
            .get(&which)
            .copied()
            .unwrap_or(PermissionState::Prompt))
    }
    /// As the OS does: a prompt only while one may be shown; "denied" for good stays so.
    fn request_permission(&self, which: Permission) -> AppResult<PermissionState> {
        let now = self.permission_state(which)?;
        if matches!(now, PermissionState::Granted | PermissionState::Denied) {
            return Ok(now);
        }
        self.prompted.lock().expect("fake").push(which);
        let answer = self
            .prompt_answers
            .lock()
            .expect("fake")
            .get(&which)
            .copied()
            .unwrap_or(PermissionState::Granted);
        self.permissions.lock().expect("fake").insert(which, answer);
        Ok(answer)
    }
}

impl FakeDevice {
    pub(crate) fn clipboard(&self) -> Option<String> {
        self.clipboard.lock().expect("fake").clone()
    }
    pub(crate) fn will_save_to(&self, path: Option<std::path::PathBuf>) {
        *self.save_path.lock().expect("fake") = path;
    }
    pub(crate) fn will_pick_folder(&self, path: Option<std::path::PathBuf>) {
        *self.folder.lock().expect("fake") = path;
    }
    /// The sync folder picker answers as Android's: `tree`, whose documents live in `dir`.
    pub(crate) fn will_pick_tree(&self, tree: &str, dir: &std::path::Path) {
        *self.tree.lock().expect("fake") = Some((tree.to_owned(), dir.to_owned()));
    }
}

fn shell_in(dir: tempfile::TempDir) -> Shell {
    shell_with(dir, None, false)
}

/// A shell set up as the app is ([`crate::app_builder`]), on a mock runtime, with a fake
/// device (dialogs, clipboard); with the push poller when `poll_every` is given and the idle
/// lock's thread when `idle_lock` (otherwise the lock is driven through `lock_if_idle`).
pub(crate) fn shell_with(
    dir: tempfile::TempDir,
    poll_every: Option<std::time::Duration>,
    idle_lock: bool,
) -> Shell {
    shell_with_keys(dir, poll_every, idle_lock, Default::default())
}

/// [`shell_with`] with the given fake secure storage and biometrics.
pub(crate) fn shell_with_keys(
    dir: tempfile::TempDir,
    poll_every: Option<std::time::Duration>,
    idle_lock: bool,
    keys: crate::vault::tests_unlock::FakeKeys,
) -> Shell {
    // No push distributor: the test machine's session bus stays out of the shell tests.
    shell_with_distributor(dir, poll_every, idle_lock, keys, Default::default())
}

/// [`shell_with_keys`] with the given push distributor.
pub(crate) fn shell_with_distributor(
    dir: tempfile::TempDir,
    poll_every: Option<std::time::Duration>,
    idle_lock: bool,
    keys: crate::vault::tests_unlock::FakeKeys,
    distributor: crate::push::delivery::PushDelivery,
) -> Shell {
    let device = Arc::new(FakeDevice::default());
    let options = crate::AppOptions {
        data_dir: Some(dir.path().to_owned()),
        kdf: KdfSource::Fixed(KdfParams::MIN),
        poll_every,
        idle_lock,
        device: Some(device.clone()),
        device_keys: Some(keys.device_keys()),
        distributor: Some(distributor),
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
    Shell {
        app,
        window,
        dir,
        device,
    }
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

    /// Invokes `cmd` with a raw body and headers, as `invoke(cmd, bytes, { headers })` does.
    pub(crate) fn call_raw(
        &self,
        cmd: &str,
        body: &[u8],
        headers: &[(&'static str, &str)],
    ) -> Result<Value, Value> {
        let mut map = tauri::http::HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().expect("header value"));
        }
        tauri::test::get_ipc_response(
            &self.window,
            InvokeRequest {
                cmd: cmd.into(),
                callback: tauri::ipc::CallbackFn(0),
                error: tauri::ipc::CallbackFn(1),
                url: "tauri://localhost".parse().expect("url"),
                body: tauri::ipc::InvokeBody::Raw(body.to_vec()),
                headers: map,
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().expect("json response"))
    }

    pub(crate) fn ok_raw(&self, cmd: &str, body: &[u8], headers: &[(&'static str, &str)]) -> Value {
        match self.call_raw(cmd, body, headers) {
            Ok(v) => v,
            Err(e) => panic!("{cmd} failed: {e}"),
        }
    }

    pub(crate) fn kind_raw(
        &self,
        cmd: &str,
        body: &[u8],
        headers: &[(&'static str, &str)],
    ) -> String {
        match self.call_raw(cmd, body, headers) {
            Ok(v) => panic!("{cmd} succeeded with {v}, an error was expected"),
            Err(e) => e["kind"].as_str().expect("kind").to_owned(),
        }
    }

    /// The password was entered `secs` seconds ago.
    pub(crate) fn password_entered_ago(&self, secs: u64) {
        self.app
            .state::<AppState>()
            .get()
            .expect("state")
            .password_at = Instant::now().checked_sub(Duration::from_secs(secs));
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
    assert_eq!(added["kind"], "added");
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

/// The app's `add_uri` does with each text of `tests/scan_kinds.txt` what `twofold add` does
/// (tests/cli/vault.rs `add_sorts_each_text_as_the_app_does`): one classifier, in the core.
#[test]
fn add_uri_sorts_each_text_as_the_cli_does() {
    let s = shell().unlocked();
    let mut seen = 0;
    for line in include_str!("../tests/scan_kinds.txt").lines() {
        let Some((outcome, text)) = line.split_once('\t') else {
            continue;
        };
        if outcome.starts_with('#') {
            continue;
        }
        seen += 1;
        let before = s.ok("accounts_list", json!({})).as_array().map(Vec::len);
        let got = match s.call("add_uri", json!({ "uri": text })) {
            Ok(r) if r["kind"] == "added" => {
                assert_eq!(r["added"].as_array().map(Vec::len), Some(1), "{text}");
                "accounts"
            }
            Ok(r) if r["kind"] == "pushPreview" => "push",
            Ok(r) if r["kind"] == "containerPreview" => "container",
            Ok(r) => panic!("{text}: {r}"),
            Err(e) => {
                assert_eq!(e["kind"], "InvalidInput", "{text}: {e}");
                "refused"
            }
        };
        assert_eq!(got, outcome, "{text}");
        let after = s.ok("accounts_list", json!({})).as_array().map(Vec::len);
        let grew = usize::from(got == "accounts");
        assert_eq!(after, before.map(|n| n + grew), "{text}");
    }
    assert_eq!(seen, 13, "every case of tests/scan_kinds.txt");
}

#[test]
fn scan_image_adds_what_the_qr_code_holds() {
    let s = shell().unlocked();
    let added = s.ok_raw("scan_image", &qr_png(HOTP_URI), &[]);
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
    let e = s.call_raw("scan_image", &blank, &[]).expect_err("no qr");
    assert_eq!(e["kind"], "InvalidInput");
    assert_eq!(e["message"], "no QR code was found in the image");
    assert_eq!(s.kind_raw("scan_image", &[1, 2, 3], &[]), "InvalidInput");
    // Bytes as a JSON array of numbers are refused: images travel as raw bodies.
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
    let first = s.ok_raw("scan_image", &qr_png(&export.uris[1]), &[]);
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
    // Kept among the recently removed, by this device, and restorable with its counter.
    let removed = s.ok("removed_list", json!({}));
    assert_eq!(removed[0]["id"], id.as_str());
    assert_eq!(removed[0]["by"], "thisDevice");
    assert_eq!(removed[0]["byId"], Value::Null);
    let back = s.ok("account_restore", json!({ "id": id }));
    assert_eq!(back["counter"], 1);
    assert_eq!(s.ok("removed_list", json!({})), json!([]));
    s.ok("account_delete", json!({ "id": id }));

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
    // No file beside the vault (its previous version among them) opens with the old password.
    for entry in std::fs::read_dir(s.dir.path()).expect("dir") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
        assert!(twofold_core::vault::Vault::open(&bytes, b"correct horse").is_err());
    }
}

#[test]
fn another_writer_loses_nothing_and_a_failed_save_leaves_nothing_behind() {
    use twofold_core::vault::{Vault, file};
    let s = shell().unlocked();
    let manual = |name: &str| {
        json!({ "account": { "issuer": "Example", "name": name, "secret": SECRET, "kind": "totp",
            "algorithm": "SHA1", "digits": 6, "period": 30, "counter": 0 } })
    };
    s.ok("add_manual", manual("by the app"));
    // The CLI, meanwhile: under the writer lock, reads the file, adds, saves.
    let path = s.dir.path().join("vault.json");
    {
        let _lock = file::lock(&path, Duration::from_secs(5)).expect("lock");
        let bytes = std::fs::read(&path).expect("read");
        let mut v = Vault::open(&bytes, b"correct horse").expect("open");
        let cli = uri::parse(&format!(
            "otpauth://totp/CLI:by%20the%20cli?secret={SECRET}"
        ))
        .expect("uri");
        v.add(cli, 1, &twofold_core::rng::SystemRng::new())
            .expect("add");
        file::write_atomic(
            &path,
            &v.to_bytes(&twofold_core::rng::SystemRng::new())
                .expect("bytes"),
            false,
        )
        .expect("write");
    }
    // The app's next change starts from the file as the CLI left it: nothing is lost.
    s.ok("add_manual", manual("by the app again"));
    let names = |v: &Value| {
        let mut n: Vec<String> = v
            .as_array()
            .expect("list")
            .iter()
            .map(|a| a["name"].as_str().expect("name").to_owned())
            .collect();
        n.sort();
        n
    };
    let expected = vec!["by the app", "by the app again", "by the cli"];
    assert_eq!(names(&s.ok("accounts_list", json!({}))), expected);
    let on_disk =
        Vault::open(&std::fs::read(&path).expect("read"), b"correct horse").expect("open");
    let mut disk: Vec<String> = on_disk
        .accounts()
        .iter()
        .map(|a| a.otp.name.clone())
        .collect();
    disk.sort();
    assert_eq!(disk, expected);

    // A save that cannot happen (a note that would make the file larger than any vault):
    // refused, the file byte-identical, and the change gone from memory too.
    let before = std::fs::read(&path).expect("read");
    let id = on_disk.accounts()[0].id.clone();
    let huge = "x".repeat(50 * 1024 * 1024);
    assert_eq!(
        s.kind(
            "account_update",
            json!({ "id": id, "patch": { "note": huge } })
        ),
        "InvalidInput"
    );
    assert_eq!(std::fs::read(&path).expect("read"), before);
    let leftovers: Vec<_> = std::fs::read_dir(s.dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let list = s.ok("accounts_list", json!({}));
    assert!(
        list.as_array()
            .expect("list")
            .iter()
            .all(|a| a["note"] != json!(huge))
    );
    s.ok("add_manual", manual("after the failure"));
    assert_eq!(
        s.ok("accounts_list", json!({}))
            .as_array()
            .expect("list")
            .len(),
        4
    );
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
    let report = s.ok_raw("import_file", file.as_bytes(), &[]);
    assert_eq!(report["added"], 2);
    assert_eq!(report["skipped"].as_array().map(Vec::len), Some(1));
    let again = s.ok_raw(
        "import_file",
        file.as_bytes(),
        &[("format", "otpauth-list")],
    );
    assert_eq!(
        (
            again["added"].clone(),
            again["duplicates"].as_array().map(Vec::len)
        ),
        (json!(0), Some(2))
    );
    assert_eq!(
        s.kind_raw("import_file", &[0, 159, 146, 150], &[]),
        "UnknownFormat"
    );
    assert_eq!(
        s.kind_raw("import_file", &[1], &[("format", "nope")]),
        "InvalidInput"
    );
    assert_eq!(
        s.kind(
            "import_file",
            json!({ "data": file.as_bytes(), "format": null, "password": null })
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
    let out = tempfile::tempdir().expect("export dir");
    for (format, password) in [
        ("aegis", Some("export pw")),
        ("aegis-plain", None),
        ("otpauth-list", None),
        ("google-migration", None),
    ] {
        let path = out.path().join(format!("export-{format}"));
        s.device.will_save_to(Some(path.clone()));
        let written = s.ok(
            "export_file",
            json!({ "format": format, "password": password }),
        );
        assert_eq!(written, json!(path.to_str()));
        let bytes = std::fs::read(&path).expect("export written");
        let headers: Vec<(&'static str, &str)> =
            password.map(|p| vec![("password", p)]).unwrap_or_default();
        let report = target.ok_raw("import_file", &bytes, &headers);
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
    // Exporting again over the same file: one file, owner-only, no plaintext side copy.
    let again = out.path().join("export-otpauth-list");
    s.device.will_save_to(Some(again.clone()));
    s.ok(
        "export_file",
        json!({ "format": "otpauth-list", "password": null }),
    );
    let names: Vec<String> = std::fs::read_dir(out.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&again)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(
        s.kind(
            "export_file",
            json!({ "format": "aegis", "password": null })
        ),
        "InvalidInput"
    );
    assert_eq!(
        s.device.suggested.lock().expect("fake").clone(),
        [
            "twofold-aegis-encrypted.json",
            "twofold-aegis-plain.json",
            "twofold-otpauth.txt",
            "twofold-google-migration.txt",
            "twofold-otpauth.txt"
        ]
    );
}

#[test]
fn plain_export_needs_a_recent_password_and_a_dialog_chosen_path() {
    let s = shell().unlocked();
    s.ok("add_uri", json!({ "uri": URI }));
    let out = tempfile::tempdir().expect("export dir");
    let target = out.path().join("codes.txt");
    s.device.will_save_to(Some(target.clone()));
    // A path given by the webview is not an argument any more: it is ignored, the dialog's
    // answer is used.
    let elsewhere = out.path().join("named-by-the-webview.txt");

    // The password was entered more than a minute ago: no plain export, no dialog.
    s.password_entered_ago(61);
    let e = s
        .call(
            "export_file",
            json!({ "format": "otpauth-list", "path": elsewhere, "password": null }),
        )
        .expect_err("stale password");
    assert_eq!(e["kind"], "AuthRequired");
    assert!(s.device.suggested.lock().expect("fake").is_empty());
    // The encrypted format needs no re-entry (its file has a password of its own).
    s.ok(
        "export_file",
        json!({ "format": "aegis", "password": "file pw" }),
    );
    assert!(target.exists());
    std::fs::remove_file(&target).expect("remove");

    // Entering the password again (vault_unlock while open) allows it for a minute.
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    s.ok(
        "export_file",
        json!({ "format": "otpauth-list", "path": elsewhere, "password": null }),
    );
    assert!(
        std::fs::read_to_string(&target)
            .expect("export")
            .contains(SECRET)
    );
    assert!(!elsewhere.exists());

    // Cancelled dialog: nothing written, null returned.
    s.device.will_save_to(None);
    assert_eq!(
        s.ok(
            "export_file",
            json!({ "format": "aegis-plain", "password": null })
        ),
        Value::Null
    );

    // The vault's own path (and anything in the app's folder) is refused; the vault is intact.
    let vault_path = s.dir.path().join("vault.json");
    let before = std::fs::read(&vault_path).expect("vault");
    for p in [vault_path.clone(), s.dir.path().join("settings.json")] {
        s.device.will_save_to(Some(p));
        assert_eq!(
            s.kind(
                "export_file",
                json!({ "format": "otpauth-list", "password": null })
            ),
            "InvalidInput"
        );
    }
    // Also through a path with `..` in it.
    let sneaky = s
        .dir
        .path()
        .join("..")
        .join(s.dir.path().file_name().expect("name"))
        .join("vault.json");
    s.device.will_save_to(Some(sneaky));
    assert_eq!(
        s.kind(
            "export_file",
            json!({ "format": "aegis-plain", "password": null })
        ),
        "InvalidInput"
    );
    // And through a link elsewhere that points at the vault.
    #[cfg(unix)]
    {
        let link = out.path().join("innocent.txt");
        std::os::unix::fs::symlink(&vault_path, &link).expect("symlink");
        s.device.will_save_to(Some(link));
        assert_eq!(
            s.kind(
                "export_file",
                json!({ "format": "otpauth-list", "password": null })
            ),
            "InvalidInput"
        );
    }
    assert_eq!(std::fs::read(&vault_path).expect("vault"), before);

    // Locked: refused before any dialog.
    s.ok("vault_lock", json!({}));
    assert_eq!(
        s.kind("export_file", json!({ "format": "aegis", "password": "x" })),
        "Locked"
    );
}

#[test]
fn the_qr_code_of_a_secret_needs_a_recent_password() {
    let s = shell().unlocked();
    let id = s.ok("add_uri", json!({ "uri": URI }))["added"][0]["id"].clone();
    // Just created: the password is fresh.
    assert!(
        s.ok("account_qr_svg", json!({ "id": id }))
            .as_str()
            .is_some_and(|t| t.contains("<svg"))
    );
    s.password_entered_ago(61);
    let e = s
        .call("account_qr_svg", json!({ "id": id }))
        .expect_err("stale password");
    assert_eq!(e["kind"], "AuthRequired");
    assert!(!e.to_string().contains(SECRET));
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    s.ok("account_qr_svg", json!({ "id": id }));
    // A wrong password does not count as entering it.
    s.password_entered_ago(61);
    assert_eq!(
        s.kind("vault_unlock", json!({ "password": "wrong" })),
        "WrongPassword"
    );
    assert_eq!(
        s.kind("account_qr_svg", json!({ "id": id })),
        "AuthRequired"
    );
    s.ok("vault_lock", json!({}));
    assert_eq!(s.kind("account_qr_svg", json!({ "id": id })), "Locked");
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
    let s = shell().unlocked();
    let defaults = s.ok("settings_get", json!({}));
    assert_eq!(
        defaults,
        json!({ "lockTimeoutSecs": 300, "lockOnBackground": true, "biometrics": false,
        "pushWhileLocked": true, "keepInTray": false,
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
    // The webview cannot name a backup folder, not even an existing absolute one.
    let existing = tempfile::tempdir().expect("dir");
    for folder in [json!("relative/folder"), json!(existing.path())] {
        bad = changed.clone();
        bad["backupFolder"] = folder;
        assert_eq!(
            s.kind("settings_set", json!({ "settings": bad })),
            "InvalidInput"
        );
    }
    let Shell { dir, .. } = s;
    let s = shell_in(dir);
    // Read while locked (the unlock screen's language and theme), changed only when unlocked.
    assert_eq!(s.ok("settings_get", json!({})), changed);
    assert_eq!(
        s.kind("settings_set", json!({ "settings": defaults })),
        "Locked"
    );
    assert_eq!(s.kind("backup_folder_choose", json!({})), "Locked");
    assert_eq!(s.kind("backup_now", json!({})), "Locked");
    assert_eq!(s.ok("settings_get", json!({})), changed);
}

#[test]
fn backups_follow_every_save_and_failures_are_reported() {
    let s = shell().unlocked();
    let backups = tempfile::tempdir().expect("backup dir");
    assert_eq!(s.kind("backup_now", json!({})), "InvalidInput");
    // Cancelled folder dialog: nothing changes. The app's own folder is refused.
    assert_eq!(
        s.ok("backup_folder_choose", json!({}))["backupFolder"],
        Value::Null
    );
    s.device.will_pick_folder(Some(s.dir.path().to_owned()));
    assert_eq!(s.kind("backup_folder_choose", json!({})), "InvalidInput");
    s.device.will_pick_folder(Some(backups.path().to_owned()));
    let settings = s.ok("backup_folder_choose", json!({}));
    assert_eq!(settings["backupFolder"], json!(backups.path().to_str()));
    // Other settings keep the chosen folder when they are saved.
    let mut other = settings.clone();
    other["theme"] = json!("dark");
    assert_eq!(s.ok("settings_set", json!({ "settings": other })), other);
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
fn window_events_poll_on_return_and_leave_a_visible_window_unlocked() {
    let s = shell().unlocked();
    let state = s.app.state::<AppState>();
    let window = s.window.as_ref().window();
    // Back from the background (phones) or from minimized (desktop): poll at once.
    state.set_foreground(false);
    let _ = state.take_poll_request();
    crate::on_window_event(&window, &tauri::WindowEvent::Focused(true));
    assert!(state.is_foreground());
    assert!(state.take_poll_request(), "a poll is asked for on return");
    // Focus moving to another window on desktop (not minimized) is not the background.
    crate::on_window_event(&window, &tauri::WindowEvent::Focused(false));
    assert_eq!(s.ok("app_status", json!({}))["unlocked"], true);
    // Focus while already in the foreground asks for no extra poll.
    crate::on_window_event(&window, &tauri::WindowEvent::Focused(true));
    assert!(!state.take_poll_request());
}

#[test]
fn a_poisoned_state_locks() {
    // The idle lock, the background lock and any command each lock a poisoned state.
    for how in ["idle", "background", "command"] {
        let s = shell().unlocked();
        s.ok("add_uri", json!({ "uri": URI }));
        let id = s.ok("accounts_list", json!({}))[0]["id"].clone();
        s.ok("code_copy", json!({ "id": id }));
        let mut settings = s.ok("settings_get", json!({}));
        settings["lockTimeoutSecs"] = json!(0);
        settings["lockOnBackground"] = json!(false);
        s.ok("settings_set", json!({ "settings": settings }));
        let state = s.app.state::<AppState>();
        // A panic while the state is held poisons its mutex.
        let poisoned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _inner = state.get().expect("state");
            panic!("a command failed while holding the state");
        }));
        assert!(poisoned.is_err());
        match how {
            // Neither setting would lock, yet a poisoned state does.
            "idle" => assert!(state.lock_if_idle(Instant::now()), "{how}"),
            "background" => assert!(state.lock_on_background(), "{how}"),
            _ => assert_eq!(s.kind("codes_now", json!({})), "Locked", "{how}"),
        }
        assert_eq!(s.ok("app_status", json!({}))["unlocked"], false, "{how}");
        assert_eq!(s.device.clipboard(), None, "{how}: clipboard cleared");
        // Usable again: unlock works and the accounts are there.
        s.ok("vault_unlock", json!({ "password": "correct horse" }));
        assert_eq!(
            s.ok("accounts_list", json!({})).as_array().map(Vec::len),
            Some(1)
        );
    }
}

#[test]
fn the_copied_code_is_cleared_on_lock_on_exit_and_after_its_time() {
    let s = shell().unlocked();
    let id = s.ok("add_uri", json!({ "uri": URI }))["added"][0]["id"].clone();
    let now_code = || {
        let c = s.ok("codes_now", json!({}));
        (
            c[0]["code"].as_str().expect("code").to_owned(),
            c[0]["nextCode"].clone(),
        )
    };

    // Copy, then lock: cleared.
    s.ok("code_copy", json!({ "id": id }));
    let copied = s.device.clipboard().expect("copied");
    let (code, next) = now_code();
    assert!(
        copied == code || Some(copied.as_str()) == next.as_str(),
        "{copied}"
    );
    s.ok("vault_lock", json!({}));
    assert_eq!(s.device.clipboard(), None);
    assert_eq!(s.kind("code_copy", json!({ "id": id })), "Locked");

    // Something the person copied after us is left alone.
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    s.ok("code_copy", json!({ "id": id }));
    s.device
        .clipboard_write("the person's own text")
        .expect("write");
    s.ok("vault_lock", json!({}));
    assert_eq!(
        s.device.clipboard().as_deref(),
        Some("the person's own text")
    );

    // Idle and background locks clear it too; so does exiting (RunEvent::Exit calls lock_now).
    let state = s.app.state::<AppState>();
    for lock in ["idle", "background", "exit"] {
        s.ok("vault_unlock", json!({ "password": "correct horse" }));
        s.ok("code_copy", json!({ "id": id }));
        assert!(s.device.clipboard().is_some());
        match lock {
            "idle" => assert!(state.lock_if_idle(Instant::now() + Duration::from_secs(301))),
            "background" => assert!(state.lock_on_background()),
            _ => state.lock_now(),
        }
        assert_eq!(s.device.clipboard(), None, "{lock}");
    }

    // After its time: cleared, with the clipboard-cleared event; an unknown id copies nothing.
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    assert_eq!(s.kind("code_copy", json!({ "id": "nope" })), "NotFound");
    state.set_clipboard_clear_after(Duration::from_millis(50));
    let cleared = s.events("clipboard-cleared");
    s.ok("code_copy", json!({ "id": id }));
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.device.clipboard().is_some() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(s.device.clipboard(), None);
    while cleared.lock().expect("events").is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(cleared.lock().expect("events").len(), 1);
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
        RemovedByKind::decl(),
        RemovedView::decl(),
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
        BackupCheck::decl(),
        BackupFailure::decl(),
        LocationView::decl(),
        PlaceView::decl(),
        Permission::decl(),
        PermissionState::decl(),
        PermissionView::decl(),
        UiLocale::decl(),
        NotificationAction::decl(),
        NotificationOutcome::decl(),
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
        PushDelivery::decl(),
        PushRegistrationState::decl(),
        PushRegistrationView::decl(),
        PushPollFailure::decl(),
        PushPollStatus::decl(),
        SyncState::decl(),
        SyncTargetKind::decl(),
        SyncTargetView::decl(),
        SyncProblem::decl(),
        SyncFailure::decl(),
        SyncStatus::decl(),
        SyncDevice::decl(),
        PassphraseStrength::decl(),
        ContainerWarning::decl(),
        ContainerPreview::decl(),
        ContainerPolicies::decl(),
        ContainerTokenView::decl(),
        ContainerView::decl(),
        ContainerSkip::decl(),
        ContainerSyncView::decl(),
        ContainerRegistered::decl(),
        ContainerTransfer::decl(),
        ErrorKind::decl(),
        AppErrorTs::decl(),
    ];
    for d in decls {
        out.push_str("\nexport ");
        out.push_str(&d);
        out.push('\n');
    }
    // Values the UI must not copy: every error kind (each kind serializes as its name, as in
    // the ErrorKind union above) and the settings of a new installation.
    let kind_decl = ErrorKind::decl();
    let kinds: Vec<&str> = kind_decl.split('"').skip(1).step_by(2).collect();
    assert!(kinds.contains(&"WrongPassword") && kinds.contains(&"AuthRequired"));
    out.push_str(&format!(
        "\n/** Every ErrorKind, in declaration order. */\nexport const ERROR_KINDS = {} as const satisfies readonly ErrorKind[];\n",
        serde_json::to_string(&kinds).expect("kinds")
    ));
    out.push_str(&format!(
        "\n/** The settings of a new installation (Settings::default()). */\nexport const DEFAULT_SETTINGS: Settings = {};\n",
        serde_json::to_string(&Settings::default()).expect("settings")
    ));
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
    // The dialogs and the clipboard are driven from Rust only: the webview gets no permission
    // of either plugin, on any platform (it could otherwise name paths or read the clipboard).
    for capability in ["default", "mobile"] {
        let listed = json_file(&format!("src-tauri/capabilities/{capability}.json"))["permissions"]
            .to_string();
        assert!(
            !listed.contains("dialog:") && !listed.contains("clipboard-manager:"),
            "{capability}: {listed}"
        );
    }
    let mobile = json_file("src-tauri/capabilities/mobile.json");
    assert_eq!(mobile["platforms"], json!(["android", "iOS"]));
    assert!(
        mobile["permissions"]
            .to_string()
            .contains("barcode-scanner:default")
    );
}
