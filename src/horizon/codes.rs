//! Result codes, their one home: Horizon's strings for a `TransactionResult` (what the sandbox
//! writes in `extras.result_codes`, what the relay reads from `result_xdr`), and what each means for
//! an issuer's operator and what to do.
//!
//! The strings and their spellings follow Horizon's `internal/codes/main.go` (including its quirks:
//! `tx_bad_minseq_age_or_gap`, `op_not_aut_maintain_liabilities`, unprefixed `sell_not_authorized`).
use serde::Serialize;
use stellar_xdr::{
    InnerTransactionResultResult, Limits, OperationResult, OperationResultTr, ReadXdr,
    TransactionResult, TransactionResultResult,
};

/// The codes of one outcome, shaped like Horizon's `extras.result_codes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ResultCodes {
    pub transaction: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub inner_transaction: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub operations: Vec<String>,
}

impl ResultCodes {
    /// Horizon's codes for a result: the transaction's; for a fee bump, the outer code, the inner
    /// transaction's and the inner operations'. Operation codes only where the result carries
    /// operation results (`tx_success`, `tx_failed`).
    pub fn of(result: &TransactionResult) -> ResultCodes {
        let transaction = tx_code(&result.result);
        match &result.result {
            TransactionResultResult::TxSuccess(ops) | TransactionResultResult::TxFailed(ops) => {
                ResultCodes {
                    transaction,
                    inner_transaction: None,
                    operations: op_codes(ops),
                }
            }
            TransactionResultResult::TxFeeBumpInnerSuccess(pair)
            | TransactionResultResult::TxFeeBumpInnerFailed(pair) => {
                let inner = &pair.result.result;
                let operations = match inner {
                    InnerTransactionResultResult::TxSuccess(ops)
                    | InnerTransactionResultResult::TxFailed(ops) => op_codes(ops),
                    _ => Vec::new(),
                };
                ResultCodes {
                    transaction,
                    inner_transaction: Some(tx_code_string(inner.name())),
                    operations,
                }
            }
            _ => ResultCodes {
                transaction,
                inner_transaction: None,
                operations: Vec::new(),
            },
        }
    }

    /// Did the transaction reach a ledger (and so use up its sequence number and pay its fee)?
    /// Only `tx_failed` (and a fee bump whose inner transaction is `tx_failed`) is applied as a
    /// failure; every other transaction-level code is a rejection before the ledger.
    pub fn applied(&self) -> bool {
        let inner = self.inner_transaction.as_deref();
        matches!(self.transaction.as_str(), "tx_failed" | "tx_success")
            || (self.transaction == "tx_fee_bump_inner_failed" && inner == Some("tx_failed"))
    }

    /// One plain sentence per code that is not a success, in order: transaction, inner
    /// transaction, then each failing operation (numbered from 1). `op_types` are the operation
    /// types of the transaction (Horizon names), so codes shared by several operations read right.
    pub fn explain(&self, op_types: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        let tx_code = self
            .inner_transaction
            .as_deref()
            .unwrap_or(&self.transaction);
        if self.inner_transaction.is_some() && self.transaction != "tx_fee_bump_inner_failed" {
            out.push(format!(
                "{}: {}",
                self.transaction,
                explain_tx(&self.transaction)
            ));
        }
        if tx_code != "tx_failed" || self.operations.is_empty() {
            out.push(format!("{tx_code}: {}", explain_tx(tx_code)));
        }
        for (i, code) in self.operations.iter().enumerate() {
            if code == "op_success" {
                continue;
            }
            let kind = op_types.get(i).map(String::as_str);
            out.push(format!(
                "operation {} ({}) {code}: {}",
                i + 1,
                kind.unwrap_or("?"),
                explain_op(kind, code)
            ));
        }
        out
    }
}

