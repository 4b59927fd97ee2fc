//! Show, ask, sign, write: what every signing command ends with.
use crate::cli::OutputArgs;
use crate::custody::Custody;
use crate::failure::Failure;
use crate::keysource::Key;
use crate::output;
use airgap::account::AccountId;
use airgap::envelope;
use airgap::network::Network;
use airgap::review;
use std::io::{BufRead, Write};
use stellar_xdr::TransactionEnvelope;

/// Show the review, ask, sign with each key in order (each signature is verified as it is
/// made), and write the result.
pub(super) fn finish(
    mut env: TransactionEnvelope,
    network: &Network,
    keys: Vec<Key>,
    out: &OutputArgs,
    now: u64,
    custody: &Custody,
) -> Result<(), Failure> {
    let mut known: Vec<AccountId> = keys.iter().map(|k| k.seed.public_key()).collect();
    known.extend(custody.known_keys());
    let before = review::review(&env, network, now, &known)?;
    eprint!("{}", before.to_text());
    if let Some(w) = custody.weights_text(&env, network) {
        eprint!("{w}");
    }
    if !keys.is_empty() {
        eprint!("{}", custody.describe());
        // Refusals come before the question: nothing outside the policy is ever offered.
        custody.check(&env, network)?;
        custody.guard()?;
        let names: Vec<String> = keys
            .iter()
            .map(|k| format!("{} ({})", k.seed.public_key(), k.origin))
            .collect();
        eprintln!("Will sign with: {}", names.join(", "));
        confirm(out.yes)?;
        for k in &keys {
            envelope::sign(&mut env, network, &k.seed)?;
        }
        eprintln!(
            "Signed ({} signature{} on the envelope).",
            envelope::signatures(&env).len(),
            plural(envelope::signatures(&env).len())
        );
        if let Some(w) = custody.weights_text(&env, network) {
            eprint!("After signing: {w}");
        }
    }
    let after = review::review(&env, network, now, &known)?;
    output::emit(&env, network, &after, out)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Ask "Sign? [y/N]" on the terminal. Without a terminal, refuse unless --yes was given.
pub(super) fn confirm(yes: bool) -> Result<(), Failure> {
    if yes {
        return Ok(());
    }
    let tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").map_err(|_| {
        Failure::new("nothing was signed: there is no terminal to ask for confirmation")
            .remedy("review the transaction (`airgap-signer inspect`), then pass --yes to sign without the question")
    })?;
    let mut w = &tty;
    let _ = write!(w, "Sign? [y/N] ");
    let _ = w.flush();
    let mut answer = String::new();
    std::io::BufReader::new(&tty)
        .read_line(&mut answer)
        .map_err(|e| Failure::new(format!("could not read the answer: {e}")))?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(Failure::new("nothing was signed: you answered no")),
    }
}
