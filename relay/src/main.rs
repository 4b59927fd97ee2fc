//! `airgap-relay`: the online half of stellar-airgap.
//!
//! This file only parses the command line, dispatches to a subcommand and maps the outcome to an
//! exit code. Each subcommand lives in its own module.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod sandbox;

#[derive(Debug, Parser)]
#[command(name = "airgap-relay", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a local Horizon-compatible rehearsal ledger on loopback (not a validator).
    #[command(long_about = sandbox::LONG_ABOUT)]
    Sandbox(sandbox::SandboxArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Sandbox(args) => sandbox::run(args).map_err(|e| e.to_string()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("airgap-relay: {message}");
            ExitCode::FAILURE
        }
    }
}
