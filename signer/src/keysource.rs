//! Key sources: where the secrets that sign come from. Secrets are never accepted as a plain
//! command-line value; they come from a hidden prompt, an environment variable, a private file,
//! an encrypted keystore, or a mnemonic typed at a prompt.
use crate::cli::KeyArgs;
use crate::failure::Failure;
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
    let sources: Vec<String> = if args.keys.is_empty() {
        if !have_terminal() {
            return Err(Failure::new("no key to sign with was given, and there is no terminal to ask for one")
                .remedy("pass --key env:VAR, --key file:PATH or --key keystore:PATH, or --unsigned to build without signing"));
        }
        vec!["prompt".into()]
    } else {
        args.keys.clone()
    };
    let count = sources.len();
    sources
        .iter()
        .enumerate()
        .map(|(i, s)| resolve_one(s, args, i + 1, count))
        .collect()
}

fn resolve_one(source: &str, args: &KeyArgs, n: usize, count: usize) -> Result<Key, Failure> {
    let which = if count > 1 {
        format!(" {n} of {count}")
    } else {
        String::new()
    };
    let (kind, rest) = source.split_once(':').unwrap_or((source, ""));
    let seed = match kind {
        "prompt" => {
            let text = prompt_hidden(&format!("Secret key (S…) or SEP-5 mnemonic for key{which}: "))?;
            from_text(&text, args.account_index, "the secret typed")?
        }
        "mnemonic" => {
            let text = prompt_hidden(&format!("SEP-5 mnemonic (12 or 24 words) for key{which}: "))?;
            from_text(&text, args.account_index, "the mnemonic typed")?
        }
        "env" if !rest.is_empty() => {
            let text = keys::source::read_env(rest).map_err(source_failure)?;
            from_text(&text, args.account_index, &format!("the environment variable {rest}"))?
        }
        "file" if !rest.is_empty() => {
            let text = read_private_file(Path::new(rest))?;
            from_text(&text, args.account_index, &format!("the file {rest}"))?
        }
        "keystore" if !rest.is_empty() => open_keystore(Path::new(rest), args)?,
        _ => {
            return Err(Failure::new(format!("\"{}\" is not a key source", redact(source)))
                .remedy("use prompt, env:VAR, file:PATH, keystore:PATH or mnemonic; secrets are never taken on the command line"))
        }
    };
    Ok(Key {
        seed,
        keystore: (kind == "keystore").then(|| Path::new(rest).to_path_buf()),
        origin: if rest.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}:{rest}")
        },
    })
}

/// Someone may paste a secret where a source is expected: never echo more than its first letter.
fn redact(source: &str) -> String {
    if source.len() > 20 && !source.contains(':') {
        format!("{}…", &source[..1])
    } else {
        source.to_string()
    }
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
