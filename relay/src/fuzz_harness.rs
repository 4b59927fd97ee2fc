//! The body of the `horizon` fuzz target (`fuzz/fuzz_targets/horizon.rs`): whatever a Horizon
//! server (or something posing as one) answers, as the relay reads it ([`crate::horizon`]).
//! Shared with relay/tests/horizon_corpus.rs, which replays fuzz/corpus/horizon/.
//!
//! Input: one status byte (an index into the statuses below), then the body.
use crate::horizon::{self, Reply};
use airgap::horizon::{Account, FeeStats, Root, Transaction};
use std::time::Duration;

const STATUSES: [u16; 10] = [200, 400, 404, 413, 429, 500, 502, 503, 504, 403];

pub fn horizon(data: &[u8]) {
    let Some((&status, body)) = data.split_first() else {
        return;
    };
    let reply = Reply {
        status: STATUSES[usize::from(status) % STATUSES.len()],
        retry_after: Some(Duration::from_secs(u64::from(status))),
        date: None,
        body: body.to_vec(),
    };
    let _ = reply.json();
    let _ = reply.problem_kind();
    let summary = reply.summary();
    assert!(
        summary.bytes().all(|b| (0x20..0x7f).contains(&b)),
        "summary is not printable: {summary:?}"
    );
    let _ = horizon::classify_submission(&reply);
    let _ = horizon::parse_record("GET /transactions/x", &reply);
    // The typed answers of GET /, /accounts/{id}, /fee_stats, /transactions/{hash}.
    let _ = serde_json::from_slice::<Root>(body);
    let _ = serde_json::from_slice::<FeeStats>(body);
    let _ = serde_json::from_slice::<Transaction>(body);
    if let Ok(account) = serde_json::from_slice::<Account>(body) {
        let _ = horizon::sequence(&account);
        let _ = account.flags.names();
        for b in &account.balances {
            if let (Some(code), Some(issuer)) = (&b.asset_code, &b.asset_issuer) {
                assert!(account.trustline(code, issuer).is_some());
            }
        }
    }
}
