//! The one rule for a new password or passphrase (`docs/sync.md`, "The passphrase, once";
//! `docs/cli.md` "Sync"): Dropbox's zxcvbn estimate (dictionaries of common passwords, names and
//! words, keyboard patterns, sequences, repeats, dates, l33t substitutions), scored 0 to 4. The
//! CLI refuses a sync passphrase below [`MIN_SCORE`] when it creates a sync set; the app's
//! meter and its checks ask the shell for the same estimate, so there is one rule.

use serde::Serialize;

/// The lowest score accepted for a new password or passphrase ("fair").
pub const MIN_SCORE: u8 = 2;

/// Only this many characters are estimated (the estimator's work grows faster than the
/// length): a longer passphrase is judged by its beginning, which can only make it look weaker.
pub const MAX_ESTIMATED_CHARS: usize = 64;

/// Words that make no passphrase strong here: the app's name and common passwords in Swedish
/// (the app's other language), on top of zxcvbn's English dictionaries.
const APP_WORDS: &[&str] = &[
    "twofold",
    "lösenord",
    "losenord",
    "lösenfras",
    "hejhej",
    "sommar",
    "vinter",
];

/// How strong a passphrase is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Strength {
    /// 0 (very weak) to 4 (strong).
    pub score: u8,
}

impl Strength {
    /// True when the score reaches [`MIN_SCORE`].
    pub fn acceptable(&self) -> bool {
        self.score >= MIN_SCORE
    }
}

/// A passphrase below [`MIN_SCORE`]. Never holds the passphrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the passphrase is too weak (strength {score} of 4, at least {MIN_SCORE} needed): use a \
     longer one, such as several unrelated words"
)]
pub struct WeakPassphrase {
    /// Its score.
    pub score: u8,
}

/// The strength of `passphrase`.
pub fn estimate(passphrase: &str) -> Strength {
    let end = passphrase
        .char_indices()
        .nth(MAX_ESTIMATED_CHARS)
        .map_or(passphrase.len(), |(i, _)| i);
    let score = zxcvbn::zxcvbn(&passphrase[..end], APP_WORDS).score() as u8;
    Strength { score }
}

/// `Ok` when `passphrase` may protect a vault or a sync set.
pub fn check(passphrase: &str) -> Result<Strength, WeakPassphrase> {
    let s = estimate(passphrase);
    if s.acceptable() {
        Ok(s)
    } else {
        Err(WeakPassphrase { score: s.score })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_and_patterned_passphrases_are_weak() {
        for weak in [
            "",
            "password1",
            "Password1!",
            "qwertyuiop",
            "123456789",
            "twofold2024",
            "lösenord1",
            "aaaaaaaaaaaa",
            "abcdefgh",
        ] {
            assert!(check(weak).is_err(), "{weak:?} passed");
        }
    }

    #[test]
    fn long_unrelated_words_are_strong() {
        for strong in [
            "correct horse battery staple",
            "tangerine orbit velvet ladder",
            "Xk9#mQ2$vL7!",
        ] {
            let s = check(strong).unwrap_or_else(|e| panic!("{strong:?}: {e}"));
            assert!(s.score >= 3, "{strong:?}: {s:?}");
        }
    }

    #[test]
    fn a_very_long_passphrase_is_estimated_on_its_beginning_only() {
        let long = "tangerine orbit velvet ladder ".repeat(10_000);
        let at = std::time::Instant::now();
        let s = estimate(&long);
        // A measurement, printed; the cap keeps it small whatever the length.
        println!(
            "estimate of a {} byte passphrase: {:?}",
            long.len(),
            at.elapsed()
        );
        assert!(s.acceptable());
        assert!(!format!("{:?}", check("password1")).contains("password1"));
    }
}
