//! The relay's database (`airgap_relay::db`): every primitive on SQLite and on PostgreSQL (a
//! throwaway server, see `db::testing`), and the concurrency the two commands rely on.
use airgap_relay::both_backends;
use airgap_relay::db::{
    schema, Amount, Claim, ClaimError, Cursor, Db, DbError, Deposit, Entry, Gap, Kind, Marked,
    MemoType, NewPayment, PaymentState, Signed, Source, Status, Target,
};
use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

const ACCOUNT: &str = "GBASEACCOUNT";

fn hash(n: u64) -> String {
    format!("{n:064x}")
}

fn deposit(n: u64, ledger: u32) -> Deposit {
    Deposit {
        tx_hash: hash(n),
        op_index: (n % 3) as u32,
        ledger,
        closed_at: "2024-05-01T12:00:05Z".into(),
        account: ACCOUNT.into(),
        sender: format!("GSENDER{n}"),
        customer: Some(format!("{}", 1000 + n)),
        memo_type: MemoType::Id,
        asset: "USD:GISSUER".into(),
        amount: Amount::from_stroops(n as i64 * 10_000_000 + 5).unwrap(),
        kind: Kind::Payment,
        status: Status::Deposit,
    }
}

fn cursor(ledger: u32, token: &str) -> Cursor {
    Cursor {
        account: ACCOUNT.into(),
        stream: "payments".into(),
        source: Source::Horizon,
        cursor: token.into(),
        ledger,
    }
}

fn request(id: &str, amount: &str) -> NewPayment {
    NewPayment {
        id: id.into(),
        customer: Some("c-1".into()),
        destination: "GDESTINATION".into(),
        asset: "USD:GISSUER".into(),
        amount: amount.into(),
        memo_type: "text".into(),
        memo: Some("payout".into()),
    }
}

fn signed(n: u64, channel: &str) -> Signed {
    Signed {
        envelope: format!("AAAA{n}"),
        tx_hash: hash(n),
        max_time: 1_700_000_000 + n,
        channel: channel.into(),
    }
}

/// Plain SQL against the database, as an anchor (or an operator) would run it.
fn raw(target: &Target, sql: &str) -> Result<(), String> {
    match target {
        Target::Sqlite(p) => rusqlite::Connection::open(p)
            .and_then(|c| c.execute_batch(sql))
            .map_err(|e| e.to_string()),
        Target::Postgres(url) => postgres::Client::connect(url, postgres::NoTls)
            .and_then(|mut c| c.batch_execute(sql))
            .map_err(|e| match e.as_db_error() {
                Some(d) => d.message().to_string(),
                None => e.to_string(),
            }),
    }
}

/// The first column of every row of `sql`, as text.
fn raw_texts(target: &Target, sql: &str) -> Vec<String> {
    match target {
        Target::Sqlite(p) => {
            let c = rusqlite::Connection::open(p).unwrap();
            let mut s = c.prepare(sql).unwrap();
            let rows = s.query_map([], |r| r.get::<_, String>(0)).unwrap();
            rows.map(Result::unwrap).collect()
        }
        Target::Postgres(url) => {
            let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
            c.query(sql, &[])
                .unwrap()
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect()
        }
    }
}

fn is_pg(target: &Target) -> bool {
    matches!(target, Target::Postgres(_))
}

// ---------------------------------------------------------------------------------------------
// Migrations

both_backends!(fn migrated_to_latest_and_reopens(db, target) {
    assert_eq!(db.schema_version().unwrap(), schema::latest());
    drop(Db::open(target).unwrap());
    let versions = raw_texts(target, "SELECT CAST(version AS TEXT) FROM airgap_schema ORDER BY version");
    let expected: Vec<String> = schema::MIGRATIONS.iter().map(|m| m.version.to_string()).collect();
    assert_eq!(versions, expected);
});

both_backends!(fn a_newer_schema_is_refused(db, target) {
    raw(target, "INSERT INTO airgap_schema (version, name) VALUES (99, 'from the future')").unwrap();
    match Db::open(target) {
        Err(DbError::TooNew { found: 99, known, .. }) => assert_eq!(known, schema::latest()),
        other => panic!("{:?}", other.err()),
    }
});

