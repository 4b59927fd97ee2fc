//! Watching over Stellar RPC: `getEvents` with CAP-67 events, for all watched accounts at once
//! (five per reader: `getEvents` takes at most five filters of five topics).
//!
//! Filters: `["transfer", *, ACCOUNT, *]` and `["mint", ACCOUNT, *]` of any contract (so native
//! and unaccepted assets are seen too), and `["burn", *, *]` of the accepted assets' Stellar
//! Asset Contracts (IDs computed offline, `airgap::sac`), which is how RPC reports a payment to
//! the issuing account. An event becomes the same row as Horizon's record of the operation:
//! `getTransaction` (one call per transaction, by the event's `txHash`, the outer hash of a fee
//! bump) gives the envelope, whose (inner) transaction names the operation's type, its
//! destination (an event only counts when the operation pays the watched account, as Horizon's
//! payments stream) and memo; the event's `to_muxed_id` names the customer.
//!
//! Paging follows the returned cursor, through empty pages: RPC answers a page that is not full
//! with the end of the window it scanned, so the stored cursor then says "read through ledger
//! E", and a cursor of either backend converts to the other by its ledger.
use super::classify::{kind_for, Credit, Memo, Rules};
use super::{gap_of, Edges, Msg, SAY_EVERY, STREAM};
use crate::db::{Cursor, Kind, Source};
use crate::online::backoff;
use crate::progress::say;
use airgap::amount::Amount;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stellar_xdr::{MuxedAccount, OperationBody, ScAddress, ScVal, TransactionEnvelope};

/// Events per `getEvents` page.
pub const PAGE: u32 = 1000;
/// How long to wait before asking again when the ledger has nothing new.
pub const POLL: Duration = Duration::from_millis(300);
/// Accounts per reader (and so per `getEvents` filter of account topics).
pub const ACCOUNTS_PER_READER: usize = 5;

/// RPC's cursor at the end of ledger `ledger - 1` (`"%019d-%010d"` of the TOID
/// `(ledger - 1, transaction mask, operation mask)` and the largest event index): what RPC
/// returns after scanning through that ledger, so paging from it starts at `ledger`.
pub fn ledger_cursor(ledger: u32) -> String {
    let toid = (i64::from(ledger) << 32) - 1;
    format!("{toid:019}-{:010}", u32::MAX)
}

/// Where an RPC cursor stands: `Ok(E)` for the end of ledger E (read through E), `Err(L)` for
/// an event in ledger L (read through L - 1; the rest of L may follow).
pub fn cursor_place(cursor: &str) -> Option<Result<u32, u32>> {
    let (toid, index) = cursor.split_once('-')?;
    let (toid, index): (i64, u32) = (toid.parse().ok()?, index.parse().ok()?);
    let ledger = u32::try_from(toid >> 32).ok()?;
    if toid & 0xFFFF_FFFF == 0xFFFF_FFFF && index == u32::MAX {
        Some(Ok(ledger))
    } else {
        Some(Err(ledger))
    }
}

/// The calls the watcher makes of Stellar RPC.
pub trait Calls: Send {
    /// `getHealth`'s `oldestLedger` and `latestLedger`.
    fn edges(&self) -> Result<Edges, String>;
    /// `getNetwork`'s passphrase.
    fn passphrase(&self) -> Result<String, String>;
    /// `getEvents` from `start` (a ledger) or after `cursor`, with `filters`.
    fn events(
        &self,
        start: Start<'_>,
        filters: &serde_json::Value,
        limit: u32,
    ) -> Result<EventsPage, String>;
    /// `getTransaction`: the envelope of a transaction in a ledger (its outer envelope for a fee
    /// bump), `None` while RPC does not know it.
    fn transaction(&self, hash: &str) -> Result<Option<TransactionEnvelope>, String>;
}

/// Where a `getEvents` page starts.
#[derive(Debug, Clone, Copy)]
pub enum Start<'a> {
    Ledger(u32),
    After(&'a str),
}

/// A page of `getEvents`, its XDR decoded.
#[derive(Debug, Clone)]
pub struct EventsPage {
    pub events: Vec<Event>,
    pub cursor: String,
    pub latest_ledger: u32,
    pub oldest_ledger: u32,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub ledger: u32,
    /// RFC 3339, as RPC writes it.
    pub ledger_closed_at: String,
    pub tx_hash: String,
    pub op_index: u32,
    pub topics: Vec<ScVal>,
    pub value: ScVal,
}

