//! `keysweep scan`: source -> engine -> findings -> suppression -> verification -> report, then the
//! actions a scan may take (revocation, rotation), and the exit code.

use std::io::IsTerminal;
use std::time::Instant;

use anyhow::{Context as _, Result};
use keysweep_core::atomic;
use keysweep_core::finding::{Finding, Status};
use keysweep_core::report::{self, Format, ReportOptions, Summary};
use keysweep_core::scan as core_scan;
use keysweep_core::secret::{self, Secret};
use keysweep_core::suppress::Suppressor;
use keysweep_provider::{Context, Credential, verify};

use super::{actions, find};
use crate::cli::{ColorChoice, OutputArgs, ScanArgs, VerifyArgs};
use crate::ui::Ui;

pub fn run(args: &ScanArgs) -> Result<u8> {
    // JSON Lines of files streams: findings are written as they are confirmed.
    if args.output.format == crate::cli::FormatArg::Jsonl && !args.git.history && !args.git.staged {
        return super::stream::run(args);
    }
    let started = Instant::now();
    let ui = Ui::new(args.output.quiet);
    let found = find(&args.paths, &args.input, &args.git, &ui)?;
    let mut findings = found.findings;
    let floor = keysweep_core::rules::Confidence::from(args.min_confidence);
    findings.retain(|f| f.confidence >= floor);
    let suppressed = Suppressor::load(args.baseline.as_deref(), found.roots.config.as_deref())?
        .retain(&mut findings);
    let cx = provider_for(args)?;
    let mut secrets = Vec::new();
    if let Some(cx) = &cx {
        secrets = verify_findings(cx, &mut findings);
        if args.verify.only_live {
            findings.retain(|f| {
                f.verification
                    .as_ref()
                    .is_some_and(|v| v.status == Status::Live)
            });
        }
    }
    ui.finish();
    let mut summary = core_scan::summary(&found.stats, &findings, suppressed, started);
    let unchecked = unverified(&secrets);
    if cx.is_some() {
        summary.unverified = unchecked
            .iter()
            .map(|(k, v)| (k.clone(), v.len() as u64))
            .collect();
        say_unverified(&unchecked);
    }
    // With --only-live, a secret that could not be checked might be live: the run must not pass
    // as clean.
    let unknown: usize = unchecked
        .iter()
        .filter(|(why, _)| why.as_str() != NOT_CHECKED)
        .map(|(_, v)| v.len())
        .sum();
    if args.verify.only_live && unknown > 0 {
        summary.partial = true;
    }
    let policy = args.policy.policy(found.config.policy.as_ref());
    let failed = keysweep_core::policy::check(&policy, &findings, time::OffsetDateTime::now_utc());
    if policy != keysweep_core::policy::Policy::default_gate() {
        say_policy(&failed);
        summary.policy_failures = failed.clone();
    }
    write_report(&args.output, &found.roots.report, &findings, &summary)?;
    if !args.output.quiet {
        let unit = if args.git.history { "blobs" } else { "files" };
        eprintln!("{}", summary_line(&summary, unit, args.input.max_file_size));
    }
    if let Some(cx) = &cx {
        actions::after_scan(args, cx, &found.config, &secrets)?;
    }
    Ok(exit_code(
        &summary,
        !failed.is_empty(),
        args.input.allow_partial,
    ))
}

/// Each failed gate, with the secret and why, on stderr.
fn say_policy(failed: &[keysweep_core::policy::Violation]) {
    if failed.is_empty() {
        eprintln!("keysweep: policy: every gate passed");
        return;
    }
    eprintln!(
        "keysweep: policy: {} gate failure{}:",
        failed.len(),
        if failed.len() == 1 { "" } else { "s" }
    );
    for v in failed {
        eprintln!(
            "keysweep:   {}: {} {} at {}: {}",
            v.gate,
            v.rule_id,
            v.secret,
            keysweep_core::text::escape(&v.at),
            keysweep_core::text::escape(&v.reason)
        );
    }
}

/// What `summary.unverified` counts secrets under when no provider can check them.
const NOT_CHECKED: &str = "not checked (no verifier, or checking would consume the secret)";

