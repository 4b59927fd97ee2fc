//! Submissions: `POST /transactions` (Horizon's txsub: its own pre-checks, then the ledger, then
//! the stored outcome), `POST /transactions_async`, and friendbot.

use std::io::Read;

use airgap::network::Network;
use rand::Rng;
use stellar_xdr::{
    Limits, ReadXdr, TransactionEnvelope, TransactionResult, TransactionResultResult,
};
use tiny_http::Request;

use crate::faults::{self, Fault};
use crate::ledger::{StoredTx, Verdict};
use crate::server::{now, query_param, Inner, Reply, Shared};
use crate::{problems, resources, results, FRIENDBOT_STROOPS};

/// Horizon's default `--max-http-request-size`.
const MAX_REQUEST_BYTES: u64 = 200 * 1024;

/// Decode a submitted envelope (`airgap::envelope`: limits, no trailing bytes).
fn decode_envelope(raw: &str) -> Result<TransactionEnvelope, String> {
    airgap::envelope::decode(raw).map_err(|e| e.to_string())
}

/// Transaction hash on the sandbox network (outer hash for fee bumps).
fn envelope_hash(env: &TransactionEnvelope) -> [u8; 32] {
    airgap::envelope::hash(env, &Network::Standalone)
}

/// Horizon's own pre-check (txsub): negative sequence or an impossible `minSeqNum`.
fn horizon_bad_seq(env: &TransactionEnvelope) -> bool {
    let tx = airgap::envelope::transaction(env);
    let seq = tx.seq_num.0;
    let min_seq = match &tx.cond {
        stellar_xdr::Preconditions::V2(v2) => v2.min_seq_num.as_ref().map(|s| s.0),
        _ => None,
    };
    seq < 0 || min_seq.is_some_and(|m| m < 0 || m >= seq)
}

fn read_tx_param(req: &mut Request, query: &str) -> Result<String, Reply> {
    let content_type = req
        .headers()
        .iter()
        .find(|h| h.field.equiv("Content-Type"))
        .map(|h| h.value.as_str().to_string())
        .unwrap_or_default();
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !matches!(
        media.as_str(),
        "" | "application/x-www-form-urlencoded" | "multipart/form-data"
    ) {
        return Err(Reply::problem(&problems::unsupported_media_type()));
    }
    let mut body = Vec::new();
    let read = req
        .as_reader()
        .take(MAX_REQUEST_BYTES + 1)
        .read_to_end(&mut body);
    if read.is_err() || body.len() as u64 > MAX_REQUEST_BYTES {
        // Horizon's MaxBytesHandler makes the form unreadable: no `tx`, a malformed envelope.
        return Err(Reply::problem(&problems::malformed("", None)));
    }
    let from_body = if media == "application/x-www-form-urlencoded" {
        form_urlencoded::parse(&body)
            .find(|(k, _)| k == "tx")
            .map(|(_, v)| v.into_owned())
    } else {
        None
    };
    Ok(from_body
        .or_else(|| query_param(query, "tx"))
        .unwrap_or_default())
}

/// What the ledger did with a submission.
enum Outcome {
    /// Included now or earlier (the stored transaction).
    Included(StoredTx),
    Rejected(TransactionResult),
    Internal,
}

/// Validate and apply under the ledger lock; a known hash returns its stored transaction.
fn process(
    shared: &Shared,
    env: &TransactionEnvelope,
    raw: &str,
    hash: [u8; 32],
    check_known: bool,
) -> Outcome {
    let mut inner = shared.lock();
    if check_known {
        if let Some(tx) = inner.txs.get(&hash) {
            return Outcome::Included(tx.clone());
        }
    }
    let verdict = match inner.ledger.evaluate(env, raw, hash, now()) {
        Ok(v) => v,
        Err(_) => return Outcome::Internal,
    };
    match verdict {
        Verdict::Rejected(result) => Outcome::Rejected(result),
        Verdict::Included(closed) => {
            let Inner {
                ledger,
                store,
                txs,
                order,
                ledgers,
            } = &mut *inner;
            if store.commit(&ledger.state, &closed).is_err() {
                return Outcome::Internal;
            }
            ledger.commit(&closed);
            txs.insert(closed.tx.hash, closed.tx.clone());
            if let Some(inner) = closed.tx.inner_hash {
                txs.insert(inner, closed.tx.clone());
            }
            ledgers.push(closed.record.clone());
            order.push(closed.tx.hash);
            Outcome::Included(closed.tx)
        }
    }
}

/// The answer for a transaction in the ledger, seen through the submitted `hash` (outer or inner
/// hash of a fee bump).
fn stored_reply(shared: &Shared, raw: &str, tx: &StoredTx, hash: [u8; 32]) -> Reply {
    if tx.successful {
        return match resources::transaction(&shared.base, tx, hash) {
            Ok(v) => Reply::hal(&v),
            Err(_) => Reply::problem(&problems::server_error()),
        };
    }
    match TransactionResult::from_xdr_base64(&tx.result_xdr, Limits::none()) {
        Ok(r) => failed_reply(raw, &r, tx.inner_hash == Some(hash)),
        Err(_) => Reply::problem(&problems::server_error()),
    }
}

