//! Where an online key comes from: `env:VAR`, `file:PATH` or `keystore:PATH` (parsed by
//! `airgap::keys::source::KeySource`, opened by `airgap::keys::keystore`). Never a bare value on
//! the command line (it would sit in shell history and in every process listing).
//!
//! A keystore's passphrase comes from the environment, as the signer's does when it runs
//! unattended (docs/keystore.md): the keystore's own variable (`keystore:PATH?passphrase-env=VAR`),
//! else the command's `--passphrase-env VAR`. The relay never prompts.
use airgap::keys::keystore::{self, KeystoreError};
use airgap::keys::source::{KeySource, SourceKind, SourceSyntaxError};
use airgap::keys::{KeyError, SecretSeed};
use std::path::PathBuf;
use zeroize::Zeroizing;

/// The key sources the relay takes: it runs unattended, so nothing it would have to prompt for.
pub const ACCEPTED: &[SourceKind] = &[SourceKind::Env, SourceKind::File, SourceKind::Keystore];

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeySourceError {
    /// Holds nothing of what was written: it may be a pasted secret.
    #[error(transparent)]
    Syntax(#[from] SourceSyntaxError),
    #[error("{0}")]
    Source(#[from] airgap::keys::source::SourceError),
    #[error("the key from {from} is not usable: {source}")]
    Key { from: KeySource, source: KeyError },
    #[error("the keystore {} needs a passphrase, and the relay never prompts for one", path.display())]
    NoPassphrase { path: PathBuf },
    /// A wrong passphrase among them; the error never holds the passphrase or any decrypted byte.
    #[error("cannot open the keystore {}: {source}", path.display())]
    Keystore {
        path: PathBuf,
        source: KeystoreError,
    },
}

/// Load the secret seed named by `spec`. `passphrase_env` names the variable that holds the
/// passphrase of a keystore that names none of its own.
pub fn load(spec: &str, passphrase_env: Option<&str>) -> Result<SecretSeed, KeySourceError> {
    let source = KeySource::parse(spec, ACCEPTED)?;
    let text: Zeroizing<String> = match &source {
        KeySource::Env { var } => airgap::keys::source::read_env(var)?,
        KeySource::File { path } => airgap::keys::source::read_private_text(path)?,
        KeySource::Keystore {
            path,
            passphrase_env: own,
        } => return open_keystore(path, own.as_deref().or(passphrase_env)),
        // Refused by the parse above.
        KeySource::Prompt | KeySource::Mnemonic => {
            return Err(SourceSyntaxError::NotAccepted {
                kind: source.kind(),
                accepted: ACCEPTED,
            }
            .into())
        }
    };
    SecretSeed::from_strkey(&text).map_err(|e| KeySourceError::Key {
        from: source,
        source: e,
    })
}

/// Open a keystore (only its owner may read it) with the passphrase in the variable `var`, through
/// the library's one keystore reader; the variable is checked before the file is read.
fn open_keystore(path: &std::path::Path, var: Option<&str>) -> Result<SecretSeed, KeySourceError> {
    let var = var.ok_or_else(|| KeySourceError::NoPassphrase {
        path: path.to_path_buf(),
    })?;
    let pass = airgap::keys::source::read_env(var)?;
    let text = airgap::keys::source::read_private_bytes(path)?;
    let (seed, _info) =
        keystore::open(&text, pass.as_bytes()).map_err(|source| KeySourceError::Keystore {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(SecretSeed::from_bytes(seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bare_secrets_and_exposed_files() {
        let seed = SecretSeed::generate().unwrap();
        let s = seed.to_strkey();
        let err = load(&s, None).err().unwrap().to_string();
        assert!(!err.contains(&s[1..]), "never echo a secret");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        std::fs::write(&p, format!("{}\n", &*s)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                load(&format!("file:{}", p.display()), None),
                Err(KeySourceError::Source(
                    airgap::keys::source::SourceError::Exposed { .. }
                ))
            ));
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let back = load(&format!("file:{}", p.display()), None).unwrap();
        assert_eq!(back.public_key(), seed.public_key());
    }

    /// A keystore opens with its own variable, else the fallback; without either, or with a
    /// wrong passphrase, it is refused in words that hold neither the passphrase nor the seed.
    #[test]
    fn keystores_open_with_a_passphrase_from_the_environment() {
        use airgap::keys::keystore::{seal, KdfParams};
        let seed = SecretSeed::generate().unwrap();
        let pass = "relay keystore unit passphrase";
        let text = seal(
            seed.bytes(),
            pass.as_bytes(),
            KdfParams::new(10, 8, 1).unwrap(),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.ks");
        std::fs::write(&p, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        // Variables of this test only (tests in one process share the environment).
        std::env::set_var("RELAY_KS_UNIT_GOOD", pass);
        std::env::set_var("RELAY_KS_UNIT_BAD", "not the passphrase");
        let ks = format!("keystore:{}", p.display());
        let own = format!("{ks}?passphrase-env=RELAY_KS_UNIT_GOOD");
        assert_eq!(load(&own, None).unwrap().public_key(), seed.public_key());
        // Its own variable wins over the fallback.
        assert_eq!(
            load(&own, Some("RELAY_KS_UNIT_BAD")).unwrap().public_key(),
            seed.public_key()
        );
        assert_eq!(
            load(&ks, Some("RELAY_KS_UNIT_GOOD")).unwrap().public_key(),
            seed.public_key()
        );
        assert!(matches!(
            load(&ks, None),
            Err(KeySourceError::NoPassphrase { .. })
        ));
        let wrong = load(&ks, Some("RELAY_KS_UNIT_BAD")).err().unwrap();
        assert!(matches!(
            wrong,
            KeySourceError::Keystore {
                source: KeystoreError::WrongPassphrase,
                ..
            }
        ));
        let said = wrong.to_string();
        assert!(said.contains("the passphrase is wrong"), "{said}");
        assert!(!said.contains("not the passphrase"), "{said}");
        assert!(!said.contains(&seed.to_strkey()[1..]), "{said}");
        assert!(matches!(
            load(&ks, Some("RELAY_KS_UNIT_UNSET")),
            Err(KeySourceError::Source(
                airgap::keys::source::SourceError::MissingEnv(_)
            ))
        ));
    }
}
