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

/// An output written to a temporary place beside its target, not yet in place: a file or a
/// directory. [`commit`] puts a set of them in place together.
#[must_use]
pub struct Staged {
    path: PathBuf,
    kind: StagedKind,
}

enum StagedKind {
    File(tempfile::NamedTempFile),
    Dir(tempfile::TempDir),
}

impl Staged {
    /// The path this output goes to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Write `parts` into a temporary file beside `path`, synced, for [`commit`].
pub fn stage_file<'a>(
    path: &Path,
    parts: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Staged, FileError> {
    let io = |source| FileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".airgap-")
        .suffix(".tmp")
        .tempfile_in(dir_of(path))
        .map_err(io)?;
    for bytes in parts {
        tmp.write_all(bytes).map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    Ok(Staged {
        path: path.to_path_buf(),
        kind: StagedKind::File(tmp),
    })
}

/// Fill a temporary directory beside `path` with `fill`, for [`commit`].
pub fn stage_dir<E: From<FileError>>(
    path: &Path,
    fill: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<Staged, E> {
    let tmp = tempfile::Builder::new()
        .prefix(".airgap-")
        .tempdir_in(dir_of(path))
        .map_err(|source| FileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    fill(tmp.path())?;
    if let Ok(d) = std::fs::File::open(tmp.path()) {
        let _ = d.sync_all();
    }
    Ok(Staged {
        path: path.to_path_buf(),
        kind: StagedKind::Dir(tmp),
    })
}

/// Refuse outputs that exist (unless `replace`) or that name one path twice: the checks
/// [`commit`] makes, for a caller to make before any work (or any question).
pub fn check_targets(paths: &[&Path], replace: bool) -> Result<(), FileError> {
    for (i, p) in paths.iter().enumerate() {
        if paths[..i].contains(p) {
            return Err(FileError::Io {
                path: p.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "it is named as two outputs",
                ),
            });
        }
        if !replace && p.symlink_metadata().is_ok() {
            return Err(FileError::Exists(p.to_path_buf()));
        }
    }
    Ok(())
}

/// Put every staged output in place, or none. First every target is checked
/// ([`check_targets`]); with `replace`, existing targets are moved aside; then each staged output
/// is renamed into place. If any step fails, the outputs already in place are removed and what was
/// moved aside is moved back, so a failed command leaves what was there before.
pub fn commit(staged: Vec<Staged>, replace: bool) -> Result<(), FileError> {
    let paths: Vec<&Path> = staged.iter().map(|s| s.path.as_path()).collect();
    check_targets(&paths, replace)?;
    // Existing targets (with `replace`) moved aside, to be restored on failure.
    let mut aside: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut placed: Vec<PathBuf> = Vec::new();
    let undo = |placed: &[PathBuf], aside: &[(PathBuf, PathBuf)]| {
        for p in placed {
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(p)
            } else {
                std::fs::remove_file(p)
            };
        }
        for (old, target) in aside {
            let _ = std::fs::rename(old, target);
            if let Some(d) = old.parent() {
                let _ = std::fs::remove_dir(d);
            }
        }
    };
    for s in &staged {
        if s.path.symlink_metadata().is_ok() {
            let io = |source| FileError::Io {
                path: s.path.clone(),
                source,
            };
            let parked = tempfile::Builder::new()
                .prefix(".airgap-old-")
                .tempdir_in(dir_of(&s.path))
                .map_err(io)?
                .keep();
            let target = parked.join("old");
            if let Err(e) = std::fs::rename(&s.path, &target) {
                let _ = std::fs::remove_dir(&parked);
                undo(&placed, &aside);
                return Err(io(e));
            }
            aside.push((target, s.path.clone()));
        }
    }
    let mut kept = Vec::new();
    for s in staged {
        let path = s.path.clone();
        let result = match s.kind {
            StagedKind::File(tmp) => tmp
                .persist_noclobber(&path)
                .map(|_| ())
                .map_err(|e| e.error),
            StagedKind::Dir(tmp) => {
                let dir = tmp.keep();
                let r = std::fs::rename(&dir, &path);
                if r.is_err() {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                r
            }
        };
        match result {
            Ok(()) => {
                placed.push(path.clone());
                kept.push(path);
            }
            Err(source) => {
                undo(&placed, &aside);
                return Err(FileError::Io { path, source });
            }
        }
    }
    for (old, _) in &aside {
        let _ = if old.is_dir() {
            std::fs::remove_dir_all(old)
        } else {
            std::fs::remove_file(old)
        };
        if let Some(d) = old.parent() {
            let _ = std::fs::remove_dir(d);
        }
    }
    for p in &kept {
        if let Ok(d) = std::fs::File::open(dir_of(p)) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Why a file that must not be forged (a signing policy, a signers file, an account context) was
/// not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GuardedReadError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Its group or other users may write it (`mode` is its permission bits).
    #[error("it can be changed by other users (mode {mode:04o})")]
    Writable { mode: u32 },
    /// It belongs to another user (neither this process's user nor root), who could change it.
    #[error("it belongs to another user (uid {uid}), who could change it")]
    Owner { uid: u32 },
    /// It is larger than any such file.
    #[error("it is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// It is not UTF-8 text.
    #[error("it is not text (UTF-8)")]
    NotText,
}

/// The most bytes [`read_guarded`] reads: a policy or signers file is a few kilobytes.
pub const GUARDED_READ_LIMIT: u64 = 1 << 20;

/// Read a small text file that is not secret but must not be forged: refuse one that its group or
/// other users could have written, or that belongs to another user than this process's (or root)
/// (checked on the opened file, so it cannot be swapped in between). Files over
/// [`GUARDED_READ_LIMIT`] bytes are refused.
pub fn read_guarded(path: &Path) -> Result<String, GuardedReadError> {
    let bytes = read_guarded_bytes(path, GUARDED_READ_LIMIT)?;
    String::from_utf8(bytes).map_err(|_| GuardedReadError::NotText)
}

/// [`read_guarded`] for any bytes (an image), of at most `limit` bytes.
pub fn read_guarded_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, GuardedReadError> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = f.metadata()?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o022 != 0 {
            return Err(GuardedReadError::Writable { mode });
        }
        let uid = meta.uid();
        if uid != 0 && uid != nix::unistd::geteuid().as_raw() {
            return Err(GuardedReadError::Owner { uid });
        }
    }
    let mut bytes = Vec::new();
    f.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(GuardedReadError::TooLarge { limit });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_outputs_appear_together_or_not_at_all() {
        let d = tempfile::tempdir().unwrap();
        let (a, b, frames) = (
            d.path().join("a.xdr"),
            d.path().join("b.png"),
            d.path().join("f"),
        );
        let stage = || {
            vec![
                stage_file(&a, [&b"new a"[..]]).unwrap(),
                stage_file(&b, [&b"new b"[..]]).unwrap(),
                stage_dir(&frames, |t| write_in(t, "1.png", b"x")).unwrap(),
            ]
        };
        // One target exists: nothing is written, the existing one is untouched.
        std::fs::write(&b, b"old b").unwrap();
        assert!(matches!(commit(stage(), false), Err(FileError::Exists(_))));
        assert!(!a.exists() && !frames.exists());
        assert_eq!(std::fs::read(&b).unwrap(), b"old b");
        // Replacing: all three in place, nothing left aside.
        commit(stage(), true).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"new a");
        assert_eq!(std::fs::read(&b).unwrap(), b"new b");
        assert!(frames.join("1.png").exists());
        let names: Vec<String> = std::fs::read_dir(d.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        // A target that cannot be written (its directory is gone): the others are undone.
        let gone = d.path().join("missing").join("c.xdr");
        let c = stage_file(&d.path().join("c.xdr"), [&b"c"[..]]).unwrap();
        let bad = Staged {
            path: gone,
            kind: StagedKind::File(tempfile::NamedTempFile::new_in(d.path()).unwrap()),
        };
        assert!(commit(vec![c, bad], false).is_err());
        assert!(!d.path().join("c.xdr").exists());
        assert!(
            check_targets(&[&a, &a], true).is_err(),
            "one path named twice"
        );
    }

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
