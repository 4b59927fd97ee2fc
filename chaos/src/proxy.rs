//! The proxy: accept on loopback, connect to the upstream, pump bytes both ways, and spoil some
//! exchanges on purpose.
//!
//! It knows nothing of HTTP. An *exchange* is a burst of bytes from the client followed by the
//! upstream's answer: the first client bytes of a connection, or the first client bytes after the
//! upstream has sent something, start a new one. That is how a keep-alive HTTP/1.1 connection
//! carries one request after another, so each request gets its own roll of the dice without the
//! proxy parsing anything.
use crate::rng::Rng;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

/// What the proxy does to exchanges, each probability per exchange.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Close both connections before forwarding the client's bytes: nothing reaches upstream.
    pub drop: f64,
    /// Forward the request, then only a random prefix (0 to `truncate_max` − 1 bytes) of the
    /// answer, then close.
    pub truncate: f64,
    pub truncate_max: u64,
    /// Forward the request whole (the upstream acts on it), discard the answer, close the client
    /// without a byte: the client cannot know what happened.
    pub lose_response: f64,
    /// Pause up to `delay_ms` before forwarding each chunk of the exchange, in both directions.
    /// Rolled independently of the three above.
    pub delay: f64,
    pub delay_ms: u64,
}

impl Faults {
    pub fn none() -> Faults {
        Faults {
            drop: 0.0,
            truncate: 0.0,
            truncate_max: 2048,
            lose_response: 0.0,
            delay: 0.0,
            delay_ms: 250,
        }
    }

    /// Every rate in [0, 1], and drop + truncate + lose-response at most 1 (they exclude each
    /// other).
    pub fn check(&self) -> Result<(), String> {
        for (name, p) in [
            ("--drop", self.drop),
            ("--truncate", self.truncate),
            ("--lose-response", self.lose_response),
            ("--delay", self.delay),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{name} {p}: a probability is between 0 and 1"));
            }
        }
        if self.drop + self.truncate + self.lose_response > 1.0 + 1e-9 {
            return Err("--drop, --truncate and --lose-response add up to more than 1".into());
        }
        Ok(())
    }
}

/// The fate of one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Pass,
    Drop,
    /// Forward this many bytes of the answer, then close.
    Truncate(u64),
    LoseResponse,
}

impl Fate {
    fn name(self) -> &'static str {
        match self {
            Fate::Pass => "pass",
            Fate::Drop => "drop",
            Fate::Truncate(_) => "truncate",
            Fate::LoseResponse => "lose-response",
        }
    }
}

/// Roll one exchange's fate and, separately, whether it is delayed.
pub fn roll(rng: &mut Rng, f: &Faults) -> (Fate, bool) {
    let x = rng.unit();
    let fate = if x < f.drop {
        Fate::Drop
    } else if x < f.drop + f.truncate {
        Fate::Truncate(rng.below(f.truncate_max))
    } else if x < f.drop + f.truncate + f.lose_response {
        Fate::LoseResponse
    } else {
        Fate::Pass
    };
    let delayed = f.delay > 0.0 && rng.unit() < f.delay;
    (fate, delayed)
}

pub struct Config {
    pub upstream: String,
    pub seed: u64,
    pub faults: Faults,
    /// Log every exchange, not only the spoiled ones.
    pub verbose: bool,
}

/// Bind on a loopback address; other addresses are refused (this is a test tool).
pub fn bind(listen: &str) -> Result<TcpListener, String> {
    let addr: SocketAddr = listen
        .parse()
        .map_err(|_| format!("--listen {listen}: not an IP:PORT address"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "--listen {listen}: only loopback addresses (127.0.0.1, ::1) are allowed"
        ));
    }
    TcpListener::bind(addr).map_err(|e| format!("cannot listen on {listen}: {e}"))
}

/// Serve forever: one pair of threads per connection.
pub fn serve(listener: TcpListener, config: Config) {
    let config = Arc::new(config);
    let mut id = 0u64;
    for stream in listener.incoming() {
        let Ok(client) = stream else { continue };
        id += 1;
        let config = Arc::clone(&config);
        let spawned = thread::Builder::new()
            .name(format!("conn-{id}"))
            .spawn(move || connection(id, client, &config));
        if let Err(e) = spawned {
            eprintln!("chaos-proxy: conn {id}: cannot start a thread: {e}");
        }
    }
}

/// Where the current exchange of a connection stands; shared by its two pumps.
struct Exchange {
    rng: Rng,
    number: u64,
    fate: Fate,
    delayed: bool,
    /// The upstream has sent bytes in this exchange: the next client bytes start a new one.
    answered: bool,
    /// Bytes of this exchange's answer forwarded so far.
    forwarded: u64,
}

fn log(id: u64, number: u64, what: &str) {
    eprintln!("chaos-proxy: conn {id} exchange {number}: {what}");
}

fn close_all(a: &TcpStream, b: &TcpStream) {
    let _ = a.shutdown(Shutdown::Both);
    let _ = b.shutdown(Shutdown::Both);
}

