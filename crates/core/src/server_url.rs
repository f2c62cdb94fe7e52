//! A server's address as the HTTP transport reads it: one type, one parse.
//!
//! `twofold-http` hands reqwest a [`url::Url`], parsed by the WHATWG URL Standard (which, for
//! `http`/`https`, reads `\` as `/`, drops tabs and newlines, trims spaces and control
//! characters at the ends, and takes everything before the last `@` of the authority as user
//! information). Any other reading of the same text, such as cutting the authority at the first
//! `/`, may name another host: `http://B\@A/` is host `B` to the transport and host `A` to a
//! naive split. So every origin check of the core (a token container's own server, its push
//! tokens' servers) and the transport itself read an address through [`ServerUrl::parse`], and
//! text that two readers could take for two hosts is refused outright
//! ([`ServerUrlError::Ambiguous`]).

use std::fmt;

/// Why a server address is refused. Never holds the address itself (user information could
/// carry a password).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ServerUrlError {
    /// Not a URL the WHATWG parser reads, or one without a host.
    #[error("not a valid server address")]
    Invalid,
    /// Not `http://` or `https://`.
    #[error("not an http:// or https:// address")]
    NotHttp,
    /// Text that two readers could take for two hosts.
    #[error("the server address is ambiguous: it contains {0}")]
    Ambiguous(Ambiguity),
}

/// What makes an address ambiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ambiguity {
    /// A `\`, which the WHATWG parser reads as `/` and other parsers do not.
    Backslash,
    /// User information (`user@`, `user:password@`, a stray `@` in the authority).
    UserInfo,
    /// A control character, which the WHATWG parser drops or trims and others keep.
    ControlCharacter,
    /// White space, which the WHATWG parser trims at the ends and others keep.
    WhiteSpace,
}

impl fmt::Display for Ambiguity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ambiguity::Backslash => "a backslash",
            Ambiguity::UserInfo => "user information (an @ before the host)",
            Ambiguity::ControlCharacter => "a control character",
            Ambiguity::WhiteSpace => "white space",
        })
    }
}

/// An unambiguous `http(s)` server address: the text as given (privacyIDEA signs it as it
/// is) and the transport's parse of it.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerUrl {
    text: String,
    url: url::Url,
}

impl fmt::Debug for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ServerUrl").field(&self.text).finish()
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl ServerUrl {
    /// Reads `text` as the transport does; refuses what is not `http(s)` with a host, and what
    /// is ambiguous (a backslash, user information, control characters, white space).
    pub fn parse(text: &str) -> Result<ServerUrl, ServerUrlError> {
        let ambiguous = |a| Err(ServerUrlError::Ambiguous(a));
        let url = url::Url::parse(text).map_err(|_| ServerUrlError::Invalid)?;
        if text.contains('\\') {
            return ambiguous(Ambiguity::Backslash);
        }
        if text.chars().any(char::is_control) {
            return ambiguous(Ambiguity::ControlCharacter);
        }
        if text.chars().any(char::is_whitespace) {
            return ambiguous(Ambiguity::WhiteSpace);
        }
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ServerUrlError::NotHttp);
        }
        // With no backslash, the WHATWG authority of a special scheme ends at the first `/`,
        // `?` or `#` after `scheme://`: an `@` there is user information, even an empty one.
        // The parser also finds a host after `http:`, `http:/` or `http:///`; such text is
        // refused rather than read two ways.
        let after = text
            .split_once("://")
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case(url.scheme()))
            .map(|(_, rest)| rest)
            .ok_or(ServerUrlError::Invalid)?;
        let authority = after.split(['/', '?', '#']).next().unwrap_or("");
        if authority.contains('@') || !url.username().is_empty() || url.password().is_some() {
            return ambiguous(Ambiguity::UserInfo);
        }
        if authority.is_empty() || url.host_str().is_none_or(str::is_empty) {
            return Err(ServerUrlError::Invalid);
        }
        Ok(ServerUrl {
            text: text.to_owned(),
            url,
        })
    }

    /// The address as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The transport's parse (reqwest's `Url`).
    pub fn url(&self) -> &url::Url {
        &self.url
    }

    /// The host as the transport reads it (an IDN in its ASCII form, an IPv6 address in
    /// brackets).
    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or("")
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &str {
        self.url.scheme()
    }

    /// The origin, `scheme://host[:port]` with the default port left out, as the transport
    /// reads it.
    pub fn origin(&self) -> String {
        self.url.origin().ascii_serialization()
    }

    /// True when both name the same server (same [`ServerUrl::origin`]).
    pub fn same_origin(&self, other: &ServerUrl) -> bool {
        self.url.origin() == other.url.origin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_is_the_transports() {
        let u = ServerUrl::parse("HTTPS://PI.Example.com:443/pi/").unwrap();
        assert_eq!(u.origin(), "https://pi.example.com");
        assert_eq!(u.host(), "pi.example.com");
        assert_eq!(u.as_str(), "HTTPS://PI.Example.com:443/pi/");
        // Forms a naive split reads differently: the WHATWG reading is the only one.
        assert_eq!(
            ServerUrl::parse("http://0x7f.1:8080/").unwrap().origin(),
            "http://127.0.0.1:8080"
        );
        assert!(
            ServerUrl::parse("https://pi.example.com/ttype/push")
                .unwrap()
                .same_origin(&ServerUrl::parse("https://pi.example.com:443/").unwrap())
        );
        assert!(
            !ServerUrl::parse("http://127.0.0.1:5000/")
                .unwrap()
                .same_origin(&ServerUrl::parse("http://localhost:5000/").unwrap())
        );
    }

    #[test]
    fn ambiguous_addresses_are_refused() {
        use Ambiguity::*;
        for (text, why) in [
            ("http://B\\@A/", Backslash),
            ("http://A\\B/", Backslash),
            ("http://u:p@A/", UserInfo),
            ("http://@A/", UserInfo),
            ("https://B@A:443/x", UserInfo),
            ("http://A\t.example/", ControlCharacter),
            ("http://A/\n", ControlCharacter),
            ("http://A/\u{85}", ControlCharacter),
            (" http://A/", WhiteSpace),
            ("http://A/ x", WhiteSpace),
        ] {
            assert_eq!(
                ServerUrl::parse(text),
                Err(ServerUrlError::Ambiguous(why)),
                "{text:?}"
            );
        }
        // The error never repeats the address (it may hold a password).
        let e = ServerUrl::parse("https://alice:s3cret@A/").unwrap_err();
        assert!(!e.to_string().contains("s3cret"));
        assert_eq!(ServerUrl::parse("ftp://A/"), Err(ServerUrlError::NotHttp));
        assert_eq!(ServerUrl::parse("http:///x"), Err(ServerUrlError::Invalid));
        assert_eq!(ServerUrl::parse("http:/x"), Err(ServerUrlError::Invalid));
        assert_eq!(ServerUrl::parse("http:x"), Err(ServerUrlError::Invalid));
        assert_eq!(ServerUrl::parse("pi.example"), Err(ServerUrlError::Invalid));
    }
}
