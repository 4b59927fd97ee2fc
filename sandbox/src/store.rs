//! SQLite persistence of the sandbox ledger. Each closed ledger is written in one SQLite
//! transaction: entries changed, the header, the ledger record, its transactions, and the
//! history that fell out of the retention window removed, so a crash leaves either the previous
//! ledger or the next one, never half of it. Without `--state` the same schema lives in an
//! in-memory database. The transaction queue is not stored: like stellar-core's, it is empty
//! after a restart.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use super::ledger::{
    Account, AssetKey, Closed, ClosedLedger, DataEntry, Header, Ledger, LedgerRecord, State,
    StoredTx, Trustline,
};

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("state database holds an unreadable row: {0}")]
    Json(#[from] serde_json::Error),
    #[error("state database belongs to network {found:?}, not {expected:?}")]
    WrongNetwork { found: String, expected: String },
}

pub struct Store {
    conn: Connection,
}

/// Everything loaded at start.
pub struct Loaded {
    pub ledger: Ledger,
    pub txs: HashMap<[u8; 32], StoredTx>,
    pub ledgers: Vec<LedgerRecord>,
}

fn account_key(id: &[u8; 32]) -> String {
    format!("account:{}", hex::encode(id))
}

fn trustline_key(id: &[u8; 32], asset: &AssetKey) -> String {
    format!(
        "trustline:{}:{}:{}",
        hex::encode(id),
        asset.code,
        hex::encode(asset.issuer)
    )
}

