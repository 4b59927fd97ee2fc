//! The encrypted key file: one ed25519 seed sealed under a passphrase with scrypt and
//! XChaCha20-Poly1305, in a small versioned JSON document. docs/keystore.md is the format's
//! specification; this module follows it field by field.
//!
//! Reading is defensive: the file is size-capped, every field is checked for presence, type and
//! length, unknown fields are refused, and the scrypt parameters are bounded before any key
//! derivation runs, so a hostile file can neither crash the reader nor make it allocate gigabytes
//! or compute for minutes.
//!
//! Here: the KDF parameters, sealing and opening, the cryptography. `file`: the JSON document,
//! written and read. `tests`: the format's properties, tampering and hostile files.

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use file::{parse, AeadV1, FileV1, KdfV1};
use zeroize::Zeroizing;

mod file;

/// Value of the `format` field.
pub const FORMAT: &str = "stellar-airgap-keystore";
/// The newest format version: 2, which binds a signing policy ([`seal_bound`]). Version 1
/// ([`seal`]) binds none; both are read.
pub const VERSION: u32 = 2;
/// The version without a bound policy.
pub const VERSION_UNBOUND: u32 = 1;
/// Files longer than this are refused before parsing.
pub const MAX_FILE_LEN: usize = 64 * 1024;

/// Smallest accepted scrypt `log_n` (N = 2^10): below it the passphrase is too cheap to guess.
pub const MIN_LOG_N: u8 = 10;
/// Largest accepted scrypt `log_n` (N = 2^20).
pub const MAX_LOG_N: u8 = 20;
/// Largest accepted `r * p`.
pub const MAX_R_TIMES_P: u64 = 64;
/// Largest accepted `2^log_n * r * p`, the scrypt work factor: 8 times that of the default
/// parameters. It also bounds scrypt's memory, `128 * r * 2^log_n` bytes, to 1 GiB.
pub const MAX_WORK: u64 = 1 << 23;

const KDF_NAME: &str = "scrypt";
const AEAD_NAME: &str = "xchacha20-poly1305";
/// Salt length written by [`seal`]; [`open`] accepts `MIN_SALT_LEN..=MAX_SALT_LEN`.
const SALT_LEN: usize = 32;
const MIN_SALT_LEN: usize = 16;
const MAX_SALT_LEN: usize = 64;
const NONCE_LEN: usize = 24;
const SEED_LEN: usize = 32;
const TAG_LEN: usize = 16;
const CIPHERTEXT_LEN: usize = SEED_LEN + TAG_LEN;

/// What can go wrong sealing, opening or inspecting a keystore file.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum KeystoreError {
    #[error(
        "the keystore file is {len} bytes long, more than the 65536 bytes a keystore file can be"
    )]
    TooLarge { len: usize },
    #[error("the keystore file is not valid JSON (line {line}, column {column})")]
    NotJson { line: usize, column: usize },
    #[error("the file is not a stellar-airgap keystore: its \"format\" field is missing or not \"stellar-airgap-keystore\"")]
    NotAKeystore,
    #[error("keystore version {version} is not supported; this program reads versions 1 and 2")]
    UnsupportedVersion { version: u64 },
    #[error("the keystore field `{field}` is missing")]
    MissingField { field: &'static str },
    #[error("the keystore field `{field}` is invalid: it must be {expected}")]
    BadField {
        field: &'static str,
        expected: &'static str,
    },
    #[error(
        "the keystore object `{object}` has a field that its keystore version does not define"
    )]
    UnknownField { object: &'static str },
    #[error("the scrypt parameters log_n={log_n}, r={r}, p={p} are invalid: r and p must be at least 1 and log_n below 16*r")]
    KdfInvalid { log_n: u64, r: u64, p: u64 },
    #[error(
        "the scrypt parameters log_n={log_n}, r={r}, p={p} are too weak: log_n must be at least 10"
    )]
    KdfTooWeak { log_n: u64, r: u64, p: u64 },
    #[error("the scrypt parameters log_n={log_n}, r={r}, p={p} cost too much: log_n must be at most 20, r*p at most 64 and 2^log_n*r*p at most 2^23")]
    KdfTooCostly { log_n: u64, r: u64, p: u64 },
    #[error("the passphrase of a new keystore must not be empty")]
    EmptyPassphrase,
    #[error("the passphrase is wrong, or the keystore file has been altered")]
    WrongPassphrase,
    #[error(
        "the keystore decrypted, but its seed does not belong to the public key the file names"
    )]
    PublicKeyMismatch,
    #[error("the operating system's random number generator failed")]
    Randomness,
    #[error("the XChaCha20-Poly1305 cipher failed")]
    Cipher,
}

/// scrypt cost parameters: N = 2^`log_n`, block size `r`, parallelism `p`. Always within the
/// accepted bounds (see [`KdfParams::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    log_n: u8,
    r: u32,
    p: u32,
}

impl Default for KdfParams {
    /// log_n 17, r 8, p 1: 128 MiB of memory and about a second of one core (measured 1.1 s on
    /// the 2-core development machine, release build).
    fn default() -> Self {
        KdfParams {
            log_n: 17,
            r: 8,
            p: 1,
        }
    }
}

