//! Deposits: what `watch` records. The row types of `stellar_deposits` and `stellar_cursor`, and
//! the transactions that write them, once for both databases (over [`Conn`]).
//!
//! Rows and the stream's cursor move together in one transaction; the unique key (`tx_hash`,
//! `op_index`) makes a deposit seen twice one row; a cursor never moves backwards. On PostgreSQL
//! every recording transaction first takes [`schema::PG_DEPOSITS_LOCK`], so `id`s are allocated
//! in commit order, and reads the cursor row `FOR UPDATE`.
use super::conn::{write, Conn, Param, Row};
use super::{schema, Amount, DbError};
use serde::Serialize;

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

    pub(super) fn parse(s: &str) -> Result<Source, String> {
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

    pub(super) fn parse(s: &str) -> Result<Status, String> {
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

    pub(super) fn parse(s: &str) -> Result<Kind, String> {
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

    pub(super) fn parse(s: &str) -> Result<MemoType, String> {
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

pub(super) fn horizon_amount<S: serde::Serializer>(a: &Amount, s: S) -> Result<S::Ok, S::Error> {
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
    pub(super) fn check(&self) -> Result<(), DbError> {
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

// ---------------------------------------------------------------------------------------------
// The transactions

const DEPOSIT_COLS: &str = "id, recorded_at, tx_hash, op_index, ledger, ledger_to, closed_at, \
     account, sender, customer, memo_type, asset, amount, kind, status";

fn deposit_cols(c: &dyn Conn) -> String {
    let d = c.dialect();
    DEPOSIT_COLS
        .replace(
            "recorded_at,",
            &format!("{},", d.time_text("recorded_at", true)),
        )
        .replace(
            "closed_at,",
            &format!("{},", d.time_text("closed_at", false)),
        )
}

/// `RETURNING id, recorded_at` of an insert.
fn returning(c: &dyn Conn) -> String {
    format!(
        "RETURNING id, {}",
        c.dialect().time_text("recorded_at", true)
    )
}

fn inserted(c: &dyn Conn, row: Option<Row>) -> Result<Option<(i64, String)>, DbError> {
    row.map(|r| Ok((r.int(0)?, r.text(1)?)))
        .transpose()
        .map_err(|w: String| c.corrupt(w))
}

pub(super) fn record_batch(
    c: &mut dyn Conn,
    cursors: &[Cursor],
    rows: &[Deposit],
) -> Result<Batch, DbError> {
    write(c, |c| {
        c.advisory_lock(schema::PG_DEPOSITS_LOCK)?;
        let sql = format!(
            "INSERT INTO stellar_deposits (tx_hash, op_index, ledger, closed_at, account,
                 sender, customer, memo_type, asset, amount, kind, status)
             VALUES ($1, $2, $3, {}, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (tx_hash, op_index) DO NOTHING {}",
            c.dialect().time_param(4),
            returning(c)
        );
        let mut batch = Batch::default();
        for r in rows {
            let amount = r.amount.to_horizon_string();
            let row = c.query_opt(
                &sql,
                &[
                    (&r.tx_hash).into(),
                    r.op_index.into(),
                    r.ledger.into(),
                    (&r.closed_at).into(),
                    (&r.account).into(),
                    (&r.sender).into(),
                    (&r.customer).into(),
                    r.memo_type.as_str().into(),
                    (&r.asset).into(),
                    (&amount).into(),
                    r.kind.as_str().into(),
                    r.status.as_str().into(),
                ],
            )?;
            match inserted(c, row)? {
                Some((id, recorded_at)) => batch.new.push(Recorded {
                    id,
                    recorded_at,
                    entry: Entry::Deposit(r.clone()),
                }),
                None => batch.duplicates += 1,
            }
        }
        for cur in cursors {
            if let Some(stored) = move_cursor(c, cur)? {
                batch.held.push(stored);
            }
        }
        Ok(batch)
    })
}

pub(super) fn record_gap(
    c: &mut dyn Conn,
    cursor: &Cursor,
    gap: &Gap,
) -> Result<Option<Recorded>, DbError> {
    write(c, |c| {
        c.advisory_lock(schema::PG_DEPOSITS_LOCK)?;
        if let Some(stored) = read_cursor(c, &cursor.account, &cursor.stream, true)? {
            if stored.ledger >= gap.to_ledger {
                return Ok(None);
            }
        }
        let sql = format!(
            "INSERT INTO stellar_deposits (ledger, ledger_to, account, kind, status)
             VALUES ($1, $2, $3, 'gap', 'gap')
             ON CONFLICT (account, ledger) WHERE status = 'gap' DO NOTHING {}",
            returning(c)
        );
        let row = c.query_opt(
            &sql,
            &[
                gap.from_ledger.into(),
                gap.to_ledger.into(),
                (&gap.account).into(),
            ],
        )?;
        let recorded = inserted(c, row)?;
        move_cursor(c, cursor)?;
        Ok(recorded.map(|(id, recorded_at)| Recorded {
            id,
            recorded_at,
            entry: Entry::Gap(gap.clone()),
        }))
    })
}

pub(super) fn deposits(c: &mut dyn Conn, after: i64, limit: u32) -> Result<Vec<Recorded>, DbError> {
    let sql = format!(
        "SELECT {} FROM stellar_deposits WHERE id > $1 ORDER BY id LIMIT $2",
        deposit_cols(c)
    );
    let rows = c.query(&sql, &[after.into(), i64::from(limit).into()])?;
    rows.iter()
        .map(|r| to_recorded(r).map_err(|w| c.corrupt(w)))
        .collect()
}

/// Upsert `cur` unless the stored cursor (read under the transaction's lock) is further on;
/// then return the stored one.
fn move_cursor(c: &mut dyn Conn, cur: &Cursor) -> Result<Option<Cursor>, DbError> {
    if let Some(stored) = read_cursor(c, &cur.account, &cur.stream, true)? {
        if cur.is_behind(&stored) {
            return Ok(Some(stored));
        }
    }
    let sql = format!(
        "INSERT INTO stellar_cursor (account, stream, backend, cursor, ledger)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account, stream) DO UPDATE SET backend = excluded.backend,
             cursor = excluded.cursor, ledger = excluded.ledger, updated_at = {}",
        c.dialect().now()
    );
    c.execute(
        &sql,
        &[
            (&cur.account).into(),
            (&cur.stream).into(),
            cur.source.as_str().into(),
            (&cur.cursor).into(),
            cur.ledger.into(),
        ],
    )?;
    Ok(None)
}

/// The stored cursor of a stream; `for_update` locks its row (PostgreSQL).
pub(super) fn read_cursor(
    c: &mut dyn Conn,
    account: &str,
    stream: &str,
    for_update: bool,
) -> Result<Option<Cursor>, DbError> {
    let lock = if for_update {
        c.dialect().for_update()
    } else {
        ""
    };
    let sql = format!(
        "SELECT backend, cursor, ledger FROM stellar_cursor WHERE account = $1 AND stream = $2{lock}"
    );
    let Some(row) = c.query_opt(&sql, &[Param::Text(account), Param::Text(stream)])? else {
        return Ok(None);
    };
    let read = || -> Result<Cursor, String> {
        Ok(Cursor {
            account: account.to_string(),
            stream: stream.to_string(),
            source: Source::parse(&row.text(0)?)?,
            cursor: row.text(1)?,
            ledger: row.u32(2)?,
        })
    };
    read().map(Some).map_err(|w| c.corrupt(w))
}

fn to_recorded(r: &Row) -> Result<Recorded, String> {
    let status = r.text(14)?;
    let entry = if status == "gap" {
        Entry::Gap(Gap {
            account: r.text(7)?,
            from_ledger: r.u32(4)?,
            to_ledger: r.u32(5)?,
        })
    } else {
        Entry::Deposit(Deposit {
            tx_hash: r.text(2)?,
            op_index: r.u32(3)?,
            ledger: r.u32(4)?,
            closed_at: r.text(6)?,
            account: r.text(7)?,
            sender: r.text(8)?,
            customer: r.opt_text(9)?,
            memo_type: MemoType::parse(&r.text(10)?)?,
            asset: r.text(11)?,
            amount: r.text(12)?.parse().map_err(|e| format!("{e}"))?,
            kind: Kind::parse(&r.text(13)?)?,
            status: Status::parse(&status)?,
        })
    };
    Ok(Recorded {
        id: r.int(0)?,
        recorded_at: r.text(1)?,
        entry,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
