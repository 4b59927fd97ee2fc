//! The SQLite connection: one file, WAL, `synchronous=FULL`, statements cached, `$n` placeholders
//! rewritten to `?n`. Every write transaction begins `IMMEDIATE` (`conn::write`).
use super::conn::{sqlite_placeholders, Cell, Conn, Dialect, Param, Row};
use super::{backend_err, DbError};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;
use std::path::Path;

pub(super) struct Sqlite {
    conn: Connection,
    shown: String,
}

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
        let mode = wal_mode(&conn).map_err(open_err)?;
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

    fn err(&self, e: rusqlite::Error) -> DbError {
        backend_err(&self.shown, e)
    }
}

/// Switches a file to WAL. The switch takes the file's exclusive lock, and SQLite gives up on a
/// contended lock at once here instead of calling the busy handler (eight first starts at once
/// saw "database is locked"), so the switch is retried for as long as the busy timeout allows.
fn wal_mode(conn: &Connection) -> Result<String, rusqlite::Error> {
    let deadline = std::time::Instant::now() + super::SQLITE_BUSY_TIMEOUT;
    loop {
        match conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

fn value(p: &Param<'_>) -> Value {
    match *p {
        Param::Null => Value::Null,
        Param::Int(n) => Value::Integer(n),
        Param::Text(s) => Value::Text(s.to_string()),
    }
}

impl Conn for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn shown(&self) -> &str {
        &self.shown
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn.execute_batch(sql).map_err(|e| self.err(e))
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached(&sqlite_placeholders(sql))
            .map_err(|e| backend_err(&self.shown, e))?;
        let values: Vec<_> = params.iter().map(value).collect();
        let n = stmt
            .execute(rusqlite::params_from_iter(values))
            .map_err(|e| backend_err(&self.shown, e))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, DbError> {
        let err = |e| backend_err(&self.shown, e);
        let mut stmt = self
            .conn
            .prepare_cached(&sqlite_placeholders(sql))
            .map_err(err)?;
        let width = stmt.column_count();
        let values: Vec<_> = params.iter().map(value).collect();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(values))
            .map_err(err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(err)? {
            let mut cells = Vec::with_capacity(width);
            for i in 0..width {
                cells.push(match r.get_ref(i).map_err(err)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(n) => Cell::Int(n),
                    ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Real(f) => Cell::Text(f.to_string()),
                    ValueRef::Blob(b) => Cell::Text(hex::encode(b)),
                });
            }
            out.push(Row(cells));
        }
        Ok(out)
    }
}
