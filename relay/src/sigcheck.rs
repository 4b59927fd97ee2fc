//! Do an envelope's signatures verify for this network, and whose are they?
use airgap::account::AccountId;
use airgap::envelope;
use airgap::feebump;
use airgap::network::Network;
use serde::Serialize;
use stellar_xdr::TransactionEnvelope;

/// One signature and who made it.
#[derive(Debug, Clone, Serialize)]
pub struct SigResult {
    /// `inner` or `outer` for a fee bump, else `transaction`.
    pub envelope: &'static str,
    pub hint: String,
    /// The key it verifies under, among the candidates.
    pub signer: Option<AccountId>,
}

/// Every signature of the envelope (for a fee bump: the inner and the outer ones).
pub fn check(
    env: &TransactionEnvelope,
    network: &Network,
    candidates: &[AccountId],
) -> Vec<SigResult> {
    let one = |e: &TransactionEnvelope, label: &'static str| -> Vec<SigResult> {
        let h = envelope::hash(e, network);
        envelope::signatures(e)
            .iter()
            .map(|s| SigResult {
                envelope: label,
                hint: hex::encode(s.hint.0),
                signer: envelope::signer_of(&h, s, candidates),
            })
            .collect()
    };
    match feebump::inner(env) {
        Some(inner) => {
            let mut v = one(&inner, "inner");
            v.extend(one(env, "outer"));
            v
        }
        None => one(env, "transaction"),
    }
}

/// The accounts whose keys may sign: the transaction source, each operation's own source and, for
/// a fee bump, the fee source.
pub fn signing_accounts(env: &TransactionEnvelope) -> Vec<AccountId> {
    let tx = envelope::transaction(env);
    let mut out = vec![envelope::source(env)];
    for op in tx.operations.iter() {
        if let Some(s) = &op.source_account {
            out.push(AccountId::from_muxed(s));
        }
    }
    if let TransactionEnvelope::TxFeeBump(fb) = env {
        out.push(AccountId::from_muxed(&fb.tx.fee_source));
    }
    out.sort();
    out.dedup();
    out
}

/// When no signature verifies for `network`: the known network all of them verify for, if any
/// (a blob signed for testnet, say, sent to a pubnet Horizon).
pub fn signed_for_other_network(
    env: &TransactionEnvelope,
    network: &Network,
    candidates: &[AccountId],
) -> Option<Network> {
    [
        Network::Pubnet,
        Network::Testnet,
        Network::Futurenet,
        Network::Standalone,
    ]
    .into_iter()
    .filter(|n| n != network)
    .find(|n| {
        let r = check(env, n, candidates);
        !r.is_empty() && r.iter().all(|s| s.signer.is_some())
    })
}

/// Why the signatures cannot be sent, or `None` when every signature verifies.
pub fn refusal(
    env: &TransactionEnvelope,
    network: &Network,
    candidates: &[AccountId],
) -> Option<String> {
    let results = check(env, network, candidates);
    if results.is_empty() {
        return Some("the envelope has no signatures; sign it with airgap-signer first".into());
    }
    let bad: Vec<&SigResult> = results.iter().filter(|s| s.signer.is_none()).collect();
    if bad.is_empty() {
        return None;
    }
    if bad.len() == results.len() {
        if let Some(other) = signed_for_other_network(env, network, candidates) {
            return Some(format!(
                "it was signed for {other}, but Horizon serves {network}; sending it would fail with tx_bad_auth"
            ));
        }
    }
    let hints: Vec<String> = bad
        .iter()
        .map(|s| format!("{} (hint {})", s.envelope, s.hint))
        .collect();
    Some(format!(
        "{} of {} signatures do not verify for {network} under any signer of its accounts: {}",
        bad.len(),
        results.len(),
        hints.join(", ")
    ))
}
