//! Actions on found secrets: revocation and rotation, planned, confirmed and journaled, with new
//! secrets delivered to sinks. Everything here goes through `provider` for the network.

pub mod journal;
pub mod revoke;
pub mod rotate;
pub mod sink;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context as _, Result, bail};

use crate::cli::{RevokeArgs, RotateArgs, RotateProvider, ScanArgs};
use crate::config::Config;
use crate::engine::{Allowlist, Engine};
use crate::finding::{Finding, Status, sha256_hex};
use crate::provider::{self, Context, slack};
use revoke::{Options, Target};
use sink::Sink;

/// The rule whose adapter serves leaked Slack refresh tokens for `scan --rotate`.
const SLACK_REFRESH_RULE: &str = "slack-refresh-token";

/// `scan --rotate` and `scan --revoke`, after the report is written. Rotation runs first; if any new
/// secret could not be delivered, nothing is revoked.
pub fn after_scan(args: &ScanArgs, config: &Config, findings: &[Finding]) -> Result<()> {
    if !args.revoke && !args.rotate {
        return Ok(());
    }
    let cx = Context::new(&args.endpoints, args.verify_timeout)?;
    let journal = journal::path_or_default(args.journal.as_deref())?;
    let mut err = std::io::stderr().lock();
    if args.rotate {
        rotate_found(args, &cx, &journal, findings, &mut err)?;
    }
    if args.revoke {
        let targets = targets_from_findings(findings);
        let opts = Options {
            yes: args.yes,
            journal: &journal,
            allowed_rules: config.revoke.rules.as_deref(),
            require_live: true,
            quiet: args.quiet,
        };
        let tally = revoke::run(&cx, &targets, &opts, &mut err)?;
        if tally.failed > 0 {
            bail!("{} revocation(s) failed (see above)", tally.failed);
        }
    }
    Ok(())
}

/// One target per distinct (rule, secret), with every location it was found at.
fn targets_from_findings(findings: &[Finding]) -> Vec<Target> {
    let mut out: Vec<Target> = Vec::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for f in findings {
        let at = format!("{}:{}", f.file, f.line);
        let key = (f.rule_id.clone(), f.secret.clone());
        match seen.get(&key) {
            Some(&i) => out[i].locations.push(at),
            None => {
                seen.insert(key, out.len());
                out.push(Target {
                    rule_id: f.rule_id.clone(),
                    secret: f.secret.clone(),
                    sha: f.secret_sha256.clone(),
                    verification: f
                        .verification
                        .clone()
                        .unwrap_or_else(|| crate::finding::Verification::new(Status::NotChecked)),
                    locations: vec![at],
                });
            }
        }
    }
    out
}

fn rotate_found(
    args: &ScanArgs,
    cx: &Context,
    journal: &Path,
    findings: &[Finding],
    out: &mut dyn Write,
) -> Result<()> {
    let mut tokens: Vec<&Finding> = findings
        .iter()
        .filter(|f| {
            provider::for_secret(&f.rule_id, &f.secret).is_some_and(|p| p.name() == "slack")
        })
        .filter(|f| slack::is_refresh_token(&f.secret))
        .collect();
    tokens.sort_by(|a, b| a.secret_sha256.cmp(&b.secret_sha256));
    tokens.dedup_by(|a, b| a.secret_sha256 == b.secret_sha256);
    if tokens.is_empty() {
        writeln!(out, "rotation: no leaked Slack refresh token found")?;
        return Ok(());
    }
    let sink = Sink::parse(args.sink.as_deref().context(
        "--rotate needs --sink (file:PATH, exec:COMMAND or stdout) for the new tokens",
    )?)?;
    if sink == Sink::Stdout && args.output.is_none() {
        bail!(
            "--sink stdout would mix the new tokens into the report on stdout: write the report \
             with --output FILE, or use a file: or exec: sink"
        );
    }
    let client_id = args
        .client_id
        .as_deref()
        .context("--rotate needs --client-id (or KEYSWEEP_CLIENT_ID)")?;
    let client_secret = secret_from_env(args.client_secret_env.as_deref(), "--client-secret-env")?;
    writeln!(out, "rotation plan:")?;
    for f in &tokens {
        writeln!(
            out,
            "  exchange {} {} at {}:{} via oauth.v2.access (retires the leaked token)",
            f.rule_id,
            crate::finding::redact(&f.secret),
            f.file,
            f.line
        )?;
    }
    if !args.yes {
        writeln!(out, "dry run: nothing was exchanged; rerun with --yes")?;
        return Ok(());
    }
    let mut failed = 0;
    for f in tokens {
        if let Err(e) = rotate::rotate_one(
            journal,
            &sink,
            "slack",
            &f.rule_id,
            &f.secret,
            || slack::refresh(cx, client_id, &client_secret, &f.secret),
            out,
        ) {
            failed += 1;
            writeln!(out, "keysweep: error: {e:#}")?;
        }
    }
    if failed > 0 {
        bail!("{failed} rotation(s) failed; nothing was revoked");
    }
    Ok(())
}

