//! The real `chaos-proxy` binary in front of a toy upstream that answers every line with 1,000
//! bytes: each fault, at rate 1, does exactly what it says.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const ANSWER: usize = 1000;

/// A toy upstream: for every line received, 1,000 bytes back. Reports each line it got.
fn upstream() -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let tx = tx.clone();
            thread::spawn(move || {
                let mut w = conn.try_clone().unwrap();
                for line in BufReader::new(conn).lines() {
                    let Ok(line) = line else { return };
                    let _ = tx.send(line);
                    if w.write_all(&[b'x'; ANSWER]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, rx)
}

struct Proxy {
    child: Child,
    addr: String,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn proxy(upstream: &str, args: &[&str]) -> Proxy {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chaos-proxy"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            upstream,
            "--seed",
            "1",
        ])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{line:?}");
    Proxy { child, addr }
}

/// Send a line, read what comes back until EOF or 1,000 bytes.
fn exchange(conn: &mut TcpStream) -> usize {
    if conn.write_all(b"hello\n").is_err() {
        return 0;
    }
    let mut got = 0;
    let mut buf = [0u8; 4096];
    while got < ANSWER {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    got
}

fn connect(p: &Proxy) -> TcpStream {
    let c = TcpStream::connect(&p.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c
}

fn received(rx: &mpsc::Receiver<String>) -> usize {
    let mut n = 0;
    while rx.recv_timeout(Duration::from_millis(300)).is_ok() {
        n += 1;
    }
    n
}

#[test]
fn passes_exchanges_through_on_one_connection() {
    let (up, rx) = upstream();
    let p = proxy(&up, &[]);
    let mut c = connect(&p);
    for _ in 0..3 {
        assert_eq!(exchange(&mut c), ANSWER);
    }
    assert_eq!(received(&rx), 3);
}

#[test]
fn lose_response_forwards_the_request_and_answers_nothing() {
    let (up, rx) = upstream();
    let p = proxy(&up, &["--lose-response", "1"]);
    for _ in 0..3 {
        let mut c = connect(&p);
        assert_eq!(exchange(&mut c), 0, "no byte of the answer");
    }
    assert_eq!(received(&rx), 3, "every request reached the upstream");
}

#[test]
fn drop_forwards_nothing() {
    let (up, rx) = upstream();
    let p = proxy(&up, &["--drop", "1"]);
    for _ in 0..3 {
        let mut c = connect(&p);
        assert_eq!(exchange(&mut c), 0);
    }
    assert_eq!(received(&rx), 0, "nothing reached the upstream");
}

#[test]
fn truncate_cuts_the_answer_short() {
    let (up, rx) = upstream();
    let p = proxy(&up, &["--truncate", "1", "--truncate-max", "600"]);
    for _ in 0..5 {
        let mut c = connect(&p);
        assert!(exchange(&mut c) < 600);
    }
    assert_eq!(received(&rx), 5);
}

#[test]
fn delay_pauses_but_delivers() {
    let (up, rx) = upstream();
    let p = proxy(&up, &["--delay", "1", "--delay-ms", "200"]);
    let mut c = connect(&p);
    let start = Instant::now();
    for _ in 0..5 {
        assert_eq!(exchange(&mut c), ANSWER);
    }
    // Ten pauses of 0–200 ms each (one per direction per exchange): rarely under 100 ms in all.
    assert!(
        start.elapsed() >= Duration::from_millis(100),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(received(&rx), 5);
}

#[test]
fn refuses_bad_arguments_and_a_dead_upstream_closes_the_client() {
    let bin = env!("CARGO_BIN_EXE_chaos-proxy");
    for args in [
        vec!["--listen", "127.0.0.1:0"],
        vec!["--upstream", "127.0.0.1:1", "--drop", "2"],
        vec![
            "--upstream",
            "127.0.0.1:1",
            "--drop",
            "0.6",
            "--lose-response",
            "0.6",
        ],
        vec!["--upstream", "127.0.0.1:1", "--listen", "0.0.0.0:0"],
        vec!["--upstream", "127.0.0.1:1", "--bogus", "1"],
    ] {
        let o = Command::new(bin).args(&args).output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{args:?}");
    }
    // Nobody listens upstream: the client's connection is closed, no bytes.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let p = proxy(&format!("127.0.0.1:{port}"), &[]);
    let mut c = connect(&p);
    assert_eq!(exchange(&mut c), 0);
}
