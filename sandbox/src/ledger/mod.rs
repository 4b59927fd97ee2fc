//! The sandbox ledger: accounts, trustlines and data entries, and the rules that validate and
//! apply one transaction at a time (after stellar-core's `TransactionFrame` and `*OpFrame`s, read
//! for protocol 23 behaviour). No HTTP and no storage here: [`Ledger::evaluate`] is a pure
//! function of the current state that returns either a rejection (nothing changes) or the next
//! closed ledger, which the caller persists and then [`Ledger::commit`]s.
//!
//! This file: the ledger and [`Ledger::evaluate`], which runs a transaction (or a fee bump)
//! through the seams below. `entries`: the entries, header and stored transactions;
//! `signatures`: stellar-core's signature checker; `validity`: `checkValid` of transactions and
//! operations; `apply`: each operation's effect; `close`: fees and the closed ledger.

use airgap::network::Network;
use airgap::weights::Category;
use ed25519_dalek::Signer as _;
use sha2::{Digest, Sha256};
use stellar_xdr::{
    AccountId, CreateAccountOp, DecoratedSignature, FeeBumpTransactionEnvelope,
    FeeBumpTransactionInnerTx, Limits, Memo, MuxedAccount, Operation, OperationBody, Preconditions,
    PublicKey, SequenceNumber, SignatureHint, Transaction, TransactionEnvelope, TransactionExt,
    TransactionResult, TransactionResultResult, TransactionV1Envelope, Uint256, WriteXdr,
};

use crate::meta::MetaError;
use crate::results::{self, ResultsError};

mod apply;
mod close;
mod entries;
mod signatures;
mod validity;

use close::{fee_for_ops, rejected, Closing, Fee};
pub use entries::*;
use signatures::{hint_of, needed_weight, signers_of, SigChecker};

