//! The tables, as versioned migrations.
//!
//! `airgap_schema` holds one row per applied migration (`version`, `name`, `applied_at`). Each
//! migration runs in its own transaction together with the row that records it, so a crash
//! leaves the database at one version or the next, never between. Concurrent first starts are
//! serialized: on SQLite by `BEGIN IMMEDIATE` (one writer), on PostgreSQL by a transaction-level
//! advisory lock ([`PG_MIGRATION_LOCK`]) taken before anything is read.
//!
//! Migrations are append-only: a released one is never edited; a change is a new version.

/// One schema change, in each dialect.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// The key of the advisory lock that serializes migrations on PostgreSQL ("airgapMg").
pub const PG_MIGRATION_LOCK: i64 = 0x6169_7267_6170_4d67;

/// The key of the advisory lock that serializes deposit recording on PostgreSQL ("airgapDp"), so
/// `stellar_deposits.id` grows in commit order and an anchor paging on `id > last_seen` never
/// skips a row that committed late with a smaller id.
pub const PG_DEPOSITS_LOCK: i64 = 0x6169_7267_6170_4470;

pub const SQLITE_BOOKKEEPING: &str = "
CREATE TABLE IF NOT EXISTS airgap_schema (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);";

pub const PG_BOOKKEEPING: &str = "
CREATE TABLE IF NOT EXISTS airgap_schema (
    version     BIGINT PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);";

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "stellar_deposits and stellar_cursor",
        sqlite: "
CREATE TABLE stellar_deposits (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tx_hash     TEXT,
    op_index    INTEGER,
    ledger      INTEGER NOT NULL,
    ledger_to   INTEGER,
    closed_at   TEXT,
    account     TEXT NOT NULL,
    sender      TEXT,
    customer    TEXT,
    memo_type   TEXT CHECK (memo_type IN ('none', 'id', 'text', 'hash', 'return')),
    asset       TEXT,
    amount      TEXT CHECK (amount GLOB '[0-9]*.[0-9][0-9][0-9][0-9][0-9][0-9][0-9]'
                            AND amount NOT GLOB '*[^0-9.]*' AND amount NOT GLOB '*.*.*'),
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL
                CHECK (status IN ('deposit', 'unattributed', 'unaccepted', 'internal', 'gap')),
    recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    UNIQUE (tx_hash, op_index),
    CHECK (CASE WHEN status = 'gap'
        THEN kind = 'gap' AND ledger_to >= ledger AND tx_hash IS NULL AND op_index IS NULL
        ELSE kind <> 'gap' AND ledger_to IS NULL AND tx_hash IS NOT NULL
             AND op_index IS NOT NULL AND closed_at IS NOT NULL AND sender IS NOT NULL
             AND memo_type IS NOT NULL AND asset IS NOT NULL AND amount IS NOT NULL END),
    CHECK (status <> 'deposit' OR customer IS NOT NULL),
    CHECK (status <> 'unattributed' OR customer IS NULL)
);
CREATE UNIQUE INDEX stellar_deposits_gap ON stellar_deposits (account, ledger) WHERE status = 'gap';
CREATE INDEX stellar_deposits_customer ON stellar_deposits (customer);
CREATE TABLE stellar_cursor (
    account     TEXT NOT NULL,
    stream      TEXT NOT NULL,
    backend     TEXT NOT NULL CHECK (backend IN ('horizon', 'rpc')),
    cursor      TEXT NOT NULL,
    ledger      INTEGER NOT NULL,
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    PRIMARY KEY (account, stream)
);",
        postgres: "
