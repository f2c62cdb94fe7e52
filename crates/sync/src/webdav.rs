//! A WebDAV target (`docs/sync.md` "WebDAV"): `PROPFIND` (depth 1) lists the collection,
//! `GET` reads each `*.twofold-sync` file, `PUT` writes this device's replica, conditionally:
//! `If-Match` with the ETag read in this run, `If-None-Match: *` for a file that was not there.
//! A `412` is [`TargetError::Conflict`]: nothing was written and the caller does not save.
//! Every request goes through `twofold-http` (HTTPS, plain HTTP only to loopback, no
//! redirects, capped replies, timeouts) with HTTP Basic authentication.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use percent_encoding::percent_decode_str;
use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::{Namespace, ResolveResult};
use twofold_core::rng::Rng;
use twofold_core::sync::session::{MAX_FILES, SUFFIX};
use twofold_core::sync::{DeviceId, TargetFile};
use twofold_http::{Client, HttpRequest, Url, Verb};
use zeroize::Zeroizing;

use crate::budget::{Budget, read_order};
use crate::{Listing, Store, TargetError, WebDavTarget};

/// The most `<response>` entries a listing may hold (sync files and anything else in the
/// collection); the listing's body is capped by the transport before this.
pub const MAX_ENTRIES: usize = 10 * MAX_FILES;

/// Only the properties a sync needs, which keeps the listing small (about 400 bytes a file).
const PROPFIND_BODY: &str = concat!(
    r#"<?xml version="1.0" encoding="utf-8"?>"#,
    r#"<D:propfind xmlns:D="DAV:"><D:prop>"#,
    r#"<D:resourcetype/><D:getcontentlength/><D:getetag/>"#,
    r#"</D:prop></D:propfind>"#
);

/// How long after a listing a weak ETag of an unchanged file has become strong: Apache
/// (mod_dav_fs) marks the ETag of a file changed in the last second weak, and `If-Match` never
/// matches a weak ETag (RFC 9110 §13.1.1: strong comparison).
const WEAK_TO_STRONG: Duration = Duration::from_millis(1100);

/// What a conditional `PUT` over a file read in this run checks.
#[derive(Debug, Clone)]
enum Seen {
    /// A strong ETag: `If-Match` with it.
    ETag(String),
    /// A weak ETag `W/"x"` read at that moment: once [`WEAK_TO_STRONG`] has passed, an
    /// unchanged file's ETag is `"x"`, so the `PUT` waits for that moment and sends
    /// `If-Match: "x"`. A file changed meanwhile has another ETag (or a weak one): 412.
    Weak(String, Instant),
    /// No ETag at all: written without a condition.
    Unknown,
}

impl Seen {
    fn of(etag: Option<String>, at: Instant) -> Seen {
        match etag {
            Some(t) => match t.strip_prefix("W/") {
                Some(opaque) => Seen::Weak(opaque.to_owned(), at),
                None => Seen::ETag(t),
            },
            None => Seen::Unknown,
        }
    }
}

/// A WebDAV sync target.
pub struct WebDav {
    client: Client,
    /// The collection, ending in `/`.
    base: Url,
    user: Option<String>,
    password: Option<Zeroizing<String>>,
    /// The files listed in this run and what a `PUT` over them must check.
    seen: HashMap<String, Seen>,
}

impl std::fmt::Debug for WebDav {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebDav")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// The collection's URL, checked against the transport's rules, credentials refused (they
/// belong in the vault, never in a stored target or an error message), ending in `/`.
pub(crate) fn collection_url(url: &str) -> Result<Url, TargetError> {
    let bad = |why: &'static str| TargetError::WebDavUrl {
        url: if url.contains('@') {
            "the given address".into()
        } else {
            url.to_owned()
        },
        why,
    };
    let mut parsed = twofold_http::check_url(url).map_err(|e| match e {
        twofold_http::HttpError::Insecure(_) => {
            bad("only https:// is allowed (http:// only to this device)")
        }
        twofold_http::HttpError::Ambiguous {
            why: twofold_http::Ambiguity::UserInfo,
            ..
        } => bad("give the user with --webdav-user, not in the address"),
        _ => bad("not a valid address"),
    })?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("give the user with --webdav-user, not in the address"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("a WebDAV folder's address has no ? or # part"));
    }
    if !parsed.path().ends_with('/') {
        let path = format!("{}/", parsed.path());
        parsed.set_path(&path);
    }
    Ok(parsed)
}

impl WebDav {
    /// The collection of `target`, with `password` for `target.user`.
    pub fn new(
        target: &WebDavTarget,
        password: Option<Zeroizing<String>>,
    ) -> Result<WebDav, TargetError> {
        let base = collection_url(&target.url)?;
        Ok(WebDav {
            client: Client::new()?,
            base,
            user: target.user.clone(),
            password,
            seen: HashMap::new(),
        })
    }

