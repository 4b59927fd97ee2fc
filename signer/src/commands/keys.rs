//! `keys`: make keys and show public keys.
use super::print_stdout;
use crate::cli::{KeyArgs, KeysCommand};
use crate::failure::Failure;
use crate::keysource;
use std::io::Write;

pub fn run(k: KeysCommand) -> Result<(), Failure> {
    match k {
        KeysCommand::Public { keys } => {
            let resolved = keysource::resolve(&KeyArgs {
                unsigned: false,
                ..keys
            })?;
            for key in resolved {
                print_stdout(&key.seed.public_key().to_string())?;
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
            let seed = airgap::keys::SecretSeed::generate().map_err(|e| {
                Failure::new(format!("the operating system's random source failed: {e}"))
            })?;
            if let Some(path) = &keystore {
                let pass = keysource::passphrase(&passphrase_env, "New keystore passphrase: ")?;
                if passphrase_env.is_none() {
                    let again = keysource::passphrase(&None, "Repeat the passphrase: ")?;
                    if *again != *pass {
                        return Err(Failure::new(
                            "the two passphrases differ; nothing was written",
                        ));
                    }
                }
                let text =
                    airgap::keys::keystore::seal(seed.bytes(), pass.as_bytes(), Default::default())
                        .map_err(|e| Failure::new(e.to_string()))?;
                write_private_new(path, text.as_bytes())?;
                eprintln!("Wrote the encrypted key to {} (mode 0600).", path.display());
                let policy_path = airgap::policy::default_path_for(path);
                if policy_path.exists() {
                    eprintln!(
                        "Kept the existing signing policy {}: check that it suits this key.",
                        policy_path.display()
                    );
                } else {
                    write_private_new(&policy_path, airgap::policy::default_text().as_bytes())?;
                    eprintln!(
                        "Wrote the default signing policy to {} (mode 0600): test networks only; edit it to sign for pubnet (docs/policy.md).",
                        policy_path.display()
                    );
                }
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

/// Create a new file readable only by its owner; never replace one.
fn write_private_new(path: &std::path::Path, bytes: &[u8]) -> Result<(), Failure> {
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
