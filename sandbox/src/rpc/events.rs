//! `getEvents` (stellar-rpc `methods/get_events.go`, `protocols/rpc/get_events.go` and
//! `cursor.go`, `db/event.go`): CAP-67 events of the ledgers held, filtered by type, contract ID
//! and topics (`*` one segment, a trailing `**` the rest), paged by cursor.
//!
//! Event IDs (and cursors) are `"%019d-%010d"` of a TOID and an index: the fee events of a
//! ledger are `{ledger, 0, 0}` with their index in the ledger; an operation's events are
//! `{ledger, transaction order (from 1), operation index (from 0)}` with their index in the
//! operation. A page holds at most `limit` events from at most 10,000 ledgers
//! (`LedgerScanLimit`); its `cursor` is the last event's ID when the page is full, else the end
//! of the ledgers scanned, so paging goes on through empty pages.

use airgap::rpc::{EventFilter, EventInfo, GetEventsParams, GetEventsResult, XdrFormat};
use serde_json::Value;
use stellar_xdr::{ContractEvent, ContractEventBody, ContractEventType, ScVal, TransactionEvent};

use super::methods::range;
use super::xdr;
use super::{code, params_as, Result, RpcError};
use crate::history::{parse_toid, toid};
use crate::resources::rfc3339;
use crate::server::Shared;

const LEDGER_SCAN_LIMIT: u32 = 10_000;
const MAX_LIMIT: u64 = 10_000;
const DEFAULT_LIMIT: u64 = 100;
const MAX_FILTERS: usize = 5;
const MAX_CONTRACT_IDS: usize = 5;
const MAX_TOPICS: usize = 5;
const MAX_SEGMENTS: usize = 4;
const TX_MASK: u32 = 0xF_FFFF;
const OP_MASK: u32 = 0xFFF;

/// An event's place: stellar-rpc's `protocol.Cursor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub ledger: u32,
    pub tx: u32,
    pub op: u32,
    pub event: u32,
}

impl Cursor {
    pub fn id(&self) -> String {
        format!(
            "{:019}-{:010}",
            toid(self.ledger, self.tx, self.op),
            self.event
        )
    }

    /// `ParseCursor`.
    pub fn parse(s: &str) -> Option<Cursor> {
        let (id, event) = s.split_once('-')?;
        let id: i64 = id.parse().ok()?;
        let event: u32 = event.parse().ok()?;
        let (ledger, tx, op) = parse_toid(id);
        Some(Cursor {
            ledger,
            tx,
            op,
            event,
        })
    }
}

/// One segment of a topic filter.
#[derive(Clone, Debug)]
enum Segment {
    One,
    Rest,
    Is(ScVal),
}

#[derive(Clone, Debug, Default)]
struct Filter {
    /// Empty: any type.
    types: Vec<ContractEventType>,
    /// Empty: any contract.
    contracts: Vec<[u8; 32]>,
    /// Empty: any topics.
    topics: Vec<Vec<Segment>>,
}

fn parse_filter(v: &EventFilter, n: usize) -> Result<Filter> {
    let bad = |m: String| RpcError::params(format!("filter {n} invalid: {m}"));
    let mut f = Filter::default();
    if let Some(t) = v.kind.as_deref() {
        for kind in t.split(',').filter(|k| !k.is_empty()) {
            f.types.push(match kind {
                "contract" => ContractEventType::Contract,
                "system" => ContractEventType::System,
                _ => {
                    return Err(bad(
                        "filter type invalid: if set, type must be either 'system' or 'contract'"
                            .into(),
                    ))
                }
            });
        }
    }
    let ids: &[String] = v.contract_ids.as_deref().unwrap_or_default();
    if ids.len() > MAX_CONTRACT_IDS {
        return Err(bad("maximum 5 contract IDs per filter".into()));
    }
    for (i, id) in ids.iter().enumerate() {
        let c = stellar_strkey::Contract::from_string(id)
            .map_err(|_| bad(format!("contract ID {} invalid", i + 1)))?;
        f.contracts.push(c.0);
    }
    let topics: &[Vec<String>] = v.topics.as_deref().unwrap_or_default();
    if topics.len() > MAX_TOPICS {
        return Err(bad("maximum 5 topics per filter".into()));
    }
    for (i, topic) in topics.iter().enumerate() {
        let tbad = |m: &str| bad(format!("topic {} invalid: {m}", i + 1));
        if topic.is_empty() {
            return Err(tbad("topic must have at least 1 segment"));
        }
        let mut segments = Vec::with_capacity(topic.len());
        for (j, s) in topic.iter().enumerate() {
            segments.push(match s.as_str() {
                "*" => Segment::One,
                "**" if j + 1 == topic.len() => Segment::Rest,
                "**" => {
                    return Err(tbad(&format!(
                        "segment {} invalid: wildcard '**' is only allowed as the last segment",
                        j + 1
                    )))
                }
                b64 => Segment::Is(xdr::decode_untrusted::<ScVal>(b64).map_err(|_| {
                    tbad(&format!("segment {} invalid: not a base64 ScVal", j + 1))
                })?),
            });
        }
        let fixed = segments
            .iter()
            .filter(|s| !matches!(s, Segment::Rest))
            .count();
        if fixed > MAX_SEGMENTS {
            return Err(tbad("topic cannot have more than 4 segments"));
        }
        f.topics.push(segments);
    }
    Ok(f)
}

