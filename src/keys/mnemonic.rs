//! SEP-5 key derivation: a BIP-39 mnemonic (English word list) and an optional BIP-39 passphrase
//! give a 64-byte BIP-39 seed, from which SLIP-0010 ed25519 derivation along `m/44'/148'/index'`
//! gives the 32-byte ed25519 seed of Stellar account number `index`.
//!
//! Everything secret lives in [`Zeroizing`] buffers that are sized before they are filled, so they
//! never reallocate and leave copies behind. Errors name positions and counts, never words.

use bip39::{Language, Mnemonic};
use hmac::{Hmac, Mac};
use sha2::Sha512;
use unicode_normalization::UnicodeNormalization;
use zeroize::{Zeroize, Zeroizing};

/// Hardened-derivation flag of BIP-32 / SLIP-0010 child indexes.
const HARDENED: u32 = 0x8000_0000;
/// `m/44'/148'`: BIP-44 purpose, then Stellar's SLIP-0044 coin type.
const STELLAR_PATH_PREFIX: [u32; 2] = [44, 148];
/// Longest word of the BIP-39 English word list, in bytes.
const LONGEST_WORD: usize = 8;

type HmacSha512 = Hmac<Sha512>;

/// What can go wrong turning a mnemonic into a seed, or making a new mnemonic.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MnemonicError {
    /// The phrase does not have 12, 15, 18, 21 or 24 words.
    #[error("the mnemonic has {words} words; a BIP-39 mnemonic has 12, 15, 18, 21 or 24")]
    WordCount { words: usize },
    /// A word is not in the BIP-39 English word list (`position` counts from 1).
    #[error("word {position} of the mnemonic is not in the BIP-39 English word list")]
    UnknownWord { position: usize },
    /// Every word is known but the checksum the last word carries does not match.
    #[error("the mnemonic's checksum does not match, so a word is wrong or out of place")]
    Checksum,
    /// The bip39 crate refused the phrase for another reason.
    #[error("the mnemonic is not a valid BIP-39 English mnemonic")]
    Invalid,
    /// SEP-5 account indexes are hardened SLIP-0010 indexes, below 2^31.
    #[error("account index {index} is too large; SEP-5 account indexes go from 0 to 2147483647")]
    AccountIndex { index: u32 },
    /// `generate_mnemonic` makes 12- or 24-word phrases only.
    #[error("a new mnemonic must have 12 or 24 words, not {words}")]
    GenerateWordCount { words: usize },
    /// The operating system could not supply random bytes.
    #[error("the operating system's random number generator failed")]
    Randomness,
    /// HMAC-SHA512 refused its key; HMAC takes keys of any length, so this does not happen.
    #[error("the SLIP-0010 key derivation failed")]
    Derivation,
}

impl From<bip39::Error> for MnemonicError {
    fn from(error: bip39::Error) -> Self {
        match error {
            bip39::Error::BadWordCount(words) => MnemonicError::WordCount { words },
            bip39::Error::UnknownWord(index) => MnemonicError::UnknownWord {
                position: index.saturating_add(1),
            },
            bip39::Error::InvalidChecksum => MnemonicError::Checksum,
            _ => MnemonicError::Invalid,
        }
    }
}

/// The ed25519 seed of SEP-5 account `account_index` (path `m/44'/148'/account_index'`) for a
/// BIP-39 English mnemonic and BIP-39 passphrase (`""` for none).
///
/// The phrase is NFKD-normalized, words may be separated by any run of whitespace and may be in
/// any ASCII case; the BIP-39 checksum is checked. The passphrase is NFKD-normalized as BIP-39
/// requires and otherwise used exactly as given (case and spaces matter).
pub fn seed_from_mnemonic(
    phrase: &str,
    passphrase: &str,
    account_index: u32,
) -> Result<Zeroizing<[u8; 32]>, MnemonicError> {
    if account_index >= HARDENED {
        return Err(MnemonicError::AccountIndex {
            index: account_index,
        });
    }
    let bip39_seed = bip39_seed(phrase, passphrase)?;
    let path = [
        STELLAR_PATH_PREFIX[0],
        STELLAR_PATH_PREFIX[1],
        account_index,
    ];
    slip10_derive(&bip39_seed, &path)
}

