//! The text of txrep: `field: value` lines, quoted strings and escapes, plain decimals, and the
//! typed reading of one field's value.
use std::cell::Cell;
use std::collections::HashMap;
use stellar_strkey::Strkey;

use super::{Result, TxrepError, FALSE, TRUE};
use stellar_xdr::{
    AccountId, AlphaNum12, AlphaNum4, Asset, AssetCode12, AssetCode4, MuxedAccount,
    MuxedAccountMed25519, PublicKey, SignerKey, SignerKeyEd25519SignedPayload, Uint256,
};

/// A value quoted for an error message; one shaped like a secret seed (`S` and 55 more strkey
/// characters) is not repeated, so a mistaken paste does not end up in logs.
pub(super) fn q(v: &str) -> String {
    if crate::account::looks_like_secret(v) {
        "a value shaped like a secret seed (not repeated here)".into()
    } else {
        format!("`{v}`")
    }
}

pub(super) fn malformed(line: usize, reason: impl Into<String>) -> TxrepError {
    TxrepError::Malformed {
        line,
        reason: reason.into(),
    }
}

/// `bytes` in a fixed-size array, zero-padded.
pub(super) fn pad<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = *b;
    }
    out
}

/// Reads a plain decimal integer: optional `-`, digits, no leading zero (SEP-11 reads a leading
/// zero as octal, the SDK as decimal, so such text is refused rather than guessed at).
pub(super) fn parse_decimal<T: std::str::FromStr>(s: &str) -> Option<T> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// Decodes an escaped asset code (`\xHH`, `\` before any other character).
pub(super) fn unescape_code(s: &str) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('x') => {
                    let h: String = chars.by_ref().take(2).collect();
                    let byte = (h.len() == 2)
                        .then(|| u8::from_str_radix(&h, 16).ok())
                        .flatten()
                        .ok_or_else(|| {
                            "`\\x` in an asset code must be followed by two hex digits".to_string()
                        })?;
                    out.push(byte);
                }
                Some(e) if e.is_ascii_graphic() => out.push(e as u8),
                _ => return Err("an asset code has a `\\` with nothing printable after it".into()),
            },
            c if c.is_ascii_graphic() => out.push(c as u8),
            _ => {
                return Err(
                    "an asset code may only hold printable ASCII; write other bytes as `\\xHH`"
                        .into(),
                )
            }
        }
    }
    Ok(out)
}

/// The position of the first `:` not escaped by `\`.
fn unescaped_colon(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ':' => return Some(i),
            _ => {}
        }
    }
    None
}

/// A parsed value: a quoted string (already unescaped, as bytes) or a bare token.
enum Value {
    Quoted(Vec<u8>),
    Bare(String),
}

struct Entry {
    line: usize,
    value: Value,
    used: Cell<bool>,
}

/// The `field: value` lines of a txrep text, keyed by field; each read marks the field used.
pub(super) struct Fields {
    map: HashMap<String, Entry>,
}

impl Fields {
    pub(super) fn parse(text: &str) -> Result<Self> {
        let mut map: HashMap<String, Entry> = HashMap::new();
        for (i, raw) in text.split('\n').enumerate() {
            let line = i + 1;
            let l = raw.strip_suffix('\r').unwrap_or(raw);
            if l.trim().is_empty() || l.starts_with(':') {
                continue;
            }
            let Some((key, rest)) = l.split_once(':') else {
                return Err(malformed(
                    line,
                    "expected `field: value`, a comment starting with `:`, or a blank line",
                ));
            };
            let key = key.trim();
            if !valid_field(key) {
                return Err(malformed(
                    line,
                    format!("`{key}` is not a valid field name"),
                ));
            }
            let rest = rest.trim_start();
            let value = if let Some(q) = rest.strip_prefix('"') {
                let (bytes, after) = unquote(q).map_err(|r| malformed(line, r))?;
                if !(after.is_empty() || after.starts_with([' ', '\t'])) {
                    return Err(malformed(
                        line,
                        "text follows the closing quote without a space before it",
                    ));
                }
                Value::Quoted(bytes)
            } else {
                let token = rest.split([' ', '\t']).next().unwrap_or("");
                Value::Bare(token.to_string())
            };
            if let Some(prev) = map.get(key) {
                return Err(malformed(
                    line,
                    format!("`{key}` was already given on line {}", prev.line),
                ));
            }
            map.insert(
                key.to_string(),
                Entry {
                    line,
                    value,
                    used: Cell::new(false),
                },
            );
        }
        Ok(Self { map })
    }

