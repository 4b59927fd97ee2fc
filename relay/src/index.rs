//! The index of one `submit` run: every blob of the run with what is needed to send it, kept in a
//! private temporary SQLite file (deleted when the run ends) instead of memory, so that a run's
//! memory does not grow with its number of blobs. Directory listings are sorted here too.
//!
//! Order: blobs are numbered as read (`ord`, the operator's order: file names for a directory).
//! [`Index::order`] gives each a `slot`: the operator's order between accounts, but each source
//! account's slots refilled with its blobs sorted by sequence number (a later sequence can only
//! follow an earlier one). Blobs go out in slot order, or, with parallel lanes, each account's in
//! slot order.
use airgap::account::AccountId;
use rusqlite::{params, Connection, OptionalExtension};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[error("the run's temporary index failed: {0} (is the temporary directory full or unwritable?)")]
pub struct IndexError(#[from] rusqlite::Error);

/// One blob of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// How the operator named it.
    pub input: String,
    /// The file to move to done/ or failed/ once decided (a file that is exactly one blob).
    pub path: Option<PathBuf>,
    /// The base64 envelope, whitespace removed (empty for an unreadable input).
    pub text: String,
    pub hash: Option<String>,
    pub source: Option<AccountId>,
    pub sequence: i64,
    /// Why it will not be sent (the run is then refused as a whole).
    pub refusal: Option<String>,
}

pub struct Index {
    conn: Connection,
}

/// How many rows one page of a listing holds in memory.
const PAGE: i64 = 256;

const SCHEMA: &str = "
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -1024;
CREATE TABLE names (name BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE items (
    ord      INTEGER PRIMARY KEY,
    input    TEXT NOT NULL,
    path     BLOB,
    text     TEXT NOT NULL,
    hash     TEXT,
    source   TEXT,
    sequence INTEGER NOT NULL,
    refusal  TEXT,
    slot     INTEGER
);
CREATE TABLE lanes (source TEXT PRIMARY KEY, first INTEGER NOT NULL);
BEGIN;";

#[cfg(unix)]
fn path_bytes(p: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes().to_vec()
}

#[cfg(unix)]
fn bytes_path(b: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(OsString::from_vec(b))
}

#[cfg(not(unix))]
fn path_bytes(p: &Path) -> Vec<u8> {
    p.to_string_lossy().into_owned().into_bytes()
}

#[cfg(not(unix))]
fn bytes_path(b: Vec<u8>) -> PathBuf {
    PathBuf::from(OsString::from(String::from_utf8_lossy(&b).into_owned()))
}

const ITEM: &str = "SELECT input, path, text, hash, source, sequence, refusal";

fn row_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
    Ok(Item {
        input: r.get(0)?,
        path: r.get::<_, Option<Vec<u8>>>(1)?.map(bytes_path),
        text: r.get(2)?,
        hash: r.get(3)?,
        source: r
            .get::<_, Option<String>>(4)?
            .and_then(|s| s.parse::<AccountId>().ok()),
        sequence: r.get(5)?,
        refusal: r.get(6)?,
    })
}

