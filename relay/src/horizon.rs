//! A small Horizon client over `ureq`: the few endpoints the relay needs, bounded reads, and
//! Horizon's answers read as the library's types of them (`airgap::horizon`). No retries here;
//! callers decide (see `submit`).
use airgap::horizon::{Account, FeeStats, Ledger, Page, Problem, Root, Transaction};
use serde_json::Value;
use std::io::Read;
use std::time::{Duration, SystemTime};

/// The most bytes read from any Horizon response. A transaction record with its metadata is a few
/// kilobytes; 4 MiB leaves room for large Soroban metadata and bounds what a hostile server can
/// make us hold.
pub const MAX_BODY: u64 = 4 << 20;
/// Horizon keeps a `POST /transactions` open for up to 30 s; give it a little more.
pub const SUBMIT_REQUEST_TIMEOUT: Duration = Duration::from_secs(35);
/// Any other request.
pub const GET_REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// The public SDF Horizon servers, for `--network testnet|pubnet` without `--horizon`.
pub const TESTNET_URL: &str = "https://horizon-testnet.stellar.org";
pub const PUBNET_URL: &str = "https://horizon.stellar.org";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HorizonError {
    #[error("Horizon at {url} could not be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("Horizon answered {status} to {what}: {detail}")]
    Status {
        what: String,
        status: u16,
        /// The problem `type` suffix (`rate_limit_exceeded`, …), when the body was problem JSON.
        kind: Option<String>,
        detail: String,
        /// `Retry-After`, when Horizon sent one (429).
        retry_after: Option<Duration>,
    },
    #[error("Horizon's answer to {what} is not what Horizon sends: {reason}")]
    BadBody { what: String, reason: String },
    #[error("\"{0}\" is not a Horizon URL; write http://HOST:PORT or https://HOST")]
    BadUrl(String),
}

impl HorizonError {
    /// True when the request may not have reached Horizon or Horizon may recover: worth retrying.
    /// How long Horizon asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            HorizonError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub fn is_transient(&self) -> bool {
        match self {
            HorizonError::Unreachable { .. } => true,
            HorizonError::Status { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
            _ => false,
        }
    }
}

/// One HTTP answer, read with a bound.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// `Retry-After`, in seconds from now (integer or HTTP date).
    pub retry_after: Option<Duration>,
    /// Horizon's clock, from the `Date` header.
    pub date: Option<SystemTime>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as a problem, when it is one.
    pub fn problem(&self) -> Option<Problem> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The problem `type` suffix after the last `/` (`transaction_failed`, …).
    pub fn problem_kind(&self) -> Option<String> {
        let p = self.problem()?;
        (!p.kind.is_empty()).then(|| p.kind_suffix().to_string())
    }

    /// A short, printable description of the body for messages and the journal.
    pub fn summary(&self) -> String {
        if let Some(p) = self.problem() {
            let (title, detail) = (p.title, p.detail);
            if !title.is_empty() || !detail.is_empty() {
                return airgap::review::escape_bytes(
                    format!("{title}: {detail}")
                        .chars()
                        .take(300)
                        .collect::<String>()
                        .as_bytes(),
                );
            }
        }
        let text: Vec<u8> = self.body.iter().take(200).copied().collect();
        airgap::review::escape_bytes(&text)
    }
}

/// Horizon's answer to `POST /transactions`, sorted into what the relay does next.
#[derive(Debug, Clone)]
pub enum Submission {
    /// 200: in a ledger.
    Success(Box<Transaction>),
    /// 400 `transaction_failed`.
    Failed {
        transaction: String,
        inner_transaction: Option<String>,
        operations: Vec<String>,
    },
    /// 400 `transaction_malformed`: Horizon could not decode the envelope.
    Malformed(String),
    /// 504 of any kind: outcome unknown.
    Timeout,
    /// 429: wait this long.
    RateLimited(Option<Duration>),
    /// 5xx other than 504: Horizon or core could not take it now.
    Unavailable(u16, String),
    /// Anything else (403 submission disabled, 415, 413, …): refused, not applied.
    Refused(u16, String),
}

/// A Horizon server.
pub struct Horizon {
    agent: ureq::Agent,
    base: String,
}

/// A response's `Retry-After` (seconds, or an HTTP date), as a wait from now.
pub fn retry_after(resp: &ureq::Response) -> Option<Duration> {
    resp.header("retry-after").and_then(|v| {
        let v = v.trim();
        v.parse::<u64>().ok().map(Duration::from_secs).or_else(|| {
            httpdate::parse_http_date(v)
                .ok()
                .map(|t| t.duration_since(SystemTime::now()).unwrap_or_default())
        })
    })
}

