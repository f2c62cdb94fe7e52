//! Where a vault syncs, as the vault stores it: `folder:<absolute path>` or `webdav:<URL>`
//! (never with credentials: the WebDAV login is kept apart, encrypted in the vault).

use std::path::PathBuf;

use crate::TargetError;

const FOLDER: &str = "folder:";
const WEBDAV: &str = "webdav:";

/// A sync target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A folder that a sync tool carries (an absolute path).
    Folder(PathBuf),
    /// A WebDAV collection.
    WebDav(WebDavTarget),
}

/// A WebDAV collection and the user who logs in to it (the password is given to
/// [`crate::open`], from the vault's `sync_credentials`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebDavTarget {
    /// The collection's address: `https://` (plain `http://` only to loopback), no
    /// credentials, ending in `/` when made by [`WebDavTarget::new`].
    pub url: String,
    /// The HTTP Basic user, if the server wants a login.
    pub user: Option<String>,
}

impl WebDavTarget {
    /// Checks `url` (HTTPS, or HTTP to loopback; no credentials, query or fragment) and
    /// writes it as the vault stores it (ending in `/`), so that one folder is always one
    /// stored target.
    pub fn new(url: &str, user: Option<String>) -> Result<WebDavTarget, TargetError> {
        let url = crate::webdav::collection_url(url)?.to_string();
        Ok(WebDavTarget { url, user })
    }
}

/// A stored target this build cannot reach.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this vault syncs with a target this version cannot reach")]
pub struct TargetParseError;

impl Target {
    /// The target of a stored `folder:` or `webdav:` string (a WebDAV target's user is `None`:
    /// it is kept with the password, in the vault's `sync_credentials`).
    pub fn parse(stored: &str) -> Result<Target, TargetParseError> {
        if let Some(p) = stored.strip_prefix(FOLDER).filter(|p| !p.is_empty()) {
            return Ok(Target::Folder(PathBuf::from(p)));
        }
        if let Some(u) = stored.strip_prefix(WEBDAV).filter(|u| !u.is_empty()) {
            return Ok(Target::WebDav(WebDavTarget {
                url: u.to_owned(),
                user: None,
            }));
        }
        Err(TargetParseError)
    }

    /// How the vault stores it.
    pub fn stored(&self) -> String {
        match self {
            Target::Folder(dir) => format!("{FOLDER}{}", dir.display()),
            Target::WebDav(t) => format!("{WEBDAV}{}", t.url),
        }
    }

    /// How a person reads it (a path, a URL without credentials).
    pub fn describe(&self) -> String {
        match self {
            Target::Folder(dir) => dir.display().to_string(),
            Target::WebDav(t) => t.url.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_round_trip() {
        let t = Target::parse("folder:/home/a/Sync").unwrap();
        assert_eq!(t, Target::Folder(PathBuf::from("/home/a/Sync")));
        assert_eq!(t.stored(), "folder:/home/a/Sync");
        assert_eq!(Target::parse("folder:"), Err(TargetParseError));
        assert_eq!(Target::parse("ftp://x"), Err(TargetParseError));
    }

    #[test]
    fn webdav_round_trip_without_credentials() {
        let w = WebDavTarget::new(
            "https://cloud.example.com/dav/Twofold",
            Some("alice".into()),
        )
        .unwrap();
        assert_eq!(w.url, "https://cloud.example.com/dav/Twofold/");
        let t = Target::WebDav(w);
        assert_eq!(t.stored(), "webdav:https://cloud.example.com/dav/Twofold/");
        assert!(!t.stored().contains("alice"));
        assert_eq!(
            Target::parse(&t.stored()).unwrap(),
            Target::WebDav(WebDavTarget {
                url: "https://cloud.example.com/dav/Twofold/".into(),
                user: None
            })
        );
        assert_eq!(t.describe(), "https://cloud.example.com/dav/Twofold/");
        assert_eq!(Target::parse("webdav:"), Err(TargetParseError));
        assert!(WebDavTarget::new("http://cloud.example.com/dav/", None).is_err());
        assert!(WebDavTarget::new("https://alice:pw@cloud.example.com/", None).is_err());
    }
}
