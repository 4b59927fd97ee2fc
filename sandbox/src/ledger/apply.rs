//! Applying: each operation on the state, as stellar-core's `*OpFrame::doApply` (after its
//! `doCheckValid`), and a transaction's operations in turn, all rolled back if one fails.

use airgap::account::AccountId as Account32;
use stellar_xdr::{
    AccountMergeResult, AllowTrustOp, AllowTrustResult, BumpSequenceOp, BumpSequenceResult,
    ChangeTrustOp, ChangeTrustResult, ClawbackOp, ClawbackResult, ContractEvent, CreateAccountOp,
    CreateAccountResult, DecoratedSignature, LedgerEntryChanges, ManageDataOp, ManageDataResult,
    MuxedAccount, Operation, OperationBody, OperationResult, OperationResultTr, SetOptionsOp,
    SetOptionsResult, SetTrustLineFlagsOp, SetTrustLineFlagsResult, Transaction, TransactionMeta,
    TransactionResultResult,
};

use super::close::{settle, Closing};
use super::entries::{
    account_id_bytes, allow_trust_asset, asset_key, available, muxed_bytes, signer_kind,
    starting_sequence, Account, AccountSigner, AssetKey, DataEntry, SignerKind, State, Trustline,
    ALL_ACCOUNT_FLAGS, AUTH_CLAWBACK_ENABLED, AUTH_IMMUTABLE, AUTH_REQUIRED, AUTH_REVOCABLE,
    BASE_RESERVE, MAX_SIGNERS, SUBENTRY_LIMIT, TL_AUTHORIZED,
    TL_AUTHORIZED_TO_MAINTAIN_LIABILITIES, TL_AUTH_FLAGS, TL_CLAWBACK_ENABLED,
};
use super::events::{asset_of_key, Events};
use super::signatures::SigChecker;
use super::validity::{
    change_trust_asset, check_op_signature, check_op_valid, common_valid, success_of,
    ChangeTrustLine, CheckAt, Stage,
};
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
            OperationBody::PathPaymentStrictReceive(op) => {
                inner(OperationResultTr::PathPaymentStrictReceive(
                    self.path_payment_strict_receive(source, op),
                ))
            }
            OperationBody::PathPaymentStrictSend(op) => inner(
                OperationResultTr::PathPaymentStrictSend(self.path_payment_strict_send(source, op)),
            ),
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

/// What applying one transaction did.
pub(super) struct TxApplied {
    /// `Err(code)`: invalid when applied, no operation ran; `Ok((failed, results))` otherwise.
    pub(super) outcome: Result<(bool, Vec<OperationResult>), TransactionResultResult>,
    pub(super) meta: TransactionMeta,
    /// The CAP-67 events of each operation (none unless the transaction succeeded).
    pub(super) events: Vec<Vec<ContractEvent>>,
}

