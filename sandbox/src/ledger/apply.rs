//! Applying: each operation on the state, as stellar-core's `*OpFrame::doApply` (after its
//! `doCheckValid`), and a transaction's operations in turn, all rolled back if one fails.

use airgap::account::AccountId as Account32;
use stellar_xdr::{
    AccountMergeResult, AllowTrustOp, AllowTrustResult, BumpSequenceOp, BumpSequenceResult,
    ChangeTrustOp, ChangeTrustResult, ClawbackOp, ClawbackResult, CreateAccountOp,
    CreateAccountResult, ManageDataOp, ManageDataResult, MuxedAccount, OperationBody,
    OperationResult, OperationResultTr, PaymentOp, PaymentResult, SetOptionsOp, SetOptionsResult,
    SetTrustLineFlagsOp, SetTrustLineFlagsResult, Transaction, TransactionMeta,
};

use super::close::{settle, Closing};
use super::entries::{
    account_id_bytes, allow_trust_asset, asset_key, available, muxed_bytes, signer_kind,
    starting_sequence, Account, AccountSigner, DataEntry, SignerKind, State, Trustline,
    ALL_ACCOUNT_FLAGS, AUTH_CLAWBACK_ENABLED, AUTH_IMMUTABLE, AUTH_REQUIRED, AUTH_REVOCABLE,
    BASE_RESERVE, MAX_SIGNERS, SUBENTRY_LIMIT, TL_AUTHORIZED,
    TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES, TL_AUTH_FLAGS, TL_CLAWBACK_ENABLED,
};
use super::validity::{change_trust_asset, check_op_valid, ChangeTrustLine};
use super::{Ledger, LedgerError};
use crate::meta;

/// Per-transaction values the operations need.
struct TxCtx {
    ledger_seq: u32,
    close_time: u64,
}

/// An operation's own result (`opINNER`).
pub(super) fn inner(tr: OperationResultTr) -> OperationResult {
    OperationResult::OpInner(tr)
}

fn is_op_success(r: &OperationResult) -> bool {
    airgap::horizon::codes::op_code(r) == "op_success"
}

enum NewEntry {
    Ok,
    LowReserve,
    TooManySubentries,
}

/// Reserve one more subentry on `acc` (stellar-core's createEntryWithPossibleSponsorship without
/// a sponsor).
fn add_subentry(acc: &mut Account) -> NewEntry {
    if acc.num_sub_entries >= SUBENTRY_LIMIT {
        return NewEntry::TooManySubentries;
    }
    if available(acc) < BASE_RESERVE {
        return NewEntry::LowReserve;
    }
    acc.num_sub_entries += 1;
    NewEntry::Ok
}

impl State {
    fn apply_op(&mut self, ctx: &TxCtx, source: [u8; 32], body: &OperationBody) -> OperationResult {
        if !self.accounts.contains_key(&source) {
            return OperationResult::OpNoAccount;
        }
        if let Some(err) = check_op_valid(source, body) {
            return err;
        }
        match body {
            OperationBody::CreateAccount(op) => inner(OperationResultTr::CreateAccount(
                self.create_account(ctx, source, op),
            )),
            OperationBody::Payment(op) => {
                inner(OperationResultTr::Payment(self.payment(source, op)))
            }
            OperationBody::ChangeTrust(op) => self
                .change_trust(source, op)
                .unwrap_or_else(|r| inner(OperationResultTr::ChangeTrust(r))),
            OperationBody::AllowTrust(op) => {
                inner(OperationResultTr::AllowTrust(self.allow_trust(source, op)))
            }
            OperationBody::SetTrustLineFlags(op) => inner(OperationResultTr::SetTrustLineFlags(
                self.set_trust_line_flags(source, op),
            )),
            OperationBody::Clawback(op) => {
                inner(OperationResultTr::Clawback(self.clawback(source, op)))
            }
            OperationBody::SetOptions(op) => self
                .set_options(source, op)
                .unwrap_or_else(|r| inner(OperationResultTr::SetOptions(r))),
            OperationBody::ManageData(op) => self
                .manage_data(source, op)
                .unwrap_or_else(|r| inner(OperationResultTr::ManageData(r))),
            OperationBody::BumpSequence(op) => inner(OperationResultTr::BumpSequence(
                self.bump_sequence(ctx, source, op),
            )),
            OperationBody::AccountMerge(dest) => inner(OperationResultTr::AccountMerge(
                self.merge(ctx, source, dest),
            )),
            _ => OperationResult::OpNotSupported,
        }
    }

