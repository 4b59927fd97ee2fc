//! `airgap-relay pay`: drain `stellar_payments`, paying each row exactly once.
//!
//! Each channel account (or the base account, without channels) is one lane: a thread that
//! claims a row, builds and signs its payment with the lane's next sequence number, stores
//! envelope, hash and upper time bound with the move to `sending` in one database transaction
//! ([`Db::claim_and_mark`]), and only then submits it, until a ledger decides it. One envelope
//! per lane is out at a time, so a lane's sequence numbers never race each other.
//!
//! A `sending` row is resolved by its hash, never by waiting blindly: in a ledger → `done` or
//! `failed` with the ledger's result; not in a ledger and the last closed ledger closed after
//! the envelope's upper time bound → a new envelope ([`Db::rebuild`], which refuses if the row
//! no longer stands on the old one); otherwise the same bytes are sent again. At start, every
//! `sending` row is resolved this way before its lane builds anything new.
//!
//! The network is behind [`net::Net`] (Horizon or Stellar RPC).
pub mod float;
pub use crate::net;
pub mod row;
mod wake;

use crate::db::{Claim, ClaimError, Db, DbError, Marked, Payment, PaymentState, Signed, Target};
use crate::online::backoff;
use crate::progress::say;
use airgap::account::AccountId;
use airgap::amount::Amount;
use airgap::keys::SecretSeed;
use airgap::network::Network;
use net::{Net, NetError, Outcome, Sent};
use row::{Channel, Payout, Signing};
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How many pending rows one claim looks at (one is paid; malformed and refused ones are failed
/// on the way; those the float holds back are left).
const CLAIM_ROWS: u32 = 64;

/// What `pay` is told.
pub struct Options {
    pub network: Option<Network>,
    pub base: SecretSeed,
    /// Channel accounts; none: the base account is the only lane.
    pub channels: Vec<SecretSeed>,
    /// The fee of each transaction (one payment), in stroops.
    pub fee: u32,
    /// How long an envelope is valid (its upper time bound: now + this).
    pub tx_timeout: Duration,
    /// Pay every pending row, wait for the outcomes, return.
    pub once: bool,
    /// Leave a row pending while paying it would take the base account below this.
    pub float_min: Option<Amount>,
    /// How often an idle lane looks at the queue again.
    pub poll: Duration,
    /// Who claims (the `worker` column).
    pub worker: String,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PayError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("--network says {given}, but the server at {url} serves {served}")]
    NetworkMismatch {
        given: String,
        served: String,
        url: String,
    },
    #[error("{0}")]
    Server(String),
    #[error("stopped before the server answered")]
    Stopped,
    #[error("a lane failed: {0}")]
    Lane(String),
}

/// What a run decided.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub done: u64,
    pub failed: u64,
    /// Rows still `pending` (e.g. held back by the float) or `sending` at the end of `--once`.
    pub left: u64,
}

impl Summary {
    /// As `submit`'s: 0 all paid, 2 some failed, 3 some not decided (safe to run again).
    pub fn exit_code(&self) -> u8 {
        if self.failed > 0 {
            2
        } else if self.left > 0 {
            3
        } else {
            0
        }
    }
}

/// Shared by the lanes.
struct Ctx<'a> {
    net: &'a dyn Net,
    target: &'a Target,
    opts: &'a Options,
    network: Network,
    stop: &'a AtomicBool,
    out: &'a (dyn Fn(&Payment) + Sync),
    summary: Mutex<Summary>,
    /// Claims happen one at a time in this process, so the float sees every claim before it.
    claiming: Mutex<()>,
    /// Rows the float holds back that were already mentioned.
    said_float: Mutex<HashSet<String>>,
    /// Rung when a row is queued (PostgreSQL NOTIFY), so idle lanes look before their poll.
    wake: wake::Wake,
}

