//! `keys`: make keys and show public keys.
use super::print_stdout;
use crate::cli::{KeyArgs, KeysCommand};
use crate::failure::Failure;
use crate::keysource;
use std::io::Write;
use std::path::Path;

/// The least zxcvbn score a new keystore's passphrase must reach: 3, "safely unguessable"
/// (more than 10^10 guesses), which at scrypt's second a guess is centuries of one machine.
const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

pub fn run(k: KeysCommand) -> Result<(), Failure> {
    match k {
        KeysCommand::Public { keys } => {
            let args = KeyArgs {
                unsigned: false,
                ..keys
            };
            // A keystore's public key is in the clear (and authenticated): no passphrase. Only
            // keys to be typed are asked for.
            let planned = keysource::plan(&args)?;
            let count = planned.len();
            for (i, p) in planned.into_iter().enumerate() {
                let public = match p.public_key() {
                    Some(public) => public,
                    None => p.open(&args, i + 1, count)?.seed.public_key(),
                };
                print_stdout(&public.to_string())?;
            }
            Ok(())
        }
        KeysCommand::Generate {
            keystore,
            passphrase_env,
            show_secret,
        } => {
            if keystore.is_none() && !show_secret {
                return Err(Failure::new("a new secret key must go somewhere")
                    .remedy("pass --keystore PATH to store it encrypted, or --show-secret to see it on the terminal"));
            }
            if let Some(path) = &keystore {
                // Before any question: the keystore must be new.
                if path.symlink_metadata().is_ok() {
                    return Err(Failure::new(format!(
                        "cannot create {}: it exists",
                        path.display()
                    ))
                    .remedy("a keystore is never overwritten: choose a new path"));
                }
            }
            let seed = airgap::keys::SecretSeed::generate().map_err(|e| {
                Failure::new(format!("the operating system's random source failed: {e}"))
            })?;
            if let Some(path) = &keystore {
                new_keystore(path, &seed, passphrase_env.as_deref())?;
            }
            if show_secret {
                let mut tty = std::fs::OpenOptions::new().write(true).open("/dev/tty").map_err(|_| {
                    Failure::new("--show-secret needs a terminal, and there is none; the secret is never written to stdout")
                })?;
                let secret = seed.to_strkey();
                writeln!(
                    tty,
                    "Secret key (write it down, keep it offline): {}",
                    secret.as_str()
                )
                .map_err(|e| Failure::new(format!("cannot write to the terminal: {e}")))?;
            }
            print_stdout(&seed.public_key().to_string())
        }
    }
}

/// A passphrase a strength estimator (zxcvbn) scores at least [`MIN_SCORE`], or why not. What the
/// estimator says is about the passphrase's shape; the passphrase itself is never repeated.
pub fn check_strength(pass: &str, keystore: &Path) -> Result<(), Failure> {
    let name = keystore
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let entropy = zxcvbn::zxcvbn(pass, &[&name, "stellar", "airgap", "keystore", "issuer"]);
    if entropy.score() >= MIN_SCORE {
        return Ok(());
    }
    let mut why = Vec::new();
    if let Some(f) = entropy.feedback() {
        if let Some(w) = f.warning() {
            why.push(w.to_string());
        }
        why.extend(f.suggestions().iter().map(|s| s.to_string()));
    }
    why.push("Choose a longer passphrase, for example five or more random words.".into());
    Err(Failure::new(format!(
        "nothing was written: the passphrase is too easy to guess (strength {} of 4 by zxcvbn; a new keystore needs {})",
        u8::from(entropy.score()),
        u8::from(MIN_SCORE),
    ))
    .remedy(why.join(" ")))
}

