//! Counters every source updates, and where a source's diagnostics go. The binary shows them with a
//! progress bar; tests and library users can print them plainly or drop them.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Stats {
    pub files: AtomicU64,
    pub bytes: AtomicU64,
    pub findings: AtomicU64,
    pub skipped_binary: AtomicU64,
    pub skipped_large: AtomicU64,
    pub skipped_allowlisted: AtomicU64,
    pub errors: AtomicU64,
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Where sources say what they could not read, and how far they are. Implementations must be cheap to
/// call per file.
pub trait Diagnostics: Sync {
    /// Something could not be read or was refused; the scan goes on.
    fn warn(&self, msg: &str);
    /// Progress after one more unit (file, blob) was scanned.
    fn tick(&self, _stats: &Stats, _unit: &str) {}
    /// A phase without counters (walking commits).
    fn status(&self, _msg: &str) {}
}

/// Warnings on stderr, no progress.
pub struct Stderr;

impl Diagnostics for Stderr {
    fn warn(&self, msg: &str) {
        eprintln!("keysweep: {msg}");
    }
}