/// Run until the queue is drained (`--once`) or `stop` is set. `out` sees each row this run
/// decided, once, after the decision committed.
pub fn run(
    net: &dyn Net,
    target: &Target,
    opts: &Options,
    stop: Arc<AtomicBool>,
    out: &(dyn Fn(&Payment) + Sync),
) -> Result<Summary, PayError> {
    let mut db = Db::open(target)?;
    let _lock = db.pay_lock()?;
    let served = patiently(net.url(), &stop, || net.passphrase())?;
    let network = match &opts.network {
        Some(n) if n.passphrase() != served => {
            return Err(PayError::NetworkMismatch {
                given: n.to_string(),
                served: Network::from_passphrase(&served).to_string(),
                url: net.url().to_string(),
            })
        }
        Some(n) => n.clone(),
        None => Network::from_passphrase(&served),
    };
    let lanes: Vec<Channel> = if opts.channels.is_empty() {
        vec![lane_of(&opts.base)]
    } else {
        opts.channels.iter().map(lane_of).collect()
    };
    // Every row left `sending` (by a run that died, or by another worker) goes to a lane: its
    // own channel's if that is one of ours, else spread over ours.
    let mut inherited: BTreeMap<usize, Vec<Payment>> = BTreeMap::new();
    for (i, p) in db.sending_rows()?.into_iter().enumerate() {
        let own = lanes
            .iter()
            .position(|l| p.channel.as_deref() == Some(&l.id.to_string()));
        inherited
            .entry(own.unwrap_or(i % lanes.len()))
            .or_default()
            .push(p);
    }
    drop(db);
    let ctx = Ctx {
        net,
        target,
        opts,
        network,
        stop: &stop,
        out,
        summary: Mutex::new(Summary::default()),
        claiming: Mutex::new(()),
        said_float: Mutex::new(HashSet::new()),
        wake: wake::Wake::default(),
    };
    // Continuous runs on PostgreSQL listen before any lane looks at the queue.
    let listener = if opts.once { None } else { wake::start(&ctx) };
    let lanes_done = AtomicBool::new(false);
    let results: Vec<Result<(), PayError>> = std::thread::scope(|s| {
        if let Some(l) = listener {
            let (ctx, done) = (&ctx, &lanes_done);
            s.spawn(move || wake::listen(ctx, l, done));
        }
        let handles: Vec<_> = lanes
            .iter()
            .enumerate()
            .map(|(i, lane)| {
                let rows = inherited.remove(&i).unwrap_or_default();
                let ctx = &ctx;
                s.spawn(move || lane_loop(ctx, lane, rows))
            })
            .collect();
        let results = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(PayError::Lane("a lane panicked".into())))
            })
            .collect();
        lanes_done.store(true, Ordering::SeqCst);
        results
    });
    for r in results {
        r?;
    }
    let mut summary = *ctx.summary.lock().unwrap_or_else(|e| e.into_inner());
    if opts.once {
        let mut db = Db::open(target)?;
        summary.left = (db.payments_in(PaymentState::Pending)?.len()
            + db.payments_in(PaymentState::Sending)?.len()) as u64;
    }
    Ok(summary)
}

fn lane_of(seed: &SecretSeed) -> Channel {
    Channel {
        seed: SecretSeed::from_bytes(zeroize::Zeroizing::new(*seed.bytes())),
        id: seed.public_key(),
    }
}

/// One lane: resolve what it inherited, then claim and pay until the queue is empty (`--once`)
/// or stopped.
fn lane_loop(ctx: &Ctx<'_>, lane: &Channel, inherited: Vec<Payment>) -> Result<(), PayError> {
    let mut db = Db::open(ctx.target)?;
    let mut seq: Option<i64> = None;
    for p in inherited {
        if ctx.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        drive(ctx, &mut db, lane, &mut seq, p)?;
    }
    let mut idle_attempt = 0u32;
    loop {
        if ctx.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let seen = ctx.wake.seen();
        match claim(ctx, &mut db, lane, &mut seq) {
            Ok(Took::Send(p)) => {
                idle_attempt = 0;
                drive(ctx, &mut db, lane, &mut seq, *p)?;
            }
            Ok(Took::FailedOnly) => idle_attempt = 0,
            Ok(Took::Nothing) if ctx.opts.once => return Ok(()),
            Ok(Took::Nothing) => {
                if ctx.wake.sleep(seen, ctx.opts.poll, ctx.stop) {
                    return Ok(());
                }
            }
            Err(e) => {
                say(format!("{}: {e}; trying again", lane.id.short()));
                seq = None;
                if sleep_unless_stopped(backoff(idle_attempt), ctx.stop) {
                    return Ok(());
                }
                idle_attempt += 1;
                if let Ok(fresh) = Db::open(ctx.target) {
                    db = fresh;
                }
            }
        }
    }
}

/// What a claim needs to know before it holds the rows.
struct Before {
    next_seq: i64,
    /// Per asset: what the base account may still pay before the float's minimum.
    room: Option<float::Room>,
}

