//! The keystore file as JSON: the document `seal` writes, and the defensive reading of one.
use super::{
    strkey_public, KdfParams, KeystoreError, KeystoreInfo, AEAD_NAME, CIPHERTEXT_LEN, FORMAT,
    KDF_NAME, MAX_FILE_LEN, MAX_SALT_LEN, MIN_SALT_LEN, NONCE_LEN, VERSION, VERSION_UNBOUND,
};
use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Serialize)]
pub(super) struct FileV1 {
    pub(super) format: &'static str,
    pub(super) version: u32,
    pub(super) public_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) policy_sha256: Option<String>,
    pub(super) kdf: KdfV1,
    pub(super) aead: AeadV1,
}

#[derive(Serialize)]
pub(super) struct KdfV1 {
    pub(super) name: &'static str,
    pub(super) log_n: u8,
    pub(super) r: u32,
    pub(super) p: u32,
    pub(super) salt: String,
}

#[derive(Serialize)]
pub(super) struct AeadV1 {
    pub(super) name: &'static str,
    pub(super) nonce: String,
    pub(super) ciphertext: String,
}

pub(super) struct Parsed {
    pub(super) info: KeystoreInfo,
    pub(super) public_key: [u8; 32],
    pub(super) salt: Vec<u8>,
    pub(super) nonce: [u8; NONCE_LEN],
    pub(super) ciphertext: [u8; CIPHERTEXT_LEN],
}

pub(super) fn parse(file_text: &[u8]) -> Result<Parsed, KeystoreError> {
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
    let bound = if version == u64::from(VERSION) {
        true
    } else if version == u64::from(VERSION_UNBOUND) {
        false
    } else {
        return Err(KeystoreError::UnsupportedVersion { version });
    };
    let fields: &[&str] = if bound {
        &[
            "format",
            "version",
            "public_key",
            "policy_sha256",
            "kdf",
            "aead",
        ]
    } else {
        &["format", "version", "public_key", "kdf", "aead"]
    };
    only_fields(top, fields, "top level")?;
    let policy_sha256 = if bound {
        Some(hex_array::<32>(
            top,
            "policy_sha256",
            "policy_sha256",
            "32 bytes in hexadecimal",
        )?)
    } else {
        None
    };

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
            version: if bound { VERSION } else { VERSION_UNBOUND },
            public_key: strkey_public(&public_key),
            kdf: params,
            policy_sha256,
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
