//! `twofold-relay --config FILE | --check-config FILE | --version` (docs/relay.md).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "twofold-relay",
    version,
    about = "Carries privacyIDEA's push challenges to devices through Web Push, FCM or APNs"
)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["config", "check_config"])))]
struct Args {
    /// Serve with this config until SIGTERM or SIGINT.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Read this config and every file it names, print `ok`, and exit.
    #[arg(long, value_name = "FILE")]
    check_config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(path) = args.check_config {
        return match twofold_relay::check(&path) {
            Ok(_) => {
                println!("ok");
                ExitCode::SUCCESS
            }
            Err(e) => {
                println!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let Some(path) = args.config else {
        return ExitCode::FAILURE;
    };
    // Colours only on a terminal: journald and log files get plain `key=value` fields.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(twofold_relay::run(&path)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