/// Claim pending rows: the first that passes every check is signed and moved to `sending`
/// (and returned); malformed and refused rows on the way are `failed`; rows the float holds
/// back stay `pending`.
fn claim(
    ctx: &Ctx<'_>,
    db: &mut Db,
    lane: &Channel,
    seq: &mut Option<i64>,
) -> Result<Took, String> {
    let _one_claim_at_a_time = ctx.claiming.lock().unwrap_or_else(|e| e.into_inner());
    let next_seq = match *seq {
        Some(s) => s + 1,
        None => {
            let acct = ctx
                .net
                .account(&lane.id, &[])
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("the channel account {} does not exist", lane.id))?;
            let s = acct
                .sequence()
                .ok_or_else(|| format!("{}'s sequence is not a number", lane.id))?;
            *seq = Some(s);
            s + 1
        }
    };
    let before = Before {
        next_seq,
        room: match ctx.opts.float_min {
            None => None,
            Some(min) => Some(float_room(ctx, db, min)?),
        },
    };
    let signing = Signing {
        network: &ctx.network,
        base: &ctx.opts.base,
        fee: ctx.opts.fee,
    };
    let mut sent = false;
    let claimed = db.claim_and_mark(
        CLAIM_ROWS,
        &ctx.opts.worker,
        |p| -> Result<Claim, NetError> {
            if sent {
                return Ok(Claim::Leave);
            }
            let payout = match row::parse(p) {
                Ok(x) => x,
                Err(why) => return Ok(Claim::Fail(why)),
            };
            let dest = ctx.net.account(
                &payout.destination.account,
                std::slice::from_ref(&payout.asset),
            )?;
            if let Err(why) = row::precheck(&payout, dest.as_ref()) {
                return Ok(Claim::Fail(why));
            }
            if let Some(room) = &before.room {
                let left = room.left(ctx.net, &payout.asset)?;
                if i128::from(payout.amount.stroops()) > left {
                    let mut said = ctx.said_float.lock().unwrap_or_else(|e| e.into_inner());
                    if said.insert(p.request.id.clone()) {
                        say(format!(
                            "{} waits: paying {} {} would take the base account below --float-min",
                            p.request.id,
                            payout.amount.to_horizon_string(),
                            p.request.asset
                        ));
                    }
                    return Ok(Claim::Leave);
                }
            }
            let signed = row::sign(
                &signing,
                &payout,
                lane,
                before.next_seq,
                max_time(ctx.opts.tx_timeout),
            )
            .map_err(NetError)?;
            sent = true;
            Ok(Claim::Send(signed))
        },
    );
    let claimed = match claimed {
        Ok(c) => c,
        Err(ClaimError::Db(e)) => return Err(e.to_string()),
        Err(ClaimError::Build(e)) => return Err(e.to_string()),
    };
    let mut took = Took::Nothing;
    for c in claimed {
        match c.claim {
            Claim::Send(_) => took = Took::Send(Box::new(c.payment)),
            Claim::Fail(_) => {
                decided(ctx, &c.payment);
                if matches!(took, Took::Nothing) {
                    took = Took::FailedOnly;
                }
            }
            Claim::Leave => {}
        }
    }
    Ok(took)
}

/// What one claim took.
enum Took {
    /// This row is `sending` with our envelope: submit it.
    Send(Box<Payment>),
    /// Rows were failed by the checks, none sent: claim again at once.
    FailedOnly,
    /// Nothing to pay now (the queue is empty, or the float holds back what is left).
    Nothing,
}

/// What the base account may still pay per asset ([`float::Room`]), read for one claim.
fn float_room(ctx: &Ctx<'_>, db: &mut Db, min: Amount) -> Result<float::Room, String> {
    let base = ctx.opts.base.public_key();
    let mut sending: BTreeMap<String, i128> = BTreeMap::new();
    for p in db
        .payments_in(PaymentState::Sending)
        .map_err(|e| e.to_string())?
    {
        if let Ok(a) = p.request.amount.trim().parse::<Amount>() {
            *sending
                .entry(canonical_asset(&p.request.asset))
                .or_default() += i128::from(a.stroops());
        }
    }
    let acct = ctx
        .net
        .account(&base, &[])
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the base account {base} does not exist"))?;
    Ok(float::Room::new(base, sending, min, &acct))
}

fn canonical_asset(text: &str) -> String {
    text.parse::<airgap::asset::Asset>()
        .map(|a| row::asset_text(&a))
        .unwrap_or_else(|_| text.to_string())
}

fn max_time(timeout: Duration) -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + timeout.as_secs().max(1)
}

/// Count and show a decided row.
fn decided(ctx: &Ctx<'_>, p: &Payment) {
    {
        let mut s = ctx.summary.lock().unwrap_or_else(|e| e.into_inner());
        match p.state {
            PaymentState::Done => s.done += 1,
            PaymentState::Failed => s.failed += 1,
            _ => {}
        }
    }
    (ctx.out)(p);
}

