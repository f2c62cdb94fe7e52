//! UnifiedPush on Linux desktops, over D-Bus (spec DBUS_0.3.0,
//! <https://unifiedpush.org/developers/spec/dbus/>), with `zbus` (already Tauri's notification
//! library's D-Bus crate):
//!
//! - the app owns its name (`app.twofold.authenticator`) on the session bus and exports
//!   `org.unifiedpush.Connector1` at `/org/unifiedpush/Connector`: `Message(s token, ay message,
//!   s id)`, `NewEndpoint(s token, s endpoint)`, `Unregistered(s token)`, each handed to
//!   [`crate::push::delivery::handle`] on a thread of its own (the distributor does not wait);
//! - a distributor is any bus name starting `org.unifiedpush.Distributor.` (running or
//!   activatable; the first in sorted order when several are installed), called at
//!   `/org/unifiedpush/Distributor`, `org.unifiedpush.Distributor1.Register(s service, s token,
//!   s description) → (s result, s reason)`; `REGISTRATION_SUCCEEDED` or a refusal.
//!
//! The `unifiedpush` crates on crates.io are Android-only or unmaintained wrappers; the D-Bus
//! side is three methods, written here on the maintained `zbus`.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use crate::push::delivery::{Distributor, DistributorError, Incoming};

/// The app's bus name (its Tauri identifier: the spec asks for the application id).
pub const APP_ID: &str = "app.twofold.authenticator";
const CONNECTOR_PATH: &str = "/org/unifiedpush/Connector";
const DISTRIBUTOR_PATH: &str = "/org/unifiedpush/Distributor";
const DISTRIBUTOR_PREFIX: &str = "org.unifiedpush.Distributor.";
const DISTRIBUTOR_INTERFACE: &str = "org.unifiedpush.Distributor1";
/// The spec's longest connection token.
const MAX_TOKEN_BYTES: usize = 100;
/// The longest endpoint taken (a device token holds it, capped at 2,048 bytes in all).
const MAX_ENDPOINT_BYTES: usize = 1500;
/// What the user sees in the distributor's list of registered apps.
const DESCRIPTION: &str = "Twofold: sign-in requests";
/// How long a call to the distributor may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The connector object the distributor calls.
struct Connector {
    tx: Sender<Incoming>,
}

#[zbus::interface(name = "org.unifiedpush.Connector1")]
impl Connector {
    /// A pushed message; anything over a Web Push message's size is dropped unread.
    fn message(&self, token: String, message: Vec<u8>, _id: String) {
        if token.len() <= MAX_TOKEN_BYTES
            && message.len() <= twofold_core::push::webpush::MAX_MESSAGE_BYTES
        {
            let _ = self.tx.send(Incoming::Message {
                connection: token,
                body: message,
            });
        }
    }

    /// The registration's endpoint (after registering, or changed).
    fn new_endpoint(&self, token: String, endpoint: String) {
        if token.len() <= MAX_TOKEN_BYTES && endpoint.len() <= MAX_ENDPOINT_BYTES {
            let _ = self.tx.send(Incoming::NewEndpoint {
                connection: token,
                endpoint,
            });
        }
    }

    /// The distributor dropped the registration (or confirms an unregistration).
    fn unregistered(&self, token: String) {
        if token.len() <= MAX_TOKEN_BYTES {
            let _ = self.tx.send(Incoming::Unregistered { connection: token });
        }
    }
}

/// The session bus with the connector exported.
pub struct UnifiedPush {
    conn: zbus::blocking::Connection,
}

/// The session bus cannot be used (no bus, or another Twofold owns the name).
pub struct NoBus(pub String);

impl Distributor for NoBus {
    fn register(&self, _connection: &str) -> Result<String, DistributorError> {
        Err(DistributorError::Unreachable(self.0.clone()))
    }
}

fn bus_error(e: zbus::Error) -> DistributorError {
    DistributorError::Unreachable(e.to_string())
}

impl UnifiedPush {
    /// Connects to the session bus, exports the connector and owns the app's name; what the
    /// distributor calls arrives on the returned receiver.
    pub fn connect() -> Result<(UnifiedPush, Receiver<Incoming>), DistributorError> {
        Self::connect_with(zbus::blocking::connection::Builder::session().map_err(bus_error)?)
    }

    fn connect_with(
        builder: zbus::blocking::connection::Builder<'_>,
    ) -> Result<(UnifiedPush, Receiver<Incoming>), DistributorError> {
        let (tx, rx) = channel();
        let conn = builder
            .method_timeout(CALL_TIMEOUT)
            .serve_at(CONNECTOR_PATH, Connector { tx })
            .map_err(bus_error)?
            .name(APP_ID)
            .map_err(bus_error)?
            .build()
            .map_err(bus_error)?;
        Ok((UnifiedPush { conn }, rx))
    }

