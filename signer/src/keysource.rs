//! Key sources: where the secrets that sign come from. Secrets are never accepted as a plain
//! command-line value; they come from a hidden prompt, an environment variable, a private file,
//! an encrypted keystore, or a mnemonic typed at a prompt.
//!
//! Two steps, so that every check that needs no secret runs before anyone is asked for one:
//! [`plan`] parses each `--key`, reads the environment variables and files that hold keys, and
//! reads each keystore's public key and bound policy in the clear (no passphrase); [`Planned::open`]
//! then asks for what is left (passphrases, typed secrets), after the review, the policy and the
//! question.
use crate::cli::KeyArgs;
use crate::failure::Failure;
use airgap::account::AccountId;
use airgap::keys::keystore::{self, KeystoreInfo};
use airgap::keys::source::{KeySource, SourceKind};
use airgap::keys::{self, SecretSeed};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// A key ready to sign, with where it came from (never the secret itself).
pub struct Key {
    pub seed: SecretSeed,
    pub origin: String,
}

/// A keystore read and inspected, not yet opened.
pub struct Keystore {
    pub path: PathBuf,
    text: Zeroizing<Vec<u8>>,
    pub info: KeystoreInfo,
    /// Its own passphrase variable (`keystore:PATH?passphrase-env=VAR`).
    passphrase_env: Option<String>,
}

/// A `--key` before any question is asked.
pub enum Planned {
    /// Read already: an environment variable or a private file.
    Ready(Key),
    /// A keystore: its public key is known, its passphrase still to come.
    Keystore(Keystore, String),
    /// A secret or mnemonic to be typed.
    Prompt(KeySource, String),
}

impl Planned {
    /// The public key, when known before any question.
    pub fn public_key(&self) -> Option<AccountId> {
        match self {
            Planned::Ready(k) => Some(k.seed.public_key()),
            Planned::Keystore(ks, _) => ks.info.public_key.parse().ok(),
            Planned::Prompt(..) => None,
        }
    }

    /// Where the key comes from, for "Will sign with".
    pub fn origin(&self) -> String {
        match self {
            Planned::Ready(k) => k.origin.clone(),
            Planned::Keystore(_, origin) => origin.clone(),
            Planned::Prompt(_, origin) => origin.clone(),
        }
    }

    /// The keystore, for a keystore key.
    pub fn keystore(&self) -> Option<&Keystore> {
        match self {
            Planned::Keystore(ks, _) => Some(ks),
            _ => None,
        }
    }

    /// Ask what is left to ask (a passphrase, a typed secret) and return the key.
    pub fn open(self, args: &KeyArgs, n: usize, count: usize) -> Result<Key, Failure> {
        match self {
            Planned::Ready(k) => Ok(k),
            Planned::Keystore(ks, origin) => Ok(Key {
                seed: open_keystore(&ks, args)?,
                origin,
            }),
            Planned::Prompt(source, origin) => {
                let which = which(n, count);
                let prompt = match source {
                    KeySource::Mnemonic => {
                        format!("SEP-5 mnemonic (12 or 24 words) for key{which}: ")
                    }
                    _ => format!("Secret key (S…) or SEP-5 mnemonic for key{which}: "),
                };
                let what = match source {
                    KeySource::Mnemonic => "the mnemonic typed",
                    _ => "the secret typed",
                };
                Ok(Key {
                    seed: from_text(&prompt_hidden(&prompt)?, args.account_index, what)?,
                    origin,
                })
            }
        }
    }
}

/// Whether this process can ask a person anything (a controlling terminal exists).
pub fn have_terminal() -> bool {
    std::io::stdin().is_terminal() || std::fs::File::open("/dev/tty").is_ok()
}

/// Every `--key` parsed and read as far as it can be without a question. With no `--key` and no
/// `--unsigned`: on a terminal, one key to be typed; otherwise refuse, since nothing could sign.
pub fn plan(args: &KeyArgs) -> Result<Vec<Planned>, Failure> {
    if args.unsigned {
        return Ok(Vec::new());
    }
    let count = args.keys.len();
    let sources: Vec<KeySource> = if args.keys.is_empty() {
        if !have_terminal() {
            return Err(Failure::new("no key to sign with was given, and there is no terminal to ask for one")
                .remedy("pass --key env:VAR, --key file:PATH or --key keystore:PATH, or --unsigned to build without signing"));
        }
        vec![KeySource::Prompt]
    } else {
        args.keys
            .iter()
            .enumerate()
            .map(|(i, text)| parse_source(text, i + 1, count))
            .collect::<Result<_, _>>()?
    };
    sources.into_iter().map(|s| plan_one(s, args)).collect()
}

/// Open every planned key in order.
pub fn open_all(planned: Vec<Planned>, args: &KeyArgs) -> Result<Vec<Key>, Failure> {
    let count = planned.len();
    planned
        .into_iter()
        .enumerate()
        .map(|(i, p)| p.open(args, i + 1, count))
        .collect()
}

/// ` 2 of 3` when there are several keys.
fn which(n: usize, count: usize) -> String {
    if count > 1 {
        format!(" {n} of {count}")
    } else {
        String::new()
    }
}

/// Parse one `--key`. What was written is never repeated: it may be a pasted secret.
fn parse_source(text: &str, n: usize, count: usize) -> Result<KeySource, Failure> {
    KeySource::parse(text, SourceKind::ALL).map_err(|e| {
        let history = if e.held_a_secret() {
            "; the secret is now in your shell's history: delete it there"
        } else {
            ""
        };
        Failure::new(format!("--key{}: {e}", which(n, count))).remedy(format!(
            "name where the secret is (env:VAR, file:PATH or keystore:PATH), or type it at a prompt{history}"
        ))
    })
}