fn connection(id: u64, client: TcpStream, config: &Config) {
    let upstream = match TcpStream::connect(&config.upstream) {
        Ok(u) => u,
        Err(e) => {
            // The client sees the connection close: like an upstream that is down.
            eprintln!("chaos-proxy: conn {id}: upstream {}: {e}", config.upstream);
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let exchange = Arc::new(Mutex::new(Exchange {
        rng: Rng::for_connection(config.seed, id),
        number: 0,
        fate: Fate::Pass,
        delayed: false,
        answered: true,
        forwarded: 0,
    }));
    let (Ok(client2), Ok(upstream2)) = (client.try_clone(), upstream.try_clone()) else {
        eprintln!("chaos-proxy: conn {id}: cannot clone the sockets");
        return;
    };
    let back = {
        let exchange = Arc::clone(&exchange);
        let delay_ms = config.faults.delay_ms;
        let verbose = config.verbose;
        thread::spawn(move || answers(id, upstream2, client2, &exchange, delay_ms, verbose))
    };
    requests(id, client, upstream, &exchange, config);
    let _ = back.join();
}

/// Client → upstream.
fn requests(
    id: u64,
    mut client: TcpStream,
    mut upstream: TcpStream,
    exchange: &Mutex<Exchange>,
    config: &Config,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) => {
                let _ = upstream.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
            Err(_) => return close_all(&client, &upstream),
        };
        let (fate, pause) = {
            let mut ex = exchange.lock().unwrap_or_else(PoisonError::into_inner);
            if ex.answered {
                ex.number += 1;
                let (fate, delayed) = roll(&mut ex.rng, &config.faults);
                ex.fate = fate;
                ex.delayed = delayed;
                ex.answered = false;
                ex.forwarded = 0;
                if fate != Fate::Pass || config.verbose {
                    let what = match fate {
                        Fate::Truncate(n) => format!("truncate at {n}"),
                        other => other.name().to_string(),
                    };
                    let what = if delayed {
                        format!("{what}, delayed")
                    } else {
                        what
                    };
                    log(id, ex.number, &what);
                } else if delayed {
                    log(id, ex.number, "delay");
                }
            }
            let pause = if ex.delayed {
                ex.rng.below(config.faults.delay_ms + 1)
            } else {
                0
            };
            (ex.fate, pause)
        };
        if fate == Fate::Drop {
            return close_all(&client, &upstream);
        }
        if pause > 0 {
            thread::sleep(Duration::from_millis(pause));
        }
        if upstream.write_all(&buf[..n]).is_err() {
            return close_all(&client, &upstream);
        }
    }
}

/// Upstream → client.
fn answers(
    id: u64,
    mut upstream: TcpStream,
    mut client: TcpStream,
    exchange: &Mutex<Exchange>,
    delay_ms: u64,
    verbose: bool,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match upstream.read(&mut buf) {
            Ok(0) => {
                let _ = client.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
            Err(_) => return close_all(&client, &upstream),
        };
        let (fate, pause, forwarded, number) = {
            let mut ex = exchange.lock().unwrap_or_else(PoisonError::into_inner);
            ex.answered = true;
            let pause = if ex.delayed {
                ex.rng.below(delay_ms + 1)
            } else {
                0
            };
            (ex.fate, pause, ex.forwarded, ex.number)
        };
        // The bytes of this chunk to forward, and whether to close afterwards.
        let (send, close) = match fate {
            // The upstream has acted on the request (it is answering); the client hears nothing.
            Fate::LoseResponse => (0, true),
            Fate::Truncate(limit) => {
                let room = limit.saturating_sub(forwarded);
                let send = usize::try_from(room).map_or(n, |r| r.min(n));
                (send, forwarded + send as u64 >= limit)
            }
            Fate::Pass | Fate::Drop => (n, false),
        };
        if pause > 0 {
            thread::sleep(Duration::from_millis(pause));
        }
        if send > 0 && client.write_all(&buf[..send]).is_err() {
            return close_all(&client, &upstream);
        }
        {
            let mut ex = exchange.lock().unwrap_or_else(PoisonError::into_inner);
            ex.forwarded += send as u64;
        }
        if close {
            if verbose {
                log(
                    id,
                    number,
                    &format!("closed after {} bytes", forwarded + send as u64),
                );
            }
            return close_all(&client, &upstream);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fates_follow_the_rates() {
        let f = Faults {
            drop: 0.1,
            truncate: 0.2,
            lose_response: 0.3,
            delay: 0.5,
            ..Faults::none()
        };
        let mut rng = Rng::new(1);
        let (mut d, mut t, mut l, mut p, mut delayed) = (0, 0, 0, 0, 0);
        for _ in 0..20_000 {
            let (fate, del) = roll(&mut rng, &f);
            match fate {
                Fate::Drop => d += 1,
                Fate::Truncate(n) => {
                    assert!(n < f.truncate_max);
                    t += 1
                }
                Fate::LoseResponse => l += 1,
                Fate::Pass => p += 1,
            }
            delayed += usize::from(del);
        }
        let near = |x: usize, p: f64| (x as f64 / 20_000.0 - p).abs() < 0.02;
        assert!(near(d, 0.1) && near(t, 0.2) && near(l, 0.3) && near(p, 0.4));
        assert!(near(delayed, 0.5));
        assert_eq!(roll(&mut rng, &Faults::none()), (Fate::Pass, false));
    }

    #[test]
    fn rates_are_checked() {
        assert!(Faults::none().check().is_ok());
        let too_much = Faults {
            drop: 0.5,
            lose_response: 0.6,
            ..Faults::none()
        };
        assert!(too_much.check().is_err());
        let negative = Faults {
            delay: -0.1,
            ..Faults::none()
        };
        assert!(negative.check().is_err());
        assert!(bind("0.0.0.0:0").is_err());
        assert!(bind("example.com:80").is_err());
        assert!(bind("127.0.0.1:0").is_ok());
    }
}
