//! Twofold's one HTTP transport: sends a core [`Request`] (built by the sans-IO protocol
//! code in `twofold-core`) and returns the reply's status and body. Push enrolment, polls and
//! answers go through it in the app and the CLI, and sync's WebDAV target ([`Client`],
//! [`HttpRequest`]: any method, headers, Basic authentication); token containers will too.
//!
//! The rules, the same in every build:
//! - `https://` everywhere; `http://` only to a loopback address (`127.0.0.0/8`, `::1`,
//!   `localhost`: our test servers), anything else is refused before a byte is sent;
//! - the address is read once, by the core's `ServerUrl` (the WHATWG parse reqwest uses), and
//!   text two readers could take for two hosts is refused ([`HttpError::Ambiguous`]);
//! - redirects are never followed: a 3xx reply is [`HttpError::Redirect`] (a server must not
//!   move a signed request, or the phone's public key, somewhere else);
//! - reply bodies are read up to [`MAX_BODY_BYTES`] and no further;
//! - [`CONNECT_TIMEOUT`] to connect, [`TIMEOUT`] for the whole exchange.
//!
//! This crate does the I/O the core leaves out; it has no protocol logic.

#![forbid(unsafe_code)]

use std::io::Read;
use std::net::IpAddr;
use std::time::Duration;

pub use reqwest::Url;
use reqwest::redirect::Policy;
pub use twofold_core::push::{Method, PollError, Request};
pub use twofold_core::server_url::{Ambiguity, ServerUrl, ServerUrlError};
use twofold_core::vault::{PollFailure, PollReplies};

/// The largest reply body taken, 1 MiB. privacyIDEA's largest reply (a poll listing every
/// open challenge of a token) is a few KiB, and an encrypted vault of thousands of accounts
/// stays well below it; a server sending more is broken or hostile, and the phone must not
/// buffer it.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How long connecting (TCP and TLS) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one whole exchange may take, reading the reply included.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// A server's reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status code (privacyIDEA puts its errors in a JSON body, so any status that
    /// is not a redirect comes back here).
    pub status: u16,
    /// The body, at most [`MAX_BODY_BYTES`].
    pub body: Vec<u8>,
}

/// Why a request got no usable reply. Messages name the URL (never the parameters, which
/// carry signatures and tokens).
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL does not parse or has no host.
    #[error("{0:?} is not a valid server address")]
    InvalidUrl(String),
    /// Text that two readers could take for two hosts (a backslash, user information,
    /// control characters or white space: [`ServerUrl`]), refused before a byte is sent.
    #[error("refused to contact {url:?}: the address contains {why}, so it could name two servers")]
    Ambiguous {
        /// The address (never its user information).
        url: String,
        /// What makes it ambiguous.
        why: Ambiguity,
    },
    /// `http://` to a host that is not loopback, or a scheme that is not HTTP(S).
    #[error("refused to contact {0}: only https:// is allowed (http:// only to this device)")]
    Insecure(String),
    /// The server answered with a redirect, which is never followed.
    #[error("{url} answered with a redirect (HTTP {status}), which Twofold does not follow")]
    Redirect {
        /// The request's URL.
        url: String,
        /// The 3xx status.
        status: u16,
    },
    /// The reply's body is larger than [`MAX_BODY_BYTES`].
    #[error("the reply from {0} is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge(String),
    /// No reply in time.
    #[error("{0} did not answer in time")]
    Timeout(String),
    /// The connection or the exchange failed (DNS, TCP, TLS, HTTP).
    #[error("cannot reach {url}: {reason}")]
    Network {
        /// The request's URL.
        url: String,
        /// What failed, with its causes.
        reason: String,
    },
}

/// True for `http://` targets Twofold may contact: loopback addresses only.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Checks a server address against the rules above without contacting it: what the
/// enrolment's confirmation screen shows before any request. The address is read once, by the
/// core's [`ServerUrl`] (the WHATWG parse reqwest uses, ambiguous text refused), and that
/// reading is what is sent to: the core's origin checks and the transport cannot disagree on
/// the host.
pub fn check_url(url: &str) -> Result<Url, HttpError> {
    check_server(url).map(|s| s.url().clone())
}

