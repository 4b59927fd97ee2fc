//! `airgap-relay`: the online half of stellar-airgap.
//!
//! Parses the command line, calls `app::run` and maps the outcome to an exit code (the table is in
//! `cli::EXIT_CODES`, shown by `--help`). The work is done by the `airgap_relay` library; the
//! modules here are the CLI edge: arguments (`cli`), running them and errors with remedies (`app`),
//! and the `merge` command and the fee key's source (`keysource`).
use clap::Parser;
use std::process::ExitCode;

mod app;
mod cli;
mod keysource;
mod merge;
// `merge` reads its blobs with the library's reader, as `crate::inputs`.
use airgap_relay::inputs;

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