impl KdfParams {
    /// Checked parameters: `log_n` from 10 to 20, `r` and `p` at least 1, `r * p` at most 64,
    /// `2^log_n * r * p` at most 2^23, and scrypt's own rule `log_n < 16 * r`.
    pub fn new(log_n: u8, r: u32, p: u32) -> Result<Self, KeystoreError> {
        Self::checked(u64::from(log_n), u64::from(r), u64::from(p))
    }

    fn checked(log_n: u64, r: u64, p: u64) -> Result<Self, KeystoreError> {
        if r == 0 || p == 0 {
            return Err(KeystoreError::KdfInvalid { log_n, r, p });
        }
        if log_n < u64::from(MIN_LOG_N) {
            return Err(KeystoreError::KdfTooWeak { log_n, r, p });
        }
        let too_costly = KeystoreError::KdfTooCostly { log_n, r, p };
        if log_n > u64::from(MAX_LOG_N) {
            return Err(too_costly);
        }
        let Some(r_times_p) = r.checked_mul(p) else {
            return Err(too_costly);
        };
        if r_times_p > MAX_R_TIMES_P || (r_times_p << log_n) > MAX_WORK {
            return Err(too_costly);
        }
        // In range now: log_n <= 20, r <= 64, p <= 64.
        let invalid = KeystoreError::KdfInvalid { log_n, r, p };
        let params = KdfParams {
            log_n: u8::try_from(log_n).map_err(|_| invalid.clone())?,
            r: u32::try_from(r).map_err(|_| invalid.clone())?,
            p: u32::try_from(p).map_err(|_| invalid.clone())?,
        };
        params.scrypt_params().map_err(|_| invalid)?;
        Ok(params)
    }

    /// N = 2^log_n.
    pub fn log_n(&self) -> u8 {
        self.log_n
    }

    pub fn r(&self) -> u32 {
        self.r
    }

    pub fn p(&self) -> u32 {
        self.p
    }

    /// Memory scrypt uses with these parameters: `128 * r * 2^log_n` bytes.
    pub fn memory_bytes(&self) -> u64 {
        (128 * u64::from(self.r)) << self.log_n
    }

    /// scrypt's work: `2^log_n * r * p`.
    pub fn work(&self) -> u64 {
        (u64::from(self.r) * u64::from(self.p)) << self.log_n
    }

    /// Whether these parameters cost a guesser less memory or less work than today's defaults.
    pub fn below_default(&self) -> bool {
        let d = KdfParams::default();
        self.memory_bytes() < d.memory_bytes() || self.work() < d.work()
    }

    fn scrypt_params(&self) -> Result<scrypt::Params, scrypt::errors::InvalidParams> {
        scrypt::Params::new(self.log_n, self.r, self.p, SEED_LEN)
    }
}

/// What a keystore file says in the clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeystoreInfo {
    /// Format version (1).
    pub version: u32,
    /// The sealed key's Stellar public key, `G…`.
    pub public_key: String,
    /// The scrypt parameters that protect it.
    pub kdf: KdfParams,
    /// Version 2: the SHA-256 of the signing policy bound to the key (docs/keystore.md). Read in
    /// the clear it is only a claim; [`open`] authenticates it.
    pub policy_sha256: Option<[u8; 32]>,
}

/// Seals `seed` under `passphrase` (raw bytes, used exactly as given) and returns the keystore
/// file's text (version 1, no policy bound): pretty-printed JSON with a final newline. Fresh random
/// salt and nonce each call.
pub fn seal(
    seed: &[u8; 32],
    passphrase: &[u8],
    params: KdfParams,
) -> Result<String, KeystoreError> {
    seal_version(seed, passphrase, params, None)
}

/// [`seal`], binding the signing policy whose SHA-256 is `policy_sha256`: a version 2 file, whose
/// associated data holds the digest, so the file opens only as bound to that policy.
pub fn seal_bound(
    seed: &[u8; 32],
    passphrase: &[u8],
    params: KdfParams,
    policy_sha256: [u8; 32],
) -> Result<String, KeystoreError> {
    seal_version(seed, passphrase, params, Some(policy_sha256))
}

