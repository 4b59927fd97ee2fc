//! Checking envelopes against a policy: the first rule broken, as a [`Violation`].
use super::describe::{amount_words, asset_name, flag_list, list, network_words};
use super::{violation, Policy, Violation, AUTH_IMMUTABLE, OPERATION_TYPES};
use crate::account::AccountId;
use crate::amount::Amount;
use crate::asset::Asset;
use crate::envelope;
use crate::network::Network;
use crate::review::op_type_name;
use crate::review::{duration_words, has_v2_preconditions, signer_key_json};
use std::collections::BTreeMap;
use stellar_xdr::{Memo, MuxedAccount, OperationBody, Preconditions, TransactionEnvelope};

/// What one transaction moves: per asset, the total and the operation at which each total grew.
type Moves = Vec<(stellar_xdr::Asset, i128, Vec<usize>)>;

fn add_move(moves: &mut Moves, asset: &stellar_xdr::Asset, stroops: i64, op: usize) {
    // A negative amount is malformed and moves nothing; it must not lower a total.
    let s = i128::from(stroops.max(0));
    match moves.iter_mut().find(|(a, _, _)| a == asset) {
        Some((_, total, ops)) => {
            *total = total.saturating_add(s);
            ops.push(op);
        }
        None => moves.push((asset.clone(), s, vec![op])),
    }
}

impl Policy {
    /// Check one transaction, to be signed at `now` (unix seconds), against every rule, the
    /// per-batch limits included (one transaction is a batch of one). The first rule broken is
    /// returned.
    pub fn check(
        &self,
        env: &TransactionEnvelope,
        network: &Network,
        now: u64,
    ) -> Result<(), Violation> {
        let moves = self.check_tx(env, network, now)?;
        self.check_batch_totals(&[moves])
    }

    /// Check a batch: every transaction against the per-transaction rules, then the batch's totals
    /// against `max_amount_per_batch`. Any violation refuses the whole batch.
    pub fn check_batch(
        &self,
        envs: &[(TransactionEnvelope, Network)],
        now: u64,
    ) -> Result<(), Violation> {
        let mut all = Vec::with_capacity(envs.len());
        for (i, (env, network)) in envs.iter().enumerate() {
            let moves = self.check_tx(env, network, now).map_err(|mut v| {
                v.transaction = Some(i + 1);
                v
            })?;
            all.push(moves);
        }
        self.check_batch_totals(&all)
    }

    fn check_tx(
        &self,
        env: &TransactionEnvelope,
        network: &Network,
        now: u64,
    ) -> Result<Moves, Violation> {
        if !self
            .networks
            .iter()
            .any(|n| n.passphrase() == network.passphrase())
        {
            return Err(violation(
                "networks",
                format!(
                    "this transaction is for {} (\"{}\"), and the policy allows only {}.",
                    network.name(),
                    crate::review::escape_bytes(network.passphrase().as_bytes()),
                    list(&self.networks.iter().map(network_words).collect::<Vec<_>>())
                ),
                None,
            ));
        }
        let tx = envelope::transaction(env);
        let tx_source = AccountId::from_muxed(&tx.source_account);
        if let Some(allowed) = &self.source_accounts {
            let refuse = |who: &str, acct: &AccountId, op: Option<usize>| {
                violation(
                    "source_accounts",
                    format!(
                        "{who} {acct}, which is not among the policy's source accounts ({}).",
                        list(allowed)
                    ),
                    op,
                )
            };
            if !allowed.contains(&tx_source) {
                return Err(refuse(
                    "the transaction's source account is",
                    &tx_source,
                    None,
                ));
            }
            if let TransactionEnvelope::TxFeeBump(fb) = env {
                let fee_source = AccountId::from_muxed(&fb.tx.fee_source);
                if !allowed.contains(&fee_source) {
                    return Err(refuse("the fee bump's fee is paid by", &fee_source, None));
                }
            }
            for (i, op) in tx.operations.iter().enumerate() {
                if let Some(s) = &op.source_account {
                    let acct = AccountId::from_muxed(s);
                    if !allowed.contains(&acct) {
                        return Err(refuse(
                            &format!("operation {} acts for", i + 1),
                            &acct,
                            Some(i + 1),
                        ));
                    }
                }
            }
        }
        let mut moves: Moves = Vec::new();
        for (i, op) in tx.operations.iter().enumerate() {
            let index = i + 1;
            let acting = envelope::op_source(op, tx_source);
            self.check_op(&op.body, index, &acting, &tx.memo, &mut moves)?;
        }
        self.check_fee(env)?;
        self.check_validity(&tx, now)?;
        self.check_preconditions(&tx.cond)?;
        for (asset, total, ops) in &moves {
            self.check_limit(
                "max_amount_per_tx",
                self.max_amount_per_tx.as_deref(),
                asset,
                *total,
                "this transaction",
                "per transaction",
                ops.last().copied(),
            )?;
        }
        Ok(moves)
    }

