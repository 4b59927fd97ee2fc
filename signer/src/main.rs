//! `airgap-signer`: build, review and sign Stellar issuing-account transactions on an offline machine.
//!
//! This file hardens the process, parses the command line, calls `commands::run` and maps the
//! outcome to an exit code (docs/exit-codes.md).
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
    let code = match cli::Cli::try_parse() {
        Ok(cli) => match commands::run(cli) {
            Ok(()) => 0,
            Err(f) => {
                eprintln!("{f}");
                f.code
            }
        },
        Err(e) => usage(&e),
    };
    std::process::exit(code);
}

/// `--help` and `--version` print and exit 0; a usage error (unknown option, typo, missing
/// argument) exits 1 like any other bad input, not clap's 2, which the relay uses for "failed on
/// the network".
fn usage(e: &clap::Error) -> i32 {
    let _ = e.print();
    if e.use_stderr() {
        failure::EXIT_REFUSED
    } else {
        0
    }
}