    fn create_account(
        &mut self,
        ctx: &TxCtx,
        source: [u8; 32],
        op: &CreateAccountOp,
    ) -> CreateAccountResult {
        let dest = account_id_bytes(&op.destination);
        if self.accounts.contains_key(&dest) {
            return CreateAccountResult::AlreadyExist;
        }
        if op.starting_balance < 2 * BASE_RESERVE {
            return CreateAccountResult::LowReserve;
        }
        let Some(src) = self.accounts.get_mut(&source) else {
            return CreateAccountResult::Underfunded;
        };
        if available(src) < op.starting_balance {
            return CreateAccountResult::Underfunded;
        }
        src.balance -= op.starting_balance;
        let created = Account::new(dest, op.starting_balance, starting_sequence(ctx.ledger_seq));
        self.accounts.insert(dest, created);
        CreateAccountResult::Success
    }

    fn payment(&mut self, source: [u8; 32], op: &PaymentOp) -> PaymentResult {
        let dest = muxed_bytes(&op.destination);
        match asset_key(&op.asset) {
            None => {
                if dest == source {
                    return PaymentResult::Success;
                }
                // destination first, then the source (core applies it as a path payment)
                let Some(dest_acc) = self.accounts.get_mut(&dest) else {
                    return PaymentResult::NoDestination;
                };
                let Some(new_balance) = dest_acc.balance.checked_add(op.amount) else {
                    return PaymentResult::LineFull;
                };
                dest_acc.balance = new_balance;
                let Some(src) = self.accounts.get_mut(&source) else {
                    return PaymentResult::Malformed;
                };
                if op.amount > available(src) {
                    return PaymentResult::Underfunded;
                }
                src.balance -= op.amount;
                PaymentResult::Success
            }
            Some(Err(())) => PaymentResult::Malformed,
            Some(Ok(asset)) => {
                let bypass_issuer_check = asset.issuer == dest;
                if !bypass_issuer_check && !self.accounts.contains_key(&dest) {
                    return PaymentResult::NoDestination;
                }
                if dest != asset.issuer {
                    let Some(line) = self.trustlines.get_mut(&(dest, asset.clone())) else {
                        return PaymentResult::NoTrust;
                    };
                    if line.flags & TL_AUTHORIZED == 0 {
                        return PaymentResult::NotAuthorized;
                    }
                    match line.balance.checked_add(op.amount) {
                        Some(b) if b <= line.limit => line.balance = b,
                        _ => return PaymentResult::LineFull,
                    }
                }
                if source != asset.issuer {
                    let Some(line) = self.trustlines.get_mut(&(source, asset)) else {
                        return PaymentResult::SrcNoTrust;
                    };
                    if line.flags & TL_AUTHORIZED == 0 {
                        return PaymentResult::SrcNotAuthorized;
                    }
                    if line.balance < op.amount {
                        return PaymentResult::Underfunded;
                    }
                    line.balance -= op.amount;
                }
                PaymentResult::Success
            }
        }
    }

    fn change_trust(
        &mut self,
        source: [u8; 32],
        op: &ChangeTrustOp,
    ) -> Result<OperationResult, ChangeTrustResult> {
        let ChangeTrustLine::Credit(Ok(asset)) = change_trust_asset(&op.line) else {
            return Err(ChangeTrustResult::Malformed);
        };
        if asset.issuer == source {
            return Err(ChangeTrustResult::SelfNotAllowed);
        }
        let key = (source, asset.clone());
        let issuer_flags = self.accounts.get(&asset.issuer).map(|a| a.flags);
        if let Some(line) = self.trustlines.get_mut(&key) {
            if op.limit < line.balance {
                return Err(ChangeTrustResult::InvalidLimit);
            }
            if op.limit == 0 {
                self.trustlines.remove(&key);
                if let Some(acc) = self.accounts.get_mut(&source) {
                    acc.num_sub_entries = acc.num_sub_entries.saturating_sub(1);
                }
            } else {
                if issuer_flags.is_none() {
                    return Err(ChangeTrustResult::NoIssuer);
                }
                line.limit = op.limit;
            }
            return Ok(inner(OperationResultTr::ChangeTrust(
                ChangeTrustResult::Success,
            )));
        }
        if op.limit == 0 {
            return Err(ChangeTrustResult::InvalidLimit);
        }
        let Some(issuer_flags) = issuer_flags else {
            return Err(ChangeTrustResult::NoIssuer);
        };
        let mut flags = 0;
        if issuer_flags & AUTH_REQUIRED == 0 {
            flags |= TL_AUTHORIZED;
        }
        if issuer_flags & AUTH_CLAWBACK_ENABLED != 0 {
            flags |= TL_CLAWBACK_ENABLED;
        }
        let Some(acc) = self.accounts.get_mut(&source) else {
            return Ok(OperationResult::OpNoAccount);
        };
        match add_subentry(acc) {
            NewEntry::Ok => {}
            NewEntry::LowReserve => return Err(ChangeTrustResult::LowReserve),
            NewEntry::TooManySubentries => return Ok(OperationResult::OpTooManySubentries),
        }
        self.trustlines.insert(
            key,
            Trustline {
                balance: 0,
                limit: op.limit,
                flags,
                last_modified_ledger: 0,
            },
        );
        Ok(inner(OperationResultTr::ChangeTrust(
            ChangeTrustResult::Success,
        )))
    }

