//! What each command does: turn arguments into a transaction, show it, ask, sign, write. One
//! module per family of commands; the input and output helpers they share are here.
use crate::cli::{Cli, Command, NetworkArg, PolicyCommand};
use crate::failure::Failure;
use airgap::envelope;
use airgap::network::Network;
use std::io::{Read, Write};

mod batch;
mod envelopes;
mod keys;
mod operations;
mod signing;

pub fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Operation(op) => operations::run(op),
        Command::Plan { file, common } => operations::plan(&file, &common),
        Command::Batch(args) => batch::run(&args),
        Command::Sign {
            input,
            network,
            keys,
            output,
            custody,
        } => envelopes::sign(&input, &network, &keys, &output, &custody),
        Command::Inspect {
            input,
            network,
            json,
            signers,
        } => envelopes::inspect(&input, &network, json, &signers),
        Command::Merge {
            inputs,
            network,
            signers,
            output,
        } => envelopes::merge(&inputs, &network, &signers, &output),
        Command::Qr {
            input,
            network,
            output,
        } => envelopes::qr(&input, &network, &output),
        Command::Keys(k) => keys::run(k),
        Command::Policy(PolicyCommand::Bind {
            keystore,
            passphrase_env,
        }) => keys::bind(&keystore, passphrase_env.as_deref()),
    }
}

fn in_file(input: &str, e: envelope::EnvelopeError) -> Failure {
    let name = if input == "-" {
        "stdin".to_string()
    } else {
        input.to_string()
    };
    Failure::new(format!("{name}: {e}"))
        .remedy("pass a file holding one base64 transaction envelope, as written by --out")
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn network_of(arg: &NetworkArg) -> Result<Network, Failure> {
    match &arg.network {
        Some(n) => Ok(n.parse()?),
        None => Err(airgap::network::NetworkError::Missing.into()),
    }
}

/// `-` is stdin; anything else is a path. Inputs are bounded: nothing we read is legitimately
/// larger than a few megabytes.
fn read_input(input: &str) -> Result<String, Failure> {
    const LIMIT: u64 = 64 << 20;
    let mut text = String::new();
    let result = if input == "-" {
        std::io::stdin()
            .lock()
            .take(LIMIT)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(input).and_then(|f| f.take(LIMIT).read_to_string(&mut text))
    };
    result.map_err(|e| Failure::new(format!("cannot read {input}: {e}")))?;
    Ok(text)
}

/// The hash, last, on a line of its own that fits an 80-column terminal: read it across to the
/// online machine (`airgap-relay … --expect-hash`).
fn print_hash(hash: &str) {
    eprintln!("Transaction hash, to compare on the online machine:\n  {hash}");
}

fn print_stdout(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|_| out.flush())
        .map_err(|e| Failure::new(format!("cannot write to stdout: {e}")))
}