/// What a transaction-level code means and what to do.
pub fn explain_tx(code: &str) -> &'static str {
    match code {
        "tx_success" => "the transaction succeeded.",
        "tx_failed" => "one or more operations failed; the fee was charged and the sequence number used, nothing else changed.",
        "tx_too_early" => "the transaction's time bounds have not started yet; wait until its min time and submit the same blob again.",
        "tx_too_late" => "the transaction's time bounds have ended, so it can never be applied; build and sign a new one with a later max time.",
        "tx_missing_operation" => "the transaction has no operations; build it again with at least one.",
        "tx_bad_seq" => "the sequence number is not the source account's next one (already used, or a transaction before it is missing); read next_sequence with `airgap-relay account G…`, and rebuild only if no earlier blob is still waiting to be submitted.",
        "tx_bad_auth" => "the signatures are not enough (too little weight, a wrong key, or signed for another network); check the signers and thresholds with `airgap-relay account G…` and sign again for the right network.",
        "tx_insufficient_balance" => "the fee would take the source account below its minimum XLM reserve; add XLM to it, or pay the fee with --fee-bump-key.",
        "tx_no_source_account" => "the source account does not exist on this network; create (fund) it first, or check --network.",
        "tx_insufficient_fee" => "the fee offered is below what the network charges now; rebuild with a higher fee, or submit with --fee-bump-key and --max-fee.",
        "tx_bad_auth_extra" => "the transaction carries signatures that are not needed or belong to no signer; remove them and submit again.",
        "tx_internal_error" => "stellar-core hit an internal error; submit the same blob again later.",
        "tx_not_supported" => "this network does not support this kind of transaction; check --network and the protocol version.",
        "tx_fee_bump_inner_failed" => "the fee bump was valid but the transaction inside it failed; see the inner code.",
        "tx_fee_bump_inner_success" => "the transaction inside the fee bump succeeded.",
        "tx_bad_sponsorship" => "a sponsorship is left open (begin without end); rebuild the transaction with matching sponsorship operations.",
        "tx_bad_minseq_age_or_gap" => "the minimum sequence age or ledger gap precondition is not met yet; wait and submit the same blob again.",
        "tx_malformed" => "the transaction is malformed; build it again with the signer.",
        "tx_soroban_invalid" => "the smart-contract parts of the transaction are invalid; rebuild it.",
        "tx_frozen_key_accessed" => "the transaction touches a ledger entry the network has frozen; it cannot be applied.",
        _ => "a code this relay does not know; look it up in Stellar's documentation of transaction result codes.",
    }
}