/// [`check_url`], keeping the core's [`ServerUrl`].
pub fn check_server(url: &str) -> Result<ServerUrl, HttpError> {
    let parsed = ServerUrl::parse(url).map_err(|e| match e {
        ServerUrlError::NotHttp => HttpError::Insecure(redacted(url)),
        ServerUrlError::Invalid => HttpError::InvalidUrl(redacted(url)),
        ServerUrlError::Ambiguous(why) => HttpError::Ambiguous {
            url: redacted(url),
            why,
        },
    })?;
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback(parsed.url()) => Ok(parsed),
        _ => Err(HttpError::Insecure(url.to_owned())),
    }
}

/// An address for an error message: without what could be user information (a password).
fn redacted(url: &str) -> String {
    if url.contains('@') {
        "the given address".to_owned()
    } else {
        url.chars().filter(|c| !c.is_control()).collect()
    }
}

/// The error and its causes on one line.
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn network(url: &str, e: reqwest::Error) -> HttpError {
    if e.is_timeout() {
        HttpError::Timeout(url.to_owned())
    } else {
        HttpError::Network {
            url: url.to_owned(),
            reason: describe(&e.without_url()),
        }
    }
}

fn client(verify_tls: bool, name: &str) -> Result<reqwest::blocking::Client, HttpError> {
    reqwest::blocking::Client::builder()
        .danger_accept_invalid_certs(!verify_tls)
        .redirect(Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TIMEOUT)
        .user_agent(concat!("twofold/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| network(name, e))
}

/// Sends `builder`, refuses a redirect, and reads at most `max_body` bytes of the reply.
fn exchange(
    builder: reqwest::blocking::RequestBuilder,
    name: &str,
    max_body: usize,
) -> Result<Response, HttpError> {
    let reply = builder.send().map_err(|e| network(name, e))?;
    let status = reply.status();
    if status.is_redirection() {
        return Err(HttpError::Redirect {
            url: name.to_owned(),
            status: status.as_u16(),
        });
    }
    if reply.content_length().is_some_and(|n| n > max_body as u64) {
        return Err(HttpError::TooLarge(name.to_owned()));
    }
    let etag = reply
        .headers()
        .get(reqwest::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut body = Vec::new();
    // One byte over the cap tells a body of exactly the cap from a larger one.
    reply
        .take(max_body as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::TimedOut {
                HttpError::Timeout(name.to_owned())
            } else {
                HttpError::Network {
                    url: name.to_owned(),
                    reason: describe(&e),
                }
            }
        })?;
    if body.len() > max_body {
        return Err(HttpError::TooLarge(name.to_owned()));
    }
    Ok(Response {
        status: status.as_u16(),
        etag,
        body,
    })
}

/// Sends `request` (blocking: call it off an async runtime's workers) and returns the reply.
/// TLS certificates are checked unless the request says otherwise (privacyIDEA's
/// `sslverify=0`, which the user confirmed).
pub fn send(request: &Request) -> Result<Reply, HttpError> {
    let url = check_url(&request.url)?;
    let name = request.url.as_str();
    let client = client(request.verify_tls, name)?;
    let builder = match request.method {
        Method::Get => client.get(url).query(&request.params),
        Method::Post => client.post(url).form(&request.params),
    };
    let r = exchange(builder, name, MAX_BODY_BYTES)?;
    Ok(Reply {
        status: r.status,
        body: r.body,
    })
}

/// A request with any method, headers, Basic authentication and a body: what WebDAV needs
/// (`PROPFIND`, `GET`, conditional `PUT`, `DELETE`). The same rules as [`send`]: the URL is
/// checked first, redirects are refused, the body is capped, the same timeouts; TLS
/// certificates are always checked.
pub struct HttpRequest<'a> {
    method: reqwest::Method,
    url: &'a str,
    headers: Vec<(&'static str, String)>,
    auth: Option<(&'a str, Option<&'a str>)>,
    body: Option<Vec<u8>>,
    max_body: usize,
}

impl std::fmt::Debug for HttpRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password never; the body may be anything, so only its size.
        f.debug_struct("HttpRequest")
            .field("method", &self.method.as_str())
            .field("url", &self.url)
            .field("headers", &self.headers)
            .field("auth", &self.auth.map(|(user, _)| user))
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("max_body", &self.max_body)
            .finish()
    }
}

