//! The relay's database: what `watch` records and what `pay` drains, on SQLite (a file, the
//! embedded default) or PostgreSQL (a `postgres://` URL), behind one handle, [`Db`].
//!
//! The database is the anchor's interface, so the tables are plain and documented
//! (`docs/watch.md`, `docs/payouts.md`) and created by versioned migrations ([`schema`]). The
//! handle offers typed, high-level operations, not SQL: each is **one database transaction**, so
//! a crash at any instant leaves either all of it or none of it.
//!
//! - Deposits ([`Db::record_batch`], [`Db::record_gap`], [`Db::cursor`], [`Db::deposits`]): rows
//!   and the stream's cursor move together; the unique key (`tx_hash`, `op_index`) makes a
//!   deposit seen twice one row; a cursor never moves backwards.
//! - Payments ([`Db::enqueue`], [`Db::claim_and_mark`], [`Db::sending_rows`], [`Db::mark_done`],
//!   [`Db::mark_failed`], [`Db::rebuild`], [`Db::queue_total`]): a row leaves `pending` only in
//!   the transaction that stores the one envelope that may pay it; every later change names the
//!   envelope it replaces, so two workers can never both put an envelope on the network for it.
//!
//! SQLite runs in WAL mode with `synchronous=FULL`: a commit is on disk before the call
//! returns. `NORMAL` would survive a killed process but not a power cut, and a `sending` row lost
//! to a power cut after its envelope went out is a payment made twice. PostgreSQL keeps its own
//! durability settings (`synchronous_commit=on` by default).
use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};

pub mod csv;
mod postgres;
pub mod schema;
mod sqlite;

/// A throwaway PostgreSQL server for tests (this crate's and the root `tests/`).
#[doc(hidden)]
pub mod testing;

pub use airgap::amount::Amount;

/// How long a SQLite writer waits for another (the watcher and `pay` may share one file).
pub const SQLITE_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// `--db` names neither a file nor a PostgreSQL URL.
    #[error("{0} is not a database: give a file path (SQLite) or a postgres:// URL")]
    BadTarget(String),
    #[error("the database {db} cannot be opened: {message}")]
    Open { db: String, message: String },
    #[error("the database {db} failed: {message}")]
    Backend { db: String, message: String },
    /// The database was migrated by a newer airgap-relay.
    #[error("the database {db} is at schema version {found}; this airgap-relay knows versions up to {known}")]
    TooNew { db: String, found: i64, known: i64 },
    /// A row the caller built is not one the tables may hold (a bug in the caller).
    #[error("refused to record a deposit row: {0}")]
    InvalidRow(String),
    #[error("payment {id:?} is already queued with a different {field}")]
    Conflict { id: String, field: &'static str },
    #[error("payment {0:?} is not in the queue")]
    NoSuchPayment(String),
    #[error("payment {id:?} is {state}, so it cannot be {action}")]
    WrongState {
        id: String,
        state: PaymentState,
        action: &'static str,
    },
    /// The row's envelope is no longer the one the caller holds: another worker rebuilt or
    /// decided it. The caller's envelope must never be submitted.
    #[error("payment {id:?} now stands on transaction {stored}, not {expected}")]
    StaleEnvelope {
        id: String,
        expected: String,
        stored: String,
    },
    /// On SQLite one `pay` process at a time.
    #[error("another airgap-relay pay is already running on {db}{}", pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    PayRunning { db: String, pid: Option<u32> },
}

/// Where the database is: parsed from `--db` or `DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    Sqlite(PathBuf),
    /// The URL as given (with any password); show it only through [`Target`]'s `Display`.
    Postgres(String),
}

impl Target {
    /// A `postgres://` or `postgresql://` URL is PostgreSQL; `sqlite:PATH` or `sqlite://PATH`,
    /// or anything without `://`, is a SQLite file. Any other scheme is refused rather than
    /// taken for a file name.
    pub fn parse(text: &str) -> Result<Target, DbError> {
        let lower = text.get(..13).unwrap_or(text).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(Target::Postgres(text.to_string()));
        }
        let path = if lower.starts_with("sqlite://") {
            &text[9..]
        } else if lower.starts_with("sqlite:") {
            &text[7..]
        } else if text.contains("://") || looks_like_keywords(text) {
            return Err(DbError::BadTarget(redact(text)));
        } else {
            text
        };
        if path.is_empty() {
            return Err(DbError::BadTarget(redact(text)));
        }
        Ok(Target::Sqlite(PathBuf::from(path)))
    }

    /// `DATABASE_URL`, if set and not empty.
    pub fn from_env() -> Option<Result<Target, DbError>> {
        std::env::var("DATABASE_URL")
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| Target::parse(&v))
    }
}

