//! Assets: `native` or `CODE:ISSUER`, and the XDR forms each operation wants.
use crate::account::{AccountId, AccountIdError};
use std::fmt;
use std::str::FromStr;
use stellar_xdr::{AlphaNum12, AlphaNum4, AssetCode12, AssetCode4};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssetError {
    #[error("\"{0}\" is not an asset code: codes are 1 to 12 letters or digits (A–Z, a–z, 0–9)")]
    BadCode(String),
    #[error("\"{0}\" is not an asset; write native, or CODE:ISSUER (for example USD:G…)")]
    BadForm(String),
    #[error("the issuer of \"{code}\" is not valid: {source}")]
    BadIssuer {
        code: String,
        source: AccountIdError,
    },
    #[error("this operation needs an issued asset (CODE:ISSUER), not the native asset")]
    NativeNotAllowed,
}

/// An asset code: 1–12 ASCII letters or digits.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct AssetCode(String);

impl AssetCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `AssetCode` as `allow_trust` wants it: 4-byte for codes of 1–4 characters, else 12-byte.
    pub fn to_xdr(&self) -> stellar_xdr::AssetCode {
        if self.0.len() <= 4 {
            stellar_xdr::AssetCode::CreditAlphanum4(AssetCode4(pad(&self.0)))
        } else {
            stellar_xdr::AssetCode::CreditAlphanum12(AssetCode12(pad(&self.0)))
        }
    }

    /// Read a code out of XDR bytes (trailing NULs are padding). Odd bytes are kept visible,
    /// escaped, so a review never hides them.
    pub fn from_xdr_bytes(bytes: &[u8]) -> String {
        let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        crate::review::escape_bytes(&bytes[..end])
    }
}

fn pad<const N: usize>(code: &str) -> [u8; N] {
    let mut out = [0u8; N];
    out[..code.len()].copy_from_slice(code.as_bytes());
    out
}

impl FromStr for AssetCode {
    type Err = AssetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || s.len() > 12 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(AssetError::BadCode(s.to_string()));
        }
        Ok(AssetCode(s.to_string()))
    }
}

impl fmt::Display for AssetCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An asset: the native lumen, or a code issued by an account.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Asset {
    Native,
    Credit { code: AssetCode, issuer: AccountId },
}

impl Asset {
    pub fn to_xdr(&self) -> stellar_xdr::Asset {
        match self {
            Asset::Native => stellar_xdr::Asset::Native,
            Asset::Credit { code, issuer } => match code.to_xdr() {
                stellar_xdr::AssetCode::CreditAlphanum4(c) => {
                    stellar_xdr::Asset::CreditAlphanum4(AlphaNum4 {
                        asset_code: c,
                        issuer: issuer.to_xdr(),
                    })
                }
                stellar_xdr::AssetCode::CreditAlphanum12(c) => {
                    stellar_xdr::Asset::CreditAlphanum12(AlphaNum12 {
                        asset_code: c,
                        issuer: issuer.to_xdr(),
                    })
                }
            },
        }
    }

    pub fn to_change_trust(&self) -> stellar_xdr::ChangeTrustAsset {
        match self.to_xdr() {
            stellar_xdr::Asset::Native => stellar_xdr::ChangeTrustAsset::Native,
            stellar_xdr::Asset::CreditAlphanum4(a) => {
                stellar_xdr::ChangeTrustAsset::CreditAlphanum4(a)
            }
            stellar_xdr::Asset::CreditAlphanum12(a) => {
                stellar_xdr::ChangeTrustAsset::CreditAlphanum12(a)
            }
        }
    }

    /// The issued asset, or an error for native (trustlines, clawback and flags need an issuer).
    pub fn require_credit(self) -> Result<Asset, AssetError> {
        match self {
            Asset::Native => Err(AssetError::NativeNotAllowed),
            credit => Ok(credit),
        }
    }

    /// Read an XDR asset back for display.
    pub fn from_xdr(asset: &stellar_xdr::Asset) -> AssetView {
        match asset {
            stellar_xdr::Asset::Native => AssetView {
                code: "XLM".into(),
                issuer: None,
            },
            stellar_xdr::Asset::CreditAlphanum4(a) => AssetView {
                code: AssetCode::from_xdr_bytes(&a.asset_code.0),
                issuer: Some(AccountId::from_xdr(&a.issuer)),
            },
            stellar_xdr::Asset::CreditAlphanum12(a) => AssetView {
                code: AssetCode::from_xdr_bytes(&a.asset_code.0),
                issuer: Some(AccountId::from_xdr(&a.issuer)),
            },
        }
    }
}

/// An asset as read from an envelope, for display: the code (escaped) and the issuer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetView {
    pub code: String,
    pub issuer: Option<AccountId>,
}

impl fmt::Display for AssetView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.issuer {
            None => f.write_str("XLM (native)"),
            Some(i) => write!(f, "{}:{}", self.code, i),
        }
    }
}

impl FromStr for Asset {
    type Err = AssetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("native") {
            return Ok(Asset::Native);
        }
        let Some((code, issuer)) = s.split_once(':') else {
            return Err(AssetError::BadForm(s.to_string()));
        };
        let code: AssetCode = code.parse()?;
        let issuer = issuer.parse().map_err(|source| AssetError::BadIssuer {
            code: code.to_string(),
            source,
        })?;
        Ok(Asset::Credit { code, issuer })
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Asset::Native => f.write_str("native"),
            Asset::Credit { code, issuer } => write!(f, "{code}:{issuer}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const G: &str = "GBZXN7PIRZGNMHGA7MUUUF4GWPY5AYPV6LY4UV2GL6VJGIQRXFDNMADI";

    #[test]
    fn parse() {
        assert_eq!("native".parse::<Asset>().unwrap(), Asset::Native);
        let a: Asset = format!("USD:{G}").parse().unwrap();
        assert_eq!(a.to_string(), format!("USD:{G}"));
        assert!(matches!(a.to_xdr(), stellar_xdr::Asset::CreditAlphanum4(_)));
        let b: Asset = format!("LONGCODE:{G}").parse().unwrap();
        assert!(matches!(
            b.to_xdr(),
            stellar_xdr::Asset::CreditAlphanum12(_)
        ));
        assert!(matches!(
            format!("ABCDEFGHIJKLMN:{G}").parse::<Asset>(),
            Err(AssetError::BadCode(_))
        ));
        assert!(matches!(
            "USD".parse::<Asset>(),
            Err(AssetError::BadForm(_))
        ));
        assert!(matches!(
            "US D:G".parse::<Asset>(),
            Err(AssetError::BadCode(_))
        ));
    }
}