CREATE TABLE stellar_deposits (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx_hash     TEXT,
    op_index    INTEGER,
    ledger      BIGINT NOT NULL,
    ledger_to   BIGINT,
    closed_at   TIMESTAMPTZ,
    account     TEXT NOT NULL,
    sender      TEXT,
    customer    TEXT,
    memo_type   TEXT CHECK (memo_type IN ('none', 'id', 'text', 'hash', 'return')),
    asset       TEXT,
    amount      TEXT CHECK (amount ~ '^[0-9]+\\.[0-9]{7}$'),
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL
                CHECK (status IN ('deposit', 'unattributed', 'unaccepted', 'internal', 'gap')),
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tx_hash, op_index),
    CHECK (CASE WHEN status = 'gap'
        THEN kind = 'gap' AND ledger_to >= ledger AND tx_hash IS NULL AND op_index IS NULL
        ELSE kind <> 'gap' AND ledger_to IS NULL AND tx_hash IS NOT NULL
             AND op_index IS NOT NULL AND closed_at IS NOT NULL AND sender IS NOT NULL
             AND memo_type IS NOT NULL AND asset IS NOT NULL AND amount IS NOT NULL END),
    CHECK (status <> 'deposit' OR customer IS NOT NULL),
    CHECK (status <> 'unattributed' OR customer IS NULL)
);
CREATE UNIQUE INDEX stellar_deposits_gap ON stellar_deposits (account, ledger) WHERE status = 'gap';
CREATE INDEX stellar_deposits_customer ON stellar_deposits (customer);
CREATE TABLE stellar_cursor (
    account     TEXT NOT NULL,
    stream      TEXT NOT NULL,
    backend     TEXT NOT NULL CHECK (backend IN ('horizon', 'rpc')),
    cursor      TEXT NOT NULL,
    ledger      BIGINT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (account, stream)
);",
    },
    Migration {
        version: 2,
        name: "stellar_payments",
        sqlite: "
CREATE TABLE stellar_payments (
    id          TEXT PRIMARY KEY CHECK (id <> ''),
    customer    TEXT,
    destination TEXT NOT NULL,
    asset       TEXT NOT NULL,
    amount      TEXT NOT NULL,
    memo_type   TEXT NOT NULL DEFAULT 'none',
    memo        TEXT,
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sending', 'done', 'failed')),
    tx_hash     TEXT,
    envelope    TEXT,
    max_time    INTEGER,
    channel     TEXT,
    worker      TEXT,
    result      TEXT,
    ledger      INTEGER,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    CHECK (state NOT IN ('sending', 'done')
           OR (tx_hash IS NOT NULL AND envelope IS NOT NULL AND max_time IS NOT NULL)),
    CHECK (state <> 'done' OR ledger IS NOT NULL)
);
CREATE INDEX stellar_payments_state ON stellar_payments (state, created_at, id);
-- What makes a payment twice impossible even for plain SQL: a done row never changes, a row
-- with an envelope out never goes back to pending nor disappears, and what a row pays is fixed
-- once it has left pending.
CREATE TRIGGER stellar_payments_done_is_final BEFORE UPDATE ON stellar_payments
WHEN OLD.state = 'done'
BEGIN SELECT RAISE(ABORT, 'stellar_payments: a done payment never changes'); END;
CREATE TRIGGER stellar_payments_sending_stays BEFORE UPDATE ON stellar_payments
WHEN OLD.state = 'sending' AND NEW.state = 'pending'
BEGIN SELECT RAISE(ABORT, 'stellar_payments: a sending payment has an envelope out; it never goes back to pending'); END;
CREATE TRIGGER stellar_payments_content_fixed BEFORE UPDATE ON stellar_payments
WHEN OLD.state <> 'pending' AND (NEW.id IS NOT OLD.id OR NEW.destination IS NOT OLD.destination
    OR NEW.asset IS NOT OLD.asset OR NEW.amount IS NOT OLD.amount
    OR NEW.memo_type IS NOT OLD.memo_type OR NEW.memo IS NOT OLD.memo)
BEGIN SELECT RAISE(ABORT, 'stellar_payments: what a payment pays is fixed once it has left pending'); END;
CREATE TRIGGER stellar_payments_sending_kept BEFORE DELETE ON stellar_payments
WHEN OLD.state = 'sending'
BEGIN SELECT RAISE(ABORT, 'stellar_payments: a sending payment has an envelope out; it cannot be deleted'); END;",
        postgres: "
CREATE TABLE stellar_payments (
    id          TEXT PRIMARY KEY CHECK (id <> ''),
    customer    TEXT,
    destination TEXT NOT NULL,
    asset       TEXT NOT NULL,
    amount      TEXT NOT NULL,
    memo_type   TEXT NOT NULL DEFAULT 'none',
    memo        TEXT,
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sending', 'done', 'failed')),
    tx_hash     TEXT,
    envelope    TEXT,
    max_time    BIGINT,
    channel     TEXT,
    worker      TEXT,
    result      TEXT,
    ledger      BIGINT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (state NOT IN ('sending', 'done')
           OR (tx_hash IS NOT NULL AND envelope IS NOT NULL AND max_time IS NOT NULL)),
    CHECK (state <> 'done' OR ledger IS NOT NULL)
);
CREATE INDEX stellar_payments_state ON stellar_payments (state, created_at, id);
CREATE FUNCTION stellar_payments_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.state = 'sending' THEN
            RAISE EXCEPTION 'stellar_payments: payment % has an envelope out; it cannot be deleted', OLD.id;
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.state = 'done' THEN
        RAISE EXCEPTION 'stellar_payments: payment % is done and never changes', OLD.id;
    END IF;
    IF OLD.state = 'sending' AND NEW.state = 'pending' THEN
        RAISE EXCEPTION 'stellar_payments: payment % has an envelope out; it never goes back to pending', OLD.id;
    END IF;
    IF OLD.state <> 'pending' AND (NEW.id IS DISTINCT FROM OLD.id
        OR NEW.destination IS DISTINCT FROM OLD.destination
        OR NEW.asset IS DISTINCT FROM OLD.asset OR NEW.amount IS DISTINCT FROM OLD.amount
        OR NEW.memo_type IS DISTINCT FROM OLD.memo_type OR NEW.memo IS DISTINCT FROM OLD.memo) THEN
        RAISE EXCEPTION 'stellar_payments: what payment % pays is fixed once it has left pending', OLD.id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER stellar_payments_guard BEFORE UPDATE OR DELETE ON stellar_payments
FOR EACH ROW EXECUTE FUNCTION stellar_payments_guard();",
    },
    Migration {
        version: 3,
        name: "stellar_payments notifies its listeners of pending rows",
        // SQLite has no NOTIFY: `pay` polls it.
        sqlite: "-- PostgreSQL only: SQLite has no LISTEN/NOTIFY.",
        // One notification per transaction that queues a row (the payload is the same for every
        // row, and PostgreSQL folds identical notifications of one transaction into one), so a
        // bulk insert wakes each listener once; plain SQL inserts notify as `pay enqueue` does.
        postgres: "
CREATE FUNCTION stellar_payments_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('stellar_payments', '');
    RETURN NULL;
END $$;
CREATE TRIGGER stellar_payments_queued AFTER INSERT ON stellar_payments
FOR EACH ROW WHEN (NEW.state = 'pending') EXECUTE FUNCTION stellar_payments_notify();
CREATE TRIGGER stellar_payments_requeued AFTER UPDATE OF state ON stellar_payments
FOR EACH ROW WHEN (OLD.state <> 'pending' AND NEW.state = 'pending')
EXECUTE FUNCTION stellar_payments_notify();",
    },
];

/// The PostgreSQL channel on which migration 3's triggers announce a row that became `pending`.
pub const PAYMENTS_CHANNEL: &str = "stellar_payments";

/// The newest version this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_count_up_from_one() {
        for (i, m) in super::MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
        }
    }
}