/// 400 `transaction_failed` (see [`problems::transaction_failed`]).
fn failed_reply(raw: &str, result: &TransactionResult, inner_view: bool) -> Reply {
    match problems::transaction_failed(raw, result, inner_view) {
        Ok(p) => Reply::problem(&p),
        Err(_) => Reply::problem(&problems::server_error()),
    }
}

/// `POST /transactions` (`is_async` false) and `POST /transactions_async`, with the fault rolled
/// for this request.
pub(crate) fn submit(
    shared: &Shared,
    req: &mut Request,
    query: &str,
    fault: Fault,
    is_async: bool,
) -> Reply {
    if fault == Fault::Status429 {
        // Horizon's rate limiter runs before any handler.
        return faults::rate_limit_reply();
    }
    let raw = match read_tx_param(req, query) {
        Ok(raw) => raw,
        Err(reply) => return reply,
    };
    let env = match decode_envelope(&raw) {
        Ok(env) => env,
        Err(e) => {
            let error = is_async.then_some(e.as_str());
            return Reply::problem(&problems::malformed(&raw, error));
        }
    };
    let hash = envelope_hash(&env);
    let hash_hex = hex::encode(hash);
    let mut rng = rand::thread_rng();
    match fault {
        Fault::None | Fault::Status429 => {}
        Fault::Status503 => {
            return match rng.gen_range(0..3) {
                0 if is_async => Reply::hal_status(
                    503,
                    &resources::async_status("TRY_AGAIN_LATER", &hash_hex, None),
                ),
                0 | 1 => Reply::problem(&problems::stale_history()),
                _ => faults::plain_503(),
            }
        }
        Fault::Status504 => {
            // A real timeout says nothing about the outcome: apply or not, at random.
            if rng.gen::<bool>() && !horizon_bad_seq(&env) {
                let _ = process(shared, &env, &raw, hash, !is_async);
            }
            return match rng.gen_range(0..4) {
                0 => Reply::problem(&problems::legacy_timeout()),
                1 => faults::bare_504(),
                _ if is_async => faults::bare_504(),
                _ => Reply::problem(&problems::submission_timeout(&raw, &hash_hex)),
            };
        }
    }
    if horizon_bad_seq(&env) {
        let canned = results::tx_error(0, TransactionResultResult::TxBadSeq);
        return if is_async {
            async_error(&hash_hex, &canned)
        } else {
            failed_reply(&raw, &canned, false)
        };
    }
    if is_async {
        // Horizon relays core's answer without looking in its database.
        return match process(shared, &env, &raw, hash, false) {
            Outcome::Included(_) => {
                Reply::hal_status(201, &resources::async_status("PENDING", &hash_hex, None))
            }
            Outcome::Rejected(result) => async_error(&hash_hex, &result),
            Outcome::Internal => Reply::problem(&problems::server_error()),
        };
    }
    match process(shared, &env, &raw, hash, true) {
        Outcome::Included(tx) => stored_reply(shared, &raw, &tx, hash),
        Outcome::Rejected(mut result) => {
            // txsub answers core's txBAD_SEQ with its canned ErrBadSequence (fee 0).
            if matches!(result.result, TransactionResultResult::TxBadSeq) {
                result = results::tx_error(0, TransactionResultResult::TxBadSeq);
            }
            failed_reply(&raw, &result, false)
        }
        Outcome::Internal => Reply::problem(&problems::server_error()),
    }
}

fn async_error(hash_hex: &str, result: &TransactionResult) -> Reply {
    match results::to_base64(result) {
        Ok(x) => Reply::hal_status(400, &resources::async_status("ERROR", hash_hex, Some(x))),
        Err(_) => Reply::problem(&problems::server_error()),
    }
}

/// `GET|POST /friendbot?addr=G…`: a create_account of 10,000 XLM from the root account.
pub(crate) fn friendbot(shared: &Shared, query: &str) -> Reply {
    let addr = query_param(query, "addr").unwrap_or_default();
    let Ok(key) = stellar_strkey::ed25519::PublicKey::from_string(&addr) else {
        return Reply::problem(&problems::bad_request(
            "addr",
            "Account ID must start with `G` and contain 56 alphanum characters",
        ));
    };
    let built = {
        let inner = shared.lock();
        if inner.ledger.state.accounts.contains_key(&key.0) {
            return Reply::problem(&problems::bad_request(
                "addr",
                "account already funded to starting balance",
            ));
        }
        inner.ledger.friendbot_envelope(key.0, FRIENDBOT_STROOPS)
    };
    let Ok((env, raw, hash)) = built else {
        return Reply::problem(&problems::server_error());
    };
    match process(shared, &env, &raw, hash, true) {
        Outcome::Included(tx) => stored_reply(shared, &raw, &tx, hash),
        Outcome::Rejected(result) => failed_reply(&raw, &result, false),
        Outcome::Internal => Reply::problem(&problems::server_error()),
    }
}
