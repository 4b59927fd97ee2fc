//! Files that are either complete or absent: every artifact is written to a temporary file in the
//! same directory, flushed to disk, and renamed into place, so a crash or a kill never leaves a
//! partial blob behind. And files that must not be forged are read only when no one else could
//! have written them ([`read_guarded`]).
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
/// An error of `fill` (its own type, so it can say more than a file error) leaves nothing behind.
///
/// Replacing moves the old directory aside by one rename before the new one takes its place by
/// another, and deletes it only then: a kill at any moment leaves at `path` the old directory
/// whole, the new one whole, or (between the two renames) nothing — never an old directory half
/// deleted. A kill leaves at most hidden `.airgap-…` directories beside it.
pub fn write_dir_atomic<E: From<FileError>>(
    path: &Path,
    replace: bool,
    fill: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    if path.exists() && !replace {
        return Err(FileError::Exists(path.to_path_buf()).into());
    }
    let parent = dir_of(path);
    let tmp = tempfile::Builder::new()
        .prefix(".airgap-")
        .tempdir_in(parent)
        .map_err(|source| FileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    fill(tmp.path())?;
    Ok(put_dir_in_place(tmp, path)?)
}

/// The second half of [`write_dir_atomic`]: move the filled temporary directory to `path`.
fn put_dir_in_place(tmp: tempfile::TempDir, path: &Path) -> Result<(), FileError> {
    let io = |source| FileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let parent = dir_of(path);
    if let Ok(d) = std::fs::File::open(tmp.path()) {
        let _ = d.sync_all();
    }
    let kept = tmp.keep();
    let put_in_place = || {
        std::fs::rename(&kept, path).map_err(|e| {
            let _ = std::fs::remove_dir_all(&kept);
            io(e)
        })
    };
    if let Ok(meta) = path.symlink_metadata() {
        if meta.is_file() {
            // A file is not replaced by a directory (as before: remove_dir_all refused it).
            let _ = std::fs::remove_dir_all(&kept);
            return Err(io(std::io::ErrorKind::NotADirectory.into()));
        }
        // A fresh hidden name for the old one (made by tempfile, then freed for the rename).
        let aside = tempfile::Builder::new()
            .prefix(".airgap-old-")
            .tempdir_in(parent)
            .map_err(io)?
            .keep();
        std::fs::remove_dir(&aside).map_err(io)?;
        if let Err(e) = std::fs::rename(path, &aside) {
            let _ = std::fs::remove_dir_all(&kept);
            return Err(io(e));
        }
        put_in_place()?;
        let _ = if aside.is_dir() {
            std::fs::remove_dir_all(&aside)
        } else {
            std::fs::remove_file(&aside)
        };
    } else {
        put_in_place()?;
    }
    // Make the renames themselves durable.
    if let Ok(d) = std::fs::File::open(parent) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Write a file inside a directory being filled by [`write_dir_atomic`], flushed to disk before
/// the directory is renamed into place.
pub fn write_in(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), FileError> {
    let path = dir.join(name);
    let written = std::fs::File::create(&path).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    written.map_err(|source| FileError::Io { path, source })
}

/// Why a file that must not be forged (a signing policy, a signers file) was not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GuardedReadError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Its group or other users may write it (`mode` is its permission bits).
    #[error("it can be changed by other users (mode {mode:04o})")]
    Writable { mode: u32 },
}

/// The most bytes [`read_guarded`] reads: a policy or signers file is a few kilobytes.
pub const GUARDED_READ_LIMIT: u64 = 1 << 20;

/// Read a small text file that is not secret but must not be forged: refuse one that its group or
/// other users could have written (checked on the opened file, so it cannot be swapped in
/// between). At most [`GUARDED_READ_LIMIT`] bytes are read.
pub fn read_guarded(path: &Path) -> Result<String, GuardedReadError> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = f.metadata()?.permissions().mode() & 0o777;
        if mode & 0o022 != 0 {
            return Err(GuardedReadError::Writable { mode });
        }
    }
    let mut text = String::new();
    f.take(GUARDED_READ_LIMIT).read_to_string(&mut text)?;
    Ok(text)
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
            Err::<(), _>(FileError::Exists(PathBuf::from("boom")))
        });
        assert!(r.is_err() && !bad.exists());
        // Replacing swaps whole directories: the old one's files are gone, nothing is left aside.
        std::fs::write(sub.join("old-only"), b"old").unwrap();
        write_dir_atomic(&sub, true, |t| write_in(t, "y", b"2")).unwrap();
        let file = d.path().join("plain");
        std::fs::write(&file, b"f").unwrap();
        assert!(write_dir_atomic(&file, true, |t| write_in(t, "x", b"1")).is_err());
        assert_eq!(
            std::fs::read(&file).unwrap(),
            b"f",
            "a file is not replaced by a directory"
        );
        let names: Vec<_> = std::fs::read_dir(&sub)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["y"]);
        assert!(matches!(
            write_dir_atomic(&sub, false, |t| write_in(t, "z", b"3")),
            Err(FileError::Exists(_))
        ));
        let leftovers: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".airgap-"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
