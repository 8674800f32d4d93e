//! Files and directories: `ignore`'s parallel walker, hidden files included, `.git/` never.

use std::cell::RefCell;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use globset::GlobSet;
use ignore::{WalkBuilder, WalkState};

use super::{Consumer, Origin};
use crate::engine::is_binary;
use crate::stats::{Diagnostics, Stats};

pub struct WalkOptions<'a> {
    pub no_ignore: bool,
    pub follow: bool,
    pub max_file_size: u64,
    pub threads: usize,
    pub path_allow: &'a GlobSet,
}

thread_local! {
    // One read buffer per worker: files are read whole, and reusing the allocation keeps the walk
    // from churning the allocator on trees of many small files.
    static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Walks every root in parallel and hands each text file within the limits to `consume`.
/// Unreadable entries are reported through `diag` and counted; the walk goes on.
pub fn walk(
    roots: &[PathBuf],
    opts: &WalkOptions,
    stats: &Stats,
    diag: &dyn Diagnostics,
    consume: &Consumer,
) {
    for root in roots {
        // Reports show paths relative to a scanned directory, and a scanned file by the path given.
        let base: Option<&Path> = root.is_dir().then_some(root.as_path());
        let mut builder = WalkBuilder::new(root);
        builder
            .hidden(false)
            .follow_links(opts.follow)
            .threads(opts.threads)
            .require_git(false)
            .filter_entry(|e| e.file_name() != ".git");
        if opts.no_ignore {
            builder.standard_filters(false).hidden(false);
        }
        builder.build_parallel().run(|| {
            Box::new(|entry| {
                let entry = match entry {
                    Ok(e) => e,
                    Err(err) => {
                        Stats::add(&stats.errors, 1);
                        diag.warn(&walk_error(&err));
                        return WalkState::Continue;
                    }
                };
                if !entry.file_type().is_some_and(|t| t.is_file()) {
                    return WalkState::Continue;
                }
                let path = entry.path();
                let shown = display_path(base, path);
                if opts.path_allow.is_match(&shown) {
                    Stats::add(&stats.skipped_allowlisted, 1);
                    return WalkState::Continue;
                }
                scan_file(path, &shown, opts.max_file_size, stats, diag, consume);
                WalkState::Continue
            })
        });
    }
}

fn scan_file(
    path: &Path,
    shown: &str,
    max: u64,
    stats: &Stats,
    diag: &dyn Diagnostics,
    consume: &Consumer,
) {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            Stats::add(&stats.errors, 1);
            diag.warn(&format!("cannot read {shown}: {e}"));
            return;
        }
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len > max {
        Stats::add(&stats.skipped_large, 1);
        return;
    }
    BUF.with(|buf| {
        let mut buf = buf.borrow_mut();
        buf.clear();
        // `take` bounds files that grow while being read.
        if let Err(e) = (&mut file).take(max + 1).read_to_end(&mut buf) {
            Stats::add(&stats.errors, 1);
            diag.warn(&format!("cannot read {shown}: {e}"));
            return;
        }
        if buf.len() as u64 > max {
            Stats::add(&stats.skipped_large, 1);
            return;
        }
        if is_binary(&buf) {
            Stats::add(&stats.skipped_binary, 1);
            return;
        }
        Stats::add(&stats.files, 1);
        Stats::add(&stats.bytes, buf.len() as u64);
        consume(&Origin::path(shown), &buf);
        diag.tick(stats, "files");
        // Do not let one huge file pin its buffer for the rest of the walk.
        if buf.capacity() > 4 << 20 {
            *buf = Vec::new();
        }
    });
}

/// Forward slashes and no `./`, so reports and path globs are the same on every platform.
pub fn display_path(base: Option<&Path>, path: &Path) -> String {
    let rel = match base {
        Some(b) => path.strip_prefix(b).unwrap_or(path),
        None => path,
    };
    let s = rel.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

fn walk_error(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { path, err } => format!("cannot read {}: {err}", path.display()),
        ignore::Error::Loop { child, .. } => {
            format!("symlink loop at {} (not followed again)", child.display())
        }
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error(err)
        }
        other => other.to_string(),
    }
}
