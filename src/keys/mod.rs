//! Keys: secret seeds in zeroizing memory, SEP-5 mnemonics, the encrypted keystore.
//!
//! A [`SecretSeed`] has no `Debug`, `Clone` or `Serialize`: it cannot be printed, copied or written
//! by accident. Its bytes are wiped when it is dropped.
pub mod keystore;
pub mod mnemonic;
pub mod source;

use crate::account::AccountId;
use ed25519_dalek::{Signer as _, SigningKey};
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    #[error("this is not a valid secret key: it must be 56 characters starting with S, and its checksum must match")]
    InvalidSecret,
    #[error("this is an account ID (G…), a public key; a secret key (S…) is needed to sign")]
    PublicNotSecret,
    #[error(transparent)]
    Mnemonic(#[from] mnemonic::MnemonicError),
    #[error("this is neither a secret key (S…, 56 characters) nor a mnemonic of 12 to 24 words")]
    Unrecognized,
}

/// A secret typed or stored as text: an `S…` secret key, or a SEP-5 mnemonic (12–24 words), from
/// which the key at `account_index` is derived. The mnemonic has no passphrase here.
pub fn seed_from_text(text: &str, account_index: u32) -> Result<SecretSeed, KeyError> {
    let words = text.split_whitespace().count();
    match words {
        1 => SecretSeed::from_strkey(text),
        12..=24 => {
            let phrase = Zeroizing::new(text.split_whitespace().collect::<Vec<_>>().join(" "));
            Ok(SecretSeed::from_bytes(mnemonic::seed_from_mnemonic(
                &phrase,
                "",
                account_index,
            )?))
        }
        _ => Err(KeyError::Unrecognized),
    }
}

/// An ed25519 secret seed, the 32 bytes behind an `S…` secret key. It is kept expanded as
/// `ed25519-dalek`'s signing key (which wipes itself on drop), so the public key is derived once,
/// not on every signature: in `batch` that scalar multiplication was most of the cost.
pub struct SecretSeed(SigningKey);

impl SecretSeed {
    pub fn from_bytes(bytes: Zeroizing<[u8; 32]>) -> SecretSeed {
        SecretSeed(SigningKey::from_bytes(&bytes))
    }

    /// Parse an `S…` secret key. The text is not kept, and never appears in the error.
    pub fn from_strkey(text: &str) -> Result<SecretSeed, KeyError> {
        let text = text.trim();
        match stellar_strkey::ed25519::PrivateKey::from_string(text) {
            // `PrivateKey` wipes itself when dropped at the end of this arm.
            Ok(pk) => Ok(SecretSeed(SigningKey::from_bytes(&pk.0))),
            Err(_) if text.starts_with('G') => Err(KeyError::PublicNotSecret),
            Err(_) => Err(KeyError::InvalidSecret),
        }
    }

    /// The `S…` form, for `keys generate --show-secret` only.
    pub fn to_strkey(&self) -> Zeroizing<String> {
        use std::fmt::Write as _;
        let key = stellar_strkey::ed25519::PrivateKey(self.0.to_bytes()); // wipes itself on drop
        let mut out = Zeroizing::new(String::with_capacity(56));
        let _ = write!(out, "{}", key.as_unredacted());
        out
    }

    pub fn bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    pub fn public_key(&self) -> AccountId {
        AccountId(self.0.verifying_key().to_bytes())
    }

    /// The expanded public key, for batch verification.
    pub fn verifying_key(&self) -> ed25519_dalek::VerifyingKey {
        self.0.verifying_key()
    }

    /// An ed25519 signature of `message` (for Stellar, the 32-byte transaction hash).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }

    /// Does `signature` over `message` verify under this key? (Uses the already-expanded public
    /// key, saving the point decompression `verify` does.)
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let sig = ed25519_dalek::Signature::from_bytes(signature);
        self.0.verifying_key().verify_strict(message, &sig).is_ok()
    }

    /// A new seed from the operating system's random source.
    pub fn generate() -> Result<SecretSeed, getrandom::Error> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(bytes.as_mut())?;
        Ok(SecretSeed::from_bytes(bytes))
    }
}

/// Does `signature` over `message` verify under `key`?
pub fn verify(key: &AccountId, message: &[u8], signature: &[u8]) -> bool {
    let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(&key.0) else {
        return false;
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
        return false;
    };
    vk.verify_strict(message, &sig).is_ok()
}