    pub(super) fn check_all_used(&self) -> Result<()> {
        let unused = self
            .map
            .iter()
            .filter(|(_, e)| !e.used.get())
            .min_by_key(|(_, e)| e.line);
        match unused {
            Some((key, e)) => Err(malformed(
                e.line,
                format!("`{key}` is not a field of this envelope"),
            )),
            None => Ok(()),
        }
    }

    pub(super) fn line_of(&self, key: &str) -> usize {
        self.map.get(key).map_or(0, |e| e.line)
    }

    fn entry(&self, key: &str) -> Result<&Entry> {
        let e = self.map.get(key).ok_or_else(|| TxrepError::Missing {
            key: key.to_string(),
        })?;
        e.used.set(true);
        Ok(e)
    }

    pub(super) fn bare(&self, key: &str) -> Result<(&str, usize)> {
        let e = self.entry(key)?;
        match &e.value {
            Value::Bare(s) => Ok((s.as_str(), e.line)),
            Value::Quoted(_) => Err(malformed(
                e.line,
                format!("`{key}` takes an unquoted value, not a quoted string"),
            )),
        }
    }

    pub(super) fn optional_bare(&self, key: &str) -> Result<Option<(&str, usize)>> {
        if self.map.contains_key(key) {
            self.bare(key).map(Some)
        } else {
            Ok(None)
        }
    }

    pub(super) fn int<T: std::str::FromStr + IntKind>(&self, key: &str) -> Result<T> {
        let (v, line) = self.bare(key)?;
        parse_decimal(v).ok_or_else(|| {
            malformed(
                line,
                format!(
                    "{} is not valid for `{key}`; expected {}",
                    q(v),
                    T::DESCRIPTION
                ),
            )
        })
    }

    pub(super) fn len(&self, key: &str, max: usize) -> Result<usize> {
        let n: u32 = self.int(key)?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        if n > max {
            return Err(malformed(
                self.line_of(key),
                format!("`{key}` is {n}, more than the {max} allowed"),
            ));
        }
        Ok(n)
    }

    pub(super) fn present(&self, base: &str) -> Result<bool> {
        let key = format!("{base}._present");
        let (v, line) = self.bare(&key)?;
        match v {
            TRUE => Ok(true),
            FALSE => Ok(false),
            _ => Err(malformed(
                line,
                format!("{} is not valid for `{key}`; expected true or false", q(v)),
            )),
        }
    }

    fn strkey(&self, key: &str) -> Result<(Strkey, usize)> {
        let (v, line) = self.bare(key)?;
        // The value is not echoed: a mistaken paste could be a secret seed.
        if v.starts_with('S') {
            return Err(malformed(
                line,
                format!("`{key}` holds what looks like a secret seed (S…), never put one in txrep"),
            ));
        }
        Strkey::from_string(v)
            .map(|k| (k, line))
            .map_err(|e| malformed(line, format!("`{key}` is not a valid strkey: {e}")))
    }