    fn request<'a>(&'a self, verb: Verb, url: &'a str) -> HttpRequest<'a> {
        let r = HttpRequest::new(verb, url);
        match &self.user {
            Some(user) => r.basic_auth(user, self.password.as_ref().map(|p| p.as_str())),
            None => r,
        }
    }

    fn file_url(&self, name: &str) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push(name);
        }
        url
    }

    fn refused(&self, status: u16) -> TargetError {
        TargetError::Unauthorized {
            url: self.base.to_string(),
            status,
        }
    }
}

/// One `<response>` of a listing.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Entry {
    href: String,
    collection: bool,
    length: Option<u64>,
    etag: Option<String>,
}

/// The properties of one `<propstat>`, taken only when its status is 200.
#[derive(Debug, Default)]
struct Props {
    collection: bool,
    length: Option<u64>,
    etag: Option<String>,
    ok: bool,
}

const DAV: Namespace<'static> = Namespace(b"DAV:");

/// Reads a `207 Multi-Status` body into its entries; at most [`MAX_ENTRIES`].
fn parse_multistatus(body: &[u8]) -> Result<Vec<Entry>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "not UTF-8".to_owned())?;
    let mut reader = NsReader::from_str(text);
    let mut entries = Vec::new();
    // The DAV: elements open around the cursor (local names), and the text being gathered.
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut text = String::new();
    let mut entry: Option<Entry> = None;
    let mut props: Option<Props> = None;
    let mut saw_multistatus = false;
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("malformed XML: {e}"))?;
        let in_dav = matches!(ns, ResolveResult::Bound(n) if n == DAV);
        match event {
            Event::Start(e) => {
                let name = if in_dav {
                    e.local_name().as_ref().to_vec()
                } else {
                    Vec::new()
                };
                match name.as_slice() {
                    b"multistatus" if path.is_empty() => saw_multistatus = true,
                    b"response" => {
                        if entries.len() >= MAX_ENTRIES {
                            return Err(format!("more than {MAX_ENTRIES} entries"));
                        }
                        entry = Some(Entry::default());
                    }
                    b"propstat" => props = Some(Props::default()),
                    b"collection" => {
                        if let Some(p) = props.as_mut() {
                            p.collection = true;
                        }
                    }
                    _ => {}
                }
                path.push(name);
                text.clear();
            }
            Event::Empty(e) if in_dav => match e.local_name().as_ref() {
                b"multistatus" if path.is_empty() => saw_multistatus = true,
                b"collection" => {
                    if let Some(p) = props.as_mut() {
                        p.collection = true;
                    }
                }
                _ => {}
            },
            Event::Text(t) => {
                text.push_str(&t.decode().map_err(|e| format!("bad text: {e}"))?);
            }
            Event::CData(t) => {
                // CDATA is literal: escaped so the unescaping below gives it back.
                let raw = t.decode().map_err(|e| format!("bad text: {e}"))?;
                text.push_str(&quick_xml::escape::escape(raw.as_ref()));
            }
            Event::GeneralRef(r) => {
                text.push('&');
                text.push_str(&r.decode().map_err(|e| format!("bad text: {e}"))?);
                text.push(';');
            }
            Event::End(_) => {
                let name = path.pop().unwrap_or_default();
                let value = || -> Result<String, String> {
                    quick_xml::escape::unescape(text.trim())
                        .map(|v| v.into_owned())
                        .map_err(|e| format!("bad text: {e}"))
                };
                match name.as_slice() {
                    b"href" if path.last().map(Vec::as_slice) == Some(b"response") => {
                        if let Some(en) = entry.as_mut() {
                            en.href = value()?;
                        }
                    }
                    b"status" if path.last().map(Vec::as_slice) == Some(b"propstat") => {
                        if let Some(p) = props.as_mut() {
                            p.ok = value()?.split_whitespace().nth(1) == Some("200");
                        }
                    }
                    b"getcontentlength" => {
                        if let Some(p) = props.as_mut() {
                            p.length = value()?.parse().ok();
                        }
                    }
                    b"getetag" => {
                        if let Some(p) = props.as_mut() {
                            p.etag = Some(value()?).filter(|v| !v.is_empty());
                        }
                    }
                    b"propstat" => {
                        if let (Some(p), Some(en)) = (props.take(), entry.as_mut())
                            && p.ok
                        {
                            en.collection |= p.collection;
                            en.length = en.length.or(p.length);
                            en.etag = en.etag.take().or(p.etag);
                        }
                    }
                    b"response" => {
                        if let Some(en) = entry.take() {
                            entries.push(en);
                        }
                    }
                    _ => {}
                }
                text.clear();
            }
            Event::Eof => {
                if !path.is_empty() {
                    return Err("the listing is cut short".into());
                }
                break;
            }
            _ => {}
        }
    }
    if !saw_multistatus {
        return Err("not a WebDAV multistatus".into());
    }
    Ok(entries)
}