/// Secrets with no clear answer from their provider, by reason (`connection failed`, `DNS lookup
/// failed`, `TLS failed`, `timed out`, `ran out of time`, `HTTP 503`, ...), each with where it is.
fn unverified(secrets: &[Secret]) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for s in secrets {
        let Some(v) = &s.verification else { continue };
        let why = match v.status {
            Status::Unknown | Status::Error => v
                .detail
                .clone()
                .unwrap_or_else(|| v.status.as_str().to_string()),
            Status::NotChecked => NOT_CHECKED.to_string(),
            _ => continue,
        };
        let at = s
            .locations
            .first()
            .map(|l| format!("{} at {}", s.rule_id, l))
            .unwrap_or_else(|| s.rule_id.clone());
        out.entry(why).or_default().push(at);
    }
    out
}

/// Says on stderr how many secrets could not be verified and why, naming those that ran out of
/// time or could not reach their provider. Never silent: "0 live" means nothing when nothing could
/// be asked.
fn say_unverified(by_reason: &std::collections::BTreeMap<String, Vec<String>>) {
    let unknown: Vec<(&String, &Vec<String>)> = by_reason
        .iter()
        .filter(|(why, _)| why.as_str() != NOT_CHECKED)
        .collect();
    if unknown.is_empty() {
        return;
    }
    let total: usize = unknown.iter().map(|(_, v)| v.len()).sum();
    let reasons: Vec<String> = unknown
        .iter()
        .map(|(why, v)| format!("{} {}", v.len(), keysweep_core::text::escape(why)))
        .collect();
    eprintln!(
        "keysweep: warning: {total} secret{} could not be verified: {}",
        if total == 1 { "" } else { "s" },
        reasons.join(", ")
    );
    for (why, at) in unknown {
        for a in at.iter().take(20) {
            eprintln!(
                "keysweep:   {}: {}",
                keysweep_core::text::escape(why),
                keysweep_core::text::escape(a)
            );
        }
    }
}