    pub(super) fn account_id(&self, key: &str) -> Result<AccountId> {
        match self.strkey(key)? {
            (Strkey::PublicKeyEd25519(k), _) => {
                Ok(AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(k.0))))
            }
            (_, line) => Err(malformed(
                line,
                format!("`{key}` must be an account ID (G…)"),
            )),
        }
    }

    pub(super) fn muxed(&self, key: &str) -> Result<MuxedAccount> {
        match self.strkey(key)? {
            (Strkey::PublicKeyEd25519(k), _) => Ok(MuxedAccount::Ed25519(Uint256(k.0))),
            (Strkey::MuxedAccountEd25519(k), _) => {
                Ok(MuxedAccount::MuxedEd25519(MuxedAccountMed25519 {
                    id: k.id,
                    ed25519: Uint256(k.ed25519),
                }))
            }
            (_, line) => Err(malformed(
                line,
                format!("`{key}` must be an account (G…) or a muxed account (M…)"),
            )),
        }
    }

    pub(super) fn signer_key(&self, key: &str) -> Result<SignerKey> {
        match self.strkey(key)? {
            (Strkey::PublicKeyEd25519(k), _) => Ok(SignerKey::Ed25519(Uint256(k.0))),
            (Strkey::PreAuthTx(k), _) => Ok(SignerKey::PreAuthTx(Uint256(k.0))),
            (Strkey::HashX(k), _) => Ok(SignerKey::HashX(Uint256(k.0))),
            (Strkey::SignedPayloadEd25519(sp), line) => Ok(SignerKey::Ed25519SignedPayload(
                SignerKeyEd25519SignedPayload {
                    ed25519: Uint256(*sp.ed25519()),
                    payload: sp.payload().to_vec().try_into().map_err(|_| {
                        malformed(line, "a signed payload can hold at most 64 bytes")
                    })?,
                },
            )),
            (_, line) => Err(malformed(
                line,
                format!("`{key}` must be a signer key (G…, T…, X… or P…)"),
            )),
        }
    }

    pub(super) fn asset(&self, key: &str) -> Result<Asset> {
        let (v, line) = self.bare(key)?;
        let Some(colon) = unescaped_colon(v) else {
            return match v {
                "native" | "NATIVE" | "XLM" | "TestXLM" => Ok(Asset::Native),
                _ => Err(malformed(
                    line,
                    format!(
                        "{} is not an asset; expected `native` or `CODE:ISSUER`",
                        q(v)
                    ),
                )),
            };
        };
        let code = unescape_code(&v[..colon]).map_err(|r| malformed(line, r))?;
        let issuer_str = &v[colon + 1..];
        let issuer = match Strkey::from_string(issuer_str) {
            Ok(Strkey::PublicKeyEd25519(k)) => {
                AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(k.0)))
            }
            _ => {
                return Err(malformed(
                    line,
                    format!("the issuer in `{key}` is not a valid account ID (G…)"),
                ))
            }
        };
        match code.len() {
            0..=4 => Ok(Asset::CreditAlphanum4(AlphaNum4 {
                asset_code: AssetCode4(pad(&code)),
                issuer,
            })),
            5..=12 => Ok(Asset::CreditAlphanum12(AlphaNum12 {
                asset_code: AssetCode12(pad(&code)),
                issuer,
            })),
            _ => Err(malformed(line, "an asset code can hold at most 12 bytes")),
        }
    }

    /// Variable-length opaque: lower- or upper-case hex, even length; empty or `0` is no bytes.
    pub(super) fn opaque(&self, key: &str) -> Result<Vec<u8>> {
        let (v, line) = self.bare(key)?;
        if v.is_empty() || v == "0" {
            return Ok(Vec::new());
        }
        hex::decode(v).map_err(|_| {
            malformed(
                line,
                format!("`{key}` must be hex with an even number of digits"),
            )
        })
    }

    pub(super) fn fixed_opaque<const N: usize>(&self, key: &str) -> Result<[u8; N]> {
        let line = self.line_of(key);
        let bytes = self.opaque(key)?;
        bytes.try_into().map_err(|b: Vec<u8>| {
            malformed(
                line,
                format!(
                    "`{key}` must be {N} bytes ({} hex digits), not {}",
                    N * 2,
                    b.len()
                ),
            )
        })
    }

    /// A string field: a quoted string, or bare hex for bytes that are not UTF-8.
    pub(super) fn string(&self, key: &str) -> Result<Vec<u8>> {
        let e = self.entry(key)?;
        match &e.value {
            Value::Quoted(b) => Ok(b.clone()),
            Value::Bare(v) => hex::decode(v).map_err(|_| {
                malformed(
                    e.line,
                    format!(
                        "`{key}` must be a quoted string (or hex for bytes that are not UTF-8)"
                    ),
                )
            }),
        }
    }
}

