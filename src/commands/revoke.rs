//! `keysweep revoke`: one token from stdin, or every live secret of a JSON report with secrets.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use keysweep_core::config::Config;
use keysweep_core::finding::sha256_hex;
use keysweep_core::report::json::JsonReport;
use keysweep_core::rules::embedded_rule;
use keysweep_core::secret::{Location, Secret};
use keysweep_provider::action::journal;
use keysweep_provider::action::revoke::{self, Options};
use keysweep_provider::{Credential, verify};

use super::actions::{credential, read_stdin_secret};
use crate::cli::RevokeArgs;

pub fn run(args: &RevokeArgs) -> Result<bool> {
    let config = Config::discover(args.config.as_deref(), Some(Path::new(".")))?;
    let cx = super::scan::provider_context(
        &args.endpoints,
        Duration::from_secs(args.verify_timeout.max(1)),
        Duration::from_secs(args.verify_budget.max(1)),
    )?;
    let journal = journal::path_or_default(args.journal.as_deref()).map_err(anyhow::Error::msg)?;
    let mut secrets = if let Some(report) = &args.report {
        from_report(report)?
    } else if args.stdin.is_some() {
        let rule_id = args
            .rule
            .as_deref()
            .context("--rule RULE_ID is required with `-`")?;
        let Some(rule) = embedded_rule(rule_id) else {
            bail!(
                "unknown rule `{rule_id}` (see `keysweep rules list`; only built-in rules can be revoked)"
            );
        };
        if keysweep_provider::resolve(rule_id).is_none() {
            bail!(
                "keysweep has no adapter for `{rule_id}`: {}",
                keysweep_provider::registry::manual_revocation(&rule.provider)
            );
        }
        let secret = read_stdin_secret()?;
        if !rule.accepts(&secret) {
            bail!(
                "the token on stdin is not a valid `{rule_id}` secret (its shape or checksum is \
                 wrong); nothing was sent"
            );
        }
        vec![Secret {
            rule_id: rule_id.to_string(),
            provider: rule.provider.clone(),
            sha256: sha256_hex(secret.as_bytes()),
            secret,
            pair: None,
            locations: vec![Location {
                file: "stdin".into(),
                line: 1,
                commit: None,
            }],
            verification: None,
        }]
    } else {
        bail!(
            "nothing to revoke: pipe one token to `keysweep revoke --rule RULE_ID -`, or pass --report FILE"
        );
    };
    let creds: Vec<Credential> = secrets.iter().map(credential).collect();
    let verdicts = verify::verify_all(&cx, &creds);
    for (s, v) in secrets.iter_mut().zip(verdicts) {
        s.verification = Some(v);
    }
    let opts = Options {
        yes: args.yes,
        journal: &journal,
        allowed_rules: config.revoke.rules.as_deref(),
        quiet: args.quiet,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let tally = revoke::run(&cx, &secrets, &opts, &mut out).map_err(anyhow::Error::msg)?;
    out.flush()?;
    if tally.failed > 0 {
        bail!("{} revocation(s) failed (see above)", tally.failed);
    }
    Ok(tally.pending > 0 || tally.manual > 0)
}

/// The distinct secrets of a JSON report written with `--show-secrets`, each with every location.
fn from_report(path: &PathBuf) -> Result<Vec<Secret>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read report {}", path.display()))?;
    let report: JsonReport = serde_json::from_str(&text).map_err(|e| {
        keysweep_core::suppress::json_error(&path.display().to_string(), &e, "JSON report")
    })?;
    if report.secrets_redacted {
        bail!(
            "{} holds redacted secrets, which cannot be revoked: rerun the scan with \
             `--format json --show-secrets --output FILE` and pass that file (keep it private, \
             delete it afterwards)",
            path.display()
        );
    }
    let mut out: Vec<Secret> = Vec::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for f in report.findings {
        let at = Location {
            file: f.file.clone(),
            line: f.line,
            commit: f.commit.clone(),
        };
        if let Some(&i) = seen.get(&(f.rule_id.clone(), f.secret.clone())) {
            out[i].locations.push(at);
            continue;
        }
        let Some(rule) = embedded_rule(&f.rule_id) else {
            eprintln!(
                "keysweep: skipping a finding of rule `{}`: not a built-in rule",
                keysweep_core::text::escape(&f.rule_id)
            );
            continue;
        };
        if sha256_hex(f.secret.as_bytes()) != f.secret_sha256 || !rule.accepts(&f.secret) {
            eprintln!(
                "keysweep: skipping a `{}` finding at {}: it fails offline checks (not sent)",
                f.rule_id,
                keysweep_core::text::escape(&at.to_string())
            );
            continue;
        }
        seen.insert((f.rule_id.clone(), f.secret.clone()), out.len());
        out.push(Secret {
            rule_id: f.rule_id,
            provider: rule.provider.clone(),
            sha256: f.secret_sha256,
            secret: f.secret,
            pair: f.pair,
            locations: vec![at],
            verification: None,
        });
    }
    Ok(out)
}
