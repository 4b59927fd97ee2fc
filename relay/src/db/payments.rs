//! Payments: what `pay` drains. The row types of `stellar_payments`, the rules of its states,
//! and the transactions that move them, once for both databases (over [`Conn`]).
//!
//! A row leaves `pending` only in the transaction that stores the one envelope that may pay it;
//! every later change names the envelope it replaces and reads the row under its lock (on
//! PostgreSQL `FOR UPDATE`; claims take pending rows `FOR UPDATE SKIP LOCKED`, so workers take
//! different rows; on SQLite the write transaction holds the file), so two workers can never
//! both put an envelope on the network for it.
use super::conn::{write, Conn, Param, Row};
use super::{Amount, DbError};
use serde::Serialize;
use std::fmt;

impl Signed {
    pub(super) fn check(&self) -> Result<(), DbError> {
        // Exactly-once rests on the upper time bound: without one, an envelope could land at
        // any time, and no rebuild would ever be safe.
        if self.max_time == 0 || self.max_time > i64::MAX as u64 {
            return Err(DbError::InvalidRow(format!(
                "envelope {} has no usable upper time bound ({}); every payout envelope needs one",
                self.tx_hash, self.max_time
            )));
        }
        if self.envelope.is_empty() || self.tx_hash.len() != 64 || self.channel.is_empty() {
            return Err(DbError::InvalidRow(format!(
                "envelope {:?} needs its base64, a 64-digit hash and a channel",
                self.tx_hash
            )));
        }
        Ok(())
    }
}

/// What a change of a payment's state finds when it reads the row under its lock.
enum Step {
    Apply,
    AlreadySo,
}

/// `done` by envelope `tx_hash`: only from `sending` on that envelope.
fn step_done(cur: Option<&Payment>, id: &str, tx_hash: &str) -> Result<Step, DbError> {
    let p = cur.ok_or_else(|| DbError::NoSuchPayment(id.into()))?;
    let same = p.tx_hash.as_deref() == Some(tx_hash);
    match p.state {
        PaymentState::Sending | PaymentState::Done if !same => Err(DbError::StaleEnvelope {
            id: id.into(),
            expected: tx_hash.into(),
            stored: p.tx_hash.clone().unwrap_or_default(),
        }),
        PaymentState::Sending => Ok(Step::Apply),
        PaymentState::Done => Ok(Step::AlreadySo),
        state => Err(DbError::WrongState {
            id: id.into(),
            state,
            action: "marked done",
        }),
    }
}

/// `failed`: from `sending` on envelope `tx_hash`, or from `pending` when there is none.
fn step_failed(cur: Option<&Payment>, id: &str, tx_hash: Option<&str>) -> Result<Step, DbError> {
    let p = cur.ok_or_else(|| DbError::NoSuchPayment(id.into()))?;
    let wrong = |state| DbError::WrongState {
        id: id.into(),
        state,
        action: if tx_hash.is_some() {
            "failed on an envelope"
        } else {
            "failed before it has an envelope"
        },
    };
    match (p.state, tx_hash) {
        (PaymentState::Done, _) => Err(wrong(PaymentState::Done)),
        (PaymentState::Pending, None) => Ok(Step::Apply),
        (PaymentState::Failed, h) if p.tx_hash.as_deref() == h => Ok(Step::AlreadySo),
        (PaymentState::Sending, Some(h)) if p.tx_hash.as_deref() == Some(h) => Ok(Step::Apply),
        (PaymentState::Sending | PaymentState::Failed, Some(h)) => Err(DbError::StaleEnvelope {
            id: id.into(),
            expected: h.into(),
            stored: p.tx_hash.clone().unwrap_or_default(),
        }),
        (state, _) => Err(wrong(state)),
    }
}

/// A new envelope: only in place of the one the caller saw expire.
fn step_rebuild(cur: Option<&Payment>, id: &str, old_hash: &str) -> Result<Step, DbError> {
    let p = cur.ok_or_else(|| DbError::NoSuchPayment(id.into()))?;
    match p.state {
        PaymentState::Sending if p.tx_hash.as_deref() == Some(old_hash) => Ok(Step::Apply),
        PaymentState::Sending => Err(DbError::StaleEnvelope {
            id: id.into(),
            expected: old_hash.into(),
            stored: p.tx_hash.clone().unwrap_or_default(),
        }),
        state => Err(DbError::WrongState {
            id: id.into(),
            state,
            action: "rebuilt",
        }),
    }
}

/// Which field of a queued request differs from `new` (for [`DbError::Conflict`]).
fn differing_field(old: &NewPayment, new: &NewPayment) -> Option<&'static str> {
    [
        ("customer", old.customer == new.customer),
        ("destination", old.destination == new.destination),
        ("asset", old.asset == new.asset),
        ("amount", old.amount == new.amount),
        ("memo_type", old.memo_type == new.memo_type),
        ("memo", old.memo == new.memo),
    ]
    .into_iter()
    .find(|(_, same)| !same)
    .map(|(f, _)| f)
}

