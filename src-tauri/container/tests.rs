//! Shell tests of the container commands (docs/ipc.md, "Containers") through Tauri's IPC,
//! against a local HTTP server on 127.0.0.1 that plays privacyIDEA: it finalizes
//! registrations, hands out challenges, and encrypts each sync's token list for the phone's
//! X25519 key with AES-256-GCM (16-byte IV), as privacyIDEA 3.14 does (the real server runs in
//! tests/cli/privacyidea.rs through the CLI).

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use twofold_test_support::http::Reply;

use crate::state::unix_now;
use crate::tests::{Shell, shell};

const SERIAL: &str = "SMPH00C0FFEE";

/// What the stand-in server holds.
#[derive(Default)]
struct Srv {
    /// The client policies it sends.
    policies: Value,
    /// The container's tokens: (serial, type, otpauth URI).
    tokens: Vec<(String, String, String)>,
    /// The passphrase the registration needs (sent with `send_passphrase=True`).
    passphrase: Option<String>,
    registered: bool,
    /// Flip a byte of the next sync's ciphertext.
    tamper: bool,
    /// The request paths, in order.
    paths: Vec<String>,
    challenges: u32,
    /// The serials each sync reported, in order.
    reported: Vec<Vec<String>>,
    /// Tokens the server has outside the container (serial, type, otpauth URI), which the
    /// initial transfer may take.
    outside: Vec<(String, String, String)>,
    /// Forget the container right after finalizing it (an administrator deleted it).
    forget_after_finalize: bool,
    /// The initial transfer happened (privacyIDEA's `initially_synchronized`).
    initially_synced: bool,
    /// The entries each sync offered by OTP values (no serial), in order.
    offered: Vec<Vec<Value>>,
    /// The replies to the next PUSH polls (`GET /ttype/push`): the container's push tokens
    /// are on its own server.
    polls: std::collections::VecDeque<Value>,
}

/// The serial of the token outside the container whose TOTP values at two consecutive steps
/// around now are `otp` (privacyIDEA's `get_serial_by_otp_list`, exactly one match).
fn find_by_otp(outside: &[(String, String, String)], kind: &str, otp: &[Value]) -> Option<String> {
    let step = unix_now() / 30;
    let found: Vec<&String> = outside
        .iter()
        .filter(|t| t.1 == kind)
        .filter(|t| {
            let a = twofold_core::uri::parse(&t.2).expect("token URI");
            (step.saturating_sub(1)..=step + 1).any(|s| {
                otp.len() == 2
                    && otp[0] == a.code_at(s * 30).as_str()
                    && otp[1] == a.code_at((s + 1) * 30).as_str()
            })
        })
        .map(|t| &t.0)
        .collect();
    (found.len() == 1).then(|| found[0].clone())
}

struct Server {
    base: String,
    srv: Arc<Mutex<Srv>>,
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3]).expect("hex");
                out.push(u8::from_str_radix(h, 16).expect("hex"));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).expect("utf-8")
}

fn form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn param<'a>(params: &'a [(String, String)], k: &str) -> Option<&'a str> {
    params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

/// Unix seconds as privacyIDEA writes them: `2026-12-01T21:17:26.235976+00:00`.
fn iso(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000000+00:00",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn ok(value: Value) -> Value {
    json!({"result": {"status": true, "value": value}, "jsonrpc": "2.0"})
}

fn err(code: i64, message: &str) -> Value {
    json!({"result": {"status": false, "error": {"code": code, "message": message}}})
}

