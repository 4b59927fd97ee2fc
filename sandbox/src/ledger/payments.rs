//! Payments and path payments, as stellar-core applies them without an order book
//! (`PaymentOpFrame.cpp`, `PathPaymentStrictReceiveOpFrame.cpp`, `PathPaymentStrictSendOpFrame.cpp`,
//! `PathPaymentOpFrameBase.cpp`). A payment is a strict-receive path payment from an asset to
//! itself. A path payment walks its path; a hop from an asset to the same asset needs no offer,
//! any other hop would cross the order book, which the sandbox does not have: it fails as core
//! fails a hop with no offers, `op_too_few_offers`.

use stellar_xdr::{
    AccountId, Asset, PathPaymentStrictReceiveOp, PathPaymentStrictReceiveResult,
    PathPaymentStrictReceiveResultSuccess, PathPaymentStrictSendOp, PathPaymentStrictSendResult,
    PathPaymentStrictSendResultSuccess, PaymentOp, PaymentResult, PublicKey, SimplePaymentResult,
    Uint256,
};

use super::entries::{asset_key, available, muxed_bytes, State, TL_AUTHORIZED};

/// Why a (path) payment failed, before it is named in its operation's result type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fail {
    Malformed,
    Underfunded,
    SrcNoTrust,
    SrcNotAuthorized,
    NoDestination,
    NoTrust,
    NotAuthorized,
    LineFull,
    TooFewOffers,
    /// Over the send maximum (strict receive) or under the destination minimum (strict send).
    ConstraintNotMet,
}

/// `shouldBypassIssuerCheck`: a credit asset paid to its own issuer with no path needs no
/// destination account.
fn bypass_issuer_check(send: &Asset, dest_asset: &Asset, path: &[Asset], dest: [u8; 32]) -> bool {
    !matches!(dest_asset, Asset::Native)
        && path.is_empty()
        && send == dest_asset
        && matches!(asset_key(dest_asset), Some(Ok(k)) if k.issuer == dest)
}

/// The hops of a path, each `(from, to)`; a path payment succeeds without offers only when every
/// hop stays in one asset.
fn needs_offers(hops: &[Asset], start: &Asset) -> bool {
    let mut current = start;
    for next in hops {
        if next != current {
            return true;
        }
        current = next;
    }
    false
}

impl State {
    /// `updateDestBalance`.
    fn credit(&mut self, dest: [u8; 32], asset: &Asset, amount: i64) -> Result<(), Fail> {
        match asset_key(asset) {
            None => {
                let Some(acc) = self.accounts.get_mut(&dest) else {
                    return Err(Fail::NoDestination);
                };
                acc.balance = acc.balance.checked_add(amount).ok_or(Fail::LineFull)?;
                Ok(())
            }
            Some(Err(())) => Err(Fail::Malformed),
            Some(Ok(key)) if key.issuer == dest => Ok(()),
            Some(Ok(key)) => {
                let Some(line) = self.trustlines.get_mut(&(dest, key)) else {
                    return Err(Fail::NoTrust);
                };
                if line.flags & TL_AUTHORIZED == 0 {
                    return Err(Fail::NotAuthorized);
                }
                match line.balance.checked_add(amount) {
                    Some(b) if b <= line.limit => {
                        line.balance = b;
                        Ok(())
                    }
                    _ => Err(Fail::LineFull),
                }
            }
        }
    }

    /// `updateSourceBalance`.
    fn debit(&mut self, source: [u8; 32], asset: &Asset, amount: i64) -> Result<(), Fail> {
        match asset_key(asset) {
            None => {
                let Some(acc) = self.accounts.get_mut(&source) else {
                    return Err(Fail::Malformed);
                };
                if amount > available(acc) {
                    return Err(Fail::Underfunded);
                }
                acc.balance -= amount;
                Ok(())
            }
            Some(Err(())) => Err(Fail::Malformed),
            Some(Ok(key)) if key.issuer == source => Ok(()),
            Some(Ok(key)) => {
                let Some(line) = self.trustlines.get_mut(&(source, key)) else {
                    return Err(Fail::SrcNoTrust);
                };
                if line.flags & TL_AUTHORIZED == 0 {
                    return Err(Fail::SrcNotAuthorized);
                }
                if line.balance < amount {
                    return Err(Fail::Underfunded);
                }
                line.balance -= amount;
                Ok(())
            }
        }
    }

    /// `PathPaymentStrictReceiveOpFrame::doApply` without offers: the destination is credited,
    /// the path walked from the destination back to the send asset, the source debited.
    fn strict_receive(
        &mut self,
        source: [u8; 32],
        op: &PathPaymentStrictReceiveOp,
    ) -> Result<(), Fail> {
        let dest = muxed_bytes(&op.destination);
        let bypass = bypass_issuer_check(&op.send_asset, &op.dest_asset, &op.path, dest);
        if !bypass && !self.accounts.contains_key(&dest) {
            return Err(Fail::NoDestination);
        }
        self.credit(dest, &op.dest_asset, op.dest_amount)?;
        let mut back: Vec<Asset> = op.path.iter().rev().cloned().collect();
        back.push(op.send_asset.clone());
        if needs_offers(&back, &op.dest_asset) {
            return Err(Fail::TooFewOffers);
        }
        if op.dest_amount > op.send_max {
            return Err(Fail::ConstraintNotMet);
        }
        self.debit(source, &op.send_asset, op.dest_amount)
    }