    fn check_op(
        &self,
        body: &OperationBody,
        index: usize,
        acting: &AccountId,
        memo: &Memo,
        moves: &mut Moves,
    ) -> Result<(), Violation> {
        let kind = op_type_name(body);
        let Some(known) = OPERATION_TYPES.iter().find(|t| **t == kind) else {
            return Err(violation(
                "operations",
                format!("operation {index} is a {kind} operation, which no policy can allow because the policy cannot tell what it moves or to whom."),
                Some(index),
            ));
        };
        if let Some(allowed) = &self.operations {
            if !allowed.contains(known) {
                return Err(violation(
                    "operations",
                    format!(
                        "operation {index} is a {kind} operation, and the policy allows only {}.",
                        if allowed.is_empty() {
                            "no operation at all".to_string()
                        } else {
                            list(allowed)
                        }
                    ),
                    Some(index),
                ));
            }
        }
        match body {
            OperationBody::CreateAccount(o) => {
                let asset = stellar_xdr::Asset::Native;
                let dest = AccountId::from_xdr(&o.destination);
                self.check_destination(&asset, &dest, index, "creates account")?;
                self.check_memo(&dest, memo, index)?;
                add_move(moves, &asset, o.starting_balance, index);
            }
            OperationBody::Payment(o) => {
                let dest = AccountId::from_muxed(&o.destination);
                self.check_muxed(&o.destination, index)?;
                self.check_destination(&o.asset, &dest, index, "pays")?;
                self.check_memo(&dest, memo, index)?;
                add_move(moves, &o.asset, o.amount, index);
            }
            OperationBody::Clawback(o) => add_move(moves, &o.asset, o.amount, index),
            OperationBody::AccountMerge(d) => {
                if !self.allow_account_merge {
                    return Err(violation(
                        "allow_account_merge",
                        format!("operation {index} merges account {acting} into {} and deletes it, and the policy does not allow account_merge.", AccountId::from_muxed(d)),
                        Some(index),
                    ));
                }
                let dest = AccountId::from_muxed(d);
                self.check_muxed(d, index)?;
                self.check_destination(&stellar_xdr::Asset::Native, &dest, index, "merges into")?;
                self.check_memo(&dest, memo, index)?;
            }
            OperationBody::SetOptions(o) => self.check_set_options(o, index, acting)?,
            _ => {}
        }
        Ok(())
    }

    fn check_set_options(
        &self,
        o: &stellar_xdr::SetOptionsOp,
        index: usize,
        acting: &AccountId,
    ) -> Result<(), Violation> {
        if let Some(bits) = o.set_flags {
            if bits & AUTH_IMMUTABLE != 0 && !self.allow_auth_immutable {
                return Err(violation(
                    "allow_auth_immutable",
                    format!("operation {index} sets auth_immutable on {acting}, which can never be undone, and the policy does not allow it."),
                    Some(index),
                ));
            }
            let outside = bits & !(self.may_set_flags | AUTH_IMMUTABLE);
            if outside != 0 {
                return Err(violation(
                    "may_set_flags",
                    format!(
                        "operation {index} sets {} on {acting}, and the policy may set only {}.",
                        flag_list(outside),
                        flag_list(self.may_set_flags)
                    ),
                    Some(index),
                ));
            }
        }
        if let Some(bits) = o.clear_flags {
            let outside = bits & !self.may_clear_flags;
            if outside != 0 {
                return Err(violation(
                    "may_clear_flags",
                    format!(
                        "operation {index} clears {} on {acting}, and the policy may clear only {}.",
                        flag_list(outside),
                        flag_list(self.may_clear_flags)
                    ),
                    Some(index),
                ));
            }
        }
        if let Some(w) = o.master_weight {
            if !self.allow_master_weight_change {
                return Err(violation(
                    "allow_master_weight_change",
                    format!("operation {index} sets the master key weight of {acting} to {w}, and the policy does not allow master weight changes."),
                    Some(index),
                ));
            }
        }
        for (name, t) in [
            ("low", o.low_threshold),
            ("medium", o.med_threshold),
            ("high", o.high_threshold),
        ] {
            if let (Some(t), false) = (t, self.allow_threshold_changes) {
                return Err(violation(
                    "allow_threshold_changes",
                    format!("operation {index} sets the {name} threshold of {acting} to {t}, and the policy does not allow threshold changes."),
                    Some(index),
                ));
            }
        }
        if let Some(s) = &o.signer {
            if s.weight == 0 && !self.allow_signer_removal {
                return Err(violation(
                    "allow_signer_removal",
                    format!("operation {index} removes a signer from {acting}, and the policy does not allow signer removal."),
                    Some(index),
                ));
            }
            if s.weight != 0 {
                self.check_signer(&s.key, s.weight, index, acting)?;
            }
        }
        Ok(())
    }