fn plan_one(source: KeySource, args: &KeyArgs) -> Result<Planned, Failure> {
    let origin = source.to_string();
    let text = |text: Zeroizing<String>, from: &str| from_text(&text, args.account_index, from);
    Ok(match source {
        KeySource::Prompt | KeySource::Mnemonic => Planned::Prompt(source, origin),
        KeySource::Env { var } => Planned::Ready(Key {
            seed: text(
                keys::source::read_env(&var).map_err(source_failure)?,
                &format!("the environment variable {var}"),
            )?,
            origin,
        }),
        KeySource::File { path } => Planned::Ready(Key {
            seed: text(
                read_private_file(&path)?,
                &format!("the file {}", path.display()),
            )?,
            origin,
        }),
        KeySource::Keystore {
            path,
            passphrase_env,
        } => Planned::Keystore(inspect_keystore(&path, passphrase_env)?, origin),
    })
}

fn from_text(text: &str, account_index: u32, origin: &str) -> Result<SecretSeed, Failure> {
    keys::seed_from_text(text, account_index)
        .map_err(|e| Failure::new(format!("{origin} holds no usable key: {e}")))
}

fn prompt_hidden(prompt: &str) -> Result<Zeroizing<String>, Failure> {
    if !have_terminal() {
        return Err(
            Failure::new("a key prompt needs a terminal, and there is none").remedy(
                "use --key env:VAR, --key file:PATH or --key keystore:PATH with --passphrase-env",
            ),
        );
    }
    rpassword::prompt_password(prompt)
        .map(Zeroizing::new)
        .map_err(|e| Failure::new(format!("could not read from the terminal: {e}")))
}

/// A secret read through `airgap::keys::source`, with the remedy for each way it can fail.
fn source_failure(e: keys::source::SourceError) -> Failure {
    use keys::source::SourceError;
    let f = Failure::new(e.to_string());
    match e {
        SourceError::Exposed { path, .. } => f.remedy(format!(
            "run `chmod 600 {}` if only you could have read it; otherwise treat the key as compromised",
            path.display()
        )),
        SourceError::MissingEnv(var) => {
            f.remedy(format!("export {var} before running, or use another --key source"))
        }
        _ => f,
    }
}

fn read_private_file(path: &Path) -> Result<Zeroizing<String>, Failure> {
    keys::source::read_private_text(path).map_err(source_failure)
}

/// A passphrase: from the environment variable `var`, else a hidden prompt.
pub fn passphrase(var: Option<&str>, prompt: &str) -> Result<Zeroizing<String>, Failure> {
    match var {
        Some(var) => keys::source::read_env(var).map_err(source_failure),
        None => prompt_hidden(prompt),
    }
}

/// Read a keystore (only its owner may read it) and what it says in the clear: its public key,
/// KDF parameters and bound policy. Warns when its KDF parameters are below today's defaults.
pub fn inspect_keystore(path: &Path, passphrase_env: Option<String>) -> Result<Keystore, Failure> {
    let text = keys::source::read_private_bytes(path).map_err(source_failure)?;
    let info = keystore::inspect(&text)
        .map_err(|e| Failure::new(format!("cannot use the keystore {}: {e}", path.display())))?;
    let kdf = info.kdf;
    if kdf.below_default() {
        let d = keystore::KdfParams::default();
        eprintln!(
            "!  warning: the keystore {} is sealed with scrypt log_n {}, r {}, p {} ({} MiB), below today's log_n {}, r {}, p {} ({} MiB): a guessed passphrase costs less to try. Seal it again with `airgap-signer policy bind --keystore {}`.",
            path.display(),
            kdf.log_n(),
            kdf.r(),
            kdf.p(),
            kdf.memory_bytes() >> 20,
            d.log_n(),
            d.r(),
            d.p(),
            d.memory_bytes() >> 20,
            path.display()
        );
    }
    Ok(Keystore {
        path: path.to_path_buf(),
        text,
        info,
        passphrase_env,
    })
}

/// Open a keystore with its passphrase (its own variable, else `--passphrase-env`, else a
/// prompt). The keystore's authenticated data holds its public key and bound policy, so what
/// [`inspect_keystore`] read in the clear is what opens.
fn open_keystore(ks: &Keystore, args: &KeyArgs) -> Result<SecretSeed, Failure> {
    let pass = ks.passphrase(args.passphrase_env.as_deref())?;
    Ok(SecretSeed::from_bytes(ks.open_with(&pass)?))
}

impl Keystore {
    /// The keystore's passphrase: its own variable, else `fallback_env`, else a prompt.
    pub fn passphrase(&self, fallback_env: Option<&str>) -> Result<Zeroizing<String>, Failure> {
        passphrase(
            self.passphrase_env.as_deref().or(fallback_env),
            &format!("Passphrase for keystore {}: ", self.path.display()),
        )
    }

    /// The seed, opened with `pass`; the header it authenticates is the one read in the clear.
    pub fn open_with(&self, pass: &str) -> Result<Zeroizing<[u8; 32]>, Failure> {
        let (seed, info) = keystore::open(&self.text, pass.as_bytes()).map_err(|e| {
            Failure::new(format!(
                "cannot open the keystore {}: {e}",
                self.path.display()
            ))
        })?;
        if info != self.info {
            return Err(Failure::new(format!(
                "the keystore {} changed while it was in use",
                self.path.display()
            )));
        }
        Ok(seed)
    }
}
