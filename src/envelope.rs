//! Envelopes: decoding untrusted base64 XDR with limits, the transaction hash, signing and checking
//! signatures.
use crate::account::AccountId;
use crate::keys::SecretSeed;
use crate::network::Network;
use sha2::{Digest, Sha256};
use stellar_xdr::{
    DecoratedSignature, EnvelopeType, Limited, Limits, Operation, ReadXdr, Signature,
    SignatureHint, Transaction, TransactionEnvelope, TransactionV0Envelope, TransactionV1Envelope,
    VecM, WriteXdr,
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
    // The XDR bytes, then base64 in one pass: the same text as `to_xdr_base64` (standard alphabet,
    // padded), without its streaming writer's small writes.
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(to_bytes(env))
}

/// The XDR bytes of an envelope.
pub fn to_bytes(env: &TransactionEnvelope) -> Vec<u8> {
    env.to_xdr(Limits::none()).unwrap_or_default()
}

/// A v0 transaction as the v1 transaction it is hashed as: the one conversion from v0 (the
/// source as a plain ed25519 account, the time bounds as preconditions).
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

/// The (inner) transaction's v1 envelope: a v1 envelope as it is, a v0 one as the v1 envelope it
/// is hashed as (same hash, same signatures), the one inside a fee bump.
pub fn inner_v1(env: &TransactionEnvelope) -> TransactionV1Envelope {
    match env {
        TransactionEnvelope::TxV0(e) => TransactionV1Envelope {
            tx: v0_as_v1(e),
            signatures: e.signatures.clone(),
        },
        TransactionEnvelope::Tx(e) => e.clone(),
        TransactionEnvelope::TxFeeBump(e) => match &e.tx.inner_tx {
            stellar_xdr::FeeBumpTransactionInnerTx::Tx(inner) => inner.clone(),
        },
    }
}

