//! twofold-relay end to end: the real binary on 127.0.0.1 with stand-in push services, its
//! messages decrypted and its JWTs verified by independent implementations (Python's
//! http_ece, PyJWT and cryptography), hostile input, graceful shutdown and a bounded load
//! test that prints throughput, p99 latency and the relay's memory.

mod support;
#[allow(dead_code)]
#[path = "../../../tests/venv.rs"]
mod venv;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::{StatusCode, Version};
use serde_json::{Value, json};
use support::*;
use url::form_urlencoded;

fn webpush_config(allow_private: bool, retry_seconds: f64) -> String {
    format!(
        "listen = \"127.0.0.1:0\"\nallow_private_endpoints = {allow_private}\nretry_seconds = {retry_seconds}\n\
         [webpush]\nvapid_private_key = \"vapid.pem\"\nsubject = \"mailto:admin@example.org\"\n"
    )
}

macro_rules! venv_or_skip {
    ($name:literal) => {
        match venv() {
            Ok(v) => v,
            Err(reason) => {
                println!("SKIPPED {}: {reason}", $name);
                return;
            }
        }
    };
}

#[test]
fn check_config_and_version() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_twofold-relay");
    write_vapid(dir.path());
    let good = dir.path().join("good.toml");
    std::fs::write(&good, webpush_config(false, 20.0)).unwrap();
    let out = Command::new(bin)
        .arg("--check-config")
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
    assert!(out.status.success());

    // The documented example, with its key.
    let example = dir.path().join("example.toml");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/relay.example.toml"),
        &example,
    )
    .unwrap();
    let out = Command::new(bin)
        .arg("--check-config")
        .arg(&example)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");

    for (name, text, says) in [
        (
            "unknown.toml",
            "listen = \"127.0.0.1:0\"\nlisten_tls = true\n",
            "unknown field",
        ),
        (
            "nokey.toml",
            "listen = \"127.0.0.1:0\"\n[webpush]\nvapid_private_key = \"missing.pem\"\nsubject = \"mailto:a@b.c\"\n",
            "missing.pem",
        ),
        (
            "retry.toml",
            "listen = \"127.0.0.1:0\"\nretry_seconds = 60\n",
            "retry_seconds",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = Command::new(bin)
            .arg("--check-config")
            .arg(&path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{name}: {stdout}");
        assert!(
            stdout.starts_with("error: ") && stdout.contains(says),
            "{name}: {stdout}"
        );
        assert_eq!(stdout.lines().count(), 1, "{name}: {stdout}");
    }

    let out = Command::new(bin).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("twofold-relay {}", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_vapid(dir.path());
    let relay = Relay::start(dir.path(), &webpush_config(false, 20.0));
    let client = client();
    let base = &relay.base;

    let health = client.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    assert_eq!(
        client
            .get(format!("{base}/nope"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        client
            .get(format!("{base}/privacyidea/push"))
            .send()
            .await
            .unwrap()
            .status(),
        405
    );

    // Not JSON.
    let r = client
        .post(format!("{base}/privacyidea/push"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("device_token=x&data=y")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let reply: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert!(reply["error"].is_string());

    // 10 MB announced: refused before any of it is read. Streamed without a length: refused
    // as soon as it passes the 64 KiB cap, while the sender would go on.
    assert_eq!(
        post_raw(relay.addr, "Content-Length: 10485760", b"").await,
        413
    );
    let mut chunk = b"10001\r\n".to_vec();
    chunk.extend(std::iter::repeat_n(b' ', 0x10001));
    chunk.extend_from_slice(b"\r\n");
    assert_eq!(
        post_raw(relay.addr, "Transfer-Encoding: chunked", &chunk).await,
        413
    );

    // Wrong shapes.
    for body in [
        "[]".to_string(),
        "{\"device_token\": 5, \"data\": {}}".into(),
        "{\"device_token\": \"x\", \"data\": \"not an object\"}".into(),
        "{\"device_token\": \"x\"}".into(),
        "{\"device_token\": \"x\", \"data\": {}, \"extra\": 1}".into(),
        "{\"device_token\": ".into(),
    ] {
        let r = client
            .post(format!("{base}/privacyidea/push"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{body}");
    }

    let data = challenge();
    let device = webpush_device("https://push.example.org/x");
    for (token, says) in [
        ("not json".to_string(), "device token"),
        (
            json!({"v": 1, "kind": "carrier-pigeon", "token": "x"}).to_string(),
            "kind is unknown",
        ),
        (
            json!({"v": 2, "kind": "fcm", "token": "x"}).to_string(),
            "version",
        ),
        (
            json!({"v": 1, "kind": "fcm", "token": "a".repeat(2100)}).to_string(),
            "longer than 2048",
        ),
        // A kind this config does not serve.
        (
            json!({"v": 1, "kind": "fcm", "token": "abc"}).to_string(),
            "does not deliver fcm",
        ),
        (
            json!({"v": 1, "kind": "apns", "token": "00ff"}).to_string(),
            "does not deliver apns",
        ),
        // Endpoints this config does not allow: plain http, loopback and private addresses,
        // and a name that resolves to loopback.
        (
            device
                .token
                .replace("https://push.example.org/x", "http://push.example.org/x"),
            "not https",
        ),
        (
            device.token.replace("push.example.org", "127.0.0.1:9"),
            "private or loopback",
        ),
        (
            device.token.replace("push.example.org", "10.1.2.3"),
            "private or loopback",
        ),
        (
            device.token.replace("push.example.org", "[::1]:9"),
            "private or loopback",
        ),
        (
            device.token.replace(
                "push.example.org",
                &format!("localhost:{}", relay.addr.port()),
            ),
            "private or loopback",
        ),
    ] {
        let (status, reply) = push(&client, base, &token, &data).await;
        assert_eq!(status, 400, "{token}: {reply}");
        let error = reply["error"].as_str().unwrap();
        assert!(error.contains(says), "{token}: {error}");
        assert!(!error.contains("push.example.org/x"), "{error}");
    }

    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains("twofold_relay_messages_total{kind=\"none\",outcome=\"not_json\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("twofold_relay_messages_total{kind=\"webpush\",outcome=\"rejected\"} 5"),
        "{text}"
    );
    assert!(
        text.contains("twofold_relay_messages_total{kind=\"fcm\",outcome=\"not_served\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE twofold_relay_delivery_seconds histogram"),
        "{text}"
    );

    // Nothing of a question, a token or an endpoint's path in the log.
    let log = relay.log.lock().unwrap().join("\n");
    assert!(
        !log.contains("Sign in to") && !log.contains("/x\"") && !log.contains("p256dh"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webpush_decrypted_by_http_ece() {
    let venv = venv_or_skip!("webpush_decrypted_by_http_ece");
    let dir = tempfile::tempdir().unwrap();
    let vapid_public = write_vapid(dir.path());
    let mut receiver = StandIn::plain(responder(|_| reply(StatusCode::CREATED, ""))).await;
    let relay = Relay::start(dir.path(), &webpush_config(true, 20.0));
    let client = client();
    let endpoint = format!("http://{}/wpush/v2/gAAAAABsecretpath", receiver.addr);
    let device = webpush_device(&endpoint);

    let mut data = challenge();
    data["require_presence"] = json!("07,69,23");
    let (status, reply) = push(&client, &relay.base, &device.token, &data).await;
    assert_eq!(
        (status, reply),
        (200, json!({"delivered": true, "kind": "webpush"}))
    );

    let got = receiver.next().await;
    assert_eq!(got.method, "POST");
    assert_eq!(got.uri.path(), "/wpush/v2/gAAAAABsecretpath");
    assert_eq!(got.header("content-encoding"), "aes128gcm");
    assert_eq!(got.header("ttl"), "120");
    assert_eq!(got.header("urgency"), "high");
    let authorization = got.header("authorization").to_string();
    let (t, k) = authorization
        .strip_prefix("vapid t=")
        .and_then(|r| r.split_once(", k="))
        .expect("vapid t=..., k=...");
    assert_eq!(k, b64(&vapid_public));

    let results = independent(
        &venv,
        json!([
            {"op": "decrypt", "body": b64(&got.body), "private_key": b64(&device.private), "auth": b64(&device.auth)},
            // RFC 6454 origin: scheme, host and the non-default port.
            {"op": "verify_jwt", "jwt": t, "alg": "ES256", "public_sec1": k, "audience": format!("http://{}", receiver.addr)},
        ]),
    );
    let plaintext = results[0]["plaintext"].as_str().unwrap();
    // Exactly the fields and values received, as compact JSON.
    assert_eq!(serde_json::from_str::<Value>(plaintext).unwrap(), data);
    assert_eq!(plaintext, data.to_string());
    let claims = &results[1]["claims"];
    assert_eq!(claims["sub"], "mailto:admin@example.org");
    assert_eq!(results[1]["header"]["alg"], "ES256");
    let exp = claims["exp"].as_u64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(exp > now && exp <= now + 24 * 3600, "exp {exp}, now {now}");

    // A shorter challenge life shortens the TTL.
    data["ttl"] = json!(30);
    assert_eq!(
        push(&client, &relay.base, &device.token, &data).await.0,
        200
    );
    assert_eq!(receiver.next().await.header("ttl"), "30");

    let log = relay.log.lock().unwrap().join("\n");
    assert!(
        log.contains("webpush") && log.contains("127.0.0.1") && log.contains("delivered"),
        "{log}"
    );
    assert!(
        !log.contains("secretpath") && !log.contains("Sign in"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webpush_statuses_retries_and_redirects() {
    let dir = tempfile::tempdir().unwrap();
    write_vapid(dir.path());
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let mut service = StandIn::plain(responder(move |r| {
        let path = r.uri.path().to_string();
        match path.as_str() {
            "/gone" => reply(StatusCode::GONE, ""),
            "/unknown" => reply(StatusCode::NOT_FOUND, ""),
            // 503 on the first try, 201 on the second.
            "/flaky" => {
                if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                    reply(StatusCode::SERVICE_UNAVAILABLE, "")
                } else {
                    reply(StatusCode::CREATED, "")
                }
            }
            "/down" => reply(StatusCode::INTERNAL_SERVER_ERROR, "x".repeat(200_000)),
            "/refuses" => reply(StatusCode::BAD_REQUEST, ""),
            _ => reply(StatusCode::CREATED, ""),
        }
    }))
    .await;
    let redirector = StandIn::start(StandInOptions {
        responder: responder(|_| reply(StatusCode::CREATED, "")),
        tls: None,
        gated: false,
        capture: false,
    })
    .await;
    // Retries for 1.5 s: enough for a few, short enough for the suite.
    let relay = Relay::start(dir.path(), &webpush_config(true, 1.5));
    let client = client();
    let token = |path: &str| webpush_device(&format!("http://{}{path}", service.addr)).token;
    let data = challenge();

    let (status, reply) = push(&client, &relay.base, &token("/gone"), &data).await;
    assert_eq!((status, reply), (410, json!({"error": "gone"})));
    assert_eq!(
        push(&client, &relay.base, &token("/unknown"), &data)
            .await
            .0,
        410
    );
    assert_eq!(
        push(&client, &relay.base, &token("/flaky"), &data).await.0,
        200
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let (status, reply) = push(&client, &relay.base, &token("/down"), &data).await;
    assert_eq!(status, 502);
    assert!(
        reply["error"].as_str().unwrap().contains("HTTP 500"),
        "{reply}"
    );
    let (status, reply) = push(&client, &relay.base, &token("/refuses"), &data).await;
    assert_eq!(status, 502);
    assert!(
        reply["error"].as_str().unwrap().contains("HTTP 400"),
        "{reply}"
    );
    while service.requests.try_recv().is_ok() {}

    // A redirect is not followed: the relay reports the 3xx and the target sees nothing.
    let target = format!("http://{}/elsewhere", redirector.addr);
    let mut redirecting = StandIn::plain(responder(move |_| Reply {
        status: StatusCode::TEMPORARY_REDIRECT,
        headers: vec![("location", target.clone())],
        body: String::new(),
    }))
    .await;
    let device = webpush_device(&format!("http://{}/moved", redirecting.addr));
    let (status, reply) = push(&client, &relay.base, &device.token, &data).await;
    assert_eq!(status, 502, "{reply}");
    assert!(
        reply["error"].as_str().unwrap().contains("HTTP 307"),
        "{reply}"
    );
    redirecting.next().await;
    assert_eq!(redirector.count.load(Ordering::SeqCst), 0);

    // Nothing listens there: connection failures are retried, then 502.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let device = webpush_device(&format!("http://{closed}/x"));
    let (status, reply) = push(&client, &relay.base, &device.token, &data).await;
    assert_eq!(status, 502, "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fcm_v1_with_a_service_account() {
    let venv = venv_or_skip!("fcm_v1_with_a_service_account");
    let dir = tempfile::tempdir().unwrap();
    let key = independent(&venv, json!([{"op": "rsa_key"}])).remove(0);
    let mut fcm = StandIn::plain(responder(|r| match r.uri.path() {
            "/oauth2/token" => reply(
                StatusCode::OK,
                json!({"access_token": "ya29.test-access", "expires_in": 3599, "token_type": "Bearer"})
                    .to_string(),
            ),
            "/v1/projects/twofold-test/messages:send" => {
                let body: Value = serde_json::from_slice(&r.body).unwrap();
                if body["message"]["token"] == "gone-token" {
                    reply(
                        StatusCode::NOT_FOUND,
                        json!({"error": {"code": 404, "status": "NOT_FOUND", "details": [
                            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}})
                        .to_string(),
                    )
                } else {
                    reply(StatusCode::OK, json!({"name": "projects/twofold-test/messages/1"}).to_string())
                }
            }
            _ => reply(StatusCode::NOT_FOUND, ""),
        }))
    .await;
    let token_uri = format!("http://{}/oauth2/token", fcm.addr);
    std::fs::write(
        dir.path().join("sa.json"),
        json!({
            "type": "service_account", "project_id": "twofold-test", "private_key_id": "kid-1234",
            "private_key": key["pem"], "client_email": "relay@twofold-test.iam.gserviceaccount.com",
            "client_id": "1", "token_uri": token_uri,
        })
        .to_string(),
    )
    .unwrap();
    let relay = Relay::start(
        dir.path(),
        &format!(
            "listen = \"127.0.0.1:0\"\n[fcm]\nservice_account = \"sa.json\"\nendpoint = \"http://{}\"\n",
            fcm.addr
        ),
    );
    let client = client();
    let data = challenge();
    let device = json!({"v": 1, "kind": "fcm", "token": "dE4k:APA91bH-reg_token"}).to_string();
    for _ in 0..2 {
        let (status, reply) = push(&client, &relay.base, &device, &data).await;
        assert_eq!(
            (status, reply),
            (200, json!({"delivered": true, "kind": "fcm"}))
        );
    }
    let gone = json!({"v": 1, "kind": "fcm", "token": "gone-token"}).to_string();
    assert_eq!(
        push(&client, &relay.base, &gone, &data).await,
        (410, json!({"error": "gone"}))
    );

    // One grant (the access token is cached), then the three sends.
    let grant = fcm.next().await;
    assert_eq!(grant.uri.path(), "/oauth2/token");
    assert_eq!(
        grant.header("content-type"),
        "application/x-www-form-urlencoded"
    );
    let form: std::collections::HashMap<String, String> =
        form_urlencoded::parse(&grant.body).into_owned().collect();
    assert_eq!(
        form["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    let verified = independent(
        &venv,
        json!([{"op": "verify_jwt", "jwt": form["assertion"], "alg": "RS256",
                "public_pem": key["public_pem"], "audience": token_uri}]),
    );
    let claims = &verified[0]["claims"];
    assert_eq!(claims["iss"], "relay@twofold-test.iam.gserviceaccount.com");
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/firebase.messaging"
    );
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        3600
    );
    assert_eq!(verified[0]["header"]["kid"], "kid-1234");

    for _ in 0..2 {
        let send = fcm.next().await;
        assert_eq!(send.uri.path(), "/v1/projects/twofold-test/messages:send");
        assert_eq!(send.header("authorization"), "Bearer ya29.test-access");
        let body: Value = serde_json::from_slice(&send.body).unwrap();
        assert_eq!(
            body,
            json!({"message": {"token": "dE4k:APA91bH-reg_token",
                   "notification": {"title": data["title"], "body": data["question"]},
                   "data": data,
                   "android": {"priority": "HIGH", "ttl": "120s"}}})
        );
    }
    assert_eq!(
        fcm.next().await.uri.path(),
        "/v1/projects/twofold-test/messages:send"
    );
    assert!(
        fcm.requests.try_recv().is_err(),
        "one grant for all messages"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apns_over_http2_with_a_provider_token() {
    let venv = venv_or_skip!("apns_over_http2_with_a_provider_token");
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    std::fs::write(dir.path().join("test-ca.pem"), cert.cert.pem()).unwrap();
    let (p8, _, apns_public) = p256_key();
    std::fs::write(dir.path().join("AuthKey_ABC123.p8"), p8).unwrap();
    let mut apns = StandIn::start(StandInOptions {
        responder: responder(|r| {
            if r.uri.path().ends_with("/dead") || r.uri.path().ends_with("/deadbeef") {
                reply(
                    StatusCode::GONE,
                    json!({"reason": "Unregistered", "timestamp": 1}).to_string(),
                )
            } else {
                Reply {
                    status: StatusCode::OK,
                    headers: vec![("apns-id", "EC1BF194-B3B2-424A-89A9-5A918A6E6B5E".into())],
                    body: String::new(),
                }
            }
        }),
        tls: Some((cert.cert.der().to_vec(), cert.signing_key.serialize_der())),
        gated: false,
        capture: true,
    })
    .await;
    let endpoint = format!("https://localhost:{}", apns.addr.port());
    let relay = Relay::start(
        dir.path(),
        &format!(
            "listen = \"127.0.0.1:0\"\n[apns]\nkey = \"AuthKey_ABC123.p8\"\nkey_id = \"ABC123\"\n\
             team_id = \"TEAM123\"\ntopic = \"app.twofold.authenticator\"\nendpoint = \"{endpoint}\"\n\
             sandbox_endpoint = \"{endpoint}/sandbox/\"\nca_file = \"test-ca.pem\"\n"
        ),
    );
    let client = client();
    let data = challenge();
    let device_token = "a".repeat(64);
    let device =
        json!({"v": 1, "kind": "apns", "token": device_token, "sandbox": false}).to_string();
    let (status, reply) = push(&client, &relay.base, &device, &data).await;
    assert_eq!(
        (status, reply),
        (200, json!({"delivered": true, "kind": "apns"}))
    );
    let sandbox = json!({"v": 1, "kind": "apns", "token": "deadbeef", "sandbox": true}).to_string();
    assert_eq!(
        push(&client, &relay.base, &sandbox, &data).await,
        (410, json!({"error": "gone"}))
    );

    let got = apns.next().await;
    assert_eq!(got.version, Version::HTTP_2);
    assert_eq!(got.method, "POST");
    assert_eq!(got.uri.path(), format!("/3/device/{device_token}"));
    assert_eq!(got.header("apns-topic"), "app.twofold.authenticator");
    assert_eq!(got.header("apns-push-type"), "alert");
    assert_eq!(got.header("apns-priority"), "10");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expiration: u64 = got.header("apns-expiration").parse().unwrap();
    assert!(
        expiration > now && expiration <= now + 120,
        "{expiration} vs {now}"
    );
    let body: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(
        body,
        json!({"aps": {"alert": {"title": data["title"], "body": data["question"]},
                       "mutable-content": 1, "category": "PUSH_AUTHENTICATION"},
               "data": data})
    );
    let bearer = got
        .header("authorization")
        .strip_prefix("bearer ")
        .unwrap()
        .to_string();
    let verified = independent(
        &venv,
        json!([{"op": "verify_jwt", "jwt": bearer, "alg": "ES256", "public_sec1": b64(&apns_public)}]),
    );
    assert_eq!(verified[0]["header"]["kid"], "ABC123");
    assert_eq!(verified[0]["header"]["alg"], "ES256");
    assert_eq!(verified[0]["claims"]["iss"], "TEAM123");
    let iat = verified[0]["claims"]["iat"].as_u64().unwrap();
    assert!(iat <= now && iat + 600 > now);
    // The sandbox token went to the sandbox endpoint.
    assert_eq!(apns.next().await.uri.path(), "/sandbox/3/device/deadbeef");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_delivery_in_flight_finish() {
    let dir = tempfile::tempdir().unwrap();
    write_vapid(dir.path());
    let mut receiver = StandIn::start(StandInOptions {
        responder: responder(|_| reply(StatusCode::CREATED, "")),
        tls: None,
        gated: true,
        capture: true,
    })
    .await;
    let mut relay = Relay::start(dir.path(), &webpush_config(true, 20.0));
    let device = webpush_device(&format!("http://{}/held", receiver.addr));
    let base = relay.base.clone();
    let in_flight =
        tokio::spawn(async move { push(&client(), &base, &device.token, &challenge()).await });
    // The relay is waiting for the push service's answer when SIGTERM arrives.
    receiver.next().await;
    relay.signal_term();
    tokio::task::block_in_place(|| relay.wait_for("stopping"));
    receiver.gate.as_ref().unwrap().add_permits(1);
    assert_eq!(
        in_flight.await.unwrap(),
        (200, json!({"delivered": true, "kind": "webpush"}))
    );
    let status = tokio::task::block_in_place(|| relay.wait());
    assert!(status.success(), "{status}");
}

/// A bounded load: at most 20,000 messages (RELAY_LOAD_MESSAGES) or 15 s, 64 at a time,
/// to a stand-in Web Push receiver on loopback. Prints the figures; asserts only that every
/// message was delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_on_loopback() {
    let total: usize = std::env::var("RELAY_LOAD_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let time_bound = Duration::from_secs(15);
    let dir = tempfile::tempdir().unwrap();
    write_vapid(dir.path());
    let receiver = StandIn::start(StandInOptions {
        responder: responder(|_| reply(StatusCode::CREATED, "")),
        tls: None,
        gated: false,
        capture: false,
    })
    .await;
    let relay = Relay::start(dir.path(), &webpush_config(true, 20.0));
    let rss_start = relay.rss_kib();
    let devices: Arc<Vec<String>> = Arc::new(
        (0..64)
            .map(|i| webpush_device(&format!("http://{}/d/{i}", receiver.addr)).token)
            .collect(),
    );
    let client = client();
    let data = Arc::new(challenge());
    let started = Instant::now();
    let permits = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        if started.elapsed() > time_bound {
            break;
        }
        let permit = permits.clone().acquire_owned().await.unwrap();
        let (client, base, devices, data) = (
            client.clone(),
            relay.base.clone(),
            devices.clone(),
            data.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let (status, _) = push(&client, &base, &devices[i % devices.len()], &data).await;
            drop(permit);
            (status, sent.elapsed())
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    for task in tasks {
        let (status, took) = task.await.unwrap();
        assert_eq!(status, 200);
        latencies.push(took);
    }
    let elapsed = started.elapsed();
    let sent = latencies.len();
    assert_eq!(receiver.count.load(Ordering::SeqCst), sent);
    latencies.sort();
    let pct = |p: f64| latencies[((sent as f64 * p).ceil() as usize).clamp(1, sent) - 1];
    let rss_after = relay.rss_kib();
    let cpu = relay.cpu_seconds();
    let relay_build = if std::env::var_os("TWOFOLD_RELAY_BIN").is_some() {
        "TWOFOLD_RELAY_BIN"
    } else if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "relay load (relay: {relay_build} build; client and receiver: {} build, in one process): \
         {sent} Web Push messages in {:.2} s on loopback, 64 at a time: {:.0} messages/s; \
         latency p50 {:.1} ms, p99 {:.1} ms; the relay used {cpu:.2} s of CPU ({:.0} messages \
         per CPU second); relay VmRSS at rest {:.1} MiB after start, {:.1} MiB after the load",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        sent as f64 / cpu.max(0.01),
        rss_start as f64 / 1024.0,
        rss_after as f64 / 1024.0,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_token_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    write_vapid(dir.path());
    std::fs::write(dir.path().join("token"), "s3cret-relay-token-0123456789\n").unwrap();
    let config = format!(
        "bearer_token_file = \"token\"\n{}",
        webpush_config(false, 20.0)
    );
    let relay = Relay::start(dir.path(), &config);
    let client = client();
    let unknown = json!({"v": 1, "kind": "sms", "token": "x"}).to_string();
    let body = json!({"device_token": unknown, "data": challenge()}).to_string();
    for given in [
        None,
        Some("Bearer wrong-token-0123456789xx"),
        Some("s3cret-relay-token-0123456789"),
    ] {
        let mut r = client
            .post(format!("{}/privacyidea/push", relay.base))
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(value) = given {
            r = r.header("authorization", value);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 401, "{given:?}");
    }
    // The right token gets past the check (to the device token's 400).
    let r = client
        .post(format!("{}/privacyidea/push", relay.base))
        .header("content-type", "application/json")
        .header("authorization", "Bearer s3cret-relay-token-0123456789")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // /health stays open for load balancers.
    let health = client
        .get(format!("{}/health", relay.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    // A short token is refused at start.
    std::fs::write(dir.path().join("short"), "abc").unwrap();
    let path = dir.path().join("short.toml");
    std::fs::write(
        &path,
        "listen = \"127.0.0.1:0\"\nbearer_token_file = \"short\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_twofold-relay"))
        .arg("--check-config")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("16 or more"));
}