/// The sync reply: the token list for the phone's key, encrypted as privacyIDEA does.
fn sync_reply(s: &mut Srv, params: &[(String, String)]) -> Value {
    let client: [u8; 32] = B64
        .decode(param(params, "public_enc_key_client").unwrap_or(""))
        .expect("client key")
        .try_into()
        .expect("32 bytes");
    let dict: Value =
        serde_json::from_str(param(params, "container_dict_client").unwrap_or("{}")).expect("dict");
    let reported: Vec<String> = dict["tokens"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t["serial"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    s.reported.push(reported.clone());
    let entries = dict["tokens"].as_array().cloned().unwrap_or_default();
    s.offered.push(
        entries
            .iter()
            .filter(|t| t.get("serial").is_none())
            .cloned()
            .collect(),
    );
    // The initial transfer: once, with the policy on; tokens outside the container that the
    // phone reported by serial or by OTP values join it (the latter echo their values).
    let mut reported = reported;
    let mut echo: Vec<(String, Value)> = Vec::new();
    if s.policies["initially_add_tokens_to_container"] == true && !s.initially_synced {
        s.initially_synced = true;
        for e in &entries {
            let serial = match e["serial"].as_str() {
                Some(serial) => Some(serial.to_owned()),
                None => find_by_otp(
                    &s.outside,
                    e["tokentype"].as_str().unwrap_or(""),
                    e["otp"].as_array().map(Vec::as_slice).unwrap_or(&[]),
                )
                .inspect(|serial| echo.push((serial.clone(), e["otp"].clone()))),
            };
            if let Some(i) = serial.and_then(|x| s.outside.iter().position(|t| t.0 == x)) {
                let t = s.outside.remove(i);
                reported.push(t.0.clone());
                s.tokens.push(t);
            }
        }
    }
    let add: Vec<&str> = s
        .tokens
        .iter()
        .filter(|t| !reported.contains(&t.0))
        .map(|t| t.2.as_str())
        .collect();
    let update: Vec<Value> = s
        .tokens
        .iter()
        .filter(|t| reported.contains(&t.0))
        .map(|t| match echo.iter().find(|(serial, _)| serial == &t.0) {
            Some((_, otp)) => json!({"serial": t.0, "tokentype": t.1, "otp": otp}),
            None => json!({"serial": t.0, "tokentype": t.1}),
        })
        .collect();
    let plain = json!({"container": {"serial": SERIAL}, "tokens": {"add": add, "update": update}})
        .to_string();
    let server = x25519_dalek::StaticSecret::from([7u8; 32]);
    let shared = server.diffie_hellman(&x25519_dalek::PublicKey::from(client));
    type Gcm16 = AesGcm<Aes256, aes_gcm::aead::consts::U16>;
    let cipher = Gcm16::new_from_slice(shared.as_bytes()).expect("key");
    let iv = [9u8; 16];
    let nonce = Nonce::<aes_gcm::aead::consts::U16>::try_from(&iv[..]).expect("iv");
    let mut buf = plain.into_bytes();
    let tag = cipher
        .encrypt_inout_detached(&nonce, &[], buf.as_mut_slice().into())
        .expect("encrypt");
    if std::mem::take(&mut s.tamper) {
        buf[3] ^= 1;
    }
    ok(json!({
        "container_dict_server": B64.encode(&buf),
        "encryption_algorithm": "AES",
        "encryption_params": {"algorithm": "AES", "mode": "GCM",
            "init_vector": B64.encode(iv), "tag": B64.encode(tag)},
        "public_server_key": B64.encode(x25519_dalek::PublicKey::from(&server).as_bytes()),
        "policies": s.policies,
    }))
}

fn handle(srv: &Arc<Mutex<Srv>>, base: &str, path: &str, body: &str) -> Value {
    let params = form(body);
    let mut s = srv.lock().expect("server");
    s.paths.push(path.to_owned());
    if path.starts_with("/ttype/push") {
        return s.polls.pop_front().unwrap_or_else(|| ok(json!([])));
    }
    match path {
        "/container/register/finalize" => {
            if let Some(p) = &s.passphrase
                && param(&params, "passphrase") != Some(p.as_str())
            {
                return err(3002, "ERR3002: wrong passphrase");
            }
            assert!(param(&params, "signature").is_some_and(|v| !v.is_empty()));
            s.registered = !s.forget_after_finalize;
            ok(json!({"policies": s.policies}))
        }
        _ if !s.registered => err(3001, "ERR3001: Container is not registered."),
        "/container/challenge" => {
            s.challenges += 1;
            ok(
                json!({"enc_key_algorithm": "x25519", "nonce": format!("n{}", s.challenges),
                "time_stamp": iso(unix_now()), "transaction_id": "1"}),
            )
        }
        "/container/synchronize" => sync_reply(&mut s, &params),
        "/container/rollover" => ok(json!({"container_url": {"value": qr(base, None)}})),
        "/container/register/terminate/client" => {
            s.registered = false;
            ok(json!({"success": true}))
        }
        _ => err(404, "no such endpoint"),
    }
}

fn server(policies: Value) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}/", listener.local_addr().expect("address"));
    let srv: Arc<Mutex<Srv>> = Arc::new(Mutex::new(Srv {
        policies,
        ..Srv::default()
    }));
    let (s2, b2) = (srv.clone(), base.clone());
    twofold_test_support::http::serve(listener, move |request| {
        Reply::json(handle(&s2, &b2, &request.path, &request.text()))
    });
    Server { base, srv }
}