/// The hash that signatures cover: SHA-256 of the network ID and the tagged transaction.
pub fn hash(env: &TransactionEnvelope, network: &Network) -> [u8; 32] {
    // The XDR of a `TransactionSignaturePayload` (the network ID, then the tagged transaction: its
    // envelope type, then the transaction) is written straight into the hash, piece by piece, so
    // the transaction is neither copied nor buffered. `payload_hash` in the tests checks this
    // against the hash of the whole payload built as a value.
    let mut sha = Sha256::new();
    sha.update(network.id());
    let mut w = Limited::new(&mut sha, Limits::none());
    // Writing into a hash cannot fail.
    let _ = match env {
        TransactionEnvelope::TxV0(v0) => EnvelopeType::Tx
            .write_xdr(&mut w)
            .and_then(|()| v0_as_v1(v0).write_xdr(&mut w)),
        TransactionEnvelope::Tx(v1) => EnvelopeType::Tx
            .write_xdr(&mut w)
            .and_then(|()| v1.tx.write_xdr(&mut w)),
        TransactionEnvelope::TxFeeBump(fb) => EnvelopeType::TxFeeBump
            .write_xdr(&mut w)
            .and_then(|()| fb.tx.write_xdr(&mut w)),
    };
    sha.finalize().into()
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
/// machine's cores. The new signatures are checked with ed25519 batch verification, all the
/// signatures one key made in a chunk at once ([`crate::keys::verify_many`]: 85k instructions per
/// signature, against 145k for `ed25519_dalek::verify_batch` and 227k for making the signature;
/// docs/benchmarks.md); if that check fails, each signature is checked alone with `verify_strict`,
/// and any failure is fatal. Either every envelope is signed or an error returns.
pub fn sign_all(
    items: &mut [(TransactionEnvelope, Network)],
    seeds: &[SecretSeed],
) -> Result<(), EnvelopeError> {
    sign_all_then(items, seeds, |_, _| ()).map(|_| ())
}

/// [`sign_all`], then `then(first, chunk)` on each chunk of envelopes (`first` is the index in
/// `items` of the chunk's first envelope) once all its new signatures have been verified, on the
/// thread that signed it (for `batch`: encoding the output, in parallel). The results come back in
/// the order of the chunks, which cover `items` in order; `then` never sees an envelope whose new
/// signatures did not verify.
pub fn sign_all_then<T: Send>(
    items: &mut [(TransactionEnvelope, Network)],
    seeds: &[SecretSeed],
    then: impl Fn(usize, &[(TransactionEnvelope, Network)]) -> T + Sync,
) -> Result<Vec<T>, EnvelopeError> {
    // About one chunk per thread, of at most 1024 envelopes: batch verification gets cheaper
    // per signature up to about a thousand signatures.
    let chunk = items.len().div_ceil(crate::pool::threads()).clamp(1, 1024);
    crate::pool::try_chunks_mut(items, chunk, |first, part| {
        sign_part(part, seeds)?;
        Ok(then(first, part))
    })
    .map_err(|e| match e {
        crate::pool::PoolError::Failed(e) => e,
        _ => EnvelopeError::SelfCheckFailed,
    })
}

/// Sign a chunk on this thread, then verify every new signature (see [`sign_all`]).
fn sign_part(
    part: &mut [(TransactionEnvelope, Network)],
    seeds: &[SecretSeed],
) -> Result<(), EnvelopeError> {
    let publics: Vec<AccountId> = seeds.iter().map(SecretSeed::public_key).collect();
    // Per key: the hashes it signed and its signatures.
    let mut made: Vec<Vec<([u8; 32], [u8; 64])>> =
        vec![Vec::with_capacity(part.len()); seeds.len()];
    for (env, network) in part.iter_mut() {
        let h = hash(env, network);
        for ((seed, public), made) in seeds.iter().zip(&publics).zip(&mut made) {
            let present = signatures(env).iter().any(|s| {
                s.hint.0 == public.hint() && crate::keys::verify(public, &h, &s.signature)
            });
            if present {
                continue;
            }
            let sig = seed.sign(&h);
            made.push((h, sig));
            add_signature(env, decorated(public, sig)?)?;
        }
    }
    for (public, made) in publics.iter().zip(&made) {
        let signed: Vec<(&[u8], [u8; 64])> = made.iter().map(|(h, s)| (h.as_slice(), *s)).collect();
        if !crate::keys::verify_many(public, &signed) {
            // Check each alone (verify_strict); any failure is fatal.
            if signed
                .iter()
                .any(|(h, s)| !crate::keys::verify(public, h, s))
            {
                return Err(EnvelopeError::SelfCheckFailed);
            }
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
    inner_v1(env).tx
}

/// The account an operation acts for: its own source account if it names one, else the
/// transaction's (`tx_source`). Whose signatures it needs, whose balance it moves.
pub fn op_source(op: &Operation, tx_source: AccountId) -> AccountId {
    op.source_account
        .as_ref()
        .map_or(tx_source, AccountId::from_muxed)
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

/// `SetTrustLineFlags` → `set_trust_line_flags`: XDR variant names as Horizon writes them.
pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The operation's type as Horizon names it.
pub fn op_type_name(body: &stellar_xdr::OperationBody) -> String {
    use stellar_xdr::OperationBody;
    match body {
        OperationBody::SetTrustLineFlags(_) => "set_trust_line_flags".into(),
        OperationBody::AccountMerge(_) => "account_merge".into(),
        other => snake_case(other.name()),
    }
}

/// The sequence number of the (inner) transaction.
pub fn sequence(env: &TransactionEnvelope) -> i64 {
    transaction(env).seq_num.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash as the XDR of the whole `TransactionSignaturePayload`, built as a value.
    fn payload_hash(env: &TransactionEnvelope, network: &Network) -> [u8; 32] {
        use stellar_xdr::{
            TransactionSignaturePayload, TransactionSignaturePayloadTaggedTransaction as Tagged,
        };
        let tagged = match env {
            TransactionEnvelope::TxV0(v0) => Tagged::Tx(v0_as_v1(v0)),
            TransactionEnvelope::Tx(v1) => Tagged::Tx(v1.tx.clone()),
            TransactionEnvelope::TxFeeBump(fb) => Tagged::TxFeeBump(fb.tx.clone()),
        };
        let payload = TransactionSignaturePayload {
            network_id: stellar_xdr::Hash(network.id()),
            tagged_transaction: tagged,
        };
        Sha256::digest(payload.to_xdr(Limits::none()).unwrap()).into()
    }

    #[test]
    fn hash_is_the_hash_of_the_signature_payload() {
        // A v1 payment, the same as v0, and a fee bump of it, each signed once.
        let seed = SecretSeed::from_bytes(zeroize::Zeroizing::new([5u8; 32]));
        let source = seed.public_key();
        let spec = crate::build::TxSpec {
            network: Network::Testnet,
            source,
            sequence: 77,
            base_fee: 100,
            time: crate::build::TimeWindow { min: 1, max: 2 },
            memo: crate::build::MemoSpec::text("hi").unwrap(),
            operations: vec![crate::build::OpSpec::new(
                crate::build::OpBody::BumpSequence { to: 99 },
            )],
        };
        let tx = crate::build::build(&spec).unwrap();
        let mut v1 = crate::build::envelope(tx.clone());
        sign(&mut v1, &Network::Testnet, &seed).unwrap();
        let TransactionEnvelope::Tx(e) = &v1 else {
            unreachable!()
        };
        let stellar_xdr::Preconditions::Time(tb) = tx.cond.clone() else {
            unreachable!()
        };
        let v0 = TransactionEnvelope::TxV0(TransactionV0Envelope {
            tx: stellar_xdr::TransactionV0 {
                source_account_ed25519: stellar_xdr::Uint256(source.0),
                fee: tx.fee,
                seq_num: tx.seq_num.clone(),
                time_bounds: Some(tb),
                memo: tx.memo.clone(),
                operations: tx.operations.clone(),
                ext: stellar_xdr::TransactionV0Ext::V0,
            },
            signatures: e.signatures.clone(),
        });
        let fee_bump = crate::feebump::wrap(&v1, source, 1000).unwrap();
        for env in [&v1, &v0, &fee_bump] {
            for network in [Network::Testnet, Network::Custom("x".into())] {
                assert_eq!(hash(env, &network), payload_hash(env, &network));
            }
        }
        assert_eq!(hash(&v1, &Network::Testnet), hash(&v0, &Network::Testnet));
        assert_eq!(
            tx_hash(&tx, &Network::Testnet),
            hash(&v1, &Network::Testnet)
        );
    }

    #[test]
    fn encode_is_to_xdr_base64() {
        let seed = SecretSeed::from_bytes(zeroize::Zeroizing::new([6u8; 32]));
        let spec = crate::build::TxSpec {
            network: Network::Pubnet,
            source: seed.public_key(),
            sequence: 1,
            base_fee: 100,
            time: crate::build::TimeWindow { min: 0, max: 0 },
            memo: crate::build::MemoSpec::None,
            operations: vec![crate::build::OpSpec::new(
                crate::build::OpBody::BumpSequence { to: 2 },
            )],
        };
        let mut env = crate::build::envelope(crate::build::build(&spec).unwrap());
        for _ in 0..3 {
            let text = encode(&env);
            assert_eq!(text, env.to_xdr_base64(Limits::none()).unwrap());
            assert_eq!(decode(&text).unwrap(), env);
            sign(&mut env, &Network::Pubnet, &seed).unwrap();
        }
    }

    #[test]
    fn sign_all_signs_and_verifies_every_envelope_in_order() {
        let seeds = [
            SecretSeed::from_bytes(zeroize::Zeroizing::new([1u8; 32])),
            SecretSeed::from_bytes(zeroize::Zeroizing::new([2u8; 32])),
        ];
        let envelope = |sequence| {
            let spec = crate::build::TxSpec {
                network: Network::Testnet,
                source: seeds[0].public_key(),
                sequence,
                base_fee: 100,
                time: crate::build::TimeWindow { min: 0, max: 0 },
                memo: crate::build::MemoSpec::None,
                operations: vec![crate::build::OpSpec::new(
                    crate::build::OpBody::BumpSequence { to: 1 },
                )],
            };
            crate::build::envelope(crate::build::build(&spec).unwrap())
        };
        let mut items: Vec<(TransactionEnvelope, Network)> = (1..=2500)
            .map(|i| (envelope(i), Network::Testnet))
            .collect();
        // One envelope already carries the first key's signature: it is not signed twice.
        sign(&mut items[7].0, &Network::Testnet, &seeds[0]).unwrap();
        let sequences = sign_all_then(&mut items, &seeds, |first, part| {
            part.iter()
                .enumerate()
                .map(|(i, (e, _))| {
                    assert_eq!(sequence(e), (first + i + 1) as i64);
                    sequence(e)
                })
                .collect::<Vec<_>>()
        })
        .unwrap();
        assert_eq!(sequences.concat(), (1..=2500).collect::<Vec<i64>>());
        for (i, (env, network)) in items.iter().enumerate() {
            let mut one = envelope(i as i64 + 1);
            for seed in &seeds {
                sign(&mut one, network, seed).unwrap();
            }
            assert_eq!(env, &one, "envelope {i}");
        }
    }

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