/// Never a password: `postgres://u:secret@h/db` shows as `postgres://u:***@h/db`.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Sqlite(p) => write!(f, "{}", p.display()),
            Target::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({self})")
    }
}

/// libpq's `host=… user=… password=…` form, which only a URL may replace here: never a file
/// name (nor shown, since it may hold a password).
fn looks_like_keywords(text: &str) -> bool {
    let t = text.trim_start().to_ascii_lowercase();
    ["host=", "hostaddr=", "dbname=", "user=", "port="]
        .iter()
        .any(|k| t.starts_with(k))
        || t.contains(" password=")
}

/// A URL with its password (in the authority or a `password=` parameter) replaced by `***`.
pub fn redact(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| rest_start + i);
        // The last '@' of the authority ends the user information (a password may hold '@').
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(rest_start + colon + 1..rest_start + at, "***");
            }
        }
    }
    if !out.contains("://") {
        // libpq's keyword form: `password=VALUE` up to the next space.
        return out
            .split(' ')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ");
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let query = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect::<Vec<_>>()
            .join("&");
        out = format!("{head}{query}");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Deposits

/// Which of the watcher's backends a cursor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Horizon,
    Rpc,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Horizon => "horizon",
            Source::Rpc => "rpc",
        }
    }

    fn parse(s: &str) -> Result<Source, String> {
        match s {
            "horizon" => Ok(Source::Horizon),
            "rpc" => Ok(Source::Rpc),
            _ => Err(format!("unknown backend {s:?} in stellar_cursor")),
        }
    }
}

/// Where one watched stream stands: a row of `stellar_cursor`.
///
/// The key is (`account`, `stream`) and does not name the backend, so a watcher that switches
/// from Horizon to RPC (or back) finds the ledger the other stood at and resumes from there;
/// the unique key of `stellar_deposits` absorbs the overlap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cursor {
    /// The watched account (`G…`).
    pub account: String,
    /// The stream's name, e.g. `payments`.
    pub stream: String,
    pub source: Source,
    /// The backend's own cursor: a Horizon paging token, an RPC `getEvents` cursor.
    pub cursor: String,
    /// The ledger the stream has been read through.
    pub ledger: u32,
}

impl Cursor {
    /// True if moving the stored cursor `stored` to `self` would move it backwards: an earlier
    /// ledger, or (on the same backend and ledger) an earlier cursor. Horizon's paging tokens
    /// are decimal numbers and RPC's are zero-padded, so both compare as numbers where they are
    /// all digits and as text otherwise.
    pub fn is_behind(&self, stored: &Cursor) -> bool {
        if self.ledger != stored.ledger {
            return self.ledger < stored.ledger;
        }
        self.source == stored.source
            && cursor_order(&self.cursor, &stored.cursor) == std::cmp::Ordering::Less
    }
}

fn cursor_order(a: &str, b: &str) -> std::cmp::Ordering {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if digits(a) && digits(b) {
        let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    } else {
        a.cmp(b)
    }
}

/// `status` of a deposit row (`gap` rows are [`Gap`]s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// An accepted asset from an outside account, with a customer.
    Deposit,
    /// An accepted asset without a memo or muxed ID: for the operator, never dropped.
    Unattributed,
    /// An asset not accepted (native included unless listed): recorded so it can be refunded.
    Unaccepted,
    /// From a watched account or an accepted asset's issuer: float top-ups, not customer money.
    Internal,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Deposit => "deposit",
            Status::Unattributed => "unattributed",
            Status::Unaccepted => "unaccepted",
            Status::Internal => "internal",
        }
    }

    fn parse(s: &str) -> Result<Status, String> {
        Ok(match s {
            "deposit" => Status::Deposit,
            "unattributed" => Status::Unattributed,
            "unaccepted" => Status::Unaccepted,
            "internal" => Status::Internal,
            _ => return Err(format!("unknown status {s:?} in stellar_deposits")),
        })
    }
}