/// Take a `sending` row to its outcome: send its envelope (the same bytes every time) and look
/// it up by hash until a ledger decides it; rebuild it only once it can no longer land.
/// Returns when the row is decided (by us or another worker) or `stop` is set.
fn drive(
    ctx: &Ctx<'_>,
    db: &mut Db,
    lane: &Channel,
    seq: &mut Option<i64>,
    mut p: Payment,
) -> Result<(), PayError> {
    let mut attempt = 0u32;
    let mut said: Option<Instant> = None;
    loop {
        if ctx.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let (Some(env), Some(hash), Some(max)) =
            (p.envelope.clone(), p.tx_hash.clone(), p.max_time)
        else {
            return Err(PayError::Lane(format!(
                "{} is sending without an envelope",
                p.request.id
            )));
        };
        // The last closed ledger's close time is read BEFORE the look-up: if it is past the
        // bound and the look-up (which then sees every ledger up to it) does not find the
        // envelope, the envelope can never land. Read the other way round, it could land in a
        // ledger between the look-up and a later ledger that passed the bound.
        let expired = matches!(ctx.net.last_close_time(), Ok(closed) if closed > max);
        // Already in a ledger (sent by a run that died, or by another worker)?
        let found = match ctx.net.outcome(&hash) {
            Ok(o) => o,
            Err(e) if e.is_permanent() => return Err(PayError::Server(e.to_string())),
            // Not known: neither send nor rebuild on a guess; ask again.
            Err(e) => {
                note(
                    &mut said,
                    format!("{}: {e}; looking it up again", p.request.id),
                );
                if sleep_unless_stopped(backoff(attempt).min(Duration::from_secs(5)), ctx.stop) {
                    return Ok(());
                }
                attempt += 1;
                continue;
            }
        };
        let outcome = match found {
            Some(o) => Some(o),
            None if expired => {
                match rebuilt(ctx, db, lane, seq, &p)? {
                    Some(next) => p = next,
                    None => return Ok(()),
                }
                attempt = 0;
                continue;
            }
            None => match ctx.net.send(&env, &hash) {
                Sent::Landed(o) => Some(o),
                Sent::Rejected(code) => {
                    // Not in a ledger; the lane's sequence may have moved.
                    *seq = None;
                    note(&mut said, format!("{}: {code} for {hash}", p.request.id));
                    None
                }
                Sent::Unknown(why) => {
                    note(&mut said, format!("{}: {why}; looking it up", p.request.id));
                    None
                }
            },
        };
        if let Some(o) = outcome {
            if p.channel.as_deref() == Some(&lane.id.to_string()) {
                *seq = row::sequence_of(&env).or(*seq);
            }
            return settle(ctx, db, &p, &hash, &o);
        }
        if sleep_unless_stopped(
            backoff(attempt).clamp(Duration::from_millis(250), Duration::from_secs(5)),
            ctx.stop,
        ) {
            return Ok(());
        }
        attempt += 1;
    }
}

/// Say something about a row at most every few seconds.
fn note(said: &mut Option<Instant>, msg: String) {
    if said.is_none_or(|t| t.elapsed() >= Duration::from_secs(3)) {
        say(msg);
        *said = Some(Instant::now());
    }
}

/// Record a ledger's outcome for the row's envelope `hash`.
fn settle(
    ctx: &Ctx<'_>,
    db: &mut Db,
    p: &Payment,
    hash: &str,
    o: &Outcome,
) -> Result<(), PayError> {
    let id = p.request.id.as_str();
    let marked = patient(ctx, db, |db| {
        if o.successful {
            db.mark_done(id, hash, &o.code, o.ledger)
        } else {
            db.mark_failed(id, Some(hash), &o.code, Some(o.ledger))
        }
    })?;
    match marked {
        // Another worker decided it the same way first, or it moved on: not ours to show.
        None | Some(Err(_)) | Some(Ok(Marked::AlreadySo)) => Ok(()),
        Some(Ok(Marked::Changed)) => {
            if let Some(Ok(Some(row))) = patient(ctx, db, |db| db.payment(id))? {
                decided(ctx, &row);
            }
            Ok(())
        }
    }
}