/// Do all these signatures (`(message, signature)` pairs) verify under the one key `key`?
///
/// This is ed25519 batch verification, the same check as `ed25519_dalek::verify_batch` (every `s`
/// canonical, every `R` a valid point, then one random linear combination of the verification
/// equations `[s]B = R + [k]A` must vanish), with two differences that make it cheaper when one
/// key made every signature: the `n` terms `[z·k]A` collapse into one, `[Σ z·k]A`, so the
/// multiscalar multiplication has `n + 2` points instead of `2n + 1`; and the 128-bit random
/// coefficients `z` come from the operating system instead of a transcript hash. Small-order `A`
/// or `R` are refused, as `verify_strict` does. `false` means at least one signature is bad (or no
/// randomness was available): check them one by one with [`verify`] to find out which.
pub fn verify_many(key: &AccountId, signed: &[(&[u8], [u8; 64])]) -> bool {
    use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
    use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
    use curve25519_dalek::scalar::Scalar;
    use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
    use sha2::{Digest, Sha512};

    let Some(a) = CompressedEdwardsY(key.0).decompress() else {
        return false;
    };
    if a.is_small_order() {
        return false;
    }
    let mut zs = vec![0u8; 16 * signed.len()];
    if getrandom::getrandom(&mut zs).is_err() {
        return false;
    }
    let mut scalars = Vec::with_capacity(signed.len() + 2);
    let mut points = Vec::with_capacity(signed.len() + 2);
    let (mut b_coefficient, mut a_coefficient) = (Scalar::ZERO, Scalar::ZERO);
    for ((message, sig), z) in signed.iter().zip(zs.chunks_exact(16)) {
        let (r_bytes, s_bytes) = sig.split_at(32);
        let Ok(r_bytes) = <[u8; 32]>::try_from(r_bytes) else {
            return false;
        };
        let Ok(s_bytes) = <[u8; 32]>::try_from(s_bytes) else {
            return false;
        };
        let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)) else {
            return false;
        };
        let Some(r) = CompressedEdwardsY(r_bytes).decompress() else {
            return false;
        };
        if r.is_small_order() {
            return false;
        }
        let k = Scalar::from_bytes_mod_order_wide(
            &Sha512::new()
                .chain_update(r_bytes)
                .chain_update(key.0)
                .chain_update(message)
                .finalize()
                .into(),
        );
        let mut z_bytes = [0u8; 16];
        z_bytes.copy_from_slice(z);
        let z = Scalar::from(u128::from_le_bytes(z_bytes));
        b_coefficient += z * s;
        a_coefficient += z * k;
        scalars.push(z);
        points.push(r);
    }
    scalars.push(-b_coefficient);
    points.push(ED25519_BASEPOINT_POINT);
    scalars.push(a_coefficient);
    points.push(a);
    EdwardsPoint::vartime_multiscalar_mul(scalars, points).is_identity()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_many_accepts_good_and_refuses_any_bad_signature() {
        let seed = SecretSeed::from_bytes(Zeroizing::new([7u8; 32]));
        let other = SecretSeed::from_bytes(Zeroizing::new([8u8; 32]));
        let messages: Vec<[u8; 32]> = (0..40u8).map(|i| [i; 32]).collect();
        let good: Vec<(&[u8], [u8; 64])> = messages
            .iter()
            .map(|m| (m.as_slice(), seed.sign(m)))
            .collect();
        assert!(verify_many(&seed.public_key(), &good));
        assert!(verify_many(&seed.public_key(), &good[..1]));
        assert!(verify_many(&seed.public_key(), &[]));
        // The wrong key.
        assert!(!verify_many(&other.public_key(), &good));
        for i in [0, 17, 39] {
            // A signature by another key, a signature over another message, a flipped bit in R
            // and in s, a non-canonical s (s + l).
            let mut bad = good.clone();
            bad[i].1 = other.sign(&messages[i]);
            assert!(!verify_many(&seed.public_key(), &bad));
            let mut bad = good.clone();
            bad[i].0 = &messages[(i + 1) % 40];
            assert!(!verify_many(&seed.public_key(), &bad));
            for byte in [0, 31, 32, 40] {
                let mut bad = good.clone();
                bad[i].1[byte] ^= 1;
                assert!(!verify_many(&seed.public_key(), &bad), "{i} {byte}");
            }
            let mut bad = good.clone();
            let s = curve25519_dalek::scalar::Scalar::from_canonical_bytes(
                bad[i].1[32..].try_into().unwrap(),
            )
            .unwrap();
            // The group order l, little-endian.
            let l = hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
                .unwrap();
            let mut sum = [0u8; 32];
            let mut carry = 0u16;
            for (j, (x, y)) in s.as_bytes().iter().zip(&l).enumerate() {
                let t = u16::from(*x) + u16::from(*y) + carry;
                sum[j] = t as u8;
                carry = t >> 8;
            }
            if carry == 0 {
                bad[i].1[32..].copy_from_slice(&sum);
                assert!(!verify_many(&seed.public_key(), &bad));
            }
        }
        // A small-order R (the identity) with an s that would balance the equation is refused.
        let mut bad = good.clone();
        let mut identity = [0u8; 32];
        identity[0] = 1;
        bad[3].1[..32].copy_from_slice(&identity);
        assert!(!verify_many(&seed.public_key(), &bad));
    }

    #[test]
    fn secret_parse_and_sign() {
        let seed = SecretSeed::generate().unwrap();
        let s = seed.to_strkey();
        let again = SecretSeed::from_strkey(&s).unwrap();
        assert_eq!(again.public_key(), seed.public_key());
        let sig = seed.sign(b"hello");
        assert!(verify(&seed.public_key(), b"hello", &sig));
        assert!(!verify(&seed.public_key(), b"hellO", &sig));
        assert_eq!(
            SecretSeed::from_strkey(&seed.public_key().to_string()).err(),
            Some(KeyError::PublicNotSecret)
        );
    }
}
