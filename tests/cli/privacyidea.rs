//! A real privacyIDEA 3.14 on loopback for the push tests: a venv with the pinned release
//! (`tests/privacyidea/requirements.txt`, cached under the target directory so later runs
//! start in seconds), `pi.cfg` with SQLite as `docs/privacyidea.md` describes,
//! `pi-manage run` on a free 127.0.0.1 port, configured over its REST API, and killed by PID
//! when the fixture is dropped (also when a test panics).

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "../venv.rs"]
pub mod venv;
use venv::{pinned_venv, run};

const REQUIREMENTS: &str = include_str!("../privacyidea/requirements.txt");
pub const ADMIN_PASSWORD: &str = "admin-test-password";
pub const PIN: &str = "1234";
pub const REALM: &str = "twofold";

pub struct PiServer {
    pub base: String,
    pub dir: PathBuf,
    child: Child,
    client: reqwest::blocking::Client,
    token: String,
}

impl Drop for PiServer {
    fn drop(&mut self) {
        // Child::kill sends SIGKILL to exactly this PID.
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Kept after a failure: its server.log and privacyidea.log tell what happened.
        if std::thread::panicking() {
            eprintln!("privacyIDEA's files and logs: {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Held while the venv and the server template are checked or made.
static SETUP: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The venv with privacyIDEA, made once and reused while the pinned requirements stay the same;
/// a new venv makes the server template again.
fn venv() -> Result<PathBuf, String> {
    let (venv, made) = pinned_venv("privacyidea-3.14", REQUIREMENTS)?;
    if made {
        let _ = std::fs::remove_dir_all(venv.with_file_name("template"));
    }
    Ok(venv)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    twofold_core::rng::Rng::fill(&twofold_core::rng::SystemRng::new(), &mut b).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The files of a set-up server (database with the admin, keys) that each run copies.
const TEMPLATE_FILES: [&str; 5] = [
    "data.sqlite",
    "enckey",
    "audit-private.pem",
    "audit-public.pem",
    "secrets",
];

fn write_config(dir: &Path, port: u16, secret_key: &str, pepper: &str) -> Result<PathBuf, String> {
    let d = dir.display();
    let cfg = dir.join("pi.cfg");
    std::fs::write(
        &cfg,
        format!(
            "SUPERUSER_REALM = ['super']\n\
             SQLALCHEMY_DATABASE_URI = 'sqlite:///{d}/data.sqlite'\n\
             SECRET_KEY = '{secret_key}'\n\
             PI_PEPPER = '{pepper}'\n\
             PI_ENCFILE = '{d}/enckey'\n\
             PI_AUDIT_KEY_PRIVATE = '{d}/audit-private.pem'\n\
             PI_AUDIT_KEY_PUBLIC = '{d}/audit-public.pem'\n\
             PI_LOGFILE = '{d}/privacyidea.log'\n\
             PI_LOGLEVEL = 20\n\
             PI_BASE_URL = 'http://127.0.0.1:{port}'\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    Ok(cfg)
}

/// A set-up server (`pi-manage setup ...`, the admin), made once per venv: each run copies it
/// instead of spending half a minute in `pi-manage`.
fn template(venv: &Path) -> Result<PathBuf, String> {
    let dir = venv.with_file_name("template");
    if dir.join("ready").is_file() {
        return Ok(dir);
    }
    let started = Instant::now();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (secret_key, pepper) = (random_hex(24), random_hex(24));
    std::fs::write(dir.join("secrets"), format!("{secret_key} {pepper}\n"))
        .map_err(|e| e.to_string())?;
    let cfg = write_config(&dir, 0, &secret_key, &pepper)?;
    let manage = venv.join("bin/pi-manage");
    for args in [
        &["setup", "create_enckey"][..],
        &["setup", "create_audit_keys"],
        &["setup", "create_tables"],
        &["admin", "add", "admin", "-p", ADMIN_PASSWORD],
    ] {
        run(
            Command::new(&manage)
                .args(args)
                .env("PRIVACYIDEA_CONFIGFILE", &cfg),
            &format!("pi-manage {}", args[..2].join(" ")),
        )?;
    }
    std::fs::write(dir.join("ready"), "").map_err(|e| e.to_string())?;
    println!(
        "privacyIDEA set up (tables, keys, admin) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(dir)
}

impl PiServer {
    /// Installs (first time), sets up and starts privacyIDEA; waits for `/healthz/`.
    pub fn start() -> Result<PiServer, String> {
        // The push and the container suites start servers in parallel: the venv and the
        // template are made by one of them, the other waits (a fresh machine has neither).
        let (venv, template) = {
            let _one = SETUP
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let venv = venv()?;
            let template = template(&venv)?;
            (venv, template)
        };
        let port = free_port();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("privacyidea-run-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        for f in TEMPLATE_FILES {
            std::fs::copy(template.join(f), dir.join(f))
                .map_err(|e| format!("copy {f} from the set-up template: {e}"))?;
        }
        let secrets =
            std::fs::read_to_string(template.join("secrets")).map_err(|e| e.to_string())?;
        let (secret_key, pepper) = secrets
            .trim()
            .split_once(' ')
            .ok_or("bad template secrets")?;
        let cfg = write_config(&dir, port, secret_key, pepper)?;
        let manage = venv.join("bin/pi-manage");
        let pi = |args: &[&str]| {
            let mut c = Command::new(&manage);
            c.args(args).env("PRIVACYIDEA_CONFIGFILE", &cfg);
            c
        };
        let log = std::fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?;
        let child = pi(&[
            "run",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "--no-reload",
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("pi-manage run: {e}"))?;
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        let mut server = PiServer {
            base: format!("http://127.0.0.1:{port}"),
            dir,
            child,
            client,
            token: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let up = server
                .client
                .get(format!("{}/healthz/", server.base))
                .send()
                .is_ok_and(|r| r.status().is_success());
            if up {
                break;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "pi-manage run exited ({status}); see {}",
                    server.dir.join("server.log").display()
                ));
            }
            if Instant::now() > deadline {
                return Err("privacyIDEA did not answer /healthz/ within 120 s".into());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let auth = server.form(
            "/auth",
            &[("username", "admin"), ("password", ADMIN_PASSWORD)],
        );
        server.token = auth["result"]["value"]["token"]
            .as_str()
            .ok_or_else(|| format!("no admin token: {auth}"))?
            .to_owned();
        Ok(server)
    }

    fn read(resp: reqwest::blocking::Response) -> Value {
        let text = resp.text().expect("a reply body");
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    }

    /// POST form-encoded, as a login page or the admin UI does; the admin token is sent once known.
    pub fn form(&self, path: &str, fields: &[(&str, &str)]) -> Value {
        let mut r = self
            .client
            .post(format!("{}{path}", self.base))
            .form(fields);
        if !self.token.is_empty() {
            r = r.header("PI-Authorization", &self.token);
        }
        Self::read(r.send().expect("privacyIDEA answers"))
    }

    /// POST JSON with the admin token; panics unless `result.status` is true.
    pub fn admin_json(&self, path: &str, body: Value) -> Value {
        let v = Self::read(
            self.client
                .post(format!("{}{path}", self.base))
                .header("PI-Authorization", &self.token)
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .send()
                .expect("privacyIDEA answers"),
        );
        assert_eq!(v["result"]["status"], true, "{path}: {v}");
        v
    }

    /// GET with the admin token.
    pub fn admin_get(&self, path: &str) -> Value {
        Self::read(
            self.client
                .get(format!("{}{path}", self.base))
                .header("PI-Authorization", &self.token)
                .send()
                .expect("privacyIDEA answers"),
        )
    }

    /// DELETE with the admin token; panics unless `result.status` is true.
    pub fn admin_delete(&self, path: &str) -> Value {
        let v = Self::read(
            self.client
                .delete(format!("{}{path}", self.base))
                .header("PI-Authorization", &self.token)
                .send()
                .expect("privacyIDEA answers"),
        );
        assert_eq!(v["result"]["status"], true, "{path}: {v}");
        v
    }

    /// A GET without authentication (`/validate/polltransaction`).
    pub fn get(&self, path: &str) -> Value {
        Self::read(
            self.client
                .get(format!("{}{path}", self.base))
                .send()
                .expect("privacyIDEA answers"),
        )
    }

    /// Users alice, bob, carol in a flat-file realm; push policies (poll only, no TLS
    /// check on loopback HTTP); number matching for bob, code to phone for carol.
    pub fn configure(&self) {
        let passwd = self.dir.join("users");
        let mut f = std::fs::File::create(&passwd).unwrap();
        for (i, u) in ["alice", "bob", "carol"].iter().enumerate() {
            writeln!(f, "{u}:x:{}:{}:{u}:/home/{u}:/bin/sh", 1001 + i, 1001 + i).unwrap();
        }
        self.admin_json(
            "/resolver/users",
            json!({"type": "passwdresolver", "fileName": passwd.display().to_string()}),
        );
        self.admin_json(&format!("/realm/{REALM}"), json!({"resolvers": "users"}));
        self.admin_json(&format!("/defaultrealm/{REALM}"), json!({}));
        let url = format!("{}/ttype/push", self.base);
        self.policy(
            "push-enrol",
            "enrollment",
            &format!(
                "push_firebase_configuration=poll only, push_registration_url={url}, push_ttl=10, push_ssl_verify=0"
            ),
            None,
        );
        self.policy(
            "push-auth",
            "authentication",
            "push_text_on_mobile=Sign-in to {ua_browser} from {client_ip} at {time}, \
             push_title_on_mobile=Twofold test, push_ssl_verify=0, push_allow_polling=allow",
            None,
        );
        self.policy(
            "push-number-matching",
            "authentication",
            "push_require_presence, push_presence_options=NUMERIC, push_presence_num_options=3",
            Some("bob"),
        );
        self.policy(
            "push-code-to-phone",
            "authentication",
            "push_code_to_phone",
            Some("carol"),
        );
    }

    fn policy(&self, name: &str, scope: &str, action: &str, user: Option<&str>) {
        let mut p = json!({"scope": scope, "action": action, "realm": "", "active": true});
        if let Some(u) = user {
            p["user"] = json!(u);
        }
        self.admin_json(&format!("/policy/{name}"), p);
    }

    /// Server-wide configuration (`/system/setConfig`).
    pub fn set_config(&self, key: &str, value: &str) {
        self.admin_json("/system/setConfig", json!({ key: value }));
    }

    /// A new push token for `user`: its enrolment QR text and serial.
    pub fn enrol_token(&self, user: &str) -> (String, String) {
        let v = self.form(
            "/token/init",
            &[
                ("type", "push"),
                ("genkey", "1"),
                ("user", user),
                ("realm", REALM),
                ("pin", PIN),
            ],
        );
        let qr = v["detail"]["pushurl"]["value"]
            .as_str()
            .unwrap_or_else(|| panic!("{v}"));
        let serial = v["detail"]["serial"].as_str().unwrap();
        (qr.to_owned(), serial.to_owned())
    }

    /// The token's admin view (`/token/?serial=`).
    /// privacyIDEA's HTTP gateway to a twofold-relay at `relay` (docs/relay.md, step by step),
    /// with the relay's bearer token when it asks for one, and the enrolment policy naming it
    /// instead of `poll only`.
    pub fn relay_gateway(&self, relay: &str, bearer: Option<&str>) {
        let mut gateway = json!({
            "name": "twofold-relay",
            "module": "privacyidea.lib.smsprovider.HttpSMSProvider.HttpSMSProvider",
            "option.URL": format!("{relay}/privacyidea/push"),
            "option.HTTP_METHOD": "POST",
            "option.SEND_DATA_AS_JSON": "yes",
            "option.ALLOW_PUSH": "yes",
            "option.TIMEOUT": "25",
            "option.device_token": "{phone}",
            "option.data": "{message}",
        });
        if let Some(b) = bearer {
            gateway["header.Authorization"] = json!(format!("Bearer {b}"));
        }
        self.admin_json("/smsgateway", gateway);
        self.policy(
            "push-enrol",
            "enrollment",
            &format!(
                "push_firebase_configuration=twofold-relay, push_registration_url={}/ttype/push, push_ttl=10, push_ssl_verify=0",
                self.base
            ),
            None,
        );
    }

    /// The admin's JWT (the `PI-Authorization` header), for a test that asks the server itself.
    pub fn admin_token(&self) -> &str {
        &self.token
    }

    pub fn token_info(&self, serial: &str) -> Value {
        let v = self.admin_get(&format!("/token/?serial={serial}"));
        v["result"]["value"]["tokens"][0].clone()
    }

    /// A login page's first step: user and PIN -> the transaction id (and the whole reply).
    pub fn trigger(&self, user: &str) -> (String, Value) {
        let v = self.form("/validate/check", &[("user", user), ("pass", PIN)]);
        let tx = v["detail"]["transaction_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no challenge triggered: {v}"));
        (tx.to_owned(), v)
    }

    /// `detail.challenge_status` of `/validate/polltransaction`.
    pub fn challenge_status(&self, tx: &str) -> String {
        let v = self.get(&format!("/validate/polltransaction?transaction_id={tx}"));
        v["detail"]["challenge_status"]
            .as_str()
            .unwrap_or_else(|| panic!("{v}"))
            .to_owned()
    }

    /// A login page's last step: `result.authentication` (ACCEPT, REJECT, ...).
    pub fn finalize(&self, user: &str, pass: &str, tx: &str) -> String {
        let v = self.form(
            "/validate/check",
            &[("user", user), ("pass", pass), ("transaction_id", tx)],
        );
        v["result"]["authentication"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}