/// The file name of `href` when it names a direct member of the collection `base`; `None` for
/// the collection itself, anything deeper, elsewhere or on another server.
fn member_name(base: &Url, href: &str) -> Option<String> {
    let url = base.join(href).ok()?;
    if url.origin() != base.origin() {
        return None;
    }
    let decode = |p: &str| {
        percent_decode_str(p)
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    };
    let base_path = decode(base.path())?;
    let path = decode(url.path())?;
    let name = path.strip_prefix(&base_path)?;
    if name.is_empty() || name.contains('/') {
        return None;
    }
    Some(name.to_owned())
}

impl Store for WebDav {
    fn list(&mut self) -> Result<Listing, TargetError> {
        self.seen.clear();
        let base = self.base.to_string();
        let reply = self.client.fetch(
            self.request(Verb::Propfind, &base)
                .header("Depth", "1")
                .header("Content-Type", "application/xml; charset=utf-8")
                .body(PROPFIND_BODY.as_bytes().to_vec()),
        )?;
        match reply.status {
            207 => {}
            401 | 403 => return Err(self.refused(reply.status)),
            404 => {
                return Err(TargetError::Status {
                    what: "listing the folder, which does not exist",
                    url: base,
                    status: 404,
                });
            }
            status => {
                return Err(TargetError::Status {
                    what: "listing the folder",
                    url: base,
                    status,
                });
            }
        }
        let entries = parse_multistatus(&reply.body).map_err(|reason| TargetError::Listing {
            url: base.clone(),
            reason,
        })?;
        let mut listing = Listing::default();
        let mut wanted = Vec::new();
        for e in entries {
            if e.collection {
                continue;
            }
            let Some(name) = member_name(&self.base, &e.href) else {
                continue;
            };
            if !name.ends_with(SUFFIX) {
                continue;
            }
            if wanted.len() >= MAX_FILES {
                return Err(TargetError::TooManyFiles);
            }
            wanted.push((name, e));
        }
        read_order(&mut wanted, |w| &w.0, |w| w.1.length);
        let mut budget = Budget::new();
        for (name, e) in wanted {
            if let Err(skip) = budget.admit(e.length) {
                listing.warnings.push(skip.warning(name));
                continue;
            }
            let url = self.file_url(&name).to_string();
            let reply = match self
                .client
                .fetch(self.request(Verb::Get, &url).max_body(budget.cap()))
            {
                Ok(r) => r,
                // Larger than the listing said (or than it may be): skipped, named.
                Err(twofold_http::HttpError::TooLarge(_)) => {
                    listing.warnings.push(budget.past_cap().warning(name));
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            match reply.status {
                200 => {}
                // Removed since the listing (by its writer, or a user): not there to merge.
                404 | 410 => continue,
                401 | 403 => return Err(self.refused(reply.status)),
                status => {
                    return Err(TargetError::Status {
                        what: "reading a file",
                        url,
                        status,
                    });
                }
            }
            budget.spend(reply.body.len());
            // The ETag of the bytes read, else the listing's.
            let seen = Seen::of(reply.etag.or(e.etag), Instant::now());
            self.seen.insert(name.clone(), seen);
            listing.files.push(TargetFile {
                name,
                bytes: reply.body,
            });
        }
        listing.files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(listing)
    }

    fn put(
        &mut self,
        file: &TargetFile,
        _device: DeviceId,
        _rng: &dyn Rng,
    ) -> Result<(), TargetError> {
        // The server writes a PUT's body to a temporary file and renames it (Apache's
        // mod_dav_fs, Nextcloud): a reader sees the old or the new bytes, and no temporary
        // file of ours is ever left behind.
        let url = self.file_url(&file.name).to_string();
        let request = self
            .request(Verb::Put, &url)
            .header("Content-Type", "application/octet-stream")
            .body(file.bytes.clone());
        let request = match self.seen.get(&file.name) {
            None => request.header("If-None-Match", "*"),
            Some(Seen::ETag(t)) => request.header("If-Match", t.clone()),
            Some(Seen::Weak(t, at)) => {
                // Rare: this device wrote its file less than a second before this sync read
                // it. At most 1.1 s of waiting.
                let ready = *at + WEAK_TO_STRONG;
                let now = Instant::now();
                if ready > now {
                    std::thread::sleep(ready - now);
                }
                request.header("If-Match", t.clone())
            }
            Some(Seen::Unknown) => request,
        };
        let reply = self.client.fetch(request)?;
        match reply.status {
            200 | 201 | 204 => {
                // Another PUT in this run must not assume it is still absent.
                let seen = Seen::of(reply.etag, Instant::now());
                self.seen.insert(file.name.clone(), seen);
                Ok(())
            }
            412 => Err(TargetError::Conflict {
                name: file.name.clone(),
            }),
            401 | 403 => Err(self.refused(reply.status)),
            status => Err(TargetError::Status {
                what: "writing this device's file",
                url,
                status,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use twofold_core::sync::replica::MAX_REPLICA_BYTES;

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
}
