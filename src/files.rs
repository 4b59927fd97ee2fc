//! Files that are either complete or absent: every artifact is written to a temporary file in the
//! same directory, flushed to disk, and renamed into place, so a crash or a kill never leaves a
//! partial blob behind.
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    #[error("{0} already exists")]
    Exists(PathBuf),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Write `bytes` to `path` atomically. Refuses to replace an existing file unless `replace`.
pub fn write_atomic(path: &Path, bytes: &[u8], replace: bool) -> Result<(), FileError> {
    write_atomic_parts(path, [bytes], replace)
}

/// [`write_atomic`] for a file made of several pieces, written one after another (so they need
/// not be joined in memory first).
pub fn write_atomic_parts<'a>(
    path: &Path,
    parts: impl IntoIterator<Item = &'a [u8]>,
    replace: bool,
) -> Result<(), FileError> {
    let io = |source| FileError::Io {
        path: path.to_path_buf(),
        source,
    };
    if !replace && path.exists() {
        return Err(FileError::Exists(path.to_path_buf()));
    }
    let dir = dir_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".airgap-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    for bytes in parts {
        tmp.write_all(bytes).map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    if replace {
        tmp.persist(path).map_err(|e| io(e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| io(e.error))?;
    }
    // Make the rename itself durable.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Fill a new directory at `path` through `fill`, which writes into a temporary directory beside
/// it; the directory then appears whole by one rename. Refuses to replace one unless `replace`.
pub fn write_dir_atomic(
    path: &Path,
    replace: bool,
    fill: impl FnOnce(&Path) -> Result<(), FileError>,
) -> Result<(), FileError> {
    let io = |source| FileError::Io {
        path: path.to_path_buf(),
        source,
    };
    if path.exists() && !replace {
        return Err(FileError::Exists(path.to_path_buf()));
    }
    let tmp = tempfile::Builder::new()
        .prefix(".airgap-")
        .tempdir_in(dir_of(path))
        .map_err(io)?;
    fill(tmp.path())?;
    if path.exists() {
        std::fs::remove_dir_all(path).map_err(io)?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, path).map_err(|e| {
        let _ = std::fs::remove_dir_all(&kept);
        io(e)
    })
}

/// Plain write inside a directory being filled by [`write_dir_atomic`].
pub fn write_in(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), FileError> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|source| FileError::Io { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_files_and_dirs() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.xdr");
        write_atomic(&f, b"one\n", false).unwrap();
        assert!(matches!(
            write_atomic(&f, b"two\n", false),
            Err(FileError::Exists(_))
        ));
        assert_eq!(std::fs::read(&f).unwrap(), b"one\n");
        write_atomic(&f, b"two\n", true).unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"two\n");
        let sub = d.path().join("frames");
        write_dir_atomic(&sub, false, |t| write_in(t, "x", b"1")).unwrap();
        assert!(sub.join("x").exists());
        // A failing fill leaves nothing behind.
        let bad = d.path().join("bad");
        let r = write_dir_atomic(&bad, false, |_| {
            Err(FileError::Exists(PathBuf::from("boom")))
        });
        assert!(r.is_err() && !bad.exists());
        let leftovers: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".airgap-"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