/// `state` of a row of `stellar_payments`.
///
/// ```text
/// pending ──claim_and_mark──▶ sending ──mark_done──▶ done      (final: never changes)
///    │                         │  ▲
///    │                         │  └─ rebuild (the old envelope can no longer land)
///    └──claim_and_mark(Fail)─▶ failed ◀──mark_failed──┘
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    Pending,
    Sending,
    Done,
    Failed,
}

impl PaymentState {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Pending => "pending",
            PaymentState::Sending => "sending",
            PaymentState::Done => "done",
            PaymentState::Failed => "failed",
        }
    }

    pub(super) fn parse(s: &str) -> Result<PaymentState, String> {
        Ok(match s {
            "pending" => PaymentState::Pending,
            "sending" => PaymentState::Sending,
            "done" => PaymentState::Done,
            "failed" => PaymentState::Failed,
            _ => return Err(format!("unknown state {s:?} in stellar_payments")),
        })
    }
}

impl fmt::Display for PaymentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A payout request as the anchor queues it. Content is stored as given (the anchor may also
/// insert rows with plain SQL); `pay` validates it when it claims the row and fails a malformed
/// one with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct NewPayment {
    /// The anchor's ID: the primary key, and what makes queuing idempotent.
    pub id: String,
    pub customer: Option<String>,
    /// `G…` or `M…`.
    pub destination: String,
    /// `CODE:ISSUER` or `native`.
    pub asset: String,
    /// A decimal string.
    pub amount: String,
    /// `none`, `id`, `text`, `hash` or `return`.
    pub memo_type: String,
    pub memo: Option<String>,
}

/// A row of `stellar_payments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payment {
    #[serde(flatten)]
    pub request: NewPayment,
    pub state: PaymentState,
    /// The hash of the one envelope that may pay this row (from `sending` on).
    pub tx_hash: Option<String>,
    /// That envelope, base64 XDR, exactly as submitted.
    #[serde(skip)]
    pub envelope: Option<String>,
    /// The envelope's upper time bound (Unix seconds): once a closed ledger is past it, the
    /// envelope can never land.
    pub max_time: Option<u64>,
    /// The account whose sequence number the envelope uses (the base account or a channel).
    pub channel: Option<String>,
    /// Which `pay` process claimed it (for the operator).
    pub worker: Option<String>,
    /// The result code, or why a pre-check refused the row.
    pub result: Option<String>,
    /// The ledger of the outcome.
    pub ledger: Option<u32>,
    /// Envelopes built for this row.
    pub attempts: u32,
    pub created_at: String,
    pub updated_at: String,
}

/// A signed envelope for a claimed row, built while the row is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub envelope: String,
    pub tx_hash: String,
    pub max_time: u64,
    pub channel: String,
}

/// What the builder decided for one claimed row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Store this envelope and move the row to `sending`; submit it only after the call returns.
    Send(Signed),
    /// A pre-check refused the row: `failed` with this reason, nothing spent.
    Fail(String),
    /// Leave it `pending` (e.g. the float is too low): another pass takes it.
    Leave,
}

/// What [`Db::claim_and_mark`] did with one row (after its transaction committed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub payment: Payment,
    pub claim: Claim,
}

/// The error of [`Db::claim_and_mark`]: the database's, or the builder's (every row is then left
/// `pending` and nothing built in the call may be submitted).
#[derive(Debug, thiserror::Error)]
pub enum ClaimError<E> {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Build(E),
}

/// What a `mark_*` call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marked {
    Changed,
    /// The row already stood exactly so (another worker decided it the same way).
    AlreadySo,
}

/// Money still to leave the base account for one asset ([`Db::queue_total`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QueueTotal {
    #[serde(serialize_with = "super::deposits::horizon_amount")]
    pub pending: Amount,
    pub pending_rows: u64,
    /// Rows with an envelope out (it may have landed and not yet been marked `done`).
    #[serde(serialize_with = "super::deposits::horizon_amount")]
    pub sending: Amount,
    pub sending_rows: u64,
    /// Rows whose amount is not an amount (they will fail when claimed).
    pub malformed_rows: u64,
}

impl Default for QueueTotal {
    fn default() -> QueueTotal {
        QueueTotal {
            pending: Amount::ZERO,
            pending_rows: 0,
            sending: Amount::ZERO,
            sending_rows: 0,
            malformed_rows: 0,
        }
    }
}