    fn allow_trust(&mut self, source: [u8; 32], op: &AllowTrustOp) -> AllowTrustResult {
        let trustor = account_id_bytes(&op.trustor);
        if trustor == source {
            return AllowTrustResult::SelfNotAllowed;
        }
        let Some(asset) = allow_trust_asset(&op.asset, source) else {
            return AllowTrustResult::Malformed;
        };
        let revocable = self
            .accounts
            .get(&source)
            .is_some_and(|a| a.flags & AUTH_REVOCABLE != 0);
        if !revocable && op.authorize == 0 {
            return AllowTrustResult::CantRevoke;
        }
        let Some(line) = self.trustlines.get_mut(&(trustor, asset)) else {
            return AllowTrustResult::NoTrustLine;
        };
        let expected = (line.flags & !TL_AUTH_FLAGS) | op.authorize;
        if !revocable
            && line.flags & TL_AUTHORIZED != 0
            && expected & TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES != 0
        {
            return AllowTrustResult::CantRevoke;
        }
        line.flags = expected;
        AllowTrustResult::Success
    }

    fn set_trust_line_flags(
        &mut self,
        source: [u8; 32],
        op: &SetTrustLineFlagsOp,
    ) -> SetTrustLineFlagsResult {
        let Some(Ok(asset)) = asset_key(&op.asset) else {
            return SetTrustLineFlagsResult::Malformed;
        };
        let revocable = self
            .accounts
            .get(&source)
            .is_some_and(|a| a.flags & AUTH_REVOCABLE != 0);
        if !revocable {
            let clearing_any_auth = op.clear_flags & TL_AUTH_FLAGS != 0;
            let setting_authorized = op.set_flags & TL_AUTHORIZED != 0;
            if clearing_any_auth && !setting_authorized {
                return SetTrustLineFlagsResult::CantRevoke;
            }
        }
        let trustor = account_id_bytes(&op.trustor);
        let Some(line) = self.trustlines.get_mut(&(trustor, asset)) else {
            return SetTrustLineFlagsResult::NoTrustLine;
        };
        let expected = (line.flags & !op.clear_flags) | op.set_flags;
        if expected & TL_AUTH_FLAGS == TL_AUTH_FLAGS {
            return SetTrustLineFlagsResult::InvalidState;
        }
        line.flags = expected;
        SetTrustLineFlagsResult::Success
    }

    fn clawback(&mut self, _source: [u8; 32], op: &ClawbackOp) -> ClawbackResult {
        let Some(Ok(asset)) = asset_key(&op.asset) else {
            return ClawbackResult::Malformed;
        };
        let from = muxed_bytes(&op.from);
        let Some(line) = self.trustlines.get_mut(&(from, asset)) else {
            return ClawbackResult::NoTrust;
        };
        if line.flags & TL_CLAWBACK_ENABLED == 0 {
            return ClawbackResult::NotClawbackEnabled;
        }
        if line.balance < op.amount {
            return ClawbackResult::Underfunded;
        }
        line.balance -= op.amount;
        ClawbackResult::Success
    }

