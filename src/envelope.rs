//! Envelopes: decoding untrusted base64 XDR with limits, the transaction hash, signing and checking
//! signatures.
use crate::account::AccountId;
use crate::keys::SecretSeed;
use crate::network::Network;
use sha2::{Digest, Sha256};
use stellar_xdr::{
    DecoratedSignature, Limited, Limits, ReadXdr, Signature, SignatureHint, Transaction,
    TransactionEnvelope, TransactionSignaturePayload, TransactionSignaturePayloadTaggedTransaction,
    TransactionV0Envelope, TransactionV1Envelope, VecM, WriteXdr,
};

/// The most signatures an envelope may carry (stellar-core's limit).
pub const MAX_SIGNATURES: usize = 20;
/// The largest envelope we accept, in base64 characters. Horizon takes 200 KB requests and
/// stellar-core's transaction size limit is far smaller; 1 MiB leaves room and bounds memory.
pub const MAX_BASE64_LEN: usize = 1 << 20;
/// Decoding limits for untrusted XDR: nesting depth and bytes. Envelopes of the operations we
/// handle nest a handful of levels deep; 200 keeps a hostile blob from exhausting the stack.
const DECODE_LIMITS: Limits = Limits {
    depth: 200,
    len: MAX_BASE64_LEN,
};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeError {
    #[error("the input is empty; expected a base64 transaction envelope")]
    Empty,
    #[error(
        "the envelope is {0} characters long, more than the {MAX_BASE64_LEN} this tool accepts"
    )]
    TooLong(usize),
    #[error("this is not a Stellar transaction envelope: {0}")]
    Malformed(String),
    #[error("the envelope already has {MAX_SIGNATURES} signatures, the most Stellar allows")]
    TooManySignatures,
    #[error("the signature just made does not verify; nothing was written (this points to a broken key or memory fault)")]
    SelfCheckFailed,
}

/// Decode a base64 envelope from untrusted text. Whitespace around (and line breaks inside, as
/// from a wrapped file) are ignored; trailing bytes after the envelope are an error.
pub fn decode(text: &str) -> Result<TransactionEnvelope, EnvelopeError> {
    let compact: String = text.split_ascii_whitespace().collect();
    if compact.is_empty() {
        return Err(EnvelopeError::Empty);
    }
    if compact.len() > MAX_BASE64_LEN {
        return Err(EnvelopeError::TooLong(compact.len()));
    }
    TransactionEnvelope::from_xdr_base64(&compact, DECODE_LIMITS).map_err(|e| {
        EnvelopeError::Malformed(match e {
            stellar_xdr::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
                "it ends early (truncated?)".to_string()
            }
            stellar_xdr::Error::Io(io) => format!("it is not valid base64 ({io})"),
            other => other.to_string(),
        })
    })
}

/// Decode raw XDR bytes (as carried in QR frames).
pub fn decode_bytes(bytes: &[u8]) -> Result<TransactionEnvelope, EnvelopeError> {
    if bytes.is_empty() {
        return Err(EnvelopeError::Empty);
    }
    let mut r = Limited::new(std::io::Cursor::new(bytes), DECODE_LIMITS);
    let env = TransactionEnvelope::read_xdr(&mut r)
        .map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
    if (r.inner.position() as usize) != bytes.len() {
        return Err(EnvelopeError::Malformed(
            "it has bytes after the end of the envelope".into(),
        ));
    }
    Ok(env)
}

/// The base64 form of an envelope.
pub fn encode(env: &TransactionEnvelope) -> String {
    // Writing to memory cannot fail for a value we hold.
    env.to_xdr_base64(Limits::none()).unwrap_or_default()
}

/// The XDR bytes of an envelope.
pub fn to_bytes(env: &TransactionEnvelope) -> Vec<u8> {
    env.to_xdr(Limits::none()).unwrap_or_default()
}

/// A v0 transaction as the v1 transaction it is hashed as.
pub fn v0_as_v1(v0: &TransactionV0Envelope) -> Transaction {
    let tx = &v0.tx;
    Transaction {
        source_account: stellar_xdr::MuxedAccount::Ed25519(tx.source_account_ed25519.clone()),
        fee: tx.fee,
        seq_num: tx.seq_num.clone(),
        cond: match &tx.time_bounds {
            Some(tb) => stellar_xdr::Preconditions::Time(tb.clone()),
            None => stellar_xdr::Preconditions::None,
        },
        memo: tx.memo.clone(),
        operations: tx.operations.clone(),
        ext: stellar_xdr::TransactionExt::V0,
    }
}