/// What `Fields::int` says it expected.
pub(super) trait IntKind {
    const DESCRIPTION: &'static str;
}
impl IntKind for u32 {
    const DESCRIPTION: &'static str = "a decimal integer from 0 to 4294967295";
}
impl IntKind for i32 {
    const DESCRIPTION: &'static str = "a decimal integer from -2147483648 to 2147483647";
}
impl IntKind for u64 {
    const DESCRIPTION: &'static str = "a decimal integer from 0 to 18446744073709551615";
}
impl IntKind for i64 {
    const DESCRIPTION: &'static str =
        "a decimal integer from -9223372036854775808 to 9223372036854775807";
}

/// SEP-11 field syntax: tags of letters, digits and `_` joined by `.`, `[n]` indexes.
fn valid_field(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'[' | b']'))
}

/// Decodes a quoted string whose opening quote is already consumed; returns the bytes and the
/// text after the closing quote. Reads the SDK's escapes (JSON: `\" \\ \/ \n \r \t \b \f \uXXXX`)
/// and SEP-11's `\xHH`.
fn unquote(s: &str) -> std::result::Result<(Vec<u8>, &str), String> {
    let mut out = Vec::new();
    let mut it = s.char_indices();
    while let Some((i, c)) = it.next() {
        match c {
            '"' => return Ok((out, &s[i + 1..])),
            '\\' => {
                let Some((_, e)) = it.next() else { break };
                match e {
                    '"' => out.push(b'"'),
                    '\\' => out.push(b'\\'),
                    '/' => out.push(b'/'),
                    'n' => out.push(b'\n'),
                    'r' => out.push(b'\r'),
                    't' => out.push(b'\t'),
                    'b' => out.push(0x08),
                    'f' => out.push(0x0c),
                    'x' => {
                        let h = take_hex(&mut it, 2)?;
                        out.push(u8::try_from(h).map_err(|_| "bad `\\x` escape".to_string())?);
                    }
                    'u' => {
                        let u = take_hex(&mut it, 4)?;
                        let c = if (0xd800..0xdc00).contains(&u) {
                            let low = match (it.next(), it.next()) {
                                (Some((_, '\\')), Some((_, 'u'))) => take_hex(&mut it, 4)?,
                                _ => return Err("a `\\u` high surrogate is not followed by a `\\u` low surrogate".into()),
                            };
                            if !(0xdc00..0xe000).contains(&low) {
                                return Err(
                                    "a `\\u` high surrogate is not followed by a low surrogate"
                                        .into(),
                                );
                            }
                            char::from_u32(0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00))
                        } else {
                            char::from_u32(u)
                        };
                        let c =
                            c.ok_or_else(|| "a `\\u` escape is a lone surrogate".to_string())?;
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                    other => {
                        return Err(format!("`\\{other}` is not a known escape in a string"));
                    }
                }
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    Err("the string has no closing quote".into())
}

fn take_hex(it: &mut std::str::CharIndices<'_>, n: usize) -> std::result::Result<u32, String> {
    let mut v = 0u32;
    for _ in 0..n {
        let d = it
            .next()
            .and_then(|(_, c)| c.to_digit(16))
            .ok_or_else(|| format!("an escape in a string needs {n} hex digits"))?;
        v = v * 16 + d;
    }
    Ok(v)
}