/// 1 when something was reported, else 0; but 2 for a partial scan unless `--allow-partial`, so that
/// CI never passes a scan that could not read everything. Says on stderr what was not read.
pub fn exit_code(summary: &Summary, found: bool, allow_partial: bool) -> u8 {
    if summary.partial && summary.errors > 0 {
        let names: Vec<String> = summary
            .not_read
            .iter()
            .map(|n| keysweep_core::text::escape(n).into_owned())
            .collect();
        let more = summary.errors.saturating_sub(names.len() as u64);
        eprintln!(
            "keysweep: warning: partial scan: {} entr{} could not be read: {}{}",
            summary.errors,
            if summary.errors == 1 { "y" } else { "ies" },
            names.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    if summary.partial && !allow_partial {
        eprintln!(
            "keysweep: exiting with 2 because the scan is incomplete; --allow-partial accepts it"
        );
        return 2;
    }
    u8::from(found)
}

/// The provider context when the scan asks a provider anything (verify, revoke, rotate).
pub fn provider_for(args: &ScanArgs) -> Result<Option<Context>> {
    let wants =
        args.verify.verify || args.verify.only_live || args.action.revoke || args.action.rotate;
    wants.then(|| context(&args.verify)).transpose()
}

pub fn context(v: &VerifyArgs) -> Result<Context> {
    let mut cx = provider_context(&v.endpoints, v.timeout(), v.budget())?;
    cx.canaries = keysweep_provider::aws::Canaries::with(&v.canary_accounts, v.verify_canaries)
        .map_err(anyhow::Error::msg)?;
    Ok(cx)
}

/// The provider context of a run: `timeout` bounds each request, and three times `timeout` each
/// secret's check as a whole (its retries and rate-limit waits included: a `Retry-After` that does
/// not fit is not waited for, and the secret is reported out of time); `budget` bounds all calls
/// of the run together.
pub fn provider_context(
    endpoints: &[String],
    timeout: std::time::Duration,
    budget: std::time::Duration,
) -> Result<Context> {
    let mut policy = keysweep_provider::Policy::new(timeout);
    policy.per_call = timeout * 3;
    policy.per_run = Some(budget);
    Context::with(
        endpoints,
        policy,
        std::sync::Arc::new(keysweep_provider::SystemClock),
    )
    .map_err(anyhow::Error::msg)
}

/// Verifies each distinct secret once and annotates every finding of it. Returns the secrets, with
/// their verification, for the actions that follow.
pub fn verify_findings(cx: &Context, findings: &mut [Finding]) -> Vec<Secret> {
    let (mut secrets, of) = secret::group(findings);
    let creds: Vec<Credential> = secrets
        .iter()
        .map(|s| Credential {
            rule_id: &s.rule_id,
            secret: &s.secret,
            pair: s.pair.as_deref(),
        })
        .collect();
    let verdicts = verify::verify_all(cx, &creds);
    for (s, v) in secrets.iter_mut().zip(verdicts) {
        s.verification = Some(v);
    }
    for (f, i) in findings.iter_mut().zip(of) {
        f.verification = secrets[i].verification.clone();
    }
    secrets
}

fn color(out: &OutputArgs) -> bool {
    match out.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => out.output.is_none() && auto_color(std::io::stdout().is_terminal()),
    }
}

/// The usual conventions, in their usual order: `NO_COLOR` wins, `CLICOLOR_FORCE` colours even a
/// pipe, `CLICOLOR=0` turns colour off, and otherwise a terminal is coloured unless `TERM` says it
/// cannot show colour. A `CI` variable is no reason to colour a dumb terminal.
fn auto_color(is_terminal: bool) -> bool {
    if anstyle_query::no_color() {
        false
    } else if anstyle_query::clicolor_force() {
        true
    } else if anstyle_query::clicolor() == Some(false) {
        false
    } else {
        is_terminal && anstyle_query::term_supports_color()
    }
}

fn write_report(
    out: &OutputArgs,
    root: &std::path::Path,
    findings: &[Finding],
    summary: &Summary,
) -> Result<()> {
    let format = Format::from(out.format);
    let opts = ReportOptions {
        show_secrets: out.show_secrets,
        color: format == Format::Human && color(out),
        root: Some(root.to_path_buf()),
    };
    match &out.output {
        Some(path) => Ok(atomic::write(path, atomic::Access::Default, |w| {
            report::write_all(format, &opts, findings, summary, Box::new(w))
        })?),
        None => {
            let stdout = std::io::stdout();
            let lock = std::io::BufWriter::new(stdout.lock());
            report::write_all(format, &opts, findings, summary, Box::new(lock))
                .or_else(ignore_broken_pipe)
                .context("cannot write the report")
        }
    }
}

fn ignore_broken_pipe(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(e)
    }
}

/// The one-line summary on stderr; `unit` names what was scanned (files, or blobs for history).
pub fn summary_line(s: &Summary, unit: &str, max_file_size: u64) -> String {
    use indicatif::HumanBytes;
    let mut line = format!(
        "{} finding{} ({} distinct secret{}) in {} {unit}, {} in {:.2}s",
        s.findings,
        if s.findings == 1 { "" } else { "s" },
        s.secrets,
        if s.secrets == 1 { "" } else { "s" },
        s.files_scanned,
        HumanBytes(s.bytes_scanned),
        s.duration_ms as f64 / 1000.0
    );
    let mut skipped = Vec::new();
    if s.skipped_binary > 0 {
        skipped.push(format!("{} binary", s.skipped_binary));
    }
    if s.skipped_large > 0 {
        skipped.push(format!(
            "{} over {}",
            s.skipped_large,
            HumanBytes(max_file_size)
        ));
    }
    if s.skipped_allowlisted > 0 {
        skipped.push(format!("{} allowlisted", s.skipped_allowlisted));
    }
    if s.skipped_ignored > 0 {
        skipped.push(format!("{} ignored by ignore files", s.skipped_ignored));
    }
    if s.skipped_special > 0 {
        skipped.push(format!(
            "{} not regular files (symlinks not followed, FIFOs, devices)",
            s.skipped_special
        ));
    }
    if !skipped.is_empty() {
        line.push_str(&format!("; skipped {}", skipped.join(", ")));
    }
    if s.allowed_inline > 0 {
        line.push_str(&format!("; {} allowed inline", s.allowed_inline));
    }
    if s.suppressed > 0 {
        line.push_str(&format!(
            "; {} suppressed by baseline or ignore file",
            s.suppressed
        ));
    }
    line
}
