//! Where an online key comes from: `env:VAR` or `file:PATH` (parsed by
//! `airgap::keys::source::KeySource`). Never a bare value on the command line (it would sit in
//! shell history and in every process listing).
use airgap::keys::source::{KeySource, SourceKind, SourceSyntaxError};
use airgap::keys::{KeyError, SecretSeed};
use zeroize::Zeroizing;

/// The key sources the relay takes: it runs unattended, so nothing it would have to prompt for.
pub const ACCEPTED: &[SourceKind] = &[SourceKind::Env, SourceKind::File];

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
}

/// Load the secret seed named by `spec`.
pub fn load(spec: &str) -> Result<SecretSeed, KeySourceError> {
    let source = KeySource::parse(spec, ACCEPTED)?;
    let text: Zeroizing<String> = match &source {
        KeySource::Env { var } => airgap::keys::source::read_env(var)?,
        KeySource::File { path } => airgap::keys::source::read_private_text(path)?,
        // Refused by the parse above.
        KeySource::Prompt | KeySource::Mnemonic | KeySource::Keystore { .. } => {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bare_secrets_and_exposed_files() {
        let seed = SecretSeed::generate().unwrap();
        let s = seed.to_strkey();
        let err = load(&s).err().unwrap().to_string();
        assert!(!err.contains(&s[1..]), "never echo a secret");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        std::fs::write(&p, format!("{}\n", &*s)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                load(&format!("file:{}", p.display())),
                Err(KeySourceError::Source(
                    airgap::keys::source::SourceError::Exposed { .. }
                ))
            ));
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let back = load(&format!("file:{}", p.display())).unwrap();
        assert_eq!(back.public_key(), seed.public_key());
    }
}
