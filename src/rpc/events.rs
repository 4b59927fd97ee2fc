//! `getEvents` (stellar-rpc's `protocols/rpc/get_events.go`): the parameters (ledger range or
//! cursor, up to 5 filters by type, contract ID and topics) and the events, CAP-67's events of
//! classic operations among them.
use super::int_string;
use super::methods::Pagination;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One filter: every field given must match (absent: any). Topics are lists of 1–4 segments,
/// each a base64 `ScVal`, `*` (one segment) or a trailing `**` (the rest).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventFilter {
    /// `contract`, `system`, or both comma-separated.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `C…` strkeys, at most 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topics: Option<Vec<Vec<String>>>,
}

/// `getEvents` parameters: `startLedger` (and `endLedger`, exclusive), or `pagination.cursor`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetEventsParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ledger: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ledger: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Vec<EventFilter>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xdr_format: Option<String>,
}

/// One event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventInfo {
    /// `contract`, `system` or `diagnostic`.
    #[serde(rename = "type")]
    pub kind: String,
    pub ledger: u32,
    /// RFC 3339.
    #[serde(default)]
    pub ledger_closed_at: String,
    /// The emitting contract (for CAP-67 events: the asset's Stellar Asset Contract), `C…`.
    #[serde(default)]
    pub contract_id: String,
    /// `"%019d-%010d"`: the TOID of (ledger, transaction, operation) and the event's index; also
    /// a cursor.
    pub id: String,
    #[serde(default)]
    pub operation_index: u32,
    #[serde(default)]
    pub transaction_index: u32,
    #[serde(default)]
    pub tx_hash: String,
    /// Base64 `ScVal`s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_json: Option<Vec<Value>>,
    /// Base64 `ScVal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_json: Option<Value>,
}

/// `getEvents`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetEventsResult {
    #[serde(default)]
    pub events: Vec<EventInfo>,
    /// The last event's ID when the page is full, else the end of the ledgers scanned: paging
    /// goes on through empty pages.
    #[serde(default)]
    pub cursor: String,
    pub latest_ledger: u32,
    #[serde(default)]
    pub oldest_ledger: u32,
    #[serde(default, with = "int_string")]
    pub latest_ledger_close_time: u64,
    #[serde(default, with = "int_string")]
    pub oldest_ledger_close_time: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_read_and_write_back() {
        let page = json!({"events": [{"type": "contract", "ledger": 2,
            "ledgerClosedAt": "2026-12-04T18:42:37Z",
            "contractId": "CDMLFMKMMD7MWZP3FKUBZPVHTUEDLSX4BYGYKH4GCESXYHS3IHQ4EIG4",
            "id": "0000000008589934592-0000000000", "operationIndex": 0,
            "transactionIndex": 1, "txHash": "ab", "topic": ["AAAADwAAAANmZWUA"],
            "value": "AAAAAQ=="}],
            "cursor": "0000000012884901888-0000000000", "latestLedger": 4, "oldestLedger": 1,
            "latestLedgerCloseTime": "1796409757", "oldestLedgerCloseTime": "1796409750"});
        let r: GetEventsResult = serde_json::from_value(page.clone()).unwrap();
        assert_eq!(r.events[0].kind, "contract");
        assert_eq!(r.latest_ledger_close_time, 1_796_409_757);
        assert_eq!(serde_json::to_value(&r).unwrap(), page);
        let params = GetEventsParams {
            start_ledger: Some(5),
            filters: Some(vec![EventFilter {
                kind: Some("contract".into()),
                contract_ids: None,
                topics: Some(vec![vec!["*".into(), "**".into()]]),
            }]),
            pagination: Some(Pagination {
                cursor: None,
                limit: Some(10),
            }),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"startLedger": 5, "filters": [{"type": "contract", "topics": [["*", "**"]]}],
                   "pagination": {"limit": 10}})
        );
    }
}
