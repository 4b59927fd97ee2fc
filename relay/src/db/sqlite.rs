//! The SQLite backend: one file, WAL, `synchronous=FULL`, every write in `BEGIN IMMEDIATE`
//! (the write lock is taken at the start, so a transaction never fails half-way on a lock it
//! could not upgrade to, and the busy timeout covers the wait).
use super::schema::{self, MIGRATIONS};
use super::{
    backend_err, corrupt, differing_field, step_done, step_failed, step_rebuild, Batch, Claim,
    ClaimError, Claimed, Cursor, DbError, Deposit, Entry, Gap, Kind, Marked, MemoType, NewPayment,
    Payment, PaymentState, QueueTotal, Recorded, Signed, Source, Status, Step,
};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};
use std::path::Path;

pub(super) struct Sqlite {
    conn: Connection,
    shown: String,
}

const DEPOSIT_COLS: &str = "id, recorded_at, tx_hash, op_index, ledger, ledger_to, closed_at, \
     account, sender, customer, memo_type, asset, amount, kind, status";

const PAYMENT_COLS: &str = "id, customer, destination, asset, amount, memo_type, memo, state, \
     tx_hash, envelope, max_time, channel, worker, result, ledger, attempts, created_at, updated_at";

const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

impl Sqlite {
    pub(super) fn open(path: &Path) -> Result<Sqlite, DbError> {
        let shown = path.display().to_string();
        let open_err = |e: rusqlite::Error| DbError::Open {
            db: shown.clone(),
            message: e.to_string(),
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(super::SQLITE_BUSY_TIMEOUT)
            .map_err(open_err)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(DbError::Open {
                db: shown,
                message: format!("it stays in journal mode {mode:?}, not WAL"),
            });
        }
        // FULL: a commit is on disk before it returns (see the module comment of `db`).
        conn.execute_batch("PRAGMA synchronous=FULL;")
            .map_err(open_err)?;
        Ok(Sqlite { conn, shown })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> DbError + '_ {
        move |e| backend_err(&self.shown, e)
    }