    fn set_options(
        &mut self,
        source: [u8; 32],
        op: &SetOptionsOp,
    ) -> Result<OperationResult, SetOptionsResult> {
        if let Some(dest) = &op.inflation_dest {
            let dest = account_id_bytes(dest);
            if dest != source && !self.accounts.contains_key(&dest) {
                return Err(SetOptionsResult::InvalidInflation);
            }
        }
        let Some(acc) = self.accounts.get_mut(&source) else {
            return Ok(OperationResult::OpNoAccount);
        };
        if let Some(dest) = &op.inflation_dest {
            acc.inflation_dest = Some(account_id_bytes(dest));
        }
        if let Some(clear) = op.clear_flags {
            if clear & ALL_ACCOUNT_FLAGS != 0 && acc.flags & AUTH_IMMUTABLE != 0 {
                return Err(SetOptionsResult::CantChange);
            }
            acc.flags &= !clear;
        }
        if let Some(set) = op.set_flags {
            if set & ALL_ACCOUNT_FLAGS != 0 && acc.flags & AUTH_IMMUTABLE != 0 {
                return Err(SetOptionsResult::CantChange);
            }
            acc.flags |= set;
        }
        if (op.set_flags.is_some() || op.clear_flags.is_some())
            && acc.flags & AUTH_CLAWBACK_ENABLED != 0
            && acc.flags & AUTH_REVOCABLE == 0
        {
            return Err(SetOptionsResult::AuthRevocableRequired);
        }
        if let Some(domain) = &op.home_domain {
            acc.home_domain = domain.0.iter().map(|b| char::from(*b)).collect();
        }
        let set_weight = |slot: &mut u8, value: Option<u32>| {
            if let Some(v) = value {
                *slot = u8::try_from(v & 0xFF).unwrap_or(u8::MAX);
            }
        };
        set_weight(&mut acc.thresholds[0], op.master_weight);
        set_weight(&mut acc.thresholds[1], op.low_threshold);
        set_weight(&mut acc.thresholds[2], op.med_threshold);
        set_weight(&mut acc.thresholds[3], op.high_threshold);
        if let Some(signer) = &op.signer {
            let kind = signer_kind(&signer.key);
            let pos = acc.signers.binary_search_by(|s| s.key.cmp(&kind));
            if signer.weight > 0 {
                match pos {
                    Ok(i) => {
                        if let Some(s) = acc.signers.get_mut(i) {
                            s.weight = signer.weight;
                        }
                    }
                    Err(i) => {
                        if acc.signers.len() >= MAX_SIGNERS {
                            return Err(SetOptionsResult::TooManySigners);
                        }
                        match add_subentry(acc) {
                            NewEntry::Ok => {}
                            NewEntry::LowReserve => return Err(SetOptionsResult::LowReserve),
                            NewEntry::TooManySubentries => {
                                return Ok(OperationResult::OpTooManySubentries)
                            }
                        }
                        acc.signers.insert(
                            i,
                            AccountSigner {
                                key: kind,
                                weight: signer.weight,
                            },
                        );
                    }
                }
            } else if let Ok(i) = pos {
                acc.signers.remove(i);
                acc.num_sub_entries = acc.num_sub_entries.saturating_sub(1);
            }
        }
        Ok(inner(OperationResultTr::SetOptions(
            SetOptionsResult::Success,
        )))
    }

    fn manage_data(
        &mut self,
        source: [u8; 32],
        op: &ManageDataOp,
    ) -> Result<OperationResult, ManageDataResult> {
        let name: String = op.data_name.0.iter().map(|b| char::from(*b)).collect();
        let key = (source, name);
        match &op.data_value {
            Some(value) => {
                if let Some(entry) = self.data.get_mut(&key) {
                    entry.value = value.0.to_vec();
                } else {
                    let Some(acc) = self.accounts.get_mut(&source) else {
                        return Ok(OperationResult::OpNoAccount);
                    };
                    match add_subentry(acc) {
                        NewEntry::Ok => {}
                        NewEntry::LowReserve => return Err(ManageDataResult::LowReserve),
                        NewEntry::TooManySubentries => {
                            return Ok(OperationResult::OpTooManySubentries)
                        }
                    }
                    self.data.insert(
                        key,
                        DataEntry {
                            value: value.0.to_vec(),
                            last_modified_ledger: 0,
                        },
                    );
                }
            }
            None => {
                if self.data.remove(&key).is_none() {
                    return Err(ManageDataResult::NameNotFound);
                }
                if let Some(acc) = self.accounts.get_mut(&source) {
                    acc.num_sub_entries = acc.num_sub_entries.saturating_sub(1);
                }
            }
        }
        Ok(inner(OperationResultTr::ManageData(
            ManageDataResult::Success,
        )))
    }

