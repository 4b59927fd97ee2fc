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
mod paycmd;

fn main() -> ExitCode {
    // The relay holds secrets too (a fee-bump key): a panic's message is never printed.
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "{}",
            airgap::keys::source::panic_notice(
                "airgap-relay",
                "nothing more was sent",
                info.location()
            )
        );
    }));
    let code = match cli::Cli::try_parse() {
        Ok(cli) => app::run(cli.command).unwrap_or_else(|e| e.report()),
        Err(usage) => app::usage(&usage),
    };
    ExitCode::from(code)
}
