//! Reports: one module per format. Every format reads findings only, and shows secrets redacted
//! unless `--show-secrets` was given.

pub mod human;
pub mod json;
pub mod remediation;
pub mod sarif;

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::cli::Format;
use crate::finding::Finding;

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
    /// Findings suppressed by a baseline or `.keysweepignore`.
    #[serde(default)]
    pub suppressed: u64,
    /// Entries that could not be read; the scan went on without them.
    pub errors: u64,
    pub partial: bool,
    pub duration_ms: u64,
}

pub struct Report<'a> {
    pub findings: &'a [Finding],
    pub summary: &'a Summary,
    pub show_secrets: bool,
    pub color: bool,
    /// The directory findings' paths are relative to (SARIF's `%SRCROOT%`).
    pub root: Option<&'a Path>,
}

pub fn write(format: Format, report: &Report, out: &mut dyn Write) -> Result<()> {
    match format {
        Format::Human => human::write(report, out),
        Format::Json => json::write(report, out),
        Format::Jsonl => json::write_lines(report, out),
        Format::Sarif => sarif::write(report, out),
    }
}