/// A registration QR code for the server at `base`, made now.
fn qr(base: &str, passphrase_prompt: Option<&str>) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    let (prompt, send) = match passphrase_prompt {
        Some(p) => (enc(p), "True"),
        None => (String::new(), "False"),
    };
    format!(
        "pia://container/{SERIAL}?issuer=ACME%20University&ttl=10&nonce=0123456789abcdef0123456789abcdef01234567&time={}&url={}&serial={SERIAL}&key_algorithm=secp384r1&hash_algorithm=SHA256&ssl_verify=True&passphrase={prompt}&send_passphrase={send}",
        enc(&iso(unix_now())),
        enc(base)
    )
}

fn totp(serial: &str, secret: &str) -> (String, String, String) {
    (
        serial.into(),
        "totp".into(),
        format!(
            "otpauth://totp/{serial}?secret={secret}&period=30&digits=6&issuer=ACME&serial={serial}"
        ),
    )
}

impl Server {
    fn with(&self, f: impl FnOnce(&mut Srv)) {
        f(&mut self.srv.lock().expect("server"));
    }
    fn paths(&self) -> Vec<String> {
        self.srv.lock().expect("server").paths.clone()
    }
}

fn policies(delete: bool, unregister: bool, rollover: bool) -> Value {
    json!({"container_client_rollover": rollover, "initially_add_tokens_to_container": false,
        "disable_client_token_deletion": !delete, "disable_client_container_unregister": !unregister})
}

/// Registers the server's container through the paste path: preview, then register.
fn register(s: &Shell, srv: &Server) -> Value {
    let added = s.ok("add_uri", json!({ "uri": qr(&srv.base, None) }));
    assert_eq!(added["kind"], "containerPreview");
    let preview = &added["preview"];
    // A preview, nothing added.
    assert_eq!(added.get("added"), None);
    s.ok("container_register", json!({ "id": preview["id"] }))
}

fn accounts(s: &Shell) -> Vec<Value> {
    s.ok("accounts_list", json!({}))
        .as_array()
        .expect("list")
        .clone()
}

#[test]
fn preview_register_and_managed_accounts() {
    let srv = server(policies(false, true, true));
    srv.with(|s| s.tokens = vec![totp("TOTP1", "GEZDGNBVGY3TQOJQ")]);
    let s = shell().unlocked();
    // The preview says where and sends nothing.
    let preview = s.ok("container_preview", json!({ "uri": qr(&srv.base, None) }));
    assert_eq!(preview["serial"], SERIAL);
    assert_eq!(preview["issuer"], "ACME University");
    assert_eq!(preview["host"], "127.0.0.1");
    assert_eq!(preview["passphrasePrompt"], Value::Null);
    assert_eq!(preview["warnings"], json!(["plainHttp"]));
    assert!(srv.paths().is_empty(), "nothing sent before confirmation");
    s.ok("container_cancel", json!({ "id": preview["id"] }));
    assert_eq!(
        s.kind("container_register", json!({ "id": preview["id"] })),
        "NotFound"
    );
    // Register + first sync, timed (median of 5 fresh vaults below in the figures test).
    let done = register(&s, &srv);
    assert_eq!(done["container"]["serial"], SERIAL);
    assert_eq!(done["container"]["issuer"], "ACME University");
    assert_eq!(done["sync"]["added"], json!(["TOTP1"]));
    assert_eq!(done["sync"]["error"], Value::Null);
    assert_eq!(
        done["container"]["policies"],
        json!({"rollover": true, "deleteTokens": false, "unregister": true})
    );
    let list = accounts(&s);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["container"], SERIAL);
    assert_eq!(list[0]["managedBy"], "ACME University");
    assert_eq!(list[0]["deletable"], false);
    // The server forbids deleting it: a typed refusal, nothing changes.
    assert_eq!(
        s.kind("account_delete", json!({ "id": list[0]["id"] })),
        "Forbidden"
    );
    assert_eq!(accounts(&s).len(), 1);
    let listed = s.ok("containers_list", json!({}));
    assert_eq!(listed[0]["tokens"][0]["serial"], "TOTP1");
    assert!(listed[0]["lastSync"].as_u64().is_some());
    // Transfer: a new registration link for another device; this one keeps its accounts.
    let t = s.ok("container_transfer", json!({ "serial": SERIAL }));
    assert!(
        t["link"]
            .as_str()
            .expect("link")
            .starts_with("pia://container/")
    );
    assert!(t["qrSvg"].as_str().expect("svg").starts_with("<?xml"));
    assert_eq!(accounts(&s).len(), 1);
    // Rollover in place: a new key registered (a second finalize), then a sync; the account
    // stays the same account.
    let id = accounts(&s)[0]["id"].clone();
    let r = s.ok("container_rollover", json!({ "serial": SERIAL }));
    assert_eq!(r["error"], Value::Null);
    let finalized = srv
        .paths()
        .iter()
        .filter(|p| *p == "/container/register/finalize")
        .count();
    assert_eq!(finalized, 2);
    assert_eq!(accounts(&s).len(), 1);
    assert_eq!(accounts(&s)[0]["id"], id);
}

