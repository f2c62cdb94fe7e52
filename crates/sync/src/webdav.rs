//! A WebDAV target (`docs/sync.md` "WebDAV"): `PROPFIND` (depth 1) lists the collection,
//! `GET` reads each `*.twofold-sync` file, `PUT` writes this device's replica, conditionally:
//! `If-Match` with the ETag read in this run, `If-None-Match: *` for a file that was not there.
//! A `412` is [`TargetError::Conflict`]: nothing was written and the caller does not save.
//! Every request goes through `twofold-http` (HTTPS, plain HTTP only to loopback, no
//! redirects, capped replies, timeouts) with HTTP Basic authentication.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use twofold_core::rng::Rng;
use twofold_core::sync::session::{MAX_FILES, SUFFIX};
use twofold_core::sync::{DeviceId, TargetFile};
use twofold_http::{Client, HttpRequest, Url, Verb};
use zeroize::Zeroizing;

use crate::budget::{Budget, read_order};
use crate::multistatus::{PROPFIND_BODY, member_name, parse_multistatus};
use crate::{Listing, Store, TargetError, WebDavTarget};

/// The most `<response>` entries a listing may hold (sync files and anything else in the
/// collection); the listing's body is capped by the transport before this.
pub const MAX_ENTRIES: usize = 10 * MAX_FILES;

/// How long after a listing a weak ETag of an unchanged file has become strong: Apache
/// (mod_dav_fs) marks the ETag of a file changed in the last second weak, and `If-Match` never
/// matches a weak ETag (RFC 9110 §13.1.1: strong comparison).
const WEAK_TO_STRONG: Duration = Duration::from_millis(1100);

/// What a conditional `PUT` over a file read in this run checks.
#[derive(Debug, Clone)]
pub(crate) enum Seen {
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
    pub(crate) seen: HashMap<String, Seen>,
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
