//! `airgap-relay`: the online half of stellar-airgap.
//!
//! This file only parses the command line, calls `app::run` and maps the outcome to an exit code
//! (the table is in `cli::EXIT_CODES`, shown by `--help`). Each subcommand lives in its own module.
#![forbid(unsafe_code)]

use clap::Parser;
use std::process::ExitCode;

mod account;
mod app;
mod cli;
mod codes;
mod horizon;
mod index;
mod inputs;
mod inspect;
mod journal;
mod keysource;
mod merge;
mod online;
mod rehearse;
mod sigcheck;
mod submit;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match app::run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("airgap-relay: {e}.\n{}", e.remedy());
            ExitCode::from(e.exit_code())
        }
    }
}
