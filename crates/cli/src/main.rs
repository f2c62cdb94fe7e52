//! `twofold`: the command-line front end of Twofold. The interface is fixed by
//! `docs/cli.md`: human text by default, exactly one JSON document with `--json`,
//! one `error: ...` line on stderr and a documented exit code on failure.

mod accounts;
mod args;
mod backup;
mod commands;
mod container;
mod error;
mod output;
mod push;
mod sync;
mod vault;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", output::terminal_safe(&e.to_string()));
            ExitCode::from(e.exit_code())
        }
    }
}