    fn bump_sequence(
        &mut self,
        ctx: &TxCtx,
        source: [u8; 32],
        op: &BumpSequenceOp,
    ) -> BumpSequenceResult {
        if let Some(acc) = self.accounts.get_mut(&source) {
            if op.bump_to.0 > acc.seq_num {
                acc.seq_num = op.bump_to.0;
            }
            // protocol >= 19: the sequence metadata is refreshed even when nothing is bumped
            acc.seq_ledger = ctx.ledger_seq;
            acc.seq_time = ctx.close_time;
        }
        BumpSequenceResult::Success
    }

    fn merge(&mut self, ctx: &TxCtx, source: [u8; 32], dest: &MuxedAccount) -> AccountMergeResult {
        let dest = muxed_bytes(dest);
        if !self.accounts.contains_key(&dest) {
            return AccountMergeResult::NoAccount;
        }
        let Some(src) = self.accounts.get(&source) else {
            return AccountMergeResult::NoAccount;
        };
        if src.flags & AUTH_IMMUTABLE != 0 {
            return AccountMergeResult::ImmutableSet;
        }
        if usize::try_from(src.num_sub_entries).ok() != Some(src.signers.len()) {
            return AccountMergeResult::HasSubEntries;
        }
        if src.seq_num >= starting_sequence(ctx.ledger_seq) {
            return AccountMergeResult::SeqnumTooFar;
        }
        let amount = src.balance;
        let Some(dest_acc) = self.accounts.get_mut(&dest) else {
            return AccountMergeResult::NoAccount;
        };
        let Some(new_balance) = dest_acc.balance.checked_add(amount) else {
            return AccountMergeResult::DestFull;
        };
        dest_acc.balance = new_balance;
        self.accounts.remove(&source);
        AccountMergeResult::Success(amount)
    }
}

/// Remove a pre-authorized-transaction signer for `hash` from `account`, if present.
pub(super) fn remove_one_time_signer(state: &mut State, account: [u8; 32], hash: [u8; 32]) {
    if let Some(acc) = state.accounts.get_mut(&account) {
        let before = acc.signers.len();
        acc.signers.retain(|s| s.key != SignerKind::PreAuthTx(hash));
        let removed = u32::try_from(before - acc.signers.len()).unwrap_or(0);
        acc.num_sub_entries = acc.num_sub_entries.saturating_sub(removed);
    }
}

impl Ledger {
    /// Consume the sequence number and one-time signers, then apply the operations, each on top
    /// of the previous ones; any failure rolls all operation effects back. `pre` is the state
    /// the transaction meta's "changes before" start from. Returns
    /// `(failed, operation results, meta)`.
    pub(super) fn apply_tx(
        &self,
        state: &mut State,
        pre: &State,
        tx: &Transaction,
        hash: [u8; 32],
        at: Closing,
    ) -> Result<(bool, Vec<OperationResult>, TransactionMeta), LedgerError> {
        let source = muxed_bytes(&tx.source_account);
        if let Some(acc) = state.accounts.get_mut(&source) {
            acc.seq_num = tx.seq_num.0;
            acc.seq_ledger = at.next_seq;
            acc.seq_time = at.close_time;
        }
        // one-time (pre-authorized transaction) signers are consumed whatever the outcome
        remove_one_time_signer(state, source, hash);
        for op in tx.operations.iter() {
            if let Some(op_source) = op.source_account.as_ref().map(muxed_bytes) {
                remove_one_time_signer(state, op_source, hash);
            }
        }
        let ctx = TxCtx {
            ledger_seq: at.next_seq,
            close_time: at.close_time,
        };
        let changes_before = settle(pre, state, at)?;
        let mut work = state.clone();
        let mut op_results = Vec::with_capacity(tx.operations.len());
        let mut op_changes = Vec::with_capacity(tx.operations.len());
        let mut failed = false;
        for op in tx.operations.iter() {
            let op_source = airgap::envelope::op_source(op, Account32(source)).0;
            let before = work.clone();
            let result = work.apply_op(&ctx, op_source, &op.body);
            if is_op_success(&result) {
                op_changes.push(settle(&before, &mut work, at)?);
            } else {
                failed = true;
                work = before;
            }
            op_results.push(result);
        }
        if failed {
            // a failed transaction reports no operation changes
            op_changes.clear();
        } else {
            *state = work;
        }
        let meta = meta::transaction_meta(changes_before, op_changes)?;
        Ok((failed, op_results, meta))
    }
}
