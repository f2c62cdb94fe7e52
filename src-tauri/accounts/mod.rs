//! The accounts in the app: listing, codes, editing and removing them (`commands.rs`), adding
//! them from a scanned or typed text (`scan.rs`), importing other apps' exports (`import.rs`)
//! and exporting (`export.rs`).

pub mod commands;
pub mod dto;
pub mod export;
pub mod import;
pub mod scan;
#[cfg(test)]
mod tests;
