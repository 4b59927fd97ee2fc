//! The floor for `batch`: SHA-256 of a payment transaction's signature payload plus one ed25519
//! signature, nothing else, single-threaded. Prints signatures per second.
//! Usage: bare_sign [COUNT]
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let key = SigningKey::from_bytes(&[7u8; 32]);
    // A payment transaction's signature payload is about 200 bytes (network ID, tag, transaction).
    let mut payload = vec![0u8; 200];
    let start = std::time::Instant::now();
    let mut sink = 0u8;
    for i in 0..count {
        payload[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let hash: [u8; 32] = Sha256::digest(&payload).into();
        sink ^= key.sign(&hash).to_bytes()[0];
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{:.0}", count as f64 / secs);
    eprintln!("({count} signatures in {secs:.3}s; sink {sink})");
}
