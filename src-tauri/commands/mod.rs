//! The commands the UI invokes (docs/ipc.md), grouped by domain. Each converts its arguments,
//! calls the core, and converts the result back; errors are [`AppError`](crate::error::AppError).

pub mod accounts;
pub mod export;
pub mod import;
pub mod platform;
pub mod scan;
pub mod settings;
pub mod vault;
