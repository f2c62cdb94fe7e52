//! Shell tests: the harness every domain's tests use (`Shell`, the fake device), the app-wide
//! tests (locking, the bindings, the configuration); each domain's own are in its folder.
//! Every command goes through Tauri's IPC with `tauri::test::mock_builder()` (no window,
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
use twofold_core::{OtpAccount, uri};

use crate::dto::{Permission, PermissionState};
use crate::error::AppResult;
use crate::platform::Device;
use crate::state::{AppState, KdfSource};

pub(crate) const SECRET: &str = "JBSWY3DPEHPK3PXP";
pub(crate) const URI: &str =
    "otpauth://totp/ACME%20Co:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co";
pub(crate) const HOTP_URI: &str =
    "otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=3";

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

pub(crate) fn shell_in(dir: tempfile::TempDir) -> Shell {
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

pub(crate) fn code_of(uri_text: &str, unix: u64) -> String {
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
