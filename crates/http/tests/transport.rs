//! The transport against tiny HTTP servers on 127.0.0.1 started by each test: replies are
//! read, redirects and oversized bodies refused, plain HTTP only to loopback.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;

use twofold_http::{
    Client, HttpError, HttpRequest, MAX_BODY_BYTES, Method, Request, Verb, check_url, send,
};

/// What the server saw: the request line and the body.
#[derive(Debug)]
struct Seen {
    line: String,
    headers: Vec<String>,
    body: String,
}

/// Serves `reply` (raw HTTP bytes) to each of `count` connections; reports what it saw.
fn serve(reply: Vec<u8>, count: usize) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/ttype/push", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for _ in 0..count {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let seen = read_request(&stream);
            let mut stream = stream;
            // The client may hang up early (an oversized reply): that is its right.
            let _ = stream.write_all(&reply);
            let _ = stream.flush();
            let _ = tx.send(seen);
        }
    });
    (url, rx)
}

fn read_request(stream: &TcpStream) -> Seen {
    let r = twofold_test_support::http::read_request(stream).unwrap();
    Seen {
        line: r.line,
        headers: r.headers,
        body: String::from_utf8(r.body).unwrap(),
    }
}

fn response(status: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut r = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    r.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut r = r.into_bytes();
    r.extend_from_slice(body);
    r
}

fn request(method: Method, url: &str) -> Request {
    Request {
        method,
        url: url.to_owned(),
        params: vec![
            ("serial".into(), "PIPU0001".into()),
            ("signature".into(), "SECRET-SIGNATURE".into()),
        ],
        verify_tls: true,
    }
}

#[test]
fn a_reply_is_read_whatever_its_status() {
    let body = br#"{"result": {"status": false, "error": {"code": 905}}}"#;
    let (url, seen) = serve(response("400 Bad Request", &[], body), 2);
    let reply = send(&request(Method::Post, &url)).unwrap();
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body, body);
    let s = seen.recv().unwrap();
    assert_eq!(s.line, "POST /ttype/push HTTP/1.1");
    assert_eq!(s.body, "serial=PIPU0001&signature=SECRET-SIGNATURE");

    let reply = send(&request(Method::Get, &url)).unwrap();
    assert_eq!(reply.status, 400);
    let s = seen.recv().unwrap();
    assert_eq!(
        s.line,
        "GET /ttype/push?serial=PIPU0001&signature=SECRET-SIGNATURE HTTP/1.1"
    );
}

