//! Producers of bytes to scan: files and directories, stdin, git history and the staged index. Each
//! hands `(Origin, bytes)` to a consumer and never calls the engine itself; what is skipped or could
//! not be read is counted in [`Stats`](crate::stats::Stats) and said through
//! [`Diagnostics`](crate::stats::Diagnostics).

pub mod files;
pub mod git;
pub mod stdin;

use std::ops::RangeInclusive;

use crate::finding::Finding;

/// Where a buffer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The path reports show: relative to the scanned root, or the path inside a commit.
    pub path: String,
    /// The git blob the bytes are (history and staged scans).
    pub blob: Option<git2::Oid>,
    /// Staged scans: the lines of the staged file that the change adds; `None` means all of them.
    pub added: Option<Vec<RangeInclusive<usize>>>,
}

impl Origin {
    pub fn path(path: impl Into<String>) -> Origin {
        Origin {
            path: path.into(),
            blob: None,
            added: None,
        }
    }

    /// Whether a finding lies on a line this origin asks to report.
    pub fn keeps(&self, f: &Finding) -> bool {
        match &self.added {
            None => true,
            Some(ranges) => ranges
                .iter()
                .any(|r| *r.start() <= f.end_line && f.line <= *r.end()),
        }
    }
}

/// What a source hands each buffer to.
pub type Consumer<'a> = dyn Fn(&Origin, &[u8]) + Sync + 'a;