/// Eight processes' worth of first starts at once: each migration applied once.
#[test]
fn concurrent_first_starts_migrate_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut targets = vec![Target::Sqlite(dir.path().join("fresh.db"))];
    targets.extend(airgap_relay::db::testing::pg_database());
    for target in targets {
        let barrier = Arc::new(Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (t, b) = (target.clone(), barrier.clone());
                std::thread::spawn(move || {
                    b.wait();
                    Db::open(&t).map(|_| ())
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
        let versions = raw_texts(&target, "SELECT CAST(version AS TEXT) FROM airgap_schema");
        assert_eq!(versions.len(), schema::MIGRATIONS.len(), "{target}");
    }
}

// ---------------------------------------------------------------------------------------------
// Deposits

both_backends!(fn a_deposit_is_new_once(db, target) {
    let first = db
        .record_batch(&[cursor(10, "100")], &[deposit(1, 10), deposit(2, 10)])
        .unwrap();
    assert_eq!(first.new.len(), 2);
    assert_eq!(first.duplicates, 0);
    let again = db
        .record_batch(
            &[cursor(11, "200")],
            &[deposit(1, 10), deposit(2, 10), deposit(3, 11)],
        )
        .unwrap();
    assert_eq!(again.duplicates, 2);
    assert_eq!(again.new.len(), 1);
    assert_eq!(again.new[0].entry, Entry::Deposit(deposit(3, 11)));
    assert!(again.new[0].id > first.new[1].id);
    assert_eq!(db.cursor(ACCOUNT, "payments").unwrap(), Some(cursor(11, "200")));
    // What was recorded reads back the same on both backends, amount as Horizon writes it.
    let all = db.deposits(0, 100).unwrap();
    let entries: Vec<Entry> = all.iter().map(|r| r.entry.clone()).collect();
    assert_eq!(
        entries,
        vec![deposit(1, 10), deposit(2, 10), deposit(3, 11)]
            .into_iter()
            .map(Entry::Deposit)
            .collect::<Vec<_>>()
    );
    assert_eq!(all[0].recorded_at.len(), "2024-05-01T12:00:00.000Z".len());
    let amounts = raw_texts(target, "SELECT amount FROM stellar_deposits ORDER BY id");
    assert_eq!(amounts, ["1.0000005", "2.0000005", "3.0000005"]);
    // Paging on id.
    let rest = db.deposits(all[0].id, 100).unwrap();
    assert_eq!(rest.len(), 2);
    assert_eq!(db.deposits(all[0].id, 1).unwrap().len(), 1);
});

both_backends!(fn a_cursor_never_moves_backwards(db, target) {
    db.record_batch(&[cursor(100, "429496729600")], &[]).unwrap();
    // An earlier ledger: held, the stored cursor returned.
    let b = db.record_batch(&[cursor(90, "386547056640")], &[deposit(7, 90)]).unwrap();
    assert_eq!(b.held, vec![cursor(100, "429496729600")]);
    assert_eq!(b.new.len(), 1, "the rows are recorded all the same");
    // The same ledger, an earlier paging token (numbers, not text: 9 < 10).
    db.record_batch(&[cursor(200, "10")], &[]).unwrap();
    let b = db.record_batch(&[cursor(200, "9")], &[]).unwrap();
    assert_eq!(b.held, vec![cursor(200, "10")]);
    assert_eq!(db.cursor(ACCOUNT, "payments").unwrap(), Some(cursor(200, "10")));
    // Another backend at the same ledger takes over (switching backends resumes by ledger).
    let rpc = Cursor { source: Source::Rpc, cursor: "0000000858993459200-0000000001".into(), ..cursor(200, "") };
    assert!(db.record_batch(std::slice::from_ref(&rpc), &[]).unwrap().held.is_empty());
    assert_eq!(db.cursor(ACCOUNT, "payments").unwrap(), Some(rpc));
    // Several cursors in one transaction (one getEvents filter for several accounts).
    let other = Cursor { account: "GISSUER".into(), ..cursor(201, "5") };
    let b = db.record_batch(&[cursor(201, "5"), other.clone()], &[]).unwrap();
    assert!(b.held.is_empty());
    assert_eq!(db.cursor("GISSUER", "payments").unwrap(), Some(other));
    assert_eq!(db.cursor("GNOBODY", "payments").unwrap(), None);
});

both_backends!(
/// Rows and cursor in one transaction: a row the database refuses takes the whole batch, and
/// the cursor, with it.
fn a_failed_batch_records_nothing(db, target) {
    db.record_batch(&[cursor(10, "1")], &[deposit(1, 10)]).unwrap();
    let bad = hash(66);
    let trigger = if is_pg(target) {
        format!(
            "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                 IF NEW.tx_hash = '{bad}' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$;
             CREATE TRIGGER boom BEFORE INSERT ON stellar_deposits FOR EACH ROW EXECUTE FUNCTION boom();"
        )
    } else {
        format!(
            "CREATE TRIGGER boom BEFORE INSERT ON stellar_deposits WHEN NEW.tx_hash = '{bad}'
             BEGIN SELECT RAISE(ABORT, 'boom'); END;"
        )
    };
    raw(target, &trigger).unwrap();
    let err = db
        .record_batch(&[cursor(20, "2")], &[deposit(2, 20), deposit(66, 20), deposit(3, 20)])
        .unwrap_err();
    assert!(err.to_string().contains("boom"), "{err}");
    assert_eq!(db.deposits(0, 100).unwrap().len(), 1);
    assert_eq!(db.cursor(ACCOUNT, "payments").unwrap(), Some(cursor(10, "1")));
});

both_backends!(fn rows_the_tables_may_not_hold_are_refused(db, target) {
    let mut no_customer = deposit(1, 10);
    no_customer.customer = None;
    let mut attributed = deposit(2, 10);
    attributed.status = Status::Unattributed;
    let mut bad_time = deposit(3, 10);
    bad_time.closed_at = "2024-05-01 12:00:05".into();
    let mut offset_time = deposit(4, 10);
    offset_time.closed_at = "2024-05-01T14:00:05+02:00".into();
    let mut bad_hash = deposit(5, 10);
    bad_hash.tx_hash = "ABC".into();
    for row in [no_customer, attributed, bad_time, offset_time, bad_hash] {
        match db.record_batch(&[cursor(10, "1")], std::slice::from_ref(&row)) {
            Err(DbError::InvalidRow(_)) => {}
            other => panic!("{row:?}: {other:?}"),
        }
    }
    assert_eq!(db.cursor(ACCOUNT, "payments").unwrap(), None);
    // Every status and kind the watcher writes goes in.
    let mut rows = Vec::new();
    for (i, (status, kind)) in [
        (Status::Unattributed, Kind::PathPayment),
        (Status::Unaccepted, Kind::CreateAccount),
        (Status::Internal, Kind::AccountMerge),
        (Status::Deposit, Kind::Burn),
    ]
    .into_iter()
    .enumerate()
    {
        let mut d = deposit(10 + i as u64, 10);
        d.status = status;
        d.kind = kind;
        if status == Status::Unattributed {
            d.customer = None;
            d.memo_type = MemoType::None;
        }
        rows.push(d);
    }
    assert_eq!(db.record_batch(&[], &rows).unwrap().new.len(), 4);
    let statuses = raw_texts(target, "SELECT status || '/' || kind FROM stellar_deposits ORDER BY id");
    assert_eq!(
        statuses,
        ["unattributed/path_payment", "unaccepted/create_account", "internal/account_merge", "deposit/burn"]
    );
});

both_backends!(fn a_gap_is_a_row_of_its_own_once(db, target) {
    db.record_batch(&[cursor(100, "1")], &[deposit(1, 100)]).unwrap();
    let gap = Gap { account: ACCOUNT.into(), from_ledger: 101, to_ledger: 500 };
    let after = cursor(500, "2147483648000");
    let r = db.record_gap(&after, &gap).unwrap().expect("recorded");
    assert_eq!(r.entry, Entry::Gap(gap.clone()));
    assert_eq!(db.cursor(ACCOUNT, "payments").unwrap(), Some(after.clone()));
    // A second watcher that saw the same gap: the cursor is past it, nothing recorded.
    assert_eq!(db.record_gap(&cursor(500, "2147483648000"), &gap).unwrap(), None);
    let all = db.deposits(0, 10).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1], r);
    let row = raw_texts(
        target,
        "SELECT status || ' ' || kind || ' ' || CAST(ledger AS TEXT) || '..' || CAST(ledger_to AS TEXT)
         FROM stellar_deposits WHERE tx_hash IS NULL",
    );
    assert_eq!(row, ["gap gap 101..500"]);
    // The anchor's join on deposits never sees it.
    let deposits = raw_texts(target, "SELECT tx_hash FROM stellar_deposits WHERE status = 'deposit'");
    assert_eq!(deposits, [hash(1)]);
    // Nonsense ranges are refused.
    let backwards = Gap { from_ledger: 9, to_ledger: 8, ..gap };
    assert!(matches!(db.record_gap(&after, &backwards), Err(DbError::InvalidRow(_))));
});