/// The methods an [`HttpRequest`] may use: what WebDAV needs (RFC 4918).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// `GET`: read a file.
    Get,
    /// `PUT`: write a file.
    Put,
    /// `DELETE`: remove a file.
    Delete,
    /// `PROPFIND`: list a collection.
    Propfind,
}

impl Verb {
    fn method(self) -> reqwest::Method {
        match self {
            Verb::Get => reqwest::Method::GET,
            Verb::Put => reqwest::Method::PUT,
            Verb::Delete => reqwest::Method::DELETE,
            // A valid token: from_bytes cannot fail on it; GET would be a safe fallback.
            Verb::Propfind => {
                reqwest::Method::from_bytes(b"PROPFIND").unwrap_or(reqwest::Method::GET)
            }
        }
    }
}

impl<'a> HttpRequest<'a> {
    /// `verb` to `url`, no headers, no body, replies capped at [`MAX_BODY_BYTES`].
    pub fn new(verb: Verb, url: &'a str) -> HttpRequest<'a> {
        HttpRequest {
            method: verb.method(),
            url,
            headers: Vec::new(),
            auth: None,
            body: None,
            max_body: MAX_BODY_BYTES,
        }
    }

    /// Adds a header (`Depth`, `If-Match`, `If-None-Match`, `Content-Type`...).
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// HTTP Basic authentication (RFC 7617); the header is marked sensitive.
    pub fn basic_auth(mut self, user: &'a str, password: Option<&'a str>) -> Self {
        self.auth = Some((user, password));
        self
    }

    /// The request's body.
    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = Some(body);
        self
    }

    /// A different cap on the reply's body (a sync replica may be larger than
    /// [`MAX_BODY_BYTES`]; the caller names its own bound).
    pub fn max_body(mut self, max: usize) -> Self {
        self.max_body = max;
        self
    }
}

/// A reply to an [`HttpRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status code (any but a redirect).
    pub status: u16,
    /// The `ETag` header, as sent (`"..."` or `W/"..."`).
    pub etag: Option<String>,
    /// The body, at most the request's cap.
    pub body: Vec<u8>,
}

/// Reuses one connection pool for several [`HttpRequest`]s (a WebDAV sync's list, reads and
/// write).
#[derive(Debug, Clone)]
pub struct Client {
    inner: reqwest::blocking::Client,
}

impl Client {
    /// A client with the transport's rules (certificates checked, no redirects, timeouts).
    pub fn new() -> Result<Client, HttpError> {
        Ok(Client {
            inner: client(true, "the HTTP client")?,
        })
    }

    /// Sends `request` (blocking) and returns the reply, whatever its non-redirect status.
    pub fn fetch(&self, request: HttpRequest<'_>) -> Result<Response, HttpError> {
        let url = check_url(request.url)?;
        let name = request.url;
        let mut builder = self.inner.request(request.method, url);
        for (k, v) in request.headers {
            builder = builder.header(k, v);
        }
        if let Some((user, password)) = request.auth {
            builder = builder.basic_auth(user, password);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        exchange(builder, name, request.max_body)
    }
}

/// Sends `request` and returns the reply's body whatever its (non-redirect) status:
/// privacyIDEA puts its errors in a JSON body, which the core reads.
pub fn send_body(request: &Request) -> Result<Vec<u8>, HttpError> {
    send(request).map(|r| r.body)
}

/// One round of polls: sends every account's poll request (from `Vault::poll_requests`) and
/// returns each reply's body or why there is none, ready for `Vault::read_poll_replies`
/// (which fails only when every account failed).
pub fn poll_all(requests: Vec<(String, Result<Request, PollError>)>) -> PollReplies<HttpError> {
    requests
        .into_iter()
        .map(|(serial, r)| {
            let body = r
                .map_err(PollFailure::from)
                .and_then(|r| send_body(&r).map_err(PollFailure::Send));
            (serial, body)
        })
        .collect()
}