impl Ledger {
    /// stellar-core's `TransactionFrame::apply` after the fees were taken (`commonPreApply`,
    /// then the operations): validate again against the ledger being closed (`commonValid` with
    /// `applying`), consume the sequence number once it passed (`processSeqNum`), check every
    /// operation's signature and remove one-time signers (`processSignatures`), then apply the
    /// operations, each on top of the previous ones; any failure rolls all operation effects
    /// back. `pre` is the state the meta's "changes before" start from; `charge_fee` is false for
    /// the inner transaction of a fee bump.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn apply_tx(
        &self,
        state: &mut State,
        pre: &State,
        tx: &Transaction,
        sigs: &[DecoratedSignature],
        hash: [u8; 32],
        charge_fee: bool,
        at: Closing,
    ) -> Result<TxApplied, LedgerError> {
        let source = muxed_bytes(&tx.source_account);
        let mut checker = SigChecker::new(hash, sigs);
        let check = CheckAt::apply(at.next_seq, at.close_time);
        let (stage, code) = common_valid(state, tx, &mut checker, check, charge_fee, true);
        if stage >= Stage::InvalidUpdateSeqNum {
            if let Some(acc) = state.accounts.get_mut(&source) {
                acc.seq_num = tx.seq_num.0;
                acc.seq_ledger = at.next_seq;
                acc.seq_time = at.close_time;
            }
        }
        let mut outcome = match code {
            Some(code) => Err(code),
            None => {
                let mut results: Vec<OperationResult> = tx
                    .operations
                    .iter()
                    .map(|op| success_of(&op.body))
                    .collect();
                let mut all_signed = true;
                for (op, slot) in tx.operations.iter().zip(results.iter_mut()) {
                    if let Some(bad) = check_op_signature(state, &mut checker, source, op) {
                        *slot = bad;
                        all_signed = false;
                    }
                }
                if !all_signed {
                    Ok((true, results))
                } else if !checker.all_used() {
                    Err(TransactionResultResult::TxBadAuthExtra)
                } else {
                    Ok((false, results))
                }
            }
        };
        // one-time (pre-authorized transaction) signers are consumed whatever the outcome
        remove_one_time_signer(state, source, hash);
        for op in tx.operations.iter() {
            if let Some(op_source) = op.source_account.as_ref().map(muxed_bytes) {
                remove_one_time_signer(state, op_source, hash);
            }
        }
        let changes_before = settle(pre, state, at)?;
        let mut events = Vec::new();
        let mut op_changes = Vec::new();
        if let Ok((false, _)) = &outcome {
            let (failed, results, changes, op_events) = self.apply_ops(state, tx, at)?;
            outcome = Ok((failed, results));
            op_changes = changes;
            events = op_events;
        }
        let meta = meta::transaction_meta(changes_before, op_changes)?;
        Ok(TxApplied {
            outcome,
            meta,
            events,
        })
    }

    /// The operations of a valid transaction, each on top of the previous ones; all rolled back
    /// if one fails. Returns `(failed, results, changes per operation, events per operation)`.
    #[allow(clippy::type_complexity)]
    fn apply_ops(
        &self,
        state: &mut State,
        tx: &Transaction,
        at: Closing,
    ) -> Result<
        (
            bool,
            Vec<OperationResult>,
            Vec<LedgerEntryChanges>,
            Vec<Vec<ContractEvent>>,
        ),
        LedgerError,
    > {
        let source = muxed_bytes(&tx.source_account);
        let ctx = TxCtx {
            ledger_seq: at.next_seq,
            close_time: at.close_time,
        };
        let emitter = Events {
            network_id: self.network_id,
            memo: &tx.memo,
        };
        let mut work = state.clone();
        let mut results = Vec::with_capacity(tx.operations.len());
        let mut changes = Vec::with_capacity(tx.operations.len());
        let mut events = Vec::with_capacity(tx.operations.len());
        let mut failed = false;
        for op in tx.operations.iter() {
            let op_source = airgap::envelope::op_source(op, Account32(source)).0;
            let before = work.clone();
            let result = work.apply_op(&ctx, op_source, &op.body);
            if is_op_success(&result) {
                changes.push(settle(&before, &mut work, at)?);
                let muxed = op
                    .source_account
                    .clone()
                    .unwrap_or_else(|| tx.source_account.clone());
                events.push(op_events(&emitter, &muxed, op_source, op, &result, &work)?);
            } else {
                failed = true;
                work = before;
            }
            results.push(result);
        }
        if failed {
            // a failed transaction reports no operation changes and no events
            changes.clear();
            events.clear();
        } else {
            *state = work;
        }
        Ok((failed, results, changes, events))
    }
}

/// The CAP-67 events of one applied operation (`after`: the state it left).
fn op_events(
    emitter: &Events<'_>,
    source: &MuxedAccount,
    source_bytes: [u8; 32],
    op: &Operation,
    result: &OperationResult,
    after: &State,
) -> Result<Vec<ContractEvent>, LedgerError> {
    let authorized =
        |trustor: [u8; 32], key: AssetKey| -> Result<Vec<ContractEvent>, LedgerError> {
            let flags = after
                .trustlines
                .get(&(trustor, key.clone()))
                .map_or(0, |l| l.flags);
            Ok(vec![emitter.set_authorized(
                &asset_of_key(&key),
                trustor,
                flags,
            )?])
        };
    Ok(match &op.body {
        OperationBody::CreateAccount(c) => vec![emitter.native_to_account(
            source,
            account_id_bytes(&c.destination),
            c.starting_balance,
        )?],
        OperationBody::Payment(p) => {
            vec![emitter.movement(&p.asset, source, &p.destination, p.amount)?]
        }
        OperationBody::PathPaymentStrictReceive(p) => {
            vec![emitter.movement(&p.dest_asset, source, &p.destination, p.dest_amount)?]
        }
        OperationBody::PathPaymentStrictSend(p) => {
            vec![emitter.movement(&p.dest_asset, source, &p.destination, p.send_amount)?]
        }
        OperationBody::AccountMerge(dest) => match result {
            OperationResult::OpInner(OperationResultTr::AccountMerge(
                AccountMergeResult::Success(amount),
            )) => vec![emitter.native(source, dest, *amount)?],
            _ => Vec::new(),
        },
        OperationBody::Clawback(c) => vec![emitter.clawback(&c.asset, &c.from, c.amount)?],
        OperationBody::AllowTrust(a) => match allow_trust_asset(&a.asset, source_bytes) {
            Some(key) => authorized(account_id_bytes(&a.trustor), key)?,
            None => Vec::new(),
        },
        OperationBody::SetTrustLineFlags(f) => match asset_key(&f.asset) {
            Some(Ok(key)) => authorized(account_id_bytes(&f.trustor), key)?,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    })
}