both_backends!(
/// Two watchers on one database, recording overlapping batches at once: every deposit is new
/// exactly once across both, and the cursor ends at the furthest position.
fn two_watchers_record_each_deposit_once(db, target) {
    const N: u64 = 400;
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = [0u64, 25]
        .into_iter()
        .map(|offset| {
            let (t, b) = (target.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut db = Db::open(&t).unwrap();
                b.wait();
                let mut new = Vec::new();
                let mut start = offset;
                while start < N {
                    let end = (start + 50).min(N);
                    let rows: Vec<Deposit> = (start..end).map(|n| deposit(n, 1000 + n as u32)).collect();
                    let c = cursor(1000 + end as u32 - 1, &(end - 1).to_string());
                    let batch = db.record_batch(&[c], &rows).unwrap();
                    new.extend(batch.new.into_iter().map(|r| r.id));
                    start = end;
                }
                // The first offset-25 batch starts at 25; the rows below it are the other's alone.
                new
            })
        })
        .collect();
    let news: Vec<Vec<i64>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let all: BTreeSet<i64> = news.iter().flatten().copied().collect();
    assert_eq!(all.len(), news[0].len() + news[1].len(), "a row was new twice");
    assert_eq!(all.len() as u64, N);
    assert_eq!(db.deposits(0, 1000).unwrap().len() as u64, N);
    assert_eq!(db.cursor(ACCOUNT, "payments").unwrap(), Some(cursor(1000 + N as u32 - 1, &(N - 1).to_string())));
});