fn read_reply(resp: ureq::Response) -> Result<Reply, std::io::Error> {
    let status = resp.status();
    let retry_after = retry_after(&resp);
    let date = resp
        .header("date")
        .and_then(|v| httpdate::parse_http_date(v.trim()).ok());
    let mut body = Vec::new();
    resp.into_reader().take(MAX_BODY).read_to_end(&mut body)?;
    Ok(Reply {
        status,
        retry_after,
        date,
        body,
    })
}

impl Horizon {
    pub fn new(url: &str) -> Result<Horizon, HorizonError> {
        let base = url.trim().trim_end_matches('/').to_string();
        let ok_scheme = base.starts_with("http://") || base.starts_with("https://");
        if !ok_scheme || base.contains(char::is_whitespace) || base.len() < 10 {
            return Err(HorizonError::BadUrl(url.to_string()));
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .redirects(0)
            .user_agent(concat!("airgap-relay/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Horizon { agent, base })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    fn unreachable(&self, reason: impl ToString) -> HorizonError {
        HorizonError::Unreachable {
            url: self.base.clone(),
            reason: reason.to_string(),
        }
    }

    /// Send a request; any HTTP status is a `Reply`, only transport failures are errors.
    fn send(
        &self,
        req: ureq::Request,
        form: Option<&[(&str, &str)]>,
    ) -> Result<Reply, HorizonError> {
        let result = match form {
            Some(f) => req.send_form(f),
            None => req.call(),
        };
        let resp = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(ureq::Error::Transport(t)) => return Err(self.unreachable(t)),
        };
        read_reply(resp).map_err(|e| self.unreachable(format!("reading the answer failed: {e}")))
    }

    pub fn get(&self, path: &str, timeout: Duration) -> Result<Reply, HorizonError> {
        let req = self
            .agent
            .get(&format!("{}{path}", self.base))
            .set("Accept", "application/json")
            .timeout(timeout);
        self.send(req, None)
    }

    fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        timeout: Duration,
    ) -> Result<(T, Reply), HorizonError> {
        let reply = self.get(path, timeout)?;
        if reply.status != 200 {
            return Err(status_error(&format!("GET {path}"), &reply));
        }
        let v = serde_json::from_slice(&reply.body).map_err(|e| HorizonError::BadBody {
            what: format!("GET {path}"),
            reason: e.to_string(),
        })?;
        Ok((v, reply))
    }

    /// `GET /`: the network passphrase, and Horizon's clock.
    pub fn root(&self, timeout: Duration) -> Result<(Root, Option<SystemTime>), HorizonError> {
        let (root, reply) = self.get_json::<Root>("/", timeout)?;
        Ok((root, reply.date))
    }

    /// `GET /accounts/{id}`; `None` when the account does not exist.
    pub fn account(
        &self,
        id: &airgap::account::AccountId,
        timeout: Duration,
    ) -> Result<Option<(Account, Option<SystemTime>)>, HorizonError> {
        let path = format!("/accounts/{id}");
        let reply = self.get(&path, timeout)?;
        if reply.status == 404 {
            return Ok(None);
        }
        if reply.status != 200 {
            return Err(status_error(&format!("GET {path}"), &reply));
        }
        let acct = serde_json::from_slice(&reply.body).map_err(|e| HorizonError::BadBody {
            what: format!("GET {path}"),
            reason: e.to_string(),
        })?;
        Ok(Some((acct, reply.date)))
    }

    /// `GET /ledgers?order=desc&limit=1`: the last closed ledger.
    pub fn latest_ledger(&self, timeout: Duration) -> Result<Ledger, HorizonError> {
        let what = "/ledgers?order=desc&limit=1";
        let (page, _) = self.get_json::<Page<Ledger>>(what, timeout)?;
        page.embedded
            .records
            .into_iter()
            .next()
            .ok_or_else(|| HorizonError::BadBody {
                what: format!("GET {what}"),
                reason: "no ledger in the page".into(),
            })
    }

    pub fn fee_stats(&self, timeout: Duration) -> Result<FeeStats, HorizonError> {
        Ok(self.get_json::<FeeStats>("/fee_stats", timeout)?.0)
    }

    /// `GET /transactions/{hash}`; `None` while it is not in a ledger (404).
    pub fn transaction(
        &self,
        hash: &str,
        timeout: Duration,
    ) -> Result<Option<Transaction>, HorizonError> {
        let path = format!("/transactions/{hash}");
        let reply = self.get(&path, timeout)?;
        match reply.status {
            404 => Ok(None),
            200 => parse_record(&path, &reply).map(Some),
            _ => Err(status_error(&format!("GET {path}"), &reply)),
        }
    }

    /// `GET path` as Server-Sent Events (`Accept: text/event-stream`, and `Last-Event-ID` when
    /// resuming): the body as it comes, for `watch::sse`. A read that waits longer than `idle`
    /// fails, so a connection that died without closing is noticed (Horizon closes a quiet
    /// stream itself after 55 s). Any status but 200 is an error.
    pub fn stream(
        &self,
        path: &str,
        last_event_id: Option<&str>,
        idle: Duration,
    ) -> Result<Box<dyn Read + Send>, HorizonError> {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout_read(idle)
            .redirects(0)
            .user_agent(concat!("airgap-relay/", env!("CARGO_PKG_VERSION")))
            .build();
        let mut req = agent
            .get(&format!("{}{path}", self.base))
            .set("Accept", "text/event-stream");
        if let Some(id) = last_event_id {
            req = req.set("Last-Event-ID", id);
        }
        let resp = match req.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => {
                let reply = read_reply(r).map_err(|e| self.unreachable(e))?;
                return Err(status_error(&format!("GET {path}"), &reply));
            }
            Err(ureq::Error::Transport(t)) => return Err(self.unreachable(t)),
        };
        Ok(Box::new(resp.into_reader()))
    }

