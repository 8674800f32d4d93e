//! Writing files whole or not at all: through a temporary file in the same directory, synced, then
//! renamed into place. A reader (CI, a secret sink's consumer) never sees half a file.

use std::io::{self, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// Who may read the file once it is in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The temporary file's defaults (reports, baselines).
    Default,
    /// Owner only (0600 on Unix), set before any byte is written: for files holding secrets.
    Private,
}

/// Writes `path` whole through `fill`. Special files that exist (`/dev/null`, `/dev/stdout`, a FIFO)
/// are written in place: renaming over one would replace the device or pipe with a regular file.
pub fn write(
    path: &Path,
    access: Access,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let err = |e| Error::write(path, e);
    // A device or a pipe (`-o /dev/null`, `/dev/stdout`, a FIFO) cannot be replaced, only written:
    // renaming over it would swap the device for a regular file.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(err)?;
        let mut out = std::io::BufWriter::new(file);
        fill(&mut out).map_err(err)?;
        return out.flush().map_err(err);
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // tempfile's errors name the temporary file (`.tmpXXXXXX`), which means nothing to the user:
    // keep the kind of failure, and name the file being written.
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| {
        err(match e.kind() {
            io::ErrorKind::NotFound => io::Error::other("its directory does not exist"),
            kind => io::Error::from(kind),
        })
    })?;
    #[cfg(unix)]
    if access == Access::Private {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(err)?;
    }
    {
        let mut out = std::io::BufWriter::new(tmp.as_file_mut());
        fill(&mut out).map_err(err)?;
        out.flush().map_err(err)?;
    }
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn a_fifo_is_written_through_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        write(&fifo, Access::Default, |out| out.write_all(b"report")).unwrap();
        // Checked before joining: a replaced FIFO would leave the reader waiting for ever.
        assert!(
            std::fs::symlink_metadata(&fifo)
                .unwrap()
                .file_type()
                .is_fifo()
        );
        assert_eq!(reader.join().unwrap(), "report");
    }

    #[test]
    fn a_regular_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.json");
        std::fs::write(&p, "old contents that are longer").unwrap();
        write(&p, Access::Private, |out| out.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