fn topic_matches(filter: &[Segment], topics: &[ScVal]) -> bool {
    let (fixed, rest) = match filter.last() {
        Some(Segment::Rest) => (&filter[..filter.len() - 1], true),
        _ => (filter, false),
    };
    if rest {
        if topics.len() < fixed.len() {
            return false;
        }
    } else if topics.len() != fixed.len() {
        return false;
    }
    fixed.iter().zip(topics).all(|(s, t)| match s {
        Segment::One | Segment::Rest => true,
        Segment::Is(v) => v == t,
    })
}

impl Filter {
    fn matches(&self, e: &ContractEvent) -> bool {
        let ContractEventBody::V0(body) = &e.body;
        (self.types.is_empty() || self.types.contains(&e.type_))
            && (self.contracts.is_empty()
                || e.contract_id
                    .as_ref()
                    .is_some_and(|c| self.contracts.contains(&c.0 .0)))
            && (self.topics.is_empty()
                || self
                    .topics
                    .iter()
                    .any(|t| topic_matches(t, body.topics.as_slice())))
    }
}

/// An event found, with where it is.
struct Found {
    cursor: Cursor,
    close_time: u64,
    tx_hash: [u8; 32],
    event: ContractEvent,
}

fn info(f: &Found, fmt: XdrFormat) -> Result<EventInfo> {
    let ContractEventBody::V0(body) = &f.event.body;
    let kind = match f.event.type_ {
        ContractEventType::System => "system",
        ContractEventType::Contract => "contract",
        ContractEventType::Diagnostic => "diagnostic",
    };
    let mut out = EventInfo {
        kind: kind.into(),
        ledger: f.cursor.ledger,
        ledger_closed_at: rfc3339(f.close_time),
        contract_id: f
            .event
            .contract_id
            .as_ref()
            .map(|c| stellar_strkey::Contract(c.0 .0).to_string().to_string())
            .unwrap_or_default(),
        id: f.cursor.id(),
        operation_index: f.cursor.op,
        transaction_index: f.cursor.tx,
        tx_hash: hex::encode(f.tx_hash),
        ..Default::default()
    };
    match fmt {
        XdrFormat::Base64 => {
            let topics = body
                .topics
                .iter()
                .map(xdr::encode)
                .collect::<Result<Vec<_>>>()?;
            out.topic = Some(topics);
            out.value = Some(xdr::encode(&body.data)?);
        }
        XdrFormat::Json => {
            let topics = body
                .topics
                .iter()
                .map(xdr::to_json)
                .collect::<Result<Vec<_>>>()?;
            out.topic_json = Some(topics);
            out.value_json = Some(xdr::to_json(&body.data)?);
        }
    }
    Ok(out)
}