impl QueueTotal {
    fn add(&mut self, state: PaymentState, amount: &str) {
        let Ok(a) = amount.parse::<Amount>() else {
            self.malformed_rows += 1;
            return;
        };
        let sum = |t: Amount| Amount::from_stroops(t.stroops().saturating_add(a.stroops()));
        match state {
            PaymentState::Pending => {
                self.pending = sum(self.pending).unwrap_or(airgap::amount::MAX);
                self.pending_rows += 1;
            }
            PaymentState::Sending => {
                self.sending = sum(self.sending).unwrap_or(airgap::amount::MAX);
                self.sending_rows += 1;
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The transactions

const PAYMENT_COLS: &str = "id, customer, destination, asset, amount, memo_type, memo, state, \
     tx_hash, envelope, max_time, channel, worker, result, ledger, attempts, created_at, updated_at";

fn payment_cols(c: &dyn Conn) -> String {
    let d = c.dialect();
    PAYMENT_COLS
        .replace(
            "created_at,",
            &format!("{},", d.time_text("created_at", true)),
        )
        .replace(
            " updated_at",
            &format!(" {}", d.time_text("updated_at", true)),
        )
}

fn payments(c: &dyn Conn, rows: &[Row]) -> Result<Vec<Payment>, DbError> {
    rows.iter()
        .map(|r| to_payment(r).map_err(|w| c.corrupt(w)))
        .collect()
}

pub(super) fn enqueue(c: &mut dyn Conn, p: &NewPayment) -> Result<Marked, DbError> {
    write(c, |c| {
        let inserted = c.execute(
            "INSERT INTO stellar_payments (id, customer, destination, asset, amount,
                 memo_type, memo)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
            &[
                (&p.id).into(),
                (&p.customer).into(),
                (&p.destination).into(),
                (&p.asset).into(),
                (&p.amount).into(),
                (&p.memo_type).into(),
                (&p.memo).into(),
            ],
        )?;
        if inserted == 1 {
            return Ok(Marked::Changed);
        }
        let old = read_payment(c, &p.id, false)?.ok_or_else(|| {
            super::backend_err(
                c.shown(),
                format!("payment {:?} vanished while queuing it", p.id),
            )
        })?;
        match differing_field(&old.request, p) {
            None => Ok(Marked::AlreadySo),
            Some(field) => Err(DbError::Conflict {
                id: p.id.clone(),
                field,
            }),
        }
    })
}

pub(super) fn claim_and_mark<E>(
    c: &mut dyn Conn,
    n: u32,
    worker: &str,
    mut build: impl FnMut(&Payment) -> Result<Claim, E>,
) -> Result<Vec<Claimed>, ClaimError<E>> {
    write(c, |c| {
        let sql = format!(
            "SELECT {} FROM stellar_payments WHERE state = 'pending'
             ORDER BY created_at, id LIMIT $1{}",
            payment_cols(c),
            c.dialect().skip_locked()
        );
        let rows = c.query(&sql, &[n.into()])?;
        let pending = payments(c, &rows)?;
        let now = c.dialect().now();
        let mut claimed = Vec::with_capacity(pending.len());
        for p in pending {
            let claim = build(&p).map_err(ClaimError::Build)?;
            let payment = match &claim {
                Claim::Send(s) => {
                    s.check()?;
                    update_payment(
                        c,
                        &format!(
                            "UPDATE stellar_payments SET state = 'sending', tx_hash = $2,
                                 envelope = $3, max_time = $4, channel = $5, worker = $6,
                                 attempts = attempts + 1, updated_at = {now}
                             WHERE id = $1 AND state = 'pending'"
                        ),
                        &[
                            (&p.request.id).into(),
                            (&s.tx_hash).into(),
                            (&s.envelope).into(),
                            (s.max_time as i64).into(),
                            (&s.channel).into(),
                            worker.into(),
                        ],
                    )?
                }
                Claim::Fail(reason) => update_payment(
                    c,
                    &format!(
                        "UPDATE stellar_payments SET state = 'failed', result = $2,
                             worker = $3, updated_at = {now}
                         WHERE id = $1 AND state = 'pending'"
                    ),
                    &[(&p.request.id).into(), reason.into(), worker.into()],
                )?,
                Claim::Leave => p,
            };
            claimed.push(Claimed { payment, claim });
        }
        Ok(claimed)
    })
}

pub(super) fn payments_in(c: &mut dyn Conn, state: PaymentState) -> Result<Vec<Payment>, DbError> {
    let sql = format!(
        "SELECT {} FROM stellar_payments WHERE state = $1 ORDER BY created_at, id",
        payment_cols(c)
    );
    let rows = c.query(&sql, &[state.as_str().into()])?;
    payments(c, &rows)
}

pub(super) fn mark_done(
    c: &mut dyn Conn,
    id: &str,
    tx_hash: &str,
    result: &str,
    ledger: u32,
) -> Result<Marked, DbError> {
    write(c, |c| {
        let cur = read_payment(c, id, true)?;
        match step_done(cur.as_ref(), id, tx_hash)? {
            Step::AlreadySo => Ok(Marked::AlreadySo),
            Step::Apply => {
                let sql = format!(
                    "UPDATE stellar_payments SET state = 'done', result = $2, ledger = $3,
                         updated_at = {}
                     WHERE id = $1",
                    c.dialect().now()
                );
                update_payment(c, &sql, &[id.into(), result.into(), ledger.into()])?;
                Ok(Marked::Changed)
            }
        }
    })
}

pub(super) fn mark_failed(
    c: &mut dyn Conn,
    id: &str,
    tx_hash: Option<&str>,
    reason: &str,
    ledger: Option<u32>,
) -> Result<Marked, DbError> {
    write(c, |c| {
        let cur = read_payment(c, id, true)?;
        match step_failed(cur.as_ref(), id, tx_hash)? {
            Step::AlreadySo => Ok(Marked::AlreadySo),
            Step::Apply => {
                let sql = format!(
                    "UPDATE stellar_payments SET state = 'failed', result = $2, ledger = $3,
                         updated_at = {}
                     WHERE id = $1",
                    c.dialect().now()
                );
                update_payment(c, &sql, &[id.into(), reason.into(), ledger.into()])?;
                Ok(Marked::Changed)
            }
        }
    })
}

pub(super) fn rebuild(
    c: &mut dyn Conn,
    id: &str,
    old_hash: &str,
    new: &Signed,
) -> Result<(), DbError> {
    new.check()?;
    write(c, |c| {
        let cur = read_payment(c, id, true)?;
        step_rebuild(cur.as_ref(), id, old_hash)?;
        let sql = format!(
            "UPDATE stellar_payments SET tx_hash = $2, envelope = $3, max_time = $4,
                 channel = $5, attempts = attempts + 1, updated_at = {}
             WHERE id = $1",
            c.dialect().now()
        );
        update_payment(
            c,
            &sql,
            &[
                id.into(),
                (&new.tx_hash).into(),
                (&new.envelope).into(),
                (new.max_time as i64).into(),
                (&new.channel).into(),
            ],
        )?;
        Ok(())
    })
}

pub(super) fn queue_total(c: &mut dyn Conn, asset: &str) -> Result<QueueTotal, DbError> {
    let rows = c.query(
        "SELECT state, amount FROM stellar_payments
         WHERE asset = $1 AND state IN ('pending', 'sending')",
        &[asset.into()],
    )?;
    let mut total = QueueTotal::default();
    for r in &rows {
        let read = || -> Result<(PaymentState, String), String> {
            Ok((PaymentState::parse(&r.text(0)?)?, r.text(1)?))
        };
        let (state, amount) = read().map_err(|w| c.corrupt(w))?;
        total.add(state, &amount);
    }
    Ok(total)
}

/// A payment by id; `for_update` locks its row (PostgreSQL).
pub(super) fn read_payment(
    c: &mut dyn Conn,
    id: &str,
    for_update: bool,
) -> Result<Option<Payment>, DbError> {
    let lock = if for_update {
        c.dialect().for_update()
    } else {
        ""
    };
    let sql = format!(
        "SELECT {} FROM stellar_payments WHERE id = $1{lock}",
        payment_cols(c)
    );
    let row = c.query_opt(&sql, &[Param::Text(id)])?;
    row.map(|r| to_payment(&r).map_err(|w| c.corrupt(w)))
        .transpose()
}

/// Run an `UPDATE` that must change exactly one row, and read the row back.
fn update_payment(c: &mut dyn Conn, sql: &str, params: &[Param<'_>]) -> Result<Payment, DbError> {
    let sql = format!("{sql} RETURNING {}", payment_cols(c));
    let row = c.query_opt(&sql, params)?.ok_or_else(|| {
        super::backend_err(c.shown(), "an update found no row to change".to_string())
    })?;
    to_payment(&row).map_err(|w| c.corrupt(w))
}

fn to_payment(r: &Row) -> Result<Payment, String> {
    Ok(Payment {
        request: NewPayment {
            id: r.text(0)?,
            customer: r.opt_text(1)?,
            destination: r.text(2)?,
            asset: r.text(3)?,
            amount: r.text(4)?,
            memo_type: r.text(5)?,
            memo: r.opt_text(6)?,
        },
        state: PaymentState::parse(&r.text(7)?)?,
        tx_hash: r.opt_text(8)?,
        envelope: r.opt_text(9)?,
        max_time: r
            .opt_int(10)?
            .map(|t| u64::try_from(t).map_err(|_| format!("max_time {t}")))
            .transpose()?,
        channel: r.opt_text(11)?,
        worker: r.opt_text(12)?,
        result: r.opt_text(13)?,
        ledger: r.opt_u32(14)?,
        attempts: r.u32(15)?,
        created_at: r.text(16)?,
        updated_at: r.text(17)?,
    })
}
