//! How often does a set of frames fail to complete after a random quarter is dropped?
//! Usage: fountain_drop TRIALS — prints failures per message size, for the frames
//! `encode_frames` writes (pure fragments, then fountain frames).
use airgap::frames::{encode_frames, FrameAssembler};
use airgap::qr::encode::QrDensity;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

fn main() {
    let trials: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    for len in [300usize, 700, 1500, 4000, 10000] {
        let mut fails = 0;
        let mut n = 0;
        for _ in 0..trials {
            let msg: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            let mut frames = encode_frames(&msg, QrDensity::Low).unwrap();
            n = frames.len();
            frames.shuffle(&mut rng);
            frames.truncate(frames.len() - frames.len() / 4);
            let mut a = FrameAssembler::new();
            for f in &frames {
                let _ = a.feed(f);
            }
            if !a.progress().complete {
                fails += 1;
            }
        }
        println!(
            "len {len:>5}  frames {n:>3}  failures after dropping a quarter: {fails}/{trials}"
        );
    }
}
