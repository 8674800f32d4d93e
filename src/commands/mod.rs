//! The commands: the only code that wires `keysweep-core` (sources, engine, reports) and
//! `keysweep-provider` (verification, revocation, rotation) together.

pub mod actions;
pub mod audit;
pub mod baseline;
pub mod install_hook;
pub mod merge;
pub mod providers;
pub mod revoke;
pub mod rotate;
pub mod rules;
pub mod scan;
pub mod stream;

use std::path::{Path, PathBuf};

use anyhow::Result;
use keysweep_core::config::Config;
use keysweep_core::finding::Finding;
use keysweep_core::scan::{self as core_scan, ScanOptions, Scanner};
use keysweep_core::source::PathDisplay;
use keysweep_core::source::git::history::HistoryOptions;
use keysweep_core::source::git::staged::Staged;
use keysweep_core::stats::Stats;

use crate::cli::{GitArgs, InputArgs};
use crate::ui::Ui;

/// The directory whose keysweep.toml and .keysweepignore apply to a scan of files: the first path
/// if it is a directory, else its parent.
pub fn config_root(paths: &[PathBuf]) -> Option<PathBuf> {
    let first = paths.first()?;
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

/// Where a scan's configuration applies and what its paths are relative to.
pub struct Roots {
    /// The directory whose keysweep.toml, .keysweepignore and path globs apply: the first directory
    /// scanned, or the repository's top for git scans (from any subdirectory).
    pub config: Option<PathBuf>,
    /// The directory reported paths are relative to (SARIF's `%SRCROOT%`).
    pub report: PathBuf,
    pub display: PathDisplay,
}

impl Roots {
    pub fn of(paths: &[PathBuf], input: &InputArgs, git: &GitArgs) -> Result<Roots> {
        let display = PathDisplay::new(input.root.as_deref());
        if git.history || git.staged {
            let at = paths.first().map_or(Path::new("."), PathBuf::as_path);
            let repo = keysweep_core::source::git::open(at)?;
            let top = repo.workdir().map(Path::to_path_buf);
            return Ok(Roots {
                report: top.clone().unwrap_or_else(|| display.base().to_path_buf()),
                config: top,
                display,
            });
        }
        Ok(Roots {
            config: config_root(paths),
            report: display.base().to_path_buf(),
            display,
        })
    }
}

/// What a scan found, before suppression and reporting.
pub struct Found {
    pub findings: Vec<Finding>,
    pub config: Config,
    pub stats: Stats,
    pub roots: Roots,
}

/// A scan ready to run: its configuration, engine and options.
pub struct Prepared {
    pub roots: Roots,
    pub config: Config,
    pub scanner: Scanner,
    pub opts: ScanOptions,
}

impl Prepared {
    pub fn new(paths: &[PathBuf], input: &InputArgs, git: &GitArgs) -> Result<Prepared> {
        let threads = input.threads();
        if input.threads.is_some_and(|n| n > 0) {
            // Ignore the error: the pool may already exist when called twice in one process.
            let _ = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build_global();
        }
        let roots = Roots::of(paths, input, git)?;
        let config = Config::discover(input.config.as_deref(), roots.config.as_deref())?;
        let scanner = Scanner::new(&config)?;
        let opts = ScanOptions {
            no_ignore: input.no_ignore,
            follow: input.follow,
            max_file_size: input.max_file_size,
            threads,
            display: roots.display.clone(),
            allow_base: roots.config.clone(),
        };
        Ok(Prepared {
            roots,
            config,
            scanner,
            opts,
        })
    }
}

/// Runs the source the flags select (files and stdin, history, or the staged index) through the
/// engine; findings come back sorted.
pub fn find(paths: &[PathBuf], input: &InputArgs, git: &GitArgs, ui: &Ui) -> Result<Found> {
    let repo = || paths.first().map_or(Path::new("."), PathBuf::as_path);
    let (p, listed) = if git.staged {
        // A pre-commit hook waits on both git listing the staged change and the rules loading:
        // each takes a few milliseconds, so they run side by side. git only reads.
        let (p, listed) = std::thread::scope(|s| {
            let listing = s.spawn(|| Staged::list(repo()));
            let p = Prepared::new(paths, input, git);
            let listed = listing
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (p, listed)
        });
        // A broken configuration is reported before a broken repository, as in other scans.
        (p?, Some(listed?))
    } else {
        (Prepared::new(paths, input, git)?, None)
    };
    let stats = Stats::default();
    let mut findings = if git.history {
        let hopts = HistoryOptions {
            branches: git.branches.clone(),
            since: git.since.clone(),
            range: git.range.clone(),
            max_file_size: input.max_file_size,
        };
        core_scan::history(
            &p.scanner,
            repo(),
            &hopts,
            &p.opts,
            git.include_worktree,
            &stats,
            ui,
        )?
    } else if let Some(listed) = listed {
        core_scan::staged(&p.scanner, listed, input.max_file_size, &stats, ui)
    } else {
        core_scan::collect_paths(&p.scanner, paths, &p.opts, &stats, ui)?
    };
    core_scan::normalize(&mut findings);
    Ok(Found {
        findings,
        config: p.config,
        stats,
        roots: p.roots,
    })
}
