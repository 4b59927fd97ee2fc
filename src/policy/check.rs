//! Checking envelopes against a policy: the first rule broken, as a [`Violation`].
use super::describe::{amount_words, asset_name, flag_list, list, network_words};
use super::{violation, Policy, Violation, AUTH_IMMUTABLE, OPERATION_TYPES};
use crate::account::AccountId;
use crate::amount::Amount;
use crate::asset::Asset;
use crate::envelope;
use crate::network::Network;
use crate::review::op_type_name;
use std::collections::BTreeMap;
use stellar_xdr::{OperationBody, TransactionEnvelope};

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
    /// Check one transaction against every rule, the per-batch limits included (one transaction is
    /// a batch of one). The first rule broken is returned.
    pub fn check(&self, env: &TransactionEnvelope, network: &Network) -> Result<(), Violation> {
        let moves = self.check_tx(env, network)?;
        self.check_batch_totals(&[moves])
    }

    /// Check a batch: every transaction against the per-transaction rules, then the batch's totals
    /// against `max_amount_per_batch`. Any violation refuses the whole batch.
    pub fn check_batch(&self, envs: &[(TransactionEnvelope, Network)]) -> Result<(), Violation> {
        let mut all = Vec::with_capacity(envs.len());
        for (i, (env, network)) in envs.iter().enumerate() {
            let moves = self.check_tx(env, network).map_err(|mut v| {
                v.transaction = Some(i + 1);
                v
            })?;
            all.push(moves);
        }
        self.check_batch_totals(&all)
    }

    fn check_tx(&self, env: &TransactionEnvelope, network: &Network) -> Result<Moves, Violation> {
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
            self.check_op(&op.body, index, &acting, &mut moves)?;
        }
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
                add_move(moves, &asset, o.starting_balance, index);
            }
            OperationBody::Payment(o) => {
                let dest = AccountId::from_muxed(&o.destination);
                self.check_destination(&o.asset, &dest, index, "pays")?;
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
                self.check_destination(&stellar_xdr::Asset::Native, &dest, index, "merges into")?;
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
        if let Some(s) = &o.signer {
            if s.weight == 0 && !self.allow_signer_removal {
                return Err(violation(
                    "allow_signer_removal",
                    format!("operation {index} removes a signer from {acting}, and the policy does not allow signer removal."),
                    Some(index),
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
