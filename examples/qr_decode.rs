//! Read the QR codes in a photo and print each payload on its own line (the first line is the first code found).
//!
//! usage: qr_decode [--animation] [--time] [--step N | --steps] IMAGE
//!
//! `--animation` reads every frame of a GIF; `--time` writes the decode time in milliseconds
//! (file read excluded) to stderr; `--step N` runs only attempt N of the pipeline (to measure
//! each step's gain); `--steps` lists the attempts.
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut animation = false;
    let mut time = false;
    let mut step: Option<usize> = None;
    let mut path: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--animation" => animation = true,
            "--time" => time = true,
            "--steps" => {
                for (i, name) in airgap::qr::decode::step_names().iter().enumerate() {
                    println!("{i}: {name}");
                }
                return ExitCode::SUCCESS;
            }
            "--step" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => step = Some(n),
                None => {
                    eprintln!("--step needs a number; see --steps.");
                    return ExitCode::from(2);
                }
            },
            _ => path = Some(arg),
        }
    }
    let Some(path) = path else {
        eprintln!("usage: qr_decode [--animation] [--time] [--step N | --steps] IMAGE");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    let result = match (step, animation) {
        (Some(n), _) => airgap::qr::decode::decode_step(&bytes, n),
        (None, true) => airgap::qr::decode::decode_animation(&bytes),
        (None, false) => airgap::qr::decode::decode_image(&bytes),
    };
    if time {
        eprintln!("time_ms {:.3}", start.elapsed().as_secs_f64() * 1000.0);
    }
    match result {
        Ok(payloads) => {
            for p in payloads {
                println!("{}", String::from_utf8_lossy(&p));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{path}: {e}");
            ExitCode::FAILURE
        }
    }
}