    /// Run `f` in one `BEGIN IMMEDIATE` transaction; commit if it returns `Ok`.
    fn write<T, E: From<DbError>>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>, &str) -> Result<T, E>,
    ) -> Result<T, E> {
        let shown = self.shown.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| backend_err(&shown, e))?;
        let out = f(&tx, &shown)?;
        tx.commit().map_err(|e| backend_err(&shown, e))?;
        Ok(out)
    }

    pub(super) fn migrate(&mut self) -> Result<(), DbError> {
        loop {
            let done = self.write(|tx, db| {
                let e = |e| backend_err(db, e);
                tx.execute_batch(schema::SQLITE_BOOKKEEPING).map_err(e)?;
                let version: i64 = tx
                    .query_row(
                        "SELECT COALESCE(MAX(version), 0) FROM airgap_schema",
                        [],
                        |r| r.get(0),
                    )
                    .map_err(e)?;
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
                tx.execute_batch(m.sqlite).map_err(e)?;
                tx.execute(
                    "INSERT INTO airgap_schema (version, name) VALUES (?1, ?2)",
                    params![m.version, m.name],
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
        self.conn
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM airgap_schema",
                [],
                |r| r.get(0),
            )
            .map_err(self.err())
    }

    // -- deposits --

    pub(super) fn record_batch(
        &mut self,
        cursors: &[Cursor],
        rows: &[Deposit],
    ) -> Result<Batch, DbError> {
        self.write(|tx, db| {
            let e = |e| backend_err(db, e);
            let mut batch = Batch::default();
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO stellar_deposits (tx_hash, op_index, ledger, closed_at, account,
                             sender, customer, memo_type, asset, amount, kind, status)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                         ON CONFLICT (tx_hash, op_index) DO NOTHING
                         RETURNING id, recorded_at",
                    )
                    .map_err(e)?;
                for r in rows {
                    let stored = insert
                        .query_row(
                            params![
                                r.tx_hash,
                                r.op_index,
                                r.ledger,
                                r.closed_at,
                                r.account,
                                r.sender,
                                r.customer,
                                r.memo_type.as_str(),
                                r.asset,
                                r.amount.to_horizon_string(),
                                r.kind.as_str(),
                                r.status.as_str(),
                            ],
                            |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)),
                        )
                        .optional()
                        .map_err(e)?;
                    match stored {
                        Some((id, recorded_at)) => batch.new.push(Recorded {
                            id,
                            recorded_at,
                            entry: Entry::Deposit(r.clone()),
                        }),
                        None => batch.duplicates += 1,
                    }
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
            let e = |e| backend_err(db, e);
            if let Some(stored) = read_cursor(tx, db, &cursor.account, &cursor.stream)? {
                if stored.ledger >= gap.to_ledger {
                    return Ok(None);
                }
            }
            let recorded = tx
                .query_row(
                    "INSERT INTO stellar_deposits (ledger, ledger_to, account, kind, status)
                     VALUES (?1, ?2, ?3, 'gap', 'gap')
                     ON CONFLICT (account, ledger) WHERE status = 'gap' DO NOTHING
                     RETURNING id, recorded_at",
                    params![gap.from_ledger, gap.to_ledger, gap.account],
                    |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)),
                )
                .optional()
                .map_err(e)?;
            move_cursor(tx, db, cursor)?;
            Ok(recorded.map(|(id, recorded_at)| Recorded {
                id,
                recorded_at,
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
        read_cursor(&self.conn, &shown, account, stream)
    }

    pub(super) fn deposits(&mut self, after: i64, limit: u32) -> Result<Vec<Recorded>, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {DEPOSIT_COLS} FROM stellar_deposits WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))
            .map_err(|e| backend_err(&self.shown, e))?;
        let rows = stmt
            .query_map(params![after, limit], |row| Ok(to_recorded(row)))
            .map_err(|e| backend_err(&self.shown, e))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(
                r.map_err(|e| backend_err(&self.shown, e))?
                    .map_err(|what| corrupt(&self.shown, what))?,
            );
        }
        Ok(out)
    }

    // -- payments --

    pub(super) fn enqueue(&mut self, p: &NewPayment) -> Result<Marked, DbError> {
        self.write(|tx, db| {
            let e = |e| backend_err(db, e);
            let inserted = tx
                .execute(
                    "INSERT INTO stellar_payments (id, customer, destination, asset, amount,
                         memo_type, memo)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING",
                    params![
                        p.id,
                        p.customer,
                        p.destination,
                        p.asset,
                        p.amount,
                        p.memo_type,
                        p.memo
                    ],
                )
                .map_err(e)?;
            if inserted == 1 {
                return Ok(Marked::Changed);
            }
            let old = read_payment(tx, db, &p.id)?.ok_or_else(|| {
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
            let e = |e| backend_err(db, e);
            let pending = {
                let mut stmt = tx
                    .prepare_cached(&format!(
                        "SELECT {PAYMENT_COLS} FROM stellar_payments WHERE state = 'pending'
                         ORDER BY created_at, id LIMIT ?1"
                    ))
                    .map_err(e)?;
                let rows = stmt
                    .query_map(params![n], |row| Ok(to_payment(row)))
                    .map_err(e)?;
                let mut out = Vec::new();
                for r in rows {
                    out.push(r.map_err(e)?.map_err(|w| corrupt(db, w))?);
                }
                out
            };
            let mut claimed = Vec::with_capacity(pending.len());
            for p in pending {
                let claim = build(&p).map_err(ClaimError::Build)?;
                let payment = match &claim {
                    Claim::Send(s) => {
                        s.check()?;
                        update_payment(
                            tx,
                            db,
                            &format!(
                                "UPDATE stellar_payments SET state = 'sending', tx_hash = ?2,
                                     envelope = ?3, max_time = ?4, channel = ?5, worker = ?6,
                                     attempts = attempts + 1, updated_at = {NOW}
                                 WHERE id = ?1 AND state = 'pending' RETURNING {PAYMENT_COLS}"
                            ),
                            params![
                                p.request.id,
                                s.tx_hash,
                                s.envelope,
                                s.max_time as i64,
                                s.channel,
                                worker
                            ],
                        )?
                    }
                    Claim::Fail(reason) => update_payment(
                        tx,
                        db,
                        &format!(
                            "UPDATE stellar_payments SET state = 'failed', result = ?2,
                                 worker = ?3, updated_at = {NOW}
                             WHERE id = ?1 AND state = 'pending' RETURNING {PAYMENT_COLS}"
                        ),
                        params![p.request.id, reason, worker],
                    )?,
                    Claim::Leave => p,
                };
                claimed.push(Claimed { payment, claim });
            }
            Ok(claimed)
        })
    }

    pub(super) fn payments_in(&mut self, state: PaymentState) -> Result<Vec<Payment>, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {PAYMENT_COLS} FROM stellar_payments WHERE state = ?1
                 ORDER BY created_at, id"
            ))
            .map_err(|e| backend_err(&self.shown, e))?;
        let rows = stmt
            .query_map(params![state.as_str()], |row| Ok(to_payment(row)))
            .map_err(|e| backend_err(&self.shown, e))?;
        let mut out = Vec::new();
        for r in rows {
            out.push(
                r.map_err(|e| backend_err(&self.shown, e))?
                    .map_err(|w| corrupt(&self.shown, w))?,
            );
        }
        Ok(out)
    }

    pub(super) fn payment(&mut self, id: &str) -> Result<Option<Payment>, DbError> {
        let shown = self.shown.clone();
        read_payment(&self.conn, &shown, id)
    }

    pub(super) fn mark_done(
        &mut self,
        id: &str,
        tx_hash: &str,
        result: &str,
        ledger: u32,
    ) -> Result<Marked, DbError> {
        self.write(|tx, db| {
            let cur = read_payment(tx, db, id)?;
            match step_done(cur.as_ref(), id, tx_hash)? {
                Step::AlreadySo => Ok(Marked::AlreadySo),
                Step::Apply => {
                    update_payment(
                        tx,
                        db,
                        &format!(
                            "UPDATE stellar_payments SET state = 'done', result = ?2, ledger = ?3,
                                 updated_at = {NOW}
                             WHERE id = ?1 RETURNING {PAYMENT_COLS}"
                        ),
                        params![id, result, ledger],
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
            let cur = read_payment(tx, db, id)?;
            match step_failed(cur.as_ref(), id, tx_hash)? {
                Step::AlreadySo => Ok(Marked::AlreadySo),
                Step::Apply => {
                    update_payment(
                        tx,
                        db,
                        &format!(
                            "UPDATE stellar_payments SET state = 'failed', result = ?2,
                                 ledger = ?3, updated_at = {NOW}
                             WHERE id = ?1 RETURNING {PAYMENT_COLS}"
                        ),
                        params![id, reason, ledger],
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
            let cur = read_payment(tx, db, id)?;
            step_rebuild(cur.as_ref(), id, old_hash)?;
            update_payment(
                tx,
                db,
                &format!(
                    "UPDATE stellar_payments SET tx_hash = ?2, envelope = ?3, max_time = ?4,
                         channel = ?5, attempts = attempts + 1, updated_at = {NOW}
                     WHERE id = ?1 RETURNING {PAYMENT_COLS}"
                ),
                params![
                    id,
                    new.tx_hash,
                    new.envelope,
                    new.max_time as i64,
                    new.channel
                ],
            )?;
            Ok(())
        })
    }

    pub(super) fn queue_total(&mut self, asset: &str) -> Result<QueueTotal, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT state, amount FROM stellar_payments
                 WHERE asset = ?1 AND state IN ('pending', 'sending')",
            )
            .map_err(|e| backend_err(&self.shown, e))?;
        let rows = stmt
            .query_map(params![asset], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| backend_err(&self.shown, e))?;
        let mut total = QueueTotal::default();
        for r in rows {
            let (state, amount) = r.map_err(|e| backend_err(&self.shown, e))?;
            let state = PaymentState::parse(&state).map_err(|w| corrupt(&self.shown, w))?;
            total.add(state, &amount);
        }
        Ok(total)
    }
}

/// Upsert `c` unless the stored cursor is further on; then return the stored one.
fn move_cursor(tx: &Connection, db: &str, c: &Cursor) -> Result<Option<Cursor>, DbError> {
    if let Some(stored) = read_cursor(tx, db, &c.account, &c.stream)? {
        if c.is_behind(&stored) {
            return Ok(Some(stored));
        }
    }
    tx.execute(
        &format!(
            "INSERT INTO stellar_cursor (account, stream, backend, cursor, ledger)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (account, stream) DO UPDATE SET backend = excluded.backend,
                 cursor = excluded.cursor, ledger = excluded.ledger, updated_at = {NOW}"
        ),
        params![c.account, c.stream, c.source.as_str(), c.cursor, c.ledger],
    )
    .map_err(|e| backend_err(db, e))?;
    Ok(None)
}

fn read_cursor(
    conn: &Connection,
    db: &str,
    account: &str,
    stream: &str,
) -> Result<Option<Cursor>, DbError> {
    let row = conn
        .query_row(
            "SELECT backend, cursor, ledger FROM stellar_cursor WHERE account = ?1 AND stream = ?2",
            params![account, stream],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )
        .optional()
        .map_err(|e| backend_err(db, e))?;
    let Some((backend, cursor, ledger)) = row else {
        return Ok(None);
    };
    Ok(Some(Cursor {
        account: account.to_string(),
        stream: stream.to_string(),
        source: Source::parse(&backend).map_err(|w| corrupt(db, w))?,
        cursor,
        ledger: u32::try_from(ledger).map_err(|_| corrupt(db, format!("ledger {ledger}")))?,
    }))
}

fn read_payment(conn: &Connection, db: &str, id: &str) -> Result<Option<Payment>, DbError> {
    conn.query_row(
        &format!("SELECT {PAYMENT_COLS} FROM stellar_payments WHERE id = ?1"),
        params![id],
        |row| Ok(to_payment(row)),
    )
    .optional()
    .map_err(|e| backend_err(db, e))?
    .transpose()
    .map_err(|w| corrupt(db, w))
}

/// Run an `UPDATE … RETURNING` that must change exactly one row.
fn update_payment(
    tx: &Connection,
    db: &str,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Payment, DbError> {
    tx.query_row(sql, params, |row| Ok(to_payment(row)))
        .map_err(|e| backend_err(db, e))?
        .map_err(|w| corrupt(db, w))
}

fn to_recorded(r: &Row<'_>) -> Result<Recorded, String> {
    let g = |e: rusqlite::Error| e.to_string();
    let num = |i: usize| -> Result<u32, String> {
        let v: i64 = r.get(i).map_err(g)?;
        u32::try_from(v).map_err(|_| format!("{v} in column {i}"))
    };
    let status: String = r.get(14).map_err(g)?;
    let entry = if status == "gap" {
        Entry::Gap(Gap {
            account: r.get(7).map_err(g)?,
            from_ledger: num(4)?,
            to_ledger: num(5)?,
        })
    } else {
        let amount: String = r.get(12).map_err(g)?;
        Entry::Deposit(Deposit {
            tx_hash: r.get(2).map_err(g)?,
            op_index: num(3)?,
            ledger: num(4)?,
            closed_at: r.get(6).map_err(g)?,
            account: r.get(7).map_err(g)?,
            sender: r.get(8).map_err(g)?,
            customer: r.get(9).map_err(g)?,
            memo_type: MemoType::parse(&r.get::<_, String>(10).map_err(g)?)?,
            asset: r.get(11).map_err(g)?,
            amount: amount.parse().map_err(|e| format!("{e}"))?,
            kind: Kind::parse(&r.get::<_, String>(13).map_err(g)?)?,
            status: Status::parse(&status)?,
        })
    };
    Ok(Recorded {
        id: r.get(0).map_err(g)?,
        recorded_at: r.get(1).map_err(g)?,
        entry,
    })
}

fn to_payment(r: &Row<'_>) -> Result<Payment, String> {
    let g = |e: rusqlite::Error| e.to_string();
    let ledger: Option<i64> = r.get(14).map_err(g)?;
    let max_time: Option<i64> = r.get(10).map_err(g)?;
    let attempts: i64 = r.get(15).map_err(g)?;
    Ok(Payment {
        request: NewPayment {
            id: r.get(0).map_err(g)?,
            customer: r.get(1).map_err(g)?,
            destination: r.get(2).map_err(g)?,
            asset: r.get(3).map_err(g)?,
            amount: r.get(4).map_err(g)?,
            memo_type: r.get(5).map_err(g)?,
            memo: r.get(6).map_err(g)?,
        },
        state: PaymentState::parse(&r.get::<_, String>(7).map_err(g)?)?,
        tx_hash: r.get(8).map_err(g)?,
        envelope: r.get(9).map_err(g)?,
        max_time: max_time
            .map(|t| u64::try_from(t).map_err(|_| format!("max_time {t}")))
            .transpose()?,
        channel: r.get(11).map_err(g)?,
        worker: r.get(12).map_err(g)?,
        result: r.get(13).map_err(g)?,
        ledger: ledger
            .map(|l| u32::try_from(l).map_err(|_| format!("ledger {l}")))
            .transpose()?,
        attempts: u32::try_from(attempts).map_err(|_| format!("attempts {attempts}"))?,
        created_at: r.get(16).map_err(g)?,
        updated_at: r.get(17).map_err(g)?,
    })
}