/// Seal a new key into a new keystore bound to its policy: the policy file next to it if one is
/// there (kept as it is), else a new one with the default policy. The policy is written first, so
/// a keystore never exists without the policy it is bound to.
fn new_keystore(
    path: &Path,
    seed: &airgap::keys::SecretSeed,
    passphrase_env: Option<&str>,
) -> Result<(), Failure> {
    let policy_path = airgap::policy::default_path_for(path);
    let kept = policy_path.exists();
    let policy_text = if kept {
        crate::custody::load_policy(&policy_path)?.0
    } else {
        airgap::policy::default_text()
    };
    let pass = keysource::passphrase(passphrase_env, "New keystore passphrase: ")?;
    check_strength(&pass, path)?;
    if passphrase_env.is_none() {
        let again = keysource::passphrase(None, "Repeat the passphrase: ")?;
        if *again != *pass {
            return Err(Failure::new(
                "the two passphrases differ; nothing was written",
            ));
        }
    }
    let digest = airgap::policy::digest(policy_text.as_bytes());
    let text = airgap::keys::keystore::seal_bound(
        seed.bytes(),
        pass.as_bytes(),
        Default::default(),
        digest,
    )
    .map_err(|e| Failure::new(e.to_string()))?;
    if !kept {
        write_private_new(&policy_path, policy_text.as_bytes())?;
    }
    if let Err(e) = write_private_new(path, text.as_bytes()) {
        if !kept {
            let _ = std::fs::remove_file(&policy_path);
        }
        return Err(e);
    }
    eprintln!("Wrote the encrypted key to {} (mode 0600).", path.display());
    if kept {
        eprintln!(
            "Bound the existing signing policy {} to it: check that it suits this key.",
            policy_path.display()
        );
    } else {
        eprintln!(
            "Wrote the default signing policy to {} (mode 0600) and bound it to the key: test networks only; to change it, edit it and run `airgap-signer policy bind --keystore {}` (docs/policy.md).",
            policy_path.display(),
            path.display()
        );
    }
    Ok(())
}

/// Create a new file readable only by its owner; never replace one.
fn write_private_new(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        Failure::new(format!("cannot create {}: {e}", path.display()))
            .remedy("a keystore is never overwritten: choose a new path")
    })?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))
}

/// `policy bind`: seal the keystore again, bound to the policy file next to it (and with today's
/// KDF parameters when its own are weaker).
pub fn bind(keystore: &Path, passphrase_env: Option<&str>) -> Result<(), Failure> {
    let ks = keysource::inspect_keystore(keystore, None)?;
    let policy_path = airgap::policy::default_path_for(keystore);
    if !policy_path.exists() {
        return Err(Failure::new(format!(
            "there is no policy file {} to bind",
            policy_path.display()
        ))
        .remedy("a keystore is bound to the policy file next to it (PATH.policy.json): write it there first (docs/policy.md)"));
    }
    let (text, policy) = crate::custody::load_policy(&policy_path)?;
    let digest = airgap::policy::digest(text.as_bytes());
    let params = if ks.info.kdf.below_default() {
        airgap::keys::keystore::KdfParams::default()
    } else {
        ks.info.kdf
    };
    if ks.info.policy_sha256 == Some(digest) && params == ks.info.kdf {
        eprintln!(
            "The keystore {} is already bound to {}; nothing was changed.",
            keystore.display(),
            policy_path.display()
        );
        return Ok(());
    }
    // Show what is about to be bound before the passphrase is asked.
    eprint!(
        "Policy file {}\n{}",
        policy_path.display(),
        policy.describe()
    );
    let pass = ks.passphrase(passphrase_env)?;
    let seed = ks.open_with(&pass)?;
    let sealed = airgap::keys::keystore::seal_bound(&seed, pass.as_bytes(), params, digest)
        .map_err(|e| Failure::new(e.to_string()))?;
    airgap::files::write_atomic(keystore, sealed.as_bytes(), true)
        .map_err(crate::output::file_failure)?;
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    eprintln!(
        "Bound the policy {} (SHA-256 {hex}) to the keystore {}: it signs only while that file is next to it, unchanged.",
        policy_path.display(),
        keystore.display()
    );
    Ok(())
}