/// A PUSH token of another server than the container's (here a port where nothing
/// listens) is not enrolled: the sync skips it with the reason and takes the rest.
#[test]
fn a_push_token_on_another_server_is_skipped() {
    let srv = server(policies(true, true, false));
    let elsewhere = "otpauth://pipush/PIPU9?url=http%3A//127.0.0.1%3A9/ttype/push&enrollment_credential=x&serial=PIPU9";
    srv.with(|s| {
        s.tokens = vec![
            ("PIPU9".into(), "push".into(), elsewhere.into()),
            totp("TOTP1", "GEZDGNBVGY3TQOJQ"),
        ]
    });
    let s = shell().unlocked();
    let r = register(&s, &srv);
    let sync = &r["sync"];
    assert_eq!(sync["error"], Value::Null, "{r}");
    assert_eq!(sync["added"], json!(["TOTP1"]));
    assert_eq!(sync["skipped"][0]["entry"], "PIPU9");
    let reason = sync["skipped"][0]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("another server (http://127.0.0.1:9)"),
        "{reason}"
    );
    assert_eq!(s.ok("push_accounts", json!({})), json!([]));
}

#[test]
fn sync_adds_removes_and_a_tampered_reply_changes_nothing() {
    let srv = server(policies(true, true, false));
    srv.with(|s| s.tokens = vec![totp("TOTP1", "GEZDGNBVGY3TQOJQ")]);
    let s = shell().unlocked();
    register(&s, &srv);
    let first = accounts(&s);
    assert_eq!(first[0]["deletable"], true);
    // The admin adds one and removes the first.
    srv.with(|s| s.tokens = vec![totp("TOTP2", "JBSWY3DPEHPK3PXP")]);
    let r = s.ok("container_sync", json!({ "serial": SERIAL }));
    assert_eq!(r[0]["added"], json!(["TOTP2"]));
    assert_eq!(r[0]["removed"], json!(["TOTP1"]));
    let after = accounts(&s);
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["name"], "TOTP2");
    // Nothing new: kept (same id, same code).
    let code = |s: &Shell| s.ok("codes_now", json!({}))[0]["code"].clone();
    let before = code(&s);
    let r = s.ok("container_sync", json!({}));
    assert_eq!(r[0]["updated"], json!(["TOTP2"]));
    assert_eq!(accounts(&s)[0]["id"], after[0]["id"]);
    assert_eq!(code(&s), before);
    // A tampered reply: refused, reported, and the vault is as it was.
    srv.with(|s| {
        s.tokens.push(totp("TOTP3", "GEZDGNBVGY3TQOJQ"));
        s.tamper = true;
    });
    let r = s.ok("container_sync", json!({ "serial": SERIAL }));
    assert!(
        r[0]["error"]
            .as_str()
            .expect("error")
            .contains("does not decrypt")
    );
    assert_eq!(accounts(&s).len(), 1);
    let listed = s.ok("containers_list", json!({}));
    assert!(listed[0]["lastError"].as_str().is_some());
    // Rollover is not allowed by this server's policy: refused before anything is sent.
    let sent = srv.paths().len();
    assert_eq!(
        s.kind("container_transfer", json!({ "serial": SERIAL })),
        "Forbidden"
    );
    assert_eq!(srv.paths().len(), sent);
    // A deletable managed account can be deleted.
    s.ok("account_delete", json!({ "id": after[0]["id"] }));
    assert!(accounts(&s).is_empty());
    // The next sync gets everything the server holds again.
    let r = s.ok("container_sync", json!({ "serial": SERIAL }));
    assert_eq!(r[0]["error"], Value::Null);
    assert_eq!(accounts(&s).len(), 2);
    // Unregister (allowed): the server hears it, the accounts go.
    let removed = s.ok("container_unregister", json!({ "serial": SERIAL }));
    assert_eq!(removed.as_array().expect("serials").len(), 2);
    assert!(accounts(&s).is_empty());
    assert_eq!(s.ok("containers_list", json!({})), json!([]));
    assert!(!srv.srv.lock().expect("server").registered);
}

