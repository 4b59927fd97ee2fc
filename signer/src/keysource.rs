//! Key sources: where the secrets that sign come from. Secrets are never accepted as a plain
//! command-line value; they come from a hidden prompt, an environment variable, a private file,
//! an encrypted keystore, or a mnemonic typed at a prompt.
use crate::cli::KeyArgs;
use crate::failure::Failure;
use airgap::keys::source::{KeySource, SourceKind};
use airgap::keys::{self, SecretSeed};
use std::io::IsTerminal;
use std::path::Path;
use zeroize::Zeroizing;

/// A key ready to sign, with where it came from (never the secret itself).
pub struct Key {
    pub seed: SecretSeed,
    pub origin: String,
    /// The keystore file it was opened from, whose default policy applies to it.
    pub keystore: Option<std::path::PathBuf>,
}

/// Whether this process can ask a person anything (a controlling terminal exists).
pub fn have_terminal() -> bool {
    std::io::stdin().is_terminal() || std::fs::File::open("/dev/tty").is_ok()
}

/// Resolve every `--key` in order. With no `--key` and no `--unsigned`: on a terminal, prompt
/// for one; otherwise refuse, since nothing could sign.
pub fn resolve(args: &KeyArgs) -> Result<Vec<Key>, Failure> {
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
    let count = sources.len();
    sources
        .into_iter()
        .enumerate()
        .map(|(i, s)| resolve_one(s, args, i + 1, count))
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

fn resolve_one(source: KeySource, args: &KeyArgs, n: usize, count: usize) -> Result<Key, Failure> {
    let which = which(n, count);
    let text = |text: Zeroizing<String>, from: &str| from_text(&text, args.account_index, from);
    let seed = match &source {
        KeySource::Prompt => text(
            prompt_hidden(&format!(
                "Secret key (S…) or SEP-5 mnemonic for key{which}: "
            ))?,
            "the secret typed",
        )?,
        KeySource::Mnemonic => text(
            prompt_hidden(&format!("SEP-5 mnemonic (12 or 24 words) for key{which}: "))?,
            "the mnemonic typed",
        )?,
        KeySource::Env { var } => text(
            keys::source::read_env(var).map_err(source_failure)?,
            &format!("the environment variable {var}"),
        )?,
        KeySource::File { path } => text(
            read_private_file(path)?,
            &format!("the file {}", path.display()),
        )?,
        KeySource::Keystore { path } => open_keystore(path, args)?,
    };
    Ok(Key {
        seed,
        origin: source.to_string(),
        keystore: match source {
            KeySource::Keystore { path } => Some(path),
            _ => None,
        },
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

/// The keystore passphrase: from `--passphrase-env VAR`, else a hidden prompt.
pub fn passphrase(args_env: &Option<String>, prompt: &str) -> Result<Zeroizing<String>, Failure> {
    match args_env {
        Some(var) => keys::source::read_env(var).map_err(source_failure),
        None => prompt_hidden(prompt),
    }
}

fn open_keystore(path: &Path, args: &KeyArgs) -> Result<SecretSeed, Failure> {
    let text = keys::source::read_private_bytes(path).map_err(source_failure)?;
    let pass = passphrase(
        &args.passphrase_env,
        &format!("Passphrase for keystore {}: ", path.display()),
    )?;
    let (seed, _info) = keys::keystore::open(&text, pass.as_bytes())
        .map_err(|e| Failure::new(format!("cannot open the keystore {}: {e}", path.display())))?;
    Ok(SecretSeed::from_bytes(seed))
}
