//! `keysweep scan`: source -> engine -> findings -> suppression -> report, and the exit code.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Result, bail};

use crate::atomic;
use crate::cli::{ColorChoice, Format, ScanArgs};
use crate::config::Config;
use crate::engine::Engine;
use crate::finding::Finding;
use crate::report::{self, Report, Summary};
use crate::source::{files, history, staged, stdin};
use crate::ui::{Stats, Ui};

/// What a scan produced before reporting.
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub summary: Summary,
    /// The configuration in force, for the actions that follow a report (revocation policy).
    pub config: Config,
}

/// Everything the sources need, built once per run.
pub struct Scanner {
    pub engine: Engine,
    pub config: Config,
    pub path_allow: globset::GlobSet,
    pub stats: Stats,
    pub ui: Ui,
}

impl Scanner {
    pub fn new(args: &ScanArgs) -> Result<Scanner> {
        let root = config_root(args);
        let config = Config::discover(args.config.as_deref(), root.as_deref())?;
        let engine = Engine::new(config.rules()?, config.allowlist()?)?;
        Ok(Scanner {
            path_allow: config.path_allowlist()?,
            engine,
            config,
            stats: Stats::default(),
            ui: Ui::new(args.quiet),
        })
    }

    /// Findings in one buffer, attributed to `file` (and a commit, for history).
    pub fn findings_in(
        &self,
        data: &[u8],
        file: &str,
        commit: Option<&crate::finding::CommitInfo>,
    ) -> Vec<Finding> {
        let located = self.engine.scan(data);
        if located.is_empty() {
            return Vec::new();
        }
        Stats::add(&self.stats.findings, located.len() as u64);
        located
            .into_iter()
            .map(|l| {
                let rule = &self.engine.rules()[l.m.rule];
                Finding::new(rule, l, file, commit.cloned())
            })
            .collect()
    }
}

/// The directory whose keysweep.toml applies: the first path if it is a directory, else its parent.
pub fn config_root(args: &ScanArgs) -> Option<PathBuf> {
    let first = args.paths.first()?;
    if first.as_os_str() == "-" {
        return Some(PathBuf::from("."));
    }
    if first.is_dir() {
        Some(first.clone())
    } else {
        first.parent().map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        })
    }
}

/// The directory report paths are relative to: the scanned directory, or the current one when files
/// were named (their paths are shown as given).
fn report_root(args: &ScanArgs) -> PathBuf {
    match args.paths.first() {
        Some(p) if p.is_dir() => p.clone(),
        _ => PathBuf::from("."),
    }
}

