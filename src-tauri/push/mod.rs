//! The push service (docs/ipc-push.md): the core builds and reads privacyIDEA's messages and
//! keeps the vault's bookkeeping, `twofold-http` carries them, and this module runs the rest:
//! the background poller ([`poller`]), the notifications ([`notifier`]), the collapsing and
//! muting of prompts ([`collapse`]), answers sent once per nonce ([`answer`]) and enrolment
//! behind a confirmation ([`enrol`]). The commands (`commands.rs`) delegate here; the IPC types are in `dto.rs`.

pub mod answer;
pub mod collapse;
pub mod commands;
pub mod delivery;
pub mod dto;
pub mod enrol;
pub mod locked;
pub mod notifier;
pub mod poller;
#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_delivery;
#[cfg(test)]
mod tests_mobile;
#[cfg(test)]
mod tests_notify;

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};

use twofold_core::push::privacyidea::Enrolment;

use crate::dto::PushPollStatus;
use crate::error::{AppError, AppResult};

/// What the push service keeps beside the vault, managed by Tauri next to the state.
#[derive(Debug, Default)]
pub struct PushService {
    /// Nonces whose answer is on its way: a second answer to one is refused.
    in_flight: Mutex<HashSet<String>>,
    /// The enrolment shown for confirmation (one at a time), with its id.
    enrolment: Mutex<Option<(String, Enrolment)>>,
    /// Ids of enrolment previews so far.
    previews: std::sync::atomic::AtomicU64,
    /// How the last poll went.
    status: Mutex<PushPollStatus>,
    /// The UI's language, for the notifications.
    pub(crate) locale: Mutex<crate::dto::UiLocale>,
    /// The sign-in notifications shown: their ids and nonces, newest last (`notifier`).
    pub(crate) notified: Mutex<std::collections::VecDeque<(i32, String)>>,
    /// What polling needs while the vault is locked ([`locked`]), `None` when that is off.
    keyring: Mutex<Option<twofold_core::vault::PushKeyring>>,
    /// Token containers whose push tokens had news in a poll (a new challenge, a poll the
    /// server refused), for the container watcher to sync (`crate::container::sync_nudged`).
    nudged: Mutex<Vec<String>>,
    /// This device's push registration as far as the shell knows it ([`delivery`]).
    registration: Mutex<delivery::RegistrationStatus>,
    /// Held while token updates are sent ([`delivery::update_tokens`]).
    updating: Mutex<()>,
}

impl PushService {
    fn lock<'a, T>(m: &'a Mutex<T>) -> AppResult<MutexGuard<'a, T>> {
        m.lock()
            .map_err(|_| AppError::internal("the push service's state is poisoned"))
    }

    /// How the last poll went.
    pub fn status(&self) -> AppResult<PushPollStatus> {
        Ok(Self::lock(&self.status)?.clone())
    }

    /// Notes containers to sync because their push tokens had news.
    pub(crate) fn nudge(&self, containers: Vec<String>) -> AppResult<()> {
        let mut n = Self::lock(&self.nudged)?;
        for c in containers {
            if !n.contains(&c) {
                n.push(c);
            }
        }
        Ok(())
    }

    /// The containers nudged since the last call.
    pub(crate) fn take_nudged(&self) -> AppResult<Vec<String>> {
        Ok(std::mem::take(&mut *Self::lock(&self.nudged)?))
    }

    /// Records how a poll went; true when that differs from the poll before.
    pub(crate) fn set_status(&self, status: PushPollStatus) -> AppResult<bool> {
        let mut s = Self::lock(&self.status)?;
        let changed = s.failures != status.failures || s.clock_off != status.clock_off;
        *s = status;
        Ok(changed)
    }
}
