//! Filing decided blobs of a directory run into `DIR/done/` and `DIR/failed/`. The directory is
//! opened once; every step is relative to that open directory (`mkdirat`, `openat`, `renameat2`),
//! and `done/` and `failed/` must be real directories: a symlink put there (by whoever else can
//! write to DIR) is refused, never followed, so a blob cannot be moved out of the tree.
use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{fstatat, mkdirat, Mode};
use std::ffi::{OsStr, OsString};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FilingError {
    #[error("{0} is a symlink or not a directory; decided blobs are only moved into a real directory (replace it with one)")]
    NotADirectory(PathBuf),
    #[error("{path}: {errno}")]
    Io { path: PathBuf, errno: Errno },
    #[error("{0} is not a file directly in the directory run")]
    NotInDirectory(PathBuf),
}

/// An opened blob directory.
pub struct BlobDir {
    path: PathBuf,
    fd: OwnedFd,
}

/// The sub-directory a decided blob goes to.
pub fn sub_dir(success: bool) -> &'static str {
    if success {
        crate::inputs::DONE_DIR
    } else {
        crate::inputs::FAILED_DIR
    }
}

impl BlobDir {
    pub fn open(path: &Path) -> Result<BlobDir, FilingError> {
        let fd = openat(
            nix::fcntl::AT_FDCWD,
            path,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| FilingError::Io {
            path: path.to_path_buf(),
            errno,
        })?;
        Ok(BlobDir {
            path: path.to_path_buf(),
            fd,
        })
    }

    fn io(&self, rel: &Path, errno: Errno) -> FilingError {
        FilingError::Io {
            path: self.path.join(rel),
            errno,
        }
    }

    /// `done/` or `failed/`, made if missing, opened without following a symlink.
    fn sub(&self, success: bool) -> Result<OwnedFd, FilingError> {
        let name = sub_dir(success);
        match mkdirat(&self.fd, name, Mode::from_bits_truncate(0o755)) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => return Err(self.io(Path::new(name), e)),
        }
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        openat(&self.fd, name, flags, Mode::empty()).map_err(|e| match e {
            Errno::ELOOP | Errno::ENOTDIR => FilingError::NotADirectory(self.path.join(name)),
            e => self.io(Path::new(name), e),
        })
    }

    fn name_of<'p>(&self, file: &'p Path) -> Result<&'p OsStr, FilingError> {
        match (file.parent(), file.file_name()) {
            (Some(parent), Some(name)) if parent == self.path => Ok(name),
            _ => Err(FilingError::NotInDirectory(file.to_path_buf())),
        }
    }

    /// A name under `done/` or `failed/` that is free now: the file's own, else `NAME.1`, ….
    /// Checks that the sub-directory is a real directory.
    pub fn destination(&self, file: &Path, success: bool) -> Result<PathBuf, FilingError> {
        let name = self.name_of(file)?;
        let sub = self.sub(success)?;
        let target = free_name(&sub, name, 0).map_err(|e| self.io(Path::new(name), e))?;
        Ok(self.path.join(sub_dir(success)).join(target))
    }

    /// Move `file` to `to` (from [`BlobDir::destination`]), or to the next free name if `to` was
    /// taken meanwhile; returns where it went.
    pub fn move_to(&self, file: &Path, to: &Path, success: bool) -> Result<PathBuf, FilingError> {
        let name = self.name_of(file)?;
        let sub = self.sub(success)?;
        let wanted = to.file_name().unwrap_or(name).to_os_string();
        let mut target = wanted.clone();
        let mut n = 0;
        loop {
            match rename_new(&self.fd, name, &sub, &target) {
                Ok(()) => return Ok(self.path.join(sub_dir(success)).join(target)),
                Err(Errno::EEXIST) => {
                    n += 1;
                    target = free_name(&sub, name, n).map_err(|e| self.io(Path::new(name), e))?;
                }
                Err(e) => return Err(self.io(Path::new(name), e)),
            }
        }
    }
}

fn numbered(name: &OsStr, n: usize) -> OsString {
    if n == 0 {
        return name.to_os_string();
    }
    let mut s = name.to_os_string();
    s.push(format!(".{n}"));
    s
}

/// The first of `NAME`, `NAME.1`, `NAME.2`, … (from `from`) that does not exist in `dir`.
fn free_name(dir: &OwnedFd, name: &OsStr, from: usize) -> Result<OsString, Errno> {
    let mut n = from;
    loop {
        let candidate = numbered(name, n);
        match fstatat(
            dir,
            candidate.as_os_str(),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        ) {
            Err(Errno::ENOENT) => return Ok(candidate),
            Ok(_) => n += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Rename without replacing anything at the target (`RENAME_NOREPLACE` where the kernel and the
/// file system have it; otherwise a check just before the rename).
fn rename_new(from_dir: &OwnedFd, from: &OsStr, to_dir: &OwnedFd, to: &OsStr) -> Result<(), Errno> {
    #[cfg(target_os = "linux")]
    {
        use nix::fcntl::{renameat2, RenameFlags};
        match renameat2(from_dir, from, to_dir, to, RenameFlags::RENAME_NOREPLACE) {
            Err(Errno::EINVAL | Errno::ENOSYS) => {}
            other => return other,
        }
    }
    match fstatat(to_dir, to, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
        Err(Errno::ENOENT) => nix::fcntl::renameat(from_dir, from, to_dir, to),
        Ok(_) => Err(Errno::EEXIST),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_into_real_directories_under_free_names_and_refuses_symlinks() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("blobs");
        std::fs::create_dir(&dir).unwrap();
        let d = BlobDir::open(&dir).unwrap();
        for _ in 0..2 {
            let f = dir.join("a.xdr");
            std::fs::write(&f, "x").unwrap();
            let to = d.destination(&f, true).unwrap();
            let went = d.move_to(&f, &to, true).unwrap();
            assert_eq!(went, to);
        }
        assert!(dir.join("done/a.xdr").is_file());
        assert!(dir.join("done/a.xdr.1").is_file());
        // failed/ a symlink to somewhere else: refused, the blob stays.
        let elsewhere = tmp.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.join("failed")).unwrap();
        let f = dir.join("b.xdr");
        std::fs::write(&f, "x").unwrap();
        assert!(matches!(
            d.destination(&f, false),
            Err(FilingError::NotADirectory(_))
        ));
        assert!(f.is_file());
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    }
}