/// `kind`: the operation (or event) that credited the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Payment,
    /// Either path payment; the amount is what the account received.
    PathPayment,
    CreateAccount,
    AccountMerge,
    /// A payment to the issuing account, which burns the asset.
    Burn,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Payment => "payment",
            Kind::PathPayment => "path_payment",
            Kind::CreateAccount => "create_account",
            Kind::AccountMerge => "account_merge",
            Kind::Burn => "burn",
        }
    }

    fn parse(s: &str) -> Result<Kind, String> {
        Ok(match s {
            "payment" => Kind::Payment,
            "path_payment" => Kind::PathPayment,
            "create_account" => Kind::CreateAccount,
            "account_merge" => Kind::AccountMerge,
            "burn" => Kind::Burn,
            _ => return Err(format!("unknown kind {s:?} in stellar_deposits")),
        })
    }
}

/// `memo_type`, in Horizon's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemoType {
    None,
    Id,
    Text,
    Hash,
    Return,
}

impl MemoType {
    pub fn as_str(self) -> &'static str {
        match self {
            MemoType::None => "none",
            MemoType::Id => "id",
            MemoType::Text => "text",
            MemoType::Hash => "hash",
            MemoType::Return => "return",
        }
    }

    fn parse(s: &str) -> Result<MemoType, String> {
        Ok(match s {
            "none" => MemoType::None,
            "id" => MemoType::Id,
            "text" => MemoType::Text,
            "hash" => MemoType::Hash,
            "return" => MemoType::Return,
            _ => return Err(format!("unknown memo_type {s:?}")),
        })
    }
}

/// One credit to a watched account, as the watcher found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deposit {
    /// The hash the ledger records (for a fee bump, the outer one), lowercase hex.
    pub tx_hash: String,
    /// The operation's 0-based index in its transaction.
    pub op_index: u32,
    pub ledger: u32,
    /// The ledger's close time, RFC 3339 in UTC (`2024-05-01T12:00:00Z`).
    pub closed_at: String,
    /// The watched account credited (`G…`).
    pub account: String,
    pub sender: String,
    /// The muxed ID of an `M…` destination, else the memo (ID as decimal, text as given,
    /// hash/return as hex); `None` without either.
    pub customer: Option<String>,
    pub memo_type: MemoType,
    /// `CODE:ISSUER` or `native` (or, over RPC, the contract of a token that is neither).
    pub asset: String,
    /// Stored as Horizon writes it, with 7 decimal places.
    #[serde(serialize_with = "horizon_amount")]
    pub amount: Amount,
    pub kind: Kind,
    pub status: Status,
}

fn horizon_amount<S: serde::Serializer>(a: &Amount, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&a.to_horizon_string())
}

/// A range of ledgers the watcher could not read (the server no longer had them) and the
/// operator chose to pass over with `--accept-gap`: a row of its own in `stellar_deposits`,
/// `status = 'gap'`, `ledger` .. `ledger_to` inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub account: String,
    pub from_ledger: u32,
    pub to_ledger: u32,
}

/// What a row of `stellar_deposits` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Entry {
    Deposit(Deposit),
    Gap(Gap),
}

/// A row of `stellar_deposits` as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recorded {
    /// Increases with every row, in commit order: an anchor pages on `id > last_seen`.
    pub id: i64,
    /// When the row was recorded (UTC, RFC 3339 with milliseconds).
    pub recorded_at: String,
    #[serde(flatten)]
    pub entry: Entry,
}

/// What [`Db::record_batch`] did.
#[derive(Debug, Default)]
pub struct Batch {
    /// The rows this call recorded, in the order given (each deposit is new exactly once).
    pub new: Vec<Recorded>,
    /// Rows already recorded (by an earlier run, the other backend, another watcher).
    pub duplicates: usize,
    /// Cursors left where they were because the stored one was already further on
    /// (another watcher got there first); the stored positions.
    pub held: Vec<Cursor>,
}

