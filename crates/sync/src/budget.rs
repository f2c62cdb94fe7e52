//! How much of a target one sync reads (`docs/sync.md`, "Bounded"): at most
//! [`MAX_SYNC_BYTES`] of replicas in all, however many files the target holds. Every store
//! reads its files in [`read_order`] and asks the [`Budget`] before each one; a file past the
//! budget is skipped and named in a warning.

use twofold_core::sync::Warning;
use twofold_core::sync::replica::MAX_REPLICA_BYTES;
use twofold_core::sync::session::SUFFIX;

/// The most bytes of sync files one sync holds in memory.
pub const MAX_SYNC_BYTES: usize = 256 * 1024 * 1024;

/// What is left of [`MAX_SYNC_BYTES`] in one listing.
#[derive(Debug)]
pub(crate) struct Budget {
    left: usize,
}

/// Why a file was not read.
pub(crate) enum Skip {
    /// Larger than any replica can be.
    TooLarge,
    /// Past what this sync may still hold.
    OverBudget,
}

impl Skip {
    /// The warning naming `file`.
    pub(crate) fn warning(self, file: String) -> Warning {
        let reason = match self {
            Skip::TooLarge => "larger than any replica".to_owned(),
            Skip::OverBudget => format!(
                "skipped: this sync already holds the {} MiB of sync files it may read",
                MAX_SYNC_BYTES / (1024 * 1024)
            ),
        };
        Warning { file, reason }
    }
}

impl Budget {
    pub(crate) fn new() -> Budget {
        Budget {
            left: MAX_SYNC_BYTES,
        }
    }

    /// Whether a file of `len` bytes (when the listing says) may be read; `Err` says why not.
    pub(crate) fn admit(&self, len: Option<u64>) -> Result<(), Skip> {
        match len {
            Some(n) if n > MAX_REPLICA_BYTES as u64 => Err(Skip::TooLarge),
            Some(n) if n > self.left as u64 => Err(Skip::OverBudget),
            _ if self.left == 0 => Err(Skip::OverBudget),
            _ => Ok(()),
        }
    }

    /// The most bytes the next read may return.
    pub(crate) fn cap(&self) -> usize {
        self.left.min(MAX_REPLICA_BYTES)
    }

    /// Why a read that went past [`Budget::cap`] was dropped.
    pub(crate) fn past_cap(&self) -> Skip {
        if self.left < MAX_REPLICA_BYTES {
            Skip::OverBudget
        } else {
            Skip::TooLarge
        }
    }

    /// Counts `n` bytes read and kept.
    pub(crate) fn spend(&mut self, n: usize) {
        self.left = self.left.saturating_sub(n);
    }
}

/// A replica's own name: 32 hex digits and the suffix (what a device writes).
fn is_replica_name(name: &str) -> bool {
    name.strip_suffix(SUFFIX)
        .is_some_and(|stem| stem.len() == 32 && stem.bytes().all(|c| c.is_ascii_hexdigit()))
}

/// Sorts listed files into the order they are read, so the budget goes where it is needed:
/// key files, then replicas under their own names, then everything else (conflict copies,
/// unknown names); within each, smaller first (unknown sizes last), then by name.
pub(crate) fn read_order<T>(
    files: &mut [T],
    name: impl Fn(&T) -> &str,
    len: impl Fn(&T) -> Option<u64>,
) {
    files.sort_by_cached_key(|f| {
        let n = name(f);
        let class = if n.starts_with("key-") {
            0
        } else if is_replica_name(n) {
            1
        } else {
            2
        };
        (class, len(f).unwrap_or(u64::MAX), n.to_owned())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_then_replicas_then_the_rest_smaller_first() {
        let own = format!("{}{SUFFIX}", "ab".repeat(16));
        let other = format!("{}{SUFFIX}", "cd".repeat(16));
        let mut files = vec![
            ("junk.twofold-sync".to_owned(), Some(1)),
            (other.clone(), Some(500)),
            (own.clone(), Some(900)),
            (format!("key-1{SUFFIX}"), None),
            ("x (conflicted copy).twofold-sync".to_owned(), None),
        ];
        read_order(&mut files, |f| &f.0, |f| f.1);
        let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "key-1.twofold-sync",
                other.as_str(),
                own.as_str(),
                "junk.twofold-sync",
                "x (conflicted copy).twofold-sync"
            ]
        );
    }

    #[test]
    fn the_budget_admits_until_spent() {
        let mut b = Budget::new();
        assert!(b.admit(Some(MAX_REPLICA_BYTES as u64)).is_ok());
        assert!(matches!(
            b.admit(Some(MAX_REPLICA_BYTES as u64 + 1)),
            Err(Skip::TooLarge)
        ));
        for _ in 0..4 {
            assert!(b.admit(Some(MAX_REPLICA_BYTES as u64)).is_ok());
            b.spend(MAX_REPLICA_BYTES);
        }
        assert!(matches!(b.admit(Some(1)), Err(Skip::OverBudget)));
        assert!(matches!(b.admit(None), Err(Skip::OverBudget)));
        assert_eq!(b.cap(), 0);
    }
}