#[test]
fn a_redirect_is_refused_and_not_followed() {
    let (elsewhere, elsewhere_seen) = serve(response("200 OK", &[], b"{}"), 1);
    let location = format!("Location: {elsewhere}");
    for status in [
        "301 Moved Permanently",
        "302 Found",
        "307 Temporary Redirect",
    ] {
        let (url, _seen) = serve(response(status, &[&location], b""), 1);
        let err = send(&request(Method::Post, &url)).unwrap_err();
        assert!(
            matches!(
                err,
                HttpError::Redirect {
                    status: 301 | 302 | 307,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("redirect"), "{err}");
    }
    assert!(
        elsewhere_seen.try_recv().is_err(),
        "the redirect's target was contacted"
    );
}

#[test]
fn an_oversized_reply_is_refused() {
    // Announced too large.
    let big = vec![b'x'; MAX_BODY_BYTES + 1];
    let (url, _s) = serve(response("200 OK", &[], &big), 1);
    let err = send(&request(Method::Get, &url)).unwrap_err();
    assert!(matches!(err, HttpError::TooLarge(_)), "{err:?}");

    // Not announced (chunked, no length): read up to the cap, then refused.
    let mut chunked =
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let chunk = vec![b'y'; 64 * 1024];
    for _ in 0..(MAX_BODY_BYTES / chunk.len() + 2) {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(&chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let (url, _s) = serve(chunked, 1);
    let err = send(&request(Method::Get, &url)).unwrap_err();
    assert!(matches!(err, HttpError::TooLarge(_)), "{err:?}");

    // Exactly the cap is taken.
    let full = vec![b'z'; MAX_BODY_BYTES];
    let (url, _s) = serve(response("200 OK", &[], &full), 1);
    assert_eq!(
        send(&request(Method::Get, &url)).unwrap().body.len(),
        MAX_BODY_BYTES
    );
}

#[test]
fn plain_http_only_to_loopback() {
    for ok in [
        "http://127.0.0.1:5000/ttype/push",
        "http://127.8.9.10/x",
        "http://[::1]:8080/x",
        "http://localhost:5000/x",
        "https://pi.example.com/ttype/push",
        "https://192.0.2.7/ttype/push",
    ] {
        assert!(check_url(ok).is_ok(), "{ok}");
    }
    for refused in [
        "http://pi.example.com/ttype/push",
        "http://192.0.2.7/ttype/push",
        "http://[2001:db8::1]/x",
        "http://localhost.example.com/x",
        "ftp://pi.example.com/x",
        "file:///etc/passwd",
    ] {
        let err = send(&request(Method::Post, refused)).unwrap_err();
        assert!(
            matches!(err, HttpError::Insecure(_) | HttpError::InvalidUrl(_)),
            "{refused}: {err:?}"
        );
    }
    assert!(matches!(
        check_url("not a url"),
        Err(HttpError::InvalidUrl(_))
    ));
}

/// `http://B\@A/` is host B to the transport and host A to a split at `/ ? #`: refused before
/// any byte reaches either; so are user information and control characters, without the
/// password in the error.
#[test]
fn an_address_read_two_ways_is_refused_before_sending() {
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    b.set_nonblocking(true).unwrap();
    let b_addr = b.local_addr().unwrap();
    for url in [
        format!("http://{b_addr}\\@127.0.0.1:1/ttype/push"),
        format!("http://127.0.0.1:1@{b_addr}/ttype/push"),
        format!("http://alice:s3cret@{b_addr}/ttype/push"),
        format!("http://{b_addr}/ttype/push\n"),
    ] {
        let err = send(&request(Method::Post, &url)).unwrap_err();
        assert!(matches!(err, HttpError::Ambiguous { .. }), "{url}: {err:?}");
        assert!(!format!("{err} {err:?}").contains("s3cret"), "{err}");
    }
    assert!(b.accept().is_err(), "nothing reached the listener");
}

#[test]
fn errors_name_the_server_never_the_parameters() {
    let gone = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/ttype/push", gone.local_addr().unwrap());
    drop(gone);
    let err = send(&request(Method::Get, &url)).unwrap_err();
    assert!(matches!(err, HttpError::Network { .. }), "{err:?}");
    let text = format!("{err} {err:?}");
    assert!(text.contains(&url), "{text}");
    assert!(!text.contains("SECRET-SIGNATURE"), "{text}");
}

#[test]
fn webdav_requests_carry_their_method_headers_auth_and_body() {
    let multistatus = b"<?xml version=\"1.0\"?><D:multistatus xmlns:D=\"DAV:\"/>";
    let (url, seen) = serve(
        response("207 Multi-Status", &["ETag: W/\"3-abc\""], multistatus),
        2,
    );
    let client = Client::new().unwrap();
    let request = HttpRequest::new(Verb::Propfind, &url)
        .header("Depth", "1")
        .basic_auth("alice", Some("SECRET-PASSWORD"))
        .body(b"<propfind/>".to_vec());
    let debug = format!("{request:?}");
    assert!(debug.contains("alice"), "{debug}");
    assert!(!debug.contains("SECRET-PASSWORD"), "{debug}");
    let reply = client.fetch(request).unwrap();
    assert_eq!(reply.status, 207);
    assert_eq!(reply.etag.as_deref(), Some("W/\"3-abc\""));
    assert_eq!(reply.body, multistatus);
    let s = seen.recv().unwrap();
    assert_eq!(s.line, "PROPFIND /ttype/push HTTP/1.1");
    assert_eq!(s.body, "<propfind/>");
    let has = |h: &str| s.headers.iter().any(|x| x.eq_ignore_ascii_case(h));
    assert!(has("depth: 1"), "{:?}", s.headers);
    // Basic base64("alice:SECRET-PASSWORD").
    assert!(
        has("authorization: Basic YWxpY2U6U0VDUkVULVBBU1NXT1JE"),
        "{:?}",
        s.headers
    );

    let reply = client
        .fetch(
            HttpRequest::new(Verb::Put, &url)
                .header("If-Match", "\"3-abc\"")
                .body(b"replica".to_vec()),
        )
        .unwrap();
    assert_eq!(reply.status, 207);
    let s = seen.recv().unwrap();
    assert_eq!(s.line, "PUT /ttype/push HTTP/1.1");
    assert_eq!(s.body, "replica");
    assert!(
        s.headers
            .iter()
            .any(|h| h == "if-match: \"3-abc\"" || h == "If-Match: \"3-abc\""),
        "{:?}",
        s.headers
    );
}

#[test]
fn webdav_requests_follow_the_same_rules() {
    let client = Client::new().unwrap();
    // No redirect followed, whatever the method.
    let (elsewhere, elsewhere_seen) = serve(response("200 OK", &[], b""), 1);
    let location = format!("Location: {elsewhere}");
    let (url, _s) = serve(response("307 Temporary Redirect", &[&location], b""), 1);
    let err = client
        .fetch(HttpRequest::new(Verb::Put, &url).body(b"x".to_vec()))
        .unwrap_err();
    assert!(
        matches!(err, HttpError::Redirect { status: 307, .. }),
        "{err:?}"
    );
    assert!(elsewhere_seen.try_recv().is_err());

    // The default cap, and a caller's own cap.
    let big = vec![b'x'; MAX_BODY_BYTES + 1];
    let (url, _s) = serve(response("200 OK", &[], &big), 2);
    let err = client.fetch(HttpRequest::new(Verb::Get, &url)).unwrap_err();
    assert!(matches!(err, HttpError::TooLarge(_)), "{err:?}");
    let reply = client
        .fetch(HttpRequest::new(Verb::Get, &url).max_body(2 * MAX_BODY_BYTES))
        .unwrap();
    assert_eq!(reply.body.len(), MAX_BODY_BYTES + 1);
    let (url, _s) = serve(response("200 OK", &[], b"12345"), 1);
    let err = client
        .fetch(HttpRequest::new(Verb::Get, &url).max_body(4))
        .unwrap_err();
    assert!(matches!(err, HttpError::TooLarge(_)), "{err:?}");

    // Plain HTTP only to loopback, refused before any byte is sent.
    let err = client
        .fetch(HttpRequest::new(
            Verb::Propfind,
            "http://dav.example.com/x/",
        ))
        .unwrap_err();
    assert!(matches!(err, HttpError::Insecure(_)), "{err:?}");
}