/// What an operation-level code means for this kind of operation, and what to do.
pub fn explain_op(op_type: Option<&str>, code: &str) -> &'static str {
    let trust_ops = matches!(op_type, Some("allow_trust" | "set_trust_line_flags"));
    match code {
        "op_success" => "succeeded (but other operations in the transaction failed, so nothing was applied).",
        "op_bad_auth" => "the operation's source account did not sign with enough weight for this operation's threshold; add the missing signatures.",
        "op_no_source_account" => "the operation's source account does not exist; create it first.",
        "op_not_supported" => "this operation is not supported on this network.",
        "op_too_many_subentries" => "the account has too many subentries (trustlines, offers, signers, data); remove some first.",
        "op_too_many_sponsoring" => "the sponsoring account sponsors too many entries.",
        "op_malformed" => "the operation's parameters are invalid (for example a zero amount or a bad asset code); rebuild it.",
        "op_underfunded" => "the paying account does not hold enough of the asset (beyond its reserve and liabilities); fund it, or lower the amount.",
        "op_low_reserve" => "the account would fall below its minimum XLM reserve; send it more XLM first.",
        "op_already_exists" => "the account to be created already exists; if it is yours, nothing needs creating — drop this operation.",
        "op_src_no_trust" => "the paying account has no trustline to the asset.",
        "op_src_not_authorized" => "the paying account is not authorized to send this asset; the issuer must authorize its trustline.",
        "op_no_destination" => "the destination account does not exist; create it (create_account) before paying it.",
        "op_no_trust" if trust_ops => "the trustor has no trustline to this asset; it must add one (change_trust) before the issuer can set its authorization.",
        "op_no_trust" => "the destination has no trustline to this asset; it must add one (change_trust) before it can receive it.",
        "op_not_authorized" => "the destination's trustline is not authorized for this asset; as issuer, authorize it (set_trust_line_flags authorized) first.",
        "op_line_full" => "the destination's trustline limit would be exceeded; it must raise its limit.",
        "op_no_issuer" => "the asset's issuer account does not exist on this network; check the asset and --network.",
        "op_too_many_signers" => "the account already has the most signers Stellar allows (20).",
        "op_bad_flags" => "the flags to set and clear conflict or are invalid.",
        "op_invalid_inflation" => "the inflation destination does not exist.",
        "op_cant_change" => "the account flags cannot be changed: auth_immutable is set on this account, so authorization flags are permanent.",
        "op_unknown_flag" => "the operation sets a flag Stellar does not know.",
        "op_threshold_out_of_range" => "a threshold or weight is outside 0–255.",
        "op_bad_signer" => "the signer cannot be added (for example the account's own master key).",
        "op_invalid_home_domain" => "the home domain is not valid (at most 32 printable characters).",
        "op_auth_revocable_required" => "auth_clawback_enabled needs auth_revocable set as well; set both.",
        "op_invalid_limit" => "the trustline limit is below the current balance and liabilities.",
        "op_self_not_allowed" => "an account cannot trust or authorize an asset it issues itself.",
        "op_trust_line_missing" => "the trustline to remove or change does not exist.",
        "op_cannot_delete" => "the trustline cannot be removed while it holds a balance or liabilities.",
        "op_not_aut_maintain_liabilities" => "the trustline is not authorized to maintain liabilities.",
        "op_not_required" => "the issuer does not have auth_required set, so authorization cannot be given this way.",
        "op_cant_revoke" => "authorization cannot be revoked: the issuer does not have auth_revocable set.",
        "op_invalid_state" => "the requested combination of trustline flags is not a valid state.",
        "op_not_clawback_enabled" => "the trustline does not have clawback enabled (it was opened before auth_clawback_enabled was set, or the flag was cleared).",
        "op_no_account" => "the destination account does not exist.",
        "op_immutable_set" => "the account has auth_immutable set and can never be merged.",
        "op_has_sub_entries" => "the account still has trustlines, offers, signers or data entries; remove them before merging.",
        "op_seq_num_too_far" => "the account's sequence number is too high to merge it in this ledger.",
        "op_dest_full" => "the destination would exceed the largest XLM balance possible.",
        "op_is_sponsor" => "the account sponsors other entries and cannot be merged.",
        "op_bad_seq" => "the bump_sequence target is invalid.",
        "op_data_name_not_found" => "the data entry to delete does not exist.",
        "op_data_invalid_name" => "the data entry name is not valid.",
        "op_not_supported_yet" => "this operation is not supported yet on this network.",
        _ => "a code this relay does not know; look it up in Stellar's documentation of operation result codes.",
    }
}

/// Horizon's string for a transaction-level result (`tx_failed`, `tx_fee_bump_inner_failed`, …).
pub fn tx_code(result: &TransactionResultResult) -> String {
    tx_code_string(result.name())
}

/// Horizon's string for a transaction result code (`TransactionResultCode::name()` is CamelCase).
fn tx_code_string(name: &str) -> String {
    match name {
        "TxNoAccount" => "tx_no_source_account".into(),
        "TxBadMinSeqAgeOrGap" => "tx_bad_minseq_age_or_gap".into(),
        other => crate::review::snake_case(other),
    }
}