    /// `PathPaymentStrictSendOpFrame::doApply` without offers: the source debited, the path
    /// walked to the destination asset, the destination credited.
    fn strict_send(&mut self, source: [u8; 32], op: &PathPaymentStrictSendOp) -> Result<(), Fail> {
        let dest = muxed_bytes(&op.destination);
        let bypass = bypass_issuer_check(&op.send_asset, &op.dest_asset, &op.path, dest);
        if !bypass && !self.accounts.contains_key(&dest) {
            return Err(Fail::NoDestination);
        }
        self.debit(source, &op.send_asset, op.send_amount)?;
        let mut forward: Vec<Asset> = op.path.to_vec();
        forward.push(op.dest_asset.clone());
        if needs_offers(&forward, &op.send_asset) {
            return Err(Fail::TooFewOffers);
        }
        if op.send_amount < op.dest_min {
            return Err(Fail::ConstraintNotMet);
        }
        self.credit(dest, &op.dest_asset, op.send_amount)
    }

    /// `PaymentOpFrame::doApply`: lumens to oneself succeed at once; anything else is a
    /// strict-receive path payment from the asset to itself, its codes renamed.
    pub(super) fn payment(&mut self, source: [u8; 32], op: &PaymentOp) -> PaymentResult {
        if muxed_bytes(&op.destination) == source && matches!(op.asset, Asset::Native) {
            return PaymentResult::Success;
        }
        let as_path = PathPaymentStrictReceiveOp {
            send_asset: op.asset.clone(),
            send_max: op.amount,
            destination: op.destination.clone(),
            dest_asset: op.asset.clone(),
            dest_amount: op.amount,
            path: Default::default(),
        };
        match self.strict_receive(source, &as_path) {
            Ok(()) => PaymentResult::Success,
            Err(Fail::Underfunded) => PaymentResult::Underfunded,
            Err(Fail::SrcNoTrust) => PaymentResult::SrcNoTrust,
            Err(Fail::SrcNotAuthorized) => PaymentResult::SrcNotAuthorized,
            Err(Fail::NoDestination) => PaymentResult::NoDestination,
            Err(Fail::NoTrust) => PaymentResult::NoTrust,
            Err(Fail::NotAuthorized) => PaymentResult::NotAuthorized,
            Err(Fail::LineFull) => PaymentResult::LineFull,
            Err(Fail::Malformed | Fail::TooFewOffers | Fail::ConstraintNotMet) => {
                PaymentResult::Malformed
            }
        }
    }

    pub(super) fn path_payment_strict_receive(
        &mut self,
        source: [u8; 32],
        op: &PathPaymentStrictReceiveOp,
    ) -> PathPaymentStrictReceiveResult {
        use PathPaymentStrictReceiveResult as R;
        match self.strict_receive(source, op) {
            Ok(()) => R::Success(PathPaymentStrictReceiveResultSuccess {
                offers: Default::default(),
                last: SimplePaymentResult {
                    destination: account(muxed_bytes(&op.destination)),
                    asset: op.dest_asset.clone(),
                    amount: op.dest_amount,
                },
            }),
            Err(Fail::Malformed) => R::Malformed,
            Err(Fail::Underfunded) => R::Underfunded,
            Err(Fail::SrcNoTrust) => R::SrcNoTrust,
            Err(Fail::SrcNotAuthorized) => R::SrcNotAuthorized,
            Err(Fail::NoDestination) => R::NoDestination,
            Err(Fail::NoTrust) => R::NoTrust,
            Err(Fail::NotAuthorized) => R::NotAuthorized,
            Err(Fail::LineFull) => R::LineFull,
            Err(Fail::TooFewOffers) => R::TooFewOffers,
            Err(Fail::ConstraintNotMet) => R::OverSendmax,
        }
    }

    pub(super) fn path_payment_strict_send(
        &mut self,
        source: [u8; 32],
        op: &PathPaymentStrictSendOp,
    ) -> PathPaymentStrictSendResult {
        use PathPaymentStrictSendResult as R;
        match self.strict_send(source, op) {
            Ok(()) => R::Success(PathPaymentStrictSendResultSuccess {
                offers: Default::default(),
                last: SimplePaymentResult {
                    destination: account(muxed_bytes(&op.destination)),
                    asset: op.dest_asset.clone(),
                    amount: op.send_amount,
                },
            }),
            Err(Fail::Malformed) => R::Malformed,
            Err(Fail::Underfunded) => R::Underfunded,
            Err(Fail::SrcNoTrust) => R::SrcNoTrust,
            Err(Fail::SrcNotAuthorized) => R::SrcNotAuthorized,
            Err(Fail::NoDestination) => R::NoDestination,
            Err(Fail::NoTrust) => R::NoTrust,
            Err(Fail::NotAuthorized) => R::NotAuthorized,
            Err(Fail::LineFull) => R::LineFull,
            Err(Fail::TooFewOffers) => R::TooFewOffers,
            Err(Fail::ConstraintNotMet) => R::UnderDestmin,
        }
    }
}

fn account(bytes: [u8; 32]) -> AccountId {
    AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(bytes)))
}
