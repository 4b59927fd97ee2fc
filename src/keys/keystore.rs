//! The encrypted key file: one ed25519 seed sealed under a passphrase with scrypt and
//! XChaCha20-Poly1305, in a small versioned JSON document. docs/keystore.md is the format's
//! specification; this module follows it field by field.
//!
//! Reading is defensive: the file is size-capped, every field is checked for presence, type and
//! length, unknown fields are refused, and the scrypt parameters are bounded before any key
//! derivation runs, so a hostile file can neither crash the reader nor make it allocate gigabytes
//! or compute for minutes.

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use serde::Serialize;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

/// Value of the `format` field.
pub const FORMAT: &str = "stellar-airgap-keystore";
/// The format version this module writes and reads.
pub const VERSION: u32 = 1;
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
    #[error("keystore version {version} is not supported; this program reads version 1")]
    UnsupportedVersion { version: u64 },
    #[error("the keystore field `{field}` is missing")]
    MissingField { field: &'static str },
    #[error("the keystore field `{field}` is invalid: it must be {expected}")]
    BadField {
        field: &'static str,
        expected: &'static str,
    },
    #[error("the keystore object `{object}` has a field that keystore version 1 does not define")]
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
}

/// Seals `seed` under `passphrase` (raw bytes, used exactly as given) and returns the keystore
/// file's text: pretty-printed JSON with a final newline. Fresh random salt and nonce each call.
pub fn seal(
    seed: &[u8; 32],
    passphrase: &[u8],
    params: KdfParams,
) -> Result<String, KeystoreError> {
    if passphrase.is_empty() {
        return Err(KeystoreError::EmptyPassphrase);
    }
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::getrandom(&mut salt).map_err(|_| KeystoreError::Randomness)?;
    getrandom::getrandom(&mut nonce).map_err(|_| KeystoreError::Randomness)?;

    let public_key = public_key_of(seed);
    let ad = associated_data(&public_key, &params, &salt);
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
        version: VERSION,
        public_key: strkey_public(&public_key),
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
    let ad = associated_data(&parsed.public_key, &parsed.info.kdf, &parsed.salt);
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

// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct FileV1 {
    format: &'static str,
    version: u32,
    public_key: String,
    kdf: KdfV1,
    aead: AeadV1,
}

#[derive(Serialize)]
struct KdfV1 {
    name: &'static str,
    log_n: u8,
    r: u32,
    p: u32,
    salt: String,
}

#[derive(Serialize)]
struct AeadV1 {
    name: &'static str,
    nonce: String,
    ciphertext: String,
}

struct Parsed {
    info: KeystoreInfo,
    public_key: [u8; 32],
    salt: Vec<u8>,
    nonce: [u8; NONCE_LEN],
    ciphertext: [u8; CIPHERTEXT_LEN],
}

fn parse(file_text: &[u8]) -> Result<Parsed, KeystoreError> {
    if file_text.len() > MAX_FILE_LEN {
        return Err(KeystoreError::TooLarge {
            len: file_text.len(),
        });
    }
    let value: Value = serde_json::from_slice(file_text).map_err(|e| KeystoreError::NotJson {
        line: e.line(),
        column: e.column(),
    })?;
    let top = value.as_object().ok_or(KeystoreError::NotAKeystore)?;
    if top.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(KeystoreError::NotAKeystore);
    }
    let version = top
        .get("version")
        .ok_or(KeystoreError::MissingField { field: "version" })?
        .as_u64()
        .ok_or(KeystoreError::BadField {
            field: "version",
            expected: "a whole number",
        })?;
    if version != u64::from(VERSION) {
        return Err(KeystoreError::UnsupportedVersion { version });
    }
    only_fields(
        top,
        &["format", "version", "public_key", "kdf", "aead"],
        "top level",
    )?;

    let public_key_text = str_field(top, "public_key", "public_key")?;
    let public_key = stellar_strkey::ed25519::PublicKey::from_string(public_key_text)
        .map_err(|_| KeystoreError::BadField {
            field: "public_key",
            expected: "a Stellar public key (G…)",
        })?
        .0;

    let kdf = object_field(top, "kdf", "kdf")?;
    only_fields(kdf, &["name", "log_n", "r", "p", "salt"], "kdf")?;
    if str_field(kdf, "name", "kdf.name")? != KDF_NAME {
        return Err(KeystoreError::BadField {
            field: "kdf.name",
            expected: "\"scrypt\"",
        });
    }
    let log_n = u64_field(kdf, "log_n", "kdf.log_n")?;
    let r = u64_field(kdf, "r", "kdf.r")?;
    let p = u64_field(kdf, "p", "kdf.p")?;
    let params = KdfParams::checked(log_n, r, p)?;
    let salt = hex_field(
        kdf,
        "salt",
        "kdf.salt",
        MIN_SALT_LEN..=MAX_SALT_LEN,
        "16 to 64 bytes in hexadecimal",
    )?;

    let aead = object_field(top, "aead", "aead")?;
    only_fields(aead, &["name", "nonce", "ciphertext"], "aead")?;
    if str_field(aead, "name", "aead.name")? != AEAD_NAME {
        return Err(KeystoreError::BadField {
            field: "aead.name",
            expected: "\"xchacha20-poly1305\"",
        });
    }
    let nonce = hex_array::<NONCE_LEN>(aead, "nonce", "aead.nonce", "24 bytes in hexadecimal")?;
    let ciphertext = hex_array::<CIPHERTEXT_LEN>(
        aead,
        "ciphertext",
        "aead.ciphertext",
        "48 bytes in hexadecimal",
    )?;

    Ok(Parsed {
        info: KeystoreInfo {
            version: VERSION,
            public_key: strkey_public(&public_key),
            kdf: params,
        },
        public_key,
        salt,
        nonce,
        ciphertext,
    })
}

