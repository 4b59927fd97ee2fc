//! `airgap-signer`: build, review and sign Stellar issuing-account transactions on an offline machine.
mod cli;
mod commands;
mod custody;
mod failure;
mod guard;
mod keysource;
mod output;

use clap::Parser;

fn main() {
    // Before anything holds a secret: no core dumps of this process, no panic messages.
    guard::quiet_panics();
    for w in guard::harden() {
        eprintln!("!  warning: {w}");
    }
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
