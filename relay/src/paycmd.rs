//! `pay`, `pay enqueue` and `float` at the CLI edge: arguments into options, keys from their
//! sources, rows to stdout, errors with remedies (`airgap_relay::pay` does the work).
use crate::cli::{EnqueueArgs, FloatArgs, PayArgs, PaySub};
use crate::keysource::{self, KeySourceError};
use airgap::account::AccountId;
use airgap::amount::Amount;
use airgap::network::Network;
use airgap_relay::db::{self, Db, DbError, Marked, NewPayment, Target};
use airgap_relay::net::{HorizonNet, Net, RpcNet};
use airgap_relay::pay::{self, float, PayError};
use std::io::Write as _;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PayCmdError {
    #[error("{flag}: {source}")]
    Key {
        flag: &'static str,
        source: KeySourceError,
    },
    #[error("{flag} {given}: {why}")]
    Option {
        flag: &'static str,
        given: String,
        why: String,
    },
    #[error(transparent)]
    Pay(#[from] PayError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Csv(#[from] db::csv::CsvError),
    #[error(transparent)]
    Float(#[from] float::FloatError),
    #[error(transparent)]
    Write(#[from] airgap::files::FileError),
    #[error("cannot catch SIGINT and SIGTERM: {0}")]
    Signals(std::io::Error),
    #[error("{0}")]
    Server(String),
}

impl PayCmdError {
    pub fn remedy(&self) -> String {
        match self {
            PayCmdError::Key {
                source: KeySourceError::NoPassphrase { .. },
                ..
            } => "Name the variable that holds its passphrase: keystore:PATH?passphrase-env=VAR, or --passphrase-env VAR; nothing was paid.".into(),
            PayCmdError::Key {
                source:
                    KeySourceError::Keystore {
                        source: airgap::keys::keystore::KeystoreError::WrongPassphrase,
                        ..
                    },
                ..
            } => "Check the passphrase in its variable (and that the file is the keystore you sealed); nothing was paid.".into(),
            PayCmdError::Key {
                source: KeySourceError::Keystore { .. },
                ..
            } => "Give a keystore written by airgap-signer keys generate (docs/keystore.md); nothing was paid.".into(),
            PayCmdError::Key {
                source:
                    KeySourceError::Source(airgap::keys::source::SourceError::Exposed { path, .. }),
                ..
            } => format!(
                "Run chmod 600 {} if only you could have read it; otherwise treat the key as compromised. Nothing was paid.",
                path.display()
            ),
            PayCmdError::Key { .. } => {
                "Give the key as env:VARIABLE, file:PATH (a file only you can read) or keystore:PATH?passphrase-env=VAR; nothing was paid.".into()
            }
            PayCmdError::Option { .. } => "Correct the option; nothing was paid.".into(),
            PayCmdError::Pay(PayError::Db(DbError::PayRunning { .. })) => {
                "Let the running one drain the queue (or stop it first); use PostgreSQL for several workers.".into()
            }
            PayCmdError::Pay(PayError::NetworkMismatch { .. }) => {
                "Point --horizon or --rpc at a server of the intended network, or correct --network; nothing was paid.".into()
            }
            PayCmdError::Pay(_) => {
                "Run the same command again: every sending row is resolved by its hash first, so nothing is paid twice.".into()
            }
            PayCmdError::Db(DbError::Conflict { .. }) => {
                "Give the payout a new id, or queue exactly what is queued under this one.".into()
            }
            PayCmdError::Db(_) => {
                "Check that the database is up and the URL or path is right, then run the same command again.".into()
            }
            PayCmdError::Csv(_) => "Fix the CSV; nothing was queued.".into(),
            PayCmdError::Float(_) | PayCmdError::Server(_) => {
                "Check --account, --asset and --horizon (or --rpc); nothing was written.".into()
            }
            PayCmdError::Write(_) => "Pass --force to replace the plan file, or another --out.".into(),
            PayCmdError::Signals(_) => "This is a bug or a broken install: please report it.".into(),
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            PayCmdError::Pay(PayError::Db(DbError::Open { .. } | DbError::Backend { .. }))
            | PayCmdError::Db(DbError::Open { .. } | DbError::Backend { .. }) => 3,
            _ => 1,
        }
    }
}

fn option(flag: &'static str, given: &str, why: impl ToString) -> PayCmdError {
    PayCmdError::Option {
        flag,
        given: airgap::text::escape_bytes(given.as_bytes()),
        why: why.to_string(),
    }
}

fn network(text: Option<&str>) -> Result<Option<Network>, PayCmdError> {
    text.map(|n| n.parse().map_err(|e| option("--network", n, e)))
        .transpose()
}

fn duration(flag: &'static str, text: &str) -> Result<Duration, PayCmdError> {
    airgap::build::parse_duration(text)
        .map(Duration::from_secs)
        .map_err(|e| option(flag, text, e))
}

pub fn run_pay(a: PayArgs) -> Result<u8, PayCmdError> {
    if let Some(PaySub::Enqueue(e)) = a.sub {
        return run_enqueue(e);
    }
    let target = Target::parse(a.db.as_deref().unwrap_or_default())?;
    let network = network(a.network.as_deref())?;
    let fee = u32::try_from(a.max_fee)
        .ok()
        .filter(|f| *f >= 100)
        .ok_or_else(|| {
            option(
                "--max-fee",
                &a.max_fee.to_string(),
                "give at least 100 stroops",
            )
        })?;
    let tx_timeout = duration("--tx-timeout", &a.tx_timeout)?;
    if tx_timeout < Duration::from_secs(5) {
        return Err(option("--tx-timeout", &a.tx_timeout, "give at least 5s"));
    }
    let poll = duration("--poll", &a.poll)?.max(Duration::from_secs(1));
    let float_min = a
        .float_min
        .as_deref()
        .map(|t| t.parse::<Amount>().map_err(|e| option("--float-min", t, e)))
        .transpose()?;
    let pass_env = a.passphrase_env.as_deref();
    let base =
        keysource::load(a.source.as_deref().unwrap_or_default(), pass_env).map_err(|source| {
            PayCmdError::Key {
                flag: "--source",
                source,
            }
        })?;
    let mut channels = Vec::new();
    let mut seen: Vec<AccountId> = vec![base.public_key()];
    for c in &a.channels {
        let seed = keysource::load(c, pass_env).map_err(|source| PayCmdError::Key {
            flag: "--channel",
            source,
        })?;
        let id = seed.public_key();
        if seen.contains(&id) {
            return Err(option(
                "--channel",
                &id.to_string(),
                "given twice, or the base account itself",
            ));
        }
        seen.push(id);
        channels.push(seed);
    }
    let net: Box<dyn Net> = match (&a.horizon, &a.rpc) {
        (Some(h), _) => Box::new(HorizonNet::new(h).map_err(|e| option("--horizon", h, e))?),
        (None, Some(r)) => Box::new(RpcNet::new(r).map_err(|e| option("--rpc", r, e))?),
        (None, None) => return Err(option("--horizon", "", "give --horizon URL or --rpc URL")),
    };
    let opts = pay::Options {
        network,
        base,
        channels,
        fee,
        tx_timeout,
        once: a.once,
        float_min,
        poll,
        worker: format!("pay-{}", std::process::id()),
    };
    let stop = airgap_relay::watch::stop_on_signals().map_err(PayCmdError::Signals)?;
    let json = a.json;
    let stdout = std::sync::Mutex::new(std::io::stdout());
    let out = move |p: &db::Payment| {
        if json {
            let line = serde_json::to_string(p).unwrap_or_default();
            let mut o = stdout.lock().unwrap_or_else(|e| e.into_inner());
            // A closed stdout must not stop the payouts: the database is the interface.
            let _ = writeln!(o, "{line}").and_then(|()| o.flush());
        } else {
            airgap_relay::progress::say(pay::row_line(p));
        }
    };
    let summary = pay::run(net.as_ref(), &target, &opts, stop, &out)?;
    if a.once {
        airgap_relay::progress::say(format!(
            "{} paid, {} failed, {} left in the queue",
            summary.done, summary.failed, summary.left
        ));
        Ok(summary.exit_code())
    } else {
        Ok(0)
    }
}

fn run_enqueue(e: EnqueueArgs) -> Result<u8, PayCmdError> {
    let target = Target::parse(&e.db)?;
    let rows = if e.csv {
        db::csv::parse_payments(std::io::stdin().lock())?
    } else {
        vec![NewPayment {
            id: e.id.unwrap_or_default(),
            customer: e.customer,
            destination: e.destination.unwrap_or_default(),
            asset: e.asset.unwrap_or_default(),
            amount: e.amount.unwrap_or_default(),
            memo_type: e.memo_type,
            memo: e.memo,
        }]
    };
    let mut db = Db::open(&target)?;
    let (mut queued, mut again) = (0, 0);
    for r in &rows {
        match db.enqueue(r)? {
            Marked::Changed => queued += 1,
            Marked::AlreadySo => again += 1,
        }
    }
    airgap_relay::progress::say(format!(
        "{queued} payouts queued{}",
        if again > 0 {
            format!(", {again} already queued as they are")
        } else {
            String::new()
        }
    ));
    Ok(0)
}

pub fn run_float(a: FloatArgs) -> Result<u8, PayCmdError> {
    let base: AccountId = a
        .account
        .parse()
        .map_err(|e| option("--account", &a.account, e))?;
    let asset: airgap::asset::Asset = a
        .asset
        .parse()
        .map_err(|e| option("--asset", &a.asset, e))?;
    let target: Amount = a
        .target
        .parse()
        .map_err(|e| option("--target", &a.target, e))?;
    let net: Box<dyn Net> = match (&a.horizon, &a.rpc) {
        (Some(h), _) => Box::new(HorizonNet::new(h).map_err(|e| option("--horizon", h, e))?),
        (None, Some(r)) => Box::new(RpcNet::new(r).map_err(|e| option("--rpc", r, e))?),
        (None, None) => return Err(option("--horizon", "", "give --horizon URL or --rpc URL")),
    };
    let url = net.url().to_string();
    let served = net
        .passphrase()
        .map_err(|e| PayCmdError::Server(e.to_string()))?;
    let network = match network(a.network.as_deref())? {
        Some(n) if n.passphrase() != served => {
            return Err(PayCmdError::Pay(PayError::NetworkMismatch {
                given: n.to_string(),
                served: Network::from_passphrase(&served).to_string(),
                url,
            }))
        }
        Some(n) => n,
        None => Network::from_passphrase(&served),
    };
    let queued = match &a.db {
        None => Amount::ZERO,
        Some(d) => {
            let t = Db::open(&Target::parse(d)?)?.queue_total(&pay::row::asset_text(&asset))?;
            Amount::from_stroops(t.pending.stroops().saturating_add(t.sending.stroops()))
                .unwrap_or(airgap::amount::MAX)
        }
    };
    let need = float::need(net.as_ref(), &base, &asset, target, queued)?;
    airgap_relay::progress::say(format!(
        "{base} holds {}; the queue has {} to pay; target {}",
        need.balance.to_horizon_string(),
        need.queued.to_horizon_string(),
        target.to_horizon_string()
    ));
    if need.send == Amount::ZERO {
        airgap_relay::progress::say("nothing to send: no plan written");
        return Ok(0);
    }
    let plan = float::plan(net.as_ref(), &network, &base, &asset, need.send)?;
    let text = serde_json::to_string_pretty(&plan).unwrap_or_default();
    airgap::files::write_atomic(&a.out, format!("{text}\n").as_bytes(), a.force)?;
    airgap_relay::progress::say(format!(
        "wrote {}: {} {} from the issuer to {base}; sign it with airgap-signer plan",
        a.out.display(),
        need.send.to_horizon_string(),
        a.asset
    ));
    Ok(0)
}
