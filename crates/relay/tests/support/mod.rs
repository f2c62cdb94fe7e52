//! The relay's end-to-end fixtures: the real binary started with a config on a port the OS
//! chooses, stand-in push services on 127.0.0.1 (plain or TLS with HTTP/2), and the
//! independent implementations in a Python venv.

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use p256::pkcs8::EncodePrivateKey as _;
use serde_json::Value;

/// The relay binary, running; killed (SIGKILL, this PID only) when dropped.
pub struct Relay {
    child: Child,
    pub base: String,
    pub addr: SocketAddr,
    lines: mpsc::Receiver<String>,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Relay {
    /// Writes `config` as `relay.toml` into `dir` and starts the relay on it.
    pub fn start(dir: &Path, config: &str) -> Relay {
        let path = dir.join("relay.toml");
        std::fs::write(&path, config).unwrap();
        // TWOFOLD_RELAY_BIN: another build of the relay (a release build for the load figures).
        let bin = std::env::var_os("TWOFOLD_RELAY_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_twofold-relay")));
        let mut child = Command::new(bin)
            .arg("--config")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let mut relay = Relay {
            child,
            base: String::new(),
            addr: "0.0.0.0:0".parse().unwrap(),
            lines,
            log,
        };
        let line = relay.wait_for("listening on ");
        let addr: SocketAddr = line.rsplit(' ').next().unwrap().trim().parse().unwrap();
        relay.addr = addr;
        relay.base = format!("http://{addr}");
        relay
    }

    /// The next stderr line containing `needle` (a minute at most: a loaded machine).
    pub fn wait_for(&self, needle: &str) -> String {
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(e) => panic!(
                    "the relay never said {needle:?} ({e}); its log: {:?}",
                    self.log.lock().unwrap()
                ),
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// VmRSS from /proc/<pid>/status, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// The CPU time the relay has used (user + system), from /proc/<pid>/stat.
    pub fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        // After the command name in parentheses: state is field 3, utime 14, stime 15.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // USER_HZ is 100 on Linux.
        ticks as f64 / 100.0
    }

    /// Sends SIGTERM to the relay (its PID only).
    pub fn signal_term(&self) {
        let pid = rustix::process::Pid::from_raw(self.pid() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    }

    /// Waits for the relay to exit.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().unwrap()
    }
}

/// One request a stand-in received.
#[derive(Debug, Clone)]
pub struct Captured {
    pub method: Method,
    pub uri: Uri,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Captured {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }
}

/// A stand-in's answer.
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

/// An answer with a status and a body.
pub fn reply(status: StatusCode, body: impl Into<String>) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: body.into(),
    }
}

pub type Responder = Arc<dyn Fn(&Captured) -> Reply + Send + Sync>;