/// Errors of this module (internal failures, never a verdict on a transaction).
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Results(#[from] ResultsError),
    #[error("XDR encoding failed: {0}")]
    Xdr(#[from] stellar_xdr::Error),
    #[error("ledger sequence exhausted")]
    LedgerSequenceExhausted,
    #[error(transparent)]
    Meta(#[from] MetaError),
}

/// The next ledger, closed by one transaction; persist it, then [`Ledger::commit`] it.
#[derive(Debug)]
pub struct Closed {
    pub state: State,
    pub header: Header,
    pub record: LedgerRecord,
    pub tx: StoredTx,
}

/// What stellar-core would do with a submitted envelope.
#[derive(Debug)]
pub enum Verdict {
    /// Rejected while validating: no fee, no sequence number, not stored.
    Rejected(TransactionResult),
    /// Included in a new ledger: successful, or failed with the fee and sequence consumed.
    Included(Box<Closed>),
}

/// The whole sandbox ledger.
#[derive(Clone, Debug)]
pub struct Ledger {
    passphrase: String,
    network_id: [u8; 32],
    pub header: Header,
    pub state: State,
}

impl Ledger {
    /// Ledger 1: the root account holds every lumen, as in stellar-core's genesis.
    pub fn genesis(passphrase: &str, now: u64) -> Ledger {
        let network_id = network_id(passphrase);
        let root = root_key(&network_id).verifying_key().to_bytes();
        let mut state = State::default();
        state.accounts.insert(
            root,
            Account {
                last_modified_ledger: 1,
                last_modified_time: now,
                ..Account::new(root, TOTAL_COINS, 0)
            },
        );
        Ledger {
            passphrase: passphrase.to_string(),
            network_id,
            header: Header {
                ledger_seq: 1,
                close_time: now,
                hash: Sha256::digest(b"stellar-airgap sandbox genesis").into(),
                fee_pool: 0,
                total_coins: TOTAL_COINS,
            },
            state,
        }
    }

    /// The genesis ledger record (ledger 1).
    pub fn genesis_record(&self) -> LedgerRecord {
        LedgerRecord {
            sequence: 1,
            hash: self.header.hash,
            prev_hash: [0; 32],
            close_time: self.header.close_time,
            successful_transaction_count: 0,
            failed_transaction_count: 0,
            operation_count: 0,
            tx_set_operation_count: 0,
            fee_pool: 0,
            total_coins: TOTAL_COINS,
        }
    }

    /// A ledger restored from storage.
    pub fn from_parts(passphrase: &str, header: Header, state: State) -> Ledger {
        Ledger {
            passphrase: passphrase.to_string(),
            network_id: network_id(passphrase),
            header,
            state,
        }
    }

    /// The root account's address bytes.
    #[cfg(test)]
    pub fn root_id(&self) -> [u8; 32] {
        root_key(&self.network_id).verifying_key().to_bytes()
    }

    /// Accept the closed ledger produced by [`Ledger::evaluate`] (after it was persisted).
    pub fn commit(&mut self, closed: &Closed) {
        self.state = closed.state.clone();
        self.header = closed.header.clone();
    }

    /// Validate `env` (hash `hash`) as stellar-core would, and if it is valid, apply it in a new
    /// ledger closing at `now` (never before the previous close time).
    pub fn evaluate(
        &self,
        env: &TransactionEnvelope,
        envelope_xdr: &str,
        hash: [u8; 32],
        now: u64,
    ) -> Result<Verdict, LedgerError> {
        let next_seq = self
            .header
            .ledger_seq
            .checked_add(1)
            .ok_or(LedgerError::LedgerSequenceExhausted)?;
        let close_time = now.max(self.header.close_time);
        let at = Closing {
            next_seq,
            close_time,
        };
        match env {
            TransactionEnvelope::TxV0(e) => rejected(
                fee_for_ops(e.tx.operations.len(), 0),
                TransactionResultResult::TxNotSupported,
            ),
            TransactionEnvelope::Tx(e) => {
                let min_fee = fee_for_ops(e.tx.operations.len(), 0);
                if let Some(invalid) = self.validate(&e.tx, &e.signatures, hash, true, at) {
                    return Ok(Verdict::Rejected(invalid.into_result(min_fee)?));
                }
                let fee = Fee {
                    payer: muxed_bytes(&e.tx.source_account),
                    offered: i64::from(e.tx.fee),
                    minimum: min_fee,
                    fee_bump_hash: None,
                };
                let applied = self.pay_and_apply(fee, &e.tx, hash, at, |fee, failed, ops| {
                    Ok(results::tx_with_ops(fee, failed, ops)?)
                })?;
                self.close(applied, &e.tx, envelope_xdr, hash, None, at)
            }
            TransactionEnvelope::TxFeeBump(e) => self.evaluate_fee_bump(e, envelope_xdr, hash, at),
        }
    }

    /// stellar-core's `FeeBumpTransactionFrame::checkValid` and apply.
    fn evaluate_fee_bump(
        &self,
        env: &FeeBumpTransactionEnvelope,
        envelope_xdr: &str,
        hash: [u8; 32],
        at: Closing,
    ) -> Result<Verdict, LedgerError> {
        let FeeBumpTransactionInnerTx::Tx(inner) = &env.tx.inner_tx;
        let inner_tx = &inner.tx;
        let inner_hash =
            airgap::envelope::tx_hash(inner_tx, &Network::from_passphrase(&self.passphrase));
        let n_inner = inner_tx.operations.len();
        let min_outer = fee_for_ops(n_inner, 1);
        let min_inner = fee_for_ops(n_inner, 0);
        let outer_fee = env.tx.fee;
        if outer_fee < 0 {
            return rejected(min_outer, TransactionResultResult::TxMalformed);
        }
        if outer_fee < min_outer {
            return rejected(min_outer, TransactionResultResult::TxInsufficientFee);
        }
        // the outer fee rate must be at least the inner one
        let v1 = i128::from(outer_fee) * i128::from(min_inner);
        let v2 = i128::from(inner_tx.fee) * i128::from(min_outer);
        if v1 < v2 {
            let needed = (v2 + i128::from(min_inner) - 1) / i128::from(min_inner.max(1));
            let needed = i64::try_from(needed).unwrap_or(i64::MAX);
            return rejected(needed, TransactionResultResult::TxInsufficientFee);
        }
        let fee_source = muxed_bytes(&env.tx.fee_source);
        let Some(fee_acc) = self.state.accounts.get(&fee_source) else {
            return rejected(min_outer, TransactionResultResult::TxNoAccount);
        };
        let mut checker = SigChecker::new(hash, &env.signatures);
        if !checker.check(&signers_of(fee_acc), needed_weight(fee_acc, Category::Low)) {
            return rejected(min_outer, TransactionResultResult::TxBadAuth);
        }
        if available(fee_acc) < outer_fee {
            return rejected(min_outer, TransactionResultResult::TxInsufficientBalance);
        }
        if !checker.all_used() {
            return rejected(min_outer, TransactionResultResult::TxBadAuthExtra);
        }
        if let Some(invalid) = self.validate(inner_tx, &inner.signatures, inner_hash, false, at) {
            let inner_result = invalid.into_result(0)?;
            let result = results::fee_bump(min_outer, false, inner_hash, inner_result)?;
            return Ok(Verdict::Rejected(result));
        }
        let fee = Fee {
            payer: fee_source,
            offered: outer_fee,
            minimum: min_outer,
            fee_bump_hash: Some(hash),
        };
        let applied = self.pay_and_apply(fee, inner_tx, inner_hash, at, |fee, failed, ops| {
            let inner_fee = i64::from(inner_tx.fee).min(min_inner);
            let inner_result = results::tx_with_ops(inner_fee, failed, ops)?;
            Ok(results::fee_bump(fee, !failed, inner_hash, inner_result)?)
        })?;
        self.close(applied, inner_tx, envelope_xdr, hash, Some(inner_hash), at)
    }

    /// A signed create_account from the root account (friendbot), as base64 envelope XDR.
    pub fn friendbot_envelope(
        &self,
        destination: [u8; 32],
        amount: i64,
    ) -> Result<(TransactionEnvelope, String, [u8; 32]), LedgerError> {
        let key = root_key(&self.network_id);
        let root = key.verifying_key().to_bytes();
        let seq = self
            .state
            .accounts
            .get(&root)
            .map_or(0, |a| a.seq_num)
            .saturating_add(1);
        let tx = Transaction {
            source_account: MuxedAccount::Ed25519(Uint256(root)),
            fee: 100,
            seq_num: SequenceNumber(seq),
            cond: Preconditions::None,
            memo: Memo::None,
            operations: vec![Operation {
                source_account: None,
                body: OperationBody::CreateAccount(CreateAccountOp {
                    destination: AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(destination))),
                    starting_balance: amount,
                }),
            }]
            .try_into()?,
            ext: TransactionExt::V0,
        };
        let unsigned = TransactionEnvelope::Tx(TransactionV1Envelope {
            tx: tx.clone(),
            signatures: Default::default(),
        });
        let hash = airgap::envelope::hash(&unsigned, &Network::from_passphrase(&self.passphrase));
        let signature = key.sign(&hash);
        let decorated = DecoratedSignature {
            hint: SignatureHint(hint_of(&root)),
            signature: stellar_xdr::Signature(signature.to_bytes().to_vec().try_into()?),
        };
        let env = TransactionEnvelope::Tx(TransactionV1Envelope {
            tx,
            signatures: vec![decorated].try_into()?,
        });
        let xdr = env.to_xdr_base64(Limits::none())?;
        Ok((env, xdr, hash))
    }
}

#[cfg(test)]
mod tests;
