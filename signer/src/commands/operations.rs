//! The commands that build one transaction: from options (each read as a plan file's operations
//! are, through `RawOp::to_spec`, so both take the same spellings) or from a plan file.
use super::signing::finish;
use super::{now, read_input};
use crate::cli::{BuildArgs, OperationCommand};
use crate::custody::Custody;
use crate::failure::Failure;
use crate::keysource::{self, Key};
use airgap::amount::Amount;
use airgap::asset::Asset;
use airgap::build::{self, MemoSpec, OpSpec, TimeWindow, TxSpec};
use airgap::plan::{self, NumOrText, Overrides, RawOp, RawSetOptions, RawSigner};

/// How long a transaction stays valid when neither --max-time nor --valid-for is given.
const DEFAULT_VALID_FOR: &str = "24h";

/// An operation command: its options as plan operations (`RawOp`), built and signed.
pub fn run(command: OperationCommand) -> Result<(), Failure> {
    match command {
        OperationCommand::SetOptions(o) => {
            let mut signers = o
                .signers
                .iter()
                .map(|s| s.parse::<RawSigner>())
                .collect::<Result<Vec<_>, _>>()?
                .into_iter();
            let first = RawSetOptions {
                source: None,
                set_flags: o.set_flags,
                clear_flags: o.clear_flags,
                home_domain: o.home_domain,
                master_weight: o.master_weight,
                low_threshold: o.low_threshold,
                med_threshold: o.med_threshold,
                high_threshold: o.high_threshold,
                inflation_dest: o.inflation_dest,
                signer: signers.next(),
            };
            // One set_options operation holds one signer: each further signer gets its own.
            let rest = signers.map(|s| RawSetOptions {
                signer: Some(s),
                ..Default::default()
            });
            let ops: Vec<RawOp> = std::iter::once(first)
                .chain(rest)
                .map(RawOp::SetOptions)
                .collect();
            sign_operations(&o.common, &ops)
        }
        OperationCommand::CreateAccount {
            destination,
            starting_balance,
            common,
        } => sign_operations(
            &common,
            &[RawOp::CreateAccount {
                source: None,
                destination,
                starting_balance,
            }],
        ),
        OperationCommand::Payment {
            destination,
            asset,
            amount,
            common,
        } => sign_operations(
            &common,
            &[RawOp::Payment {
                source: None,
                destination,
                asset,
                amount,
            }],
        ),
        OperationCommand::ChangeTrust {
            asset,
            limit,
            common,
        } => sign_operations(
            &common,
            &[RawOp::ChangeTrust {
                source: None,
                asset,
                limit,
            }],
        ),
        OperationCommand::AllowTrust {
            trustor,
            asset,
            authorize,
            common,
        } => sign_operations(
            &common,
            &[RawOp::AllowTrust {
                source: None,
                trustor,
                asset,
                authorize,
            }],
        ),
        OperationCommand::SetTrustlineFlags {
            trustor,
            asset,
            set_flags,
            clear_flags,
            common,
        } => sign_operations(
            &common,
            &[RawOp::SetTrustLineFlags {
                source: None,
                trustor,
                asset,
                set_flags,
                clear_flags,
            }],
        ),
        OperationCommand::Clawback {
            from,
            asset,
            amount,
            common,
        } => sign_operations(
            &common,
            &[RawOp::Clawback {
                source: None,
                from,
                asset,
                amount,
            }],
        ),
        OperationCommand::ManageData {
            name,
            value,
            common,
        } => sign_operations(
            &common,
            &[RawOp::ManageData {
                source: None,
                name,
                value,
            }],
        ),
        OperationCommand::BumpSequence { to, common } => sign_operations(
            &common,
            &[RawOp::BumpSequence {
                source: None,
                to: NumOrText::Text(to),
            }],
        ),
        OperationCommand::AccountMerge {
            destination,
            common,
        } => sign_operations(
            &common,
            &[RawOp::AccountMerge {
                source: None,
                destination,
            }],
        ),
        OperationCommand::AuthorizedPayment {
            from,
            to,
            asset,
            amount,
            common,
        } => {
            let asset = asset.parse::<Asset>()?.require_credit()?;
            let ops = build::authorization_sandwich(
                from.parse()?,
                to.parse()?,
                asset,
                amount.parse::<Amount>()?.positive()?,
            );
            build_and_sign(&common, ops)
        }
    }
}

