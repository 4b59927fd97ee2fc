//! `airgap-signer`: build, review and sign Stellar issuing-account transactions on an offline machine.
mod cli;
mod commands;
mod failure;
mod keysource;
mod output;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let code = match commands::run(cli) {
        Ok(()) => 0,
        Err(f) => {
            eprintln!("{f}");
            f.code
        }
    };
    std::process::exit(code);
}
