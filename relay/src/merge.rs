//! `merge A B …`: combine the signatures of copies of one transaction
//! (`airgap::merge::merge_with_signers`). Nothing is sent; the merged envelope goes to `--out` or
//! stdout, the report to stderr. The signer sets come from `--signers` files and, with
//! `--horizon` or `--rpc`, from the server through the network-client trait
//! (`SignerSet::from_horizon` of the account model, for the transaction's source accounts).
use crate::cli::MergeArgs;
use airgap::network::{Network, NetworkError};
use airgap::weights::{self, SignerSet, SignersFileError};
use airgap_relay::inputs::{self, InputError};
use airgap_relay::net::NetError;
use airgap_relay::online::{self, Backend, ConnectError};
use std::time::{Duration, Instant};
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
    #[error(transparent)]
    Duration(#[from] airgap::build::BuildError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("the signers of {account} could not be read: {source}")]
    Server {
        account: airgap::account::AccountId,
        source: NetError,
    },
    #[error("{0} does not exist on the network the server serves, so it has no signers to read")]
    NoAccount(airgap::account::AccountId),
}

/// The signer sets the server (`--horizon` or `--rpc`) reports for the transaction's source
/// accounts (those not already given by a `--signers` file).
fn from_server(
    args: &MergeArgs,
    backend: &Backend,
    network: &Network,
    first: &TransactionEnvelope,
    given: &[SignerSet],
) -> Result<Vec<SignerSet>, MergeCmdError> {
    let t = Duration::from_secs(airgap::build::parse_duration(&args.timeout)?.max(1));
    let deadline = Instant::now() + t;
    let online = online::connect_net(backend, Some(network), deadline)?;
    let mut sets = Vec::new();
    for account in airgap::merge::source_accounts(first) {
        if given.iter().any(|s| s.account == account) {
            continue;
        }
        let found = online::retry_until(deadline, || online.net.account(&account, &[]))
            .map_err(|source| MergeCmdError::Server { account, source })?
            .ok_or(MergeCmdError::NoAccount(account))?;
        eprintln!(
            "airgap-relay: read the signers of {account} from {} ({})",
            backend.server(),
            online.net.url()
        );
        sets.push(SignerSet::from_horizon(account, &found));
    }
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
    let mut sets = weights::load_signer_sets(&args.signers)?;
    let backend = match crate::app::one_server(args.horizon.as_deref(), args.rpc.as_deref())? {
        (_, Some(r)) => Some(Backend::Rpc(r.to_string())),
        (Some(h), None) => Some(Backend::Horizon(h.to_string())),
        (None, None) => None,
    };
    if let (Some(backend), Some(first)) = (&backend, copies.first()) {
        let more = from_server(args, backend, &network, first, &sets)?;
        sets.extend(more);
    }
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
