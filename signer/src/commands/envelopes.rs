//! The commands on an envelope that exists already: `sign`, `inspect`, `merge`, `qr`.
use super::signing::{finish, Signing};
use super::{in_file, network_of, now, print_stdout, read_input};
use crate::cli::{CustodyArgs, KeyArgs, NetworkArg, OutputArgs};
use crate::custody::Custody;
use crate::failure::Failure;
use crate::keysource;
use crate::output;
use airgap::envelope;
use airgap::review;
use std::path::PathBuf;
use stellar_xdr::TransactionEnvelope;

/// `sign`: add signatures to an envelope, keeping those already there.
pub fn sign(
    input: &str,
    network: &NetworkArg,
    keys: &KeyArgs,
    output: &OutputArgs,
    custody: &CustodyArgs,
) -> Result<(), Failure> {
    output::check(output)?;
    let env = envelope::decode(&read_input(input)?).map_err(|e| in_file(input, e))?;
    let network = network_of(network)?;
    if keys.unsigned {
        return Err(Failure::new("`sign` needs at least one --key"));
    }
    let planned = keysource::plan(keys)?;
    let custody = Custody::load(custody, &planned, None)?;
    finish(
        env,
        Signing {
            network: &network,
            keys: planned,
            key_args: keys,
            out: output,
            now: now(),
            custody: &custody,
            context: None,
        },
    )
}

/// `inspect`: the review, and the weights when signer sets are given; no key.
pub fn inspect(
    input: &str,
    network: &NetworkArg,
    json: bool,
    signers: &[PathBuf],
) -> Result<(), Failure> {
    let env = envelope::decode(&read_input(input)?).map_err(|e| in_file(input, e))?;
    let network = network_of(network)?;
    let sets = airgap::weights::load_signer_sets(signers)?;
    let known = airgap::weights::signer_keys(&sets);
    let r = review::review(&env, &network, now(), &known)?;
    let weights = (!sets.is_empty()).then(|| airgap::weights::weigh(&env, &network, &sets));
    let text = if json {
        let mut doc = output::json_document(&envelope::encode(&env), &network, &r);
        if let Some(w) = &weights {
            doc["weights"] = serde_json::to_value(w)
                .map_err(|e| Failure::new(format!("cannot write JSON: {e}")))?;
        }
        doc.to_string()
    } else {
        let mut t = r.to_text();
        if let Some(w) = &weights {
            t.push_str(&w.to_text());
        }
        t
    };
    print_stdout(&text)
}

/// `merge`: read every copy, combine (`airgap::merge`), show the review, the merge report and
/// the weights, write.
pub fn merge(
    inputs: &[String],
    network: &NetworkArg,
    signers: &[PathBuf],
    out: &OutputArgs,
) -> Result<(), Failure> {
    let network = network_of(network)?;
    output::check(out)?;
    if inputs.iter().filter(|i| *i == "-").count() > 1 {
        return Err(Failure::new("stdin (-) can be read only once"));
    }
    let copies: Vec<TransactionEnvelope> = inputs
        .iter()
        .map(|i| envelope::decode(&read_input(i)?).map_err(|e| in_file(i, e)))
        .collect::<Result<_, _>>()?;
    let sets = airgap::weights::load_signer_sets(signers)?;
    let merged = airgap::merge::merge_with_signers(&copies, &network, &sets).map_err(|e| {
        let f = Failure::new(format!("nothing was merged: {e}"));
        match e {
            airgap::merge::MergeError::Differs { .. } => f.remedy(
                "every co-signer must sign the same envelope: compare the transaction hashes, and sign the reviewed copy again",
            ),
            airgap::merge::MergeError::Unattributed(_) => f.remedy(
                "pass --signers FILE (from `airgap-relay account G… --json`) for each account whose other signers signed, or leave out the copy that carries it; nothing was written",
            ),
            _ => f,
        }
    })?;
    let r = review::review(&merged.envelope, &network, now(), &merged.known)?;
    eprint!("{}", r.to_text());
    eprint!("{}", merged.to_text());
    output::emit(&merged.envelope, &network, &r, out)?;
    super::print_hash(&r.hash);
    Ok(())
}

/// `qr`: an envelope as QR output, unsigned by this run.
pub fn qr(input: &str, network: &NetworkArg, output: &OutputArgs) -> Result<(), Failure> {
    let env = envelope::decode(&read_input(input)?).map_err(|e| in_file(input, e))?;
    let network = network_of(network)?;
    if output.qr.is_none() && output.qr_frames.is_none() && !output.qr_terminal {
        return Err(Failure::new("`qr` needs somewhere to put the code")
            .remedy("pass --qr FILE.png|.svg|.gif, --qr-frames DIR or --qr-terminal"));
    }
    output::check(output)?;
    let r = review::review(&env, &network, now(), &[])?;
    output::emit(&env, &network, &r, output)
}