/// A secret from the environment variable `var`, or from stdin when `var` is `-`. Never from argv.
fn secret_from_env(var: Option<&str>, flag: &str) -> Result<String> {
    let var = var.with_context(|| format!("{flag} VAR is required"))?;
    let value = if var == "-" {
        read_stdin_secret()?
    } else {
        std::env::var(var).map_err(|_| anyhow::anyhow!("environment variable {var} is not set"))?
    };
    let value = value.trim().to_string();
    if value.is_empty() {
        bail!("{flag}: the secret is empty");
    }
    Ok(value)
}

fn read_stdin_secret() -> Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut s)
        .context("cannot read the secret from stdin")?;
    let s = s.trim().to_string();
    if s.is_empty() {
        bail!("no secret on stdin");
    }
    if s.split_whitespace().count() != 1 {
        bail!("stdin must hold exactly one secret");
    }
    Ok(s)
}

/// Runs `rule`'s regex and offline checks on `secret`: true when the rule finds exactly it.
fn passes_offline_checks(rule: &crate::rules::Rule, secret: &str) -> Result<bool> {
    let engine = Engine::new(vec![rule.clone()], Allowlist::default())?;
    Ok(engine
        .find(secret.as_bytes())
        .iter()
        .any(|m| m.secret == secret))
}

fn config_for(explicit: Option<&Path>) -> Result<Config> {
    Config::discover(explicit, Some(Path::new(".")))
}