/// The hash that signatures cover: SHA-256 of the network ID and the tagged transaction.
pub fn hash(env: &TransactionEnvelope, network: &Network) -> [u8; 32] {
    let tagged = match env {
        TransactionEnvelope::TxV0(v0) => {
            TransactionSignaturePayloadTaggedTransaction::Tx(v0_as_v1(v0))
        }
        TransactionEnvelope::Tx(v1) => {
            TransactionSignaturePayloadTaggedTransaction::Tx(v1.tx.clone())
        }
        TransactionEnvelope::TxFeeBump(fb) => {
            TransactionSignaturePayloadTaggedTransaction::TxFeeBump(fb.tx.clone())
        }
    };
    let payload = TransactionSignaturePayload {
        network_id: stellar_xdr::Hash(network.id()),
        tagged_transaction: tagged,
    };
    Sha256::digest(payload.to_xdr(Limits::none()).unwrap_or_default()).into()
}

/// The hash of a transaction about to be wrapped in an envelope.
pub fn tx_hash(tx: &Transaction, network: &Network) -> [u8; 32] {
    hash(
        &TransactionEnvelope::Tx(TransactionV1Envelope {
            tx: tx.clone(),
            signatures: VecM::default(),
        }),
        network,
    )
}

/// The signatures on the envelope (for a fee bump: the outer ones).
pub fn signatures(env: &TransactionEnvelope) -> &[DecoratedSignature] {
    match env {
        TransactionEnvelope::TxV0(e) => &e.signatures,
        TransactionEnvelope::Tx(e) => &e.signatures,
        TransactionEnvelope::TxFeeBump(e) => &e.signatures,
    }
}

fn signatures_mut(env: &mut TransactionEnvelope) -> &mut VecM<DecoratedSignature, 20> {
    match env {
        TransactionEnvelope::TxV0(e) => &mut e.signatures,
        TransactionEnvelope::Tx(e) => &mut e.signatures,
        TransactionEnvelope::TxFeeBump(e) => &mut e.signatures,
    }
}

/// Sign the envelope for `network` with `seed`, append the signature, and check that it verifies
/// before returning. A signature by the same key already present is not added twice.
pub fn sign(
    env: &mut TransactionEnvelope,
    network: &Network,
    seed: &SecretSeed,
) -> Result<(), EnvelopeError> {
    let h = hash(env, network);
    let public = seed.public_key();
    if signatures(env)
        .iter()
        .any(|s| s.hint.0 == public.hint() && crate::keys::verify(&public, &h, &s.signature))
    {
        return Ok(());
    }
    let sig = seed.sign(&h);
    if !seed.verify(&h, &sig) {
        return Err(EnvelopeError::SelfCheckFailed);
    }
    add_signature(env, decorated(&public, sig)?)
}

/// Sign every envelope with every seed in order, as [`sign`] does, spreading the work over the
/// machine's cores. The new signatures are then checked all at once with ed25519 batch
/// verification (about three times cheaper per signature than checking each alone, which is what
/// lets `batch` run near the bare signing rate); if that check fails, each signature is checked
/// alone and the first bad one is reported. Either every envelope is signed or an error returns.
pub fn sign_all(
    items: &mut [(TransactionEnvelope, Network)],
    seeds: &[SecretSeed],
) -> Result<(), EnvelopeError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().max(1));
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks_mut(chunk)
            .map(|part| scope.spawn(move || sign_part(part, seeds)))
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().unwrap_or(Err(EnvelopeError::SelfCheckFailed)))
    })
}

fn sign_part(
    part: &mut [(TransactionEnvelope, Network)],
    seeds: &[SecretSeed],
) -> Result<(), EnvelopeError> {
    let keys: Vec<ed25519_dalek::VerifyingKey> =
        seeds.iter().map(SecretSeed::verifying_key).collect();
    let mut made: Vec<([u8; 32], usize, ed25519_dalek::Signature)> =
        Vec::with_capacity(part.len() * seeds.len());
    for (env, network) in part.iter_mut() {
        let h = hash(env, network);
        for (k, seed) in seeds.iter().enumerate() {
            let public = seed.public_key();
            let present = signatures(env).iter().any(|s| {
                s.hint.0 == public.hint() && crate::keys::verify(&public, &h, &s.signature)
            });
            if present {
                continue;
            }
            let sig = seed.sign(&h);
            made.push((h, k, ed25519_dalek::Signature::from_bytes(&sig)));
            add_signature(env, decorated(&public, sig)?)?;
        }
    }
    for group in made.chunks(256) {
        let messages: Vec<&[u8]> = group.iter().map(|(h, _, _)| h.as_slice()).collect();
        let sigs: Vec<ed25519_dalek::Signature> = group.iter().map(|(_, _, s)| *s).collect();
        let vks: Vec<ed25519_dalek::VerifyingKey> =
            group.iter().map(|(_, k, _)| keys[*k]).collect();
        if ed25519_dalek::verify_batch(&messages, &sigs, &vks).is_err() {
            // Find the culprit the slow way; any failure is fatal.
            for (h, k, s) in group {
                if keys[*k].verify_strict(h, s).is_err() {
                    return Err(EnvelopeError::SelfCheckFailed);
                }
            }
            return Err(EnvelopeError::SelfCheckFailed);
        }
    }
    Ok(())
}

