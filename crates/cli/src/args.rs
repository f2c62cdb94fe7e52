//! The command line, as `../shared/cli-contract.md` fixes it.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Twofold: two-factor codes from otpauth URIs, Google Authenticator exports and QR images.
#[derive(Debug, Parser)]
#[command(name = "twofold", version, about, max_term_width = 100)]
pub struct Cli {
    /// The vault file (else $TWOFOLD_VAULT, else the platform data directory).
    #[arg(long, global = true, value_name = "PATH")]
    pub vault: Option<PathBuf>,
    /// A file whose first line is the vault password (else $TWOFOLD_PASSWORD, else a prompt).
    #[arg(long, global = true, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the current code(s) of an otpauth://, steam:// or otpauth-migration:// URI.
    Code {
        /// The URI, as a QR code holds it.
        #[arg(long, value_name = "URI")]
        uri: String,
        /// Compute at this Unix time instead of now.
        #[arg(long, value_name = "UNIX_SECONDS")]
        at: Option<u64>,
        /// Print a JSON array of accounts with their code.
        #[arg(long)]
        json: bool,
    },
    /// Print every QR code found in PNG or JPEG images.
    Scan {
        /// Image files (PNG or JPEG).
        #[arg(required = true, value_name = "IMAGE")]
        images: Vec<PathBuf>,
        /// Print `[{"file": ..., "text": ...}]`.
        #[arg(long)]
        json: bool,
    },
}