    /// `POST /transactions` with the form field `tx`. Transport failures are errors (the outcome
    /// is unknown); every HTTP answer is sorted into a [`Submission`].
    pub fn submit(
        &self,
        envelope_base64: &str,
        timeout: Duration,
    ) -> Result<(Submission, Reply), HorizonError> {
        let req = self
            .agent
            .post(&format!("{}/transactions", self.base))
            .set("Accept", "application/json")
            .timeout(timeout);
        let reply = self.send(req, Some(&[("tx", envelope_base64)]))?;
        let sub = classify_submission(&reply)?;
        Ok((sub, reply))
    }
}

/// Sorts Horizon's answer to `POST /transactions` into a [`Submission`]; a body that does not fit
/// its status is a [`HorizonError::BadBody`]. Pure, so the fuzz target `horizon` can feed it
/// anything a hostile server could send.
pub fn classify_submission(reply: &Reply) -> Result<Submission, HorizonError> {
    let kind = reply.problem_kind();
    Ok(match reply.status {
        200 => Submission::Success(Box::new(parse_record("POST /transactions", reply)?)),
        400 if kind.as_deref() == Some("transaction_failed") => failed(reply)?,
        400 if kind.as_deref() == Some("transaction_malformed") => {
            Submission::Malformed(reply.summary())
        }
        429 => Submission::RateLimited(reply.retry_after),
        504 => Submission::Timeout,
        s @ 500..=599 => Submission::Unavailable(s, reply.summary()),
        s => Submission::Refused(s, reply.summary()),
    })
}

fn status_error(what: &str, reply: &Reply) -> HorizonError {
    HorizonError::Status {
        what: what.to_string(),
        status: reply.status,
        kind: reply.problem_kind(),
        detail: reply.summary(),
        retry_after: reply.retry_after,
    }
}

/// A transaction record (`GET /transactions/{hash}`, or a 200 from submission), its hash checked.
pub fn parse_record(what: &str, reply: &Reply) -> Result<Transaction, HorizonError> {
    let rec: Transaction =
        serde_json::from_slice(&reply.body).map_err(|e| HorizonError::BadBody {
            what: what.to_string(),
            reason: e.to_string(),
        })?;
    if rec.hash.len() != 64 || !rec.hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(HorizonError::BadBody {
            what: what.to_string(),
            reason: "the transaction hash is not 64 hex digits".into(),
        });
    }
    Ok(rec)
}