    /// The distributors on the bus, running or activatable, sorted.
    fn distributors(&self) -> Result<Vec<String>, DistributorError> {
        let dbus = zbus::blocking::fdo::DBusProxy::new(&self.conn).map_err(bus_error)?;
        let running = dbus
            .list_names()
            .map_err(|e| DistributorError::Unreachable(e.to_string()))?;
        let activatable = dbus.list_activatable_names().unwrap_or_default();
        let mut names: Vec<String> = running
            .iter()
            .chain(activatable.iter())
            .map(|n| n.to_string())
            .filter(|n| n.starts_with(DISTRIBUTOR_PREFIX))
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
}

impl Distributor for UnifiedPush {
    fn register(&self, connection: &str) -> Result<String, DistributorError> {
        let name = self
            .distributors()?
            .into_iter()
            .next()
            .ok_or(DistributorError::NoDistributor)?;
        let reply = self
            .conn
            .call_method(
                Some(name.as_str()),
                DISTRIBUTOR_PATH,
                Some(DISTRIBUTOR_INTERFACE),
                "Register",
                &(APP_ID, connection, DESCRIPTION),
            )
            .map_err(bus_error)?;
        let (result, reason): (String, String) = reply.body().deserialize().map_err(bus_error)?;
        if result == "REGISTRATION_SUCCEEDED" {
            Ok(name)
        } else {
            Err(DistributorError::Refused {
                name,
                reason: reason.chars().take(200).collect(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    //! The connector against an independent distributor (python3-dbus,
    //! `tests/app/unifiedpush-distributor.py`) on a private bus of its own (`dbus-daemon`).

    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use super::*;

    /// Long enough for a loaded 2-core machine; a pass never waits for it.
    const PATIENCE: Duration = Duration::from_secs(60);

    struct Killed(Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// Its first stdout line (the child says when it is ready).
    fn first_line(child: &mut Child) -> String {
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read");
        line.trim().to_owned()
    }

    fn post(endpoint: &str, body: &[u8]) -> String {
        let url = url::Url::parse(endpoint).expect("endpoint");
        let addr = format!("127.0.0.1:{}", url.port().expect("port"));
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        write!(
            stream,
            "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Encoding: aes128gcm\r\nTTL: 120\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            url.path(),
            body.len()
        )
        .expect("write");
        stream.write_all(body).expect("body");
        let mut reply = String::new();
        stream.read_to_string(&mut reply).expect("reply");
        reply.lines().next().unwrap_or("").to_owned()
    }

    #[test]
    fn the_connector_speaks_the_unifiedpush_dbus_spec() {
        let stand_in = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/app/unifiedpush-distributor.py"
        );
        let python_dbus = Command::new("/usr/bin/python3")
            .args(["-c", "import dbus, gi"])
            .status()
            .is_ok_and(|s| s.success());
        let daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .spawn();
        let (Ok(daemon), true) = (daemon, python_dbus) else {
            assert!(
                std::env::var_os("TWOFOLD_REQUIRE_ALL").is_none(),
                "dbus-daemon or python3-dbus/python3-gi is missing (tests/app/install)"
            );
            println!(
                "SKIPPED the_connector_speaks_the_unifiedpush_dbus_spec: no dbus-daemon or python3-dbus"
            );
            return;
        };
        let mut daemon = Killed(daemon);
        let address = first_line(&mut daemon.0);
        let (up, incoming) = UnifiedPush::connect_with(
            zbus::blocking::connection::Builder::address(address.as_str()).expect("address"),
        )
        .expect("connect");

        // No distributor on the bus yet.
        assert_eq!(up.register("conn-1"), Err(DistributorError::NoDistributor));

        let mut distributor = Killed(
            Command::new("/usr/bin/python3")
                .arg(stand_in)
                .env("DBUS_SESSION_BUS_ADDRESS", &address)
                .stdout(Stdio::piped())
                .spawn()
                .expect("the stand-in"),
        );
        let ready = first_line(&mut distributor.0);
        assert!(ready.starts_with("ready "), "{ready}");

        assert_eq!(
            up.register("conn-1").as_deref(),
            Ok("org.unifiedpush.Distributor.twofoldtest")
        );
        let Ok(Incoming::NewEndpoint {
            connection,
            endpoint,
        }) = incoming.recv_timeout(PATIENCE)
        else {
            panic!("no NewEndpoint")
        };
        assert_eq!(connection, "conn-1");
        assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
        // Registering again (as at every unlock) keeps the endpoint.
        up.register("conn-1").expect("again");
        assert!(matches!(
            incoming.recv_timeout(PATIENCE),
            Ok(Incoming::NewEndpoint { endpoint: e, .. }) if e == endpoint
        ));

        // A POST to the endpoint arrives byte for byte (every byte value), as `ay`.
        let body: Vec<u8> = (0..=255u8).cycle().take(1200).collect();
        assert_eq!(post(&endpoint, &body), "HTTP/1.0 201 Created");
        assert_eq!(
            incoming.recv_timeout(PATIENCE),
            Ok(Incoming::Message {
                connection: "conn-1".into(),
                body: body.clone()
            })
        );
        // Over a Web Push message's size: dropped by the connector; the next one arrives.
        assert_eq!(post(&endpoint, &[7u8; 5000]), "HTTP/1.0 201 Created");
        assert_eq!(post(&endpoint, b"small"), "HTTP/1.0 201 Created");
        assert!(matches!(
            incoming.recv_timeout(PATIENCE),
            Ok(Incoming::Message { body, .. }) if body == b"small"
        ));

        // The figure: push server POST -> the connector's Message, median of 10.
        let mut ms = Vec::new();
        for _ in 0..10 {
            let t0 = Instant::now();
            post(&endpoint, &body);
            let got = incoming.recv_timeout(PATIENCE);
            ms.push(t0.elapsed().as_secs_f64() * 1000.0);
            assert!(matches!(got, Ok(Incoming::Message { .. })));
        }
        ms.sort_by(f64::total_cmp);
        println!(
            "UnifiedPush stand-in: POST to the endpoint -> Connector1.Message received: median of 10 {:.1} ms (min {:.1}, max {:.1})",
            ms[5], ms[0], ms[9]
        );

        // Unregistered by the distributor.
        up.conn
            .call_method(
                Some("org.unifiedpush.Distributor.twofoldtest"),
                DISTRIBUTOR_PATH,
                Some(DISTRIBUTOR_INTERFACE),
                "Unregister",
                &("conn-1",),
            )
            .expect("unregister");
        assert!(matches!(
            incoming.recv_timeout(PATIENCE),
            Ok(Incoming::Unregistered { .. })
        ));
    }
}
