//! What the relay's unit tests share (compiled only for them).
use airgap::amount::Amount;
use airgap::build::{self, OpBody, OpSpec, TimeWindow, TxSpec};
use airgap::keys::SecretSeed;
use airgap::network::Network;

/// A signed standalone-network transaction from `key`'s account at `sequence` that creates a
/// fresh account with 1 XLM, valid for an hour: (base64 envelope, hex hash).
pub fn create_account_tx(key: &SecretSeed, sequence: i64) -> (String, String) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let network = Network::Standalone;
    let spec = TxSpec {
        network: network.clone(),
        source: key.public_key(),
        sequence,
        base_fee: build::DEFAULT_BASE_FEE,
        time: TimeWindow {
            min: 0,
            max: now + 3600,
        },
        memo: Default::default(),
        operations: vec![OpSpec::new(OpBody::CreateAccount {
            destination: SecretSeed::generate().unwrap().public_key(),
            starting_balance: Amount::from_stroops(10_000_000).unwrap(),
        })],
    };
    let mut env = build::envelope(build::build(&spec).unwrap());
    airgap::envelope::sign(&mut env, &network, key).unwrap();
    let hash = hex::encode(airgap::envelope::hash(&env, &network));
    (airgap::envelope::encode(&env), hash)
}
