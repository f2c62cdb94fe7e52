//! The WebDAV target: listings of real servers' shapes read, the collection's URL checked,
//! and a sync against a stand-in server on loopback (`webdav`, `multistatus`).

use twofold_core::sync::replica::MAX_REPLICA_BYTES;
use zeroize::Zeroizing;

use crate::multistatus::{Entry, member_name, parse_multistatus};
use crate::webdav::{MAX_ENTRIES, Seen, WebDav, collection_url};
use crate::{Store, TargetError, WebDavTarget};

const APACHE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:">
<D:response xmlns:lp1="DAV:">
<D:href>/dav/</D:href>
<D:propstat><D:prop><lp1:resourcetype><D:collection/></lp1:resourcetype>
<lp1:getetag>"1000-6619c7b225f3f"</lp1:getetag></D:prop>
<D:status>HTTP/1.1 200 OK</D:status></D:propstat>
<D:propstat><D:prop><D:getcontentlength/></D:prop>
<D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>
</D:response>
<D:response xmlns:lp1="DAV:">
<D:href>/dav/a%20(conflicted%20copy).twofold-sync</D:href>
<D:propstat><D:prop><lp1:resourcetype/><lp1:getcontentlength>3</lp1:getcontentlength>
<lp1:getlastmodified>Wed, 02 Dec 2026 01:22:48 GMT</lp1:getlastmodified>
<lp1:getetag>W/"3-6619c7b225f3f"</lp1:getetag></D:prop>
<D:status>HTTP/1.1 200 OK</D:status></D:propstat>
</D:response>
</D:multistatus>"#;

#[test]
fn an_apache_listing_is_read() {
    let entries = parse_multistatus(APACHE.as_bytes()).unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries[0].collection);
    assert_eq!(entries[0].length, None);
    assert_eq!(
        entries[1],
        Entry {
            href: "/dav/a%20(conflicted%20copy).twofold-sync".into(),
            collection: false,
            length: Some(3),
            etag: Some("W/\"3-6619c7b225f3f\"".into()),
        }
    );
    let base = collection_url("http://127.0.0.1:8080/dav").unwrap();
    assert_eq!(base.as_str(), "http://127.0.0.1:8080/dav/");
    assert_eq!(member_name(&base, &entries[0].href), None);
    assert_eq!(
        member_name(&base, &entries[1].href).as_deref(),
        Some("a (conflicted copy).twofold-sync")
    );
}

#[test]
fn other_prefixes_entities_and_absolute_hrefs() {
    // sabre/dav (Nextcloud) style: d: prefix, absolute URLs, &quot; in ETags.
    let xml = r#"<?xml version="1.0"?>
<d:multistatus xmlns:d="DAV:" xmlns:x="urn:other"><d:response>
<d:href>http://127.0.0.1:8080/dav/k%C3%A9y.twofold-sync</d:href>
<d:propstat><d:prop><d:getetag>&quot;abc&quot;</d:getetag><x:getetag>"no"</x:getetag>
<d:resourcetype/></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
</d:response></d:multistatus>"#;
    let entries = parse_multistatus(xml.as_bytes()).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].etag.as_deref(), Some("\"abc\""));
    let base = collection_url("http://127.0.0.1:8080/dav/").unwrap();
    assert_eq!(
        member_name(&base, &entries[0].href).as_deref(),
        Some("kéy.twofold-sync")
    );
    // Deeper, elsewhere, another server: not members.
    for href in [
        "/dav/sub/x.twofold-sync",
        "/other/x.twofold-sync",
        "http://127.0.0.2:8080/dav/x.twofold-sync",
        "/dav/a%2Fb.twofold-sync",
    ] {
        assert_eq!(member_name(&base, href), None, "{href}");
    }
}

#[test]
fn hostile_listings_are_refused() {
    for bad in [
        "",
        "<html>not dav</html>",
        "<D:multistatus xmlns:D=\"DAV:\"><D:response>",
        "\u{feff}<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>",
    ] {
        assert!(parse_multistatus(bad.as_bytes()).is_err(), "{bad:?}");
    }
    let mut many = String::from("<D:multistatus xmlns:D=\"DAV:\">");
    for _ in 0..=MAX_ENTRIES {
        many.push_str("<D:response><D:href>/x</D:href></D:response>");
    }
    many.push_str("</D:multistatus>");
    let err = parse_multistatus(many.as_bytes()).unwrap_err();
    assert!(err.contains("entries"), "{err}");
}

#[test]
fn addresses_with_credentials_or_plain_http_are_refused() {
    for bad in [
        "http://dav.example.com/dav/",
        "https://alice:pw@dav.example.com/dav/",
        "https://alice@dav.example.com/dav/",
        "https://dav.example.com/dav/?x=1",
        "not a url",
    ] {
        let err = collection_url(bad).unwrap_err();
        assert!(!err.to_string().contains("pw@"), "{err}");
    }
    assert!(collection_url("https://dav.example.com/remote.php/dav/files/a/Twofold").is_ok());
}

/// Answers each of `replies` (raw HTTP) to one connection on 127.0.0.1, in order.
fn serve(replies: Vec<String>) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/dav", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for reply in replies {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    url
}

fn reply(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn store(url: &str) -> WebDav {
    let target = WebDavTarget::new(url, Some("alice".into())).unwrap();
    WebDav::new(&target, Some(Zeroizing::new("SECRET-PW".into()))).unwrap()
}

#[test]
fn a_refused_login_and_a_missing_folder_are_named() {
    let url = serve(vec![
        reply("401 Unauthorized", ""),
        reply("404 Not Found", ""),
    ]);
    let mut s = store(&url);
    let err = s.list().unwrap_err();
    assert!(
        matches!(err, TargetError::Unauthorized { status: 401, .. }),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?} {s:?}").contains("SECRET-PW"));
    let err = s.list().unwrap_err();
    assert!(
        matches!(err, TargetError::Status { status: 404, .. }),
        "{err:?}"
    );
}

#[test]
fn only_members_are_read_and_oversized_files_are_left_out() {
    let listing = format!(
        r#"<D:multistatus xmlns:D="DAV:">
<D:response><D:href>/dav/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/>
</D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
<D:response><D:href>http://127.0.0.9/dav/elsewhere.twofold-sync</D:href></D:response>
<D:response><D:href>/dav/notes.txt</D:href></D:response>
<D:response><D:href>/dav/huge.twofold-sync</D:href><D:propstat><D:prop>
<D:getcontentlength>{}</D:getcontentlength></D:prop><D:status>HTTP/1.1 200 OK</D:status>
</D:propstat></D:response>
<D:response><D:href>/dav/a.twofold-sync</D:href><D:propstat><D:prop>
<D:getetag>"e1"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>
</D:response></D:multistatus>"#,
        MAX_REPLICA_BYTES + 1
    );
    // The listing, then exactly one GET (a.twofold-sync).
    let url = serve(vec![
        reply("207 Multi-Status", &listing),
        reply("200 OK", "replica bytes"),
    ]);
    let mut s = store(&url);
    let got = s.list().unwrap();
    assert_eq!(got.files.len(), 1);
    assert_eq!(got.files[0].name, "a.twofold-sync");
    assert_eq!(got.files[0].bytes, b"replica bytes");
    assert_eq!(got.warnings.len(), 1);
    assert_eq!(got.warnings[0].file, "huge.twofold-sync");
    assert!(matches!(s.seen.get("a.twofold-sync"), Some(Seen::ETag(t)) if t == "\"e1\""));
}
