//! The submission journal: a SQLite file (WAL, synchronous=FULL) recording every blob a run has
//! seen, what was sent, and what came back, so an interrupted run resumes without losing or
//! double-reporting anything. One run at a time holds it (exclusive lock for the run's lifetime).
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    #[error("the journal {path} is in use by another airgap-relay run")]
    Busy { path: String },
    #[error("the journal {path} cannot be used: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("there is no journal at {0}")]
    Missing(String),
    /// A group commit failed; every change in it is reported with this.
    #[error("the journal {path} cannot be used: {message}")]
    Commit { path: String, message: String },
}

/// Where a blob stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Seen, nothing sent yet.
    New,
    /// A request was (or may have been) sent; the outcome is not known.
    Sending,
    /// Sent; no outcome within the run's timeout.
    Pending,
    Success,
    Failed,
    /// Refused by Horizon without being applied (malformed, submission disabled, …).
    Error,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::New => "new",
            State::Sending => "sending",
            State::Pending => "pending",
            State::Success => "success",
            State::Failed => "failed",
            State::Error => "error",
        }
    }

    fn parse(s: &str) -> State {
        match s {
            "new" => State::New,
            "sending" => State::Sending,
            "pending" => State::Pending,
            "success" => State::Success,
            "failed" => State::Failed,
            _ => State::Error,
        }
    }

    /// A decided outcome that no later run changes.
    pub fn is_final(self) -> bool {
        matches!(self, State::Success | State::Failed)
    }
}

/// One journal row.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// The hash of the blob as read (for a fee bump: of the inner transaction).
    pub hash: String,
    pub input: String,
    pub source: String,
    pub sequence: String,
    pub state: State,
    pub attempts: i64,
    /// The hash actually submitted (the fee bump's, when one was made).
    pub submitted_hash: Option<String>,
    /// The exact base64 bytes sent, so a resumed run sends the same bytes.
    #[serde(skip)]
    pub submitted: Option<String>,
    pub ledger: Option<i64>,
    pub result_codes: Option<serde_json::Value>,
    pub message: Option<String>,
    pub last_response: Option<String>,
    /// True once the outcome has been printed by a run.
    pub reported: bool,
    pub moved_to: Option<String>,
    pub updated: String,
}

/// What [`Journal::decide`] records of a blob's outcome.
#[derive(Debug, Clone)]
pub struct Decision {
    pub state: State,
    pub ledger: Option<u64>,
    pub result_codes: Option<serde_json::Value>,
    pub message: String,
    /// Horizon's last answer (the first 16 KiB are kept).
    pub last_response: Option<String>,
    /// Where the blob file is about to be moved (directory runs).
    pub moved_to: Option<PathBuf>,
}

impl Decision {
    /// A decision with only a state and a message (tests).
    #[cfg(test)]
    fn of(state: State, message: &str) -> Decision {
        Decision {
            state,
            ledger: None,
            result_codes: None,
            message: message.into(),
            last_response: None,
            moved_to: None,
        }
    }
}

/// A blob for [`Journal::insert_all`].
pub struct NewEntry<'a> {
    pub hash: &'a str,
    pub input: &'a str,
    pub source: String,
    pub sequence: String,
}

pub struct Journal {
    conn: Connection,
    path: PathBuf,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS blobs (
    hash            TEXT PRIMARY KEY,
    input           TEXT NOT NULL,
    source          TEXT NOT NULL,
    sequence        TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    submitted_hash  TEXT,
    submitted       TEXT,
    ledger          INTEGER,
    result_codes    TEXT,
    message         TEXT,
    last_response   TEXT,
    reported        INTEGER NOT NULL DEFAULT 0,
    moved_to        TEXT,
    first_seen      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
    updated         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
);";

/// The most bytes of a Horizon answer kept in the journal.
const MAX_RESPONSE: usize = 16 * 1024;

fn now_sql() -> &'static str {
    "strftime('%Y-%m-%dT%H:%M:%SZ','now')"
}

impl Journal {
    fn err(&self, source: rusqlite::Error) -> JournalError {
        sql_err(&self.path, source)
    }

