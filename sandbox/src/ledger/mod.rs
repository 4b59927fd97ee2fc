//! The sandbox ledger: accounts, trustlines and data entries, and the rules that validate and
//! apply transactions (after stellar-core's `TransactionFrame`, `FeeBumpTransactionFrame`,
//! `*OpFrame`s, `TxSetFrame` and `LedgerManagerImpl`, read for protocol 23 behaviour). No HTTP and
//! no storage here: pure functions of the current state that return a rejection (nothing changes)
//! or the next closed ledger, which the caller persists and then commits.
//!
//! * [`Ledger::check_valid`]: stellar-core's `checkValid` as seen from a [`CheckAt`] (the last
//!   closed ledger with the queue's or the nomination's close-time offsets, or a ledger being
//!   applied).
//! * [`Ledger::close_ledger`]: close the next ledger with a set of transactions, in
//!   stellar-core's apply order, fees first; [`Ledger::commit_ledger`].
//! * [`Ledger::evaluate`]: one transaction, validated for the next ledger and, if valid, applied
//!   alone in it (kept for in-process use: tests, preflight); [`Ledger::commit`].
//!
//! The seams: `entries` (the entries, header and stored transactions), `signatures`
//! (stellar-core's signature checker), `validity` (`checkValid`), `apply` (each operation, and a
//! transaction at apply time), `payments` (payments and path payments), `events` (CAP-67
//! events), `txset` (transaction sets, apply order, headers), `close` (fees and the closed
//! ledger).

use airgap::network::Network;
use ed25519_dalek::Signer as _;
use sha2::{Digest, Sha256};
use stellar_xdr::{
    AccountId, CreateAccountOp, DecoratedSignature, Limits, Memo, MuxedAccount, Operation,
    OperationBody, Preconditions, PublicKey, SequenceNumber, SignatureHint, Transaction,
    TransactionEnvelope, TransactionExt, TransactionResult, TransactionV1Envelope, Uint256,
    WriteXdr,
};

use crate::meta::MetaError;
use crate::results::ResultsError;

mod apply;
mod close;
mod entries;
mod events;
mod payments;
mod signatures;
mod txset;
mod validity;

pub use close::{Candidate, ClosedLedger};
pub use entries::*;
pub use events::sep11;
use signatures::hint_of;
pub use validity::CheckAt;

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
    #[error("a one-transaction ledger closed without its transaction")]
    EmptyLedger,
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
        let header = genesis_header(now);
        Ledger {
            passphrase: passphrase.to_string(),
            network_id,
            header: Header {
                ledger_seq: 1,
                close_time: now,
                // the SHA-256 of its LedgerHeader, as every later ledger's
                hash: txset::xdr_hash(&header)
                    .unwrap_or_else(|_| Sha256::digest(b"stellar-airgap sandbox genesis").into()),
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
            header_xdr: genesis_header(self.header.close_time)
                .to_xdr_base64(Limits::none())
                .unwrap_or_default(),
            tx_set_hash: [0; 32],
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

    /// The network this ledger belongs to.
    pub fn network(&self) -> Network {
        Network::from_passphrase(&self.passphrase)
    }

    /// The network's id (SHA-256 of its passphrase).
    pub fn network_id(&self) -> [u8; 32] {
        self.network_id
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

    /// Validate `env` (hash `hash`) as stellar-core would for the next ledger closing at `now`
    /// (never before the previous close), and if it is valid, apply it alone in that ledger.
    /// `envelope_xdr` is what the stored transaction records as its envelope.
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
        if let Some(rejected) = self.check_valid(env, hash, CheckAt::apply(next_seq, close_time))? {
            return Ok(Verdict::Rejected(rejected));
        }
        let candidate = Candidate {
            env: env.clone(),
            envelope_xdr: envelope_xdr.to_string(),
            hash,
        };
        Ok(Verdict::Included(Box::new(
            self.close_one(candidate, close_time)?,
        )))
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

/// Ledger 1's header: no previous ledger, no transactions, every lumen with the root account.
fn genesis_header(close_time: u64) -> stellar_xdr::LedgerHeader {
    txset::ledger_header(&txset::HeaderValues {
        ledger_seq: 1,
        previous_hash: [0; 32],
        tx_set_hash: [0; 32],
        tx_set_result_hash: [0; 32],
        close_time,
        total_coins: TOTAL_COINS,
        fee_pool: 0,
    })
}

#[cfg(test)]
mod tests;