#[test]
fn unregister_forbidden_and_passphrase_asked() {
    let srv = server(policies(true, false, false));
    srv.with(|s| s.passphrase = Some("s3cret".into()));
    let s = shell().unlocked();
    let added = s.ok(
        "add_uri",
        json!({ "uri": qr(&srv.base, Some("Your university PIN")) }),
    );
    let preview = &added["preview"];
    assert_eq!(preview["passphrasePrompt"], "Your university PIN");
    assert_eq!(
        s.kind("container_register", json!({ "id": preview["id"] })),
        "PasswordRequired"
    );
    // A wrong passphrase: the server refuses; the preview stays for another try.
    assert_eq!(
        s.kind(
            "container_register",
            json!({ "id": preview["id"], "passphrase": "wrong" })
        ),
        "Server"
    );
    let done = s.ok(
        "container_register",
        json!({ "id": preview["id"], "passphrase": "s3cret" }),
    );
    assert_eq!(done["container"]["policies"]["unregister"], false);
    assert_eq!(
        s.kind("container_unregister", json!({ "serial": SERIAL })),
        "Forbidden"
    );
    assert_eq!(
        s.ok("containers_list", json!({})).as_array().map(Vec::len),
        Some(1)
    );
    // Gone from the server (the admin unregistered it): the sync says so, and unregistering
    // here is then no longer the server's to refuse.
    srv.with(|s| s.registered = false);
    let r = s.ok("container_sync", json!({}));
    assert!(r[0]["error"].as_str().expect("error").contains("3001"));
    s.ok("container_unregister", json!({ "serial": SERIAL }));
    assert_eq!(s.ok("containers_list", json!({})), json!([]));
    assert_eq!(
        s.kind("container_sync", json!({ "serial": SERIAL })),
        "NotFound"
    );
}

/// The core runner's rule, as the CLI has it: a first sync the server refuses because it no
/// longer knows the container keeps the registration and that the server forgot it, so
/// unregistering here is no longer refused.
#[test]
fn a_failed_first_sync_keeps_the_registration_and_that_the_server_forgot_it() {
    let srv = server(policies(true, false, false));
    srv.with(|s| s.forget_after_finalize = true);
    let s = shell().unlocked();
    let done = register(&s, &srv);
    assert!(
        done["sync"]["error"]
            .as_str()
            .expect("the first sync failed")
            .contains("3001"),
        "{done}"
    );
    assert_eq!(done["container"]["serial"], SERIAL);
    assert_eq!(done["container"]["policies"]["unregister"], true);
    assert_eq!(
        s.ok("containers_list", json!({}))[0]["policies"]["unregister"],
        true
    );
    s.ok("container_unregister", json!({ "serial": SERIAL }));
    assert_eq!(s.ok("containers_list", json!({})), json!([]));
    assert_eq!(
        srv.paths(),
        [
            "/container/register/finalize",
            "/container/challenge",
            "/container/challenge"
        ]
    );
}

#[test]
fn containers_sync_by_themselves_after_an_unlock() {
    let srv = server(policies(false, true, false));
    srv.with(|s| s.tokens = vec![totp("TOTP1", "GEZDGNBVGY3TQOJQ")]);
    let dir = tempfile::tempdir().expect("temp dir");
    // With the background threads (push poller, container watcher) as in the app.
    let s =
        crate::tests::shell_with(dir, Some(std::time::Duration::from_secs(3600)), false).unlocked();
    register(&s, &srv);
    srv.with(|s| s.tokens.push(totp("TOTP2", "JBSWY3DPEHPK3PXP")));
    s.ok("vault_lock", json!({}));
    s.ok("vault_unlock", json!({ "password": "correct horse" }));
    let start = Instant::now();
    while accounts(&s).len() < 2 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "no sync after the unlock"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(accounts(&s).iter().all(|a| a["container"] == SERIAL));
}

