//! `merge A B …`: combine the signatures of copies of one transaction (`airgap::merge::merge`).
//! Nothing is sent; the merged envelope goes to `--out` or stdout, the report to stderr.
use crate::cli::MergeArgs;
use airgap::network::{Network, NetworkError};
use airgap::weights::{self, SignersFileError};
use airgap_relay::inputs::{self, InputError};
use stellar_xdr::TransactionEnvelope;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MergeCmdError {
    #[error(transparent)]
    Network(#[from] NetworkError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{input}: {source}")]
    Blob {
        input: String,
        source: airgap::carry::CarryError,
    },
    #[error(transparent)]
    Signers(#[from] SignersFileError),
    #[error("nothing was merged: {0}")]
    Merge(#[from] airgap::merge::MergeError),
    #[error(transparent)]
    Write(#[from] airgap::files::FileError),
}

pub fn run(args: &MergeArgs) -> Result<u8, MergeCmdError> {
    let network: Network = args.network.parse()?;
    let copies: Vec<TransactionEnvelope> = inputs::read(&args.inputs)?
        .blobs
        .into_iter()
        .map(|b| {
            b.envelope.map_err(|source| MergeCmdError::Blob {
                input: b.input,
                source,
            })
        })
        .collect::<Result<_, _>>()?;
    let sets = weights::load_signer_sets(&args.signers)?;
    let merged = airgap::merge::merge_with_signers(&copies, &network, &sets)?;
    eprint!("{}", merged.to_text());
    let b64 = airgap::envelope::encode(&merged.envelope);
    match &args.out {
        Some(path) => {
            airgap::files::write_atomic(path, format!("{b64}\n").as_bytes(), args.force)?;
            eprintln!("Wrote the merged envelope to {}", path.display());
        }
        None => println!("{b64}"),
    }
    Ok(0)
}
