//! The handle: one connection, migrated, with the typed operations of [`deposits`] and
//! [`payments`]; each call is one transaction.
use super::conn::{self, Conn};
use super::deposits::{self, Batch, Cursor, Deposit, Gap, Recorded};
use super::payments::{
    self, Claim, ClaimError, Claimed, Marked, NewPayment, Payment, PaymentState, QueueTotal, Signed,
};
use super::postgres::{Pg, PgListener};
use super::sqlite::Sqlite;
use super::{DbError, Target};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One connection to the relay's database, migrated to the current schema.
///
/// Every method is one transaction. A `Db` is one connection: give each thread its own.
pub struct Db {
    conn: Box<dyn Conn>,
    target: Target,
}

impl Db {
    /// Connect (creating a SQLite file if needed) and migrate to the current schema.
    pub fn open(target: &Target) -> Result<Db, DbError> {
        let mut conn: Box<dyn Conn> = match target {
            Target::Sqlite(path) => Box::new(Sqlite::open(path)?),
            Target::Postgres(url) => Box::new(Pg::connect(url)?),
        };
        conn::migrate(conn.as_mut())?;
        Ok(Db {
            conn,
            target: target.clone(),
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The schema version the database stands at.
    pub fn schema_version(&mut self) -> Result<i64, DbError> {
        conn::read_version(self.conn.as_mut())
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
        deposits::record_batch(self.conn.as_mut(), cursors, rows)
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
        deposits::record_gap(self.conn.as_mut(), cursor, gap)
    }

    /// The stored cursor of a stream, if it has one.
    pub fn cursor(&mut self, account: &str, stream: &str) -> Result<Option<Cursor>, DbError> {
        deposits::read_cursor(self.conn.as_mut(), account, stream, false)
    }

    /// Rows of `stellar_deposits` with `id > after`, oldest first, at most `limit`.
    pub fn deposits(&mut self, after: i64, limit: u32) -> Result<Vec<Recorded>, DbError> {
        deposits::deposits(self.conn.as_mut(), after, limit)
    }

    // -- payments --

    /// Queue a payout. Idempotent on `id`: the same request again is [`Marked::AlreadySo`]
    /// (whatever state the row has reached); a different one under the same `id` is refused.
    pub fn enqueue(&mut self, p: &NewPayment) -> Result<Marked, DbError> {
        if p.id.is_empty() {
            return Err(DbError::InvalidRow("a payment needs an id".into()));
        }
        payments::enqueue(self.conn.as_mut(), p)
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
    /// at most [`super::SQLITE_BUSY_TIMEOUT`].
    pub fn claim_and_mark<E>(
        &mut self,
        n: u32,
        worker: &str,
        build: impl FnMut(&Payment) -> Result<Claim, E>,
    ) -> Result<Vec<Claimed>, ClaimError<E>> {
        payments::claim_and_mark(self.conn.as_mut(), n, worker, build)
    }

    /// Rows in `sending`: the ones a starting `pay` resolves by their hash.
    pub fn sending_rows(&mut self) -> Result<Vec<Payment>, DbError> {
        payments::payments_in(self.conn.as_mut(), PaymentState::Sending)
    }

    /// Rows in `state`, oldest first.
    pub fn payments_in(&mut self, state: PaymentState) -> Result<Vec<Payment>, DbError> {
        payments::payments_in(self.conn.as_mut(), state)
    }

    pub fn payment(&mut self, id: &str) -> Result<Option<Payment>, DbError> {
        payments::read_payment(self.conn.as_mut(), id, false)
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
        payments::mark_done(self.conn.as_mut(), id, tx_hash, result, ledger)
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
        payments::mark_failed(self.conn.as_mut(), id, tx_hash, reason, ledger)
    }

    /// `sending` → `sending` on a new envelope, `attempts` + 1. Call it only once the old
    /// envelope `old_hash` can never land (a closed ledger is past its upper time bound). It
    /// succeeds for one caller only: another worker that rebuilt first makes this
    /// [`DbError::StaleEnvelope`], and the caller's new envelope must then be thrown away.
    pub fn rebuild(&mut self, id: &str, old_hash: &str, new: &Signed) -> Result<(), DbError> {
        payments::rebuild(self.conn.as_mut(), id, old_hash, new)
    }

    /// What the queue still has to pay in `asset` (`CODE:ISSUER` or `native`).
    pub fn queue_total(&mut self, asset: &str) -> Result<QueueTotal, DbError> {
        payments::queue_total(self.conn.as_mut(), asset)
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

/// A PostgreSQL connection that hears when a row becomes `pending` (schema migration 3's
/// triggers `NOTIFY` on [`super::schema::PAYMENTS_CHANNEL`]: `pay enqueue`, plain SQL, a failed
/// row set back to pending by hand), so an idle `pay` need not wait for its next poll.
pub struct Listener(PgListener);

impl Listener {
    /// Listen, on PostgreSQL; `None` on SQLite, which has no notifications (`pay` polls it).
    /// Open the database with [`Db::open`] first, so the triggers exist.
    pub fn open(target: &Target) -> Result<Option<Listener>, DbError> {
        match target {
            Target::Sqlite(_) => Ok(None),
            Target::Postgres(url) => PgListener::connect(url).map(|l| Some(Listener(l))),
        }
    }

    /// Wait up to `d`; true if a row became pending meanwhile. An error means the connection is
    /// gone: open a new `Listener`.
    pub fn wait(&mut self, d: Duration) -> Result<bool, DbError> {
        self.0.wait(d)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows queued with plain SQL, and a failed row set back to pending by hand, wake a
    /// listener; SQLite has none to offer.
    #[test]
    fn a_listener_hears_rows_queued_by_plain_sql() {
        let dir = tempfile::tempdir().unwrap();
        let lite = Target::Sqlite(dir.path().join("q.db"));
        Db::open(&lite).unwrap();
        assert!(Listener::open(&lite).unwrap().is_none());
        let Some(target) = crate::db::testing::pg_database() else {
            return;
        };
        Db::open(&target).unwrap();
        let mut l = Listener::open(&target)
            .unwrap()
            .expect("PostgreSQL listens");
        let Target::Postgres(url) = &target else {
            unreachable!()
        };
        let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
        let dest = "GAAZI4TCR3TY5OJHCTJC2A4QSY6CJWJH5IAJTGKIN2ER7LBNVKOCCWN7";
        c.batch_execute(&format!(
            "INSERT INTO stellar_payments (id, destination, asset, amount) VALUES
             ('a', '{dest}', 'native', '1'), ('b', '{dest}', 'native', '2')"
        ))
        .unwrap();
        assert!(l.wait(Duration::from_secs(60)).unwrap(), "no notification");
        c.batch_execute(
            "UPDATE stellar_payments SET state = 'failed', result = 'x' WHERE id = 'a'",
        )
        .unwrap();
        c.batch_execute("UPDATE stellar_payments SET state = 'pending' WHERE id = 'a'")
            .unwrap();
        assert!(l.wait(Duration::from_secs(60)).unwrap(), "no notification");
    }
}
