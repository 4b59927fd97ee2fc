//! Server-Sent Events as Horizon writes them (reference §11.2): `field: value` lines, an event
//! dispatched at each blank line, comments (`:`) ignored, `id:` the event's ID.
use std::io::{BufRead, Read};

/// The longest line read (a payment record with its joined transaction is a few kilobytes;
/// Horizon's own limit on a whole response is 4 MiB).
pub const MAX_LINE: u64 = 4 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: Option<String>,
    /// `message` unless an `event:` line named it (`open`, `close`, `error`).
    pub event: String,
    pub data: String,
}

#[derive(Debug, Default)]
pub struct Parser {
    id: Option<String>,
    event: Option<String>,
    data: Option<String>,
}

impl Parser {
    /// Feed one line (without its line ending); an event when the line ends one.
    pub fn line(&mut self, line: &str) -> Option<Event> {
        if line.is_empty() {
            let data = self.data.take();
            let event = self.event.take();
            let id = self.id.take();
            return data.map(|data| Event {
                id,
                event: event.unwrap_or_else(|| "message".into()),
                data,
            });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            "event" => self.event = Some(value.to_string()),
            "id" => self.id = Some(value.to_string()),
            _ => {}
        }
        None
    }
}

/// The events of one response body, read line by line with a bound on each line.
pub struct Events<R> {
    reader: std::io::BufReader<R>,
    parser: Parser,
    buf: Vec<u8>,
}

impl<R: Read> Events<R> {
    pub fn new(body: R) -> Events<R> {
        Events {
            reader: std::io::BufReader::with_capacity(64 << 10, body),
            parser: Parser::default(),
            buf: Vec::new(),
        }
    }
}

impl<R: Read> Iterator for Events<R> {
    type Item = std::io::Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            let n = match (&mut self.reader)
                .take(MAX_LINE)
                .read_until(b'\n', &mut self.buf)
            {
                Ok(n) => n,
                Err(e) => return Some(Err(e)),
            };
            if n == 0 {
                return None;
            }
            if self.buf.last() != Some(&b'\n') {
                let e = if n as u64 >= MAX_LINE {
                    std::io::Error::other("a line of the stream is too long")
                } else {
                    std::io::Error::from(std::io::ErrorKind::UnexpectedEof)
                };
                return Some(Err(e));
            }
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            let line = String::from_utf8_lossy(&self.buf);
            if let Some(ev) = self.parser.line(&line) {
                return Some(Ok(ev));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horizons_framing() {
        let body = "retry: 1000\nevent: open\ndata: \"hello\"\n\n\
                    id: 42\ndata: {\"a\":1}\n\n\
                    : a comment\n\
                    retry: 10\nevent: close\ndata: \"byebye\"\n\n";
        let events: Vec<_> = Events::new(body.as_bytes()).map(Result::unwrap).collect();
        assert_eq!(events.len(), 3);
        assert_eq!(events[0].event, "open");
        assert_eq!(events[1].id.as_deref(), Some("42"));
        assert_eq!(events[1].event, "message");
        assert_eq!(events[1].data, "{\"a\":1}");
        assert_eq!(events[2].event, "close");
        assert_eq!(events[2].data, "\"byebye\"");
    }

    #[test]
    fn a_cut_stream_is_an_error() {
        let body = "id: 42\ndata: {\"a\":";
        let mut events = Events::new(body.as_bytes());
        assert!(events.next().unwrap().is_err());
    }
}