    /// Open (creating if needed) for a submit run, and take the run's exclusive lock.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let conn = Connection::open(path).map_err(|e| sql_err(path, e))?;
        // Another run holding the journal is reported at once, not waited for.
        conn.busy_timeout(std::time::Duration::from_millis(200))
            .map_err(|e| sql_err(path, e))?;
        let j = Journal {
            conn,
            path: path.to_path_buf(),
        };
        // Exclusive locking before WAL: no shared-memory index, and the lock is held until this
        // process exits (the OS drops it if the process is killed).
        j.conn
            .execute_batch(
                "PRAGMA locking_mode=EXCLUSIVE;
                 PRAGMA journal_mode=WAL;
                 PRAGMA synchronous=FULL;",
            )
            .map_err(|e| busy_or(path, e))?;
        j.conn
            .execute_batch(&format!("BEGIN EXCLUSIVE; {SCHEMA} COMMIT;"))
            .map_err(|e| busy_or(path, e))?;
        Ok(j)
    }

    /// Open an existing journal to read it.
    pub fn open_read(path: &Path) -> Result<Journal, JournalError> {
        if !path.exists() {
            return Err(JournalError::Missing(path.display().to_string()));
        }
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| sql_err(path, e))?;
        Ok(Journal {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub fn get(&self, hash: &str) -> Result<Option<Entry>, JournalError> {
        self.conn
            .query_row(
                &format!("{SELECT} WHERE hash = ?1"),
                params![hash],
                row_to_entry,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn list(&self) -> Result<Vec<Entry>, JournalError> {
        let mut stmt = self
            .conn
            .prepare(&format!("{SELECT} ORDER BY first_seen, rowid"))
            .map_err(|e| busy_or(&self.path, e))?;
        let rows = stmt
            .query_map([], row_to_entry)
            .map_err(|e| busy_or(&self.path, e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| busy_or(&self.path, e))
    }

    /// How many blobs the journal holds decided: `(success, failed)`.
    pub fn decided(&self) -> Result<(u64, u64), JournalError> {
        let count = |state: State| {
            self.conn
                .query_row(
                    "SELECT COUNT(*) FROM blobs WHERE state = ?1",
                    params![state.as_str()],
                    |r| r.get::<_, i64>(0),
                )
                .map(|n| u64::try_from(n).unwrap_or(0))
                .map_err(|e| self.err(e))
        };
        Ok((count(State::Success)?, count(State::Failed)?))
    }

    /// Record many blobs seen for the first time, in one commit.
    pub fn insert_all(&mut self, rows: &[NewEntry<'_>]) -> Result<(), JournalError> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(|e| sql_err(&path, e))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO blobs (hash, input, source, sequence, state)
                     VALUES (?1, ?2, ?3, ?4, 'new')",
                )
                .map_err(|e| sql_err(&path, e))?;
            for r in rows {
                stmt.execute(params![r.hash, r.input, r.source, r.sequence])
                    .map_err(|e| sql_err(&path, e))?;
            }
        }
        tx.commit().map_err(|e| sql_err(&path, e))
    }

    /// About to send `submitted` (hash `submitted_hash`): durable before the request goes out.
    /// `last_response` is Horizon's answer to the previous attempt, if any.
    pub fn sending(
        &self,
        hash: &str,
        submitted_hash: &str,
        submitted: &str,
        last_response: Option<&str>,
    ) -> Result<(), JournalError> {
        let r = last_response.map(|r| r.chars().take(MAX_RESPONSE).collect::<String>());
        self.conn
            .execute(
                &format!(
                    "UPDATE blobs SET state = 'sending', attempts = attempts + 1,
                     submitted_hash = ?2, submitted = ?3,
                     last_response = COALESCE(?4, last_response), updated = {} WHERE hash = ?1",
                    now_sql()
                ),
                params![hash, submitted_hash, submitted, r],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Record an outcome, Horizon's last answer, where the blob file will be moved, and that the
    /// outcome is (about to be) reported: one commit, durable when this returns.
    pub fn decide(&self, hash: &str, d: &Decision) -> Result<(), JournalError> {
        let r = d
            .last_response
            .as_ref()
            .map(|r| r.chars().take(MAX_RESPONSE).collect::<String>());
        self.conn
            .execute(
                &format!(
                    "UPDATE blobs SET state = ?2, ledger = ?3, result_codes = ?4, message = ?5,
                     last_response = COALESCE(?6, last_response),
                     moved_to = COALESCE(?7, moved_to), reported = 1, updated = {}
                     WHERE hash = ?1",
                    now_sql()
                ),
                params![
                    hash,
                    d.state.as_str(),
                    d.ledger.map(|l| l as i64),
                    d.result_codes.as_ref().map(|v| v.to_string()),
                    d.message,
                    r,
                    d.moved_to.as_ref().map(|p| p.display().to_string()),
                ],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    pub fn reported(&self, hash: &str) -> Result<(), JournalError> {
        self.conn
            .execute(
                "UPDATE blobs SET reported = 1 WHERE hash = ?1",
                params![hash],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    pub fn moved(&self, hash: &str, to: &Path) -> Result<(), JournalError> {
        self.conn
            .execute(
                "UPDATE blobs SET moved_to = ?2 WHERE hash = ?1",
                params![hash, to.display().to_string()],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

/// One change (or read) asked of a [`SharedJournal`].
enum Op {
    Get(String),
    Sending {
        hash: String,
        submitted_hash: String,
        submitted: String,
        last_response: Option<String>,
    },
    Decide(String, Decision),
    Moved(String, PathBuf),
    Reported(String),
}

type Reply = Result<Option<Entry>, JournalError>;

/// The most changes one group commit takes.
const GROUP: usize = 512;

/// A journal shared by the workers of a run. One thread owns the connection; the changes that
/// queue up while a commit is under way go into the next commit together (group commit: one
/// fsync for many workers). Every call returns once its change is durable, exactly as with
/// [`Journal`]'s own methods.
pub struct SharedJournal {
    requests: Option<mpsc::Sender<(Op, mpsc::SyncSender<Reply>)>>,
    writer: Option<JoinHandle<()>>,
    path: PathBuf,
}

impl Journal {
    /// Hand the journal to a writer thread for a run's workers.
    pub fn share(self) -> SharedJournal {
        let path = self.path.clone();
        let (tx, rx) = mpsc::channel::<(Op, mpsc::SyncSender<Reply>)>();
        let writer = std::thread::spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut group = vec![first];
                while group.len() < GROUP {
                    match rx.try_recv() {
                        Ok(r) => group.push(r),
                        Err(_) => break,
                    }
                }
                self.commit_group(group);
            }
        });
        SharedJournal {
            requests: Some(tx),
            writer: Some(writer),
            path,
        }
    }

    fn apply(&self, op: Op) -> Reply {
        match op {
            Op::Get(hash) => self.get(&hash),
            Op::Sending {
                hash,
                submitted_hash,
                submitted,
                last_response,
            } => self
                .sending(&hash, &submitted_hash, &submitted, last_response.as_deref())
                .map(|_| None),
            Op::Decide(hash, d) => self.decide(&hash, &d).map(|_| None),
            Op::Moved(hash, to) => self.moved(&hash, &to).map(|_| None),
            Op::Reported(hash) => self.reported(&hash).map(|_| None),
        }
    }

    /// Apply a group of requests in one transaction; answer each once it is committed (or
    /// answer all with the error if the transaction could not be committed).
    fn commit_group(&self, group: Vec<(Op, mpsc::SyncSender<Reply>)>) {
        let failed = |message: String| JournalError::Commit {
            path: self.path.display().to_string(),
            message,
        };
        if let Err(e) = self.conn.execute_batch("BEGIN IMMEDIATE") {
            for (_, reply) in group {
                let _ = reply.send(Err(failed(e.to_string())));
            }
            return;
        }
        let mut answers = Vec::with_capacity(group.len());
        let mut error: Option<String> = None;
        for (op, reply) in group {
            let answer = if error.is_some() {
                Ok(None)
            } else {
                self.apply(op)
            };
            if let Err(e) = &answer {
                error = Some(e.to_string());
            }
            answers.push((answer, reply));
        }
        let outcome = match error {
            Some(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
            None => self.conn.execute_batch("COMMIT").map_err(|e| {
                let _ = self.conn.execute_batch("ROLLBACK");
                e.to_string()
            }),
        };
        for (answer, reply) in answers {
            let _ = reply.send(match &outcome {
                Ok(()) => answer,
                Err(e) => Err(failed(e.clone())),
            });
        }
    }
}

impl SharedJournal {
    fn ask(&self, op: Op) -> Reply {
        let gone = || JournalError::Commit {
            path: self.path.display().to_string(),
            message: "its writer thread stopped".into(),
        };
        let (tx, rx) = mpsc::sync_channel(1);
        self.requests
            .as_ref()
            .ok_or_else(gone)?
            .send((op, tx))
            .map_err(|_| gone())?;
        rx.recv().map_err(|_| gone())?
    }

    pub fn get(&self, hash: &str) -> Result<Option<Entry>, JournalError> {
        self.ask(Op::Get(hash.to_string()))
    }

    /// See [`Journal::sending`].
    pub fn sending(
        &self,
        hash: &str,
        submitted_hash: &str,
        submitted: &str,
        last_response: Option<&str>,
    ) -> Result<(), JournalError> {
        self.ask(Op::Sending {
            hash: hash.into(),
            submitted_hash: submitted_hash.into(),
            submitted: submitted.into(),
            last_response: last_response.map(Into::into),
        })
        .map(|_| ())
    }

    /// See [`Journal::decide`].
    pub fn decide(&self, hash: &str, d: Decision) -> Result<(), JournalError> {
        self.ask(Op::Decide(hash.into(), d)).map(|_| ())
    }

    pub fn moved(&self, hash: &str, to: &Path) -> Result<(), JournalError> {
        self.ask(Op::Moved(hash.into(), to.to_path_buf()))
            .map(|_| ())
    }

    pub fn reported(&self, hash: &str) -> Result<(), JournalError> {
        self.ask(Op::Reported(hash.into())).map(|_| ())
    }
}

impl Drop for SharedJournal {
    fn drop(&mut self) {
        // Closing the channel ends the writer's loop once every queued change is committed.
        self.requests.take();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

const SELECT: &str = "SELECT hash, input, source, sequence, state, attempts, submitted_hash,
    submitted, ledger, result_codes, message, last_response, reported, moved_to, updated FROM blobs";

fn row_to_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    let codes: Option<String> = r.get(9)?;
    Ok(Entry {
        hash: r.get(0)?,
        input: r.get(1)?,
        source: r.get(2)?,
        sequence: r.get(3)?,
        state: State::parse(&r.get::<_, String>(4)?),
        attempts: r.get(5)?,
        submitted_hash: r.get(6)?,
        submitted: r.get(7)?,
        ledger: r.get(8)?,
        result_codes: codes.and_then(|c| serde_json::from_str(&c).ok()),
        message: r.get(10)?,
        last_response: r.get(11)?,
        reported: r.get::<_, i64>(12)? != 0,
        moved_to: r.get(13)?,
        updated: r.get(14)?,
    })
}

fn sql_err(path: &Path, source: rusqlite::Error) -> JournalError {
    JournalError::Sqlite {
        path: path.display().to_string(),
        source,
    }
}

fn busy_or(path: &Path, e: rusqlite::Error) -> JournalError {
    let busy = matches!(
        &e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    );
    if busy {
        JournalError::Busy {
            path: path.display().to_string(),
        }
    } else {
        sql_err(path, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_reopening_and_lock_out_a_second_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        {
            let j = Journal::open(&path).unwrap();
            let mut j = j;
            let row = |input| NewEntry {
                hash: "aa",
                input,
                source: "GA".into(),
                sequence: "5".into(),
            };
            j.insert_all(&[row("blob1")]).unwrap();
            j.insert_all(&[row("blob1-again")]).unwrap();
            j.sending("aa", "aa", "AAAA", None).unwrap();
            assert!(matches!(
                Journal::open(&path),
                Err(JournalError::Busy { .. })
            ));
            let d = Decision {
                ledger: Some(7),
                last_response: Some("200 {}".into()),
                ..Decision::of(State::Success, "ok")
            };
            j.decide("aa", &d).unwrap();
        }
        let j = Journal::open(&path).unwrap();
        let e = j.get("aa").unwrap().unwrap();
        assert_eq!(e.input, "blob1");
        assert_eq!(e.state, State::Success);
        assert_eq!(e.attempts, 1);
        assert_eq!(e.ledger, Some(7));
        assert_eq!(e.submitted.as_deref(), Some("AAAA"));
        assert_eq!(e.last_response.as_deref(), Some("200 {}"));
        assert!(e.reported);
        drop(j);
        let r = Journal::open_read(&path).unwrap();
        assert_eq!(r.list().unwrap().len(), 1);
    }

    #[test]
    fn shared_journal_commits_every_worker_change_durably() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.sqlite");
        let mut j = Journal::open(&path).unwrap();
        let hashes: Vec<String> = (0..64).map(|i| format!("h{i:02}")).collect();
        let rows: Vec<NewEntry<'_>> = hashes
            .iter()
            .map(|h| NewEntry {
                hash: h,
                input: h,
                source: "GA".into(),
                sequence: "1".into(),
            })
            .collect();
        j.insert_all(&rows).unwrap();
        let shared = j.share();
        std::thread::scope(|s| {
            for chunk in hashes.chunks(8) {
                let shared = &shared;
                s.spawn(move || {
                    for h in chunk {
                        shared.sending(h, h, "AAAA", None).unwrap();
                        assert_eq!(shared.get(h).unwrap().unwrap().state, State::Sending);
                        let d = Decision {
                            ledger: Some(3),
                            ..Decision::of(State::Success, "ok")
                        };
                        shared.decide(h, d).unwrap();
                    }
                });
            }
        });
        // Still the run's: a second run is locked out while the writer holds it.
        assert!(matches!(
            Journal::open(&path),
            Err(JournalError::Busy { .. })
        ));
        drop(shared);
        let r = Journal::open_read(&path).unwrap();
        let all = r.list().unwrap();
        assert_eq!(all.len(), 64);
        assert!(all
            .iter()
            .all(|e| e.state == State::Success && e.reported && e.attempts == 1));
    }
}
