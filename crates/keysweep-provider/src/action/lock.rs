//! The journal's lock: an advisory lock on `<journal>.lock`, held by a rotation from the moment it
//! reads the journal until it has recorded what it did. Two runs that share a journal (two cron
//! entries, a retried job, a person and a timer) therefore never both see "not rotated yet" and
//! both mint: the second waits, reads the journal the first one wrote, and finds the work done.
//!
//! A separate file, not the journal itself: on Windows a lock excludes other handles' writes, and
//! the journal is written through its own handle.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::files;

/// Held until dropped (closing the file releases the lock; so does the process ending, however it
/// ends, which is why a crashed run never leaves the journal locked).
#[derive(Debug)]
pub struct JournalLock {
    _file: File,
    path: PathBuf,
}

/// How often a waiting run tries again.
const POLL: Duration = Duration::from_millis(100);

pub fn lock_path(journal: &Path) -> PathBuf {
    let mut name = journal
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "journal.jsonl".into());
    name.push(".lock");
    journal.with_file_name(name)
}

impl JournalLock {
    /// Takes the lock of `journal`, waiting up to `wait` for another run to release it (saying so
    /// on `out` once).
    pub fn acquire(
        journal: &Path,
        wait: Duration,
        out: &mut dyn Write,
    ) -> Result<JournalLock, String> {
        let path = lock_path(journal);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            files::create_private_dir(dir)?;
        }
        let file = files::open_append_regular(&path)
            .map_err(|e| format!("cannot open the journal lock {}: {e}", path.display()))?;
        let deadline = Instant::now() + wait;
        let mut said = false;
        loop {
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => return Ok(JournalLock { _file: file, path }),
                Err(fs4::TryLockError::WouldBlock) => {}
                Err(fs4::TryLockError::Error(e)) => {
                    return Err(format!("cannot lock {}: {e}", path.display()));
                }
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "another keysweep run has held the journal lock {} for more than {} s; \
                     nothing was done (rerun when it has finished)",
                    path.display(),
                    wait.as_secs()
                ));
            }
            if !said {
                let _ = writeln!(
                    out,
                    "waiting for another keysweep run that holds the journal lock {}",
                    path.display()
                );
                said = true;
            }
            std::thread::sleep(POLL);
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_and_then_gives_up() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("state").join("journal.jsonl");
        let first = JournalLock::acquire(&journal, Duration::ZERO, &mut Vec::new()).unwrap();
        assert_eq!(
            first.path(),
            dir.path().join("state").join("journal.jsonl.lock")
        );
        let mut said = Vec::new();
        let err =
            JournalLock::acquire(&journal, Duration::from_millis(250), &mut said).unwrap_err();
        assert!(err.contains("held the journal lock"), "{err}");
        assert!(String::from_utf8(said).unwrap().contains("waiting"));
        drop(first);
        JournalLock::acquire(&journal, Duration::ZERO, &mut Vec::new()).unwrap();
    }
}