impl Index {
    /// A new, empty index in a temporary file.
    pub fn new() -> Result<Index, IndexError> {
        // An empty file name: SQLite's private temporary database on disk, removed on close.
        let conn = Connection::open("")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Index { conn })
    }

    /// Remember a file name of a directory, to be listed sorted by [`Index::names_after`].
    pub fn add_name(&mut self, path: &Path) -> Result<(), IndexError> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO names (name) VALUES (?1)")?
            .execute(params![path_bytes(path)])?;
        Ok(())
    }

    /// The names added, in byte order (as `Vec<PathBuf>::sort` orders names of one directory),
    /// a page at a time; `after` is the last name of the previous page.
    pub fn names_after(&self, after: Option<&Path>) -> Result<Vec<PathBuf>, IndexError> {
        let after = after.map(path_bytes).unwrap_or_default();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name FROM names WHERE name > ?1 ORDER BY name LIMIT ?2")?;
        let rows = stmt.query_map(params![after, PAGE], |r| r.get::<_, Vec<u8>>(0))?;
        Ok(rows.map(|r| r.map(bytes_path)).collect::<Result<_, _>>()?)
    }

    pub fn add(&mut self, item: &Item) -> Result<(), IndexError> {
        self.conn
            .prepare_cached(
                "INSERT INTO items (input, path, text, hash, source, sequence, refusal)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                item.input,
                item.path.as_deref().map(path_bytes),
                item.text,
                item.hash,
                item.source.map(|s| s.to_string()),
                item.sequence,
                item.refusal,
            ])?;
        Ok(())
    }

    /// How many items the index holds.
    pub fn count(&self) -> Result<u64, IndexError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Every item in the order read, a page at a time; `after` is the `ord` of the previous
    /// page's last item (0 to start).
    pub fn in_read_order(&self, after: i64) -> Result<Vec<(i64, Item)>, IndexError> {
        self.page(
            &format!("{ITEM}, ord FROM items WHERE ord > ?1 ORDER BY ord LIMIT ?2"),
            params![after, PAGE],
        )
    }

    /// Give each item its slot (see the module's comment) and list the lanes. Call once, after
    /// the last [`Index::add`].
    pub fn order(&mut self) -> Result<(), IndexError> {
        self.conn.execute_batch(
            "COMMIT;
             BEGIN;
             CREATE TABLE by_ord AS SELECT source, ord,
                 ROW_NUMBER() OVER (PARTITION BY source ORDER BY ord) AS k
                 FROM items WHERE source IS NOT NULL;
             CREATE TABLE by_seq AS SELECT source, ord,
                 ROW_NUMBER() OVER (PARTITION BY source ORDER BY sequence, ord) AS k
                 FROM items WHERE source IS NOT NULL;
             CREATE INDEX by_ord_k ON by_ord (source, k);
             CREATE INDEX by_seq_ord ON by_seq (ord);
             UPDATE items SET slot = ord WHERE source IS NULL;
             UPDATE items SET slot = (
                 SELECT by_ord.ord FROM by_seq JOIN by_ord
                 ON by_ord.source = by_seq.source AND by_ord.k = by_seq.k
                 WHERE by_seq.ord = items.ord)
             WHERE source IS NOT NULL;
             DROP TABLE by_ord;
             DROP TABLE by_seq;
             CREATE INDEX items_slot ON items (slot);
             CREATE INDEX items_lane ON items (source, slot);
             INSERT INTO lanes SELECT source, MIN(slot) FROM items
                 WHERE source IS NOT NULL GROUP BY source;
             CREATE INDEX lanes_first ON lanes (first);
             COMMIT;",
        )?;
        Ok(())
    }

    /// The items after slot `after`, in slot order, a page at a time.
    pub fn in_slot_order(&self, after: i64) -> Result<Vec<(i64, Item)>, IndexError> {
        self.page(
            &format!("{ITEM}, slot FROM items WHERE slot > ?1 ORDER BY slot LIMIT ?2"),
            params![after, PAGE],
        )
    }

    /// The next item of `source`'s lane after slot `after`.
    pub fn next_in_lane(
        &self,
        source: &AccountId,
        after: i64,
    ) -> Result<Option<(i64, Item)>, IndexError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{ITEM}, slot FROM items WHERE source = ?1 AND slot > ?2 ORDER BY slot LIMIT 1"
        ))?;
        Ok(stmt
            .query_row(params![source.to_string(), after], |r| {
                Ok((r.get(7)?, row_item(r)?))
            })
            .optional()?)
    }

    /// The lane (source account) whose first blob comes next after `after` (a lane's first slot).
    pub fn next_lane(&self, after: i64) -> Result<Option<(i64, AccountId)>, IndexError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT first, source FROM lanes WHERE first > ?1 ORDER BY first LIMIT 1",
        )?;
        let row = stmt
            .query_row(params![after], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .optional()?;
        Ok(row.and_then(|(first, s)| Some((first, s.parse().ok()?))))
    }

    fn page(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<(i64, Item)>, IndexError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(args, |r| Ok((r.get(7)?, row_item(r)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use airgap::keys::SecretSeed;

    fn item(input: &str, source: Option<AccountId>, sequence: i64) -> Item {
        Item {
            input: input.into(),
            path: Some(PathBuf::from(format!("/d/{input}"))),
            text: format!("text-{input}"),
            hash: Some(format!("hash-{input}")),
            source,
            sequence,
            refusal: None,
        }
    }

    #[test]
    fn slots_keep_the_operator_order_between_accounts_and_sequence_order_within() {
        let a = SecretSeed::generate().unwrap().public_key();
        let b = SecretSeed::generate().unwrap().public_key();
        let mut ix = Index::new().unwrap();
        for it in [
            item("1", Some(a), 12),
            item("2", Some(b), 7),
            item("3", None, 0),
            item("4", Some(a), 10),
            item("5", Some(a), 11),
            item("6", Some(b), 6),
        ] {
            ix.add(&it).unwrap();
        }
        ix.order().unwrap();
        // The same order as inputs::sequence_order gives for the same blobs.
        let order: Vec<String> = ix
            .in_slot_order(0)
            .unwrap()
            .into_iter()
            .map(|(_, i)| i.input)
            .collect();
        assert_eq!(order, ["4", "6", "3", "5", "1", "2"]);
        // Lanes in order of their first slot; each in sequence order.
        let (first, lane) = ix.next_lane(0).unwrap().unwrap();
        assert_eq!(lane, a);
        let mut seen = Vec::new();
        let mut after = 0;
        while let Some((slot, it)) = ix.next_in_lane(&a, after).unwrap() {
            seen.push(it.sequence);
            after = slot;
        }
        assert_eq!(seen, [10, 11, 12]);
        let (_, lane) = ix.next_lane(first).unwrap().unwrap();
        assert_eq!(lane, b);
        assert!(ix
            .next_lane(ix.next_lane(first).unwrap().unwrap().0)
            .unwrap()
            .is_none());
        // Read order is kept too, and items come back whole.
        let read = ix.in_read_order(0).unwrap();
        assert_eq!(read.len(), 6);
        assert_eq!(read[0].1, item("1", Some(a), 12));
    }

    #[test]
    fn names_page_in_byte_order() {
        let mut ix = Index::new().unwrap();
        let n = PAGE as usize * 2 + 3;
        let mut want: Vec<PathBuf> = (0..n)
            .map(|i| PathBuf::from(format!("/d/{}", n - i)))
            .collect();
        for p in &want {
            ix.add_name(p).unwrap();
        }
        want.sort();
        let mut got = Vec::new();
        loop {
            let page = ix.names_after(got.last().map(PathBuf::as_path)).unwrap();
            if page.is_empty() {
                break;
            }
            got.extend(page);
        }
        assert_eq!(got, want);
    }
}