/// A stand-in push service on 127.0.0.1: each request is captured, then answered by the
/// responder (after a permit of `gate` when there is one).
pub struct StandIn {
    pub addr: SocketAddr,
    pub requests: tokio::sync::mpsc::UnboundedReceiver<Captured>,
    pub count: Arc<AtomicUsize>,
    pub gate: Option<Arc<tokio::sync::Semaphore>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub struct StandInOptions {
    pub responder: Responder,
    /// TLS with this certificate chain and PKCS#8 key, offering h2 and http/1.1 by ALPN.
    pub tls: Option<(Vec<u8>, Vec<u8>)>,
    pub gated: bool,
    /// Keep each request (off for the load test, which only counts).
    pub capture: bool,
}

impl StandIn {
    pub async fn start(options: StandInOptions) -> StandIn {
        let (tx, requests) = tokio::sync::mpsc::unbounded_channel();
        let count = Arc::new(AtomicUsize::new(0));
        let gate = options
            .gated
            .then(|| Arc::new(tokio::sync::Semaphore::new(0)));
        let (responder, capture, counted, gated) = (
            options.responder,
            options.capture,
            count.clone(),
            gate.clone(),
        );
        let router = Router::new().fallback(
            move |method: Method, uri: Uri, version: Version, headers: HeaderMap, body: Bytes| {
                let (responder, tx, counted, gated) = (
                    responder.clone(),
                    tx.clone(),
                    counted.clone(),
                    gated.clone(),
                );
                async move {
                    let captured = Captured {
                        method,
                        uri,
                        version,
                        headers,
                        body,
                    };
                    counted.fetch_add(1, Ordering::SeqCst);
                    let answer = responder(&captured);
                    if capture {
                        let _ = tx.send(captured);
                    }
                    if let Some(gate) = gated {
                        gate.acquire().await.unwrap().forget();
                    }
                    let mut response =
                        axum::response::IntoResponse::into_response((answer.status, answer.body));
                    for (name, value) in answer.headers {
                        response.headers_mut().insert(name, value.parse().unwrap());
                    }
                    response
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        match options.tls {
            None => {
                tokio::spawn(async move {
                    axum::serve(listener, router)
                        .with_graceful_shutdown(async move {
                            let _ = stopped.await;
                        })
                        .await
                        .unwrap();
                });
            }
            Some((cert, key)) => {
                use tokio_rustls::rustls;
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let mut config = rustls::ServerConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_no_client_auth()
                    .with_single_cert(
                        vec![cert.into()],
                        rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()),
                    )
                    .unwrap();
                config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
                let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
                tokio::spawn(async move {
                    let mut stopped = stopped;
                    loop {
                        let tcp = tokio::select! {
                            accepted = listener.accept() => match accepted {
                                Ok((tcp, _)) => tcp,
                                Err(_) => continue,
                            },
                            _ = &mut stopped => return,
                        };
                        let (acceptor, router) = (acceptor.clone(), router.clone());
                        tokio::spawn(async move {
                            let Ok(tls) = acceptor.accept(tcp).await else {
                                return;
                            };
                            let _ = hyper_util::server::conn::auto::Builder::new(
                                hyper_util::rt::TokioExecutor::new(),
                            )
                            .serve_connection(
                                hyper_util::rt::TokioIo::new(tls),
                                hyper_util::service::TowerToHyperService::new(router),
                            )
                            .await;
                        });
                    }
                });
            }
        }
        StandIn {
            addr,
            requests,
            count,
            gate,
            stop: Some(stop),
        }
    }

    /// A plain-HTTP stand-in that keeps each request.
    pub async fn plain(responder: Responder) -> StandIn {
        StandIn::start(StandInOptions {
            responder,
            tls: None,
            gated: false,
            capture: true,
        })
        .await
    }

    /// The next captured request (a minute at most).
    pub async fn next(&mut self) -> Captured {
        tokio::time::timeout(Duration::from_secs(60), self.requests.recv())
            .await
            .expect("a request to the stand-in")
            .unwrap()
    }
}

pub fn responder(f: impl Fn(&Captured) -> Reply + Send + Sync + 'static) -> Responder {
    Arc::new(f)
}

/// Sends a POST's head with `framing` (a `Content-Length` or `Transfer-Encoding` line) and
/// `body`, then waits, still sending nothing more, for the status line's code. What was sent
/// is all read by the relay when it answers, so its close cannot reset the answer away.
pub async fn post_raw(addr: SocketAddr, framing: &str, body: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /privacyidea/push HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "the relay closed without an answer");
        answer.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&answer);
    head.split(' ').nth(1).unwrap().parse().unwrap()
}

/// A P-256 key: (PKCS#8 PEM, its private scalar, its uncompressed public key).
pub fn p256_key() -> (String, [u8; 32], [u8; 65]) {
    loop {
        let mut d = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut d).unwrap();
        if let Ok(key) = p256::SecretKey::from_slice(&d) {
            let pem = key
                .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
                .unwrap()
                .to_string();
            let public: [u8; 65] = key
                .public_key()
                .to_sec1_bytes()
                .as_ref()
                .try_into()
                .unwrap();
            return (pem, d, public);
        }
    }
}

pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// A Web Push device: its token for the relay, and what the independent decryption needs.
pub struct Device {
    pub token: String,
    pub private: [u8; 32],
    pub auth: [u8; 16],
}

pub fn webpush_device(endpoint: &str) -> Device {
    let (_, private, public) = p256_key();
    let mut auth = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut auth).unwrap();
    let token = serde_json::json!({
        "v": 1, "kind": "webpush", "endpoint": endpoint, "p256dh": b64(&public), "auth": b64(&auth),
    })
    .to_string();
    Device {
        token,
        private,
        auth,
    }
}

/// A challenge as privacyIDEA signs it (the values are opaque to the relay).
pub fn challenge() -> Value {
    serde_json::json!({
        "nonce": "NONCE7XQ2",
        "question": "Sign in to 192.0.2.7 as alice? Ünïcode ✓",
        "serial": "PIPU0001",
        "title": "privacyIDEA",
        "sslverify": "1",
        "url": "https://pi.example.org/ttype/push",
        "signature": "SIGNATUREBASE32==",
    })
}

const REQUIREMENTS: &str = include_str!("../requirements.txt");
static VENV: Mutex<()> = Mutex::new(());

/// The venv with the independent implementations (`tests/requirements.txt`), made once under
/// the target directory and reused while the pins stay the same.
pub fn venv() -> Result<PathBuf, String> {
    let _held = VENV.lock().unwrap_or_else(|p| p.into_inner());
    // The crate root provides `venv` (tests/venv.rs), once per test binary.
    crate::venv::pinned_venv("relay-venv", REQUIREMENTS).map(|(venv, _)| venv)
}

/// Runs `tests/independent.py` on a list of tasks.
pub fn independent(venv: &Path, tasks: Value) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent.py");
    let mut child = Command::new(venv.join("bin/python"))
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(tasks.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the independent check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

/// A VAPID key for a config: writes `vapid.pem`, returns the public key.
pub fn write_vapid(dir: &Path) -> [u8; 65] {
    let (pem, _, public) = p256_key();
    std::fs::write(dir.join("vapid.pem"), pem).unwrap();
    public
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

/// POSTs one gateway request to the relay: (status, JSON reply).
pub async fn push(
    client: &reqwest::Client,
    relay: &str,
    device_token: &str,
    data: &Value,
) -> (u16, Value) {
    let response = client
        .post(format!("{relay}/privacyidea/push"))
        .header("content-type", "application/json")
        .body(serde_json::json!({"device_token": device_token, "data": data}).to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}
