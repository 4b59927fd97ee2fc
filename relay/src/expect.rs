//! `--expect-hash HEX`: what the operator approved offline, tied to what the relay reads. The
//! signer prints the transaction hash last; the operator reads it across (all of it, or a prefix
//! of at least 8 hex digits) and `decode`, `inspect` and `submit` refuse any blob whose hash does
//! not start with it.
use std::fmt;
use std::str::FromStr;

/// The fewest hex digits accepted (32 bits): short enough to read aloud, and enough to tell apart
/// the envelopes that were signed (a photo of another one, an older copy); a transaction ground to
/// match the prefix would carry no valid signature. All 64 digits are accepted too.
pub const MIN_DIGITS: usize = 8;

/// An expected transaction hash, or a prefix of one: lowercase hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedHash(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpectHashError {
    #[error("--expect-hash takes the transaction hash in hex (at least {MIN_DIGITS} digits, at most 64), not {0:?}")]
    NotHex(String),
}

impl FromStr for ExpectedHash {
    type Err = ExpectHashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let ok = (MIN_DIGITS..=64).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_hexdigit());
        if !ok {
            // The value is a hash, never a secret; still, keep what is echoed short.
            return Err(ExpectHashError::NotHex(t.chars().take(70).collect()));
        }
        Ok(ExpectedHash(t.to_ascii_lowercase()))
    }
}

impl fmt::Display for ExpectedHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.len() < 64 {
            write!(f, "{}…", self.0)
        } else {
            f.write_str(&self.0)
        }
    }
}

impl ExpectedHash {
    pub fn matches(&self, hash_hex: &str) -> bool {
        hash_hex.to_ascii_lowercase().starts_with(&self.0)
    }
}

/// `None` when `hash_hex` starts with one of `expected` (or none is expected); otherwise why the
/// blob is refused, naming the hash found.
pub fn refusal(expected: &[ExpectedHash], hash_hex: &str) -> Option<String> {
    if expected.is_empty() || expected.iter().any(|e| e.matches(hash_hex)) {
        return None;
    }
    let names: Vec<String> = expected.iter().map(ToString::to_string).collect();
    Some(format!(
        "its transaction hash is {hash_hex}, not the expected {} (--expect-hash): this is not the envelope that was approved",
        names.join(" or ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_of_eight_or_more_hex_digits_any_case() {
        let hash = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
        let e: ExpectedHash = "A1B2C3D4".parse().unwrap();
        assert!(refusal(&[e], hash).is_none());
        let full: ExpectedHash = hash.to_uppercase().parse().unwrap();
        assert!(refusal(&[full], hash).is_none());
        assert!("a1b2c3d".parse::<ExpectedHash>().is_err());
        assert!("a1b2c3dz".parse::<ExpectedHash>().is_err());
        assert!(format!("{hash}0").parse::<ExpectedHash>().is_err());
        let other: ExpectedHash = "a1b2c3d5".parse().unwrap();
        let why = refusal(&[other], hash).unwrap();
        assert!(why.contains(hash) && why.contains("a1b2c3d5…"), "{why}");
    }
}
