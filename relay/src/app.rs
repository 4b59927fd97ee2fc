//! From parsed arguments to work: resolve options, run the command, return the exit code.
use crate::cli::{AccountArgs, Command, InspectArgs, JournalArgs, Shared, SubmitArgs};
use crate::keysource::{self, KeySourceError};
use airgap::account::{AccountId, AccountIdError};
use airgap::network::{Network, NetworkError};
use airgap_relay::horizon::Horizon;
use airgap_relay::inputs::{self, InputError};
use airgap_relay::journal::{Journal, JournalError};
use airgap_relay::online::{self, ConnectError};
use airgap_relay::{account, inspect, rehearse, submit};
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
    Sandbox(#[from] airgap_sandbox::SandboxError),
    #[error("cannot write to stdout: {0}")]
    Stdout(std::io::Error),
    #[error(transparent)]
    Rehearse(#[from] rehearse::RehearseError),
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
    #[error(transparent)]
    Watch(#[from] airgap_relay::watch::WatchError),
    #[error(transparent)]
    Db(#[from] airgap_relay::db::DbError),
    #[error("--asset {given}: {source}")]
    Asset {
        given: String,
        source: airgap::asset::AssetError,
    },
    #[error("cannot catch SIGINT and SIGTERM: {0}")]
    Signals(std::io::Error),
    #[error(transparent)]
    Pay(#[from] crate::paycmd::PayCmdError),
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
            AppError::AccountQuery(account::AccountError::Net(e)) if e.is_transient() => {
                "Check the URL and your connection, then run the same command again.".into()
            }
            AppError::AccountQuery(_) | AppError::Inspect(_) => {
                "Check --horizon (or --rpc) and run again.".into()
            }
            AppError::Sandbox(_) | AppError::Stdout(_) => {
                "Check --listen (a free loopback port), --state and --fault.".into()
            }
            AppError::BadMaxFee => "Pass --max-fee as stroops, for example 10000.".into(),
            AppError::BadJobs => "Pass --jobs 1 (the default) or more.".into(),
            AppError::BadDecodeBudget(_) => "Write --decode-budget as 2s, 10s or 1m.".into(),
            AppError::Merge(crate::merge::MergeCmdError::Merge(
                airgap::merge::MergeError::Unattributed(_),
            )) => "Pass --horizon URL (or --rpc URL) so the relay reads the accounts' signer sets (or --signers FILE, from `airgap-relay account G… --json`), or leave out the copy that carries it; nothing was written.".into(),
            AppError::Merge(crate::merge::MergeCmdError::Merge(_)) => {
                "Every co-signer must sign the same envelope: compare the transaction hashes."
                    .into()
            }
            AppError::Merge(crate::merge::MergeCmdError::Connect(e)) => e.remedy().into(),
            AppError::Merge(crate::merge::MergeCmdError::Server { .. }) => {
                "Check --horizon (or --rpc) and run again; nothing was written.".into()
            }
            AppError::Merge(_) => {
                "Check the inputs and --signers files; nothing was written.".into()
            }
            AppError::Qr(_) => {
                "Check the --qr path; the account report is also on stdout with --json.".into()
            }
            AppError::Rehearse(rehearse::RehearseError::DirNotEmpty(_)) => {
                "Pass --dir with a new or empty directory.".into()
            }
            AppError::Rehearse(_) => {
                "This is a bug or a broken install: please report it with the output above.".into()
            }
            AppError::Watch(e) => watch_remedy(e),
            AppError::Db(airgap_relay::db::DbError::TooNew { .. }) => {
                "Run the newer airgap-relay that migrated this database.".into()
            }
            AppError::Db(airgap_relay::db::DbError::BadTarget(_)) => {
                "Pass --db with a file path (SQLite) or a postgres:// URL (or set DATABASE_URL)."
                    .into()
            }
            AppError::Db(_) => {
                "Check that the database is up and the URL or path is right, then run the same command again; nothing was recorded.".into()
            }
            AppError::Asset { .. } => "Write --asset as CODE:ISSUER or native.".into(),
            AppError::Signals(_) => "This is a bug or a broken install: please report it.".into(),
            AppError::Pay(e) => e.remedy(),
        }
    }

    /// Print the failure as every `airgap-relay` failure is printed, and return its exit code:
    /// `airgap-relay: <what failed>.` on one line, the remedy on the next, indented by two spaces.
    pub fn report(&self) -> u8 {
        let what = self.to_string();
        eprintln!(
            "airgap-relay: {}.\n  {}",
            what.trim_end_matches('.'),
            self.remedy()
        );
        self.exit_code()
    }

    pub fn exit_code(&self) -> u8 {
        let transient = |e: &airgap_relay::horizon::HorizonError| e.is_transient();
        match self {
            AppError::Connect(e) if e.is_transient() => 3,
            AppError::AccountQuery(account::AccountError::Net(e)) if e.is_transient() => 3,
            AppError::Inspect(inspect::InspectError::Horizon(e)) if transient(e) => 3,
            AppError::Merge(crate::merge::MergeCmdError::Connect(e)) if e.is_transient() => 3,
            AppError::Merge(crate::merge::MergeCmdError::Server { source, .. })
                if source.is_transient() =>
            {
                3
            }
            AppError::Db(
                airgap_relay::db::DbError::Open { .. } | airgap_relay::db::DbError::Backend { .. },
            ) => 3,
            AppError::Watch(airgap_relay::watch::WatchError::Db(
                airgap_relay::db::DbError::Open { .. } | airgap_relay::db::DbError::Backend { .. },
            )) => 3,
            AppError::Pay(e) => e.exit_code(),
            _ => 1,
        }
    }
}

fn watch_remedy(e: &airgap_relay::watch::WatchError) -> String {
    use airgap_relay::watch::WatchError;
    match e {
        WatchError::Gap { from, to, .. } => format!(
            "Point --horizon or --rpc at a server that still has ledgers {from}..={to} (a full-history Horizon), or pass --accept-gap to record the gap as a row of its own and go on (then reconcile those ledgers from another source); nothing was recorded."
        ),
        WatchError::NetworkMismatch { .. } => {
            "Point the watcher at a server of the intended network, or correct --network; nothing was recorded.".into()
        }
        WatchError::Db(_) => {
            "Check that the database is up, then run the same command again: it resumes from the stored cursor.".into()
        }
        WatchError::Server(_) => {
            "Check that --horizon or --rpc points at a Horizon or Stellar RPC server; the stored cursor is where it was, so running again loses nothing.".into()
        }
        _ => "Run the same command again: it resumes from the stored cursor.".into(),
    }
}

/// A command line clap refused (unknown option, typo, missing argument) exits 1, like any input
/// refused before anything is sent; clap's own 2 would read as "failed on the network". `--help`
/// and `--version` print to stdout and exit 0.
pub fn usage(e: &clap::Error) -> u8 {
    // clap's message names the mistake, suggests the likely spelling and ends with the remedy
    // ("For more information, try '--help'").
    let _ = e.print();
    if e.use_stderr() {
        1
    } else {
        0
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

/// The server (`--horizon` or `--rpc`) through the network-client trait, its network checked.
fn connect_net(
    shared: &Shared,
    rpc: Option<&str>,
    deadline: Instant,
) -> Result<online::NetOnline, AppError> {
    let net = network(shared)?;
    let (horizon, rpc) = one_server(shared.horizon.as_deref(), rpc)?;
    let backend = online::Backend::choose(horizon, rpc, net.as_ref())?;
    Ok(online::connect_net(&backend, net.as_ref(), deadline)?)
}

/// `--horizon` and `--rpc` as given: one server. A value from the environment (`HORIZON_URL`,
/// `STELLAR_RPC_URL`) gives way to the other given on the command line; two on the command line
/// (or two from the environment) are refused.
pub fn one_server<'a>(
    horizon: Option<&'a str>,
    rpc: Option<&'a str>,
) -> Result<(Option<&'a str>, Option<&'a str>), online::ConnectError> {
    let from_env = |v: &str, var: &str| std::env::var(var).is_ok_and(|e| e == v);
    match (horizon, rpc) {
        (Some(h), Some(r)) => match (from_env(h, "HORIZON_URL"), from_env(r, "STELLAR_RPC_URL")) {
            (true, false) => Ok((None, Some(r))),
            (false, true) => Ok((Some(h), None)),
            _ => Err(online::ConnectError::TwoServers),
        },
        given => Ok(given),
    }
}

/// `--asset` values (CODE:ISSUER or native).
fn assets(given: &[String]) -> Result<Vec<airgap::asset::Asset>, AppError> {
    given
        .iter()
        .map(|g| {
            g.parse().map_err(|source| AppError::Asset {
                given: airgap::text::escape_bytes(g.as_bytes()),
                source,
            })
        })
        .collect()
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
        Command::Sandbox(a) => run_sandbox(a),
        Command::Rehearse(a) => Ok(rehearse::run(&a.dir)?),
        Command::Merge(a) => Ok(crate::merge::run(&a)?),
        Command::Decode(a) => run_decode(a),
        Command::Watch(a) => run_watch(a),
        Command::Pay(a) => Ok(crate::paycmd::run_pay(*a)?),
        Command::Float(a) => Ok(crate::paycmd::run_float(a)?),
    }
}

/// `watch`: record until a signal (exit 0) or a refusal (exit 1).
fn run_watch(a: crate::cli::WatchArgs) -> Result<u8, AppError> {
    use airgap_relay::watch;
    let network: Option<Network> = a.network.as_deref().map(str::parse).transpose()?;
    let mut accounts: Vec<AccountId> = Vec::new();
    for text in &a.accounts {
        let id: AccountId = text.parse()?;
        if !accounts.contains(&id) {
            accounts.push(id);
        }
    }
    let mut assets: Vec<airgap::asset::Asset> = Vec::new();
    for text in &a.assets {
        let asset = text.parse().map_err(|source| AppError::Asset {
            given: airgap::text::escape_bytes(text.as_bytes()),
            source,
        })?;
        if !assets.contains(&asset) {
            assets.push(asset);
        }
    }
    let target = airgap_relay::db::Target::parse(&a.db)?;
    let backend = match (a.horizon, a.rpc) {
        (Some(h), _) => watch::Backend::Horizon(h),
        (None, Some(r)) => watch::Backend::Rpc(r),
        (None, None) => unreachable!("clap requires --horizon or --rpc"),
    };
    let opts = watch::Options {
        rules: watch::classify::Rules::new(&accounts, &assets),
        accounts,
        assets,
        from: if a.from == "oldest" {
            watch::From::Oldest
        } else {
            watch::From::Now
        },
        accept_gap: a.accept_gap,
        network,
    };
    let stop = watch::stop_on_signals().map_err(AppError::Signals)?;
    let json = a.json;
    let mut stdout = std::io::stdout();
    let result = watch::run(&backend, &target, &opts, stop, |r| {
        let line = if json {
            serde_json::to_string(r).unwrap_or_default()
        } else {
            watch::row_line(r)
        };
        // A closed stdout must not stop the recording: the database is the interface.
        let _ = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
    });
    match result {
        Ok(()) | Err(watch::WatchError::Stopped) => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// `sandbox`: serve until killed; the first line on stdout says where.
fn run_sandbox(a: crate::cli::SandboxArgs) -> Result<u8, AppError> {
    let handle = airgap_sandbox::start(airgap_sandbox::SandboxConfig {
        listen: a.listen,
        state: a.state,
        faults: a.fault.unwrap_or_default(),
        rpc_faults: a.rpc_fault.unwrap_or_default(),
        close_every: a.close_every.0,
        retain_ledgers: a.retain_ledgers,
        txsub_timeout: a.txsub_timeout.0,
        stream_timeout: a.stream_timeout.0,
    })?;
    // Both lines in one write: a reader that takes the first line and closes the pipe must not
    // make the second one fail.
    let lines = format!(
        "listening on {}\nstellar rpc on {}\n",
        handle.url(),
        handle.rpc_url()
    );
    let mut out = std::io::stdout().lock();
    out.write_all(lines.as_bytes())
        .and_then(|()| out.flush())
        .map_err(AppError::Stdout)?;
    drop(out);
    eprintln!(
        "airgap-relay sandbox: rehearsal ledger, NOT a validator; network passphrase {:?}",
        airgap_sandbox::PASSPHRASE
    );
    handle.wait();
    Ok(0)
}

/// `decode`: every envelope found, one line each (or JSON); anything unreadable, or not the
/// `--expect-hash` blob, is named on stderr, left out, and makes the exit code 1.
fn run_decode(a: crate::cli::DecodeArgs) -> Result<u8, AppError> {
    let given: Option<Network> = a.network.as_deref().map(str::parse).transpose()?;
    let expect = &a.expect.expect_hash;
    let inputs = inputs::read(&a.inputs)?;
    let mut code = 0;
    let mut out = std::io::stdout().lock();
    let refuse = |input: &str, why: &str| {
        eprintln!("airgap-relay: {input}: {}.", why.trim_end_matches('.'));
    };
    for blob in &inputs.blobs {
        let env = match &blob.envelope {
            Ok(e) => e,
            Err(e) => {
                refuse(&blob.input, &e.to_string());
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
        let named = blob.sep7_passphrase.as_ref().map(|p| match p {
            Some(p) => Network::from_passphrase(p),
            None => Network::Pubnet,
        });
        if let (Some(g), Some(n)) = (&given, &named) {
            if g != n {
                refuse(
                    &blob.input,
                    &format!("the SEP-7 URI names {n}, but --network is {g}"),
                );
                code = 1;
                continue;
            }
        }
        let network = named.or_else(|| given.clone());
        let hash = network
            .as_ref()
            .map(|n| hex::encode(airgap::envelope::hash(env, n)));
        let refused = match (&hash, &network) {
            (Some(h), Some(n)) => airgap_relay::expect::refusal(expect, h)
                .or_else(|| inputs::claimed_hash_refusal(blob, n)),
            _ if !expect.is_empty() => {
                Some("--expect-hash needs --network: the hash depends on the network".to_string())
            }
            _ => None,
        };
        if let Some(why) = refused {
            refuse(&blob.input, &why);
            code = 1;
            continue;
        }
        let b64 = airgap::envelope::encode(env);
        if !a.json {
            let _ = writeln!(out, "{b64}");
            continue;
        }
        let _ = writeln!(
            out,
            "{}",
            serde_json::json!({
                "input": blob.input,
                "envelope": b64,
                "hash": hash,
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
            let frames = airgap::frames::write_frames_dir(
                path,
                text.as_bytes(),
                encode::QrDensity::Medium,
                true,
            )
            .map_err(|e| qr_failed(&e))?;
            eprintln!(
                "airgap-relay: the account does not fit one QR code; wrote {frames} frames into {}",
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
    let assets = assets(&a.assets)?;
    let online = connect_net(&a.shared, a.rpc.as_deref(), deadline)?;
    let lines = match online.backend {
        online::Backend::Horizon(_) => account::Lines::All,
        online::Backend::Rpc(_) => account::Lines::Asked,
    };
    let report = account::report(
        online.net.as_ref(),
        &online.network,
        lines,
        &id,
        &assets,
        deadline,
    )?;
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
    let (_, rpc_url) = one_server(a.shared.horizon.as_deref(), a.rpc.as_deref())?;
    let (online, rpc) = match (rpc_url, a.offline) {
        (_, true) => (None, None),
        (Some(url), false) => {
            // The network through the trait (getNetwork), then the client the preflight reads.
            let checked = connect_net(&a.shared, Some(url), Instant::now() + t)?;
            let rpc = airgap_relay::rpc::Rpc::new(url)
                .map_err(|e| online::ConnectError::Net(e.into()))?;
            (None, Some((rpc, checked.network)))
        }
        (None, false) => (Some(connect(&a.shared, Instant::now() + t)?), None),
    };
    let net = match (&online, &rpc) {
        (Some(o), _) => o.network.clone(),
        (None, Some((_, n))) => n.clone(),
        (None, None) => network(&a.shared)?.ok_or(NetworkError::Missing)?,
    };
    let server = match (&online, &rpc) {
        (Some(o), _) => Some(inspect::Server::Horizon(o)),
        (None, Some((r, _))) => Some(inspect::Server::Rpc(r)),
        (None, None) => None,
    };
    let opts = inspect::Options {
        online: server,
        timeout: t,
        json: a.shared.json,
        expect: &a.expect.expect_hash,
    };
    Ok(inspect::run(&inputs, &net, &opts)?)
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
                seed: keysource::load(src, None)?,
                max_fee: max,
            })
        }
        _ => None,
    };
    let journal = a
        .journal
        .clone()
        .or_else(|| directory.as_ref().map(|d| d.join(inputs::DIR_JOURNAL)));
    // One server (--horizon or --rpc), its network checked, through the network-client trait;
    // the blobs go out through the same server's own client.
    let online = connect_net(&a.shared, a.rpc.as_deref(), Instant::now() + t)?;
    let server = match &online.backend {
        online::Backend::Horizon(url) => {
            submit::Server::Horizon(Horizon::new(url).map_err(ConnectError::Horizon)?)
        }
        online::Backend::Rpc(url) => submit::Server::Rpc(
            airgap_relay::rpc::Rpc::new(url).map_err(|e| ConnectError::Net(e.into()))?,
        ),
    };
    let code = submit::run(
        submit::Options {
            net: online.net,
            server,
            network: online.network,
            timeout: t,
            json: a.shared.json,
            fee_bump,
            journal,
            jobs: a.jobs,
            wait: a.wait,
            expect: a.expect.expect_hash,
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