/// `keysweep revoke`: one token from stdin, or every live secret of a JSON report with secrets.
pub fn revoke_command(args: &RevokeArgs) -> Result<bool> {
    let config = config_for(args.config.as_deref())?;
    let rules = config.rules()?;
    let cx = Context::new(&args.endpoints, args.verify_timeout)?;
    let journal = journal::path_or_default(args.journal.as_deref())?;
    let (candidates, require_live) = if let Some(report) = &args.report {
        (from_report(report, &rules)?, true)
    } else if args.stdin.is_some() {
        let rule_id = args
            .rule
            .as_deref()
            .context("--rule RULE_ID is required with `-`")?;
        let rule = rules
            .iter()
            .find(|r| r.id == rule_id)
            .with_context(|| format!("unknown rule `{rule_id}` (see `keysweep rules list`)"))?;
        if provider::for_rule(rule_id).is_none() {
            bail!("keysweep has no adapter for `{rule_id}`: revoke it in the provider's console");
        }
        let secret = read_stdin_secret()?;
        if !passes_offline_checks(rule, &secret)? {
            bail!(
                "the token on stdin is not a valid `{rule_id}` secret (its shape or checksum is \
                 wrong); nothing was sent"
            );
        }
        (
            vec![(rule_id.to_string(), secret, vec!["stdin".to_string()])],
            false,
        )
    } else {
        bail!(
            "nothing to revoke: pipe one token to `keysweep revoke --rule RULE_ID -`, or pass --report FILE"
        );
    };
    let items: Vec<(&str, &str)> = candidates
        .iter()
        .map(|(r, s, _)| (r.as_str(), s.as_str()))
        .collect();
    let verdicts = provider::verify_all(&cx, &items);
    let targets: Vec<Target> = candidates
        .iter()
        .zip(verdicts)
        .map(|((rule_id, secret, at), v)| Target {
            rule_id: rule_id.clone(),
            secret: secret.clone(),
            sha: sha256_hex(secret.as_bytes()),
            verification: v,
            locations: at.clone(),
        })
        .collect();
    let opts = Options {
        yes: args.yes,
        journal: &journal,
        allowed_rules: config.revoke.rules.as_deref(),
        require_live,
        quiet: args.quiet,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let tally = revoke::run(&cx, &targets, &opts, &mut out)?;
    out.flush()?;
    if tally.failed > 0 {
        bail!("{} revocation(s) failed (see above)", tally.failed);
    }
    Ok(tally.pending > 0 || tally.manual > 0)
}

type Candidate = (String, String, Vec<String>);

fn from_report(path: &Path, rules: &[crate::rules::Rule]) -> Result<Vec<Candidate>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read report {}", path.display()))?;
    let report: crate::report::json::JsonReport = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a keysweep JSON report (at line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    if report.secrets_redacted {
        bail!(
            "{} holds redacted secrets, which cannot be revoked: rerun the scan with \
             `--format json --show-secrets --output FILE` and pass that file (keep it private, \
             delete it afterwards)",
            path.display()
        );
    }
    let mut out: Vec<Candidate> = Vec::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for f in report.findings {
        let at = format!("{}:{}", f.file, f.line);
        if let Some(&i) = seen.get(&(f.rule_id.clone(), f.secret.clone())) {
            out[i].2.push(at);
            continue;
        }
        let Some(rule) = rules.iter().find(|r| r.id == f.rule_id) else {
            eprintln!(
                "keysweep: skipping a finding of unknown rule `{}`",
                f.rule_id
            );
            continue;
        };
        if sha256_hex(f.secret.as_bytes()) != f.secret_sha256
            || !passes_offline_checks(rule, &f.secret)?
        {
            eprintln!(
                "keysweep: skipping a `{}` finding at {at}: it fails offline checks (not sent)",
                f.rule_id
            );
            continue;
        }
        seen.insert((f.rule_id.clone(), f.secret.clone()), out.len());
        out.push((f.rule_id, f.secret, vec![at]));
    }
    Ok(out)
}

/// `keysweep rotate slack|gitlab`.
pub fn rotate_command(args: &RotateArgs) -> Result<bool> {
    let (common, provider_name) = match &args.provider {
        RotateProvider::Slack { common, .. } => (common, "slack"),
        RotateProvider::Gitlab { common, .. } => (common, "gitlab"),
    };
    // Check the sink before anything is minted: a typo must not cost a token.
    let sink = Sink::parse(&common.sink)?;
    let cx = Context::new(&common.endpoints, common.timeout)?;
    let journal = journal::path_or_default(common.journal.as_deref())?;
    // `-q` silences the success line; failures still come back as errors.
    let mut err: Box<dyn Write> = if common.quiet {
        Box::new(std::io::sink())
    } else {
        Box::new(std::io::stderr().lock())
    };
    match &args.provider {
        RotateProvider::Slack {
            refresh_token_env,
            config_token,
            client_id,
            client_secret_env,
            ..
        } => {
            let refresh = secret_from_env(Some(refresh_token_env), "--refresh-token-env")?;
            if !slack::is_refresh_token(&refresh) {
                bail!(
                    "--refresh-token-env: not a Slack refresh token (xoxe-...); nothing was sent"
                );
            }
            if *config_token {
                rotate::rotate_one(
                    &journal,
                    &sink,
                    provider_name,
                    "slack-config-token",
                    &refresh,
                    || slack::rotate_config_token(&cx, &refresh),
                    &mut err,
                )?;
            } else {
                let id = client_id.as_deref().context(
                    "--client-id (or KEYSWEEP_CLIENT_ID) is required without --config-token",
                )?;
                let secret = secret_from_env(client_secret_env.as_deref(), "--client-secret-env")?;
                rotate::rotate_one(
                    &journal,
                    &sink,
                    provider_name,
                    SLACK_REFRESH_RULE,
                    &refresh,
                    || slack::refresh(&cx, id, &secret, &refresh),
                    &mut err,
                )?;
            }
        }
        RotateProvider::Gitlab {
            token_env,
            expires_at,
            ..
        } => {
            let token = secret_from_env(Some(token_env), "--token-env")?;
            if !token.starts_with("glpat-") {
                bail!(
                    "--token-env: not a GitLab personal access token (glpat-...); nothing was sent"
                );
            }
            if let Some(d) = expires_at {
                let fmt = time::macros::format_description!("[year]-[month]-[day]");
                time::Date::parse(d, &fmt)
                    .map_err(|_| anyhow::anyhow!("--expires-at {d:?}: expected YYYY-MM-DD"))?;
            }
            rotate::rotate_one(
                &journal,
                &sink,
                provider_name,
                "gitlab-pat",
                &token,
                || crate::provider::gitlab::rotate(&cx, &token, expires_at.as_deref()),
                &mut err,
            )?;
        }
    }
    Ok(false)
}
