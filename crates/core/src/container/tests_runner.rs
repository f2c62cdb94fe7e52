//! The runner's rule for what is saved when a step fails, over a stand-in privacyIDEA (the
//! sync reply encrypted for the phone's X25519 key with AES-256-GCM and a 16-byte IV, as
//! privacyIDEA 3.14 does) and a real vault file saved through `vault::store`.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::json;
use zeroize::Zeroizing;

use super::*;
use crate::clock::FixedClock;
use crate::push::privacyidea::EnrolError;
use crate::push::{KeyError, Request};
use crate::rng::SystemRng;
use crate::vault::file::{self, Backup, FileError, Fingerprint};
use crate::vault::store::{self, RefreshError, Save};
use crate::vault::{KdfParams, Vault, VaultError};

const QR: &str = "pia://container/SMPH0008F19E?issuer=privacyIDEA&ttl=10&nonce=8e1afc836697758b55388f9f441d256097c976f9&time=2026-12-01T21%3A17%3A26.235976%2B00%3A00&url=http%3A//127.0.0.1%3A5066/&serial=SMPH0008F19E&key_algorithm=secp384r1&hash_algorithm=SHA256&ssl_verify=False&passphrase=&send_passphrase=False";
const SERIAL: &str = "SMPH0008F19E";
const NOW: u64 = 1_796_159_846 + 5; // 2026-12-01T21:17:31Z
/// A PUSH token of the container's own server (enrolled through `/ttype/push`).
const PUSH: &str = "otpauth://pipush/PIPU0001?url=http%3A//127.0.0.1%3A5066/ttype/push&ttl=10&issuer=privacyIDEA&enrollment_credential=9a1c1e4bd1e1f0b2&v=1&serial=PIPU0001&sslverify=0&poll_only=True";
const TOKEN: &str = "otpauth://totp/TOTP0001?secret=JBSWY3DPEHPK3PXP&issuer=ACME&serial=TOTP0001";

