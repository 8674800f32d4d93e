//! Wiring sources to the engine: a source hands `(Origin, bytes)` to the consumer built here, which
//! runs the engine and turns matches into findings. The sources never see the engine, the engine never
//! sees a source.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use globset::GlobSet;

use crate::config::Config;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::report::Summary;
use crate::source::git::history::{self, History, HistoryOptions};
use crate::source::git::staged;
use crate::source::{Origin, PathDisplay, files, stdin};
use crate::stats::{Diagnostics, Stats};

/// The engine and the path allowlist of one configuration.
pub struct Scanner {
    engine: Engine,
    path_allow: GlobSet,
}

/// How files are found and read.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub no_ignore: bool,
    pub follow: bool,
    pub max_file_size: u64,
    pub threads: usize,
    /// How walked paths are shown (relative to the current directory or `--root`).
    pub display: PathDisplay,
    /// The directory the config's path globs are relative to.
    pub allow_base: Option<PathBuf>,
}

impl Scanner {
    pub fn new(config: &Config) -> Result<Scanner> {
        Ok(Scanner {
            engine: Engine::new(config.rules()?, config.allowlist()?)?,
            path_allow: config.path_allowlist()?,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn path_allow(&self) -> &GlobSet {
        &self.path_allow
    }

    /// The findings in one buffer that its origin asks to report.
    pub fn findings_in(&self, data: &[u8], origin: &Origin, stats: &Stats) -> Vec<Finding> {
        let (located, allowed) = self.engine.scan_counted(data);
        Stats::add(&stats.allowed_inline, allowed);
        if located.is_empty() {
            return Vec::new();
        }
        let found: Vec<Finding> = located
            .into_iter()
            .map(|l| {
                let rule = &self.engine.rules()[l.m.rule];
                Finding::new(rule, l, &origin.path, None)
            })
            .filter(|f| origin.keeps(f))
            .collect();
        Stats::add(&stats.findings, found.len() as u64);
        found
    }
}

/// Scans files, directories and stdin (`-`), handing each file's findings to `found` as soon as they
/// are confirmed (in no particular order).
pub fn paths(
    scanner: &Scanner,
    paths: &[PathBuf],
    opts: &ScanOptions,
    stats: &Stats,
    diag: &dyn Diagnostics,
    found: &(dyn Fn(Vec<Finding>) + Sync),
) -> Result<()> {
    let mut roots = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            stdin::read(opts.max_file_size, stats, &|origin, data| {
                found(scanner.findings_in(data, origin, stats))
            })?;
        } else if !p.exists() && p.symlink_metadata().is_err() {
            return Err(Error::Usage(format!(
                "no such file or directory: {}",
                p.display()
            )));
        } else {
            roots.push(p.clone());
        }
    }
    let walk = files::WalkOptions {
        no_ignore: opts.no_ignore,
        follow: opts.follow,
        max_file_size: opts.max_file_size,
        threads: opts.threads,
        path_allow: &scanner.path_allow,
        allow_base: opts.allow_base.as_deref(),
        display: &opts.display,
    };
    files::walk(&roots, &walk, stats, diag, &|origin, data| {
        let f = scanner.findings_in(data, origin, stats);
        if !f.is_empty() {
            found(f);
        }
    });
    Ok(())
}

/// [`paths`], collected.
pub fn collect_paths(
    scanner: &Scanner,
    roots: &[PathBuf],
    opts: &ScanOptions,
    stats: &Stats,
    diag: &dyn Diagnostics,
) -> Result<Vec<Finding>> {
    let all = Mutex::new(Vec::new());
    paths(scanner, roots, opts, stats, diag, &|f| {
        all.lock().unwrap().extend(f)
    })?;
    Ok(all.into_inner().unwrap())
}

/// Scans every distinct blob of the history of the repository at `at`; findings carry the commit that
/// introduced them. With `worktree`, the working tree is scanned too and merged.
pub fn history(
    scanner: &Scanner,
    at: &Path,
    hopts: &HistoryOptions,
    opts: &ScanOptions,
    worktree: bool,
    stats: &Stats,
    diag: &dyn Diagnostics,
) -> Result<Vec<Finding>> {
    let history = History::walk(at, hopts, &scanner.path_allow, stats, diag)?;
    let hits = Mutex::new(Vec::new());
    history.blobs(hopts.max_file_size, stats, diag, &|origin, data| {
        let found = scanner.findings_in(data, origin, stats);
        if let (false, Some(oid)) = (found.is_empty(), origin.blob) {
            hits.lock().unwrap().push((oid, found));
        }
    });
    let hits = hits.into_inner().unwrap();
    // Every blob holding each secret, for where it is still exposed.
    let mut holds: std::collections::HashMap<(String, String), Vec<git2::Oid>> =
        std::collections::HashMap::new();
    for (oid, found) in &hits {
        for f in found {
            let e = holds
                .entry((f.rule_id.clone(), f.secret_sha256.clone()))
                .or_default();
            if !e.contains(oid) {
                e.push(*oid);
            }
        }
    }
    let mut findings = history.attribute(hits)?;
    let keys: Vec<(String, String)> = holds.keys().cloned().collect();
    let lists: Vec<Vec<git2::Oid>> = keys.iter().map(|k| holds[k].clone()).collect();
    let exposed = history.exposure(&lists);
    let by_key: std::collections::HashMap<
        &(String, String),
        &crate::source::git::exposure::Exposure,
    > = keys.iter().zip(&exposed).collect();
    for f in &mut findings {
        let key = (f.rule_id.clone(), f.secret_sha256.clone());
        f.exposure = by_key.get(&key).map(|e| (*e).clone());
    }
    if worktree {
        let Some(workdir) = history.workdir() else {
            return Err(Error::Usage(format!(
                "--include-worktree: {} has no working tree",
                at.display()
            )));
        };
        // Working-tree paths are the repository's, as history's are, so the two merge.
        let opts = ScanOptions {
            display: PathDisplay::new(Some(workdir)),
            allow_base: Some(workdir.to_path_buf()),
            ..opts.clone()
        };
        let tree = collect_paths(scanner, &[workdir.to_path_buf()], &opts, stats, diag)?;
        history::merge_worktree(&mut findings, tree);
    }
    Ok(findings)
}

/// Scans what the staged index adds relative to HEAD, listed beforehand by [`staged::Staged::list`].
pub fn staged(
    scanner: &Scanner,
    listed: staged::Staged,
    max_file_size: u64,
    stats: &Stats,
    diag: &dyn Diagnostics,
) -> Vec<Finding> {
    let all = Mutex::new(Vec::new());
    listed.read(
        max_file_size,
        &scanner.path_allow,
        stats,
        diag,
        &|origin, data| {
            all.lock()
                .unwrap()
                .extend(scanner.findings_in(data, origin, stats))
        },
    );
    all.into_inner().unwrap()
}

/// Sorts for deterministic output and drops exact duplicates (one blob reached twice).
pub fn normalize(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup_by(|a, b| a.sort_key() == b.sort_key());
}

/// The totals of a scan.
pub fn summary(stats: &Stats, findings: &[Finding], suppressed: u64, started: Instant) -> Summary {
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
        skipped_ignored: Stats::get(&stats.skipped_ignored),
        skipped_special: Stats::get(&stats.skipped_special),
        allowed_inline: Stats::get(&stats.allowed_inline),
        suppressed,
        errors,
        partial: errors > 0,
        not_read: stats.unread_names(),
        unverified: Default::default(),
        policy_failures: Vec::new(),
        duration_ms: started.elapsed().as_millis() as u64,
    }
}
