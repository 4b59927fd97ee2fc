//! The PostgreSQL backend, through the synchronous `postgres` crate, without TLS.
//!
//! Locking: migrations take the advisory lock [`schema::PG_MIGRATION_LOCK`]; recording deposits
//! takes [`schema::PG_DEPOSITS_LOCK`] (ids in commit order) and the cursor rows `FOR UPDATE`;
//! claiming payouts locks pending rows `FOR UPDATE SKIP LOCKED`, so workers take different rows;
//! every later change of a payment reads its row `FOR UPDATE` and checks the envelope it names.
//! All at `READ COMMITTED`, PostgreSQL's default: each check reads under a row lock, so it sees
//! the latest committed row.
use super::schema::{self, MIGRATIONS};
use super::{
    backend_err, corrupt, differing_field, step_done, step_failed, step_rebuild, Batch, Claim,
    ClaimError, Claimed, Cursor, DbError, Deposit, Entry, Gap, Kind, Marked, MemoType, NewPayment,
    Payment, PaymentState, QueueTotal, Recorded, Signed, Source, Status, Step,
};
use postgres::{Client, GenericClient, NoTls, Row, Transaction};

pub(super) struct Pg {
    client: Client,
    shown: String,
}

/// A `TIMESTAMPTZ` column as the SQLite backend writes times (UTC, milliseconds).
macro_rules! ts {
    ($col:literal) => {
        concat!(
            "to_char(",
            $col,
            " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        )
    };
}

const DEPOSIT_COLS: &str = concat!(
    "id, ",
    ts!("recorded_at"),
    ", tx_hash, op_index, ledger, ledger_to, ",
    "to_char(closed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ",
    "account, sender, customer, memo_type, asset, amount, kind, status"
);

const PAYMENT_COLS: &str = concat!(
    "id, customer, destination, asset, amount, memo_type, memo, state, tx_hash, envelope, ",
    "max_time, channel, worker, result, ledger, attempts, ",
    ts!("created_at"),
    ", ",
    ts!("updated_at")
);

impl Pg {
    pub(super) fn connect(url: &str) -> Result<Pg, DbError> {
        let shown = super::redact(url);
        let open_err = |message: String| DbError::Open {
            db: shown.clone(),
            message,
        };
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e: postgres::Error| open_err(e.to_string()))?;
        config.application_name("airgap-relay");
        // TLS: loopback and unix sockets need none. Over a network, a `postgres-native-tls` or
        // `postgres-openssl` connector goes here in place of NoTls (docs/watch.md).
        let client = config.connect(NoTls).map_err(|e| open_err(describe(&e)))?;
        Ok(Pg { client, shown })
    }

    /// Run `f` in one transaction; commit if it returns `Ok` (dropping it rolls back).
    fn write<T, E: From<DbError>>(
        &mut self,
        f: impl FnOnce(&mut Transaction<'_>, &str) -> Result<T, E>,
    ) -> Result<T, E> {
        let shown = self.shown.clone();
        let mut tx = self.client.transaction().map_err(|e| pg_err(&shown, e))?;
        let out = f(&mut tx, &shown)?;
        tx.commit().map_err(|e| pg_err(&shown, e))?;
        Ok(out)
    }

    pub(super) fn migrate(&mut self) -> Result<(), DbError> {
        loop {
            let done = self.write(|tx, db| {
                let e = |e| pg_err(db, e);
                tx.execute(
                    "SELECT pg_advisory_xact_lock($1)",
                    &[&schema::PG_MIGRATION_LOCK],
                )
                .map_err(e)?;
                tx.batch_execute(schema::PG_BOOKKEEPING).map_err(e)?;
                let version: i64 = tx
                    .query_one("SELECT COALESCE(MAX(version), 0) FROM airgap_schema", &[])
                    .map_err(e)?
                    .get(0);
                let latest = schema::latest();
                if version > latest {
                    return Err(DbError::TooNew {
                        db: db.to_string(),
                        found: version,
                        known: latest,
                    });
                }
                let Some(m) = MIGRATIONS.iter().find(|m| m.version == version + 1) else {
                    return Ok(true);
                };
                tx.batch_execute(m.postgres).map_err(e)?;
                tx.execute(
                    "INSERT INTO airgap_schema (version, name) VALUES ($1, $2)",
                    &[&m.version, &m.name],
                )
                .map_err(e)?;
                Ok(false)
            })?;
            if done {
                return Ok(());
            }
        }
    }

    pub(super) fn schema_version(&mut self) -> Result<i64, DbError> {
        let row = self
            .client
            .query_one("SELECT COALESCE(MAX(version), 0) FROM airgap_schema", &[])
            .map_err(|e| pg_err(&self.shown, e))?;
        Ok(row.get(0))
    }

    // -- deposits --

    pub(super) fn record_batch(
        &mut self,
        cursors: &[Cursor],
        rows: &[Deposit],
    ) -> Result<Batch, DbError> {
        self.write(|tx, db| {
            let e = |e| pg_err(db, e);
            tx.execute(
                "SELECT pg_advisory_xact_lock($1)",
                &[&schema::PG_DEPOSITS_LOCK],
            )
            .map_err(e)?;
            let mut batch = Batch::default();
            let insert = tx
                .prepare(concat!(
                    "INSERT INTO stellar_deposits (tx_hash, op_index, ledger, closed_at, account,
                         sender, customer, memo_type, asset, amount, kind, status)
                     VALUES ($1, $2, $3, $4::text::timestamptz, $5, $6, $7, $8, $9, $10, $11, $12)
                     ON CONFLICT (tx_hash, op_index) DO NOTHING
                     RETURNING id, ",
                    ts!("recorded_at")
                ))
                .map_err(e)?;
            for r in rows {
                let op_index = i32::try_from(r.op_index)
                    .map_err(|_| DbError::InvalidRow(format!("op_index {}", r.op_index)))?;
                let stored = tx
                    .query_opt(
                        &insert,
                        &[
                            &r.tx_hash,
                            &op_index,
                            &i64::from(r.ledger),
                            &r.closed_at,
                            &r.account,
                            &r.sender,
                            &r.customer,
                            &r.memo_type.as_str(),
                            &r.asset,
                            &r.amount.to_horizon_string(),
                            &r.kind.as_str(),
                            &r.status.as_str(),
                        ],
                    )
                    .map_err(e)?;
                match stored {
                    Some(row) => batch.new.push(Recorded {
                        id: row.get(0),
                        recorded_at: row.get(1),
                        entry: Entry::Deposit(r.clone()),
                    }),
                    None => batch.duplicates += 1,
                }
            }
            for c in cursors {
                if let Some(stored) = move_cursor(tx, db, c)? {
                    batch.held.push(stored);
                }
            }
            Ok(batch)
        })
    }

    pub(super) fn record_gap(
        &mut self,
        cursor: &Cursor,
        gap: &Gap,
    ) -> Result<Option<Recorded>, DbError> {
        self.write(|tx, db| {
            let e = |e| pg_err(db, e);
            tx.execute(
                "SELECT pg_advisory_xact_lock($1)",
                &[&schema::PG_DEPOSITS_LOCK],
            )
            .map_err(e)?;
            if let Some(stored) = read_cursor(tx, db, &cursor.account, &cursor.stream, true)? {
                if stored.ledger >= gap.to_ledger {
                    return Ok(None);
                }
            }
            let recorded = tx
                .query_opt(
                    concat!(
                        "INSERT INTO stellar_deposits (ledger, ledger_to, account, kind, status)
                         VALUES ($1, $2, $3, 'gap', 'gap')
                         ON CONFLICT (account, ledger) WHERE status = 'gap' DO NOTHING
                         RETURNING id, ",
                        ts!("recorded_at")
                    ),
                    &[
                        &i64::from(gap.from_ledger),
                        &i64::from(gap.to_ledger),
                        &gap.account,
                    ],
                )
                .map_err(e)?;
            move_cursor(tx, db, cursor)?;
            Ok(recorded.map(|row| Recorded {
                id: row.get(0),
                recorded_at: row.get(1),
                entry: Entry::Gap(gap.clone()),
            }))
        })
    }

    pub(super) fn cursor(
        &mut self,
        account: &str,
        stream: &str,
    ) -> Result<Option<Cursor>, DbError> {
        let shown = self.shown.clone();
        read_cursor(&mut self.client, &shown, account, stream, false)
    }

    pub(super) fn deposits(&mut self, after: i64, limit: u32) -> Result<Vec<Recorded>, DbError> {
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT {DEPOSIT_COLS} FROM stellar_deposits WHERE id > $1 ORDER BY id LIMIT $2"
                ),
                &[&after, &i64::from(limit)],
            )
            .map_err(|e| pg_err(&self.shown, e))?;
        rows.iter()
            .map(|r| to_recorded(r).map_err(|w| corrupt(&self.shown, w)))
            .collect()
    }

    // -- payments --

    pub(super) fn enqueue(&mut self, p: &NewPayment) -> Result<Marked, DbError> {
        self.write(|tx, db| {
            let inserted = tx
                .execute(
                    "INSERT INTO stellar_payments (id, customer, destination, asset, amount,
                         memo_type, memo)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
                    &[
                        &p.id,
                        &p.customer,
                        &p.destination,
                        &p.asset,
                        &p.amount,
                        &p.memo_type,
                        &p.memo,
                    ],
                )
                .map_err(|e| pg_err(db, e))?;
            if inserted == 1 {
                return Ok(Marked::Changed);
            }
            let old = read_payment(tx, db, &p.id, false)?.ok_or_else(|| {
                backend_err(db, format!("payment {:?} vanished while queuing it", p.id))
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
        &mut self,
        n: u32,
        worker: &str,
        mut build: impl FnMut(&Payment) -> Result<Claim, E>,
    ) -> Result<Vec<Claimed>, ClaimError<E>> {
        self.write(|tx, db| {
            let e = |e| pg_err(db, e);
            let rows = tx
                .query(
                    &format!(
                        "SELECT {PAYMENT_COLS} FROM stellar_payments WHERE state = 'pending'
                         ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED"
                    ),
                    &[&i64::from(n)],
                )
                .map_err(e)?;
            let mut claimed = Vec::with_capacity(rows.len());
            for row in &rows {
                let p = to_payment(row).map_err(|w| corrupt(db, w))?;
                let claim = build(&p).map_err(ClaimError::Build)?;
                let payment = match &claim {
                    Claim::Send(s) => {
                        s.check()?;
                        update_payment(
                            tx,
                            db,
                            &format!(
                                "UPDATE stellar_payments SET state = 'sending', tx_hash = $2,
                                     envelope = $3, max_time = $4, channel = $5, worker = $6,
                                     attempts = attempts + 1, updated_at = now()
                                 WHERE id = $1 AND state = 'pending' RETURNING {PAYMENT_COLS}"
                            ),
                            &[
                                &p.request.id,
                                &s.tx_hash,
                                &s.envelope,
                                &(s.max_time as i64),
                                &s.channel,
                                &worker,
                            ],
                        )?
                    }
                    Claim::Fail(reason) => update_payment(
                        tx,
                        db,
                        &format!(
                            "UPDATE stellar_payments SET state = 'failed', result = $2,
                                 worker = $3, updated_at = now()
                             WHERE id = $1 AND state = 'pending' RETURNING {PAYMENT_COLS}"
                        ),
                        &[&p.request.id, reason, &worker],
                    )?,
                    Claim::Leave => p,
                };
                claimed.push(Claimed { payment, claim });
            }
            Ok(claimed)
        })
    }

    pub(super) fn payments_in(&mut self, state: PaymentState) -> Result<Vec<Payment>, DbError> {
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT {PAYMENT_COLS} FROM stellar_payments WHERE state = $1
                     ORDER BY created_at, id"
                ),
                &[&state.as_str()],
            )
            .map_err(|e| pg_err(&self.shown, e))?;
        rows.iter()
            .map(|r| to_payment(r).map_err(|w| corrupt(&self.shown, w)))
            .collect()
    }

    pub(super) fn payment(&mut self, id: &str) -> Result<Option<Payment>, DbError> {
        let shown = self.shown.clone();
        read_payment(&mut self.client, &shown, id, false)
    }

    pub(super) fn mark_done(
        &mut self,
        id: &str,
        tx_hash: &str,
        result: &str,
        ledger: u32,
    ) -> Result<Marked, DbError> {
        self.write(|tx, db| {
            let cur = read_payment(tx, db, id, true)?;
            match step_done(cur.as_ref(), id, tx_hash)? {
                Step::AlreadySo => Ok(Marked::AlreadySo),
                Step::Apply => {
                    update_payment(
                        tx,
                        db,
                        &format!(
                            "UPDATE stellar_payments SET state = 'done', result = $2, ledger = $3,
                                 updated_at = now()
                             WHERE id = $1 RETURNING {PAYMENT_COLS}"
                        ),
                        &[&id, &result, &i64::from(ledger)],
                    )?;
                    Ok(Marked::Changed)
                }
            }
        })
    }

    pub(super) fn mark_failed(
        &mut self,
        id: &str,
        tx_hash: Option<&str>,
        reason: &str,
        ledger: Option<u32>,
    ) -> Result<Marked, DbError> {
        self.write(|tx, db| {
            let cur = read_payment(tx, db, id, true)?;
            match step_failed(cur.as_ref(), id, tx_hash)? {
                Step::AlreadySo => Ok(Marked::AlreadySo),
                Step::Apply => {
                    update_payment(
                        tx,
                        db,
                        &format!(
                            "UPDATE stellar_payments SET state = 'failed', result = $2,
                                 ledger = $3, updated_at = now()
                             WHERE id = $1 RETURNING {PAYMENT_COLS}"
                        ),
                        &[&id, &reason, &ledger.map(i64::from)],
                    )?;
                    Ok(Marked::Changed)
                }
            }
        })
    }

    pub(super) fn rebuild(
        &mut self,
        id: &str,
        old_hash: &str,
        new: &Signed,
    ) -> Result<(), DbError> {
        new.check()?;
        self.write(|tx, db| {
            let cur = read_payment(tx, db, id, true)?;
            step_rebuild(cur.as_ref(), id, old_hash)?;
            update_payment(
                tx,
                db,
                &format!(
                    "UPDATE stellar_payments SET tx_hash = $2, envelope = $3, max_time = $4,
                         channel = $5, attempts = attempts + 1, updated_at = now()
                     WHERE id = $1 RETURNING {PAYMENT_COLS}"
                ),
                &[
                    &id,
                    &new.tx_hash,
                    &new.envelope,
                    &(new.max_time as i64),
                    &new.channel,
                ],
            )?;
            Ok(())
        })
    }

    pub(super) fn queue_total(&mut self, asset: &str) -> Result<QueueTotal, DbError> {
        let rows = self
            .client
            .query(
                "SELECT state, amount FROM stellar_payments
                 WHERE asset = $1 AND state IN ('pending', 'sending')",
                &[&asset],
            )
            .map_err(|e| pg_err(&self.shown, e))?;
        let mut total = QueueTotal::default();
        for r in &rows {
            let state = PaymentState::parse(r.get(0)).map_err(|w| corrupt(&self.shown, w))?;
            total.add(state, r.get(1));
        }
        Ok(total)
    }
}

