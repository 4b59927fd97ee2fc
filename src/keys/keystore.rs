//! The encrypted keystore (placeholder until the keys branch lands).
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeystoreError {
    #[error("keystores are not available in this build")]
    Unavailable,
}

pub struct KeystoreInfo;

#[derive(Clone, Copy, Debug, Default)]
pub struct KdfParams;

pub fn seal(
    _seed: &[u8; 32],
    _passphrase: &[u8],
    _params: KdfParams,
) -> Result<String, KeystoreError> {
    Err(KeystoreError::Unavailable)
}

pub fn open(
    _file_text: &[u8],
    _passphrase: &[u8],
) -> Result<(Zeroizing<[u8; 32]>, KeystoreInfo), KeystoreError> {
    Err(KeystoreError::Unavailable)
}
