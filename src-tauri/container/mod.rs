//! privacyIDEA token containers in the app (docs/containers.md, "In the app"): the core's
//! runner (`twofold_core::container::Runner`) runs every sequence and decides what is saved
//! when a step fails; this shell gives it `twofold-http` off the async workers, the passphrase
//! typed with the confirmation and the app's vault store, and turns its results into the UI's
//! views. The app state's lock is taken only inside the runner's reads and changes, never
//! during HTTP. The preview, one exchange at a time, the failures kept for the views and the
//! background syncs are the shell's. The commands (`commands.rs`) delegate to `service.rs`.

pub mod commands;
pub mod dto;
mod service;
#[cfg(test)]
mod tests;

pub use service::*;