/// The server's own words for a database error (message, detail), else the client's.
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => match d.detail() {
            Some(detail) => format!("{} ({detail})", d.message()),
            None => d.message().to_string(),
        },
        None => e.to_string(),
    }
}

fn pg_err(db: &str, e: postgres::Error) -> DbError {
    backend_err(db, describe(&e))
}

/// Upsert `c` unless the stored cursor (read `FOR UPDATE`) is further on; then return that.
fn move_cursor(tx: &mut Transaction<'_>, db: &str, c: &Cursor) -> Result<Option<Cursor>, DbError> {
    if let Some(stored) = read_cursor(tx, db, &c.account, &c.stream, true)? {
        if c.is_behind(&stored) {
            return Ok(Some(stored));
        }
    }
    tx.execute(
        "INSERT INTO stellar_cursor (account, stream, backend, cursor, ledger)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account, stream) DO UPDATE SET backend = excluded.backend,
             cursor = excluded.cursor, ledger = excluded.ledger, updated_at = now()",
        &[
            &c.account,
            &c.stream,
            &c.source.as_str(),
            &c.cursor,
            &i64::from(c.ledger),
        ],
    )
    .map_err(|e| pg_err(db, e))?;
    Ok(None)
}

fn read_cursor(
    conn: &mut impl GenericClient,
    db: &str,
    account: &str,
    stream: &str,
    for_update: bool,
) -> Result<Option<Cursor>, DbError> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let row = conn
        .query_opt(
            &format!(
                "SELECT backend, cursor, ledger FROM stellar_cursor
                 WHERE account = $1 AND stream = $2{lock}"
            ),
            &[&account, &stream],
        )
        .map_err(|e| pg_err(db, e))?;
    let Some(row) = row else {
        return Ok(None);
    };
    let ledger: i64 = row.get(2);
    Ok(Some(Cursor {
        account: account.to_string(),
        stream: stream.to_string(),
        source: Source::parse(row.get(0)).map_err(|w| corrupt(db, w))?,
        cursor: row.get(1),
        ledger: u32::try_from(ledger).map_err(|_| corrupt(db, format!("ledger {ledger}")))?,
    }))
}

