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
//!
//! Layout: [`target`] (where the database is), [`deposits`] and [`payments`] (the row types and
//! the transactions, written once), `conn` (the one seam between those transactions and the
//! two databases: SQL with typed parameters; `sqlite` and `postgres` implement it), [`schema`]
//! (the migrations), `handle` ([`Db`]), [`csv`] (`pay enqueue`'s input).
use std::fmt;

mod conn;
pub mod csv;
pub mod deposits;
mod handle;
pub mod payments;
mod postgres;
pub mod schema;
mod sqlite;
pub mod target;

pub use deposits::{
    closed_at_from_unix, Batch, Cursor, Deposit, Entry, Gap, Kind, MemoType, Recorded, Source,
    Status,
};
pub use handle::{Db, Listener, PayLock};
pub use payments::{
    Claim, ClaimError, Claimed, Marked, NewPayment, Payment, PaymentState, QueueTotal, Signed,
};
pub use target::{redact, Target};

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
/// A database error with the database named, its password never.
pub(crate) fn backend_err(db: &str, e: impl fmt::Display) -> DbError {
    DbError::Backend {
        db: db.to_string(),
        message: e.to_string(),
    }
}

/// A stored value that does not fit its type (a row edited by hand into nonsense).
pub(crate) fn corrupt(db: &str, what: impl fmt::Display) -> DbError {
    DbError::Backend {
        db: db.to_string(),
        message: format!("a stored value is not valid: {what}"),
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