/// Makes `push` one of the container's push tokens, as a sync that brought it would (its
/// enrolment is the push code's, tested in push/tests.rs and against the real server in
/// tests/cli), with the client policies `policies`; the stand-in server holds it too.
fn manage_push(
    s: &Shell,
    srv: &Server,
    push: twofold_core::push::PushAccount,
    policies: twofold_core::container::Policies,
) {
    use tauri::Manager;
    let serial = push.serial.clone();
    // On the container's own server, which does not enrol it: an enrolment fails at once.
    let uri = format!(
        "otpauth://pipush/{serial}?url={}ttype/push&enrollment_credential=x&serial={serial}",
        srv.base.replace(':', "%3A")
    );
    srv.with(|x| x.tokens.push((serial.clone(), "push".into(), uri.clone())));
    let plain = json!({"container": {"serial": SERIAL}, "tokens": {"add": [uri]}}).to_string();
    let reply = twofold_core::container::read_sync_plaintext(SERIAL, plain.as_bytes(), policies)
        .expect("reply");
    let state = s.app.state::<crate::state::AppState>();
    let mut inner = state.get().expect("state");
    let rng = twofold_core::rng::SystemRng::new();
    let saved = state.change_saved(&mut inner, |vault| {
        Ok(vault
            .apply_container_sync(&reply, vec![push], unix_now(), &rng)
            .expect("applied"))
    });
    let r = saved.expect("save").value;
    assert_eq!(r.added.len(), 1, "{r:?}");
}

fn syncs(srv: &Server) -> usize {
    srv.paths()
        .iter()
        .filter(|p| *p == "/container/synchronize")
        .count()
}

#[test]
fn a_managed_push_token_is_removed_only_when_the_server_allows() {
    use twofold_core::container::Policies;
    for allowed in [false, true] {
        let srv = server(policies(allowed, true, false));
        let s = shell().unlocked();
        register(&s, &srv);
        let push = crate::push::tests::account(&format!("{}ttype/push", srv.base), false);
        let serial = push.serial.clone();
        let forbid = Policies {
            disable_client_token_deletion: !allowed,
            ..Policies::default()
        };
        manage_push(&s, &srv, push, forbid);
        let held = || s.ok("push_accounts", json!({})).as_array().map(Vec::len);
        assert_eq!(held(), Some(1));
        // Listed with the organization that manages it, and whether it may be deleted.
        let view = s.ok("push_accounts", json!({}))[0].clone();
        assert_eq!(view["container"], SERIAL);
        assert_eq!(view["managedBy"], "ACME University");
        assert_eq!(view["deletable"], allowed);
        if allowed {
            s.ok("push_remove", json!({ "serial": serial }));
            assert_eq!(held(), Some(0));
            // Released from its container: the next sync does not report it (the server
            // then re-keys it and sends it again; here its enrolment fails, so the sync too).
            s.ok("container_sync", json!({ "serial": SERIAL }));
            let reported = srv.srv.lock().expect("server").reported.clone();
            assert_eq!(reported.last(), Some(&Vec::<String>::new()));
            // A push account no container manages says so.
            crate::push::tests::enrol(
                &s,
                crate::push::tests::account("https://pi.example/ttype/push", false),
            );
            let view = s.ok("push_accounts", json!({}))[0].clone();
            assert_eq!(view["managedBy"], Value::Null);
            assert_eq!(view["deletable"], true);
        } else {
            assert_eq!(
                s.kind("push_remove", json!({ "serial": serial })),
                "Forbidden"
            );
            assert_eq!(held(), Some(1));
        }
    }
}