/// Horizon's string for one operation result (the inner code for `opINNER`).
pub fn op_code(r: &OperationResult) -> String {
    let tr = match r {
        OperationResult::OpInner(tr) => tr,
        OperationResult::OpBadAuth => return "op_bad_auth".into(),
        OperationResult::OpNoAccount => return "op_no_source_account".into(),
        OperationResult::OpNotSupported => return "op_not_supported".into(),
        OperationResult::OpTooManySubentries => return "op_too_many_subentries".into(),
        OperationResult::OpExceededWorkLimit => return "op_exceeded_work_limit".into(),
        OperationResult::OpTooManySponsoring => return "op_too_many_sponsoring".into(),
    };
    let (op, name): (&str, &str) = match tr {
        OperationResultTr::CreateAccount(x) => ("create_account", x.name()),
        OperationResultTr::Payment(x) => ("payment", x.name()),
        OperationResultTr::PathPaymentStrictReceive(x) => ("path_payment", x.name()),
        OperationResultTr::ManageSellOffer(x) => ("offer", x.name()),
        OperationResultTr::CreatePassiveSellOffer(x) => ("offer", x.name()),
        OperationResultTr::SetOptions(x) => ("set_options", x.name()),
        OperationResultTr::ChangeTrust(x) => ("change_trust", x.name()),
        OperationResultTr::AllowTrust(x) => ("allow_trust", x.name()),
        OperationResultTr::AccountMerge(x) => ("account_merge", x.name()),
        OperationResultTr::Inflation(x) => ("inflation", x.name()),
        OperationResultTr::ManageData(x) => ("manage_data", x.name()),
        OperationResultTr::BumpSequence(x) => ("bump_sequence", x.name()),
        OperationResultTr::ManageBuyOffer(x) => ("offer", x.name()),
        OperationResultTr::PathPaymentStrictSend(x) => ("path_payment", x.name()),
        OperationResultTr::CreateClaimableBalance(x) => ("other", x.name()),
        OperationResultTr::ClaimClaimableBalance(x) => ("other", x.name()),
        OperationResultTr::BeginSponsoringFutureReserves(x) => ("other", x.name()),
        OperationResultTr::EndSponsoringFutureReserves(x) => ("other", x.name()),
        OperationResultTr::RevokeSponsorship(x) => ("other", x.name()),
        OperationResultTr::Clawback(x) => ("clawback", x.name()),
        OperationResultTr::ClawbackClaimableBalance(x) => ("other", x.name()),
        OperationResultTr::SetTrustLineFlags(x) => ("set_trust_line_flags", x.name()),
        OperationResultTr::LiquidityPoolDeposit(x) => ("other", x.name()),
        OperationResultTr::LiquidityPoolWithdraw(x) => ("other", x.name()),
        OperationResultTr::InvokeHostFunction(x) => ("soroban", x.name()),
        OperationResultTr::ExtendFootprintTtl(x) => ("soroban", x.name()),
        OperationResultTr::RestoreFootprint(x) => ("soroban", x.name()),
    };
    let fixed = match (op, name) {
        (_, "Success") => "op_success",
        ("create_account", "AlreadyExist") => "op_already_exists",
        ("change_trust", "NotAuthMaintainLiabilities") => "op_not_aut_maintain_liabilities",
        ("allow_trust" | "set_trust_line_flags", "NoTrustLine") => "op_no_trust",
        ("allow_trust", "TrustNotRequired") => "op_not_required",
        ("account_merge", "SeqnumTooFar") => "op_seq_num_too_far",
        ("manage_data", "NameNotFound") => "op_data_name_not_found",
        ("manage_data", "InvalidName") => "op_data_invalid_name",
        ("path_payment", "OfferCrossSelf") => "op_cross_self",
        ("path_payment", "OverSendmax") => "op_over_source_max",
        ("path_payment", "UnderDestmin") => "op_under_dest_min",
        ("offer", "SellNotAuthorized") => "sell_not_authorized",
        ("offer", "BuyNotAuthorized") => "buy_not_authorized",
        ("offer", "BuyNoIssuer") => "buy_no_issuer",
        ("offer", "NotFound") => "op_offer_not_found",
        ("soroban", n) => return crate::review::snake_case(n),
        _ => return format!("op_{}", crate::review::snake_case(name)),
    };
    fixed.to_string()
}

fn op_codes(results: &[OperationResult]) -> Vec<String> {
    results.iter().map(op_code).collect()
}