// ---------------------------------------------------------------------------------------------
// Payments

both_backends!(fn enqueue_is_idempotent_on_id(db, target) {
    assert_eq!(db.enqueue(&request("w-1", "10")).unwrap(), Marked::Changed);
    assert_eq!(db.enqueue(&request("w-1", "10")).unwrap(), Marked::AlreadySo);
    match db.enqueue(&request("w-1", "11")) {
        Err(DbError::Conflict { id, field: "amount" }) => assert_eq!(id, "w-1"),
        other => panic!("{other:?}"),
    }
    let mut other_memo = request("w-1", "10");
    other_memo.memo = None;
    assert!(matches!(db.enqueue(&other_memo), Err(DbError::Conflict { field: "memo", .. })));
    assert!(matches!(db.enqueue(&request("", "1")), Err(DbError::InvalidRow(_))));
    let p = db.payment("w-1").unwrap().unwrap();
    assert_eq!(p.request, request("w-1", "10"));
    assert_eq!((p.state, p.attempts, p.tx_hash), (PaymentState::Pending, 0, None));
    // The anchor's plain INSERT, with the defaults.
    raw(target, "INSERT INTO stellar_payments (id, destination, asset, amount) VALUES ('sql-1', 'GD', 'native', '5')").unwrap();
    let p = db.payment("sql-1").unwrap().unwrap();
    assert_eq!((p.state, p.request.memo_type.as_str(), p.request.customer), (PaymentState::Pending, "none", None));
    assert_eq!(db.payment("nope").unwrap(), None);
});

