//! Counters every source updates, and where a source's diagnostics go. The binary shows them with a
//! progress bar; tests and library users can print them plainly or drop them.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::text::escape;

/// How many unreadable entries a summary names; the count covers all of them.
pub const MAX_NAMED: usize = 50;

#[derive(Debug, Default)]
pub struct Stats {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    /// Matches that became findings before deduplication, attribution and suppression: an internal
    /// tally, never shown as "findings" (the summary counts what is reported).
    pub findings: AtomicU64,
    pub skipped_binary: AtomicU64,
    pub skipped_large: AtomicU64,
    pub skipped_allowlisted: AtomicU64,
    /// Entries an ignore file (`.gitignore`, `.ignore`, git's excludes) kept out of the walk; an
    /// ignored directory counts once.
    pub skipped_ignored: AtomicU64,
    /// Symlinks not followed, FIFOs, sockets and devices met while walking: never opened.
    pub skipped_special: AtomicU64,
    /// Findings dropped by an inline `keysweep:allow`.
    pub allowed_inline: AtomicU64,
    /// Files decoded from UTF-16 before scanning.
    pub transcoded: AtomicU64,
    pub errors: AtomicU64,
    /// What could not be read, by name (the first [`MAX_NAMED`]).
    pub unread: Mutex<Vec<String>>,
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Something the scan should have read could not be: counted as an error (the scan is then
    /// partial), named in the summary, and said through `diag` with the reason.
    pub fn unread(&self, diag: &dyn Diagnostics, what: &str, why: &str) {
        Stats::add(&self.errors, 1);
        let mut named = self.unread.lock().unwrap_or_else(|e| e.into_inner());
        if named.len() < MAX_NAMED {
            named.push(what.to_string());
        }
        drop(named);
        diag.warn(&format!("cannot read {what}: {why}"));
    }

    /// The names recorded by [`Stats::unread`].
    pub fn unread_names(&self) -> Vec<String> {
        self.unread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Where sources say what they could not read, and how far they are. Implementations must be cheap to
/// call per file, and must escape what they print: messages carry file names and other text from the
/// scanned repository.
pub trait Diagnostics: Sync {
    /// Something could not be read or was refused; the scan goes on.
    fn warn(&self, msg: &str);
    /// Progress after one more unit (file, blob) was scanned.
    fn tick(&self, _stats: &Stats, _unit: &str) {}
    /// A phase without counters (walking commits).
    fn status(&self, _msg: &str) {}
}

/// Warnings on stderr, escaped, no progress.
pub struct Stderr;

impl Diagnostics for Stderr {
    fn warn(&self, msg: &str) {
        eprintln!("keysweep: {}", escape(msg));
    }
}
