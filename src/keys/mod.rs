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

#[cfg(test)]
mod tests {
    use super::*;

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