fn failed(reply: &Reply) -> Result<Submission, HorizonError> {
    let bad = |reason: &str| HorizonError::BadBody {
        what: "POST /transactions".into(),
        reason: reason.into(),
    };
    let problem: Problem = serde_json::from_slice(&reply.body)
        .map_err(|e| bad(&format!("the body is not a problem: {e}")))?;
    let codes = problem
        .extras
        .ok_or_else(|| bad("no extras"))?
        .result_codes
        .ok_or_else(|| bad("no extras.result_codes"))?;
    Ok(Submission::Failed {
        transaction: clean_code(&codes.transaction),
        inner_transaction: codes.inner_transaction.as_deref().map(clean_code),
        operations: codes.operations.iter().map(|o| clean_code(o)).collect(),
    })
}

/// The account's sequence number, or why Horizon's answer is unusable.
pub fn sequence(account: &Account) -> Result<i64, HorizonError> {
    account.sequence().ok_or_else(|| HorizonError::BadBody {
        what: format!("GET /accounts/{}", account.account_id),
        reason: "the sequence is not a number".into(),
    })
}

/// Result codes come from the server: keep them short and printable.
fn clean_code(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}

#[cfg(test)]
mod tests {
    //! A hostile server (not a Horizon stand-in): bodies no Horizon sends must not make the relay
    //! panic, hang or hold unbounded memory.
    use super::*;

    /// Serve `body` with `status` to every request on a loopback port, from a thread.
    fn hostile(status: u16, body: Vec<u8>, headers: &[(&str, &str)]) -> String {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let headers: Vec<tiny_http::Header> = headers
            .iter()
            .map(|(k, v)| tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap())
            .collect();
        std::thread::spawn(move || {
            for req in server.incoming_requests() {
                let mut resp =
                    tiny_http::Response::from_data(body.clone()).with_status_code(status);
                for h in &headers {
                    resp.add_header(h.clone());
                }
                let _ = req.respond(resp);
            }
        });
        url
    }

    const T: Duration = Duration::from_secs(10);

    #[test]
    fn oversized_body_is_cut_at_the_cap() {
        let big = vec![b'{'; (MAX_BODY as usize) * 2];
        let h = Horizon::new(&hostile(200, big, &[])).unwrap();
        let reply = h.get("/", T).unwrap();
        assert_eq!(reply.body.len() as u64, MAX_BODY);
        assert!(matches!(h.root(T), Err(HorizonError::BadBody { .. })));
    }

    #[test]
    fn deep_nesting_and_wrong_shapes_are_errors_not_panics() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
        let h = Horizon::new(&hostile(200, deep, &[])).unwrap();
        assert!(matches!(h.root(T), Err(HorizonError::BadBody { .. })));
        assert!(h.transaction(&"a".repeat(64), T).is_err());
        assert!(h.submit("AAAA", T).is_err());
        let h = Horizon::new(&hostile(
            200,
            br#"{"hash":"../../etc","ledger":1,"successful":true}"#.to_vec(),
            &[],
        ))
        .unwrap();
        assert!(matches!(
            h.transaction(&"a".repeat(64), T),
            Err(HorizonError::BadBody { .. })
        ));
    }

    #[test]
    fn failure_bodies_are_sanitized() {
        let body = br#"{"type":"x/transaction_failed","title":"T\u001b[2J","extras":{"result_codes":{"transaction":"tx_failed\u001b]0;pwned\u0007","operations":["op_no_trust; rm -rf"]}}}"#;
        let h = Horizon::new(&hostile(400, body.to_vec(), &[])).unwrap();
        match h.submit("AAAA", T).unwrap().0 {
            Submission::Failed {
                transaction,
                operations,
                ..
            } => {
                assert_eq!(transaction, "tx_failed0pwned");
                assert_eq!(operations, vec!["op_no_trustrmrf".to_string()]);
            }
            other => panic!("{other:?}"),
        }
        let h = Horizon::new(&hostile(503, b"\x1b[2Jbusy\x07".to_vec(), &[])).unwrap();
        match h.submit("AAAA", T).unwrap().0 {
            Submission::Unavailable(503, detail) => assert!(!detail.contains('\u{1b}'), "{detail}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn retry_after_and_date_are_read() {
        let h = Horizon::new(&hostile(
            429,
            b"{}".to_vec(),
            &[
                ("Retry-After", "7"),
                ("Date", "Sat, 21 Nov 2026 08:33:48 GMT"),
            ],
        ))
        .unwrap();
        let (sub, reply) = h.submit("AAAA", T).unwrap();
        assert!(matches!(sub, Submission::RateLimited(Some(d)) if d == Duration::from_secs(7)));
        assert_eq!(
            reply.date,
            httpdate::parse_http_date("Sat, 21 Nov 2026 08:33:48 GMT").ok()
        );
    }
}
