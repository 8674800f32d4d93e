//! `keysweep merge`: JSON Lines results (of `audit`, or of `scan --format jsonl`) combined into one
//! report, in any format. Findings are sorted, so the result does not depend on how the work was
//! sharded; totals are summed.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use keysweep_core::atomic;
use keysweep_core::finding::Finding;
use keysweep_core::report::json::JsonFinding;
use keysweep_core::report::{self, Format, ReportOptions, Summary};

use crate::cli::MergeArgs;

/// The `.jsonl` files named, and those in directories named (not recursively), sorted.
fn inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut here: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot read {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "jsonl") && f.is_file())
                .collect();
            here.sort();
            files.extend(here);
        } else {
            files.push(p.clone());
        }
    }
    if files.is_empty() {
        bail!("no .jsonl results to merge");
    }
    Ok(files)
}

fn add(total: &mut Summary, s: &Summary) {
    total.files_scanned += s.files_scanned;
    total.bytes_scanned += s.bytes_scanned;
    total.skipped_binary += s.skipped_binary;
    total.skipped_large += s.skipped_large;
    total.skipped_allowlisted += s.skipped_allowlisted;
    total.suppressed += s.suppressed;
    total.errors += s.errors;
    total.partial |= s.partial;
    total.duration_ms += s.duration_ms;
}

/// Reads one results file: findings (their `repo`, if any, prefixes the path) and the summary.
fn read(path: &Path, findings: &mut Vec<Finding>, total: &mut Summary) -> Result<()> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut summarized = false;
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| {
            anyhow::anyhow!(
                "{}:{}: not a keysweep JSON Lines {what}",
                path.display(),
                i + 1
            )
        };
        let v: serde_json::Value = serde_json::from_str(&line).map_err(|_| bad("record"))?;
        if let Some(s) = v.get("summary") {
            let s: Summary = serde_json::from_value(s.clone()).map_err(|_| bad("summary"))?;
            add(total, &s);
            summarized = true;
            continue;
        }
        let repo = v.get("repo").and_then(|r| r.as_str()).map(str::to_string);
        let mut j: JsonFinding = serde_json::from_value(v).map_err(|_| bad("finding"))?;
        if let Some(repo) = repo {
            j.file = format!("{repo}/{}", j.file);
        }
        findings.push(j.into_finding());
    }
    if !summarized {
        bail!(
            "{}: no summary line: the file is incomplete (an interrupted run?)",
            path.display()
        );
    }
    Ok(())
}

pub fn run(args: &MergeArgs) -> Result<bool> {
    let mut findings = Vec::new();
    let mut total = Summary::default();
    for f in inputs(&args.inputs)? {
        read(&f, &mut findings, &mut total)?;
    }
    keysweep_core::scan::normalize(&mut findings);
    total.findings = findings.len() as u64;
    let mut secrets: Vec<&str> = findings.iter().map(|f| f.secret_sha256.as_str()).collect();
    secrets.sort_unstable();
    secrets.dedup();
    total.secrets = secrets.len() as u64;
    // Results of a scan without --show-secrets hold secrets redacted already (`xoxb-1***`); others
    // are redacted here unless --show-secrets.
    if !args.show_secrets {
        for f in &mut findings {
            if !f.secret.ends_with("***") {
                f.secret = keysweep_core::finding::redact(&f.secret);
            }
            if let Some(p) = f.pair.as_mut().filter(|p| !p.ends_with("***")) {
                *p = keysweep_core::finding::redact(p);
            }
        }
    }
    let format = Format::from(args.format);
    let opts = ReportOptions {
        show_secrets: true,
        color: false,
        root: None,
    };
    match &args.output {
        Some(path) => atomic::write(path, atomic::Access::Default, |w| {
            report::write_all(format, &opts, &findings, &total, Box::new(w))
        })?,
        None => {
            let stdout = std::io::stdout();
            report::write_all(format, &opts, &findings, &total, Box::new(stdout.lock()))
                .context("cannot write the report")?
        }
    }
    Ok(!findings.is_empty())
}
