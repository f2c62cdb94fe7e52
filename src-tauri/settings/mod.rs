//! The settings and backups (`commands.rs`, types in `dto.rs`), and the device's location and permissions the
//! settings screen asks about (`platform.rs`).

pub mod commands;
pub mod dto;
pub mod platform;
#[cfg(test)]
mod tests;