#[derive(Debug)]
enum TestError {
    Container(ContainerError),
    /// Read by `Debug` when a test fails.
    Other(#[allow(dead_code)] String),
}

impl From<ContainerError> for TestError {
    fn from(e: ContainerError) -> Self {
        TestError::Container(e)
    }
}
macro_rules! other {
    ($($t:ty),*) => {$(
        impl From<$t> for TestError {
            fn from(e: $t) -> Self {
                TestError::Other(e.to_string())
            }
        }
    )*};
}
other!(VaultError, EnrolError, KeyError, FileError, RefreshError);

/// The stand-in server: what it answers, and a hook run when the sync request arrives (the
/// vault's writer lock is not held then: another program may save).
#[derive(Default)]
struct Server {
    /// The client policies it sends.
    policies: serde_json::Value,
    /// Forget the container right after finalizing it (an administrator deleted it).
    forget_after_finalize: bool,
    /// Every request but a finalize answers ERR3001: the container is not registered.
    forgotten: bool,
    on_sync: Option<Box<dyn FnOnce()>>,
    /// The sync's `add` list (`[TOKEN]` when empty).
    adds: Vec<&'static str>,
    paths: Vec<String>,
    /// The `fbtoken` of each PUSH enrolment (`POST /ttype/push`).
    fbtokens: Vec<String>,
}

fn ok(value: serde_json::Value) -> Vec<u8> {
    json!({"result": {"status": true, "value": value}})
        .to_string()
        .into_bytes()
}

impl Server {
    fn answer(&mut self, request: &Request) -> Vec<u8> {
        let path = request.url.trim_start_matches("http://127.0.0.1:5066");
        self.paths.push(path.to_owned());
        let param = |k: &str| {
            request
                .params
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        match path {
            "/container/register/finalize" => {
                self.forgotten = self.forget_after_finalize;
                ok(json!({"policies": self.policies}))
            }
            _ if self.forgotten => json!({"result": {"status": false,
                "error": {"code": 3001, "message": "ERR3001: Container is not registered."}}})
            .to_string()
            .into_bytes(),
            "/container/challenge" => ok(json!({"enc_key_algorithm": "x25519", "nonce": "n1",
                "time_stamp": "2026-12-01T21:17:30.000000+00:00", "transaction_id": "1"})),
            "/container/synchronize" => {
                if let Some(hook) = self.on_sync.take() {
                    hook();
                }
                let client: [u8; 32] = B64
                    .decode(param("public_enc_key_client"))
                    .unwrap()
                    .try_into()
                    .unwrap();
                let adds = if self.adds.is_empty() {
                    vec![TOKEN]
                } else {
                    self.adds.clone()
                };
                let plain = json!({"container": {"serial": SERIAL},
                    "tokens": {"add": adds, "update": []}})
                .to_string();
                let server = x25519_dalek::StaticSecret::from([7u8; 32]);
                let shared = server.diffie_hellman(&x25519_dalek::PublicKey::from(client));
                let cipher =
                    AesGcm::<Aes256, aes_gcm::aead::consts::U16>::new_from_slice(shared.as_bytes())
                        .unwrap();
                let iv = [9u8; 16];
                let nonce = Nonce::<aes_gcm::aead::consts::U16>::try_from(&iv[..]).unwrap();
                let mut buf = plain.into_bytes();
                let tag = cipher
                    .encrypt_inout_detached(&nonce, &[], buf.as_mut_slice().into())
                    .unwrap();
                ok(json!({
                    "container_dict_server": B64.encode(&buf),
                    "encryption_params": {"algorithm": "AES", "mode": "GCM",
                        "init_vector": B64.encode(iv), "tag": B64.encode(tag)},
                    "public_server_key":
                        B64.encode(x25519_dalek::PublicKey::from(&server).as_bytes()),
                    "policies": self.policies,
                }))
            }
            "/ttype/push" => {
                self.fbtokens.push(param("fbtoken"));
                json!({"result": {"status": false,
                "error": {"code": 905, "message": "ERR905: the enrolment is refused"}}})
                .to_string()
                .into_bytes()
            }
            _ => panic!("unexpected request {path}"),
        }
    }
}

/// A front end over a real vault file: its changes go through `vault::store::change`.
struct Front {
    path: PathBuf,
    vault: Vault,
    loaded: Option<Fingerprint>,
    server: RefCell<Server>,
}

impl Host for Front {
    type Error = TestError;
    fn check_url(&self, _url: &str) -> Result<(), TestError> {
        Ok(())
    }
    fn send(&self, request: &Request) -> Result<Response, TestError> {
        Ok(Response {
            status: 200,
            body: self.server.borrow_mut().answer(request),
        })
    }
    fn passphrase(&mut self, prompt: &str) -> Result<Zeroizing<String>, TestError> {
        Err(ContainerError::PassphraseRequired(prompt.to_owned()).into())
    }
    fn read<T>(&self, read: impl FnOnce(&Vault) -> T) -> Result<T, TestError> {
        Ok(read(&self.vault))
    }
    fn change<T>(
        &mut self,
        apply: impl FnOnce(&mut Vault) -> Result<T, TestError>,
    ) -> Result<T, TestError> {
        store::change(
            &self.path,
            Duration::from_secs(30),
            &mut self.vault,
            &mut self.loaded,
            &SystemRng::new(),
            None,
            |v| Ok((apply(v)?, Save::Yes(Backup::KeepPrevious))),
        )
        .map(|changed| changed.value)
    }
}

fn policies(unregister: bool) -> serde_json::Value {
    json!({"container_client_rollover": true, "initially_add_tokens_to_container": false,
        "disable_client_token_deletion": false, "disable_client_container_unregister": !unregister})
}

/// A new vault file in its own directory, and a front end that opened it.
fn front(name: &str, server: Server) -> Front {
    let dir = std::env::temp_dir().join(format!("twofold-runner-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("vault.json");
    let rng = SystemRng::new();
    let created = Vault::create(b"pw", KdfParams::MIN, &rng).unwrap();
    file::write_atomic(&path, &created.to_bytes(&rng).unwrap(), true).unwrap();
    let (vault, loaded) = reopen(&path);
    Front {
        path,
        vault,
        loaded: Some(loaded),
        server: RefCell::new(server),
    }
}

/// The vault as the file holds it now.
fn reopen(path: &Path) -> (Vault, Fingerprint) {
    let (bytes, loaded) = file::read_fingerprinted(path).unwrap();
    (Vault::open(&bytes, b"pw").unwrap(), loaded)
}

fn server() -> Server {
    Server {
        policies: policies(false),
        ..Server::default()
    }
}

/// The hole of the old CLI: a failed first sync lost that the server no longer knows the
/// container. Now the registration is saved before the sync, and the server's "not
/// registered" at once: unregistering is no longer refused.
#[test]
fn a_first_sync_the_server_refuses_keeps_the_registration_and_that_it_is_gone() {
    let rng = SystemRng::new();
    let clock = FixedClock(NOW);
    let mut s = server();
    s.forget_after_finalize = true;
    let mut runner = Runner::new(front("gone", s), &clock, &rng);
    let registration = Registration::parse(QR, NOW).unwrap();
    let done = runner.register(registration, None, &[]).unwrap();
    let err = done.sync.unwrap_err();
    assert!(
        matches!(&err, TestError::Container(e) if e.is_unregistered()),
        "{err:?}"
    );
    let front = runner.into_host();
    assert_eq!(
        front.server.borrow().paths,
        ["/container/register/finalize", "/container/challenge"]
    );
    let (saved, _) = reopen(&front.path);
    let c = saved.container(SERIAL).expect("the registration is kept");
    assert!(!c.container.policies.disable_client_container_unregister);
    assert!(c.tokens.is_empty());

    // And so it can be unregistered here: the server has nothing left to refuse.
    let mut runner = Runner::new(front, &clock, &rng);
    let removed = runner.unregister(SERIAL).unwrap();
    assert_eq!(removed.container.serial, SERIAL);
    let (saved, _) = reopen(&runner.into_host().path);
    assert!(saved.containers().is_empty());
}

/// The hole of the old CLI: another program's save while a container sync waited for the
/// server made the sync's save fail ("run the command again"). The runner's changes go through
/// `vault::store::change`: the sync's tokens land on top of the other save.
#[test]
fn a_save_by_another_writer_during_a_sync_is_built_on() {
    let rng = SystemRng::new();
    let clock = FixedClock(NOW);
    let front = front("concurrent", server());
    let path = front.path.clone();
    let other = path.clone();
    front.server.borrow_mut().on_sync = Some(Box::new(move || {
        let (mut vault, loaded) = reopen(&other);
        let rng = SystemRng::new();
        let account =
            crate::uri::parse("otpauth://totp/Other:bob?secret=JBSWY3DPEHPK3PXP&issuer=Other")
                .unwrap();
        store::change(
            &other,
            Duration::from_secs(30),
            &mut vault,
            &mut Some(loaded),
            &rng,
            None,
            |v| Ok::<_, TestError>((v.add(account, NOW, &rng)?, Save::Yes(Backup::KeepPrevious))),
        )
        .unwrap();
    }));
    let mut runner = Runner::new(front, &clock, &rng);
    let registration = Registration::parse(QR, NOW).unwrap();
    let done = runner.register(registration, None, &[]).unwrap();
    let report = done.sync.unwrap();
    assert_eq!(report.added, [("TOTP0001".to_owned(), "totp".to_owned())]);
    let (saved, _) = reopen(&path);
    let mut names: Vec<&str> = saved
        .accounts()
        .iter()
        .map(|a| a.otp.name.as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["TOTP0001", "bob"]);
    assert_eq!(saved.container(SERIAL).unwrap().tokens.len(), 1);
    // The front end's own copy is the saved one too.
    assert_eq!(runner.host().vault.accounts().len(), 2);
}

/// A sync's token changes are all or nothing: a PUSH token it brings that cannot be enrolled
/// keeps the TOTP token of the same reply out of the vault too (the registration stays).
#[test]
fn a_sync_whose_push_enrolment_fails_changes_no_token() {
    let rng = SystemRng::new();
    let clock = FixedClock(NOW);
    let mut s = server();
    s.adds = vec![TOKEN, PUSH];
    let mut runner = Runner::new(front("push-refused", s), &clock, &rng);
    let registration = Registration::parse(QR, NOW).unwrap();
    let done = runner.register(registration, None, &[]).unwrap();
    let err = done.sync.unwrap_err();
    assert!(
        matches!(&err, TestError::Other(m) if m.contains("ERR905")),
        "{err:?}"
    );
    let front = runner.into_host();
    assert_eq!(
        front.server.borrow().paths,
        [
            "/container/register/finalize",
            "/container/challenge",
            "/container/synchronize",
            "/ttype/push"
        ]
    );
    // No device token in this vault: the token is enrolled poll-only.
    assert_eq!(front.server.borrow().fbtokens, ["no_firebase_token"]);
    let (saved, _) = reopen(&front.path);
    let c = saved.container(SERIAL).expect("the registration is kept");
    assert!(c.tokens.is_empty());
    assert_eq!(c.container.last_sync, None);
    assert!(saved.accounts().is_empty());
    assert!(saved.push_accounts().is_empty());
}

/// A PUSH token a container brings is enrolled as a scanned one is: with this device's push
/// device token as its `fbtoken` (docs/relay.md) when the vault has one, so sign-ins reach
/// the closed app; without one, poll-only (`a_sync_whose_push_enrolment_fails_changes_no_token`).
#[test]
fn a_containers_push_token_is_enrolled_with_this_devices_push_token() {
    let rng = SystemRng::new();
    let clock = FixedClock(NOW);
    let mut s = server();
    s.adds = vec![PUSH];
    let mut f = front("push-token", s);
    let connection = f
        .vault
        .ensure_push_registration(&rng)
        .unwrap()
        .0
        .connection()
        .to_owned();
    f.vault
        .set_push_endpoint(&connection, "https://push.example.org/up/AbC123")
        .unwrap();
    file::write_atomic(&f.path, &f.vault.to_bytes(&rng).unwrap(), false).unwrap();
    let (vault, loaded) = reopen(&f.path);
    f.vault = vault;
    f.loaded = Some(loaded);
    let token = f.vault.push_device_token().expect("a device token");
    let mut runner = Runner::new(f, &clock, &rng);
    let registration = Registration::parse(QR, NOW).unwrap();
    let done = runner.register(registration, None, &[]).unwrap();
    assert!(done.sync.is_err(), "the stand-in refuses the enrolment");
    assert_eq!(runner.into_host().server.borrow().fbtokens, [token]);
}
