//! `keysweep rules list` and `keysweep rules check`.

use std::io::Write;

use anyhow::{Result, bail};
use keysweep_core::config::Config;
use keysweep_core::{engine, rules};

use crate::cli::{ListFormat, RulesCommand};

pub fn run(cmd: RulesCommand) -> Result<bool> {
    match cmd {
        RulesCommand::List { config, format } => list(config.as_deref(), format),
        RulesCommand::Check { files } => check(&files),
    }
}

fn list(config: Option<&std::path::Path>, format: ListFormat) -> Result<bool> {
    let cfg = Config::discover(config, None)?;
    let rules = cfg.rules()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        ListFormat::Json => {
            let rows: Vec<_> = rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id, "provider": r.provider, "severity": r.severity,
                        "description": r.description, "keywords": r.keywords,
                        "validator": r.validator.map(|v| v.name()),
                        "confidence": r.confidence, "confidence_reason": r.confidence_reason,
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        ListFormat::Human => {
            let w = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
            let pw = rules.iter().map(|r| r.provider.len()).max().unwrap_or(0);
            for r in &rules {
                writeln!(
                    out,
                    "{:<w$}  {:<pw$}  {:<8}  {}",
                    r.id,
                    r.provider,
                    r.severity.to_string(),
                    r.description
                )?;
            }
            let mut providers: Vec<&str> = rules.iter().map(|r| r.provider.as_str()).collect();
            providers.sort_unstable();
            providers.dedup();
            writeln!(out, "{} rules, {} providers", rules.len(), providers.len())?;
        }
    }
    Ok(false)
}

fn check(files: &[std::path::PathBuf]) -> Result<bool> {
    let mut failed = 0;
    for f in files {
        let outcome = rules::load_rule_file(f).and_then(|rs| {
            for r in &rs {
                engine::check_examples(r)?;
            }
            Ok(rs.len())
        });
        match outcome {
            Ok(n) => println!("{}: ok ({n} rules, all examples pass)", f.display()),
            Err(e) => {
                failed += 1;
                eprintln!(
                    "keysweep: {}",
                    keysweep_core::text::escape(&format!("{e:#}"))
                );
            }
        }
    }
    if failed > 0 {
        bail!("{failed} rule file(s) failed the check");
    }
    Ok(false)
}