/// A new BIP-39 English mnemonic of `words` words (12: 128 bits of entropy, 24: 256 bits, which
/// SEP-5 recommends) from the operating system's random number generator.
pub fn generate_mnemonic(words: usize) -> Result<Zeroizing<String>, MnemonicError> {
    let entropy_len = match words {
        12 => 16,
        24 => 32,
        _ => return Err(MnemonicError::GenerateWordCount { words }),
    };
    let mut entropy = Zeroizing::new([0u8; 32]);
    let entropy = &mut entropy[..entropy_len];
    getrandom::getrandom(entropy).map_err(|_| MnemonicError::Randomness)?;
    // `Mnemonic` zeroizes its word indexes on drop (bip39's `zeroize` feature).
    let mnemonic = Mnemonic::from_entropy_in(Language::English, entropy)?;
    let mut phrase = Zeroizing::new(String::with_capacity(words * (LONGEST_WORD + 1)));
    for (i, word) in mnemonic.words().enumerate() {
        if i > 0 {
            phrase.push(' ');
        }
        phrase.push_str(word);
    }
    Ok(phrase)
}

/// The 64-byte BIP-39 seed: PBKDF2-HMAC-SHA512 over the canonical phrase, salted with
/// `"mnemonic"` + the NFKD passphrase (done by the bip39 crate). Normalization is done here rather
/// than by `Mnemonic::parse`/`to_seed`, whose normalized copies are plain, unzeroized strings.
pub(crate) fn bip39_seed(
    phrase: &str,
    passphrase: &str,
) -> Result<Zeroizing<[u8; 64]>, MnemonicError> {
    let phrase = normalize_phrase(phrase);
    let mnemonic = Mnemonic::parse_in_normalized(Language::English, &phrase)?;
    let passphrase = nfkd(passphrase);
    Ok(Zeroizing::new(mnemonic.to_seed_normalized(&passphrase)))
}