    /// A signer added or re-weighted: its kind, and its key when the policy lists keys.
    fn check_signer(
        &self,
        key: &stellar_xdr::SignerKey,
        weight: u32,
        index: usize,
        acting: &AccountId,
    ) -> Result<(), Violation> {
        let (words, data) = signer_key_json(key);
        let kind = data["kind"].as_str().unwrap_or_default();
        let strkey = data["key"].as_str().unwrap_or_default();
        let Some(allowed) = &self.signer_changes else {
            return Err(violation(
                "allow_signer_changes",
                format!("operation {index} adds or re-weights signer {words} on {acting} (weight {weight}), and the policy does not allow signer changes."),
                Some(index),
            ));
        };
        if !allowed.kinds.contains(&kind) {
            return Err(violation(
                "allow_signer_changes.kinds",
                format!(
                    "operation {index} adds or re-weights a {kind} signer ({words}) on {acting}, and the policy allows only {} signers.",
                    if allowed.kinds.is_empty() { "no".to_string() } else { list(&allowed.kinds) }
                ),
                Some(index),
            ));
        }
        if let Some(keys) = &allowed.keys {
            if !keys.iter().any(|k| k == strkey) {
                return Err(violation(
                    "allow_signer_changes.keys",
                    format!("operation {index} adds or re-weights signer {words} on {acting}, which is not among the policy's signer keys."),
                    Some(index),
                ));
            }
        }
        Ok(())
    }

    /// A muxed destination (`M…`) must be listed as an (account, ID) pair.
    fn check_muxed(&self, dest: &MuxedAccount, index: usize) -> Result<(), Violation> {
        let MuxedAccount::MuxedEd25519(m) = dest else {
            return Ok(());
        };
        let account = AccountId(m.ed25519.0);
        if self.muxed_destinations.contains(&(account, m.id)) {
            return Ok(());
        }
        let r = crate::review::account_ref(dest);
        Err(violation(
            "muxed_destinations",
            format!(
                "operation {index} sends to the muxed account {} ({account} with ID {}), and the policy lists no such pair in muxed_destinations.",
                r.muxed_address.unwrap_or_default(),
                m.id
            ),
            Some(index),
        ))
    }

    /// A destination listed in `required_memos` needs a memo of its kind.
    fn check_memo(&self, dest: &AccountId, memo: &Memo, index: usize) -> Result<(), Violation> {
        let Some((_, kind)) = self.required_memos.iter().find(|(a, _)| a == dest) else {
            return Ok(());
        };
        let has = match memo {
            Memo::None => "none",
            Memo::Text(_) => "text",
            Memo::Id(_) => "id",
            Memo::Hash(_) => "hash",
            Memo::Return(_) => "return",
        };
        let ok = if *kind == "any" {
            has != "none"
        } else {
            has == *kind
        };
        if ok {
            return Ok(());
        }
        Err(violation(
            format!("required_memos.{dest}"),
            format!(
                "operation {index} sends to {dest}, which the policy says needs {}, and the transaction's memo is {}.",
                match *kind {
                    "any" => "a memo",
                    "text" => "a text memo",
                    "id" => "an id memo",
                    "hash" => "a hash memo",
                    _ => "a return memo",
                },
                if has == "none" { "none".to_string() } else { format!("of type {has}") }
            ),
            Some(index),
        ))
    }

    /// The fee the transaction may pay (a fee bump's outer fee) against `max_fee`.
    fn check_fee(&self, env: &TransactionEnvelope) -> Result<(), Violation> {
        let fee = match env {
            TransactionEnvelope::TxFeeBump(fb) => fb.tx.fee,
            other => i64::from(envelope::transaction(other).fee),
        };
        if fee > self.max_fee {
            return Err(violation(
                "max_fee",
                format!(
                    "the transaction may pay up to {} XLM in fees, more than the {} XLM the policy allows.",
                    amount_words(i128::from(fee)),
                    amount_words(i128::from(self.max_fee))
                ),
                None,
            ));
        }
        Ok(())
    }

    /// How long the transaction stays valid, from `now`, against `max_validity`.
    fn check_validity(&self, tx: &stellar_xdr::Transaction, now: u64) -> Result<(), Violation> {
        let (_, max) = envelope::time_bounds(tx);
        let limit = duration_words(self.max_validity);
        if max == 0 {
            return Err(violation(
                "max_validity",
                format!("the transaction has no upper time bound, so it stays valid forever, and the policy allows at most {limit}."),
                None,
            ));
        }
        if max.saturating_sub(now) > self.max_validity {
            return Err(violation(
                "max_validity",
                format!(
                    "the transaction stays valid for {} more, and the policy allows at most {limit}.",
                    duration_words(max - now)
                ),
                None,
            ));
        }
        Ok(())
    }