fn only_fields(
    object: &Map<String, Value>,
    allowed: &[&str],
    name: &'static str,
) -> Result<(), KeystoreError> {
    if object.keys().all(|key| allowed.contains(&key.as_str())) {
        Ok(())
    } else {
        Err(KeystoreError::UnknownField { object: name })
    }
}

fn field<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    field: &'static str,
) -> Result<&'a Value, KeystoreError> {
    object.get(key).ok_or(KeystoreError::MissingField { field })
}

fn object_field<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    name: &'static str,
) -> Result<&'a Map<String, Value>, KeystoreError> {
    field(object, key, name)?
        .as_object()
        .ok_or(KeystoreError::BadField {
            field: name,
            expected: "a JSON object",
        })
}

fn str_field<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    name: &'static str,
) -> Result<&'a str, KeystoreError> {
    field(object, key, name)?
        .as_str()
        .ok_or(KeystoreError::BadField {
            field: name,
            expected: "a string",
        })
}

fn u64_field(
    object: &Map<String, Value>,
    key: &str,
    name: &'static str,
) -> Result<u64, KeystoreError> {
    field(object, key, name)?
        .as_u64()
        .ok_or(KeystoreError::BadField {
            field: name,
            expected: "a whole number",
        })
}

fn hex_field(
    object: &Map<String, Value>,
    key: &str,
    name: &'static str,
    lengths: std::ops::RangeInclusive<usize>,
    expected: &'static str,
) -> Result<Vec<u8>, KeystoreError> {
    let bad = KeystoreError::BadField {
        field: name,
        expected,
    };
    let text = str_field(object, key, name)?;
    if text.len() % 2 != 0 || !lengths.contains(&(text.len() / 2)) {
        return Err(bad);
    }
    hex::decode(text).map_err(|_| bad)
}

fn hex_array<const N: usize>(
    object: &Map<String, Value>,
    key: &str,
    name: &'static str,
    expected: &'static str,
) -> Result<[u8; N], KeystoreError> {
    let text = str_field(object, key, name)?;
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|_| KeystoreError::BadField {
        field: name,
        expected,
    })?;
    Ok(out)
}

