//! The one seam between the relay's transactions and the two databases: a connection that runs
//! SQL with typed parameters and returns rows of plain values.
//!
//! Every transaction of `deposits` and `payments` is written once over [`Conn`]. SQL is written
//! with PostgreSQL's `$n` placeholders; the SQLite connection rewrites them to `?n`. Where the
//! dialects really differ (the current time, a timestamp column read as text, row locks, advisory
//! locks, how a write transaction begins) the [`Dialect`] says so.
use super::schema::{self, MIGRATIONS};
use super::DbError;

/// A parameter: SQL's few types as the relay's tables use them.
#[derive(Debug, Clone, Copy)]
pub(super) enum Param<'a> {
    Null,
    Int(i64),
    Text(&'a str),
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(s: &'a str) -> Param<'a> {
        Param::Text(s)
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(s: &'a String) -> Param<'a> {
        Param::Text(s)
    }
}

impl<'a> From<&'a Option<String>> for Param<'a> {
    fn from(s: &'a Option<String>) -> Param<'a> {
        s.as_deref().map_or(Param::Null, Param::Text)
    }
}

impl<'a> From<Option<&'a str>> for Param<'a> {
    fn from(s: Option<&'a str>) -> Param<'a> {
        s.map_or(Param::Null, Param::Text)
    }
}

impl From<i64> for Param<'_> {
    fn from(n: i64) -> Self {
        Param::Int(n)
    }
}

impl From<u32> for Param<'_> {
    fn from(n: u32) -> Self {
        Param::Int(n.into())
    }
}

impl From<Option<u32>> for Param<'_> {
    fn from(n: Option<u32>) -> Self {
        n.map_or(Param::Null, |n| Param::Int(n.into()))
    }
}

/// A value read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Cell {
    Null,
    Int(i64),
    Text(String),
}

/// One row of a result, by column position.
#[derive(Debug, Clone)]
pub(super) struct Row(pub(super) Vec<Cell>);

impl Row {
    fn cell(&self, i: usize) -> Result<&Cell, String> {
        self.0.get(i).ok_or_else(|| format!("no column {i}"))
    }

    pub(super) fn opt_text(&self, i: usize) -> Result<Option<String>, String> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Text(s) => Ok(Some(s.clone())),
            Cell::Int(n) => Err(format!("{n} in column {i}, where text belongs")),
        }
    }

    pub(super) fn text(&self, i: usize) -> Result<String, String> {
        self.opt_text(i)?
            .ok_or_else(|| format!("NULL in column {i}"))
    }

    pub(super) fn opt_int(&self, i: usize) -> Result<Option<i64>, String> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Int(n) => Ok(Some(*n)),
            Cell::Text(s) => Err(format!("{s:?} in column {i}, where a number belongs")),
        }
    }

    pub(super) fn int(&self, i: usize) -> Result<i64, String> {
        self.opt_int(i)?
            .ok_or_else(|| format!("NULL in column {i}"))
    }

    /// A non-negative number that fits a `u32` (ledgers, indexes, counts).
    pub(super) fn u32(&self, i: usize) -> Result<u32, String> {
        let v = self.int(i)?;
        u32::try_from(v).map_err(|_| format!("{v} in column {i}"))
    }

    pub(super) fn opt_u32(&self, i: usize) -> Result<Option<u32>, String> {
        self.opt_int(i)?
            .map(|v| u32::try_from(v).map_err(|_| format!("{v} in column {i}")))
            .transpose()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The current time, as the tables store it.
    pub(super) fn now(self) -> &'static str {
        match self {
            Dialect::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ','now')",
            Dialect::Postgres => "now()",
        }
    }

    /// A time column read as text: `2024-05-01T12:00:07.123Z` (`millis`) or
    /// `2024-05-01T12:00:05Z`. SQLite stores the text itself.
    pub(super) fn time_text(self, col: &str, millis: bool) -> String {
        match self {
            Dialect::Sqlite => col.to_string(),
            Dialect::Postgres => format!(
                "to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS{}\"Z\"')",
                if millis { ".MS" } else { "" }
            ),
        }
    }

    /// A text parameter stored into a time column.
    pub(super) fn time_param(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("${n}"),
            Dialect::Postgres => format!("${n}::text::timestamptz"),
        }
    }

    /// `FOR UPDATE` where rows can be locked (on SQLite the write transaction holds the file).
    pub(super) fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// `FOR UPDATE SKIP LOCKED`, so concurrent claimers take different rows.
    pub(super) fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }
}

