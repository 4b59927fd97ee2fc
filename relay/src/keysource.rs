//! Where an online key comes from: `env:VAR` or `file:PATH`. Never a bare value on the command line
//! (it would sit in shell history and in every process listing).
use airgap::keys::{KeyError, SecretSeed};
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeySourceError {
    #[error("\"{0}\" is not a key source; write env:VARIABLE or file:PATH (a secret key itself is never accepted on the command line)")]
    BadForm(String),
    #[error("{0}")]
    Source(#[from] airgap::keys::source::SourceError),
    #[error("the key from {from} is not usable: {source}")]
    Key { from: String, source: KeyError },
}

/// Load the secret seed named by `spec`.
pub fn load(spec: &str) -> Result<SecretSeed, KeySourceError> {
    let text: Zeroizing<String> = if let Some(var) = spec.strip_prefix("env:") {
        if var.is_empty() {
            return Err(KeySourceError::BadForm(spec.to_string()));
        }
        airgap::keys::source::read_env(var)?
    } else if let Some(path) = spec.strip_prefix("file:") {
        airgap::keys::source::read_private_text(std::path::Path::new(path))?
    } else {
        // Never echo what may be a secret.
        let shown = if spec.starts_with('S') {
            "S…".to_string()
        } else {
            spec.chars().take(40).collect()
        };
        return Err(KeySourceError::BadForm(shown));
    };
    SecretSeed::from_strkey(&text).map_err(|source| KeySourceError::Key {
        from: spec.to_string(),
        source,
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