/// NFKD, whitespace runs collapsed to one space, ASCII letters lower-cased; the output buffer is
/// allocated once at its final size (it can only shrink from the NFKD length).
fn normalize_phrase(phrase: &str) -> Zeroizing<String> {
    let capacity: usize = phrase.nfkd().map(char::len_utf8).sum();
    let mut out = Zeroizing::new(String::with_capacity(capacity));
    let mut space_pending = false;
    for c in phrase.nfkd() {
        if c.is_whitespace() {
            space_pending = !out.is_empty();
            continue;
        }
        if space_pending {
            out.push(' ');
            space_pending = false;
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// NFKD into a buffer allocated once at its final size.
fn nfkd(text: &str) -> Zeroizing<String> {
    let capacity: usize = text.nfkd().map(char::len_utf8).sum();
    let mut out = Zeroizing::new(String::with_capacity(capacity));
    out.extend(text.nfkd());
    out
}

/// SLIP-0010 private-key derivation for ed25519 along hardened `path` (indexes given without the
/// hardened bit).
///
/// Written here over `hmac` + `sha2` instead of taken from a crate: the crates.io candidates
/// (slip10_ed25519 0.1.3, ed25519-dalek-bip32 0.3.0, ed25519-hd-key 0.3.0) hand back keys and chain
/// codes in plain arrays or `Debug` structs and leave their intermediates unzeroized, and
/// ed25519-hd-key also links libsodium; the derivation itself is the few lines below
/// (SLIP-0010, "Master key generation" and "Private parent key → private child key", ed25519).
pub(crate) fn slip10_derive(
    bip39_seed: &[u8; 64],
    path: &[u32],
) -> Result<Zeroizing<[u8; 32]>, MnemonicError> {
    // I = HMAC-SHA512(Key = "ed25519 seed", Data = S); key = I_L, chain code = I_R.
    let mut node = hmac_sha512(b"ed25519 seed", &[bip39_seed])?;
    for &index in path {
        let (key, chain_code) = node.split_at(32);
        // I = HMAC-SHA512(Key = c_par, Data = 0x00 || k_par || ser32(index | 2^31)).
        let hardened = (index | HARDENED).to_be_bytes();
        let child = hmac_sha512(chain_code, &[&[0u8], key, &hardened])?;
        node = child; // the parent is zeroized as it drops
    }
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&node[..32]);
    Ok(key)
}

fn hmac_sha512(key: &[u8], data: &[&[u8]]) -> Result<Zeroizing<[u8; 64]>, MnemonicError> {
    let mut mac = HmacSha512::new_from_slice(key).map_err(|_| MnemonicError::Derivation)?;
    for part in data {
        mac.update(part);
    }
    let mut digest = mac.finalize().into_bytes();
    let mut out = Zeroizing::new([0u8; 64]);
    out.copy_from_slice(&digest);
    digest.as_mut_slice().zeroize();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex32(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).unwrap();
        out
    }

    fn hex64(s: &str) -> [u8; 64] {
        let mut out = [0u8; 64];
        hex::decode_to_slice(s, &mut out).unwrap();
        out
    }

    // Test cases of SEP-0005 (stellar/stellar-protocol, ecosystem/sep-0005.md, "Test Cases"):
    // mnemonic, passphrase, "BIP39 Seed", "m/44'/148' key". The per-account keys are checked in
    // tests/keys_sdk.rs.
    const SEP5_INTERMEDIATE: [(&str, &str, &str, &str); 5] = [
        (
            "illness spike retreat truth genius clock brain pass fit cave bargain toe",
            "",
            "e4a5a632e70943ae7f07659df1332160937fad82587216a4c64315a0fb39497ee4a01f76ddab4cba68147977f3a147b6ad584c41808e8238a07f6cc4b582f186",
            "e0eec84fe165cd427cb7bc9b6cfdef0555aa1cb6f9043ff1fe986c3c8ddd22e3",
        ),
        (
            "resource asthma orphan phone ice canvas fire useful arch jewel impose vague theory cushion top",
            "",
            "7b36d4e725b48695c3ffd2b4b317d5552cb157c1a26c46d36a05317f0d3053eb8b3b6496ba39ebd9312d10e3f9937b47a6790541e7c577da027a564862e92811",
            "2e5d4e6b54a4b96c5e887c9ec92f619a3c134d8b1059dcef15c1a9b228ae3751",
        ),
        (
            "bench hurt jump file august wise shallow faculty impulse spring exact slush thunder author capable act festival slice deposit sauce coconut afford frown better",
            "",
            "937ae91f6ab6f12461d9936dfc1375ea5312d097f3f1eb6fed6a82fbe38c85824da8704389831482db0433e5f6c6c9700ff1946aa75ad8cc2654d6e40f567866",
            "df474e0dc2711089b89af6b089aceeb77e73120e9f895bd330a36fa952835ea8",
        ),
        (
            "cable spray genius state float twenty onion head street palace net private method loan turn phrase state blanket interest dry amazing dress blast tube",
            "p4ssphr4se",
            "d425d39998fb42ce4cf31425f0eaec2f0a68f47655ea030d6d26e70200d8ff8bd4326b4bdf562ea8640a1501ae93ccd0fd7992116da5dfa24900e570a742a489",
            "c83c61dc97d37832f0f20e258c3ba4040a258800fd14abaff124a4dee114b17e",
        ),
        (
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
            "",
            "5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4",
            "03df7921b4f789040e361d07d5e4eddad277c376350d7b5d585400a0ef18f2f5",
        ),
    ];

    #[test]
    fn sep5_bip39_seeds_and_m_44h_148h_keys() {
        for (phrase, passphrase, seed_hex, key_hex) in SEP5_INTERMEDIATE {
            let seed = bip39_seed(phrase, passphrase).unwrap();
            assert_eq!(*seed, hex64(seed_hex), "BIP-39 seed of {phrase:?}");
            let key = slip10_derive(&seed, &STELLAR_PATH_PREFIX).unwrap();
            assert_eq!(*key, hex32(key_hex), "m/44'/148' key of {phrase:?}");
        }
    }

    #[test]
    fn whitespace_and_case_are_normalized() {
        let (phrase, _, _, _) = SEP5_INTERMEDIATE[0];
        let messy = format!(
            "  \t{}\n ",
            phrase.to_uppercase().replace(' ', " \u{3000}  ")
        );
        assert_eq!(
            *seed_from_mnemonic(&messy, "", 3).unwrap(),
            *seed_from_mnemonic(phrase, "", 3).unwrap()
        );
    }

    #[test]
    fn passphrase_is_nfkd_normalized_and_case_sensitive() {
        let (phrase, _, _, _) = SEP5_INTERMEDIATE[4];
        let composed = seed_from_mnemonic(phrase, "caf\u{e9}", 0).unwrap();
        let decomposed = seed_from_mnemonic(phrase, "cafe\u{301}", 0).unwrap();
        assert_eq!(*composed, *decomposed);
        let upper = seed_from_mnemonic(phrase, "CAF\u{c9}", 0).unwrap();
        assert_ne!(*composed, *upper);
        assert_ne!(*composed, *seed_from_mnemonic(phrase, "", 0).unwrap());
    }

    #[test]
    fn bad_phrases_give_clear_errors_without_words() {
        let unknown = "illness spike retreat truth genius clock brain pass fit cave bargain zzzz";
        let err = seed_from_mnemonic(unknown, "", 0).unwrap_err();
        assert_eq!(err, MnemonicError::UnknownWord { position: 12 });
        assert!(!err.to_string().contains("zzzz"));
        assert!(!format!("{err:?}").contains("zzzz"));

        // Two words swapped: every word is valid, the checksum is not.
        let swapped = "spike illness retreat truth genius clock brain pass fit cave bargain toe";
        let err = seed_from_mnemonic(swapped, "", 0).unwrap_err();
        assert_eq!(err, MnemonicError::Checksum);
        for word in swapped.split(' ') {
            assert!(!err.to_string().contains(word), "{word} echoed");
        }

        assert_eq!(
            seed_from_mnemonic("illness spike retreat", "", 0).unwrap_err(),
            MnemonicError::WordCount { words: 3 }
        );
        assert_eq!(
            seed_from_mnemonic("", "", 0).unwrap_err(),
            MnemonicError::WordCount { words: 0 }
        );
    }

    #[test]
    fn account_index_must_fit_a_hardened_index() {
        let (phrase, _, _, _) = SEP5_INTERMEDIATE[0];
        assert!(seed_from_mnemonic(phrase, "", 0x7fff_ffff).is_ok());
        assert_eq!(
            seed_from_mnemonic(phrase, "", 0x8000_0000).unwrap_err(),
            MnemonicError::AccountIndex { index: 0x8000_0000 }
        );
    }

    #[test]
    fn generated_mnemonics_parse_and_differ() {
        for words in [12, 24] {
            let a = generate_mnemonic(words).unwrap();
            let b = generate_mnemonic(words).unwrap();
            assert_eq!(a.split(' ').count(), words);
            assert_ne!(*a, *b);
            assert!(seed_from_mnemonic(&a, "", 0).is_ok());
        }
        for words in [0, 11, 15, 18, 21, 25] {
            assert_eq!(
                generate_mnemonic(words).unwrap_err(),
                MnemonicError::GenerateWordCount { words }
            );
        }
    }
}
