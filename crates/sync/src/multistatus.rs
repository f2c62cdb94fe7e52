//! A WebDAV listing (`docs/sync.md` "WebDAV"): the `PROPFIND` asked for, its `207
//! Multi-Status` reply read into entries (at most [`MAX_ENTRIES`]), and which entries name a
//! direct member of the collection.

use percent_encoding::percent_decode_str;
use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::{Namespace, ResolveResult};
use twofold_http::Url;

use crate::webdav::MAX_ENTRIES;

/// Only the properties a sync needs, which keeps the listing small (about 400 bytes a file).
pub(crate) const PROPFIND_BODY: &str = concat!(
    r#"<?xml version="1.0" encoding="utf-8"?>"#,
    r#"<D:propfind xmlns:D="DAV:"><D:prop>"#,
    r#"<D:resourcetype/><D:getcontentlength/><D:getetag/>"#,
    r#"</D:prop></D:propfind>"#
);

/// One `<response>` of a listing.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) href: String,
    pub(crate) collection: bool,
    pub(crate) length: Option<u64>,
    pub(crate) etag: Option<String>,
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
pub(crate) fn parse_multistatus(body: &[u8]) -> Result<Vec<Entry>, String> {
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
pub(crate) fn member_name(base: &Url, href: &str) -> Option<String> {
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
