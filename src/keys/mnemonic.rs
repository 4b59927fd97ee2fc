//! SEP-5 mnemonics (placeholder until the keys branch lands).
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MnemonicError {
    #[error("mnemonic keys are not available in this build")]
    Unavailable,
}

pub fn seed_from_mnemonic(
    _phrase: &str,
    _passphrase: &str,
    _account_index: u32,
) -> Result<Zeroizing<[u8; 32]>, MnemonicError> {
    Err(MnemonicError::Unavailable)
}
