//! The commands that build one transaction: from options (each read as a plan file's operations
//! are, through `RawOp::to_spec`, so both take the same spellings) or from a plan file.
use super::signing::{finish, Signing};
use super::{now, read_input};
use crate::cli::{BuildArgs, KeyArgs, OperationCommand, TxArgs};
use crate::custody::Custody;
use crate::failure::Failure;
use crate::keysource::{self, Planned};
use crate::output;
use airgap::account::AccountId;
use airgap::amount::Amount;
use airgap::asset::Asset;
use airgap::build::{self, MemoSpec, OpSpec, TxSpec};
use airgap::context::AccountContext;
use airgap::plan::{self, NumOrText, Overrides, RawOp, RawPlan, RawSetOptions, RawSigner};

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
    output::check(&common.output)?;
    let text = read_input(file)?;
    let raw = plan::parse(&text)?;
    let mut setup = Setup::new(&common.tx, &common.keys)?;
    let spec = setup.spec(&raw, &common.keys)?;
    sign_spec(spec, setup, common)
}

/// What every build command reads before it builds, with no question asked: the command line's
/// values, the account context (`--account`) and the keys (`keysource::plan`).
pub(super) struct Setup {
    pub now: u64,
    pub overrides: Overrides,
    pub context: Option<AccountContext>,
    pub keys: Vec<Planned>,
}

impl Setup {
    pub(super) fn new(tx: &TxArgs, keys: &KeyArgs) -> Result<Setup, Failure> {
        let now = now();
        let overrides = overrides(tx)?;
        let context = match &tx.account {
            Some(path) => Some(airgap::context::load(path).map_err(context_failure)?),
            None => None,
        };
        if let (Some(c), Some(n)) = (&context, &overrides.network) {
            c.check_network(n).map_err(context_failure)?;
        }
        Ok(Setup {
            now,
            overrides,
            context,
            keys: keysource::plan(keys)?,
        })
    }

    /// The overrides for `raw`, with what neither the command line nor the plan gives filled in:
    /// the source (the account context's, else the first key's) and the sequence number (the
    /// account context's next, for its account). The first key is asked for here only when it is
    /// a typed secret and nothing else names the source.
    pub(super) fn overrides_for(
        &mut self,
        raw: &RawPlan,
        key_args: &KeyArgs,
    ) -> Result<Overrides, Failure> {
        let mut o = self.overrides.clone();
        if o.source.is_none() && raw.source.is_none() {
            o.source = match &self.context {
                Some(c) => Some(c.account),
                None => {
                    // The first key may have to be typed to know the source: before that, what
                    // needs no secret.
                    if o.network.is_none() && raw.network.is_none() {
                        return Err(airgap::network::NetworkError::Missing.into());
                    }
                    if o.sequence.is_none() && raw.sequence.is_none() {
                        return Err(no_sequence());
                    }
                    self.first_key(key_args)?
                }
            };
        }
        if o.sequence.is_none() && raw.sequence.is_none() {
            let source = match (&o.source, &raw.source) {
                (Some(s), _) => Some(*s),
                (None, Some(s)) => s.parse().ok(),
                (None, None) => None,
            };
            if let Some(c) = &self.context {
                if Some(c.account) == source {
                    o.sequence = Some(c.next_sequence);
                }
            }
        }
        Ok(o)
    }

    /// The transaction `raw` describes (operations included), checked against the context's
    /// network.
    pub(super) fn spec(&mut self, raw: &RawPlan, key_args: &KeyArgs) -> Result<TxSpec, Failure> {
        let o = self.overrides_for(raw, key_args)?;
        self.resolve(raw, &o)
    }

    fn resolve(&self, raw: &RawPlan, o: &Overrides) -> Result<TxSpec, Failure> {
        let spec = raw.resolve(o, self.now)?;
        if let Some(c) = &self.context {
            c.check_network(&spec.network).map_err(context_failure)?;
        }
        Ok(spec)
    }

    /// The first key's public key; a typed first key is asked for now.
    fn first_key(&mut self, key_args: &KeyArgs) -> Result<Option<AccountId>, Failure> {
        let Some(first) = self.keys.first() else {
            return Ok(None);
        };
        if let Some(p) = first.public_key() {
            return Ok(Some(p));
        }
        let count = self.keys.len();
        let first = self.keys.remove(0);
        let key = first.open(key_args, 1, count)?;
        let public = key.seed.public_key();
        self.keys.insert(0, Planned::Ready(key));
        Ok(Some(public))
    }
}

