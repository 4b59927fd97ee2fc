//! The PostgreSQL connection, through the synchronous `postgres` crate, without TLS.
//!
//! Statements are prepared once per connection; each parameter is sent as the type the server
//! says the statement takes (`INTEGER`, `BIGINT`, text), and each column read back as a number
//! or text. Locking is the transactions' (`deposits`, `payments`): advisory locks, `FOR UPDATE`,
//! `FOR UPDATE SKIP LOCKED`, all at `READ COMMITTED`, PostgreSQL's default: each check reads
//! under a row lock, so it sees the latest committed row.
use super::conn::{Cell, Conn, Dialect, Param, Row};
use super::{backend_err, DbError};
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;
use std::time::Duration;

pub(super) struct Pg {
    client: Client,
    shown: String,
    statements: HashMap<String, Statement>,
}

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
        Ok(Pg {
            client,
            shown,
            statements: HashMap::new(),
        })
    }

    fn err(&self, e: postgres::Error) -> DbError {
        backend_err(&self.shown, describe(&e))
    }

    fn prepare(&mut self, sql: &str) -> Result<Statement, DbError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let stmt = self.client.prepare(sql).map_err(|e| self.err(e))?;
        self.statements.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    /// The parameters as the types the statement takes.
    fn bind(
        &self,
        stmt: &Statement,
        params: &[Param<'_>],
    ) -> Result<Vec<Box<dyn ToSql + Sync>>, DbError> {
        if stmt.params().len() != params.len() {
            return Err(backend_err(
                &self.shown,
                format!(
                    "a statement takes {} parameters, {} given",
                    stmt.params().len(),
                    params.len()
                ),
            ));
        }
        stmt.params()
            .iter()
            .zip(params)
            .enumerate()
            .map(|(i, (ty, p))| {
                let out_of_range = |n: i64| {
                    backend_err(
                        &self.shown,
                        format!("{n} does not fit parameter ${}", i + 1),
                    )
                };
                Ok(match (*p, ty) {
                    (Param::Null, &Type::INT2) => Box::new(None::<i16>) as Box<dyn ToSql + Sync>,
                    (Param::Null, &Type::INT4) => Box::new(None::<i32>),
                    (Param::Null, &Type::INT8) => Box::new(None::<i64>),
                    (Param::Null, _) => Box::new(None::<String>),
                    (Param::Int(n), &Type::INT2) => {
                        Box::new(i16::try_from(n).map_err(|_| out_of_range(n))?)
                    }
                    (Param::Int(n), &Type::INT4) => {
                        Box::new(i32::try_from(n).map_err(|_| out_of_range(n))?)
                    }
                    (Param::Int(n), &Type::INT8) => Box::new(n),
                    (Param::Int(n), _) => Box::new(n.to_string()),
                    (Param::Text(s), _) => Box::new(s.to_string()),
                })
            })
            .collect()
    }

    fn run(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<postgres::Row>, DbError> {
        let stmt = self.prepare(sql)?;
        let values = self.bind(&stmt, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|b| b.as_ref()).collect();
        self.client.query(&stmt, &refs).map_err(|e| self.err(e))
    }
}

impl Conn for Pg {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn shown(&self) -> &str {
        &self.shown
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.client.batch_execute(sql).map_err(|e| self.err(e))
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, DbError> {
        let stmt = self.prepare(sql)?;
        let values = self.bind(&stmt, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|b| b.as_ref()).collect();
        self.client.execute(&stmt, &refs).map_err(|e| self.err(e))
    }

    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, DbError> {
        let rows = self.run(sql, params)?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| cell(r, i))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Row)
                    .map_err(|e| self.err(e))
            })
            .collect()
    }
}

/// A connection that listens on [`super::schema::PAYMENTS_CHANNEL`].
pub(super) struct PgListener {
    pg: Pg,
}

impl PgListener {
    pub(super) fn connect(url: &str) -> Result<PgListener, DbError> {
        let mut pg = Pg::connect(url)?;
        pg.batch(&format!("LISTEN {}", super::schema::PAYMENTS_CHANNEL))?;
        Ok(PgListener { pg })
    }

    /// Wait up to `d` for a notification; true if one (or more: they are all taken) came. A
    /// closed connection is an error, so the caller connects again.
    pub(super) fn wait(&mut self, d: Duration) -> Result<bool, DbError> {
        use postgres::fallible_iterator::FallibleIterator as _;
        let first = self.pg.client.notifications().timeout_iter(d).next();
        let got = first.map_err(|e| self.pg.err(e))?.is_some();
        // Take what else has come: one wake-up for all of it.
        loop {
            let next = self.pg.client.notifications().iter().next();
            if next.map_err(|e| self.pg.err(e))?.is_none() {
                break;
            }
        }
        if self.pg.client.is_closed() {
            return Err(backend_err(
                &self.pg.shown,
                "the server closed the listening connection",
            ));
        }
        Ok(got)
    }
}

fn cell(r: &postgres::Row, i: usize) -> Result<Cell, postgres::Error> {
    let ty = r.columns()[i].type_();
    let int = |v: Option<i64>| v.map_or(Cell::Null, Cell::Int);
    Ok(if *ty == Type::INT2 {
        int(r.try_get::<_, Option<i16>>(i)?.map(i64::from))
    } else if *ty == Type::INT4 {
        int(r.try_get::<_, Option<i32>>(i)?.map(i64::from))
    } else if *ty == Type::INT8 {
        int(r.try_get::<_, Option<i64>>(i)?)
    } else if *ty == Type::BOOL {
        int(r.try_get::<_, Option<bool>>(i)?.map(i64::from))
    } else {
        r.try_get::<_, Option<String>>(i)?
            .map_or(Cell::Null, Cell::Text)
    })
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
