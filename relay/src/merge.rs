//! `merge A B …`: combine the signatures of copies of one transaction (`airgap::merge::merge`).
//! Nothing is sent; the merged envelope goes to `--out` or stdout, the report to stderr.
use crate::cli::MergeArgs;
use crate::inputs::{self, InputError};
use airgap::network::{Network, NetworkError};
use airgap::weights::{self, SignerSet, WeightsError};
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
    #[error("the signers file {path}: {source}")]
    Signers { path: String, source: WeightsError },
    #[error("cannot read the signers file {path}: {source}")]
    SignersRead {
        path: String,
        source: std::io::Error,
    },
    #[error("nothing was merged: {0}")]
    Merge(#[from] airgap::merge::MergeError),
    #[error(transparent)]
    Write(#[from] airgap::files::FileError),
}

fn signer_sets(args: &MergeArgs) -> Result<Vec<SignerSet>, MergeCmdError> {
    let mut sets = Vec::new();
    for p in &args.signers {
        let path = p.display().to_string();
        let text = std::fs::read_to_string(p).map_err(|source| MergeCmdError::SignersRead {
            path: path.clone(),
            source,
        })?;
        sets.push(
            weights::parse_signers(&text)
                .map_err(|source| MergeCmdError::Signers { path, source })?,
        );
    }
    weights::check_distinct(&sets).map_err(|source| MergeCmdError::Signers {
        path: "(several)".into(),
        source,
    })?;
    Ok(sets)
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
    let sets = signer_sets(args)?;
    let mut known = copies
        .first()
        .map(airgap::merge::source_accounts)
        .unwrap_or_default();
    known.extend(sets.iter().flat_map(|s| s.signers.iter().map(|(k, _)| *k)));
    let (merged, report) = airgap::merge::merge(&copies, &network, &known)?;
    eprint!("{}", report.to_text());
    if !sets.is_empty() {
        eprint!("{}", weights::weigh(&merged, &network, &sets).to_text());
    }
    let b64 = airgap::envelope::encode(&merged);
    match &args.out {
        Some(path) => {
            airgap::files::write_atomic(path, format!("{b64}\n").as_bytes(), args.force)?;
            eprintln!("Wrote the merged envelope to {}", path.display());
        }
        None => println!("{b64}"),
    }
    Ok(0)
}