    /// Preconditions beyond time bounds, against `allow_preconditions`.
    fn check_preconditions(&self, cond: &Preconditions) -> Result<(), Violation> {
        let Preconditions::V2(p) = cond else {
            return Ok(());
        };
        if !has_v2_preconditions(cond) {
            return Ok(());
        }
        let present = [
            ("ledger_bounds", p.ledger_bounds.is_some()),
            ("min_seq_num", p.min_seq_num.is_some()),
            ("min_seq_age", p.min_seq_age.0 != 0),
            ("min_seq_ledger_gap", p.min_seq_ledger_gap != 0),
            ("extra_signers", !p.extra_signers.is_empty()),
        ];
        for (name, here) in present {
            if here && !self.allow_preconditions.contains(&name) {
                return Err(violation(
                    "allow_preconditions",
                    format!("the transaction carries the precondition {name}, and the policy does not allow it."),
                    None,
                ));
            }
        }
        Ok(())
    }

    fn check_destination(
        &self,
        asset: &stellar_xdr::Asset,
        dest: &AccountId,
        index: usize,
        verb: &str,
    ) -> Result<(), Violation> {
        let Some(map) = &self.destinations else {
            return Ok(());
        };
        let name = asset_name(asset);
        match map.iter().find(|(a, _)| a.to_xdr() == *asset) {
            None => Err(violation(
                "destinations",
                format!("operation {index} {verb} {dest} with {name}, and the policy lists no account that may receive {name}."),
                Some(index),
            )),
            Some((a, allowed)) if !allowed.contains(dest) => Err(violation(
                format!("destinations.{a}"),
                format!(
                    "operation {index} {verb} {dest} with {name}, and the policy allows only {} to receive it.",
                    if allowed.is_empty() { "no account".to_string() } else { list(allowed) }
                ),
                Some(index),
            )),
            Some(_) => Ok(()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_limit(
        &self,
        field: &str,
        limits: Option<&[(Asset, Amount)]>,
        asset: &stellar_xdr::Asset,
        total: i128,
        what: &str,
        per: &str,
        operation: Option<usize>,
    ) -> Result<(), Violation> {
        let Some(limits) = limits else {
            return Ok(());
        };
        let name = asset_name(asset);
        match limits.iter().find(|(a, _)| a.to_xdr() == *asset) {
            None => Err(violation(
                field,
                format!("{what} moves {} {name}, and the policy sets no {per} limit for {name}, so none of it may be moved.", amount_words(total)),
                operation,
            )),
            Some((a, max)) if total > i128::from(max.stroops()) => Err(violation(
                format!("{field}.{a}"),
                format!("{what} moves {} {name} in total, more than the {max} the policy allows {per}.", amount_words(total)),
                operation,
            )),
            Some(_) => Ok(()),
        }
    }

    fn check_batch_totals(&self, per_tx: &[Moves]) -> Result<(), Violation> {
        let Some(limits) = self.max_amount_per_batch.as_deref() else {
            return Ok(());
        };
        // Per asset: the running total, and the transaction that first brought it over its limit.
        let mut totals: BTreeMap<stellar_xdr::Asset, (i128, usize)> = BTreeMap::new();
        for (i, moves) in per_tx.iter().enumerate() {
            for (asset, total, _) in moves {
                let entry = totals.entry(asset.clone()).or_insert((0, i + 1));
                let limit = limits
                    .iter()
                    .find(|(a, _)| a.to_xdr() == *asset)
                    .map_or(-1, |(_, m)| i128::from(m.stroops()));
                let was_within = entry.0 <= limit;
                entry.0 = entry.0.saturating_add(*total);
                if was_within && entry.0 > limit {
                    entry.1 = i + 1;
                }
            }
        }
        let single = per_tx.len() == 1;
        for (asset, (total, crossing)) in &totals {
            let what = if single {
                "this transaction".to_string()
            } else {
                format!("the batch of {} transactions", per_tx.len())
            };
            self.check_limit(
                "max_amount_per_batch",
                Some(limits),
                asset,
                *total,
                &what,
                "per batch",
                None,
            )
            .map_err(|mut v| {
                if !single {
                    v.transaction = Some(*crossing);
                    v.message = format!(
                        "{}; transaction {crossing} brings it over, so no transaction of the batch is signed.",
                        v.message.trim_end_matches('.')
                    );
                }
                v
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_amounts_do_not_lower_totals() {
        let mut m = Moves::new();
        add_move(&mut m, &stellar_xdr::Asset::Native, 10, 1);
        add_move(&mut m, &stellar_xdr::Asset::Native, -5, 2);
        assert_eq!(m[0].1, 10);
    }
}
