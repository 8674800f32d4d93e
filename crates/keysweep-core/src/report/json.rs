//! JSON (`"version": 1`) and JSON Lines. The same record type reads reports back for `revoke --report`
//! and baselines, so the schema is defined once.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::{Printer, ReportOptions, Summary};
use std::collections::BTreeMap;

use crate::finding::{Finding, Verification};
use crate::path_class::PathClass;
use crate::rules::{Confidence, Severity};
use crate::source::git::exposure::Exposure;

pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JsonFinding {
    pub rule_id: String,
    pub provider: String,
    pub description: String,
    pub severity: Severity,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<String>,
    pub secret_sha256: String,
    pub fingerprint: String,
    /// Older reports have none: read back as high.
    #[serde(default)]
    pub confidence: Confidence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence_reason: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_class: Option<PathClass>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
    /// History scans: where the secret is still exposed and when it left HEAD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure: Option<Exposure>,
    /// History scans: days from the commit that introduced the secret to its removal from HEAD, or
    /// to the time of the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure_days: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct JsonReport {
    pub version: u32,
    /// False only when the report was written with `--show-secrets`.
    pub secrets_redacted: bool,
    pub findings: Vec<JsonFinding>,
    pub summary: Summary,
}

impl JsonFinding {
    pub fn from_finding(f: &Finding, show: bool) -> JsonFinding {
        JsonFinding {
            rule_id: f.rule_id.clone(),
            provider: f.provider.clone(),
            description: f.description.clone(),
            severity: f.severity,
            file: f.file.clone(),
            line: f.line,
            column: f.column,
            end_line: f.end_line,
            end_column: f.end_column,
            secret: f.shown_secret(show),
            pair: f.shown_pair(show),
            secret_sha256: f.secret_sha256.clone(),
            fingerprint: f.fingerprint.clone(),
            confidence: f.confidence,
            confidence_reason: f.confidence_reason.clone(),
            details: f.details.clone(),
            path_class: f.path_class,
            commit: f.commit.as_ref().map(|c| c.commit.clone()),
            author: f.commit.as_ref().map(|c| c.author.clone()),
            email: f.commit.as_ref().map(|c| c.email.clone()),
            date: f.commit.as_ref().map(|c| c.date.clone()),
            verification: f.verification.clone(),
            exposure: f.exposure.clone(),
            exposure_days: crate::policy::exposure_days(f, time::OffsetDateTime::now_utc()),
        }
    }
}

impl JsonFinding {
    /// A finding read back from a report (`merge`): its `secret` is what the report showed.
    pub fn into_finding(self) -> Finding {
        let commit = self.commit.map(|commit| crate::finding::CommitInfo {
            commit,
            author: self.author.unwrap_or_default(),
            email: self.email.unwrap_or_default(),
            date: self.date.unwrap_or_default(),
        });
        Finding {
            rule_id: self.rule_id,
            provider: self.provider,
            description: self.description,
            severity: self.severity,
            file: self.file,
            line: self.line,
            column: self.column,
            end_line: self.end_line,
            end_column: self.end_column,
            secret: self.secret,
            pair: self.pair,
            secret_sha256: self.secret_sha256,
            fingerprint: self.fingerprint,
            commit,
            verification: self.verification,
            exposure: self.exposure,
            confidence: self.confidence,
            confidence_reason: self.confidence_reason,
            details: self.details,
            path_class: self.path_class,
        }
    }
}

/// The JSON document: written whole at the end.
pub struct Json<'a> {
    out: Box<dyn Write + 'a>,
    show: bool,
    findings: Vec<JsonFinding>,
}

impl<'a> Json<'a> {
    pub fn new(opts: &ReportOptions, out: Box<dyn Write + 'a>) -> Json<'a> {
        Json {
            out,
            show: opts.show_secrets,
            findings: Vec::new(),
        }
    }
}

impl Printer for Json<'_> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        self.findings.push(JsonFinding::from_finding(f, self.show));
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let doc = JsonReport {
            version: VERSION,
            secrets_redacted: !self.show,
            findings: std::mem::take(&mut self.findings),
            summary: summary.clone(),
        };
        serde_json::to_writer_pretty(&mut self.out, &doc)?;
        writeln!(self.out)?;
        self.out.flush()
    }
}

/// JSON Lines: each finding is written as it arrives, then a last line `{"summary": …}` so a stream
/// consumer gets the totals too.
pub struct Lines<'a> {
    out: Box<dyn Write + 'a>,
    show: bool,
}

impl<'a> Lines<'a> {
    pub fn new(opts: &ReportOptions, out: Box<dyn Write + 'a>) -> Lines<'a> {
        Lines {
            out,
            show: opts.show_secrets,
        }
    }
}

impl Printer for Lines<'_> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &JsonFinding::from_finding(f, self.show))?;
        writeln!(self.out)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &serde_json::json!({ "summary": summary }))?;
        writeln!(self.out)?;
        self.out.flush()
    }
}