both_backends!(fn claim_stores_the_envelope_with_the_state(db, target) {
    for id in ["a", "b", "c", "d"] {
        db.enqueue(&request(id, "1")).unwrap();
    }
    let claimed = db
        .claim_and_mark(3, "worker-1", |p| -> Result<Claim, String> {
            Ok(match p.request.id.as_str() {
                "a" => Claim::Send(signed(1, "GCHANNEL1")),
                "b" => Claim::Fail("op_no_trust: the destination has no trustline".into()),
                _ => Claim::Leave,
            })
        })
        .unwrap();
    let ids: Vec<&str> = claimed.iter().map(|c| c.payment.request.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"], "oldest first, at most n");
    let a = db.payment("a").unwrap().unwrap();
    assert_eq!(a, claimed[0].payment);
    assert_eq!(a.state, PaymentState::Sending);
    assert_eq!(a.tx_hash.as_deref(), Some(hash(1).as_str()));
    assert_eq!(a.envelope.as_deref(), Some("AAAA1"));
    assert_eq!(a.max_time, Some(1_700_000_001));
    assert_eq!(a.channel.as_deref(), Some("GCHANNEL1"));
    assert_eq!((a.worker.as_deref(), a.attempts), (Some("worker-1"), 1));
    let b = db.payment("b").unwrap().unwrap();
    assert_eq!((b.state, b.result.as_deref(), b.tx_hash), (PaymentState::Failed, Some("op_no_trust: the destination has no trustline"), None));
    assert_eq!(db.payment("c").unwrap().unwrap().state, PaymentState::Pending);
    assert_eq!(db.sending_rows().unwrap(), vec![a]);
    // A sending row is never claimed again.
    let again = db.claim_and_mark(10, "w", |_| Ok::<_, String>(Claim::Leave)).unwrap();
    let ids: Vec<&str> = again.iter().map(|c| c.payment.request.id.as_str()).collect();
    assert_eq!(ids, ["c", "d"]);
    let pending: Vec<String> = db.payments_in(PaymentState::Pending).unwrap().into_iter().map(|p| p.request.id).collect();
    assert_eq!(pending, ["c", "d"]);
});

both_backends!(
/// A builder that fails, or an envelope without an upper time bound, leaves every row as it was.
fn a_failed_claim_stores_nothing(db, target) {
    db.enqueue(&request("a", "1")).unwrap();
    db.enqueue(&request("b", "1")).unwrap();
    let err = db
        .claim_and_mark(2, "w", |p| {
            if p.request.id == "a" { Ok(Claim::Send(signed(1, "GC"))) } else { Err("network down") }
        })
        .unwrap_err();
    assert!(matches!(err, ClaimError::Build("network down")));
    let unbounded = Signed { max_time: 0, ..signed(2, "GC") };
    let err = db.claim_and_mark(2, "w", |_| Ok::<_, String>(Claim::Send(unbounded.clone()))).unwrap_err();
    assert!(matches!(err, ClaimError::Db(DbError::InvalidRow(_))), "{err}");
    for id in ["a", "b"] {
        let p = db.payment(id).unwrap().unwrap();
        assert_eq!((p.state, p.envelope, p.attempts), (PaymentState::Pending, None, 0));
    }
});

both_backends!(fn only_the_current_envelope_decides_a_row(db, target) {
    db.enqueue(&request("a", "1")).unwrap();
    db.claim_and_mark(1, "w", |_| Ok::<_, String>(Claim::Send(signed(1, "GC1")))).unwrap();
    // Rebuilt once the first envelope expired: attempts 2, the old hash is stale from now on.
    db.rebuild("a", &hash(1), &signed(2, "GC2")).unwrap();
    let p = db.payment("a").unwrap().unwrap();
    assert_eq!((p.attempts, p.tx_hash.as_deref(), p.channel.as_deref()), (2, Some(hash(2).as_str()), Some("GC2")));
    assert!(matches!(db.rebuild("a", &hash(1), &signed(3, "GC3")), Err(DbError::StaleEnvelope { .. })));
    assert!(matches!(db.mark_done("a", &hash(1), "tx_success", 50), Err(DbError::StaleEnvelope { .. })));
    assert!(matches!(db.mark_failed("a", Some(&hash(1)), "tx_failed", Some(50)), Err(DbError::StaleEnvelope { .. })));
    assert!(matches!(db.mark_failed("a", None, "refused", None), Err(DbError::WrongState { state: PaymentState::Sending, .. })));
    assert_eq!(db.mark_done("a", &hash(2), "tx_success", 51).unwrap(), Marked::Changed);
    assert_eq!(db.mark_done("a", &hash(2), "tx_success", 51).unwrap(), Marked::AlreadySo);
    let p = db.payment("a").unwrap().unwrap();
    assert_eq!((p.state, p.ledger, p.result.as_deref()), (PaymentState::Done, Some(51), Some("tx_success")));
    // Done never changes.
    assert!(matches!(db.mark_failed("a", Some(&hash(2)), "x", None), Err(DbError::WrongState { state: PaymentState::Done, .. })));
    assert!(matches!(db.rebuild("a", &hash(2), &signed(4, "GC")), Err(DbError::WrongState { state: PaymentState::Done, .. })));
    assert!(matches!(db.mark_done("a", &hash(9), "tx_success", 51), Err(DbError::StaleEnvelope { .. })));
    assert!(matches!(db.mark_done("nope", &hash(9), "tx_success", 51), Err(DbError::NoSuchPayment(_))));
    // A pending row has no envelope to be done by or to rebuild.
    db.enqueue(&request("b", "1")).unwrap();
    assert!(matches!(db.mark_done("b", &hash(5), "tx_success", 1), Err(DbError::WrongState { state: PaymentState::Pending, .. })));
    assert!(matches!(db.rebuild("b", &hash(5), &signed(6, "GC")), Err(DbError::WrongState { .. })));
    // failed: from pending without an envelope, from sending on its envelope; idempotent.
    assert_eq!(db.mark_failed("b", None, "no such account", None).unwrap(), Marked::Changed);
    assert_eq!(db.mark_failed("b", None, "no such account", None).unwrap(), Marked::AlreadySo);
    db.enqueue(&request("c", "1")).unwrap();
    db.claim_and_mark(1, "w", |_| Ok::<_, String>(Claim::Send(signed(7, "GC1")))).unwrap();
    assert_eq!(db.mark_failed("c", Some(&hash(7)), "op_no_trust", Some(60)).unwrap(), Marked::Changed);
    assert_eq!(db.mark_failed("c", Some(&hash(7)), "op_no_trust", Some(60)).unwrap(), Marked::AlreadySo);
    let c = db.payment("c").unwrap().unwrap();
    assert_eq!((c.state, c.ledger, c.result.as_deref()), (PaymentState::Failed, Some(60), Some("op_no_trust")));
});

both_backends!(
/// What makes paying twice impossible holds for plain SQL too.
fn the_tables_refuse_what_would_pay_twice(db, target) {
    for id in ["done", "sending", "failed"] {
        db.enqueue(&request(id, "1")).unwrap();
    }
    let mut n = 0;
    db.claim_and_mark(3, "w", |p| {
        n += 1;
        Ok::<_, String>(if p.request.id == "failed" { Claim::Fail("x".into()) } else { Claim::Send(signed(n, "GC")) })
    })
    .unwrap();
    let done_hash = db.payment("done").unwrap().unwrap().tx_hash.unwrap();
    db.mark_done("done", &done_hash, "tx_success", 9).unwrap();
    for sql in [
        "UPDATE stellar_payments SET state = 'pending' WHERE id = 'done'",
        "UPDATE stellar_payments SET result = 'edited' WHERE id = 'done'",
        "UPDATE stellar_payments SET state = 'pending' WHERE id = 'sending'",
        "UPDATE stellar_payments SET amount = '2' WHERE id = 'sending'",
        "UPDATE stellar_payments SET destination = 'GOTHER' WHERE id = 'failed'",
        "DELETE FROM stellar_payments WHERE id = 'sending'",
        "UPDATE stellar_payments SET state = 'bogus' WHERE id = 'failed'",
        "UPDATE stellar_payments SET state = 'sending' WHERE id = 'failed'",
    ] {
        assert!(raw(target, sql).is_err(), "allowed: {sql}");
    }
    // An operator may retry a failed row (nothing of it can land) and purge done ones.
    raw(target, "UPDATE stellar_payments SET state = 'pending', result = NULL WHERE id = 'failed'").unwrap();
    assert_eq!(db.payment("failed").unwrap().unwrap().state, PaymentState::Pending);
    raw(target, "DELETE FROM stellar_payments WHERE id = 'done'").unwrap();
});

both_backends!(fn queue_total_counts_what_is_still_to_pay(db, target) {
    db.enqueue(&request("a", "10.5")).unwrap();
    db.enqueue(&request("b", "0.0000001")).unwrap();
    db.enqueue(&request("c", "2")).unwrap();
    db.enqueue(&request("bad", "ten")).unwrap();
    db.enqueue(&NewPayment { asset: "native".into(), ..request("x", "1000") }).unwrap();
    db.claim_and_mark(1, "w", |_| Ok::<_, String>(Claim::Send(signed(1, "GC")))).unwrap();
    let t = db.queue_total("USD:GISSUER").unwrap();
    assert_eq!(t.sending, "10.5".parse().unwrap());
    assert_eq!(t.pending, "2.0000001".parse().unwrap());
    assert_eq!((t.pending_rows, t.sending_rows, t.malformed_rows), (2, 1, 1));
    assert_eq!(db.queue_total("EUR:GISSUER").unwrap().pending_rows, 0);
});

both_backends!(
/// Two workers draining 200 rows: each row claimed exactly once; on PostgreSQL both got some.
fn two_workers_claim_each_row_once(db, target) {
    for i in 0..200 {
        db.enqueue(&request(&format!("p{i:03}"), "1")).unwrap();
    }
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = [1u64, 2]
        .into_iter()
        .map(|w| {
            let (t, b) = (target.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut db = Db::open(&t).unwrap();
                let mut mine = Vec::new();
                let mut n = 0;
                b.wait();
                loop {
                    let claimed = db
                        .claim_and_mark(5, &format!("w{w}"), |_| {
                            n += 1;
                            std::thread::sleep(std::time::Duration::from_millis(1));
                            Ok::<_, String>(Claim::Send(signed(w * 1_000_000 + n, &format!("GC{w}"))))
                        })
                        .unwrap();
                    if claimed.is_empty() {
                        return mine;
                    }
                    mine.extend(claimed.into_iter().map(|c| c.payment.request.id));
                }
            })
        })
        .collect();
    let mine: Vec<Vec<String>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let all: BTreeSet<&String> = mine.iter().flatten().collect();
    assert_eq!(all.len(), 200);
    assert_eq!(mine[0].len() + mine[1].len(), 200, "a row was claimed twice");
    if is_pg(target) {
        assert!(!mine[0].is_empty() && !mine[1].is_empty(), "{} / {}", mine[0].len(), mine[1].len());
    }
    for (w, ids) in mine.iter().enumerate() {
        for id in ids {
            let p = db.payment(id).unwrap().unwrap();
            assert_eq!(p.state, PaymentState::Sending);
            assert_eq!(p.worker, Some(format!("w{}", w + 1)));
        }
    }
});

