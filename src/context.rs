//! Account context: what `airgap-relay account G… --json` (or `--qr`) reported about an account,
//! carried to the offline signer as a file, a QR photo, an animated GIF or a directory of frames
//! (docs/formats.md). It fills in the transaction's source and sequence number, and gives the
//! review the account's signers, thresholds and flags, so changes to them are weighed against
//! what is there. Its age is known from `read_at`, the time the relay read the account.
use crate::account::{AccountId, AccountIdError};
use crate::build::{self, BuildError};
use crate::files::GuardedReadError;
use crate::frames::{FrameAssembler, FramesError};
use crate::network::Network;
use crate::plan::NumOrText;
use crate::qr::decode::QrDecodeError;
use crate::text::escape_bytes;
use crate::weights::{self, SignerSet, WeightsError};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A context older than this (seconds) is stale: the account may have changed since (a
/// transaction submitted, a signer added), and the sequence number may be taken. One hour.
pub const STALE_AFTER: u64 = 3600;

/// The most bytes one input of a context may hold (a photo of a QR code is a few megabytes).
pub const MAX_INPUT_LEN: u64 = 32 << 20;

/// The most files a frames directory may hold.
pub const MAX_FRAMES_FILES: usize = 4096;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContextError {
    #[error("cannot read the account context {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the account context {} cannot be trusted: {reason}", path.display())]
    Refused {
        path: PathBuf,
        reason: GuardedReadError,
    },
    #[error("{}: {source}", path.display())]
    Qr {
        path: PathBuf,
        source: QrDecodeError,
    },
    #[error("the account context's QR frames: {0}")]
    Frames(#[from] FramesError),
    #[error("the account context's QR frames are incomplete ({resolved} of {total} parts); carry or photograph the rest")]
    Incomplete { resolved: usize, total: usize },
    #[error("{} holds no account context (neither its JSON nor QR codes of it)", path.display())]
    Empty { path: PathBuf },
    #[error("the account context is not the JSON `airgap-relay account G… --json` writes: {0}")]
    Json(#[from] serde_json::Error),
    #[error("account_id: {0}")]
    Account(AccountIdError),
    #[error("{field}: \"{value}\" is not a sequence number")]
    Sequence { field: &'static str, value: String },
    #[error("flags: {0}")]
    Flags(BuildError),
    #[error("read_at: \"{0}\" is not a time")]
    ReadAt(String),
    #[error("signers: {0}")]
    Signers(WeightsError),
    #[error("the account context names no network")]
    NoNetwork,
    #[error("the account context was read on {found}, and this transaction is for {expected}")]
    NetworkMismatch { found: String, expected: String },
    #[error("the account context was read on a custom network, which the relay names only as \"custom network\", so it cannot be matched with --network")]
    CustomNetwork,
}

/// What the relay reported about an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountContext {
    pub account: AccountId,
    /// The network as the relay named it (`testnet`, `pubnet`, …), escaped.
    pub network: String,
    /// The network's passphrase, when the report gives it.
    pub network_passphrase: Option<String>,
    pub sequence: i64,
    /// The sequence number the next transaction must carry.
    pub next_sequence: i64,
    /// Signers (the master key among them) and thresholds.
    pub signers: SignerSet,
    /// Account flag bits (`auth_required` 1, `auth_revocable` 2, `auth_immutable` 4,
    /// `auth_clawback_enabled` 8).
    pub flags: u32,
    /// The home domain, escaped.
    pub home_domain: Option<String>,
    /// When the relay read the account (unix seconds), when the report says.
    pub read_at: Option<u64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawFlags {
    /// The relay's report: the names of the flags set.
    Names(Vec<String>),
    /// Horizon's account: an object of booleans.
    Object(crate::horizon::Flags),
}

#[derive(Deserialize)]
struct Raw {
    account_id: String,
    network: Option<String>,
    network_passphrase: Option<String>,
    sequence: NumOrText,
    next_sequence: Option<NumOrText>,
    flags: Option<RawFlags>,
    home_domain: Option<String>,
    read_at: Option<NumOrText>,
}

fn sequence(field: &'static str, v: &NumOrText) -> Result<i64, ContextError> {
    let text = v.text();
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or(ContextError::Sequence {
            field,
            value: escape_bytes(text.as_bytes()),
        })
}

/// Read the JSON of an account report.
pub fn parse(text: &str) -> Result<AccountContext, ContextError> {
    let raw: Raw = serde_json::from_str(text)?;
    let account: AccountId = raw.account_id.parse().map_err(ContextError::Account)?;
    let signers = weights::parse_signers(text).map_err(ContextError::Signers)?;
    let sequence_now = sequence("sequence", &raw.sequence)?;
    let next_sequence = match &raw.next_sequence {
        Some(n) => sequence("next_sequence", n)?,
        None => sequence_now.saturating_add(1),
    };
    let flags = match &raw.flags {
        None => 0,
        Some(RawFlags::Names(names)) => build::account_flags(names).map_err(ContextError::Flags)?,
        Some(RawFlags::Object(f)) => {
            build::account_flags(&f.names()).map_err(ContextError::Flags)?
        }
    };
    let read_at = match &raw.read_at {
        None => None,
        Some(t) => Some(
            build::parse_time(&t.text())
                .map_err(|_| ContextError::ReadAt(escape_bytes(t.text().as_bytes())))?,
        ),
    };
    Ok(AccountContext {
        account,
        network: escape_bytes(raw.network.unwrap_or_default().as_bytes()),
        network_passphrase: raw.network_passphrase,
        sequence: sequence_now,
        next_sequence,
        signers,
        flags,
        home_domain: raw.home_domain.map(|d| escape_bytes(d.as_bytes())),
        read_at,
    })
}

/// Where the pieces of a context are gathered: JSON text, or `ur:` frames.
#[derive(Default)]
struct Gather {
    json: Option<String>,
    frames: FrameAssembler,
    parts: usize,
}

impl Gather {
    fn text(&mut self, text: &str) -> Result<(), ContextError> {
        let t = text.trim();
        if t.starts_with('{') {
            self.json.get_or_insert_with(|| t.to_string());
            return Ok(());
        }
        for line in t.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if line.len() > 3 && line.as_bytes()[..3].eq_ignore_ascii_case(b"ur:") {
                self.frames.feed(line)?;
                self.parts += 1;
            }
        }
        Ok(())
    }

    fn bytes(&mut self, path: &Path, bytes: &[u8]) -> Result<(), ContextError> {
        if crate::carry::is_image(bytes) {
            let payloads =
                crate::qr::decode::decode_animation(bytes).map_err(|source| ContextError::Qr {
                    path: path.to_path_buf(),
                    source,
                })?;
            for p in payloads {
                self.text(&String::from_utf8_lossy(&p))?;
            }
            Ok(())
        } else {
            self.text(&String::from_utf8_lossy(bytes))
        }
    }

    fn finish(self, path: &Path) -> Result<AccountContext, ContextError> {
        if let Some(json) = self.json {
            return parse(&json);
        }
        if self.parts == 0 {
            return Err(ContextError::Empty {
                path: path.to_path_buf(),
            });
        }
        let p = self.frames.progress();
        let bytes = self.frames.finish().ok_or(ContextError::Incomplete {
            resolved: p.fragments_resolved,
            total: p.parts_needed,
        })?;
        parse(&String::from_utf8_lossy(&bytes))
    }
}

/// An account context from the bytes of one input: its JSON, or an image (PNG, JPEG, GIF) of its
/// QR code or frames, or text of `ur:` parts, one a line.
pub fn from_bytes(bytes: &[u8]) -> Result<AccountContext, ContextError> {
    let mut gather = Gather::default();
    let path = Path::new("the input");
    gather.bytes(path, bytes)?;
    gather.finish(path)
}

fn read(path: &Path) -> Result<Vec<u8>, ContextError> {
    crate::files::read_guarded_bytes(path, MAX_INPUT_LEN).map_err(|e| match e {
        GuardedReadError::Io(source) => ContextError::Read {
            path: path.to_path_buf(),
            source,
        },
        reason => ContextError::Refused {
            path: path.to_path_buf(),
            reason,
        },
    })
}

/// Read an account context from `path`: the JSON `airgap-relay account --json` printed, a photo
/// (PNG, JPEG) of the QR code `--qr` wrote, an animated GIF of its frames, or a directory of
/// frames (`--qr` writes one when the report does not fit one code: `frame-NNN.png` and
/// `parts.txt`; photos of the frames work as well). Every file must be one no other user could
/// have written ([`crate::files::read_guarded_bytes`]).
pub fn load(path: &Path) -> Result<AccountContext, ContextError> {
    let mut gather = Gather::default();
    let io = |source| ContextError::Read {
        path: path.to_path_buf(),
        source,
    };
    if std::fs::metadata(path).map_err(io)?.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(io)?
            .filter_map(Result::ok)
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        files.truncate(MAX_FRAMES_FILES);
        for f in files {
            let bytes = read(&f)?;
            gather.bytes(&f, &bytes)?;
            if gather.json.is_some() || gather.frames.progress().complete {
                break;
            }
        }
    } else {
        let bytes = read(path)?;
        gather.bytes(path, &bytes)?;
    }
    gather.finish(path)
}

impl AccountContext {
    /// Refuse a context read on another network than the transaction's.
    pub fn check_network(&self, network: &Network) -> Result<(), ContextError> {
        if let Some(p) = &self.network_passphrase {
            return if p == network.passphrase() {
                Ok(())
            } else {
                Err(ContextError::NetworkMismatch {
                    found: match Network::from_passphrase(p) {
                        Network::Custom(_) => {
                            format!("the network \"{}\"", escape_bytes(p.as_bytes()))
                        }
                        known => known.name().to_string(),
                    },
                    expected: network_words(network),
                })
            };
        }
        match self.network.as_str() {
            "" => Err(ContextError::NoNetwork),
            "custom network" => Err(ContextError::CustomNetwork),
            name => match name.parse::<Network>() {
                Ok(n) if n == *network => Ok(()),
                _ => Err(ContextError::NetworkMismatch {
                    found: name.to_string(),
                    expected: network_words(network),
                }),
            },
        }
    }

    /// Seconds since the relay read the account (`None` when the report does not say).
    pub fn age(&self, now: u64) -> Option<u64> {
        self.read_at.map(|t| now.saturating_sub(t))
    }

    /// Whether the context is older than [`STALE_AFTER`], or of unknown age.
    pub fn is_stale(&self, now: u64) -> bool {
        self.age(now).is_none_or(|a| a > STALE_AFTER)
    }

    /// The context for the operator: account, age, sequence, flags, thresholds and signers.
    pub fn to_text(&self, now: u64) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let age = match (self.read_at, self.age(now)) {
            (Some(t), Some(a)) => format!(
                "read {} ({} ago)",
                crate::review::time_words(t),
                crate::review::duration_words(a)
            ),
            _ => "read at an unknown time".to_string(),
        };
        let _ = writeln!(
            s,
            "Account context: {} on {}, {age}",
            self.account, self.network
        );
        let _ = writeln!(
            s,
            "  sequence {} (the next transaction's: {})",
            self.sequence, self.next_sequence
        );
        let flags = crate::build::flag_names(self.flags, &crate::build::ACCOUNT_FLAGS);
        let _ = writeln!(
            s,
            "  flags {}",
            if flags.is_empty() {
                "none".to_string()
            } else {
                flags.join(", ")
            }
        );
        let t = &self.signers.thresholds;
        let _ = writeln!(
            s,
            "  thresholds low {}, medium {}, high {}",
            t.low, t.medium, t.high
        );
        for (k, w) in &self.signers.signers {
            let master = if *k == self.account {
                " (master key)"
            } else {
                ""
            };
            let _ = writeln!(s, "  signer {k} weight {w}{master}");
        }
        for (k, w) in &self.signers.other_signers {
            let _ = writeln!(s, "  signer {k} weight {w}");
        }
        if !self.signers.signers.iter().any(|(k, _)| *k == self.account) {
            let _ = writeln!(s, "  the master key has weight 0");
        }
        s
    }
}

fn network_words(n: &Network) -> String {
    match n {
        Network::Custom(p) => format!("the network \"{}\"", escape_bytes(p.as_bytes())),
        other => other.name().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"{"account_id":"GDJBPTCG4YVAIVCENBJV77PA7ZVK6KLBYY56MG7BUR4IR77MPQBKOQ46","network":"testnet","sequence":"41","next_sequence":"42","thresholds":{"low_threshold":1,"med_threshold":2,"high_threshold":2},"signers":[{"key":"GDJBPTCG4YVAIVCENBJV77PA7ZVK6KLBYY56MG7BUR4IR77MPQBKOQ46","weight":1,"type":"ed25519_public_key"}],"flags":["auth_required","auth_revocable"],"home_domain":"x.example","subentry_count":0,"balances":[],"read_at":"2026-01-01T00:00:00Z"}"#;

    #[test]
    fn reads_the_relays_report() {
        let c = parse(REPORT).expect("parses");
        assert_eq!(c.next_sequence, 42);
        assert_eq!(c.flags, 3);
        assert_eq!(c.read_at, Some(1_767_225_600));
        assert!(c.check_network(&Network::Testnet).is_ok());
        assert!(matches!(
            c.check_network(&Network::Pubnet),
            Err(ContextError::NetworkMismatch { .. })
        ));
        assert!(!c.is_stale(1_767_225_600 + 3600));
        assert!(c.is_stale(1_767_225_600 + 3601));
        let old = REPORT.replace(r#","read_at":"2026-01-01T00:00:00Z""#, "");
        assert!(parse(&old).unwrap().is_stale(0), "unknown age is stale");
    }

    #[test]
    fn a_custom_network_is_matched_by_its_passphrase() {
        let named = REPORT.replace(r#""network":"testnet""#, r#""network":"custom network""#);
        assert!(matches!(
            parse(&named)
                .unwrap()
                .check_network(&Network::Custom("Ours ; 2026".into())),
            Err(ContextError::CustomNetwork)
        ));
        let with_passphrase = named.replace(
            r#""sequence""#,
            r#""network_passphrase":"Ours ; 2026","sequence""#,
        );
        let c = parse(&with_passphrase).unwrap();
        assert!(c
            .check_network(&Network::Custom("Ours ; 2026".into()))
            .is_ok());
        assert!(matches!(
            c.check_network(&Network::Custom("Theirs ; 2026".into())),
            Err(ContextError::NetworkMismatch { .. })
        ));
        assert!(matches!(
            c.check_network(&Network::Testnet),
            Err(ContextError::NetworkMismatch { .. })
        ));
    }
}
