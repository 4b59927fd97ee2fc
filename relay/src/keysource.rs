//! Where an online key comes from: `env:VAR` or `file:PATH`. Never a bare value on the command line
//! (it would sit in shell history and in every process listing).
use airgap::keys::{KeyError, SecretSeed};
use std::io::Read;
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeySourceError {
    #[error("\"{0}\" is not a key source; write env:VARIABLE or file:PATH (a secret key itself is never accepted on the command line)")]
    BadForm(String),
    #[error("the environment variable {0} is not set or not text")]
    MissingEnv(String),
    #[error("cannot read the key file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the key file {path} can be read by other users (mode {mode:o}); run chmod 600 {path}"
    )]
    Exposed { path: String, mode: u32 },
    #[error("the key from {from} is not usable: {source}")]
    Key { from: String, source: KeyError },
}

/// Load the secret seed named by `spec`.
pub fn load(spec: &str) -> Result<SecretSeed, KeySourceError> {
    let text: Zeroizing<String> = if let Some(var) = spec.strip_prefix("env:") {
        if var.is_empty() {
            return Err(KeySourceError::BadForm(spec.to_string()));
        }
        Zeroizing::new(std::env::var(var).map_err(|_| KeySourceError::MissingEnv(var.to_string()))?)
    } else if let Some(path) = spec.strip_prefix("file:") {
        read_private_file(path)?
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

fn read_private_file(path: &str) -> Result<Zeroizing<String>, KeySourceError> {
    let read_err = |source| KeySourceError::Read {
        path: path.to_string(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(read_err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = f.metadata().map_err(read_err)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeySourceError::Exposed {
                path: path.to_string(),
                mode,
            });
        }
    }
    let mut buf = Zeroizing::new(Vec::new());
    // A secret key is 56 characters; anything much longer is not one.
    f.by_ref()
        .take(4096)
        .read_to_end(&mut buf)
        .map_err(read_err)?;
    let text = std::str::from_utf8(&buf).unwrap_or("");
    Ok(Zeroizing::new(text.trim().to_string()))
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
                Err(KeySourceError::Exposed { .. })
            ));
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let back = load(&format!("file:{}", p.display())).unwrap();
        assert_eq!(back.public_key(), seed.public_key());
    }
}
