use super::*;
use serde_json::{json, Value};
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
            &associated_data(VERSION_UNBOUND, &other, &params, &salt, None),
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
            edit(&text, |v| v["version"] = 3.into()),
            KeystoreError::UnsupportedVersion { version: 3 },
        ),
        (
            edit(&text, |v| v["version"] = 2.into()),
            KeystoreError::MissingField {
                field: "policy_sha256",
            },
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

#[test]
fn a_bound_policy_is_authenticated() {
    let seed = [9u8; 32];
    let digest = [7u8; 32];
    let text = seal_bound(&seed, b"pass", cheap(), digest).unwrap();
    let info = inspect(text.as_bytes()).unwrap();
    assert_eq!(info.version, 2);
    assert_eq!(info.policy_sha256, Some(digest));
    let (opened, info) = open(text.as_bytes(), b"pass").unwrap();
    assert_eq!(*opened, seed);
    assert_eq!(info.policy_sha256, Some(digest));
    // Another policy's digest in the clear: the file no longer opens.
    let swapped = edit(&text, |v| {
        v["policy_sha256"] = hex::encode([8u8; 32]).into()
    });
    assert_eq!(
        inspect(&swapped).unwrap().policy_sha256,
        Some([8u8; 32]),
        "the claim reads in the clear"
    );
    assert_eq!(
        open(&swapped, b"pass").unwrap_err(),
        KeystoreError::WrongPassphrase
    );
    // Dropping the binding (version 1 without the field) does not open either.
    let unbound = edit(&text, |v| {
        v["version"] = 1.into();
        v.as_object_mut().unwrap().remove("policy_sha256");
    });
    assert_eq!(
        open(&unbound, b"pass").unwrap_err(),
        KeystoreError::WrongPassphrase
    );
    // A version 1 file has no binding.
    let v1 = seal(&seed, b"pass", cheap()).unwrap();
    assert_eq!(inspect(v1.as_bytes()).unwrap().policy_sha256, None);
}

#[test]
fn weak_parameters_are_below_the_default() {
    assert!(!KdfParams::default().below_default());
    assert!(cheap().below_default());
    assert!(!KdfParams::new(18, 8, 1).unwrap().below_default());
}
