//! JSON (`"version": 1`) and JSON Lines. The same record type reads reports back for `revoke --report`
//! and baselines, so the schema is defined once.

use std::io::Write;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::{Report, Summary};
use crate::finding::{Finding, Verification};
use crate::rules::Severity;

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
            commit: f.commit.as_ref().map(|c| c.commit.clone()),
            author: f.commit.as_ref().map(|c| c.author.clone()),
            email: f.commit.as_ref().map(|c| c.email.clone()),
            date: f.commit.as_ref().map(|c| c.date.clone()),
            verification: f.verification.clone(),
        }
    }
}

pub fn write(report: &Report, out: &mut dyn Write) -> Result<()> {
    let doc = JsonReport {
        version: VERSION,
        secrets_redacted: !report.show_secrets,
        findings: report
            .findings
            .iter()
            .map(|f| JsonFinding::from_finding(f, report.show_secrets))
            .collect(),
        summary: report.summary.clone(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(())
}

/// One finding per line, then a last line `{"summary": …}` so a stream consumer gets the totals too.
pub fn write_lines(report: &Report, out: &mut dyn Write) -> Result<()> {
    for f in report.findings {
        serde_json::to_writer(
            &mut *out,
            &JsonFinding::from_finding(f, report.show_secrets),
        )?;
        writeln!(out)?;
    }
    serde_json::to_writer(&mut *out, &serde_json::json!({ "summary": report.summary }))?;
    writeln!(out)?;
    Ok(())
}