#[test]
fn a_push_poll_with_news_of_a_container_token_syncs_that_container() {
    use crate::push::tests::{challenge, poll_reply};
    use tauri::Manager;
    let srv = server(policies(true, true, false));
    let s = shell().unlocked();
    register(&s, &srv);
    // The container's push token is on its own server, which also answers its polls.
    let push_url = format!("{}ttype/push", srv.base);
    let poll = |reply: Value| srv.with(|x| x.polls.push_back(reply));
    let push = crate::push::tests::account(&push_url, false);
    let serial = push.serial.clone();
    manage_push(&s, &srv, push, twofold_core::container::Policies::default());
    let every = std::time::Duration::from_millis(700);
    s.app
        .state::<crate::container::ContainerService>()
        .set_nudge_every(every);
    let synced = s.events("containers-synced");
    let nudged = || crate::container::sync_nudged(s.app.handle());
    std::thread::sleep(every);
    let before = syncs(&srv);
    // A poll with nothing new: no sync.
    s.ok("push_poll", json!({}));
    assert!(nudged().is_empty());
    assert_eq!(syncs(&srv), before);
    // A sign-in request of the container's push token: its container syncs (reporting it).
    poll(poll_reply(vec![challenge(&push_url, "N1", "Sign in?")]));
    assert_eq!(s.ok("push_poll", json!({}))[0]["nonce"], "N1");
    assert_eq!(nudged(), vec![SERIAL.to_owned()]);
    assert_eq!(syncs(&srv), before + 1);
    let reported = srv.srv.lock().expect("server").reported.clone();
    assert_eq!(reported.last(), Some(&vec![serial.clone()]));
    assert_eq!(synced.lock().expect("events").len(), 1);
    // Another one at once: within the quiet time, no second sync.
    poll(poll_reply(vec![challenge(&push_url, "N2", "Again?")]));
    s.ok("push_poll", json!({}));
    assert!(nudged().is_empty());
    assert_eq!(syncs(&srv), before + 1);
    // Later, a poll the server refuses (as it does once the token was re-keyed or left the
    // container): the container syncs again.
    std::thread::sleep(every);
    poll(json!({"result": {"status": false,
        "error": {"code": 10, "message": "Could not verify signature!"}}}));
    assert_eq!(s.kind("push_poll", json!({})), "Server");
    assert_eq!(nudged(), vec![SERIAL.to_owned()]);
    assert_eq!(syncs(&srv), before + 2);
}

/// A container synced by the app on its own (the push poller's nudge) saves what the server
/// sent, but that is not the person's activity: it never keeps the vault from locking, so a
/// server cannot keep an idle vault open by changing something at each sync.
#[test]
fn a_background_container_sync_is_not_the_persons_activity() {
    use crate::push::tests::{challenge, poll_reply};
    use tauri::Manager;
    let srv = server(policies(true, true, false));
    let s = shell().unlocked();
    register(&s, &srv);
    let push_url = format!("{}ttype/push", srv.base);
    let push = crate::push::tests::account(&push_url, false);
    manage_push(&s, &srv, push, twofold_core::container::Policies::default());
    let every = std::time::Duration::from_millis(1);
    s.app
        .state::<crate::container::ContainerService>()
        .set_nudge_every(every);
    srv.with(|x| x.tokens.push(totp("TOTP2", "JBSWY3DPEHPK3PXP")));
    srv.with(|x| {
        x.polls
            .push_back(poll_reply(vec![challenge(&push_url, "N1", "Sign in?")]))
    });
    assert_eq!(s.ok("push_poll", json!({}))[0]["nonce"], "N1");
    std::thread::sleep(every * 10);
    let before = accounts(&s).len();
    let state = s.app.state::<crate::state::AppState>();
    let idle_since = Instant::now()
        .checked_sub(std::time::Duration::from_secs(3600))
        .expect("an hour ago");
    state.get().expect("state").last_activity = idle_since;
    assert_eq!(
        crate::container::sync_nudged(s.app.handle()),
        vec![SERIAL.to_owned()]
    );
    assert_eq!(state.get().expect("state").last_activity, idle_since);
    assert_eq!(
        accounts(&s).len(),
        before + 1,
        "the sync's change was saved"
    );
}

/// Figures for docs/containers.md: register + first sync (median of 5), and a sync with 20
/// tokens, against the local stand-in. Printed, never asserted.
#[test]
fn figures_register_and_sync_times() {
    let mut times = Vec::new();
    for _ in 0..5 {
        let srv = server(policies(true, true, false));
        srv.with(|s| s.tokens = vec![totp("TOTP1", "GEZDGNBVGY3TQOJQ")]);
        let s = shell().unlocked();
        let t = Instant::now();
        register(&s, &srv);
        times.push(t.elapsed());
    }
    times.sort();
    let srv = server(policies(true, true, false));
    let s = shell().unlocked();
    register(&s, &srv);
    srv.with(|s| {
        s.tokens = (0..20)
            .map(|i| totp(&format!("TOTP{i}"), "GEZDGNBVGY3TQOJQ"))
            .collect();
    });
    let t = Instant::now();
    let r = s.ok("container_sync", json!({ "serial": SERIAL }));
    let twenty = t.elapsed();
    assert_eq!(r[0]["added"].as_array().map(Vec::len), Some(20));
    println!(
        "container figures (debug build, local stand-in): register + first sync median {:?} of 5; sync adding 20 tokens {:?}",
        times[2], twenty
    );
}