/// The `getEvents` filters for `accounts` and the burns of `assets`' contracts.
pub fn filters(accounts: &[String], burn_contracts: &[String]) -> serde_json::Value {
    use base64::Engine as _;
    use stellar_xdr::{Limits, WriteXdr};
    let b64 = |v: &ScVal| {
        base64::engine::general_purpose::STANDARD
            .encode(v.to_xdr(Limits::none()).unwrap_or_default())
    };
    let sym = |s: &str| b64(&ScVal::Symbol(s.try_into().unwrap_or_default()));
    let addr = |a: &String| -> Option<String> {
        let pk = stellar_strkey::ed25519::PublicKey::from_string(a).ok()?;
        Some(b64(&ScVal::Address(ScAddress::Account(
            stellar_xdr::AccountId(stellar_xdr::PublicKey::PublicKeyTypeEd25519(
                stellar_xdr::Uint256(pk.0),
            )),
        ))))
    };
    let addrs: Vec<String> = accounts.iter().filter_map(addr).collect();
    let mut out = vec![
        serde_json::json!({
            "type": "contract",
            "topics": addrs.iter().map(|a| vec![sym("transfer"), "*".into(), a.clone(), "*".into()]).collect::<Vec<_>>(),
        }),
        serde_json::json!({
            "type": "contract",
            "topics": addrs.iter().map(|a| vec![sym("mint"), a.clone(), "*".into()]).collect::<Vec<_>>(),
        }),
    ];
    if !burn_contracts.is_empty() {
        out.push(serde_json::json!({
            "type": "contract",
            "contractIds": burn_contracts,
            "topics": [[sym("burn"), "*", "*"]],
        }));
    }
    serde_json::Value::Array(out)
}

fn address(v: &ScVal) -> Option<String> {
    match v {
        ScVal::Address(ScAddress::Account(stellar_xdr::AccountId(
            stellar_xdr::PublicKey::PublicKeyTypeEd25519(k),
        ))) => Some(
            stellar_strkey::ed25519::PublicKey(k.0)
                .to_string()
                .to_string(),
        ),
        ScVal::Address(ScAddress::MuxedAccount(m)) => Some(
            stellar_strkey::ed25519::PublicKey(m.ed25519.0)
                .to_string()
                .to_string(),
        ),
        _ => None,
    }
}

fn text(v: &ScVal) -> Option<String> {
    match v {
        ScVal::Symbol(s) => Some(String::from_utf8_lossy(s.as_slice()).into_owned()),
        ScVal::String(s) => Some(String::from_utf8_lossy(s.as_slice()).into_owned()),
        _ => None,
    }
}

fn i128_stroops(v: &ScVal) -> Option<i64> {
    match v {
        ScVal::I128(p) => i64::try_from((i128::from(p.hi) << 64) | i128::from(p.lo)).ok(),
        _ => None,
    }
}