impl Deposit {
    fn check(&self) -> Result<(), DbError> {
        let bad = |why: String| Err(DbError::InvalidRow(why));
        if self.tx_hash.len() != 64
            || !self
                .tx_hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return bad(format!(
                "tx_hash {:?} is not 64 lowercase hex digits",
                self.tx_hash
            ));
        }
        if self.account.is_empty() || self.sender.is_empty() || self.asset.is_empty() {
            return bad(format!(
                "{}:{} has an empty account, sender or asset",
                self.tx_hash, self.op_index
            ));
        }
        match (self.status, &self.customer) {
            (Status::Deposit, None) => bad(format!(
                "{}:{} is a deposit without a customer",
                self.tx_hash, self.op_index
            )),
            (Status::Unattributed, Some(_)) => bad(format!(
                "{}:{} is unattributed but names a customer",
                self.tx_hash, self.op_index
            )),
            _ => Ok(()),
        }?;
        let canonical = time::OffsetDateTime::parse(
            &self.closed_at,
            &time::format_description::well_known::Rfc3339,
        )
        .ok()
        .and_then(|t| closed_at_from_unix(t.unix_timestamp()));
        if canonical.as_deref() != Some(self.closed_at.as_str()) {
            return bad(format!(
                "closed_at {:?} is not a UTC time as Horizon writes it (2024-05-01T12:00:00Z)",
                self.closed_at
            ));
        }
        Ok(())
    }
}

/// A ledger close time (Unix seconds, as RPC gives it) as Horizon writes it and `closed_at`
/// holds it: `2024-05-01T12:00:00Z`.
pub fn closed_at_from_unix(secs: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(secs).ok()?;
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&f).ok()
}