/// The associated data: every header field in a fixed binary layout (docs/keystore.md).
fn associated_data(public_key: &[u8; 32], params: &KdfParams, salt: &[u8]) -> Vec<u8> {
    let mut ad = Vec::with_capacity(FORMAT.len() + 1 + 4 + 32 + 1 + 4 + 4 + 1 + salt.len());
    ad.extend_from_slice(FORMAT.as_bytes());
    ad.push(0);
    ad.extend_from_slice(&VERSION.to_be_bytes());
    ad.extend_from_slice(public_key);
    ad.push(params.log_n);
    ad.extend_from_slice(&params.r.to_be_bytes());
    ad.extend_from_slice(&params.p.to_be_bytes());
    // Salt lengths are 16..=64, so they fit one byte.
    ad.push(salt.len() as u8);
    ad.extend_from_slice(salt);
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
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::{Duration, Instant};

    const SEED: [u8; 32] = [7u8; 32];
    const PASS: &[u8] = b"correct horse battery staple";

    fn cheap() -> KdfParams {
        KdfParams::new(10, 8, 1).unwrap()
    }

    fn sealed() -> String {
        seal(&SEED, PASS, cheap()).unwrap()
    }

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    fn edit(text: &str, change: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut value = json(text);
        change(&mut value);
        serde_json::to_vec(&value).unwrap()
    }

    /// Flips the lowest bit of the first byte of a hex field.
    fn flip_hex(value: &mut Value, object: &str, key: &str) {
        let text = value[object][key].as_str().unwrap().to_owned();
        let mut bytes = hex::decode(&text).unwrap();
        bytes[0] ^= 1;
        value[object][key] = Value::String(hex::encode(bytes));
    }

    #[test]
    fn default_params_are_17_8_1() {
        let d = KdfParams::default();
        assert_eq!((d.log_n(), d.r(), d.p()), (17, 8, 1));
        assert_eq!(KdfParams::new(17, 8, 1).unwrap(), d);
        assert_eq!(d.memory_bytes(), 128 << 20);
    }

    #[test]
    fn round_trip() {
        let text = sealed();
        let (seed, info) = open(text.as_bytes(), PASS).unwrap();
        assert_eq!(*seed, SEED);
        assert_eq!(info.version, 1);
        assert_eq!(info.kdf, cheap());
        assert_eq!(info.public_key, strkey_public(&public_key_of(&SEED)));
        assert!(info.public_key.starts_with('G'));
        assert_eq!(inspect(text.as_bytes()).unwrap(), info);
        assert!(text.ends_with("}\n"));
        // The seed is not in the file in any common spelling.
        assert!(!text.contains(&hex::encode(SEED)));
    }

    #[test]
    fn each_seal_uses_fresh_salt_and_nonce() {
        let a = json(&sealed());
        let b = json(&sealed());
        assert_ne!(a["kdf"]["salt"], b["kdf"]["salt"]);
        assert_ne!(a["aead"]["nonce"], b["aead"]["nonce"]);
        assert_ne!(a["aead"]["ciphertext"], b["aead"]["ciphertext"]);
        assert_eq!(a["public_key"], b["public_key"]);
    }

    #[test]
    fn empty_passphrase_is_refused_when_sealing() {
        assert_eq!(
            seal(&SEED, b"", cheap()).unwrap_err(),
            KeystoreError::EmptyPassphrase
        );
    }

    #[test]
    fn wrong_passphrase() {
        let text = sealed();
        for wrong in [
            &b""[..],
            b"correct horse battery stapl",
            b"Correct horse battery staple",
        ] {
            assert_eq!(
                open(text.as_bytes(), wrong).unwrap_err(),
                KeystoreError::WrongPassphrase
            );
        }
    }

    #[test]
    fn tampering_is_detected() {
        let text = sealed();
        let other_key = strkey_public(&public_key_of(&[8u8; 32]));
        let tampered: Vec<(&str, Vec<u8>)> = vec![
            (
                "ciphertext",
                edit(&text, |v| flip_hex(v, "aead", "ciphertext")),
            ),
            ("tag", {
                edit(&text, |v| {
                    let mut bytes = hex::decode(v["aead"]["ciphertext"].as_str().unwrap()).unwrap();
                    bytes[CIPHERTEXT_LEN - 1] ^= 0x80;
                    v["aead"]["ciphertext"] = Value::String(hex::encode(bytes));
                })
            }),
            ("nonce", edit(&text, |v| flip_hex(v, "aead", "nonce"))),
            ("salt", edit(&text, |v| flip_hex(v, "kdf", "salt"))),
            ("shorter salt", {
                edit(&text, |v| {
                    let salt = v["kdf"]["salt"].as_str().unwrap()[..40].to_owned();
                    v["kdf"]["salt"] = Value::String(salt);
                })
            }),
            (
                "public key",
                edit(&text, |v| {
                    v["public_key"] = Value::String(other_key.clone())
                }),
            ),
            ("log_n", edit(&text, |v| v["kdf"]["log_n"] = 11.into())),
            ("r", edit(&text, |v| v["kdf"]["r"] = 4.into())),
            ("p", edit(&text, |v| v["kdf"]["p"] = 2.into())),
        ];
        for (what, file) in tampered {
            assert_eq!(
                open(&file, PASS).unwrap_err(),
                KeystoreError::WrongPassphrase,
                "tampered {what}"
            );
        }
    }

    #[test]
    fn seed_not_matching_the_named_public_key_is_refused() {
        // A writer bug: the header names another key, and the AD is computed over that header,
        // so the AEAD accepts the file; the public-key check must not.
        let other = public_key_of(&[8u8; 32]);
        let params = cheap();
        let salt = [1u8; SALT_LEN];
        let nonce = [2u8; NONCE_LEN];
        let key = derive_key(PASS, &salt, &params).unwrap();
        let cipher = XChaCha20Poly1305::new_from_slice(&key[..]).unwrap();
        let mut buffer = SEED;
        let tag = cipher
            .encrypt_in_place_detached(
                &XNonce::from(nonce),
                &associated_data(&other, &params, &salt),
                &mut buffer,
            )
            .unwrap();
        let file = json!({
            "format": FORMAT, "version": 1, "public_key": strkey_public(&other),
            "kdf": {"name": "scrypt", "log_n": 10, "r": 8, "p": 1, "salt": hex::encode(salt)},
            "aead": {"name": "xchacha20-poly1305", "nonce": hex::encode(nonce),
                     "ciphertext": format!("{}{}", hex::encode(buffer), hex::encode(tag))},
        });
        assert_eq!(
            open(file.to_string().as_bytes(), PASS).unwrap_err(),
            KeystoreError::PublicKeyMismatch
        );
    }

    #[test]
    fn header_changes_outside_the_ad_are_refused_by_the_parser() {
        let text = sealed();
        let cases: Vec<(Vec<u8>, KeystoreError)> = vec![
            (
                edit(&text, |v| v["version"] = 2.into()),
                KeystoreError::UnsupportedVersion { version: 2 },
            ),
            (
                edit(&text, |v| v["version"] = "1".into()),
                KeystoreError::BadField {
                    field: "version",
                    expected: "a whole number",
                },
            ),
            (
                edit(&text, |v| v["format"] = "other".into()),
                KeystoreError::NotAKeystore,
            ),
            (
                edit(&text, |v| v["kdf"]["name"] = "argon2id".into()),
                KeystoreError::BadField {
                    field: "kdf.name",
                    expected: "\"scrypt\"",
                },
            ),
            (
                edit(&text, |v| v["aead"]["name"] = "aes-256-gcm".into()),
                KeystoreError::BadField {
                    field: "aead.name",
                    expected: "\"xchacha20-poly1305\"",
                },
            ),
            (
                edit(&text, |v| v["extra"] = true.into()),
                KeystoreError::UnknownField {
                    object: "top level",
                },
            ),
            (
                edit(&text, |v| v["kdf"]["dklen"] = 32.into()),
                KeystoreError::UnknownField { object: "kdf" },
            ),
            (
                edit(&text, |v| {
                    v.as_object_mut().unwrap().remove("public_key");
                }),
                KeystoreError::MissingField {
                    field: "public_key",
                },
            ),
            (
                edit(&text, |v| {
                    v["aead"].as_object_mut().unwrap().remove("nonce");
                }),
                KeystoreError::MissingField {
                    field: "aead.nonce",
                },
            ),
            (
                edit(&text, |v| v["public_key"] = "GABC".into()),
                KeystoreError::BadField {
                    field: "public_key",
                    expected: "a Stellar public key (G…)",
                },
            ),
            (
                edit(&text, |v| {
                    let nonce = v["aead"]["nonce"].as_str().unwrap()[2..].to_owned();
                    v["aead"]["nonce"] = nonce.into();
                }),
                KeystoreError::BadField {
                    field: "aead.nonce",
                    expected: "24 bytes in hexadecimal",
                },
            ),
            (
                edit(&text, |v| v["kdf"]["salt"] = "00".repeat(15).into()),
                KeystoreError::BadField {
                    field: "kdf.salt",
                    expected: "16 to 64 bytes in hexadecimal",
                },
            ),
            (b"[]".to_vec(), KeystoreError::NotAKeystore),
            (b"\"SAAA\"".to_vec(), KeystoreError::NotAKeystore),
        ];
        for (file, expected) in cases {
            assert_eq!(inspect(&file).unwrap_err(), expected);
            assert_eq!(open(&file, PASS).unwrap_err(), expected);
        }
    }

    #[test]
    fn truncated_files_are_refused() {
        let text = sealed();
        let body = text.trim_end().as_bytes();
        for len in 0..body.len() {
            let err = open(&body[..len], PASS).unwrap_err();
            assert!(
                matches!(err, KeystoreError::NotJson { .. }),
                "prefix of {len} bytes: {err:?}"
            );
        }
    }

    #[test]
    fn mutated_files_never_panic_the_parser() {
        let text = sealed();
        let bytes = text.as_bytes();
        for i in 0..bytes.len() {
            for replacement in [b'0', b'f', b'"', b'{', b'9', b'-', 0xff] {
                let mut mutated = bytes.to_vec();
                mutated[i] = replacement;
                // Any answer will do as long as there is one.
                let _ = inspect(&mutated);
            }
            let mut shortened = bytes.to_vec();
            shortened.remove(i);
            let _ = inspect(&shortened);
        }
    }

    #[test]
    fn oversized_files_are_refused_unparsed() {
        let mut big = sealed().into_bytes();
        big.resize(MAX_FILE_LEN + 1, b' ');
        assert_eq!(
            inspect(&big).unwrap_err(),
            KeystoreError::TooLarge {
                len: MAX_FILE_LEN + 1
            }
        );
        // Deep nesting is a JSON error, not a stack overflow.
        let deep = "[".repeat(50_000);
        assert!(matches!(
            inspect(deep.as_bytes()).unwrap_err(),
            KeystoreError::NotJson { .. }
        ));
    }

    #[test]
    fn hostile_kdf_params_are_refused_quickly() {
        let text = sealed();
        let hostile: [(Value, Value, Value); 12] = [
            (30.into(), 8.into(), 1.into()),
            (21.into(), 1.into(), 1.into()),
            (255.into(), 8.into(), 1.into()),
            (256.into(), 8.into(), 1.into()),
            (u64::MAX.into(), u64::MAX.into(), u64::MAX.into()),
            (20.into(), 16.into(), 1.into()),
            (16.into(), 8.into(), 16.into()),
            (12.into(), 65.into(), 1.into()),
            (12.into(), 8.into(), 9.into()),
            (14.into(), 4_294_967_295u64.into(), 4_294_967_295u64.into()),
            (9.into(), 8.into(), 1.into()),
            (17.into(), 1.into(), 1.into()),
        ];
        let start = Instant::now();
        for (log_n, r, p) in hostile {
            let file = edit(&text, |v| {
                v["kdf"]["log_n"] = log_n.clone();
                v["kdf"]["r"] = r.clone();
                v["kdf"]["p"] = p.clone();
            });
            let err = open(&file, PASS).unwrap_err();
            assert!(
                matches!(
                    err,
                    KeystoreError::KdfTooCostly { .. }
                        | KeystoreError::KdfTooWeak { .. }
                        | KeystoreError::KdfInvalid { .. }
                ),
                "{log_n} {r} {p}: {err:?}"
            );
            assert_eq!(inspect(&file).unwrap_err(), err);
        }
        for (log_n, r, p) in [
            (json!(-1), json!(8), json!(1)),
            (json!(17.5), json!(8), json!(1)),
        ] {
            let file = edit(&text, |v| {
                v["kdf"]["log_n"] = log_n;
                v["kdf"]["r"] = r;
                v["kdf"]["p"] = p;
            });
            assert_eq!(
                open(&file, PASS).unwrap_err(),
                KeystoreError::BadField {
                    field: "kdf.log_n",
                    expected: "a whole number"
                }
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn kdf_bounds() {
        assert!(KdfParams::new(10, 8, 1).is_ok());
        assert!(KdfParams::new(20, 8, 1).is_ok());
        assert!(KdfParams::new(15, 64, 1).is_ok());
        assert!(KdfParams::new(17, 1, 64).is_err()); // scrypt: log_n < 16 * r
        assert!(matches!(
            KdfParams::new(9, 8, 1),
            Err(KeystoreError::KdfTooWeak { .. })
        ));
        assert!(matches!(
            KdfParams::new(21, 8, 1),
            Err(KeystoreError::KdfTooCostly { .. })
        ));
        assert!(matches!(
            KdfParams::new(20, 8, 2),
            Err(KeystoreError::KdfTooCostly { .. })
        ));
        assert!(matches!(
            KdfParams::new(10, 0, 1),
            Err(KeystoreError::KdfInvalid { .. })
        ));
        assert!(matches!(
            KdfParams::new(10, 8, 0),
            Err(KeystoreError::KdfInvalid { .. })
        ));
    }

    #[test]
    fn errors_and_debug_carry_no_secrets() {
        let text = sealed();
        let err = open(text.as_bytes(), b"hunter2 wrong passphrase").unwrap_err();
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains("hunter2"));
        }
        let (seed, info) = open(text.as_bytes(), PASS).unwrap();
        let shown = format!("{info:?}");
        assert!(!shown.contains(&hex::encode(*seed)));
        assert!(!shown.contains("correct horse"));
    }
}
