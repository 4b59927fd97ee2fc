//! Stellar Asset Contract IDs: the contract address under which a classic asset's events appear
//! (CAP-67: payments, mints, burns, clawbacks and authorizations are reported as the events of the
//! asset's Stellar Asset Contract, with this ID as `contractId`).
//!
//! The ID is stellar-core's `getAssetContractID`: SHA-256 of the XDR `HashIDPreimage`
//! `ENVELOPE_TYPE_CONTRACT_ID { networkID, CONTRACT_ID_PREIMAGE_FROM_ASSET(asset) }`, so it depends
//! on the network passphrase as well as the asset. Pure and offline: a watcher computes the IDs of
//! the assets it accepts without asking any server.

use sha2::{Digest, Sha256};
use stellar_xdr::{
    ContractIdPreimage, Hash, HashIdPreimage, HashIdPreimageContractId, Limits, WriteXdr,
};

use crate::asset::Asset;
use crate::network::Network;

/// The contract ID (32 bytes) of the Stellar Asset Contract of `asset` on the network whose id
/// (SHA-256 of the passphrase) is `network_id`.
pub fn contract_id_for(asset: &stellar_xdr::Asset, network_id: [u8; 32]) -> [u8; 32] {
    let preimage = HashIdPreimage::ContractId(HashIdPreimageContractId {
        network_id: Hash(network_id),
        contract_id_preimage: ContractIdPreimage::Asset(asset.clone()),
    });
    let mut hasher = Sha256::new();
    // A hash and an asset always encode without limits, into a writer that never fails.
    let _ = preimage.write_xdr(&mut stellar_xdr::Limited::new(
        &mut HashWriter(&mut hasher),
        Limits::none(),
    ));
    hasher.finalize().into()
}

/// The contract ID of `asset`'s Stellar Asset Contract on `network`.
pub fn contract_id(asset: &stellar_xdr::Asset, network: &Network) -> [u8; 32] {
    contract_id_for(asset, network.id())
}

/// The same ID as a `C…` strkey, as Stellar RPC writes `contractId`.
pub fn contract_address(asset: &stellar_xdr::Asset, network: &Network) -> String {
    stellar_strkey::Contract(contract_id(asset, network))
        .to_string()
        .to_string()
}

impl Asset {
    /// The `C…` address of this asset's Stellar Asset Contract on `network`.
    pub fn contract_address(&self, network: &Network) -> String {
        contract_address(&self.to_xdr(), network)
    }
}

/// `std::io::Write` into a SHA-256 state.
struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The native asset's contract on testnet and pubnet, as SDF's documentation and every SDK
    // publish them (the Python SDK's `Asset.native().contract_id(passphrase)` prints the same).
    #[test]
    fn native_contract_on_public_networks() {
        let native = stellar_xdr::Asset::Native;
        assert_eq!(
            contract_address(&native, &Network::Testnet),
            "CDLZFC3SYJYDZT7K67VZ75HPJVIEUVNIXF47ZG2FB2RMQQVU2HHGCYSC"
        );
        assert_eq!(
            contract_address(&native, &Network::Pubnet),
            "CAS3J7GYLGXMF6TDJBBYYSE3HQ6BBSMLNUQ34T6TZMYMW2EVH34XOWMA"
        );
        assert_eq!(
            Asset::Native.contract_address(&Network::Testnet),
            "CDLZFC3SYJYDZT7K67VZ75HPJVIEUVNIXF47ZG2FB2RMQQVU2HHGCYSC"
        );
    }

    #[test]
    fn depends_on_asset_and_network() {
        let usd: Asset = "USD:GBZXN7PIRZGNMHGA7MUUUF4GWPY5AYPV6LY4UV2GL6VJGIQRXFDNMADI"
            .parse()
            .unwrap();
        let a = usd.contract_address(&Network::Testnet);
        assert_ne!(a, usd.contract_address(&Network::Pubnet));
        assert_ne!(a, Asset::Native.contract_address(&Network::Testnet));
        assert!(a.starts_with('C') && a.len() == 56);
    }
}