/// Decode a base64 `TransactionResult` (as stored in Horizon's `result_xdr`) into Horizon's
/// strings. `None` when it does not decode. The input comes from the server: decoding is bounded.
pub fn from_result_xdr(b64: &str) -> Option<ResultCodes> {
    let limits = Limits {
        depth: 100,
        len: 65_536,
    };
    let r = TransactionResult::from_xdr_base64(b64.trim(), limits).ok()?;
    Some(ResultCodes::of(&r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_reference_samples() {
        // From the Horizon contract (docs §10.5).
        let cases = [
            ("AAAAAAAAAAD////7AAAAAA==", "tx_bad_seq", vec![]),
            (
                "AAAAAAAAAGT/////AAAAAQAAAAAAAAAB/////gAAAAA=",
                "tx_failed",
                vec!["op_underfunded"],
            ),
            (
                "AAAAAAAAAGT/////AAAAAQAAAAAAAAAB////+gAAAAA=",
                "tx_failed",
                vec!["op_no_trust"],
            ),
            (
                "AAAAAAAAAGT/////AAAAAQAAAAAAAAAA/////AAAAAA=",
                "tx_failed",
                vec!["op_already_exists"],
            ),
            (
                "AAAAAAAAAGT/////AAAAAQAAAAAAAAAF/////gAAAAA=",
                "tx_failed",
                vec!["op_too_many_signers"],
            ),
            (
                "AAAAAAAAAGT/////AAAAAQAAAAAAAAAV/////QAAAAA=",
                "tx_failed",
                vec!["op_cant_revoke"],
            ),
            (
                "AAAAAAAAAGT/////AAAAAf////4AAAAA",
                "tx_failed",
                vec!["op_no_source_account"],
            ),
            ("AAAAAAAAAAD////4AAAAAA==", "tx_no_source_account", vec![]),
            ("AAAAAAAAAGT////9AAAAAA==", "tx_too_late", vec![]),
            (
                "AAAAAAAAAGQAAAAAAAAAAQAAAAAAAAABAAAAAAAAAAA=",
                "tx_success",
                vec!["op_success"],
            ),
        ];
        for (xdr, tx, ops) in cases {
            let c = from_result_xdr(xdr).unwrap();
            assert_eq!(c.transaction, tx, "{xdr}");
            assert_eq!(c.operations, ops, "{xdr}");
        }
        assert!(from_result_xdr("not xdr").is_none());
    }

    #[test]
    fn applied_and_explained() {
        let failed = from_result_xdr("AAAAAAAAAGT/////AAAAAQAAAAAAAAAB/////gAAAAA=").unwrap();
        assert!(failed.applied());
        let lines = failed.explain(&["payment".into()]);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("op_underfunded"));
        let bad_seq = from_result_xdr("AAAAAAAAAAD////7AAAAAA==").unwrap();
        assert!(!bad_seq.applied());
        assert!(bad_seq.explain(&[])[0].starts_with("tx_bad_seq: "));
        for code in [
            "tx_bad_seq",
            "tx_bad_auth",
            "tx_too_late",
            "tx_insufficient_fee",
            "tx_no_source_account",
        ] {
            assert!(!explain_tx(code).contains("does not know"), "{code}");
        }
        for code in [
            "op_no_trust",
            "op_cant_change",
            "op_underfunded",
            "op_low_reserve",
            "op_not_authorized",
            "op_no_destination",
            "op_line_full",
            "op_already_exists",
        ] {
            assert!(
                !explain_op(Some("payment"), code).contains("does not know"),
                "{code}"
            );
        }
    }

    /// Every result of the operations the sandbox applies spells as Horizon's `internal/codes`
    /// does (a table written from Horizon's source, not from this code), as do the outer codes and
    /// every transaction-level code.
    #[test]
    fn spells_as_horizon() {
        use stellar_xdr::{
            AccountMergeResult, AllowTrustResult, BumpSequenceResult, ChangeTrustResult,
            ClawbackResult, CreateAccountResult, ManageDataResult, OperationResultTr as Tr,
            PaymentResult, SetOptionsResult, SetTrustLineFlagsResult,
        };
        let table = [
            (
                Tr::CreateAccount(CreateAccountResult::Success),
                "op_success",
            ),
            (
                Tr::CreateAccount(CreateAccountResult::Malformed),
                "op_malformed",
            ),
            (
                Tr::CreateAccount(CreateAccountResult::Underfunded),
                "op_underfunded",
            ),
            (
                Tr::CreateAccount(CreateAccountResult::LowReserve),
                "op_low_reserve",
            ),
            (
                Tr::CreateAccount(CreateAccountResult::AlreadyExist),
                "op_already_exists",
            ),
            (Tr::Payment(PaymentResult::Success), "op_success"),
            (Tr::Payment(PaymentResult::Malformed), "op_malformed"),
            (Tr::Payment(PaymentResult::Underfunded), "op_underfunded"),
            (Tr::Payment(PaymentResult::SrcNoTrust), "op_src_no_trust"),
            (
                Tr::Payment(PaymentResult::SrcNotAuthorized),
                "op_src_not_authorized",
            ),
            (
                Tr::Payment(PaymentResult::NoDestination),
                "op_no_destination",
            ),
            (Tr::Payment(PaymentResult::NoTrust), "op_no_trust"),
            (
                Tr::Payment(PaymentResult::NotAuthorized),
                "op_not_authorized",
            ),
            (Tr::Payment(PaymentResult::LineFull), "op_line_full"),
            (Tr::Payment(PaymentResult::NoIssuer), "op_no_issuer"),
            (Tr::SetOptions(SetOptionsResult::Success), "op_success"),
            (
                Tr::SetOptions(SetOptionsResult::LowReserve),
                "op_low_reserve",
            ),
            (
                Tr::SetOptions(SetOptionsResult::TooManySigners),
                "op_too_many_signers",
            ),
            (Tr::SetOptions(SetOptionsResult::BadFlags), "op_bad_flags"),
            (
                Tr::SetOptions(SetOptionsResult::InvalidInflation),
                "op_invalid_inflation",
            ),
            (
                Tr::SetOptions(SetOptionsResult::CantChange),
                "op_cant_change",
            ),
            (
                Tr::SetOptions(SetOptionsResult::UnknownFlag),
                "op_unknown_flag",
            ),
            (
                Tr::SetOptions(SetOptionsResult::ThresholdOutOfRange),
                "op_threshold_out_of_range",
            ),
            (Tr::SetOptions(SetOptionsResult::BadSigner), "op_bad_signer"),
            (
                Tr::SetOptions(SetOptionsResult::InvalidHomeDomain),
                "op_invalid_home_domain",
            ),
            (
                Tr::SetOptions(SetOptionsResult::AuthRevocableRequired),
                "op_auth_revocable_required",
            ),
            (Tr::ChangeTrust(ChangeTrustResult::Success), "op_success"),
            (
                Tr::ChangeTrust(ChangeTrustResult::Malformed),
                "op_malformed",
            ),
            (Tr::ChangeTrust(ChangeTrustResult::NoIssuer), "op_no_issuer"),
            (
                Tr::ChangeTrust(ChangeTrustResult::InvalidLimit),
                "op_invalid_limit",
            ),
            (
                Tr::ChangeTrust(ChangeTrustResult::LowReserve),
                "op_low_reserve",
            ),
            (
                Tr::ChangeTrust(ChangeTrustResult::SelfNotAllowed),
                "op_self_not_allowed",
            ),
            (
                Tr::ChangeTrust(ChangeTrustResult::TrustLineMissing),
                "op_trust_line_missing",
            ),
            (
                Tr::ChangeTrust(ChangeTrustResult::CannotDelete),
                "op_cannot_delete",
            ),
            (
                Tr::ChangeTrust(ChangeTrustResult::NotAuthMaintainLiabilities),
                "op_not_aut_maintain_liabilities",
            ),
            (Tr::AllowTrust(AllowTrustResult::Success), "op_success"),
            (Tr::AllowTrust(AllowTrustResult::Malformed), "op_malformed"),
            (Tr::AllowTrust(AllowTrustResult::NoTrustLine), "op_no_trust"),
            (
                Tr::AllowTrust(AllowTrustResult::TrustNotRequired),
                "op_not_required",
            ),
            (
                Tr::AllowTrust(AllowTrustResult::CantRevoke),
                "op_cant_revoke",
            ),
            (
                Tr::AllowTrust(AllowTrustResult::SelfNotAllowed),
                "op_self_not_allowed",
            ),
            (
                Tr::AllowTrust(AllowTrustResult::LowReserve),
                "op_low_reserve",
            ),
            (
                Tr::AccountMerge(AccountMergeResult::Success(0)),
                "op_success",
            ),
            (
                Tr::AccountMerge(AccountMergeResult::Malformed),
                "op_malformed",
            ),
            (
                Tr::AccountMerge(AccountMergeResult::NoAccount),
                "op_no_account",
            ),
            (
                Tr::AccountMerge(AccountMergeResult::ImmutableSet),
                "op_immutable_set",
            ),
            (
                Tr::AccountMerge(AccountMergeResult::HasSubEntries),
                "op_has_sub_entries",
            ),
            (
                Tr::AccountMerge(AccountMergeResult::SeqnumTooFar),
                "op_seq_num_too_far",
            ),
            (
                Tr::AccountMerge(AccountMergeResult::DestFull),
                "op_dest_full",
            ),
            (
                Tr::AccountMerge(AccountMergeResult::IsSponsor),
                "op_is_sponsor",
            ),
            (Tr::ManageData(ManageDataResult::Success), "op_success"),
            (
                Tr::ManageData(ManageDataResult::NotSupportedYet),
                "op_not_supported_yet",
            ),
            (
                Tr::ManageData(ManageDataResult::NameNotFound),
                "op_data_name_not_found",
            ),
            (
                Tr::ManageData(ManageDataResult::LowReserve),
                "op_low_reserve",
            ),
            (
                Tr::ManageData(ManageDataResult::InvalidName),
                "op_data_invalid_name",
            ),
            (Tr::BumpSequence(BumpSequenceResult::Success), "op_success"),
            (Tr::BumpSequence(BumpSequenceResult::BadSeq), "op_bad_seq"),
            (Tr::Clawback(ClawbackResult::Success), "op_success"),
            (Tr::Clawback(ClawbackResult::Malformed), "op_malformed"),
            (
                Tr::Clawback(ClawbackResult::NotClawbackEnabled),
                "op_not_clawback_enabled",
            ),
            (Tr::Clawback(ClawbackResult::NoTrust), "op_no_trust"),
            (Tr::Clawback(ClawbackResult::Underfunded), "op_underfunded"),
            (
                Tr::SetTrustLineFlags(SetTrustLineFlagsResult::Success),
                "op_success",
            ),
            (
                Tr::SetTrustLineFlags(SetTrustLineFlagsResult::Malformed),
                "op_malformed",
            ),
            (
                Tr::SetTrustLineFlags(SetTrustLineFlagsResult::NoTrustLine),
                "op_no_trust",
            ),
            (
                Tr::SetTrustLineFlags(SetTrustLineFlagsResult::CantRevoke),
                "op_cant_revoke",
            ),
            (
                Tr::SetTrustLineFlags(SetTrustLineFlagsResult::InvalidState),
                "op_invalid_state",
            ),
            (
                Tr::SetTrustLineFlags(SetTrustLineFlagsResult::LowReserve),
                "op_low_reserve",
            ),
        ];
        for (tr, code) in table {
            assert_eq!(
                op_code(&OperationResult::OpInner(tr.clone())),
                code,
                "{tr:?}"
            );
        }
        let outer = [
            (OperationResult::OpBadAuth, "op_bad_auth"),
            (OperationResult::OpNoAccount, "op_no_source_account"),
            (OperationResult::OpNotSupported, "op_not_supported"),
            (
                OperationResult::OpTooManySubentries,
                "op_too_many_subentries",
            ),
            (
                OperationResult::OpExceededWorkLimit,
                "op_exceeded_work_limit",
            ),
            (
                OperationResult::OpTooManySponsoring,
                "op_too_many_sponsoring",
            ),
        ];
        for (r, code) in outer {
            assert_eq!(op_code(&r), code);
        }
        use stellar_xdr::TransactionResultCode as C;
        let tx = [
            (C::TxFeeBumpInnerSuccess, "tx_fee_bump_inner_success"),
            (C::TxFeeBumpInnerFailed, "tx_fee_bump_inner_failed"),
            (C::TxSuccess, "tx_success"),
            (C::TxFailed, "tx_failed"),
            (C::TxTooEarly, "tx_too_early"),
            (C::TxTooLate, "tx_too_late"),
            (C::TxMissingOperation, "tx_missing_operation"),
            (C::TxBadSeq, "tx_bad_seq"),
            (C::TxBadAuth, "tx_bad_auth"),
            (C::TxInsufficientBalance, "tx_insufficient_balance"),
            (C::TxNoAccount, "tx_no_source_account"),
            (C::TxInsufficientFee, "tx_insufficient_fee"),
            (C::TxBadAuthExtra, "tx_bad_auth_extra"),
            (C::TxInternalError, "tx_internal_error"),
            (C::TxNotSupported, "tx_not_supported"),
            (C::TxBadSponsorship, "tx_bad_sponsorship"),
            (C::TxBadMinSeqAgeOrGap, "tx_bad_minseq_age_or_gap"),
            (C::TxMalformed, "tx_malformed"),
            (C::TxSorobanInvalid, "tx_soroban_invalid"),
            (C::TxFrozenKeyAccessed, "tx_frozen_key_accessed"),
        ];
        assert_eq!(tx.len(), C::VARIANTS.len(), "every transaction code");
        for (c, code) in tx {
            assert_eq!(tx_code_string(c.name()), code);
        }
    }
}
