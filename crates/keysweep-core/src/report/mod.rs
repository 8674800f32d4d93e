//! Reports: one printer per format. A printer receives findings one at a time (`begin`, `finding`,
//! `finish`) and reads nothing else; JSON Lines writes each finding as it arrives, the other formats
//! are one document and write it at the end. Secrets are redacted unless `--show-secrets` was given.

pub mod html;
pub mod human;
pub mod json;
pub mod remediation;
pub mod sarif;

use std::io::{self, Write};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Jsonl,
    Sarif,
    Html,
}

/// Totals for one scan, shown on stderr and carried in JSON reports.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Files, or blobs for history scans.
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub findings: u64,
    /// Distinct secrets among the findings.
    pub secrets: u64,
    pub skipped_binary: u64,
    pub skipped_large: u64,
    pub skipped_allowlisted: u64,
    /// Entries ignore files kept out of the walk (an ignored directory counts once).
    #[serde(default)]
    pub skipped_ignored: u64,
    /// Symlinks not followed, FIFOs, sockets and devices met while walking.
    #[serde(default)]
    pub skipped_special: u64,
    /// Findings allowed by an inline `keysweep:allow`.
    #[serde(default)]
    pub allowed_inline: u64,
    /// Findings suppressed by a baseline or `.keysweepignore`.
    #[serde(default)]
    pub suppressed: u64,
    /// Entries that could not be read; the scan went on without them.
    pub errors: u64,
    pub partial: bool,
    /// With verification: secrets with no clear answer from their provider, counted by reason
    /// (`connection failed`, `timed out`, `ran out of time ...`, not checked).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub unverified: std::collections::BTreeMap<String, u64>,
    /// What could not be read (files, blobs, refs, commits), by name; at most the first 50.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_read: Vec<String>,
    /// The policy gates that failed, when a policy was set (`[policy]`, `--fail-on`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_failures: Vec<crate::policy::Violation>,
    pub duration_ms: u64,
}

/// How findings are shown.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    pub show_secrets: bool,
    /// ANSI styles in human output (decided by the caller: terminal, `--color`, `NO_COLOR`).
    pub color: bool,
    /// The directory findings' paths are relative to (SARIF's `%SRCROOT%`).
    pub root: Option<PathBuf>,
}

/// A report format: findings in, text out.
pub trait Printer {
    fn begin(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn finding(&mut self, f: &Finding) -> io::Result<()>;
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}

/// The printer for `format`, writing to `out`.
pub fn printer<'a>(
    format: Format,
    opts: &ReportOptions,
    out: Box<dyn Write + 'a>,
) -> Box<dyn Printer + 'a> {
    match format {
        Format::Human => Box::new(human::Human::new(opts, out)),
        Format::Json => Box::new(json::Json::new(opts, out)),
        Format::Jsonl => Box::new(json::Lines::new(opts, out)),
        Format::Sarif => Box::new(sarif::Sarif::new(opts, out)),
        Format::Html => Box::new(html::Html::new(opts, out)),
    }
}

/// Prints a whole report at once.
pub fn write_all(
    format: Format,
    opts: &ReportOptions,
    findings: &[Finding],
    summary: &Summary,
    out: Box<dyn Write + '_>,
) -> io::Result<()> {
    let mut p = printer(format, opts, out);
    p.begin()?;
    for f in findings {
        p.finding(f)?;
    }
    p.finish(summary)
}
