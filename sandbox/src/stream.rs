//! Server-Sent Events in Horizon's framing (reference §11): `retry: 1000 / event: open /
//! data: "hello"`, one `id: <paging_token> / data: <compact JSON>` per record, and
//! `retry: 10 / event: close / data: "byebye"` after `limit` records or Horizon's connection
//! timeout (55 s, `--stream-timeout`), whatever came in between. No heartbeats: a quiet stream
//! sends nothing until a ledger brings records.
//!
//! tiny_http buffers chunked bodies in 8 KiB chunks, so a stream takes over the connection: the
//! head is written by tiny_http's `Response::raw_print`, the body by `chunked_transfer`'s encoder
//! flushing after every event. Each stream runs on its own thread.

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tiny_http::{HTTPVersion, Header, Request, Response, StatusCode};

use crate::server::{Inner, Shared};

/// The longest a waiting stream sleeps before it looks again (it also wakes at each ledger).
const POLL: Duration = Duration::from_millis(200);
/// Most streams open at once; more get chi's plain-text 503.
pub const MAX_STREAMS: usize = 32;

pub const PREAMBLE: &str = "retry: 1000\nevent: open\ndata: \"hello\"\n\n";
pub const GOODBYE: &str = "retry: 10\nevent: close\ndata: \"byebye\"\n\n";

/// Records newer than a paging token, oldest first: `(paging token, record)`.
pub(crate) type Source = Box<dyn Fn(&Shared, &Inner, i64) -> Vec<(i64, serde_json::Value)> + Send>;

enum Phase {
    Start,
    Running,
    Closing,
    Done,
}

/// The events of one stream, produced lazily by polling the ledger.
pub struct Events {
    shared: Arc<Shared>,
    source: Source,
    cursor: i64,
    remaining: usize,
    deadline: Instant,
    phase: Phase,
}

impl Events {
    pub(crate) fn new(shared: Arc<Shared>, source: Source, cursor: i64, limit: usize) -> Events {
        Events {
            shared: Arc::clone(&shared),
            source,
            cursor,
            remaining: limit,
            deadline: Instant::now() + shared.timing.stream_timeout,
            phase: Phase::Start,
        }
    }
}

impl Iterator for Events {
    type Item = String;

    /// The next bytes of the stream: the preamble, a batch of records, the goodbye.
    fn next(&mut self) -> Option<String> {
        loop {
            match self.phase {
                Phase::Start => {
                    self.phase = Phase::Running;
                    return Some(PREAMBLE.to_string());
                }
                Phase::Running => {
                    if self.remaining == 0
                        || Instant::now() >= self.deadline
                        || self.shared.stop.load(Ordering::SeqCst)
                    {
                        self.phase = Phase::Closing;
                        continue;
                    }
                    let inner = self.shared.lock();
                    let records = (self.source)(&self.shared, &inner, self.cursor);
                    if records.is_empty() {
                        let left = self.deadline.saturating_duration_since(Instant::now());
                        drop(self.shared.wait_for_ledger(inner, left.min(POLL)));
                        continue;
                    }
                    drop(inner);
                    let mut out = String::new();
                    for (token, record) in records.into_iter().take(self.remaining) {
                        let data = serde_json::to_string(&record).unwrap_or_default();
                        out.push_str(&format!("id: {token}\ndata: {data}\n\n"));
                        self.cursor = token;
                        self.remaining -= 1;
                    }
                    return Some(out);
                }
                Phase::Closing => {
                    self.phase = Phase::Done;
                    return Some(GOODBYE.to_string());
                }
                Phase::Done => return None,
            }
        }
    }
}

/// Flushes the connection after every write, so each chunk leaves at once.
struct FlushEach<W: Write>(W);

impl<W: Write> Write for FlushEach<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.0.write(buf)?;
        self.0.flush()?;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

fn header(name: &str, value: &str) -> Option<Header> {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

/// Answer `req` with the event stream, on the calling thread (until the stream ends).
pub fn serve(req: Request, events: Events) {
    let headers: Vec<Header> = [
        ("Content-Type", "text/event-stream; charset=utf-8"),
        ("Cache-Control", "no-cache"),
        ("Connection", "keep-alive"),
        ("Access-Control-Allow-Origin", "*"),
    ]
    .iter()
    .filter_map(|(n, v)| header(n, v))
    .collect();
    let version = req.http_version().clone();
    if version < HTTPVersion(1, 1) {
        // no chunked encoding for HTTP/1.0: send the whole (finite) stream at once
        let body: String = events.collect();
        let mut response = Response::from_string(body);
        for h in headers {
            response.add_header(h);
        }
        let _ = req.respond(response);
        return;
    }
    // a `TE` request header could make tiny_http pick another encoding for the head
    let request_headers: Vec<Header> = req
        .headers()
        .iter()
        .filter(|h| !h.field.equiv("TE"))
        .cloned()
        .collect();
    let mut writer = req.into_writer();
    let head = Response::new(StatusCode(200), headers, std::io::empty(), None, None);
    if head
        .raw_print(&mut writer, version, &request_headers, true, None)
        .and_then(|()| writer.flush())
        .is_err()
    {
        return;
    }
    let mut body = chunked_transfer::Encoder::with_flush_after_write(FlushEach(writer));
    for chunk in events {
        if body.write_all(chunk.as_bytes()).is_err() {
            return; // the client went away
        }
    }
    // dropping the encoder writes the last chunk
}
