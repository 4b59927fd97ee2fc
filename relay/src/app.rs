//! From parsed arguments to work: resolve options, run the command, return the exit code.
use crate::cli::{AccountArgs, Command, InspectArgs, JournalArgs, Shared, SubmitArgs};
use crate::inputs::{self, InputError};
use crate::journal::{Journal, JournalError};
use crate::keysource::{self, KeySourceError};
use crate::online::{self, ConnectError};
use crate::{account, inspect, submit};
use airgap::account::{AccountId, AccountIdError};
use airgap::network::{Network, NetworkError};
use std::io::Write as _;
use std::time::{Duration, Instant};

/// What stops a command before it has per-input results.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    #[error(transparent)]
    Network(#[from] NetworkError),
    #[error(transparent)]
    Duration(#[from] airgap::build::BuildError),
    #[error(transparent)]
    Account(#[from] AccountIdError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Key(#[from] KeySourceError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Submit(#[from] submit::SubmitError),
    #[error(transparent)]
    AccountQuery(#[from] account::AccountError),
    #[error(transparent)]
    Inspect(#[from] inspect::InspectError),
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),
    #[error(transparent)]
    Rehearse(#[from] crate::rehearse::RehearseError),
    #[error(transparent)]
    Merge(#[from] crate::merge::MergeCmdError),
    #[error("cannot write the QR code: {0}")]
    Qr(String),
    #[error("--max-fee must be a positive number of stroops")]
    BadMaxFee,
    #[error("--jobs must be at least 1")]
    BadJobs,
    #[error("--decode-budget {0:?} is not a duration")]
    BadDecodeBudget(String),
}

impl AppError {
    /// The second sentence: what to do.
    pub fn remedy(&self) -> String {
        match self {
            AppError::Network(_) => "Pass --network with one of the names above.".into(),
            AppError::Duration(_) => "Write --timeout as 30s, 2m or 1h.".into(),
            AppError::Account(_) => "Copy the account ID again from a trusted source.".into(),
            AppError::Connect(e) => e.remedy().into(),
            AppError::Input(_) => "Check the paths; nothing was sent.".into(),
            AppError::Key(KeySourceError::Source(airgap::keys::source::SourceError::Exposed {
                path,
                ..
            })) => format!(
                "Run chmod 600 {} if only you could have read it; otherwise treat the fee key as compromised. Nothing was sent.",
                path.display()
            ),
            AppError::Key(_) => "Fix the fee key source; nothing was sent.".into(),
            AppError::Journal(JournalError::Busy { .. }) => {
                "Wait for the submit run to finish, then list the journal again.".into()
            }
            AppError::Submit(submit::SubmitError::Journal(JournalError::Busy { .. })) => {
                "Wait for the other run to finish; nothing was sent by this one.".into()
            }
            AppError::Journal(JournalError::Missing(_)) => {
                "Name the journal file, or a directory a submit run used.".into()
            }
            AppError::Journal(_) => "Check the journal path and its permissions.".into(),
            AppError::Submit(submit::SubmitError::Input(_)) => {
                "Check the paths; nothing was sent.".into()
            }
            AppError::Submit(_) => {
                "Check stdout; the journal has every outcome recorded so far.".into()
            }
            AppError::AccountQuery(account::AccountError::NotFound(..)) => {
                "Fund (create) the account first, or check --network.".into()
            }
            AppError::AccountQuery(_) | AppError::Inspect(_) => {
                "Check --horizon and run again.".into()
            }
            AppError::Sandbox(_) => {
                "Check --listen (a free loopback port), --state and --fault.".into()
            }
            AppError::BadMaxFee => "Pass --max-fee as stroops, for example 10000.".into(),
            AppError::BadJobs => "Pass --jobs 1 (the default) or more.".into(),
            AppError::BadDecodeBudget(_) => "Write --decode-budget as 2s, 10s or 1m.".into(),
            AppError::Merge(crate::merge::MergeCmdError::Merge(_)) => {
                "Every co-signer must sign the same envelope: compare the transaction hashes."
                    .into()
            }
            AppError::Merge(_) => {
                "Check the inputs and --signers files; nothing was written.".into()
            }
            AppError::Qr(_) => {
                "Check the --qr path; the account report is also on stdout with --json.".into()
            }
            AppError::Rehearse(crate::rehearse::RehearseError::DirNotEmpty(_)) => {
                "Pass --dir with a new or empty directory.".into()
            }
            AppError::Rehearse(_) => {
                "This is a bug or a broken install: please report it with the output above.".into()
            }
        }
    }

    pub fn exit_code(&self) -> u8 {
        let transient = |e: &crate::horizon::HorizonError| e.is_transient();
        match self {
            AppError::Connect(ConnectError::Horizon(e)) if transient(e) => 3,
            AppError::AccountQuery(account::AccountError::Horizon(e)) if transient(e) => 3,
            AppError::Inspect(inspect::InspectError::Horizon(e)) if transient(e) => 3,
            _ => 1,
        }
    }
}

fn timeout(shared: &Shared) -> Result<Duration, AppError> {
    Ok(Duration::from_secs(
        airgap::build::parse_duration(&shared.timeout)?.max(1),
    ))
}

fn network(shared: &Shared) -> Result<Option<Network>, AppError> {
    Ok(shared.network.as_deref().map(str::parse).transpose()?)
}

fn connect(shared: &Shared, deadline: Instant) -> Result<online::Online, AppError> {
    let net = network(shared)?;
    let url = online::horizon_url(shared.horizon.as_deref(), net.as_ref())?;
    Ok(online::connect(&url, net.as_ref(), deadline)?)
}

/// `--decode-budget`, for every input read from now on.
fn decode_budget(images: &crate::cli::ImageArgs) -> Result<(), AppError> {
    let seconds = airgap::build::parse_duration(&images.decode_budget)
        .map_err(|_| AppError::BadDecodeBudget(images.decode_budget.clone()))?
        .max(1);
    inputs::set_decode_budget(Duration::from_secs(seconds));
    Ok(())
}

pub fn run(command: Command) -> Result<u8, AppError> {
    match &command {
        Command::Inspect(a) => decode_budget(&a.images)?,
        Command::Submit(a) => decode_budget(&a.images)?,
        Command::Merge(a) => decode_budget(&a.images)?,
        Command::Decode(a) => decode_budget(&a.images)?,
        _ => {}
    }
    match command {
        Command::Account(a) => run_account(a),
        Command::Inspect(a) => run_inspect(a),
        Command::Submit(a) => run_submit(a),
        Command::Journal(a) => run_journal(a),
        Command::Sandbox(a) => crate::sandbox::run(a).map(|()| 0).map_err(AppError::from),
        Command::Rehearse(a) => Ok(crate::rehearse::run(&a.dir)?),
        Command::Merge(a) => Ok(crate::merge::run(&a)?),
        Command::Decode(a) => run_decode(a),
    }
}

/// `decode`: every envelope found, one line each (or JSON); anything unreadable is named on
/// stderr and makes the exit code 1.
fn run_decode(a: crate::cli::DecodeArgs) -> Result<u8, AppError> {
    let given: Option<Network> = a.network.as_deref().map(str::parse).transpose()?;
    let inputs = inputs::read(&a.inputs)?;
    let mut code = 0;
    let mut out = std::io::stdout().lock();
    for blob in &inputs.blobs {
        let env = match &blob.envelope {
            Ok(e) => e,
            Err(e) => {
                eprintln!(
                    "airgap-relay: {}: {}.",
                    blob.input,
                    e.to_string().trim_end_matches('.')
                );
                if a.json {
                    let _ = writeln!(
                        out,
                        "{}",
                        serde_json::json!({"input": blob.input, "error": e.to_string()})
                    );
                }
                code = 1;
                continue;
            }
        };
        let b64 = airgap::envelope::encode(env);
        if !a.json {
            let _ = writeln!(out, "{b64}");
            continue;
        }
        let named = blob.sep7_passphrase.as_ref().map(|p| match p {
            Some(p) => Network::from_passphrase(p),
            None => Network::Pubnet,
        });
        if let (Some(g), Some(n)) = (&given, &named) {
            if g != n {
                eprintln!(
                    "airgap-relay: {}: the SEP-7 URI names {n}, but --network is {g}.",
                    blob.input
                );
                code = 1;
                continue;
            }
        }
        let network = named.or_else(|| given.clone());
        let _ = writeln!(
            out,
            "{}",
            serde_json::json!({
                "input": blob.input,
                "envelope": b64,
                "hash": network.as_ref().map(|n| hex::encode(airgap::envelope::hash(env, n))),
                "network": network.as_ref().map(|n| n.name().to_string()),
                "network_passphrase": network.as_ref().map(|n| n.passphrase().to_string()),
            })
        );
    }
    Ok(code)
}

/// The account report as a QR code: the same JSON `--json` prints, in one code when it fits.
fn write_account_qr(
    path: &std::path::Path,
    report: &account::AccountReport,
) -> Result<(), AppError> {
    use airgap::qr::encode;
    let text = serde_json::to_string(report).unwrap_or_default();
    let qr_failed = |e: &dyn std::fmt::Display| AppError::Qr(e.to_string());
    match encode::single_qr(&text) {
        Ok(code) => {
            let png = encode::render_png(&code).map_err(|e| qr_failed(&e))?;
            airgap::files::write_atomic(path, &png, true).map_err(|e| qr_failed(&e))?;
            eprintln!(
                "airgap-relay: wrote the account as a QR code to {}",
                path.display()
            );
        }
        Err(encode::QrEncodeError::TooLarge { .. }) => {
            let density = encode::QrDensity::Medium;
            let parts = airgap::frames::encode_frames(text.as_bytes(), density)
                .map_err(|e| qr_failed(&e))?;
            let pngs = airgap::frames::frames_png(&parts, density).map_err(|e| qr_failed(&e))?;
            airgap::files::write_dir_atomic(path, true, |dir| {
                for (i, png) in pngs.iter().enumerate() {
                    airgap::files::write_in(dir, &format!("frame-{:03}.png", i + 1), png)?;
                }
                Ok(())
            })
            .map_err(|e| qr_failed(&e))?;
            eprintln!(
                "airgap-relay: the account does not fit one QR code; wrote {} frames into {}",
                pngs.len(),
                path.display()
            );
        }
        Err(e) => return Err(qr_failed(&e)),
    }
    Ok(())
}

fn run_account(a: AccountArgs) -> Result<u8, AppError> {
    let id: AccountId = a.account.parse()?;
    let deadline = Instant::now() + timeout(&a.shared)?;
    let online = connect(&a.shared, deadline)?;
    let report = account::report(&online, &id, deadline)?;
    if let Some(path) = &a.qr {
        write_account_qr(path, &report)?;
    }
    if a.shared.json {
        println!("{}", serde_json::to_string(&report).unwrap_or_default());
    } else {
        print!("{}", report.to_text());
    }
    Ok(0)
}

fn run_inspect(a: InspectArgs) -> Result<u8, AppError> {
    let t = timeout(&a.shared)?;
    let inputs = inputs::read(&a.inputs)?;
    let online = if a.offline {
        None
    } else {
        Some(connect(&a.shared, Instant::now() + t)?)
    };
    let net = match &online {
        Some(o) => o.network.clone(),
        None => network(&a.shared)?.ok_or(NetworkError::Missing)?,
    };
    Ok(inspect::run(
        &inputs,
        &net,
        online.as_ref(),
        t,
        a.shared.json,
    )?)
}

fn run_submit(a: SubmitArgs) -> Result<u8, AppError> {
    let t = timeout(&a.shared)?;
    // Refuse a wrong mix of arguments before anything else; the blobs are read by submit.
    let directory = inputs::directory(&a.inputs)?;
    if a.jobs == 0 {
        return Err(AppError::BadJobs);
    }
    let fee_bump = match (&a.fee_bump_key, a.max_fee) {
        (Some(src), Some(max)) => {
            if max <= 0 {
                return Err(AppError::BadMaxFee);
            }
            Some(submit::FeeBump {
                seed: keysource::load(src)?,
                max_fee: max,
            })
        }
        _ => None,
    };
    let journal = a
        .journal
        .clone()
        .or_else(|| directory.as_ref().map(|d| d.join(inputs::DIR_JOURNAL)));
    let online = connect(&a.shared, Instant::now() + t)?;
    let code = submit::run(
        submit::Options {
            online,
            timeout: t,
            json: a.shared.json,
            fee_bump,
            journal,
            jobs: a.jobs,
        },
        &a.inputs,
    )?;
    Ok(code)
}

fn run_journal(a: JournalArgs) -> Result<u8, AppError> {
    let path = if a.path.is_dir() {
        a.path.join(inputs::DIR_JOURNAL)
    } else {
        a.path.clone()
    };
    let j = Journal::open_read(&path)?;
    for e in j.list()? {
        if a.json {
            println!("{}", serde_json::to_string(&e).unwrap_or_default());
        } else {
            println!(
                "{:<8} {} seq {} attempts {}{} {}",
                e.state.as_str(),
                e.hash,
                e.sequence,
                e.attempts,
                e.ledger.map(|l| format!(" ledger {l}")).unwrap_or_default(),
                e.input
            );
            if let Some(m) = &e.message {
                println!("         {m}");
            }
        }
    }
    Ok(0)
}