both_backends!(
/// Two workers resolving the same expired row at once: one rebuild wins, the other's envelope
/// is refused (and so never submitted).
fn racing_rebuilds_leave_one_envelope(db, target) {
    db.enqueue(&request("a", "1")).unwrap();
    db.claim_and_mark(1, "w", |_| Ok::<_, String>(Claim::Send(signed(1, "GC")))).unwrap();
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = [2u64, 3]
        .into_iter()
        .map(|n| {
            let (t, b) = (target.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut db = Db::open(&t).unwrap();
                b.wait();
                db.rebuild("a", &hash(1), &signed(n, "GC")).map(|()| n)
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let winners: Vec<u64> = results.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(results.iter().any(|r| matches!(r, Err(DbError::StaleEnvelope { .. }))));
    let p = db.payment("a").unwrap().unwrap();
    assert_eq!((p.tx_hash, p.attempts), (Some(hash(winners[0])), 2));
});

both_backends!(fn one_pay_process_on_sqlite(db, target) {
    let first = db.pay_lock().unwrap();
    let second = Db::open(target).unwrap().pay_lock();
    if is_pg(target) {
        assert!(second.is_ok(), "several workers share PostgreSQL");
    } else {
        match second {
            Err(DbError::PayRunning { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("{:?}", other.err()),
        }
        drop(first);
        assert!(db.pay_lock().is_ok(), "released when the holder lets go");
    }
});
