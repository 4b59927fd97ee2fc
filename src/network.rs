//! Stellar networks: a name for people, a passphrase for signatures.
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// The passphrase of the public network.
pub const PUBNET: &str = "Public Global Stellar Network ; September 2015";
/// The passphrase of the SDF test network.
pub const TESTNET: &str = "Test SDF Network ; September 2015";
/// The passphrase of the SDF future network.
pub const FUTURENET: &str = "Test SDF Future Network ; October 2022";
/// The passphrase of a standalone network (stellar-core's default, and our sandbox's).
pub const STANDALONE: &str = "Standalone Network ; February 2017";

/// The names `--network` accepts, for error messages.
pub const NAMES: &str =
    "testnet, pubnet, futurenet, standalone, or a full network passphrase in quotes";

/// A network the transaction is signed for. Signatures cover the passphrase, so a blob signed for
/// one network is worthless on another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Network {
    Pubnet,
    Testnet,
    Futurenet,
    Standalone,
    /// Any other network, by its passphrase.
    Custom(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetworkError {
    #[error("\"{0}\" is not a network this tool knows; use {NAMES}")]
    Unknown(String),
    #[error("no network was given; use {NAMES}")]
    Missing,
    #[error("the network passphrase \"{0}\" holds a character that cannot be shown ({1}); a passphrase must be printable")]
    Unprintable(String, String),
}

impl Network {
    /// The network whose passphrase this is; an unknown passphrase is a custom network.
    pub fn from_passphrase(passphrase: &str) -> Network {
        match passphrase {
            PUBNET => Network::Pubnet,
            TESTNET => Network::Testnet,
            FUTURENET => Network::Futurenet,
            STANDALONE => Network::Standalone,
            other => Network::Custom(other.to_string()),
        }
    }

    pub fn passphrase(&self) -> &str {
        match self {
            Network::Pubnet => PUBNET,
            Network::Testnet => TESTNET,
            Network::Futurenet => FUTURENET,
            Network::Standalone => STANDALONE,
            Network::Custom(p) => p,
        }
    }

    /// A short name for people: `pubnet`, `testnet`, … or `custom network`.
    pub fn name(&self) -> &str {
        match self {
            Network::Pubnet => "pubnet",
            Network::Testnet => "testnet",
            Network::Futurenet => "futurenet",
            Network::Standalone => "standalone",
            Network::Custom(_) => "custom network",
        }
    }

    /// The network ID: SHA-256 of the passphrase (for the named networks, hashed once per
    /// process: every transaction hash starts with it).
    pub fn id(&self) -> [u8; 32] {
        use std::sync::OnceLock;
        static IDS: [OnceLock<[u8; 32]>; 4] = [const { OnceLock::new() }; 4];
        let slot = match self {
            Network::Pubnet => &IDS[0],
            Network::Testnet => &IDS[1],
            Network::Futurenet => &IDS[2],
            Network::Standalone => &IDS[3],
            Network::Custom(p) => return Sha256::digest(p.as_bytes()).into(),
        };
        *slot.get_or_init(|| Sha256::digest(self.passphrase().as_bytes()).into())
    }

    pub fn is_pubnet(&self) -> bool {
        matches!(self, Network::Pubnet)
    }
}

impl fmt::Display for Network {
    /// `testnet ("Test SDF Network ; September 2015")`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (\"{}\")", self.name(), self.passphrase())
    }
}

impl FromStr for Network {
    type Err = NetworkError;

    /// A name (`testnet`, `pubnet`/`public`/`mainnet`, `futurenet`, `standalone`/`local`) or a passphrase.
    /// A single unknown word is refused rather than taken as a passphrase: it is far more likely a
    /// typo than a network, and a typo here makes signatures that no network accepts.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s.to_ascii_lowercase().as_str() {
            "" => Err(NetworkError::Missing),
            "pubnet" | "public" | "mainnet" => Ok(Network::Pubnet),
            "testnet" => Ok(Network::Testnet),
            "futurenet" => Ok(Network::Futurenet),
            "standalone" | "local" => Ok(Network::Standalone),
            _ if s.contains(' ') => match crate::text::unprintable(s) {
                // Escape sequences or direction overrides in a passphrase could rewrite what the
                // review shows; a real network's passphrase never holds one.
                Some(c) => Err(NetworkError::Unprintable(
                    crate::text::escape_bytes(s.as_bytes()),
                    format!("U+{:04X}", u32::from(c)),
                )),
                None => Ok(Network::from_passphrase(s)),
            },
            _ => Err(NetworkError::Unknown(crate::text::escape_bytes(
                s.as_bytes(),
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_passphrases() {
        assert_eq!("testnet".parse::<Network>().unwrap(), Network::Testnet);
        assert_eq!("PUBNET".parse::<Network>().unwrap(), Network::Pubnet);
        assert_eq!(TESTNET.parse::<Network>().unwrap(), Network::Testnet);
        assert_eq!(
            "My Net ; 2024".parse::<Network>().unwrap(),
            Network::Custom("My Net ; 2024".into())
        );
        assert!(matches!(
            "testnte".parse::<Network>(),
            Err(NetworkError::Unknown(_))
        ));
        assert_eq!("".parse::<Network>(), Err(NetworkError::Missing));
        for hostile in ["Net \u{1b}[2J ; 1", "Net \u{202e} ; 1", "Net \0 ; 1"] {
            assert!(matches!(
                hostile.parse::<Network>(),
                Err(NetworkError::Unprintable(..))
            ));
        }
    }

    #[test]
    fn network_ids() {
        assert_eq!(
            hex::encode(Network::Testnet.id()),
            "cee0302d59844d32bdca915c8203dd44b33fbb7edc19051ea37abedf28ecd472"
        );
        assert_eq!(
            hex::encode(Network::Pubnet.id()),
            "7ac33997544e3175d266bd022439b22cdb16508c01163f26e5cb2a3e1045a979"
        );
        for n in [
            Network::Pubnet,
            Network::Testnet,
            Network::Futurenet,
            Network::Standalone,
            Network::Custom("My Net ; 2024".into()),
        ] {
            let expected: [u8; 32] = Sha256::digest(n.passphrase().as_bytes()).into();
            assert_eq!(n.id(), expected);
            assert_eq!(n.id(), expected, "the second, remembered, time");
        }
    }
}