fn data_key(id: &[u8; 32], name: &str) -> String {
    format!("data:{}:{}", hex::encode(id), hex::encode(name.as_bytes()))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct TrustlineRow {
    account: [u8; 32],
    asset: AssetKey,
    line: Trustline,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct DataRow {
    account: [u8; 32],
    name: String,
    entry: DataEntry,
}

impl Store {
    /// Open (or create) the database at `path`, or an in-memory one.
    pub fn open(path: Option<&Path>) -> Result<Store, StoreError> {
        let conn = match path {
            Some(p) => Connection::open(p)?,
            None => Connection::open_in_memory()?,
        };
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS entries (k TEXT PRIMARY KEY, v TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS ledgers (seq INTEGER PRIMARY KEY, v TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS txs (hash TEXT PRIMARY KEY, v TEXT NOT NULL);",
        )?;
        Ok(Store { conn })
    }

    /// Load the ledger, or create and persist genesis when the database is empty.
    pub fn load_or_init(&mut self, passphrase: &str, now: u64) -> Result<Loaded, StoreError> {
        let stored_passphrase: Option<String> = self
            .conn
            .query_row("SELECT v FROM meta WHERE k = 'passphrase'", [], |r| {
                r.get(0)
            })
            .optional()?;
        match stored_passphrase {
            None => {
                let ledger = Ledger::genesis(passphrase, now);
                let record = ledger.genesis_record();
                let db = self.conn.transaction()?;
                db.execute(
                    "INSERT INTO meta (k, v) VALUES ('passphrase', ?1)",
                    params![passphrase],
                )?;
                db.execute(
                    "INSERT INTO meta (k, v) VALUES ('header', ?1)",
                    params![serde_json::to_string(&ledger.header)?],
                )?;
                for acc in ledger.state.accounts.values() {
                    db.execute(
                        "INSERT INTO entries (k, v) VALUES (?1, ?2)",
                        params![account_key(&acc.id), serde_json::to_string(acc)?],
                    )?;
                }
                db.execute(
                    "INSERT INTO ledgers (seq, v) VALUES (?1, ?2)",
                    params![record.sequence, serde_json::to_string(&record)?],
                )?;
                db.commit()?;
                Ok(Loaded {
                    ledger,
                    txs: HashMap::new(),
                    ledgers: vec![record],
                })
            }
            Some(found) if found != passphrase => Err(StoreError::WrongNetwork {
                found,
                expected: passphrase.to_string(),
            }),
            Some(_) => self.load(passphrase),
        }
    }

    fn load(&self, passphrase: &str) -> Result<Loaded, StoreError> {
        let header_json: String =
            self.conn
                .query_row("SELECT v FROM meta WHERE k = 'header'", [], |r| r.get(0))?;
        let header: Header = serde_json::from_str(&header_json)?;
        let mut state = State::default();
        let mut stmt = self.conn.prepare("SELECT k, v FROM entries")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (k, v) = row?;
            if k.starts_with("account:") {
                let acc: Account = serde_json::from_str(&v)?;
                state.accounts.insert(acc.id, acc);
            } else if k.starts_with("trustline:") {
                let row: TrustlineRow = serde_json::from_str(&v)?;
                state.trustlines.insert((row.account, row.asset), row.line);
            } else if k.starts_with("data:") {
                let row: DataRow = serde_json::from_str(&v)?;
                state.data.insert((row.account, row.name), row.entry);
            }
        }
        let mut txs = HashMap::new();
        let mut stmt = self.conn.prepare("SELECT v FROM txs")?;
        for row in stmt.query_map([], |r| r.get::<_, String>(0))? {
            let tx: StoredTx = serde_json::from_str(&row?)?;
            if let Some(inner) = tx.inner_hash {
                txs.insert(inner, tx.clone());
            }
            txs.insert(tx.hash, tx);
        }
        let mut ledgers = Vec::new();
        let mut stmt = self.conn.prepare("SELECT v FROM ledgers ORDER BY seq")?;
        for row in stmt.query_map([], |r| r.get::<_, String>(0))? {
            ledgers.push(serde_json::from_str(&row?)?);
        }
        Ok(Loaded {
            ledger: Ledger::from_parts(passphrase, header, state),
            txs,
            ledgers,
        })
    }

    /// Persist a ledger closed by one transaction ([`Ledger::evaluate`]) atomically (`before`
    /// is the state it replaces).
    pub fn commit(&mut self, before: &State, closed: &Closed) -> Result<(), StoreError> {
        let ledger = ClosedLedger {
            state: closed.state.clone(),
            header: closed.header.clone(),
            record: closed.record.clone(),
            txs: vec![closed.tx.clone()],
        };
        self.commit_ledger(before, &ledger, &Pruned::default())
    }

    /// Persist a closed ledger atomically (`before` is the state it replaces), removing the
    /// history that `pruned` names.
    pub fn commit_ledger(
        &mut self,
        before: &State,
        closed: &ClosedLedger,
        pruned: &Pruned,
    ) -> Result<(), StoreError> {
        let db = self.conn.transaction()?;
        write_entries(&db, before, &closed.state)?;
        db.execute(
            "INSERT OR REPLACE INTO meta (k, v) VALUES ('header', ?1)",
            params![serde_json::to_string(&closed.header)?],
        )?;
        db.execute(
            "INSERT INTO ledgers (seq, v) VALUES (?1, ?2)",
            params![
                closed.record.sequence,
                serde_json::to_string(&closed.record)?
            ],
        )?;
        for tx in &closed.txs {
            db.execute(
                "INSERT INTO txs (hash, v) VALUES (?1, ?2)",
                params![hex::encode(tx.hash), serde_json::to_string(tx)?],
            )?;
        }
        if let Some(below) = pruned.ledgers_below {
            db.execute("DELETE FROM ledgers WHERE seq < ?1", params![below])?;
        }
        for hash in &pruned.txs {
            db.execute(
                "DELETE FROM txs WHERE hash = ?1",
                params![hex::encode(hash)],
            )?;
        }
        db.commit()?;
        Ok(())
    }
}

/// History that fell out of the retention window with a newly closed ledger.
#[derive(Clone, Debug, Default)]
pub struct Pruned {
    /// Ledgers below this sequence are gone.
    pub ledgers_below: Option<u32>,
    /// Transactions (by submitted hash) in those ledgers.
    pub txs: Vec<[u8; 32]>,
}

/// The entries that differ between `before` and `after`, upserted or deleted.
fn write_entries(
    db: &rusqlite::Transaction<'_>,
    before: &State,
    after: &State,
) -> Result<(), StoreError> {
    let mut upsert = db.prepare("INSERT OR REPLACE INTO entries (k, v) VALUES (?1, ?2)")?;
    let mut delete = db.prepare("DELETE FROM entries WHERE k = ?1")?;
    for (id, acc) in &after.accounts {
        if before.accounts.get(id) != Some(acc) {
            upsert.execute(params![account_key(id), serde_json::to_string(acc)?])?;
        }
    }
    for id in before.accounts.keys() {
        if !after.accounts.contains_key(id) {
            delete.execute(params![account_key(id)])?;
        }
    }
    for ((id, asset), line) in &after.trustlines {
        if before.trustlines.get(&(*id, asset.clone())) != Some(line) {
            let row = TrustlineRow {
                account: *id,
                asset: asset.clone(),
                line: line.clone(),
            };
            upsert.execute(params![
                trustline_key(id, asset),
                serde_json::to_string(&row)?
            ])?;
        }
    }
    for (id, asset) in before.trustlines.keys() {
        if !after.trustlines.contains_key(&(*id, asset.clone())) {
            delete.execute(params![trustline_key(id, asset)])?;
        }
    }
    for ((id, name), entry) in &after.data {
        if before.data.get(&(*id, name.clone())) != Some(entry) {
            let row = DataRow {
                account: *id,
                name: name.clone(),
                entry: entry.clone(),
            };
            upsert.execute(params![data_key(id, name), serde_json::to_string(&row)?])?;
        }
    }
    for (id, name) in before.data.keys() {
        if !after.data.contains_key(&(*id, name.clone())) {
            delete.execute(params![data_key(id, name)])?;
        }
    }
    Ok(())
}