/// A new envelope for a row whose envelope can no longer land. `None` if another worker got
/// there first (its envelope stands; ours is thrown away unsent) or we were stopped.
fn rebuilt(
    ctx: &Ctx<'_>,
    db: &mut Db,
    lane: &Channel,
    seq: &mut Option<i64>,
    p: &Payment,
) -> Result<Option<Payment>, PayError> {
    let old = p.tx_hash.clone().unwrap_or_default();
    let payout: Payout = match row::parse(p) {
        Ok(x) => x,
        Err(why) => return Err(PayError::Lane(format!("{}: {why}", p.request.id))),
    };
    let current = patiently(ctx.net.url(), ctx.stop, || {
        ctx.net.account(&lane.id, &[]).and_then(|a| {
            a.and_then(|a| a.sequence())
                .ok_or_else(|| NetError(format!("no sequence for {}", lane.id)))
        })
    });
    let current = match current {
        Ok(s) => s,
        Err(PayError::Stopped) => return Ok(None),
        Err(e) => return Err(e),
    };
    *seq = Some(current);
    let signing = Signing {
        network: &ctx.network,
        base: &ctx.opts.base,
        fee: ctx.opts.fee,
    };
    let new: Signed = row::sign(
        &signing,
        &payout,
        lane,
        current + 1,
        max_time(ctx.opts.tx_timeout),
    )
    .map_err(PayError::Lane)?;
    say(format!(
        "{}: its envelope {old} expired unused; building a new one ({})",
        p.request.id, new.tx_hash
    ));
    let id = p.request.id.as_str();
    match patient(ctx, db, |db| db.rebuild(id, &old, &new))? {
        Some(Ok(())) => Ok(patient(ctx, db, |db| db.payment(id))?
            .and_then(Result::ok)
            .flatten()),
        // Stale or decided: someone else's envelope stands.
        Some(Err(_)) | None => Ok(None),
    }
}

/// Run a database call until it answers: a failing database is retried (with a fresh
/// connection), an answer that refuses the change (`StaleEnvelope`, `WrongState`) is returned as
/// `Some(Err)`. `None` when stopped first.
#[allow(clippy::type_complexity)]
fn patient<T>(
    ctx: &Ctx<'_>,
    db: &mut Db,
    mut f: impl FnMut(&mut Db) -> Result<T, DbError>,
) -> Result<Option<Result<T, DbError>>, PayError> {
    let mut attempt = 0u32;
    let mut said: Option<Instant> = None;
    loop {
        match f(db) {
            Ok(v) => return Ok(Some(Ok(v))),
            Err(e @ (DbError::Open { .. } | DbError::Backend { .. })) => {
                note(
                    &mut said,
                    format!("the database failed ({e}); trying again"),
                );
                if sleep_unless_stopped(backoff(attempt), ctx.stop) {
                    return Ok(None);
                }
                attempt += 1;
                if let Ok(fresh) = Db::open(ctx.target) {
                    *db = fresh;
                }
            }
            Err(e @ DbError::InvalidRow(_)) => return Err(e.into()),
            Err(e) => return Ok(Some(Err(e))),
        }
    }
}

/// Sleep `d` in short steps; true if `stop` was set meanwhile.
pub fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) -> bool {
    crate::watch::sleep_unless_stopped(d, stop)
}

/// Ask the server until it answers or `stop` is set.
fn patiently<T>(
    url: &str,
    stop: &AtomicBool,
    mut f: impl FnMut() -> Result<T, NetError>,
) -> Result<T, PayError> {
    let mut attempt = 0u32;
    let mut said: Option<Instant> = None;
    loop {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) if e.is_permanent() => return Err(PayError::Server(e.to_string())),
            Err(e) => {
                if attempt >= 1 {
                    note(
                        &mut said,
                        format!("{url}: {e}; still trying (Ctrl-C stops)"),
                    );
                }
                if sleep_unless_stopped(backoff(attempt), stop) {
                    return Err(PayError::Stopped);
                }
                attempt += 1;
            }
        }
    }
}

/// A decided row as one line for people (untrusted text escaped).
pub fn row_line(p: &Payment) -> String {
    let esc = |s: &str| airgap::text::escape_bytes(s.as_bytes());
    match p.state {
        PaymentState::Done => format!(
            "paid {}: {} {} to {} in ledger {} (transaction {})",
            esc(&p.request.id),
            esc(&p.request.amount),
            esc(&p.request.asset),
            esc(&p.request.destination),
            p.ledger.unwrap_or_default(),
            p.tx_hash.as_deref().unwrap_or("-")
        ),
        _ => format!(
            "failed {}: {}",
            esc(&p.request.id),
            esc(p.result.as_deref().unwrap_or("-"))
        ),
    }
}

/// The account a key source's seed is for (for messages).
pub fn account_of(seed: &SecretSeed) -> AccountId {
    seed.public_key()
}