fn seal_version(
    seed: &[u8; 32],
    passphrase: &[u8],
    params: KdfParams,
    policy: Option<[u8; 32]>,
) -> Result<String, KeystoreError> {
    if passphrase.is_empty() {
        return Err(KeystoreError::EmptyPassphrase);
    }
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::getrandom(&mut salt).map_err(|_| KeystoreError::Randomness)?;
    getrandom::getrandom(&mut nonce).map_err(|_| KeystoreError::Randomness)?;

    let version = if policy.is_some() {
        VERSION
    } else {
        VERSION_UNBOUND
    };
    let public_key = public_key_of(seed);
    let ad = associated_data(version, &public_key, &params, &salt, policy.as_ref());
    let key = derive_key(passphrase, &salt, &params)?;
    let cipher = XChaCha20Poly1305::new_from_slice(&key[..]).map_err(|_| KeystoreError::Cipher)?;
    let mut buffer = Zeroizing::new(*seed);
    let tag = cipher
        .encrypt_in_place_detached(&XNonce::from(nonce), &ad, &mut buffer[..])
        .map_err(|_| KeystoreError::Cipher)?;
    // `buffer` now holds ciphertext, which is not secret.
    let mut ciphertext = [0u8; CIPHERTEXT_LEN];
    ciphertext[..SEED_LEN].copy_from_slice(&buffer[..]);
    ciphertext[SEED_LEN..].copy_from_slice(&tag);

    let file = FileV1 {
        format: FORMAT,
        version,
        public_key: strkey_public(&public_key),
        policy_sha256: policy.map(hex::encode),
        kdf: KdfV1 {
            name: KDF_NAME,
            log_n: params.log_n,
            r: params.r,
            p: params.p,
            salt: hex::encode(salt),
        },
        aead: AeadV1 {
            name: AEAD_NAME,
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ciphertext),
        },
    };
    let mut text = serde_json::to_string_pretty(&file).map_err(|_| KeystoreError::Cipher)?;
    text.push('\n');
    Ok(text)
}

/// Decrypts a keystore file with `passphrase` and checks that the seed derives the public key
/// the file names. A wrong passphrase and an altered file both give
/// [`KeystoreError::WrongPassphrase`]: the AEAD cannot tell them apart.
pub fn open(
    file_text: &[u8],
    passphrase: &[u8],
) -> Result<(Zeroizing<[u8; 32]>, KeystoreInfo), KeystoreError> {
    let parsed = parse(file_text)?;
    let ad = associated_data(
        parsed.info.version,
        &parsed.public_key,
        &parsed.info.kdf,
        &parsed.salt,
        parsed.info.policy_sha256.as_ref(),
    );
    let key = derive_key(passphrase, &parsed.salt, &parsed.info.kdf)?;
    let cipher = XChaCha20Poly1305::new_from_slice(&key[..]).map_err(|_| KeystoreError::Cipher)?;
    let mut seed = Zeroizing::new([0u8; SEED_LEN]);
    seed.copy_from_slice(&parsed.ciphertext[..SEED_LEN]);
    let mut tag = [0u8; TAG_LEN];
    tag.copy_from_slice(&parsed.ciphertext[SEED_LEN..]);
    cipher
        .decrypt_in_place_detached(
            &XNonce::from(parsed.nonce),
            &ad,
            &mut seed[..],
            &Tag::from(tag),
        )
        .map_err(|_| KeystoreError::WrongPassphrase)?;
    if public_key_of(&seed) != parsed.public_key {
        return Err(KeystoreError::PublicKeyMismatch);
    }
    Ok((seed, parsed.info))
}

/// What a keystore file says in the clear, without the passphrase. The file is checked as
/// strictly as by [`open`], except for what only decryption can check.
pub fn inspect(file_text: &[u8]) -> Result<KeystoreInfo, KeystoreError> {
    parse(file_text).map(|parsed| parsed.info)
}

/// The associated data: every header field in a fixed binary layout (docs/keystore.md); version 2
/// appends the bound policy's SHA-256.
fn associated_data(
    version: u32,
    public_key: &[u8; 32],
    params: &KdfParams,
    salt: &[u8],
    policy: Option<&[u8; 32]>,
) -> Vec<u8> {
    let mut ad = Vec::with_capacity(FORMAT.len() + 1 + 4 + 32 + 1 + 4 + 4 + 1 + salt.len() + 32);
    ad.extend_from_slice(FORMAT.as_bytes());
    ad.push(0);
    ad.extend_from_slice(&version.to_be_bytes());
    ad.extend_from_slice(public_key);
    ad.push(params.log_n);
    ad.extend_from_slice(&params.r.to_be_bytes());
    ad.extend_from_slice(&params.p.to_be_bytes());
    // Salt lengths are 16..=64, so they fit one byte.
    ad.push(salt.len() as u8);
    ad.extend_from_slice(salt);
    if let Some(p) = policy {
        ad.extend_from_slice(p);
    }
    ad
}

fn derive_key(
    passphrase: &[u8],
    salt: &[u8],
    params: &KdfParams,
) -> Result<Zeroizing<[u8; 32]>, KeystoreError> {
    let invalid = || KeystoreError::KdfInvalid {
        log_n: u64::from(params.log_n),
        r: u64::from(params.r),
        p: u64::from(params.p),
    };
    let scrypt_params = params.scrypt_params().map_err(|_| invalid())?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(passphrase, salt, &scrypt_params, &mut key[..]).map_err(|_| invalid())?;
    Ok(key)
}

fn public_key_of(seed: &[u8; 32]) -> [u8; 32] {
    // `SigningKey` zeroizes itself on drop (ed25519-dalek's `zeroize` feature).
    ed25519_dalek::SigningKey::from_bytes(seed)
        .verifying_key()
        .to_bytes()
}

fn strkey_public(public_key: &[u8; 32]) -> String {
    stellar_strkey::ed25519::PublicKey(*public_key)
        .to_string()
        .as_str()
        .to_owned()
}

#[cfg(test)]
mod tests;