fn no_sequence() -> Failure {
    Failure::new("no --sequence was given").remedy(
        "on the online machine run `airgap-relay account G… --qr` and pass what it wrote as --account, or its next_sequence as --sequence",
    )
}

/// An account context that cannot be used, with what to do.
pub(super) fn context_failure(e: airgap::context::ContextError) -> Failure {
    use airgap::context::ContextError;
    let f = Failure::new(format!("nothing was signed: {e}"));
    match e {
        ContextError::NetworkMismatch { .. } | ContextError::CustomNetwork => f.remedy(
            "read the account on the network you sign for (`airgap-relay account G… --network …`), or give --source and --sequence",
        ),
        ContextError::Refused { path, .. } => f.remedy(format!(
            "check the file, then run `chmod go-w {}` and make it yours",
            path.display()
        )),
        ContextError::Qr {
            source: airgap::qr::decode::QrDecodeError::TooLarge(_),
            ..
        } => f.remedy(
            "carry the PNG or GIF `airgap-relay account G… --qr` wrote, or its JSON (`--json`); no photo of a code needs that much",
        ),
        ContextError::Incomplete { .. }
        | ContextError::Qr { .. }
        | ContextError::Empty { .. }
        | ContextError::TooSlow { .. } => f
            .remedy("photograph the account QR code again (all of its frames), or carry the JSON of `airgap-relay account G… --json`"),
        _ => f.remedy("carry what `airgap-relay account G… --json` (or --qr) wrote, unchanged"),
    }
}

/// Command-line values that override (or, for build commands, make up) the transaction.
pub(super) fn overrides(tx: &TxArgs) -> Result<Overrides, Failure> {
    let memo = if let Some(t) = &tx.memo_text {
        Some(MemoSpec::text(t)?)
    } else if let Some(i) = &tx.memo_id {
        Some(MemoSpec::id(i)?)
    } else if let Some(h) = &tx.memo_hash {
        Some(MemoSpec::hash(h)?)
    } else if let Some(r) = &tx.memo_return {
        Some(MemoSpec::ret(r)?)
    } else {
        None
    };
    // --max-time and --valid-for conflict (clap); the validity is counted from when the
    // transaction's window opens, which `resolve` knows (a batch line may give its own min_time).
    let max_time = tx.max_time.as_deref().map(build::parse_time).transpose()?;
    let valid_for = tx
        .valid_for
        .as_deref()
        .map(build::parse_duration)
        .transpose()?;
    Ok(Overrides {
        network: tx.network.network.as_deref().map(str::parse).transpose()?,
        source: match &tx.source {
            Some(s) => Some(s.parse()?),
            None => None,
        },
        sequence: tx
            .sequence
            .as_deref()
            .map(build::parse_sequence)
            .transpose()?,
        base_fee: tx.fee,
        min_time: tx.min_time.as_deref().map(build::parse_time).transpose()?,
        max_time,
        valid_for,
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
    output::check(&common.output)?;
    let mut setup = Setup::new(&common.tx, &common.keys)?;
    // A command's transaction is a plan without operations, whose values all come from the
    // command line (or the account context); the operations are the command's. Its validity
    // defaults to 24 hours, as a plan's does.
    let raw = RawPlan::default();
    let o = setup.overrides_for(&raw, &common.keys)?;
    if o.network.is_none() {
        return Err(airgap::network::NetworkError::Missing.into());
    }
    if o.sequence.is_none() {
        return Err(no_sequence());
    }
    if o.source.is_none() {
        return Err(Failure::new(
            "no source account: pass --source G…, --account, or a --key whose account is the source",
        ));
    }
    let mut spec = setup.resolve(&raw, &o)?;
    spec.operations = operations;
    sign_spec(spec, setup, common)
}

/// Build the envelope of `spec`, load the custody, and finish.
fn sign_spec(spec: TxSpec, setup: Setup, common: &BuildArgs) -> Result<(), Failure> {
    let env = build::envelope(build::build(&spec)?);
    let custody = Custody::load(&common.custody, &setup.keys, setup.context.as_ref())?;
    finish(
        env,
        Signing {
            network: &spec.network,
            keys: setup.keys,
            key_args: &common.keys,
            out: &common.output,
            now: setup.now,
            custody: &custody,
            context: setup.context.as_ref(),
        },
    )
}
