//! Account IDs (`G…` strkeys): the one place strkeys of accounts are checked.
use std::fmt;
use std::str::FromStr;
use stellar_xdr::{MuxedAccount, PublicKey, Uint256};

/// An ed25519 account ID.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(pub [u8; 32]);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccountIdError {
    #[error("\"{0}\" is a secret key, not an account ID; never type a secret where an account is asked for")]
    SecretKey(String),
    #[error("\"{0}\" is a muxed account (M…); use the underlying G… account")]
    Muxed(String),
    #[error("\"{0}\" is not a valid account ID: it must be 56 characters starting with G, and its checksum must match (check for a typo)")]
    Invalid(String),
}

impl AccountId {
    /// The last four bytes of the key: the hint stored next to each signature.
    pub fn hint(&self) -> [u8; 4] {
        [self.0[28], self.0[29], self.0[30], self.0[31]]
    }

    pub fn to_xdr(&self) -> stellar_xdr::AccountId {
        stellar_xdr::AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(self.0)))
    }

    pub fn to_muxed(&self) -> MuxedAccount {
        MuxedAccount::Ed25519(Uint256(self.0))
    }

    pub fn from_xdr(id: &stellar_xdr::AccountId) -> AccountId {
        let stellar_xdr::AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(bytes))) = id;
        AccountId(*bytes)
    }

    /// The ed25519 key behind a muxed account (the mux ID is not part of who signs).
    pub fn from_muxed(m: &MuxedAccount) -> AccountId {
        match m {
            MuxedAccount::Ed25519(Uint256(b)) => AccountId(*b),
            MuxedAccount::MuxedEd25519(m) => AccountId(m.ed25519.0),
        }
    }

    /// A short form for tables: `GABC…WXYZ`. Never used where the operator must compare keys.
    pub fn short(&self) -> String {
        let s = self.to_string();
        format!("{}…{}", &s[..4], &s[52..])
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", stellar_strkey::ed25519::PublicKey(self.0))
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({self})")
    }
}

/// A payment's destination: an account (`G…`), or a muxed account (`M…`: the account and a
/// 64-bit ID that the receiver uses to tell its customers apart, SEP-23).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Destination {
    pub account: AccountId,
    pub id: Option<u64>,
}

impl Destination {
    pub fn to_muxed(&self) -> MuxedAccount {
        match self.id {
            None => self.account.to_muxed(),
            Some(id) => MuxedAccount::MuxedEd25519(stellar_xdr::MuxedAccountMed25519 {
                id,
                ed25519: Uint256(self.account.0),
            }),
        }
    }
}

impl FromStr for Destination {
    type Err = AccountIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.starts_with('M') {
            return match stellar_strkey::ed25519::MuxedAccount::from_string(t) {
                Ok(m) => Ok(Destination {
                    account: AccountId(m.ed25519),
                    id: Some(m.id),
                }),
                Err(_) => Err(AccountIdError::Invalid(t.to_string())),
            };
        }
        Ok(Destination {
            account: t.parse()?,
            id: None,
        })
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.id {
            None => self.account.fmt(f),
            Some(id) => write!(
                f,
                "{}",
                stellar_strkey::ed25519::MuxedAccount {
                    ed25519: self.account.0,
                    id
                }
                .to_string()
            ),
        }
    }
}

/// Whether `text` holds the shape of an `S…` secret key (56 characters of the strkey alphabet in a
/// row, the first an `S`), however it is wrapped (“quotes”, blanks, other text): such text is
/// never echoed in an error.
pub fn looks_like_secret(text: &str) -> bool {
    let strkey = |c: &u8| c.is_ascii_uppercase() || (b'2'..=b'7').contains(c);
    text.as_bytes()
        .windows(56)
        .any(|w| w[0] == b'S' && w.iter().all(strkey))
}

impl FromStr for AccountId {
    type Err = AccountIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match stellar_strkey::ed25519::PublicKey::from_string(s) {
            Ok(pk) => Ok(AccountId(pk.0)),
            // Never echo something that may be a secret key.
            Err(_) if s.starts_with('S') || looks_like_secret(s) => {
                Err(AccountIdError::SecretKey("S…".into()))
            }
            Err(_) if s.starts_with('M') => Err(AccountIdError::Muxed(s.to_string())),
            Err(_) => Err(AccountIdError::Invalid(s.to_string())),
        }
    }
}

impl serde::Serialize for AccountId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations() {
        let g = "GBZXN7PIRZGNMHGA7MUUUF4GWPY5AYPV6LY4UV2GL6VJGIQRXFDNMADI";
        let d: Destination = g.parse().unwrap();
        assert_eq!((d.id, d.to_string()), (None, g.to_string()));
        // SEP-23's G… account with ID 2^53 + 1 (the strkey from the Python SDK).
        let m = "MA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUABAAAAAAAAAAFCDM";
        let d: Destination = m.parse().unwrap();
        assert_eq!(d.id, Some(9_007_199_254_740_993));
        assert_eq!(
            d.account.to_string(),
            "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZ"
        );
        assert_eq!(d.to_string(), m);
        assert!(
            "MA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUABAAAAAAAAAAFCDN"
                .parse::<Destination>()
                .is_err()
        );
    }

    #[test]
    fn parse() {
        let g = "GBZXN7PIRZGNMHGA7MUUUF4GWPY5AYPV6LY4UV2GL6VJGIQRXFDNMADI";
        let id: AccountId = g.parse().unwrap();
        assert_eq!(id.to_string(), g);
        let typo = "GBZXN7PIRZGNMHGA7MUUUF4GWPY5AYPV6LY4UV2GL6VJGIQRXFDNMADJ";
        assert!(matches!(
            typo.parse::<AccountId>(),
            Err(AccountIdError::Invalid(_))
        ));
        let secret = "SBGWSG6BTNCKCOB3DIFBGCVMUPQFYPA2G4O34RMTB343OYPXU5DJDVMN";
        for text in [
            secret.to_string(),
            format!("“{secret}”"),
            format!(" '{secret}'"),
        ] {
            let err = text.parse::<AccountId>().unwrap_err();
            assert!(
                matches!(err, AccountIdError::SecretKey(_))
                    && !err.to_string().contains(&secret[1..5]),
                "never echo a secret: {err}"
            );
        }
    }
}
