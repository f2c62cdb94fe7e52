//! Where a vault syncs, as the vault stores it: `folder:<absolute path>`.

use std::path::PathBuf;

const FOLDER: &str = "folder:";

/// A sync target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A folder that a sync tool carries (an absolute path).
    Folder(PathBuf),
}

/// A stored target this build cannot reach.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this vault syncs with a target this version cannot reach")]
pub struct TargetParseError;

impl Target {
    /// The target of a stored `folder:` string.
    pub fn parse(stored: &str) -> Result<Target, TargetParseError> {
        match stored.strip_prefix(FOLDER) {
            Some(p) if !p.is_empty() => Ok(Target::Folder(PathBuf::from(p))),
            _ => Err(TargetParseError),
        }
    }

    /// How the vault stores it.
    pub fn stored(&self) -> String {
        match self {
            Target::Folder(dir) => format!("{FOLDER}{}", dir.display()),
        }
    }

    /// How a person reads it (a path, a URL without credentials).
    pub fn describe(&self) -> String {
        match self {
            Target::Folder(dir) => dir.display().to_string(),
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
}