/// A connection to one of the two databases.
pub(super) trait Conn: Send {
    fn dialect(&self) -> Dialect;
    /// The database as shown to people (never a password).
    fn shown(&self) -> &str;
    /// Run statements without parameters or results (transaction control, migrations).
    fn batch(&mut self, sql: &str) -> Result<(), DbError>;
    /// Run one statement; the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError>;
    /// Run one statement and read every row it returns.
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, DbError>;

    fn query_opt(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Take a transaction-level advisory lock (PostgreSQL); on SQLite the write transaction
    /// already excludes every other writer.
    fn advisory_lock(&mut self, key: i64) -> Result<(), DbError> {
        if self.dialect() == Dialect::Postgres {
            self.execute("SELECT pg_advisory_xact_lock($1)", &[Param::Int(key)])?;
        }
        Ok(())
    }

    /// A value the database returned that does not fit its type (a row edited into nonsense).
    fn corrupt(&self, what: String) -> DbError {
        super::corrupt(self.shown(), what)
    }
}

/// Run `f` in one write transaction; commit if it returns `Ok`, roll back otherwise. SQLite
/// begins with `BEGIN IMMEDIATE`: the write lock is taken at the start, so the transaction never
/// fails half-way on a lock it could not upgrade to, and the busy timeout covers the wait.
pub(super) fn write<T, E: From<DbError>>(
    c: &mut dyn Conn,
    f: impl FnOnce(&mut dyn Conn) -> Result<T, E>,
) -> Result<T, E> {
    c.batch(match c.dialect() {
        Dialect::Sqlite => "BEGIN IMMEDIATE",
        Dialect::Postgres => "BEGIN",
    })?;
    let out = f(c).and_then(|v| c.batch("COMMIT").map(|()| v).map_err(E::from));
    if out.is_err() {
        // After a failed statement or commit; a connection that is gone has nothing to undo.
        let _ = c.batch("ROLLBACK");
    }
    out
}

/// Create the bookkeeping table and apply each missing migration, each in its own transaction
/// with its row in `airgap_schema`. Concurrent first starts are serialized: on SQLite by the
/// write lock, on PostgreSQL by [`schema::PG_MIGRATION_LOCK`].
pub(super) fn migrate(c: &mut dyn Conn) -> Result<(), DbError> {
    loop {
        let done = write(c, |c| {
            c.advisory_lock(schema::PG_MIGRATION_LOCK)?;
            c.batch(match c.dialect() {
                Dialect::Sqlite => schema::SQLITE_BOOKKEEPING,
                Dialect::Postgres => schema::PG_BOOKKEEPING,
            })?;
            let version = read_version(c)?;
            let latest = schema::latest();
            if version > latest {
                return Err(DbError::TooNew {
                    db: c.shown().to_string(),
                    found: version,
                    known: latest,
                });
            }
            let Some(m) = MIGRATIONS.iter().find(|m| m.version == version + 1) else {
                return Ok(true);
            };
            c.batch(match c.dialect() {
                Dialect::Sqlite => m.sqlite,
                Dialect::Postgres => m.postgres,
            })?;
            c.execute(
                "INSERT INTO airgap_schema (version, name) VALUES ($1, $2)",
                &[m.version.into(), m.name.into()],
            )?;
            Ok(false)
        })?;
        if done {
            return Ok(());
        }
    }
}

pub(super) fn read_version(c: &mut dyn Conn) -> Result<i64, DbError> {
    let row = c.query("SELECT COALESCE(MAX(version), 0) FROM airgap_schema", &[])?;
    row.first()
        .ok_or_else(|| c.corrupt("no row from MAX(version)".into()))?
        .int(0)
        .map_err(|w| c.corrupt(w))
}

/// PostgreSQL's `$n` placeholders as SQLite's `?n`, outside quoted text.
pub(super) fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if ch == '\'' || ch == '"' => quote = Some(ch),
            None if ch == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push('?');
                continue;
            }
            None => {}
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::sqlite_placeholders;

    #[test]
    fn placeholders_rewritten_outside_quotes() {
        assert_eq!(
            sqlite_placeholders("SELECT $1, '$2', \"$3\", $10 FROM t WHERE a = $2"),
            "SELECT ?1, '$2', \"$3\", ?10 FROM t WHERE a = ?2"
        );
    }
}
