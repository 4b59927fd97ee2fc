//! `chaos-proxy`: a loopback TCP proxy that spoils connections on purpose, to test that a client
//! (here `airgap-relay submit`) survives a bad network: each exchange may be dropped before it
//! reaches the upstream, delayed, cut short, or answered with silence after the upstream acted on
//! it. Seeded, so a failing run can be repeated. See `chaos/README.md`.
mod proxy;
mod rng;

use proxy::{Config, Faults};
use std::io::Write;
use std::process::ExitCode;

const HELP: &str = "\
chaos-proxy: loopback TCP proxy that drops, delays, truncates and loses answers

Usage: chaos-proxy --upstream HOST:PORT [options]

The first line on stdout is `listening on 127.0.0.1:PORT`. One line per spoiled exchange goes to
stderr. An exchange is a burst of client bytes followed by the upstream's answer (one HTTP
request on a keep-alive connection); the proxy never parses the bytes.

Options:
  --listen ADDR          loopback address to listen on [default: 127.0.0.1:0]
  --upstream HOST:PORT   where to forward (connected afresh for every client connection)
  --seed N               seed of the fault choices [default: from the clock; printed on stderr]
  --drop P               close both sides before forwarding the exchange (nothing reaches upstream)
  --truncate P           forward the request, then only a random prefix of the answer, then close
  --truncate-max BYTES   prefixes are 0 to BYTES-1 bytes long [default: 2048]
  --lose-response P      forward the request whole, discard the answer, close the client
  --delay P              pause before forwarding each chunk of the exchange, both directions
  --delay-ms MAX         longest pause [default: 250]
  --verbose              log every exchange, not only the spoiled ones
  -h, --help             this text

P is a probability per exchange. --drop, --truncate and --lose-response exclude each other (their
sum is at most 1); --delay is rolled on its own.

Exit codes: 0 never (it serves until killed), 1 bad arguments or the address cannot be bound.
";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chaos-proxy: {e}");
            eprintln!("Run `chaos-proxy --help` for the options.");
            ExitCode::from(1)
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut listen = "127.0.0.1:0".to_string();
    let mut upstream = None;
    let mut seed = None;
    let mut faults = Faults::none();
    let mut verbose = false;
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            print!("{HELP}");
            return Ok(());
        }
        if flag == "--verbose" {
            verbose = true;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let prob = || -> Result<f64, String> {
            value
                .parse::<f64>()
                .map_err(|_| format!("{flag} {value}: not a number"))
        };
        let int = || -> Result<u64, String> {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag} {value}: not a whole number"))
        };
        match flag.as_str() {
            "--listen" => listen = value.clone(),
            "--upstream" => upstream = Some(value.clone()),
            "--seed" => seed = Some(int()?),
            "--drop" => faults.drop = prob()?,
            "--truncate" => faults.truncate = prob()?,
            "--truncate-max" => faults.truncate_max = int()?.max(1),
            "--lose-response" => faults.lose_response = prob()?,
            "--delay" => faults.delay = prob()?,
            "--delay-ms" => faults.delay_ms = int()?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    let upstream = upstream.ok_or("--upstream HOST:PORT is required")?;
    faults.check()?;
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    });
    let listener = proxy::bind(&listen)?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {addr}")
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    drop(stdout);
    eprintln!("chaos-proxy: {addr} -> {upstream}, seed {seed}, {faults:?}");
    proxy::serve(
        listener,
        Config {
            upstream,
            seed,
            faults,
            verbose,
        },
    );
    Ok(())
}
