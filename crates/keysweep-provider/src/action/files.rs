//! Files that hold secrets or the record of actions: the journal, recovery files and file sinks.
//! Each is a regular file keysweep creates itself (mode 0600, in a 0700 directory it creates): a
//! symlink, a FIFO or a device planted at the path is refused, never written through, and opening
//! never blocks.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Flags that make an open refuse a symlink at the last component and never wait for a FIFO's peer.
#[cfg(unix)]
const SAFE_FLAGS: i32 = libc::O_NOFOLLOW | libc::O_NONBLOCK;

fn not_regular() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "not a regular file (a symlink, FIFO or device is refused)",
    )
}

fn check_regular(file: File) -> io::Result<File> {
    if file.metadata()?.is_file() {
        Ok(file)
    } else {
        Err(not_regular())
    }
}

/// Maps the error of an `O_NOFOLLOW` open of a symlink to a clear one.
fn refused(e: io::Error) -> io::Error {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ELOOP) {
        return not_regular();
    }
    e
}

/// Opens `path` for appending, creating it with mode 0600.
pub fn open_append_regular(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600).custom_flags(SAFE_FLAGS);
    }
    check_regular(opts.open(path).map_err(refused)?)
}

/// Opens an existing regular file for reading; `None` when there is none.
pub fn open_existing_regular(path: &Path) -> io::Result<Option<File>> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(SAFE_FLAGS);
    }
    match opts.open(path) {
        Ok(f) => check_regular(f).map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(refused(e)),
    }
}

/// Creates `dir` (and its parents) with mode 0700 where it does not exist.
pub fn create_private_dir(dir: &Path) -> Result<(), String> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// Writes `data` to `path` whole (a new 0600 file renamed into place). An existing path must be a
/// regular file; the rename replaces the directory entry, so nothing is ever written through a link.
pub fn write_private(path: &Path, data: &[u8]) -> Result<(), String> {
    let err = |e: io::Error| format!("cannot write {}: {e}", path.display());
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => return Err(err(not_regular())),
        _ => {}
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // tempfile creates with O_EXCL and mode 0600.
    // Without tempfile's own wording, which names the temporary file.
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| err(io::Error::from(e.kind())))?;
    tmp.write_all(data)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn special_files_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("sink.json");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let e = write_private(&fifo, b"secret").unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
        assert!(open_append_regular(&fifo).is_err());
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(dir.path().join("target"), &link).unwrap();
        assert!(write_private(&link, b"secret").is_err());
        assert!(!dir.path().join("target").exists());
        let ok = dir.path().join("ok.json");
        write_private(&ok, b"x").unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&ok).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
