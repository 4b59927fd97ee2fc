//! Reading secrets that scripts hand over: an environment variable, or a file only its owner can
//! read. Both binaries read secrets through here, so the permission rule is written once.
use std::io::Read;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The most bytes a secret file may hold (an `S…` key is 56 characters, a keystore a few hundred
/// bytes, a 24-word mnemonic under 250).
const MAX_SECRET_FILE: u64 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    #[error("the environment variable {0} is not set, or is not text")]
    MissingEnv(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is readable by other users (mode {mode:04o}), so its secret may already be exposed"
    )]
    Exposed { path: PathBuf, mode: u32 },
    #[error("{0} does not hold text")]
    NotText(PathBuf),
    #[error("{0} is larger than any key file")]
    TooLarge(PathBuf),
}

pub fn read_env(var: &str) -> Result<Zeroizing<String>, SourceError> {
    std::env::var(var)
        .map(Zeroizing::new)
        .map_err(|_| SourceError::MissingEnv(var.to_string()))
}

/// Open `path` and check, on the opened file (so it cannot be swapped in between), that neither
/// its group nor others may read it.
fn open_private(path: &Path) -> Result<std::fs::File, SourceError> {
    let read = |source| SourceError::Read {
        path: path.to_path_buf(),
        source,
    };
    let f = std::fs::File::open(path).map_err(read)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = f.metadata().map_err(read)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SourceError::Exposed {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    Ok(f)
}

/// The bytes of a private file (a keystore).
pub fn read_private_bytes(path: &Path) -> Result<Zeroizing<Vec<u8>>, SourceError> {
    let mut f = open_private(path)?;
    let mut buf = Zeroizing::new(Vec::new());
    f.by_ref()
        .take(MAX_SECRET_FILE + 1)
        .read_to_end(&mut buf)
        .map_err(|source| SourceError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    if buf.len() as u64 > MAX_SECRET_FILE {
        return Err(SourceError::TooLarge(path.to_path_buf()));
    }
    Ok(buf)
}

/// The text of a private file (an `S…` key or a mnemonic), trimmed.
pub fn read_private_text(path: &Path) -> Result<Zeroizing<String>, SourceError> {
    let bytes = read_private_bytes(path)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| SourceError::NotText(path.to_path_buf()))?;
    Ok(Zeroizing::new(text.trim().to_string()))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn only_private_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("k");
        std::fs::write(&p, " SABC \n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            read_private_text(&p),
            Err(SourceError::Exposed { mode: 0o644, .. })
        ));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_private_text(&p).unwrap().as_str(), "SABC");
    }
}