fn read_payment(
    conn: &mut impl GenericClient,
    db: &str,
    id: &str,
    for_update: bool,
) -> Result<Option<Payment>, DbError> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    conn.query_opt(
        &format!("SELECT {PAYMENT_COLS} FROM stellar_payments WHERE id = $1{lock}"),
        &[&id],
    )
    .map_err(|e| pg_err(db, e))?
    .map(|r| to_payment(&r).map_err(|w| corrupt(db, w)))
    .transpose()
}

/// Run an `UPDATE … RETURNING` that must change exactly one row.
fn update_payment(
    tx: &mut Transaction<'_>,
    db: &str,
    sql: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Payment, DbError> {
    let row = tx.query_one(sql, params).map_err(|e| pg_err(db, e))?;
    to_payment(&row).map_err(|w| corrupt(db, w))
}

fn to_recorded(r: &Row) -> Result<Recorded, String> {
    let g = |e: postgres::Error| e.to_string();
    let num = |i: usize| -> Result<u32, String> {
        let v: i64 = r.try_get(i).map_err(g)?;
        u32::try_from(v).map_err(|_| format!("{v} in column {i}"))
    };
    let status: String = r.try_get(14).map_err(g)?;
    let entry = if status == "gap" {
        Entry::Gap(Gap {
            account: r.try_get(7).map_err(g)?,
            from_ledger: num(4)?,
            to_ledger: num(5)?,
        })
    } else {
        let op_index: i32 = r.try_get(3).map_err(g)?;
        let amount: String = r.try_get(12).map_err(g)?;
        Entry::Deposit(Deposit {
            tx_hash: r.try_get(2).map_err(g)?,
            op_index: u32::try_from(op_index).map_err(|_| format!("op_index {op_index}"))?,
            ledger: num(4)?,
            closed_at: r.try_get(6).map_err(g)?,
            account: r.try_get(7).map_err(g)?,
            sender: r.try_get(8).map_err(g)?,
            customer: r.try_get(9).map_err(g)?,
            memo_type: MemoType::parse(r.try_get(10).map_err(g)?)?,
            asset: r.try_get(11).map_err(g)?,
            amount: amount.parse().map_err(|e| format!("{e}"))?,
            kind: Kind::parse(r.try_get(13).map_err(g)?)?,
            status: Status::parse(&status)?,
        })
    };
    Ok(Recorded {
        id: r.try_get(0).map_err(g)?,
        recorded_at: r.try_get(1).map_err(g)?,
        entry,
    })
}

fn to_payment(r: &Row) -> Result<Payment, String> {
    let g = |e: postgres::Error| e.to_string();
    let ledger: Option<i64> = r.try_get(14).map_err(g)?;
    let max_time: Option<i64> = r.try_get(10).map_err(g)?;
    let attempts: i32 = r.try_get(15).map_err(g)?;
    Ok(Payment {
        request: NewPayment {
            id: r.try_get(0).map_err(g)?,
            customer: r.try_get(1).map_err(g)?,
            destination: r.try_get(2).map_err(g)?,
            asset: r.try_get(3).map_err(g)?,
            amount: r.try_get(4).map_err(g)?,
            memo_type: r.try_get(5).map_err(g)?,
            memo: r.try_get(6).map_err(g)?,
        },
        state: PaymentState::parse(r.try_get(7).map_err(g)?)?,
        tx_hash: r.try_get(8).map_err(g)?,
        envelope: r.try_get(9).map_err(g)?,
        max_time: max_time
            .map(|t| u64::try_from(t).map_err(|_| format!("max_time {t}")))
            .transpose()?,
        channel: r.try_get(11).map_err(g)?,
        worker: r.try_get(12).map_err(g)?,
        result: r.try_get(13).map_err(g)?,
        ledger: ledger
            .map(|l| u32::try_from(l).map_err(|_| format!("ledger {l}")))
            .transpose()?,
        attempts: u32::try_from(attempts).map_err(|_| format!("attempts {attempts}"))?,
        created_at: r.try_get(16).map_err(g)?,
        updated_at: r.try_get(17).map_err(g)?,
    })
}