pub(super) fn get_events(shared: &Shared, params: &Value) -> Result<GetEventsResult> {
    let p: GetEventsParams = params_as(params)?;
    let fmt = xdr::format(p.xdr_format.as_deref())?;
    let start_ledger = p.start_ledger.unwrap_or(0);
    let end_ledger = p.end_ledger.unwrap_or(0);
    let pagination = p.pagination.unwrap_or_default();
    let cursor = match pagination.cursor.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            Cursor::parse(s).ok_or_else(|| RpcError::params(format!("invalid event id {s}")))?,
        ),
    };
    let limit = pagination.limit.filter(|l| *l > 0).unwrap_or(DEFAULT_LIMIT);
    if cursor.is_some() {
        if start_ledger != 0 || end_ledger != 0 {
            return Err(RpcError::params(
                "ledger ranges and cursor cannot both be set",
            ));
        }
    } else if start_ledger == 0 {
        return Err(RpcError::params("startLedger must be positive"));
    }
    if limit > MAX_LIMIT {
        return Err(RpcError::params(format!(
            "limit must not exceed {MAX_LIMIT}"
        )));
    }
    let filters = p.filters.unwrap_or_default();
    if filters.len() > MAX_FILTERS {
        return Err(RpcError::params("maximum 5 filters per request"));
    }
    let filters = filters
        .iter()
        .enumerate()
        .map(|(i, f)| parse_filter(f, i + 1))
        .collect::<Result<Vec<_>>>()?;

    let inner = shared.lock();
    let r = range(&inner);
    let start = match cursor {
        // paging starts right after the cursor
        Some(c) => Cursor {
            event: c.event.saturating_add(1),
            ..c
        },
        None => Cursor {
            ledger: start_ledger,
            tx: 0,
            op: 0,
            event: 0,
        },
    };
    let mut end = start
        .ledger
        .saturating_add(LEDGER_SCAN_LIMIT)
        .min(r.latest.saturating_add(1));
    if end_ledger != 0 {
        end = end.min(end_ledger);
    }
    if start.ledger < r.oldest || start.ledger > r.latest {
        return Err(RpcError::new(
            code::INVALID_REQUEST,
            format!(
                "startLedger must be within the ledger range: {} - {}",
                r.oldest, r.latest
            ),
        ));
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut found: Vec<Found> = Vec::new();
    'ledgers: for ledger in start.ledger..end {
        let Some(record) = inner.history.ledger(ledger) else {
            continue;
        };
        let mut in_ledger: Vec<Found> = Vec::new();
        let mut fee_index = 0u32;
        for tx in inner.history.txs_in(ledger) {
            for e in &tx.tx_events {
                let event: TransactionEvent = xdr::decode(e)?;
                in_ledger.push(Found {
                    cursor: Cursor {
                        ledger,
                        tx: 0,
                        op: 0,
                        event: fee_index,
                    },
                    close_time: record.close_time,
                    tx_hash: tx.hash,
                    event: event.event,
                });
                fee_index += 1;
            }
            for (op, events) in tx.op_events.iter().enumerate() {
                for (i, e) in events.iter().enumerate() {
                    in_ledger.push(Found {
                        cursor: Cursor {
                            ledger,
                            tx: tx.order(),
                            op: u32::try_from(op).unwrap_or(OP_MASK),
                            event: u32::try_from(i).unwrap_or(u32::MAX),
                        },
                        close_time: record.close_time,
                        tx_hash: tx.hash,
                        event: xdr::decode(e)?,
                    });
                }
            }
        }
        in_ledger.sort_by_key(|f| f.cursor);
        for f in in_ledger {
            if f.cursor < start {
                continue;
            }
            if filters.is_empty() || filters.iter().any(|flt| flt.matches(&f.event)) {
                found.push(f);
                if found.len() >= limit {
                    break 'ledgers;
                }
            }
        }
    }
    let cursor = match found.last() {
        Some(last) if found.len() >= limit => last.cursor.id(),
        // the end of the window scanned (`endLedger` is exclusive)
        _ => Cursor {
            ledger: end.saturating_sub(1),
            tx: TX_MASK,
            op: OP_MASK,
            event: u32::MAX,
        }
        .id(),
    };
    let events = found
        .iter()
        .map(|f| info(f, fmt))
        .collect::<Result<Vec<_>>>()?;
    Ok(GetEventsResult {
        events,
        cursor,
        latest_ledger: r.latest,
        oldest_ledger: r.oldest,
        latest_ledger_close_time: r.latest_close,
        oldest_ledger_close_time: r.oldest_close,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // protocols/rpc/cursor.go: "%019d-%010d" of the TOID and the event index, and the maximum
    // cursor (TransactionMask, OperationMask, MaxUint32) ending a scanned window.
    #[test]
    fn cursors_as_stellar_rpc_writes_them() {
        let c = Cursor {
            ledger: 5,
            tx: 2,
            op: 1,
            event: 3,
        };
        assert_eq!(
            c.id(),
            format!("{:019}-{:010}", (5i64 << 32) | (2 << 12) | 1, 3)
        );
        assert_eq!(Cursor::parse(&c.id()), Some(c));
        let end = Cursor {
            ledger: 7,
            tx: TX_MASK,
            op: OP_MASK,
            event: u32::MAX,
        };
        assert_eq!(end.id(), "0000000034359738367-4294967295");
        assert!(Cursor::parse("12-x").is_none());
    }
}