/// `plan FILE`: the plan's transaction, with the options' values over the file's.
pub fn plan(file: &str, common: &BuildArgs) -> Result<(), Failure> {
    let text = read_input(file)?;
    let raw = plan::parse(&text)?;
    let keys = keysource::resolve(&common.keys)?;
    let now = now();
    let spec = raw.resolve(&overrides(common, &keys, now)?, now)?;
    let env = build::envelope(build::build(&spec)?);
    let custody = Custody::load(&common.custody, &keys)?;
    finish(env, &spec.network, keys, &common.output, now, &custody)
}

/// Command-line values that override (or, for build commands, make up) the transaction.
pub(super) fn overrides(common: &BuildArgs, keys: &[Key], now: u64) -> Result<Overrides, Failure> {
    let memo = if let Some(t) = &common.memo_text {
        Some(MemoSpec::text(t)?)
    } else if let Some(i) = &common.memo_id {
        Some(MemoSpec::id(i)?)
    } else if let Some(h) = &common.memo_hash {
        Some(MemoSpec::hash(h)?)
    } else if let Some(r) = &common.memo_return {
        Some(MemoSpec::ret(r)?)
    } else {
        None
    };
    let max_time = match (&common.max_time, &common.valid_for) {
        (Some(t), _) => Some(build::parse_time(t)?),
        (None, Some(d)) => Some(now + build::parse_duration(d)?),
        (None, None) => None,
    };
    Ok(Overrides {
        network: common
            .network
            .network
            .as_deref()
            .map(str::parse)
            .transpose()?,
        source: match &common.source {
            Some(s) => Some(s.parse()?),
            None => None,
        }
        .or_else(|| keys.first().map(|k| k.seed.public_key())),
        sequence: common
            .sequence
            .as_deref()
            .map(build::parse_sequence)
            .transpose()?,
        base_fee: common.fee,
        min_time: common
            .min_time
            .as_deref()
            .map(build::parse_time)
            .transpose()?,
        max_time,
        memo,
    })
}

/// Operations given by a command's options: read as a plan's operations are (`RawOp::to_spec`),
/// so options and plan files take the same spellings; then built and signed.
fn sign_operations(common: &BuildArgs, ops: &[RawOp]) -> Result<(), Failure> {
    let ops = ops
        .iter()
        .map(RawOp::to_spec)
        .collect::<Result<Vec<_>, _>>()?;
    build_and_sign(common, ops)
}

fn build_and_sign(common: &BuildArgs, operations: Vec<OpSpec>) -> Result<(), Failure> {
    let keys = keysource::resolve(&common.keys)?;
    let now = now();
    let o = overrides(common, &keys, now)?;
    let network = o
        .network
        .clone()
        .ok_or_else(|| Failure::from(airgap::network::NetworkError::Missing))?;
    let source = o.source.ok_or_else(|| {
        Failure::new("no source account: pass --source G…, or a --key whose account is the source")
    })?;
    let sequence = o.sequence.ok_or_else(|| {
        Failure::new("no --sequence was given").remedy(
            "on the online machine run `airgap-relay account G…` and pass its next_sequence as --sequence",
        )
    })?;
    let max = match o.max_time {
        Some(t) => t,
        None => now + build::parse_duration(DEFAULT_VALID_FOR)?,
    };
    let spec = TxSpec {
        network,
        source,
        sequence,
        base_fee: o.base_fee.unwrap_or(build::DEFAULT_BASE_FEE),
        time: TimeWindow {
            min: o.min_time.unwrap_or(0),
            max,
        },
        memo: o.memo.unwrap_or_default(),
        operations,
    };
    let env = build::envelope(build::build(&spec)?);
    let custody = Custody::load(&common.custody, &keys)?;
    finish(env, &spec.network, keys, &common.output, now, &custody)
}
