//! `twofold container ...` against a real privacyIDEA 3.14 on loopback (the fixture in
//! `privacyidea.rs`, its own realm `containers` and container policies). One server serves
//! every scenario in turn: register; sync brings TOTP and PUSH (the TOTP code validates, the
//! PUSH token answers a challenge); admin changes show at the next sync; a no-op sync keeps every
//! secret; policies (client deletion, unregister, rollover); rollover in place and to a second
//! vault; a passphrase QR (own and user store); replayed and tampered requests refused. The
//! figures (register + first sync, median of 5; sync with 20 tokens) are printed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use twofold_core::container::Operation;
use twofold_core::rng::SystemRng;
use twofold_core::vault::{Vault, file};

use crate::privacyidea::{PIN, PiServer};
use crate::{assert_error, stderr, stdout};

const PASSWORD: &str = "container-test-pw";
const REALM: &str = "containers";
/// erin's user-store password, as `sha512_crypt` in the passwd file.
const ERIN_PASSWORD: &str = "erin-store-pw";
const ERIN_HASH: &str = "$6$1Vhizc23QR8vnFHw$dGVal5iWV5jY.J6XtNGOJ1zatUycD2aXijr23fhmFIsCjev.UcRRkh8UZwSYtS/jdOBiSvQbv.0Ys/Lor/Pai/";

fn tw_env(vault: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_twofold"));
    c.arg("--vault")
        .arg(vault)
        .args(args)
        .env_remove("TWOFOLD_VAULT")
        .env_remove("TWOFOLD_CONTAINER_PASSPHRASE")
        .env("TWOFOLD_PASSWORD", PASSWORD)
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the twofold binary runs")
}

fn tw(vault: &Path, args: &[&str]) -> Output {
    tw_env(vault, args, &[])
}

fn ok_json(vault: &Path, args: &[&str]) -> Value {
    let o = tw(vault, args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap_or_else(|_| panic!("{args:?}: {}", stdout(&o)))
}

fn new_vault(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("twofold-container-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let v = d.join("vault.json");
    let o = tw(&v, &["init", "--kdf", "minimum"]);
    assert!(o.status.success(), "{}", stderr(&o));
    v
}

fn open(vault: &Path) -> Vault {
    Vault::open(&file::read(vault).unwrap(), PASSWORD.as_bytes()).unwrap()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn serials(list: &Value) -> Vec<String> {
    let mut s: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a["serial"]
                .as_str()
                .unwrap_or_else(|| a.as_str().unwrap())
                .to_owned()
        })
        .collect();
    s.sort();
    s
}

struct Admin<'a>(&'a PiServer);