/// Append a signature (no verification: see [`signer_of`]).
pub fn add_signature(
    env: &mut TransactionEnvelope,
    sig: DecoratedSignature,
) -> Result<(), EnvelopeError> {
    let sigs = signatures_mut(env);
    let mut v: Vec<DecoratedSignature> = sigs.to_vec();
    if v.len() >= MAX_SIGNATURES {
        return Err(EnvelopeError::TooManySignatures);
    }
    v.push(sig);
    *sigs = v.try_into().map_err(|_| EnvelopeError::TooManySignatures)?;
    Ok(())
}

/// Which of `candidates` made this signature over `hash`, if any.
pub fn signer_of(
    hash: &[u8; 32],
    sig: &DecoratedSignature,
    candidates: &[AccountId],
) -> Option<AccountId> {
    candidates
        .iter()
        .find(|c| c.hint() == sig.hint.0 && crate::keys::verify(c, hash, &sig.signature))
        .copied()
}

/// The transaction's source account (for a fee bump, the inner transaction's).
pub fn source(env: &TransactionEnvelope) -> AccountId {
    match env {
        TransactionEnvelope::TxV0(e) => AccountId(e.tx.source_account_ed25519.0),
        TransactionEnvelope::Tx(e) => AccountId::from_muxed(&e.tx.source_account),
        TransactionEnvelope::TxFeeBump(e) => match &e.tx.inner_tx {
            stellar_xdr::FeeBumpTransactionInnerTx::Tx(inner) => {
                AccountId::from_muxed(&inner.tx.source_account)
            }
        },
    }
}

/// The transaction (v0 envelopes as their v1 equivalent; fee bumps: the inner transaction).
pub fn transaction(env: &TransactionEnvelope) -> Transaction {
    match env {
        TransactionEnvelope::TxV0(e) => v0_as_v1(e),
        TransactionEnvelope::Tx(e) => e.tx.clone(),
        TransactionEnvelope::TxFeeBump(e) => match &e.tx.inner_tx {
            stellar_xdr::FeeBumpTransactionInnerTx::Tx(inner) => inner.tx.clone(),
        },
    }
}

/// The transaction's time bounds `(min, max)` in unix seconds; `(0, 0)` when it has none
/// (`max == 0` means no upper bound).
pub fn time_bounds(tx: &Transaction) -> (u64, u64) {
    match &tx.cond {
        stellar_xdr::Preconditions::None => (0, 0),
        stellar_xdr::Preconditions::Time(tb) => (tb.min_time.0, tb.max_time.0),
        stellar_xdr::Preconditions::V2(p) => p
            .time_bounds
            .as_ref()
            .map_or((0, 0), |tb| (tb.min_time.0, tb.max_time.0)),
    }
}

/// A signature as an envelope carries it: the key's hint and the 64 bytes.
fn decorated(public: &AccountId, sig: [u8; 64]) -> Result<DecoratedSignature, EnvelopeError> {
    let signature = Signature(
        sig.to_vec()
            .try_into()
            .map_err(|_| EnvelopeError::SelfCheckFailed)?,
    );
    Ok(DecoratedSignature {
        hint: SignatureHint(public.hint()),
        signature,
    })
}

/// The sequence number of the (inner) transaction.
pub fn sequence(env: &TransactionEnvelope) -> i64 {
    transaction(env).seq_num.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_refuses_garbage() {
        assert_eq!(decode("  "), Err(EnvelopeError::Empty));
        assert!(matches!(
            decode("not base64!"),
            Err(EnvelopeError::Malformed(_))
        ));
        assert!(matches!(
            decode("AAAAAgAAAAA="),
            Err(EnvelopeError::Malformed(_))
        ));
    }
}
