//! Where a vault syncs, as the vault stores it: `folder:<absolute path>`, `webdav:<URL>` (never
//! with credentials: the WebDAV login is kept apart, encrypted in the vault) or `saf:<tree URI>`
//! (a folder an Android phone's system picker chose, reachable only by the app there).

use std::path::PathBuf;

use crate::TargetError;

const FOLDER: &str = "folder:";
const WEBDAV: &str = "webdav:";
const SAF: &str = "saf:";

/// A sync target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A folder that a sync tool carries (an absolute path).
    Folder(PathBuf),
    /// A WebDAV collection.
    WebDav(WebDavTarget),
    /// A folder chosen in Android's storage-access-framework picker: its tree URI
    /// (`content://<provider>/tree/<document id>`), whose access the app keeps across restarts.
    Saf(String),
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
        if let Some(u) = stored
            .strip_prefix(SAF)
            .filter(|u| u.starts_with("content://"))
        {
            return Ok(Target::Saf(u.to_owned()));
        }
        Err(TargetParseError)
    }

    /// How the vault stores it.
    pub fn stored(&self) -> String {
        match self {
            Target::Folder(dir) => format!("{FOLDER}{}", dir.display()),
            Target::WebDav(t) => format!("{WEBDAV}{}", t.url),
            Target::Saf(tree) => format!("{SAF}{tree}"),
        }
    }

    /// How a person reads it (a path, a URL without credentials).
    pub fn describe(&self) -> String {
        match self {
            Target::Folder(dir) => dir.display().to_string(),
            Target::WebDav(t) => t.url.clone(),
            Target::Saf(tree) => saf_place(tree),
        }
    }
}

/// The document id a tree URI names, percent-encoded as in the URI (`primary%3ASync`).
fn saf_tree_id(tree: &str) -> Option<&str> {
    let (_, rest) = tree.split_once("/tree/")?;
    let id = rest.split('/').next()?;
    (!id.is_empty()).then_some(id)
}

/// A tree URI as a person reads it: its document id decoded (`primary:Sync`, the provider's
/// volume and path), else the URI.
fn saf_place(tree: &str) -> String {
    saf_tree_id(tree)
        .and_then(|id| percent_encoding::percent_decode_str(id).decode_utf8().ok())
        .map(|id| id.into_owned())
        .unwrap_or_else(|| tree.to_owned())
}

/// The document URI of a tree's top folder, as Android's
/// `DocumentsContract.buildDocumentUriUsingTree(tree, getTreeDocumentId(tree))` writes it:
/// `content://<provider>/tree/<id>/document/<id>`.
pub fn saf_document_uri(tree: &str) -> Option<String> {
    let id = saf_tree_id(tree)?;
    let (head, _) = tree.split_once("/tree/")?;
    Some(format!("{head}/tree/{id}/document/{id}"))
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
    fn saf_round_trip() {
        let tree = "content://com.android.externalstorage.documents/tree/primary%3ASync%2FTwofold";
        let t = Target::parse(&format!("saf:{tree}")).unwrap();
        assert_eq!(t, Target::Saf(tree.into()));
        assert_eq!(t.stored(), format!("saf:{tree}"));
        assert_eq!(t.describe(), "primary:Sync/Twofold");
        assert_eq!(
            saf_document_uri(tree).unwrap(),
            "content://com.android.externalstorage.documents/tree/primary%3ASync%2FTwofold/document/primary%3ASync%2FTwofold"
        );
        assert_eq!(Target::parse("saf:"), Err(TargetParseError));
        assert_eq!(Target::parse("saf:/sdcard/x"), Err(TargetParseError));
        assert_eq!(saf_document_uri("content://x/document/1"), None);
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