/// The amount, and the `to_muxed_id` as a customer (ID in decimal, text as given, bytes in hex).
fn value_parts(v: &ScVal) -> Option<(i64, Option<String>)> {
    if let Some(a) = i128_stroops(v) {
        return Some((a, None));
    }
    let ScVal::Map(Some(map)) = v else {
        return None;
    };
    let mut amount = None;
    let mut customer = None;
    for e in map.iter() {
        match text(&e.key).as_deref() {
            Some("amount") => amount = i128_stroops(&e.val),
            Some("to_muxed_id") => {
                customer = match &e.val {
                    ScVal::U64(id) => Some(id.to_string()),
                    ScVal::String(s) => Some(String::from_utf8_lossy(s.as_slice()).into_owned()),
                    ScVal::Bytes(b) => Some(hex::encode(b.as_slice())),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    Some((amount?, customer))
}

/// The credit an event makes to one of `watched`, given its transaction's envelope; `None` for
/// an event that is not a payment-type operation paying a watched account (a trade, a fee, a
/// payment out).
pub fn credit(
    ev: &Event,
    env: &TransactionEnvelope,
    watched: &BTreeSet<String>,
) -> Result<Option<Credit>, String> {
    let name = ev.topics.first().and_then(text).unwrap_or_default();
    let (sender, to, asset) = match (name.as_str(), ev.topics.as_slice()) {
        ("transfer", [_, from, to, asset]) => (address(from), address(to), text(asset)),
        ("mint", [_, to, asset]) => {
            let asset = text(asset);
            let issuer = asset
                .as_deref()
                .and_then(|a| a.split_once(':'))
                .map(|(_, i)| i.to_string());
            (issuer, address(to), asset)
        }
        ("burn", [_, from, asset]) => {
            let asset = text(asset);
            let issuer = asset
                .as_deref()
                .and_then(|a| a.split_once(':'))
                .map(|(_, i)| i.to_string());
            (address(from), issuer, asset)
        }
        _ => return Ok(None),
    };
    let (Some(sender), Some(to), Some(asset)) = (sender, to, asset) else {
        return Err(format!("event {}: topics that are not CAP-67's", ev.id));
    };
    if !watched.contains(&to) {
        return Ok(None);
    }
    let (stroops, to_muxed_id) = value_parts(&ev.value)
        .ok_or_else(|| format!("event {}: a value without an amount", ev.id))?;
    let tx = airgap::envelope::transaction(env);
    let Some(op) = tx.operations.get(ev.op_index as usize) else {
        return Err(format!(
            "event {}: no operation {} in {}",
            ev.id, ev.op_index, ev.tx_hash
        ));
    };
    let (kind, dest): (Kind, Option<&MuxedAccount>) = match &op.body {
        OperationBody::Payment(p) => (Kind::Payment, Some(&p.destination)),
        OperationBody::PathPaymentStrictReceive(p) => (Kind::PathPayment, Some(&p.destination)),
        OperationBody::PathPaymentStrictSend(p) => (Kind::PathPayment, Some(&p.destination)),
        OperationBody::AccountMerge(d) => (Kind::AccountMerge, Some(d)),
        OperationBody::CreateAccount(c) => {
            let d = stellar_strkey::ed25519::PublicKey(match &c.destination.0 {
                stellar_xdr::PublicKey::PublicKeyTypeEd25519(k) => k.0,
            })
            .to_string()
            .to_string();
            if d != to {
                return Ok(None);
            }
            (Kind::CreateAccount, None)
        }
        _ => return Ok(None),
    };
    let muxed_id = match dest {
        Some(MuxedAccount::MuxedEd25519(m)) => Some(m.id),
        _ => None,
    };
    if let Some(d) = dest {
        let key = match d {
            MuxedAccount::Ed25519(k) => k.0,
            MuxedAccount::MuxedEd25519(m) => m.ed25519.0,
        };
        if stellar_strkey::ed25519::PublicKey(key).to_string().as_str() != to {
            // The watched account was paid by this operation only as a trade's counterparty.
            return Ok(None);
        }
    }
    let memo = Memo::from_xdr(&tx.memo);
    // The event names the customer (`to_muxed_id`: the muxed ID, else the memo); a burn's bare
    // amount does not, and the envelope does. Where both say, they must agree.
    if let Some(c) = &to_muxed_id {
        if Some(c) != super::classify::customer(muxed_id, &memo).as_ref() {
            return Err(format!(
                "event {}: to_muxed_id {c:?} is not the transaction's muxed ID or memo",
                ev.id
            ));
        }
    }
    let amount = Amount::from_stroops(stroops)
        .map_err(|e| format!("event {}: amount {stroops}: {e}", ev.id))?;
    let closed_at = time::OffsetDateTime::parse(
        &ev.ledger_closed_at,
        &time::format_description::well_known::Rfc3339,
    )
    .ok()
    .and_then(|t| crate::db::closed_at_from_unix(t.unix_timestamp()))
    .ok_or_else(|| format!("event {}: ledgerClosedAt {:?}", ev.id, ev.ledger_closed_at))?;
    Ok(Some(Credit {
        tx_hash: ev.tx_hash.clone(),
        op_index: ev.op_index,
        ledger: ev.ledger,
        closed_at,
        kind: kind_for(kind, &to, &asset),
        account: to,
        sender,
        muxed_id,
        memo,
        asset,
        amount,
    }))
}

/// One reader: `accounts` (at most five) from `through` on.
pub struct Reader {
    pub calls: Box<dyn Calls>,
    pub accounts: Vec<String>,
    pub burn_contracts: Vec<String>,
    pub rules: Arc<Rules>,
    pub server: String,
}

impl Reader {
    fn cursors(&self, cursor: &str, through: u32) -> Vec<Cursor> {
        self.accounts
            .iter()
            .map(|a| Cursor {
                account: a.clone(),
                stream: STREAM.to_string(),
                source: Source::Rpc,
                cursor: cursor.to_string(),
                ledger: through,
            })
            .collect()
    }

    /// Read for ever (until `stop`), from `start`: the cursor of the account that stands
    /// furthest back (the others' rows are absorbed by the unique key, their cursors held).
    pub fn run(self, start: Cursor, tx: Sender<Msg>, stop: Arc<AtomicBool>) {
        let filters = filters(&self.accounts, &self.burn_contracts);
        let watched: BTreeSet<String> = self.accounts.iter().cloned().collect();
        let (mut cursor, mut through) = match (start.source, cursor_place(&start.cursor)) {
            (Source::Rpc, Some(Err(l))) => (start.cursor.clone(), l - 1),
            _ => (ledger_cursor(start.ledger + 1), start.ledger),
        };
        let mut failures = 0u32;
        let mut said: Option<Instant> = None;
        let mut edges: Option<Edges> = None;
        while !stop.load(Ordering::SeqCst) {
            let result = self.page(
                &filters,
                &watched,
                &mut cursor,
                &mut through,
                &mut edges,
                &tx,
            );
            match result {
                Ok(Next::Again) => {
                    if said.take().is_some() {
                        say(format!(
                            "{} answers again after {failures} failed attempts",
                            self.server
                        ));
                    }
                    failures = 0;
                }
                Ok(Next::Wait) => {
                    failures = 0;
                    if super::sleep_unless_stopped(POLL, &stop) {
                        return;
                    }
                }
                Ok(Next::Stop) => return,
                Err(Failure::Fatal(why)) => {
                    let _ = tx.send(Msg::Fatal(why));
                    return;
                }
                Err(Failure::Retry(why)) => {
                    failures += 1;
                    edges = None;
                    if failures >= 2 && said.is_none_or(|t| t.elapsed() >= SAY_EVERY) {
                        say(format!("reading events from {} failed {failures} times in a row ({why}); still trying", self.server));
                        said = Some(Instant::now());
                    }
                    if super::sleep_unless_stopped(backoff(failures - 1), &stop) {
                        return;
                    }
                }
            }
        }
    }

    fn page(
        &self,
        filters: &serde_json::Value,
        watched: &BTreeSet<String>,
        cursor: &mut String,
        through: &mut u32,
        edges: &mut Option<Edges>,
        tx: &Sender<Msg>,
    ) -> Result<Next, Failure> {
        let e = match edges {
            Some(e) => *e,
            None => {
                let e = self.calls.edges().map_err(Failure::Retry)?;
                *edges = Some(e);
                e
            }
        };
        if let Some(gap) = gap_of(&self.accounts[0], *through, e.oldest) {
            let resume_through = e.oldest - 1;
            let resume_cursor = ledger_cursor(e.oldest);
            for resume in self.cursors(&resume_cursor, resume_through) {
                let msg = Msg::Gap {
                    gap: crate::db::Gap {
                        account: resume.account.clone(),
                        ..gap.clone()
                    },
                    stood_at: *through,
                    elder: e.oldest,
                    resume,
                };
                if tx.send(msg).is_err() {
                    return Ok(Next::Stop);
                }
            }
            *through = resume_through;
            *cursor = resume_cursor;
        }
        let at_end = matches!(cursor_place(cursor), Some(Ok(_)));
        let start = if at_end {
            // The end of a ledger: ask from the next one, once the server has it.
            if *through >= e.latest {
                *edges = None;
                return Ok(Next::Wait);
            }
            Start::Ledger(*through + 1)
        } else {
            Start::After(cursor)
        };
        let page = match self.calls.events(start, filters, PAGE) {
            Ok(p) => p,
            Err(why) => {
                *edges = None;
                return Err(Failure::Retry(why));
            }
        };
        *edges = Some(Edges {
            oldest: page.oldest_ledger,
            latest: page.latest_ledger,
        });
        let mut envelopes: BTreeMap<String, TransactionEnvelope> = BTreeMap::new();
        let mut rows = Vec::new();
        for ev in &page.events {
            let env = match envelopes.get(&ev.tx_hash) {
                Some(env) => env,
                None => {
                    let env = self
                        .calls
                        .transaction(&ev.tx_hash)
                        .map_err(Failure::Retry)?
                        .ok_or_else(|| {
                            Failure::Retry(format!("transaction {} is not known yet", ev.tx_hash))
                        })?;
                    envelopes.entry(ev.tx_hash.clone()).or_insert(env)
                }
            };
            if let Some(c) = credit(ev, env, watched).map_err(Failure::Fatal)? {
                rows.push(c.into_row(&self.rules));
            }
        }
        let place = cursor_place(&page.cursor).ok_or_else(|| {
            Failure::Fatal(format!("RPC's cursor {:?} is not an event ID", page.cursor))
        })?;
        let new_through = match place {
            Ok(end) => end,
            Err(l) => l - 1,
        };
        // A full page, or a window that ended before the latest ledger: more to read at once.
        let more = page.events.len() as u32 >= PAGE || new_through < page.latest_ledger;
        let moved = page.cursor != *cursor || !rows.is_empty();
        if moved {
            let msg = Msg::Batch {
                cursors: self.cursors(&page.cursor, new_through.max(*through)),
                rows,
            };
            if tx.send(msg).is_err() {
                return Ok(Next::Stop);
            }
        }
        *through = new_through.max(*through);
        *cursor = page.cursor;
        Ok(if more { Next::Again } else { Next::Wait })
    }
}

enum Next {
    Again,
    Wait,
    Stop,
}

enum Failure {
    Retry(String),
    Fatal(String),
}

/// Check the network, find where each account starts, and start the readers (five accounts
/// each). Returns the server's name for messages.
pub fn start(
    url: &str,
    db: &mut crate::db::Db,
    opts: &super::Options,
    stop: &Arc<AtomicBool>,
    tx: Sender<Msg>,
    out: &mut dyn FnMut(&crate::db::Recorded),
) -> Result<String, super::WatchError> {
    let calls = client(url).map_err(super::WatchError::Server)?;
    let passphrase = super::patiently("Stellar RPC", stop, || calls.passphrase())?;
    super::check_network(opts, &passphrase, url)?;
    let network = airgap::network::Network::from_passphrase(&passphrase);
    let edges = super::patiently("Stellar RPC", stop, || calls.edges())?;
    let starts = super::starts(db, opts, Source::Rpc, url, edges, out)?;
    let burn_contracts: Vec<String> = opts
        .assets
        .iter()
        .filter(|a| !matches!(a, airgap::asset::Asset::Native))
        .map(|a| a.contract_address(&network))
        .collect();
    let rules = Arc::new(opts.rules.clone());
    for group in starts.chunks(ACCOUNTS_PER_READER) {
        // From the account that stands furthest back; RPC's own cursor if it is an event's.
        let first = group
            .iter()
            .min_by_key(|c| (c.ledger, c.source == Source::Horizon))
            .cloned()
            .expect("a group is never empty");
        let reader = Reader {
            calls: client(url).map_err(super::WatchError::Server)?,
            accounts: group.iter().map(|c| c.account.clone()).collect(),
            burn_contracts: burn_contracts.clone(),
            rules: Arc::clone(&rules),
            server: url.to_string(),
        };
        let (tx, stop) = (tx.clone(), Arc::clone(stop));
        std::thread::Builder::new()
            .name("watch rpc".into())
            .spawn(move || reader.run(first, tx, stop))
            .map_err(|e| super::WatchError::Server(format!("cannot start a reader: {e}")))?;
    }
    Ok(url.to_string())
}

/// The JSON-RPC client the readers use.
fn client(url: &str) -> Result<Box<dyn Calls>, String> {
    Ok(Box::new(
        crate::rpc::Rpc::new(url).map_err(|e| e.to_string())?,
    ))
}

/// XDR from RPC, decoded with bounds (it is untrusted).
fn xdr<T: stellar_xdr::ReadXdr>(what: &str, b64: &str) -> Result<T, String> {
    let limits = stellar_xdr::Limits {
        depth: 200,
        len: 4 << 20,
    };
    T::from_xdr_base64(b64, limits).map_err(|e| format!("{what} cannot be read: {e}"))
}

impl Calls for crate::rpc::Rpc {
    fn edges(&self) -> Result<Edges, String> {
        let h = self.health().map_err(|e| e.to_string())?;
        Ok(Edges {
            oldest: h.oldest_ledger.max(1),
            latest: h.latest_ledger,
        })
    }

    fn passphrase(&self) -> Result<String, String> {
        Ok(self.network().map_err(|e| e.to_string())?.passphrase)
    }

    fn events(
        &self,
        start: Start<'_>,
        filters: &serde_json::Value,
        limit: u32,
    ) -> Result<EventsPage, String> {
        let filters: Vec<airgap::rpc::EventFilter> =
            serde_json::from_value(filters.clone()).map_err(|e| format!("filters: {e}"))?;
        let page = match start {
            Start::Ledger(l) => crate::rpc::Rpc::events(self, Some(l), None, &filters, limit),
            Start::After(c) => crate::rpc::Rpc::events(self, None, Some(c), &filters, limit),
        }
        .map_err(|e| e.to_string())?;
        let events = page
            .events
            .into_iter()
            .map(|e| {
                let value = e.value.as_deref().ok_or("an event without its value")?;
                Ok(Event {
                    topics: e
                        .topic
                        .iter()
                        .flatten()
                        .map(|t| xdr::<ScVal>("an event topic", t))
                        .collect::<Result<_, String>>()?,
                    value: xdr("an event value", value)?,
                    id: e.id,
                    ledger: e.ledger,
                    ledger_closed_at: e.ledger_closed_at,
                    tx_hash: e.tx_hash,
                    op_index: e.operation_index,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(EventsPage {
            events,
            cursor: page.cursor,
            latest_ledger: page.latest_ledger,
            oldest_ledger: page.oldest_ledger,
        })
    }

    fn transaction(&self, hash: &str) -> Result<Option<TransactionEnvelope>, String> {
        let t = crate::rpc::Rpc::transaction(self, hash).map_err(|e| e.to_string())?;
        use airgap::rpc::TxStatus;
        match (t.details.status, t.details.envelope_xdr) {
            (TxStatus::Success | TxStatus::Failed, Some(env)) => {
                Ok(Some(xdr("an envelope", &env)?))
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_as_stellar_rpc_writes_them() {
        // The end of ledger 9: what RPC answers after scanning through it (protocols/rpc
        // cursor.go: TOID (9, 0xFFFFF, 0xFFF) and MaxUint32).
        let end9 = ledger_cursor(10);
        assert_eq!(
            end9,
            format!("{:019}-{:010}", (9_i64 << 32) | 0xFFFF_FFFF, u32::MAX)
        );
        assert_eq!(cursor_place(&end9), Some(Ok(9)));
        // An event of ledger 12 (transaction 3, operation 1, its first event).
        let ev = format!("{:019}-{:010}", (12_i64 << 32) | (3 << 12) | 1, 0);
        assert_eq!(cursor_place(&ev), Some(Err(12)));
        assert_eq!(cursor_place("12-x"), None);
        assert_eq!(cursor_place(""), None);
    }

    #[test]
    fn amounts_and_customers_from_event_values() {
        use stellar_xdr::{Int128Parts, ScMap, ScMapEntry, ScString, ScSymbol};
        let amount = ScVal::I128(Int128Parts {
            hi: 0,
            lo: 15_000_000,
        });
        assert_eq!(value_parts(&amount), Some((15_000_000, None)));
        let map = |id: ScVal| {
            ScVal::Map(Some(ScMap(
                vec![
                    ScMapEntry {
                        key: ScVal::Symbol(ScSymbol("amount".try_into().unwrap())),
                        val: amount.clone(),
                    },
                    ScMapEntry {
                        key: ScVal::Symbol(ScSymbol("to_muxed_id".try_into().unwrap())),
                        val: id,
                    },
                ]
                .try_into()
                .unwrap(),
            )))
        };
        assert_eq!(
            value_parts(&map(ScVal::U64(7))),
            Some((15_000_000, Some("7".into())))
        );
        assert_eq!(
            value_parts(&map(ScVal::String(ScString("c-1".try_into().unwrap())))),
            Some((15_000_000, Some("c-1".into())))
        );
        assert_eq!(
            value_parts(&map(ScVal::Bytes(vec![0xab, 0x01].try_into().unwrap()))),
            Some((15_000_000, Some("ab01".into())))
        );
        assert_eq!(value_parts(&ScVal::Bool(true)), None);
    }
}