impl Signed {
    fn check(&self) -> Result<(), DbError> {
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

/// A database error with the database named, its password never.
fn backend_err(db: &str, e: impl fmt::Display) -> DbError {
    DbError::Backend {
        db: db.to_string(),
        message: e.to_string(),
    }
}

/// A stored value that does not fit its type (a row edited by hand into nonsense).
fn corrupt(db: &str, what: impl fmt::Display) -> DbError {
    DbError::Backend {
        db: db.to_string(),
        message: format!("a stored value is not valid: {what}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Payments

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

    fn parse(s: &str) -> Result<PaymentState, String> {
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
    #[serde(serialize_with = "horizon_amount")]
    pub pending: Amount,
    pub pending_rows: u64,
    /// Rows with an envelope out (it may have landed and not yet been marked `done`).
    #[serde(serialize_with = "horizon_amount")]
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
// The handle

enum Backend {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Pg),
}

/// One connection to the relay's database, migrated to the current schema.
///
/// Every method is one transaction. A `Db` is one connection: give each thread its own.
pub struct Db {
    backend: Backend,
    target: Target,
}

macro_rules! each {
    ($self:ident, $b:ident => $e:expr) => {
        match &mut $self.backend {
            Backend::Sqlite($b) => $e,
            Backend::Postgres($b) => $e,
        }
    };
}

impl Db {
    /// Connect (creating a SQLite file if needed) and migrate to the current schema.
    pub fn open(target: &Target) -> Result<Db, DbError> {
        let backend = match target {
            Target::Sqlite(path) => Backend::Sqlite(sqlite::Sqlite::open(path)?),
            Target::Postgres(url) => Backend::Postgres(postgres::Pg::connect(url)?),
        };
        let mut db = Db {
            backend,
            target: target.clone(),
        };
        each!(db, b => b.migrate())?;
        Ok(db)
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The schema version the database stands at.
    pub fn schema_version(&mut self) -> Result<i64, DbError> {
        each!(self, b => b.schema_version())
    }

    // -- deposits --

    /// Record `rows` and move `cursors` forward, in one transaction.
    ///
    /// A row already recorded (same `tx_hash`, `op_index`) is left as it is and counted in
    /// [`Batch::duplicates`]; [`Batch::new`] holds each row this call recorded, so a caller
    /// printing them prints every deposit once. A cursor is never moved backwards: a stored
    /// cursor further on stays and is returned in [`Batch::held`]. With several accounts read
    /// through one RPC `getEvents` filter, pass one cursor per account.
    pub fn record_batch(&mut self, cursors: &[Cursor], rows: &[Deposit]) -> Result<Batch, DbError> {
        for r in rows {
            r.check()?;
        }
        each!(self, b => b.record_batch(cursors, rows))
    }

    /// Record that `gap.from_ledger ..= gap.to_ledger` were never read, and move `cursor` (where
    /// the stream goes on after the gap), in one transaction. If the stored cursor already
    /// stands at or past `to_ledger` (another watcher passed the gap), nothing changes and
    /// `None` is returned; a gap is recorded once.
    pub fn record_gap(&mut self, cursor: &Cursor, gap: &Gap) -> Result<Option<Recorded>, DbError> {
        if gap.from_ledger > gap.to_ledger || gap.account != cursor.account {
            return Err(DbError::InvalidRow(format!(
                "a gap of {}..={} on {} does not fit the cursor of {}",
                gap.from_ledger, gap.to_ledger, gap.account, cursor.account
            )));
        }
        each!(self, b => b.record_gap(cursor, gap))
    }

    /// The stored cursor of a stream, if it has one.
    pub fn cursor(&mut self, account: &str, stream: &str) -> Result<Option<Cursor>, DbError> {
        each!(self, b => b.cursor(account, stream))
    }

    /// Rows of `stellar_deposits` with `id > after`, oldest first, at most `limit`.
    pub fn deposits(&mut self, after: i64, limit: u32) -> Result<Vec<Recorded>, DbError> {
        each!(self, b => b.deposits(after, limit))
    }

    // -- payments --

    /// Queue a payout. Idempotent on `id`: the same request again is [`Marked::AlreadySo`]
    /// (whatever state the row has reached); a different one under the same `id` is refused.
    pub fn enqueue(&mut self, p: &NewPayment) -> Result<Marked, DbError> {
        if p.id.is_empty() {
            return Err(DbError::InvalidRow("a payment needs an id".into()));
        }
        each!(self, b => b.enqueue(p))
    }

    /// Claim up to `n` pending rows (oldest first) and decide each with `build`, while the rows
    /// are held, in one transaction: on PostgreSQL the rows are locked (`FOR UPDATE SKIP
    /// LOCKED`, so another worker takes others); on SQLite the write lock is held.
    ///
    /// A row moves to `sending` in the same transaction that stores its envelope, hash, upper
    /// time bound and channel. Submit an envelope only after this returns `Ok`: if it returns
    /// `Err` (the builder's error or the database's), nothing was stored and nothing built in
    /// the call may ever be submitted.
    ///
    /// Keep `build` quick (build and sign): do network pre-checks before the claim. On SQLite
    /// the write lock is held while it runs, and the watcher writing to the same file waits
    /// at most [`SQLITE_BUSY_TIMEOUT`].
    pub fn claim_and_mark<E>(
        &mut self,
        n: u32,
        worker: &str,
        build: impl FnMut(&Payment) -> Result<Claim, E>,
    ) -> Result<Vec<Claimed>, ClaimError<E>> {
        each!(self, b => b.claim_and_mark(n, worker, build))
    }

    /// Rows in `sending`: the ones a starting `pay` resolves by their hash.
    pub fn sending_rows(&mut self) -> Result<Vec<Payment>, DbError> {
        each!(self, b => b.payments_in(PaymentState::Sending))
    }

    /// Rows in `state`, oldest first.
    pub fn payments_in(&mut self, state: PaymentState) -> Result<Vec<Payment>, DbError> {
        each!(self, b => b.payments_in(state))
    }

    pub fn payment(&mut self, id: &str) -> Result<Option<Payment>, DbError> {
        each!(self, b => b.payment(id))
    }

    /// `sending` → `done`: the envelope `tx_hash` succeeded in `ledger`. Only from a ledger's
    /// outcome (the caller's rule). A row already `done` by the same envelope is
    /// [`Marked::AlreadySo`].
    pub fn mark_done(
        &mut self,
        id: &str,
        tx_hash: &str,
        result: &str,
        ledger: u32,
    ) -> Result<Marked, DbError> {
        each!(self, b => b.mark_done(id, tx_hash, result, ledger))
    }

    /// → `failed` with `reason`. With `tx_hash`: from `sending` on that envelope (it failed in
    /// `ledger`, or it can no longer land and the row must not be retried). Without: from
    /// `pending` (a check outside a claim). A row already `failed` the same way is
    /// [`Marked::AlreadySo`].
    pub fn mark_failed(
        &mut self,
        id: &str,
        tx_hash: Option<&str>,
        reason: &str,
        ledger: Option<u32>,
    ) -> Result<Marked, DbError> {
        each!(self, b => b.mark_failed(id, tx_hash, reason, ledger))
    }

    /// `sending` → `sending` on a new envelope, `attempts` + 1. Call it only once the old
    /// envelope `old_hash` can never land (a closed ledger is past its upper time bound). It
    /// succeeds for one caller only: another worker that rebuilt first makes this
    /// [`DbError::StaleEnvelope`], and the caller's new envelope must then be thrown away.
    pub fn rebuild(&mut self, id: &str, old_hash: &str, new: &Signed) -> Result<(), DbError> {
        each!(self, b => b.rebuild(id, old_hash, new))
    }

    /// What the queue still has to pay in `asset` (`CODE:ISSUER` or `native`).
    pub fn queue_total(&mut self, asset: &str) -> Result<QueueTotal, DbError> {
        each!(self, b => b.queue_total(asset))
    }

    /// On SQLite, the right to be the one `pay` process: an exclusive `flock` on `DB.pay-lock`
    /// beside the database, held until the guard drops or the process dies (the kernel releases
    /// it, even after SIGKILL). On PostgreSQL several workers may run: the guard holds nothing.
    pub fn pay_lock(&self) -> Result<PayLock, DbError> {
        match &self.target {
            Target::Sqlite(path) => PayLock::take(path),
            Target::Postgres(_) => Ok(PayLock { _file: None }),
        }
    }
}

/// See [`Db::pay_lock`].
pub struct PayLock {
    _file: Option<nix::fcntl::Flock<std::fs::File>>,
}

impl PayLock {
    fn take(db: &Path) -> Result<PayLock, DbError> {
        use std::io::{Read, Seek, Write};
        let mut name = db.as_os_str().to_os_string();
        name.push(".pay-lock");
        let path = PathBuf::from(name);
        let shown = path.display().to_string();
        let open_err = |e: std::io::Error| DbError::Open {
            db: shown.clone(),
            message: e.to_string(),
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(open_err)?;
        match nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) {
            Ok(mut held) => {
                let pid = std::process::id().to_string();
                held.set_len(0).map_err(open_err)?;
                held.rewind().map_err(open_err)?;
                held.write_all(pid.as_bytes()).map_err(open_err)?;
                Ok(PayLock { _file: Some(held) })
            }
            Err((mut file, nix::errno::Errno::EWOULDBLOCK)) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                Err(DbError::PayRunning {
                    db: db.display().to_string(),
                    pid: text.trim().parse().ok(),
                })
            }
            Err((_, errno)) => Err(open_err(std::io::Error::from(errno))),
        }
    }
}

/// Run one test body against SQLite and against PostgreSQL ([`testing::pg_database`]):
/// `both_backends!(fn name(db, target) { … })` makes a module `name` with the tests `sqlite` and
/// `postgres`; `db` is a `&mut Db` on a fresh database, `target` where it is (to open more
/// connections). The calling crate needs `tempfile` among its dev-dependencies.
#[doc(hidden)]
#[macro_export]
macro_rules! both_backends {
    ($(#[$meta:meta])* fn $name:ident($db:ident, $target:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[allow(unused_variables)]
            fn body($db: &mut $crate::db::Db, $target: &$crate::db::Target) $body

            #[test]
            fn sqlite() {
                let dir = tempfile::tempdir().unwrap();
                let target = $crate::db::Target::Sqlite(dir.path().join("relay.db"));
                let mut db = $crate::db::Db::open(&target).unwrap();
                body(&mut db, &target);
            }

            #[test]
            fn postgres() {
                let Some(target) = $crate::db::testing::pg_database() else {
                    return;
                };
                let mut db = $crate::db::Db::open(&target).unwrap();
                body(&mut db, &target);
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let pg = "postgresql://anchor:s3cret@db.example:5432/anchor?sslmode=disable";
        assert_eq!(Target::parse(pg).unwrap(), Target::Postgres(pg.into()));
        assert!(matches!(
            Target::parse("POSTGRES://u@h/d").unwrap(),
            Target::Postgres(_)
        ));
        for (text, path) in [
            ("relay.db", "relay.db"),
            ("/var/lib/airgap/relay.db", "/var/lib/airgap/relay.db"),
            ("postgres.db", "postgres.db"),
            ("sqlite:relay.db", "relay.db"),
            ("sqlite:///abs/relay.db", "/abs/relay.db"),
        ] {
            assert_eq!(
                Target::parse(text).unwrap(),
                Target::Sqlite(PathBuf::from(path)),
                "{text}"
            );
        }
        for bad in [
            "",
            "sqlite:",
            "sqlite://",
            "mysql://u:pw@h/d",
            "host=db user=anchor password=pw",
            "dbname=anchor password=pw",
        ] {
            let e = Target::parse(bad).unwrap_err().to_string();
            assert!(!e.contains("pw"), "{e}");
        }
    }

    #[test]
    fn passwords_never_shown() {
        let cases = [
            (
                "postgresql://anchor:s3cret@db:5432/anchor",
                "postgresql://anchor:***@db:5432/anchor",
            ),
            ("postgres://a:p@ss@w@h/d", "postgres://a:***@h/d"),
            ("postgres://anchor@h/d", "postgres://anchor@h/d"),
            (
                "postgres://h/d?user=a&password=s3cret&sslmode=require",
                "postgres://h/d?user=a&password=***&sslmode=require",
            ),
            ("postgres://a:s3cret@h", "postgres://a:***@h"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact(url), shown);
            assert_eq!(Target::parse(url).unwrap().to_string(), shown);
            assert_eq!(
                format!("{:?}", Target::parse(url).unwrap()),
                format!("Target({shown})")
            );
        }
    }

    #[test]
    fn a_failed_connection_does_not_show_the_password() {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        let target = Target::parse("postgres://anchor:s3cret@127.0.0.1:1/anchor").unwrap();
        let err = Db::open(&target).err().expect("nothing listens on port 1");
        let text = err.to_string();
        assert!(matches!(err, DbError::Open { .. }), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("anchor:***@127.0.0.1:1"), "{text}");
    }

    #[test]
    fn cursor_order() {
        let c = |ledger, cursor: &str, source| Cursor {
            account: "G".into(),
            stream: "s".into(),
            source,
            cursor: cursor.into(),
            ledger,
        };
        let h = Source::Horizon;
        assert!(c(9, "99", h).is_behind(&c(10, "1", h)));
        assert!(!c(11, "1", h).is_behind(&c(10, "99", h)));
        assert!(c(10, "9", h).is_behind(&c(10, "10", h)));
        assert!(!c(10, "10", h).is_behind(&c(10, "9", h)));
        assert!(!c(10, "10", h).is_behind(&c(10, "10", h)));
        assert!(c(10, "0000000001-0000000002", Source::Rpc).is_behind(&c(
            10,
            "0000000001-0000000003",
            Source::Rpc
        )));
        // Another backend: the ledger alone decides.
        assert!(!c(10, "1", Source::Rpc).is_behind(&c(10, "99", h)));
    }

    #[test]
    fn closed_at_is_horizons_form() {
        assert_eq!(
            closed_at_from_unix(1_714_564_805).as_deref(),
            Some("2024-05-01T12:00:05Z")
        );
    }
}

#[cfg(test)]
mod json_tests {
    use super::*;

    /// What `watch --json` will print for a recorded row: the columns, by their names.
    #[test]
    fn recorded_rows_serialize_flat() {
        let r = Recorded {
            id: 7,
            recorded_at: "2024-05-01T12:00:07.123Z".into(),
            entry: Entry::Deposit(Deposit {
                tx_hash: "ab".repeat(32),
                op_index: 1,
                ledger: 42,
                closed_at: "2024-05-01T12:00:05Z".into(),
                account: "GA".into(),
                sender: "GB".into(),
                customer: Some("1041".into()),
                memo_type: MemoType::Id,
                asset: "native".into(),
                amount: "10.5".parse().unwrap(),
                kind: Kind::PathPayment,
                status: Status::Deposit,
            }),
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["id"], 7);
        assert_eq!(v["amount"], "10.5000000");
        assert_eq!(v["kind"], "path_payment");
        assert_eq!(v["memo_type"], "id");
        assert_eq!(v["status"], "deposit");
        let gap = Recorded {
            entry: Entry::Gap(Gap {
                account: "GA".into(),
                from_ledger: 3,
                to_ledger: 9,
            }),
            ..r
        };
        let v = serde_json::to_value(&gap).unwrap();
        assert_eq!(
            (v["from_ledger"].as_u64(), v["to_ledger"].as_u64()),
            (Some(3), Some(9))
        );
    }
}
