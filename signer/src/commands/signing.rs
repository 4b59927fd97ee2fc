//! Show, ask, sign, write: what every signing command ends with.
//!
//! The order is the security boundary's: the whole review (every field, every finding), the
//! account context and the weights; the policies and their verdict (a refusal comes before the
//! question); the summary, right above `Sign? [y/N]`, so that on an 80×24 terminal the network,
//! hash and every danger are on screen when the operator answers; only then the passphrases and
//! typed secrets; the signatures; the outputs, all or none; and last the hash again, to read
//! across to the online machine.
use crate::cli::{KeyArgs, OutputArgs};
use crate::custody::Custody;
use crate::failure::Failure;
use crate::keysource::{self, Planned};
use crate::output;
use airgap::account::AccountId;
use airgap::context::AccountContext;
use airgap::envelope;
use airgap::network::Network;
use airgap::review;
use std::io::{BufRead, Write};
use stellar_xdr::TransactionEnvelope;

/// What signing one envelope needs besides the envelope.
pub(super) struct Signing<'a> {
    pub network: &'a Network,
    pub keys: Vec<Planned>,
    pub key_args: &'a KeyArgs,
    pub out: &'a OutputArgs,
    pub now: u64,
    pub custody: &'a Custody,
    pub context: Option<&'a AccountContext>,
}

/// Show the review, check, summarize, ask, open the keys, sign with each in order (each
/// signature is verified as it is made), write, and print the hash last.
pub(super) fn finish(mut env: TransactionEnvelope, s: Signing<'_>) -> Result<(), Failure> {
    let Signing {
        network,
        keys,
        key_args,
        out,
        now,
        custody,
        context,
    } = s;
    let mut known: Vec<AccountId> = keys.iter().filter_map(Planned::public_key).collect();
    known.extend(custody.known_keys());
    let options = custody.review_options();
    let before = review::review_with(&env, network, now, &known, &options)?;
    eprint!("{}", before.to_text());
    if let Some(c) = context {
        show_context(c, now);
    }
    if let Some(w) = custody.weights_text(&env, network) {
        eprint!("{w}");
    }
    if !keys.is_empty() {
        eprint!("{}", custody.describe());
        // Refusals come before the question: nothing outside the policy is ever offered.
        custody.check(&env, network, now)?;
        custody.guard()?;
        will_sign_with(&keys);
        eprint!("{}", before.summary());
        confirm(out.yes)?;
        let keys = keysource::open_all(keys, key_args)?;
        for k in &keys {
            envelope::sign(&mut env, network, &k.seed)?;
            if !known.contains(&k.seed.public_key()) {
                known.push(k.seed.public_key());
            }
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
    let after = review::review_with(&env, network, now, &known, &options)?;
    output::emit(&env, network, &after, out)?;
    super::print_hash(&after.hash);
    Ok(())
}

/// The keys about to sign, with where each comes from (a typed key has no public key yet).
pub(super) fn will_sign_with(keys: &[Planned]) {
    let names: Vec<String> = keys
        .iter()
        .map(|k| match k.public_key() {
            Some(p) => format!("{p} ({})", k.origin()),
            None => k.origin(),
        })
        .collect();
    eprintln!("Will sign with: {}", names.join(", "));
}

/// The account context, and a warning when it is stale.
pub(super) fn show_context(c: &AccountContext, now: u64) {
    eprint!("{}", c.to_text(now));
    if c.is_stale(now) {
        let age = match c.age(now) {
            Some(a) => format!("is {} old", review::duration_words(a)),
            None => "does not say when it was read".to_string(),
        };
        eprintln!(
            "!  warning: the account context {age} (more than {} is stale): the account may have changed since, and its sequence number may be taken. Read it again: `airgap-relay account {} --qr`.",
            review::duration_words(airgap::context::STALE_AFTER),
            c.account
        );
    }
}

pub(super) fn plural(n: usize) -> &'static str {
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
