//! Horizon's problems (RFC 7807, `airgap::horizon::Problem`) with Horizon's own titles and
//! details, for every error the sandbox answers (reference §8.2).

use airgap::horizon::codes::ResultCodes;
use airgap::horizon::{Problem, ProblemExtras};
use stellar_xdr::TransactionResult;

use crate::results::{self, ResultsError};

const PROBLEM_HOST: &str = "https://stellar.org/horizon-errors/";
const TX_FAILED_DETAIL: &str = "The transaction failed when submitted to the stellar network. The `extras.result_codes` field on this response contains further details.  Descriptions of each code can be found at: https://developers.stellar.org/api/errors/http-status-codes/horizon-specific/transaction-failed/";
const MALFORMED_DETAIL: &str = "Horizon could not decode the transaction envelope in this request. A transaction should be an XDR TransactionEnvelope struct encoded using base64.  The envelope read from this request is echoed in the `extras.envelope_xdr` field of this response for your convenience.";
const NOT_FOUND_DETAIL: &str = "The resource at the url requested was not found.  This usually occurs for one of two reasons:  The url requested is not valid, or no data in our database could be found with the parameters provided.";

/// A problem in Horizon's shape.
fn problem(
    status: u16,
    kind: &str,
    title: &str,
    detail: &str,
    extras: Option<ProblemExtras>,
) -> Problem {
    Problem {
        kind: format!("{PROBLEM_HOST}{kind}"),
        title: title.into(),
        status,
        detail: detail.into(),
        extras,
    }
}

pub fn not_found() -> Problem {
    problem(404, "not_found", "Resource Missing", NOT_FOUND_DETAIL, None)
}

/// 410: a descending page that starts before the oldest ledger held (Horizon's
/// `validateAndAdjustCursor`).
pub fn before_history() -> Problem {
    problem(
        410,
        "before_history",
        "Data Requested Is Before Recorded History",
        "This horizon instance is configured to only track a portion of the stellar network's latest history. This request is asking for results prior to the recorded history known to this horizon instance.",
        None,
    )
}

pub fn bad_request(field: &str, reason: &str) -> Problem {
    problem(
        400,
        "bad_request",
        "Bad Request",
        "The request you sent was invalid in some way.",
        Some(ProblemExtras {
            invalid_field: Some(field.into()),
            reason: Some(reason.into()),
            ..Default::default()
        }),
    )
}

pub fn malformed(envelope_xdr: &str, error: Option<&str>) -> Problem {
    problem(
        400,
        "transaction_malformed",
        "Transaction Malformed",
        MALFORMED_DETAIL,
        Some(ProblemExtras {
            envelope_xdr: Some(envelope_xdr.into()),
            error: error.map(str::to_string),
            ..Default::default()
        }),
    )
}

pub fn unsupported_media_type() -> Problem {
    problem(
        415,
        "unsupported_media_type",
        "Unsupported Media Type",
        "The request has an unsupported content type. Presently, the only supported content type is application/x-www-form-urlencoded.",
        None,
    )
}

pub fn server_error() -> Problem {
    problem(
        500,
        "server_error",
        "Internal Server Error",
        "An error occurred while processing this request.  This is usually due to a bug within the server software.  Trying this request again may succeed if the bug is transient, otherwise please report this issue to the issue tracker at: https://github.com/stellar/stellar-horizon/issues. Please include this response in your issue.",
        None,
    )
}

pub fn submission_timeout(envelope_xdr: &str, hash: &str) -> Problem {
    problem(
        504,
        "transaction_submission_timeout",
        "Transaction Submission Timeout",
        "Your transaction submission request has timed out. This does not necessarily mean the submission has failed. Before resubmitting, please use the transaction hash provided in `extras.hash` to poll the GET /transactions endpoint for sometime and check if it was included in a ledger.",
        Some(ProblemExtras {
            envelope_xdr: Some(envelope_xdr.into()),
            hash: Some(hash.into()),
            ..Default::default()
        }),
    )
}

pub fn legacy_timeout() -> Problem {
    problem(
        504,
        "timeout",
        "Timeout",
        "Your request timed out before completing.  Please try your request again. If you are submitting a transaction make sure you are sending exactly the same transaction (with the same sequence number).",
        None,
    )
}

pub fn stale_history() -> Problem {
    problem(
        503,
        "stale_history",
        "Historical DB Is Too Stale",
        "This horizon instance is configured to reject client requests when it can determine that the history database is lagging too far behind the connected instance of Stellar-Core or read replica. It's also possible that Stellar-Core is out of sync. Please try again later.",
        None,
    )
}

pub fn rate_limited() -> Problem {
    problem(
        429,
        "rate_limit_exceeded",
        "Rate Limit Exceeded",
        "The rate limit for the requesting IP address is over its alloted limit.  The allowed limit and requests left per time period are communicated to clients via the http response headers 'X-RateLimit-*' headers.",
        None,
    )
}

/// 400 `transaction_failed` for a result (rejected, or failed in a ledger). For a fee bump,
/// `inner_view` is true when the inner transaction's hash was submitted: then only the inner code
/// is reported, as Horizon does.
pub fn transaction_failed(
    envelope_xdr: &str,
    result: &TransactionResult,
    inner_view: bool,
) -> Result<Problem, ResultsError> {
    let mut codes = ResultCodes::of(result);
    if inner_view {
        if let Some(inner) = codes.inner_transaction.take() {
            codes.transaction = inner;
        }
    }
    Ok(problem(
        400,
        "transaction_failed",
        "Transaction Failed",
        TX_FAILED_DETAIL,
        Some(ProblemExtras {
            envelope_xdr: Some(envelope_xdr.into()),
            result_codes: Some(codes),
            result_xdr: Some(results::to_base64(result)?),
            ..Default::default()
        }),
    ))
}