impl Admin<'_> {
    fn configure(&self) {
        let pi = self.0;
        let passwd = pi.dir.join("container-users");
        std::fs::write(
            &passwd,
            format!("dave:x:2001:2001:dave:/home/dave:/bin/sh\nerin:{ERIN_HASH}:2002:2002:erin:/home/erin:/bin/sh\n"),
        )
        .unwrap();
        pi.admin_json(
            "/resolver/cusers",
            json!({"type": "passwdresolver", "fileName": passwd.display().to_string()}),
        );
        pi.admin_json(&format!("/realm/{REALM}"), json!({"resolvers": "cusers"}));
        self.policy(
            "container-base",
            "container",
            &format!(
                "privacyIDEA_server_url={}/, container_ssl_verify=False, container_registration_ttl=10, container_challenge_ttl=2",
                pi.base
            ),
        );
        self.policy(
            "container-push-enrol",
            "enrollment",
            &format!(
                "push_firebase_configuration=poll only, push_registration_url={}/ttype/push, push_ttl=10, push_ssl_verify=0",
                pi.base
            ),
        );
        self.policy(
            "container-push-auth",
            "authentication",
            "push_ssl_verify=0, push_allow_polling=allow",
        );
    }

    fn policy(&self, name: &str, scope: &str, action: &str) {
        self.0.admin_json(
            &format!("/policy/{name}"),
            json!({"scope": scope, "action": action, "realm": "", "active": true, "priority": 1}),
        );
    }

    fn drop_policy(&self, name: &str) {
        self.0.admin_delete(&format!("/policy/{name}"));
    }

    fn container(&self, user: &str) -> String {
        let v = self.0.admin_json(
            "/container/init",
            json!({"type": "smartphone", "user": user, "realm": REALM, "description": "twofold test"}),
        );
        v["result"]["value"]["container_serial"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn token(&self, kind: &str, user: &str, container: &str) -> String {
        let mut body = json!({"type": kind, "genkey": 1, "user": user, "realm": REALM,
            "container_serial": container});
        if kind == "push" {
            body["pin"] = json!(PIN);
        }
        let v = self.0.admin_json("/token/init", body);
        v["detail"]["serial"].as_str().unwrap().to_owned()
    }

    fn qr(&self, extra: Value) -> String {
        let v = self.0.admin_json("/container/register/initialize", extra);
        v["result"]["value"]["container_url"]["value"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn validate(&self, serial: &str, pass: &str) -> bool {
        let v = self
            .0
            .form("/validate/check", &[("serial", serial), ("pass", pass)]);
        v["result"]["value"] == true
    }
}

/// The accounts of `twofold code --json`, by server serial.
fn code_of(vault: &Path, serial: &str) -> String {
    let list = ok_json(vault, &["code", "--json"]);
    list.as_array()
        .unwrap()
        .iter()
        .find(|a| a["serial"] == serial)
        .unwrap_or_else(|| panic!("no account for {serial}: {list}"))["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn account_id(vault: &Path, serial: &str) -> String {
    let list = ok_json(vault, &["list", "--json"]);
    list.as_array()
        .unwrap()
        .iter()
        .find(|a| a["serial"] == serial)
        .unwrap_or_else(|| panic!("no account for {serial}: {list}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Every secret the vault holds for its accounts and push accounts.
fn secrets(vault: &Path) -> Vec<String> {
    let v = open(vault);
    let mut s: Vec<String> = v
        .accounts()
        .iter()
        .map(|a| format!("{}={}", a.id, a.otp.secret.to_base32().as_str()))
        .collect();
    s.extend(
        v.push_accounts()
            .iter()
            .map(|p| format!("{}={:?}", p.serial, p.server_key.to_base64())),
    );
    s.sort();
    s
}

/// Triggers a PUSH challenge for `serial`, answers it through the CLI, checks the server saw it.
fn push_round_trip(pi: &PiServer, vault: &Path, serial: &str) {
    let v = pi.form("/validate/check", &[("serial", serial), ("pass", PIN)]);
    let tx = v["detail"]["transaction_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no challenge: {v}"))
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    let nonce = loop {
        let list = ok_json(vault, &["push", "poll", "--json"]);
        if let Some(c) = list
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["serial"] == serial)
        {
            break c["nonce"].as_str().unwrap().to_owned();
        }
        assert!(Instant::now() < deadline, "no challenge for {serial}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let a = ok_json(vault, &["push", "approve", &nonce, "--json"]);
    assert_eq!(a["accepted"], true);
    assert_eq!(pi.challenge_status(&tx), "accept");
}

fn error_code(body: &[u8]) -> i64 {
    let v: Value = serde_json::from_slice(body).unwrap();
    v["result"]["error"]["code"].as_i64().unwrap_or(0)
}

#[test]
fn container_commands_without_a_server() {
    let v = new_vault("offline");
    assert_eq!(ok_json(&v, &["container", "list", "--json"]), json!([]));
    assert_eq!(ok_json(&v, &["container", "sync", "--json"]), json!([]));
    let err = assert_error(
        &tw(&v, &["container", "register", "otpauth://totp/x?secret=AA"]),
        1,
    );
    assert!(err.contains("pia://container/"), "{err}");
    let err = assert_error(&tw(&v, &["add", "pia://container/SMPH1?serial=SMPH1"]), 1);
    assert!(err.contains("twofold container register"), "{err}");
    let err = assert_error(&tw(&v, &["container", "unregister", "SMPH1"]), 1);
    assert!(err.contains("no container"), "{err}");
    // A passphrase QR with no passphrase and no terminal: an error, never a hang.
    let qr = "pia://container/SMPH1?issuer=privacyIDEA&ttl=10&nonce=ab&time=2099-01-01T00%3A00%3A00.000000%2B00%3A00&url=http%3A//127.0.0.1%3A1/&serial=SMPH1&key_algorithm=secp384r1&hash_algorithm=SHA256&ssl_verify=False&passphrase=Code%20word&send_passphrase=False";
    let before = std::fs::read(&v).unwrap();
    let err = assert_error(&tw(&v, &["container", "register", qr]), 1);
    assert!(err.contains("Code word"), "{err}");
    assert_eq!(std::fs::read(&v).unwrap(), before);
    let _ = std::fs::remove_dir_all(v.parent().unwrap());
}

/// A registration QR for the server at `url` (percent-encoded as privacyIDEA's `quote` does),
/// made now, its TLS checks as `ssl_verify` says.
fn offline_qr(url: &str, ssl_verify: bool) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let time = twofold_core::push::privacyidea::timestamp(now)
        .replace(':', "%3A")
        .replace('+', "%2B");
    format!(
        "pia://container/SMPH1?issuer=privacyIDEA&ttl=10&nonce=ab&time={time}&url={url}&serial=SMPH1&key_algorithm=secp384r1&hash_algorithm=SHA256&ssl_verify={}&passphrase=&send_passphrase=False",
        if ssl_verify { "True" } else { "False" }
    )
}

/// `http://B\@A/`: the transport reads host B, a split at `/ ? #` and the last `@` reads A
/// (the container's origin, trusted with A's push serials). Such an address, user information
/// or a control character is refused at register: exit 1, the vault as it was, nothing sent
/// to either host.
#[test]
fn an_ambiguous_container_address_is_refused_at_register() {
    let v = new_vault("ambiguous");
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    b.set_nonblocking(true).unwrap();
    let b_port = b.local_addr().unwrap().port();
    let before = std::fs::read(&v).unwrap();
    for (url, why) in [
        (
            format!("http%3A//127.0.0.1%3A{b_port}%5C%40127.0.0.2%3A{b_port}/"),
            "backslash",
        ),
        (
            format!("http%3A//127.0.0.2%40127.0.0.1%3A{b_port}/"),
            "user information",
        ),
        (
            format!("http%3A//127.0.0.1%3A{b_port}/%0D"),
            "control character",
        ),
    ] {
        let err = assert_error(
            &tw(&v, &["container", "register", &offline_qr(&url, true)]),
            1,
        );
        assert!(err.contains(why), "{url}: {err}");
        assert_eq!(std::fs::read(&v).unwrap(), before, "vault unchanged");
    }
    assert!(b.accept().is_err(), "nothing was sent");
    let _ = std::fs::remove_dir_all(v.parent().unwrap());
}

/// `ssl_verify=False` gives a `warning:` line on stderr, as the app shows it, before anything
/// is sent (here to a port where nothing listens).
#[test]
fn a_container_without_tls_checks_is_warned_about() {
    let v = new_vault("tls-off");
    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = gone.local_addr().unwrap().port();
    drop(gone);
    let url = format!("http%3A//127.0.0.1%3A{port}/");
    let o = tw(&v, &["container", "register", &offline_qr(&url, false)]);
    assert_error(&o, 1);
    let err = stderr(&o);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(warnings[0].contains("ssl_verify=False"), "{err}");
    assert!(warnings[0].contains("127.0.0.1"), "{err}");
    // With the checks on, no warning.
    let o = tw(&v, &["container", "register", &offline_qr(&url, true)]);
    assert_error(&o, 1);
    assert!(!stderr(&o).contains("warning:"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(v.parent().unwrap());
}

/// What the stand-in privacyIDEA of [`stand_in`] does next.
#[derive(Default)]
struct StandIn {
    /// Every request but a finalize answers ERR3001: the container is not registered.
    forgotten: bool,
    /// Run when the next challenge is asked (the CLI holds no vault lock then).
    on_challenge: Option<Box<dyn FnOnce() + Send>>,
    /// The request paths, in order.
    paths: Vec<String>,
}

/// A stand-in privacyIDEA on 127.0.0.1 for the failure paths: it finalizes a registration
/// (policy `disable_client_container_unregister` on), hands out challenges, refuses every
/// sync (ERR905), and once `forgotten` answers ERR3001 as privacyIDEA 3.14 does for a
/// container it no longer knows. Its address, percent-encoded for a QR.
fn stand_in(state: std::sync::Arc<std::sync::Mutex<StandIn>>) -> String {
    use twofold_test_support::http::{Reply, serve};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    serve(listener, move |request| {
        let path = request.path.as_str();
        let hook = {
            let mut s = state.lock().unwrap();
            s.paths.push(path.to_owned());
            if path == "/container/challenge" {
                s.on_challenge.take()
            } else {
                None
            }
        };
        if let Some(hook) = hook {
            hook();
        }
        let forgotten = state.lock().unwrap().forgotten;
        let error = |code: u32, message: &str| json!({"result": {"status": false, "error": {"code": code, "message": message}}});
        Reply::json(match path {
            "/container/register/finalize" => json!({"result": {"status": true, "value": {
                "policies": {"container_client_rollover": false,
                    "initially_add_tokens_to_container": false,
                    "disable_client_token_deletion": true,
                    "disable_client_container_unregister": true}}}}),
            _ if forgotten => error(3001, "ERR3001: Container is not registered."),
            "/container/challenge" => json!({"result": {"status": true, "value": {
                "enc_key_algorithm": "x25519", "nonce": "n1", "transaction_id": "1",
                "time_stamp": "2026-12-01T21:17:30.000000+00:00"}}}),
            _ => error(905, "ERR905: the stand-in refuses this request"),
        })
    });
    format!("http%3A//127.0.0.1%3A{port}/")
}

/// A failed first sync keeps the registration and, when the server says it no longer knows
/// the container, that too (the core runner's rule): `container unregister` is then no
/// longer the server's to refuse. The CLI used to save only a successful first sync, so the
/// vault kept `disable_client_container_unregister` and the container could not be removed.
#[test]
fn a_failed_first_sync_keeps_the_registration_and_that_the_server_forgot_it() {
    let v = new_vault("forgot-first");
    let state = std::sync::Arc::new(std::sync::Mutex::new(StandIn::default()));
    let url = stand_in(state.clone());
    // Finalized, then forgotten before the first sync's challenge.
    state.lock().unwrap().on_challenge = Some(Box::new({
        let state = state.clone();
        move || state.lock().unwrap().forgotten = true
    }));
    let o = tw(&v, &["container", "register", &offline_qr(&url, true)]);
    let err = assert_error(&o, 1);
    assert!(
        err.contains("registered, but the first sync failed"),
        "{err}"
    );
    assert!(err.contains("ERR3001"), "{err}");
    let vault = open(&v);
    let c = vault.container("SMPH1").expect("the registration is kept");
    assert!(!c.container.policies.disable_client_container_unregister);
    let o = tw(&v, &["container", "unregister", "SMPH1", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(open(&v).containers().is_empty());
    assert_eq!(
        state.lock().unwrap().paths,
        [
            "/container/register/finalize",
            "/container/challenge",
            "/container/challenge"
        ]
    );
    let _ = std::fs::remove_dir_all(v.parent().unwrap());
}

/// Another program saves the vault while `container sync` waits for the server: the sync's
/// change is made on top of that save (the core's store, as every other command), not
/// refused with "run the command again"; here the change is that the server forgot the
/// container. The CLI used to write its own copy only if the file was unchanged: exit 1, the
/// flag lost.
#[test]
fn a_save_by_another_program_during_a_container_sync_is_built_on() {
    let v = new_vault("concurrent");
    let state = std::sync::Arc::new(std::sync::Mutex::new(StandIn::default()));
    let url = stand_in(state.clone());
    // Registered; the first sync is refused (ERR905): the flag stays on.
    let err = assert_error(
        &tw(&v, &["container", "register", &offline_qr(&url, true)]),
        1,
    );
    assert!(err.contains("ERR905"), "{err}");
    assert!(
        open(&v)
            .container("SMPH1")
            .unwrap()
            .container
            .policies
            .disable_client_container_unregister
    );
    // At the next challenge, another twofold adds an account; the server has forgotten.
    state.lock().unwrap().on_challenge = Some(Box::new({
        let state = state.clone();
        let v = v.clone();
        move || {
            let o = tw(
                &v,
                &[
                    "add",
                    "otpauth://totp/Other:bob?secret=JBSWY3DPEHPK3PXP&issuer=Other",
                ],
            );
            assert!(o.status.success(), "{}", stderr(&o));
            state.lock().unwrap().forgotten = true;
        }
    }));
    let o = tw(&v, &["container", "sync", "--json"]);
    let err = assert_error(&o, 1);
    assert!(err.contains("1 of 1 container syncs failed"), "{err}");
    assert!(!err.contains("run the command again"), "{err}");
    let report: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        report[0]["error"].as_str().unwrap().contains("ERR3001"),
        "{report}"
    );
    let vault = open(&v);
    assert_eq!(
        vault.accounts().len(),
        1,
        "the other program's account is kept"
    );
    assert_eq!(vault.accounts()[0].otp.name, "bob");
    assert!(
        !vault
            .container("SMPH1")
            .unwrap()
            .container
            .policies
            .disable_client_container_unregister,
        "the server's word is saved"
    );
    let _ = std::fs::remove_dir_all(v.parent().unwrap());
}

#[test]
fn privacyidea_3_14_containers() {
    if std::env::var_os("TWOFOLD_SKIP_PRIVACYIDEA").is_some() {
        println!("SKIPPED privacyidea_3_14_containers: TWOFOLD_SKIP_PRIVACYIDEA is set");
        return;
    }
    let suite = Instant::now();
    let pi = PiServer::start().unwrap_or_else(|e| panic!("privacyIDEA fixture: {e}"));
    let admin = Admin(&pi);
    admin.configure();
    println!(
        "privacyIDEA 3.14 up and configured after {:.1} s",
        suite.elapsed().as_secs_f64()
    );

    // ----- register; the first sync brings a TOTP and a PUSH token -----
    println!(
        "{:6.1} s: register; the first sync brings a TOTP and a PUSH token",
        suite.elapsed().as_secs_f64()
    );
    let c1 = admin.container("dave");
    let totp = admin.token("totp", "dave", &c1);
    let push = admin.token("push", "dave", &c1);
    let v = new_vault("main");
    let qr = admin.qr(json!({"container_serial": c1}));
    let t = Instant::now();
    let r = ok_json(
        &v,
        &["container", "register", &qr, "--device-info", "--json"],
    );
    let first_with_push = t.elapsed().as_secs_f64();
    assert_eq!(r["serial"], c1.as_str());
    assert_eq!(r["server_url"], format!("{}/", pi.base));
    assert_eq!(r["policies"]["container_client_rollover"], false);
    assert_eq!(r["sync"]["error"], Value::Null);
    assert_eq!(serials(&r["sync"]["added"]), {
        let mut s = vec![push.clone(), totp.clone()];
        s.sort();
        s
    });
    let info = pi.admin_get(&format!("/container/?container_serial={c1}"));
    let info = &info["result"]["value"]["containers"][0]["info"];
    assert!(info.to_string().contains("registered"), "{info}");
    assert!(
        info.to_string().contains("Twofold"),
        "device info sent: {info}"
    );
    // The TOTP code validates; the account says which container manages it.
    assert!(admin.validate(&totp, &code_of(&v, &totp)));
    let list = ok_json(&v, &["list", "--json"]);
    assert_eq!(list[0]["container"], c1.as_str());
    assert_eq!(list[0]["serial"], totp.as_str());
    // The PUSH token was enrolled and answers a challenge.
    assert_eq!(pi.token_info(&push)["rollout_state"], "enrolled");
    push_round_trip(&pi, &v, &push);
    let cl = ok_json(&v, &["container", "list", "--json"]);
    assert_eq!(cl[0]["serial"], c1.as_str());
    assert_eq!(cl[0]["tokens"].as_array().unwrap().len(), 2);
    assert!(cl[0]["last_sync"].as_u64().is_some());

    // ----- a sync with nothing new keeps every secret -----
    println!(
        "{:6.1} s: a sync with nothing new keeps every secret",
        suite.elapsed().as_secs_f64()
    );
    let before = secrets(&v);
    let r = ok_json(&v, &["container", "sync", "--json"]);
    assert_eq!(r[0]["added"], json!([]));
    assert_eq!(r[0]["removed"], json!([]));
    assert_eq!(serials(&r[0]["updated"]).len(), 2);
    assert_eq!(secrets(&v), before);

    // ----- the admin adds a HOTP and removes the TOTP: the next sync shows both -----
    println!(
        "{:6.1} s: the admin adds a HOTP and removes the TOTP: the next sync shows both",
        suite.elapsed().as_secs_f64()
    );
    let hotp = admin.token("hotp", "dave", &c1);
    pi.admin_json(&format!("/container/{c1}/remove"), json!({"serial": totp}));
    let r = ok_json(&v, &["container", "sync", c1.as_str(), "--json"]);
    assert_eq!(r[0]["added"], json!([{"serial": hotp, "type": "hotp"}]));
    assert_eq!(r[0]["removed"], json!([totp]));
    assert!(
        ok_json(&v, &["list", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["serial"] != totp.as_str())
    );
    assert!(admin.validate(&hotp, &code_of(&v, &hotp)));
    // The server's next counter comes back with the next sync.
    let r = ok_json(&v, &["container", "sync", "--json"]);
    assert!(serials(&r[0]["updated"]).contains(&hotp));
    let hotp_id = account_id(&v, &hotp);
    let acc = ok_json(&v, &["list", "--json"]);
    let acc = acc
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == hotp_id.as_str())
        .unwrap();
    assert_eq!(acc["counter"], 2, "{acc}");
    assert!(admin.validate(&hotp, &code_of(&v, &hotp)));

    // ----- a PUSH token on another server than the container's is skipped -----
    println!(
        "{:6.1} s: a PUSH token on another server than the container's is skipped",
        suite.elapsed().as_secs_f64()
    );
    // The same privacyIDEA under another name: another origin than the container's
    // 127.0.0.1, so another server as far as the vault can tell.
    let elsewhere = pi.base.replace("127.0.0.1", "localhost");
    let push_policy = |base: &str| {
        admin.policy(
            "container-push-enrol",
            "enrollment",
            &format!(
                "push_firebase_configuration=poll only, push_registration_url={base}/ttype/push, push_ttl=10, push_ssl_verify=0"
            ),
        );
    };
    // The server writes each sync's enrolment URI (the token is re-keyed, as it is not
    // reported) from the policy in force then.
    push_policy(&elsewhere);
    let wrong = admin.token("push", "dave", &c1);
    let pushes_before = ok_json(&v, &["push", "list", "--json"]);
    let r = ok_json(&v, &["container", "sync", c1.as_str(), "--json"]);
    push_policy(&pi.base);
    assert_eq!(r[0]["error"], Value::Null, "{r}");
    assert_eq!(r[0]["added"], json!([]), "{r}");
    let skipped = r[0]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{r}");
    assert_eq!(skipped[0]["entry"], wrong.as_str());
    let reason = skipped[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("another server") && reason.contains("localhost"),
        "{reason}"
    );
    assert_eq!(ok_json(&v, &["push", "list", "--json"]), pushes_before);
    assert_eq!(
        pi.token_info(&wrong)["rollout_state"],
        "clientwait",
        "no phone key was sent for it"
    );
    pi.admin_json(&format!("/container/{c1}/remove"), json!({"serial": wrong}));

    // Managed accounts are still the user's: the export has them, marked as managed.
    let export = v.with_file_name("export.json");
    let o = tw(
        &v,
        &[
            "export",
            export.to_str().unwrap(),
            "--format",
            "aegis-plain",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&export).unwrap();
    assert!(text.contains(&hotp), "{text}");
    assert!(text.contains(&format!("Managed: {c1}")), "{text}");
    std::fs::remove_file(&export).unwrap();

    // ----- client deletion forbidden by policy -----
    println!(
        "{:6.1} s: client deletion forbidden by policy",
        suite.elapsed().as_secs_f64()
    );
    admin.policy(
        "container-no-delete",
        "container",
        "disable_client_token_deletion",
    );
    ok_json(&v, &["container", "sync", "--json"]);
    let before = std::fs::read(&v).unwrap();
    let err = assert_error(&tw(&v, &["remove", &hotp_id]), 1);
    assert!(err.contains("does not allow deleting"), "{err}");
    assert_eq!(std::fs::read(&v).unwrap(), before);
    admin.drop_policy("container-no-delete");

    // ----- unregister forbidden -----
    println!(
        "{:6.1} s: unregister forbidden",
        suite.elapsed().as_secs_f64()
    );
    admin.policy(
        "container-keep",
        "container",
        "disable_client_container_unregister",
    );
    ok_json(&v, &["container", "sync", "--json"]);
    let before = std::fs::read(&v).unwrap();
    let err = assert_error(&tw(&v, &["container", "unregister", &c1]), 1);
    assert!(err.contains("disable_client_container_unregister"), "{err}");
    assert_eq!(std::fs::read(&v).unwrap(), before, "vault unchanged");
    admin.drop_policy("container-keep");

    // ----- rollover: refused without the policy, then in place -----
    println!(
        "{:6.1} s: rollover: refused without the policy, then in place",
        suite.elapsed().as_secs_f64()
    );
    let err = assert_error(&tw(&v, &["container", "rollover", &c1]), 1);
    assert!(err.contains("container_client_rollover"), "{err}");
    admin.policy(
        "container-rollover",
        "container",
        "container_client_rollover",
    );
    ok_json(&v, &["container", "sync", "--json"]);
    let old_key = open(&v).container(&c1).unwrap().container.key.clone();
    let before = secrets(&v);
    let r = ok_json(&v, &["container", "rollover", &c1, "--json"]);
    assert_eq!(r["error"], Value::Null, "{r}");
    assert_eq!(serials(&r["added"]), {
        let mut s = vec![hotp.clone(), push.clone()];
        s.sort();
        s
    });
    assert_ne!(
        open(&v).container(&c1).unwrap().container.key,
        old_key,
        "a new key"
    );
    let after = secrets(&v);
    assert!(
        after.iter().all(|s| !before.contains(s)),
        "every secret renewed"
    );
    assert_eq!(account_id(&v, &hotp), hotp_id, "re-keyed in place");
    assert!(admin.validate(&hotp, &code_of(&v, &hotp)));
    push_round_trip(&pi, &v, &push);

    // ----- replayed and tampered requests are refused (through the core) -----
    println!(
        "{:6.1} s: replayed and tampered requests are refused (through the core)",
        suite.elapsed().as_secs_f64()
    );
    {
        let vault = open(&v);
        let c = vault.container(&c1).unwrap().container.clone();
        let report = vault.container_report(&c1).unwrap();
        let send = |r: &twofold_core::push::Request| twofold_http::send_body(r).unwrap();
        let ch = c
            .read_challenge(
                Operation::Sync,
                &send(&c.challenge_request(Operation::Sync)),
            )
            .unwrap();
        let pending = c.sync(&ch, &report, &SystemRng::new()).unwrap();
        let mut tampered = pending.request().clone();
        for (k, val) in &mut tampered.params {
            if k == "container_dict_client" {
                *val = val.replace(
                    "\"tokens\":[",
                    "\"tokens\":[{\"serial\":\"X\",\"tokentype\":\"hotp\"},",
                );
            }
        }
        assert_eq!(error_code(&send(&tampered)), 3002, "tampered");
        // The failed verification left the challenge usable: the genuine request goes through.
        let body = send(pending.request());
        let reply = pending.finish(&body).unwrap();
        assert!(reply.add.is_empty(), "nothing re-keyed");
        // The same request again: the challenge is spent.
        let again = c.sync(&ch, &report, &SystemRng::new()).unwrap();
        assert_eq!(error_code(&send(again.request())), 3002, "replayed");
    }

    // ----- rollover to a second vault -----
    println!(
        "{:6.1} s: rollover to a second vault",
        suite.elapsed().as_secs_f64()
    );
    let r = ok_json(&v, &["container", "rollover", &c1, "--transfer", "--json"]);
    let uri = r["uri"].as_str().unwrap().to_owned();
    assert!(uri.starts_with("pia://container/"), "{uri}");
    // This vault's copy works until the other device registers.
    ok_json(&v, &["container", "sync", "--json"]);
    let v2 = new_vault("second");
    let r = ok_json(&v2, &["container", "register", &uri, "--json"]);
    assert_eq!(r["sync"]["error"], Value::Null, "{r}");
    assert_eq!(serials(&r["sync"]["added"]).len(), 2);
    assert!(admin.validate(&hotp, &code_of(&v2, &hotp)));
    push_round_trip(&pi, &v2, &push);
    let before = std::fs::read(&v).unwrap();
    let err = assert_error(&tw(&v, &["container", "sync"]), 1);
    assert!(err.contains("1 of 1"), "{err}");
    assert!(stdout(&tw(&v, &["container", "sync"])).contains("3002"));
    let _ = before;
    // The old copy's push token was re-keyed for the new phone: privacyIDEA refuses its poll
    // ("Could not verify signature!"), the sign on which the app syncs a push token's container
    // (docs/containers.md, "After a push poll").
    let o = tw(&v, &["push", "poll", "--json"]);
    let said = format!("{}{}", stdout(&o), stderr(&o));
    assert!(said.contains("Could not verify signature"), "{said}");

    // ----- unregister allowed -----
    println!(
        "{:6.1} s: unregister allowed",
        suite.elapsed().as_secs_f64()
    );
    let r = ok_json(&v2, &["container", "unregister", &c1, "--json"]);
    assert_eq!(r["unregistered"], true);
    assert_eq!(ok_json(&v2, &["container", "list", "--json"]), json!([]));
    assert_eq!(ok_json(&v2, &["list", "--json"]), json!([]));
    assert_eq!(ok_json(&v2, &["push", "list", "--json"]), json!([]));
    let info = pi.admin_get(&format!("/container/?container_serial={c1}"));
    assert!(
        !info["result"]["value"]["containers"][0]["info"]
            .to_string()
            .contains("\"registered\"")
    );
    admin.drop_policy("container-rollover");

    // ----- passphrase QRs: the container's own, and the user store's -----
    println!(
        "{:6.1} s: passphrase QRs: the container's own, and the user store's",
        suite.elapsed().as_secs_f64()
    );
    let c2 = admin.container("erin");
    let t2 = admin.token("totp", "erin", &c2);
    let qr = admin.qr(
        json!({"container_serial": c2, "passphrase_prompt": "Your code word",
        "passphrase_response": "tulip"}),
    );
    let v3 = new_vault("passphrase");
    let before = std::fs::read(&v3).unwrap();
    let o = tw(&v3, &["container", "register", &qr]);
    let err = assert_error(&o, 1);
    assert!(err.contains("Your code word"), "{err}");
    let o = tw_env(
        &v3,
        &["container", "register", &qr],
        &[("TWOFOLD_CONTAINER_PASSPHRASE", "daisy")],
    );
    let err = assert_error(&o, 1);
    assert!(err.contains("3002"), "{err}");
    assert_eq!(
        std::fs::read(&v3).unwrap(),
        before,
        "a refused registration stores nothing"
    );
    let o = tw_env(
        &v3,
        &["container", "register", &qr, "--json"],
        &[("TWOFOLD_CONTAINER_PASSPHRASE", "tulip")],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(admin.validate(&t2, &code_of(&v3, &t2)));
    pi.admin_json(&format!("/container/register/{c2}/terminate"), json!({}));
    let qr = admin.qr(json!({"container_serial": c2, "passphrase_user": true}));
    let v4 = new_vault("user-store");
    let o = tw_env(
        &v4,
        &["container", "register", &qr, "--json"],
        &[("TWOFOLD_CONTAINER_PASSPHRASE", ERIN_PASSWORD)],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // The first vault's container was unregistered by the admin: its sync says so.
    let err = assert_error(&tw(&v3, &["container", "sync"]), 1);
    assert!(err.contains("failed"), "{err}");

    // ----- figures: register + first sync (median of 5), sync with 20 tokens -----
    println!(
        "{:6.1} s: figures: register + first sync (median of 5), sync with 20 tokens",
        suite.elapsed().as_secs_f64()
    );
    let mut register = Vec::new();
    for i in 0..5 {
        let c = admin.container("dave");
        admin.token("totp", "dave", &c);
        admin.token("hotp", "dave", &c);
        let qr = admin.qr(json!({"container_serial": c}));
        let vi = new_vault(&format!("figure-{i}"));
        let t = Instant::now();
        let r = ok_json(&vi, &["container", "register", &qr, "--json"]);
        register.push(t.elapsed().as_secs_f64());
        assert_eq!(r["sync"]["added"].as_array().unwrap().len(), 2);
    }
    let c20 = admin.container("dave");
    for _ in 0..20 {
        admin.token("totp", "dave", &c20);
    }
    let v20 = new_vault("twenty");
    let qr = admin.qr(json!({"container_serial": c20}));
    let t = Instant::now();
    let r = ok_json(&v20, &["container", "register", &qr, "--json"]);
    let first20 = t.elapsed().as_secs_f64();
    assert_eq!(r["sync"]["added"].as_array().unwrap().len(), 20);
    let mut sync20 = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let r = ok_json(&v20, &["container", "sync", "--json"]);
        sync20.push(t.elapsed().as_secs_f64());
        assert_eq!(r[0]["updated"].as_array().unwrap().len(), 20);
    }
    println!(
        "figures: register + first sync (TOTP + HOTP, CLI process, vault KDF minimum): median of 5 {:.3} s; \
         with a PUSH token (RSA-4096 key made): {first_with_push:.3} s; \
         20 tokens: register + first sync {first20:.3} s, sync median of 3 {:.3} s",
        median(&mut register),
        median(&mut sync20)
    );
    println!("container suite: {:.1} s", suite.elapsed().as_secs_f64());
    for dir in ["main", "second", "passphrase", "user-store", "twenty"]
        .into_iter()
        .map(String::from)
        .chain((0..5).map(|i| format!("figure-{i}")))
    {
        let vault =
            std::env::temp_dir().join(format!("twofold-container-{}-{dir}", std::process::id()));
        let _ = std::fs::remove_dir_all(vault);
    }
}

/// The serials of the tokens the server has in container `serial` (admin API).
fn server_container_tokens(pi: &PiServer, serial: &str) -> Vec<String> {
    let v = pi.admin_get(&format!("/container/?container_serial={serial}"));
    let mut s: Vec<String> = v["result"]["value"]["containers"][0]["tokens"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|t| t["serial"].as_str().unwrap().to_owned())
        .collect();
    s.sort();
    s
}

/// The policy `initially_add_tokens_to_container` (the initial transfer) against the real
/// server: the vault's own PUSH token (same server, by serial, automatic) and a TOTP the user
/// offers with `--offer` (by its next two codes) join the container at the first sync and
/// become managed; the TOTP keeps its secret and validates; the next sync offers nothing;
/// without the policy nothing extra is sent (the server's TOTP counter does not move).
#[test]
fn privacyidea_3_14_containers_initial_transfer() {
    if std::env::var_os("TWOFOLD_SKIP_PRIVACYIDEA").is_some() {
        println!(
            "SKIPPED privacyidea_3_14_containers_initial_transfer: TWOFOLD_SKIP_PRIVACYIDEA is set"
        );
        return;
    }
    let suite = Instant::now();
    let pi = PiServer::start().unwrap_or_else(|e| panic!("privacyIDEA fixture: {e}"));
    let admin = Admin(&pi);
    admin.configure();
    let step = |what: &str| println!("{:6.1} s: {what}", suite.elapsed().as_secs_f64());

    step("dave's PUSH token (enrolled here) and TOTP token (imported here), in no container");
    let v = new_vault("initial");
    let p = pi.admin_json(
        "/token/init",
        json!({"type": "push", "genkey": 1, "user": "dave", "realm": REALM, "pin": PIN}),
    );
    let push = p["detail"]["serial"].as_str().unwrap().to_owned();
    let o = tw(
        &v,
        &[
            "push",
            "enroll",
            p["detail"]["pushurl"]["value"].as_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let t = pi.admin_json(
        "/token/init",
        json!({"type": "totp", "genkey": 1, "user": "dave", "realm": REALM}),
    );
    let totp = t["detail"]["serial"].as_str().unwrap().to_owned();
    let o = tw(
        &v,
        &["add", t["detail"]["googleurl"]["value"].as_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let list = ok_json(&v, &["list", "--json"]);
    let totp_id = list[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(list[0]["container"], Value::Null);
    let count = |serial: &str| pi.token_info(serial)["count"].as_u64().unwrap();

    step("without the policy: --offer sends nothing, nothing joins");
    let c0 = admin.container("dave");
    let qr = admin.qr(json!({"container_serial": c0}));
    let count_before = count(&totp);
    let o = tw(
        &v,
        &["container", "register", &qr, "--offer", &totp_id, "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing offered"), "{}", stderr(&o));
    let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["policies"]["initially_add_tokens_to_container"], false);
    assert_eq!(r["sync"]["joined"], json!([]));
    assert_eq!(r["sync"]["updated"], json!([]));
    assert!(server_container_tokens(&pi, &c0).is_empty());
    // No OTP value reached the server: checking them would have moved the TOTP's counter.
    assert_eq!(count(&totp), count_before);
    assert!(open(&v).managed_push_account(&push).is_none());
    assert!(open(&v).managed_account(&totp_id).is_none());

    step("with the policy (realm containers): the first sync takes the PUSH and the offered TOTP");
    pi.admin_json(
        "/policy/container-initial",
        json!({"scope": "container", "action": "initially_add_tokens_to_container",
               "realm": REALM, "active": true, "priority": 1}),
    );
    let c1 = admin.container("dave");
    let qr = admin.qr(json!({"container_serial": c1}));
    let before = secrets(&v);
    let unknown = assert_error(
        &tw(&v, &["container", "register", &qr, "--offer", "no-such-id"]),
        1,
    );
    assert!(unknown.contains("no-such-id"), "{unknown}");
    let step_before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30;
    let t = Instant::now();
    let r = ok_json(
        &v,
        &["container", "register", &qr, "--offer", &totp_id, "--json"],
    );
    let took = t.elapsed().as_secs_f64();
    assert_eq!(r["policies"]["initially_add_tokens_to_container"], true);
    assert_eq!(r["sync"]["error"], Value::Null);
    assert_eq!(r["sync"]["added"], json!([]), "nothing re-keyed");
    let mut both = vec![push.clone(), totp.clone()];
    both.sort();
    assert_eq!(serials(&r["sync"]["joined"]), both);
    assert_eq!(serials(&r["sync"]["updated"]), both);
    // On the server: both in the container. Here: both managed, same secrets.
    assert_eq!(server_container_tokens(&pi, &c1), both);
    let vault = open(&v);
    assert_eq!(
        vault.managed_push_account(&push).unwrap().container.serial,
        c1
    );
    let (c, tok) = vault.managed_account(&totp_id).unwrap();
    assert_eq!(
        (c.container.serial.as_str(), tok.serial.as_str()),
        (c1.as_str(), totp.as_str())
    );
    assert_eq!(secrets(&v), before);
    let list = ok_json(&v, &["list", "--json"]);
    assert_eq!(list[0]["container"], c1.as_str());
    assert_eq!(list[0]["serial"], totp.as_str());
    // The server identified the TOTP by checking the two values, which marks them used (its
    // counter moved): the account validates with a later code (the server's window is 180 s).
    let used = count(&totp);
    println!("TOTP counter on the server: {count_before} before the offer, {used} after");
    // The second value's time step: the current step at the sync, plus one.
    assert!(
        (step_before + 1..=step_before + 2).contains(&used),
        "{used} vs step {step_before}"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let later = vault.account(&totp_id).unwrap().otp.code_at(now + 60);
    assert!(admin.validate(&totp, &later), "the TOTP keeps validating");
    // The PUSH token still answers a challenge.
    push_round_trip(&pi, &v, &push);

    step("the next sync offers nothing and keeps every secret");
    let count_now = count(&totp);
    let r = ok_json(&v, &["container", "sync", &c1, "--json"]);
    assert_eq!(r[0]["joined"], json!([]));
    assert_eq!(r[0]["added"], json!([]));
    assert_eq!(serials(&r[0]["updated"]), both);
    assert_eq!(count(&totp), count_now, "no OTP values sent again");
    assert_eq!(secrets(&v), before);
    println!(
        "figures: register + first sync with the initial transfer (PUSH + offered TOTP): {took:.3} s; \
         suite {:.1} s",
        suite.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(v.parent().unwrap());
}