/// The policy `initially_add_tokens_to_container` through the confirmation screen's ticks:
/// only the ticked account's next two codes are sent, the server finds it and it becomes
/// managed with the server's serial; the account not ticked is never sent; the next sync
/// offers nothing; without the policy nothing is offered.
#[test]
fn register_offers_only_the_ticked_accounts_to_the_initial_transfer() {
    let mut p = policies(true, true, false);
    p["initially_add_tokens_to_container"] = json!(true);
    let srv = server(p);
    let uni = "otpauth://totp/ACME:alice?secret=GEZDGNBVGY3TQOJQ&issuer=ACME";
    let mail = "otpauth://totp/Mail:alice?secret=JBSWY3DPEHPK3PXP&issuer=Mail";
    srv.with(|s| {
        s.outside = vec![
            (
                "TOTP0UNI".into(),
                "totp".into(),
                format!("{uni}&serial=TOTP0UNI"),
            ),
            (
                "TOTP0MAIL".into(),
                "totp".into(),
                format!("{mail}&serial=TOTP0MAIL"),
            ),
        ]
    });
    let s = shell().unlocked();
    s.ok("add_uri", json!({ "uri": uni }));
    s.ok("add_uri", json!({ "uri": mail }));
    let id_of = |issuer: &str| {
        accounts(&s)
            .iter()
            .find(|a| a["issuer"] == issuer)
            .expect("account")["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let (uni_id, mail_id) = (id_of("ACME"), id_of("Mail"));
    let added = s.ok("add_uri", json!({ "uri": qr(&srv.base, None) }));
    let id = added["preview"]["id"].clone();
    // An id that is no account: refused before anything is sent.
    assert_eq!(
        s.kind("container_register", json!({ "id": id, "offer": ["nope"] })),
        "NotFound"
    );
    assert!(srv.paths().is_empty());
    let done = s.ok("container_register", json!({ "id": id, "offer": [uni_id] }));
    assert_eq!(done["sync"]["error"], Value::Null);
    assert_eq!(done["sync"]["joined"], json!(["TOTP0UNI"]));
    assert_eq!(done["sync"]["added"], json!([]));
    let offered = srv.srv.lock().expect("server").offered.clone();
    assert_eq!(offered[0].len(), 1, "only the ticked account: {offered:?}");
    assert_eq!(offered[0][0]["tokentype"], "totp");
    let list = accounts(&s);
    let uni_view = list
        .iter()
        .find(|a| a["id"] == uni_id.as_str())
        .expect("uni");
    assert_eq!(uni_view["container"], SERIAL);
    assert_eq!(uni_view["managedBy"], "ACME University");
    let mail_view = list
        .iter()
        .find(|a| a["id"] == mail_id.as_str())
        .expect("mail");
    assert_eq!(mail_view["container"], Value::Null);
    assert_eq!(
        list.len(),
        2,
        "no account added: the same secret is now managed"
    );
    // The next sync reports it by its serial and offers nothing.
    s.ok("container_sync", json!({ "serial": SERIAL }));
    let (offered, reported) = {
        let g = srv.srv.lock().expect("server");
        (g.offered.clone(), g.reported.clone())
    };
    assert!(offered[1].is_empty());
    assert_eq!(reported[1], vec!["TOTP0UNI".to_owned()]);

    // Without the policy: a tick sends nothing.
    let srv = server(policies(true, true, false));
    srv.with(|s| {
        s.outside = vec![(
            "TOTP0MAIL".into(),
            "totp".into(),
            format!("{mail}&serial=TOTP0MAIL"),
        )]
    });
    let s = shell().unlocked();
    s.ok("add_uri", json!({ "uri": mail }));
    let mail_id = accounts(&s)[0]["id"].clone();
    let added = s.ok("add_uri", json!({ "uri": qr(&srv.base, None) }));
    let done = s.ok(
        "container_register",
        json!({ "id": added["preview"]["id"], "offer": [mail_id] }),
    );
    assert_eq!(done["sync"]["joined"], json!([]));
    assert!(srv.srv.lock().expect("server").offered[0].is_empty());
    assert_eq!(accounts(&s)[0]["container"], Value::Null);
}