fn threads(args: &ScanArgs) -> usize {
    args.threads
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Scans the working-tree paths (and stdin for `-`).
pub fn scan_paths(scanner: &Scanner, args: &ScanArgs) -> Result<Vec<Finding>> {
    let mut roots = Vec::new();
    let mut found = Vec::new();
    for p in &args.paths {
        if p.as_os_str() == "-" {
            if let Some(data) = stdin::read(args.max_file_size, &scanner.stats)? {
                found.extend(scanner.findings_in(&data, stdin::STDIN_NAME, None));
            }
        } else if !p.exists() && p.symlink_metadata().is_err() {
            bail!("no such file or directory: {}", p.display());
        } else {
            roots.push(p.clone());
        }
    }
    let collected = Mutex::new(found);
    let opts = files::WalkOptions {
        no_ignore: args.no_ignore,
        follow: args.follow,
        max_file_size: args.max_file_size,
        threads: threads(args),
        path_allow: &scanner.path_allow,
    };
    files::walk(&roots, &opts, &scanner.stats, &scanner.ui, &|path, data| {
        let f = scanner.findings_in(data, path, None);
        if !f.is_empty() {
            collected.lock().unwrap().extend(f);
        }
    });
    Ok(collected.into_inner().unwrap())
}

/// Sorts for deterministic output and drops exact duplicates (one blob reached twice).
pub fn normalize(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup_by(|a, b| a.sort_key() == b.sort_key());
}

pub fn summary(stats: &Stats, findings: &[Finding], started: Instant) -> Summary {
    let mut secrets: Vec<&str> = findings.iter().map(|f| f.secret_sha256.as_str()).collect();
    secrets.sort_unstable();
    secrets.dedup();
    let errors = Stats::get(&stats.errors);
    Summary {
        files_scanned: Stats::get(&stats.files),
        bytes_scanned: Stats::get(&stats.bytes),
        findings: findings.len() as u64,
        secrets: secrets.len() as u64,
        skipped_binary: Stats::get(&stats.skipped_binary),
        skipped_large: Stats::get(&stats.skipped_large),
        skipped_allowlisted: Stats::get(&stats.skipped_allowlisted),
        suppressed: 0,
        errors,
        partial: errors > 0,
        duration_ms: started.elapsed().as_millis() as u64,
    }
}

/// Collects the findings of a scan, drops the suppressed ones and summarises; `keysweep scan` reports
/// the outcome and `keysweep baseline` records it.
pub fn collect(args: &ScanArgs) -> Result<Outcome> {
    let started = Instant::now();
    if let Some(n) = args.threads.filter(|&n| n > 0) {
        // Ignore the error: the pool may already exist when called twice in one process (tests).
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global();
    }
    let scanner = Scanner::new(args)?;
    let mut findings = if args.history {
        history::scan(&scanner, args)?
    } else if args.staged {
        staged::scan(&scanner, args)?
    } else {
        scan_paths(&scanner, args)?
    };
    normalize(&mut findings);
    let suppressed = crate::baseline::suppress(args, &mut findings)?;
    crate::provider::verify_findings(args, &mut findings)?;
    scanner.ui.finish();
    let mut summary = summary(&scanner.stats, &findings, started);
    summary.findings = findings.len() as u64;
    summary.suppressed = suppressed;
    Ok(Outcome {
        findings,
        summary,
        config: scanner.config,
    })
}

/// Runs a whole scan: collect, report, summarise. Returns whether anything was reported.
pub fn run(args: &ScanArgs) -> Result<bool> {
    let Outcome {
        findings,
        summary,
        config,
    } = collect(args)?;
    write_report(args, &findings, &summary)?;
    if !args.quiet {
        let unit = if args.history { "blobs" } else { "files" };
        eprintln!("{}", summary_line(&summary, unit, args.max_file_size));
    }
    crate::action::after_scan(args, &config, &findings)?;
    if summary.partial {
        eprintln!(
            "keysweep: warning: partial scan: {} entr{} could not be read (see above)",
            summary.errors,
            if summary.errors == 1 { "y" } else { "ies" }
        );
    }
    Ok(!findings.is_empty())
}

fn write_report(args: &ScanArgs, findings: &[Finding], summary: &Summary) -> Result<()> {
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.output.is_none()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    let root = report_root(args);
    let report = Report {
        findings,
        summary,
        show_secrets: args.show_secrets,
        color: color && args.format == Format::Human,
        root: Some(&root),
    };
    match &args.output {
        Some(path) => atomic::write(path, atomic::Access::Default, |out| {
            report::write(args.format, &report, out)
        }),
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            report::write(args.format, &report, &mut out)?;
            out.flush().or_else(ignore_broken_pipe)?;
            Ok(())
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
    let mut line = format!(
        "{} finding{} ({} distinct secret{}) in {} {unit}, {} in {:.2}s",
        s.findings,
        if s.findings == 1 { "" } else { "s" },
        s.secrets,
        if s.secrets == 1 { "" } else { "s" },
        s.files_scanned,
        crate::ui::human_bytes(s.bytes_scanned),
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
            crate::ui::human_bytes(max_file_size)
        ));
    }
    if s.skipped_allowlisted > 0 {
        skipped.push(format!("{} allowlisted", s.skipped_allowlisted));
    }
    if !skipped.is_empty() {
        line.push_str(&format!("; skipped {}", skipped.join(", ")));
    }
    if s.suppressed > 0 {
        line.push_str(&format!(
            "; {} suppressed by baseline or ignore file",
            s.suppressed
        ));
    }
    line
}
