//! Files and directories: `ignore`'s parallel walker, hidden files included, `.git/` never.
//!
//! A walked entry is opened only if the walk saw a regular file, and the open itself refuses to block
//! or to follow a link planted since (`O_NONBLOCK`, and `O_NOFOLLOW` unless `--follow`); what was
//! opened is read only if `fstat` says it is a regular file. A file swapped for a FIFO mid-walk is
//! then skipped, never waited on. A path named on the command line that is not a directory is read as
//! the user asked, whatever it is (a FIFO, `/dev/stdin`, process substitution), bounded by the size
//! limit. Everything not read is counted: binary, too large, allowlisted, ignored, special.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use globset::GlobSet;
use ignore::{WalkBuilder, WalkState};

use super::{Consumer, Origin, PathDisplay, Text, text};
use crate::stats::{Diagnostics, Stats};

pub struct WalkOptions<'a> {
    pub no_ignore: bool,
    pub follow: bool,
    pub max_file_size: u64,
    pub threads: usize,
    pub path_allow: &'a GlobSet,
    /// The directory `path_allow`'s globs are relative to (where the config applies); `None`: the
    /// shown path.
    pub allow_base: Option<&'a Path>,
    pub display: &'a PathDisplay,
}

impl WalkOptions<'_> {
    fn allowlisted(&self, walked: &Path, shown: &str) -> bool {
        if self.path_allow.is_empty() {
            return false;
        }
        match self
            .allow_base
            .and_then(|b| self.display.relative_to(b, walked))
        {
            Some(rel) => self.path_allow.is_match(&rel),
            None => self.path_allow.is_match(shown),
        }
    }
}

thread_local! {
    // One read buffer per worker: files are read whole, and reusing the allocation keeps the walk
    // from churning the allocator on trees of many small files.
    static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Walks every root in parallel and hands each text file within the limits to `consume`. A root
/// that is not a directory is read directly. Unreadable entries are reported through `diag` and
/// counted; the walk goes on.
pub fn walk(
    roots: &[PathBuf],
    opts: &WalkOptions,
    stats: &Stats,
    diag: &dyn Diagnostics,
    consume: &Consumer,
) {
    for root in roots {
        if !root.is_dir() {
            let shown = opts.display.show(root);
            if opts.allowlisted(root, &shown) {
                Stats::add(&stats.skipped_allowlisted, 1);
                continue;
            }
            // Named by the user: opened as a plain read, whatever kind of file it is.
            match File::open(root) {
                Ok(f) => read_and_scan(f, &shown, opts.max_file_size, stats, diag, consume),
                Err(e) => stats.unread(diag, &shown, &e.to_string()),
            }
            continue;
        }
        walk_dir(root, opts, stats, diag, consume);
    }
}

fn walk_dir(
    root: &Path,
    opts: &WalkOptions,
    stats: &Stats,
    diag: &dyn Diagnostics,
    consume: &Consumer,
) {
    // The walker opens ignore files with a plain blocking open: a FIFO planted as `.gitignore`
    // would hang the scan. The root's and its parents' are checked here, each directory's before
    // the walker enters it; a directory whose ignore file is not a regular file is not entered, and
    // is reported.
    let refused: Arc<Mutex<Vec<(PathBuf, PathBuf)>>> = Arc::default();
    if !opts.no_ignore {
        let abs = super::normalize(&std::env::current_dir().unwrap_or_default().join(root));
        if let Some((_, bad)) = abs.ancestors().find_map(special_ignore_file) {
            stats.unread(
                diag,
                &opts.display.show(root),
                &format!(
                    "{} is not a regular file (a FIFO or device would block the scan)",
                    bad.display()
                ),
            );
            return;
        }
    }
    let mut builder = WalkBuilder::new(root);
    let check_ignore_files = !opts.no_ignore;
    let refused_in = refused.clone();
    builder
        .hidden(false)
        .follow_links(opts.follow)
        .threads(opts.threads)
        .require_git(false)
        .filter_entry(move |e| {
            if e.file_name() == ".git" {
                return false;
            }
            if check_ignore_files
                && e.file_type().is_some_and(|t| t.is_dir())
                && let Some(bad) = special_ignore_file(e.path())
            {
                refused_in
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(bad);
                return false;
            }
            true
        });
    if opts.no_ignore {
        builder.standard_filters(false).hidden(false);
    }
    let ignored = IgnoredCount::default();
    builder.build_parallel().run(|| {
        let mut seen = ignored.local(!opts.no_ignore);
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    if let Some(p) = error_path(&err) {
                        seen.saw(p);
                    }
                    let (what, why) = walk_error(&err, opts.display);
                    if is_loop(&err) {
                        // Everything under the loop was reached once already: nothing is missed.
                        diag.warn(&format!("{what}: {why}"));
                    } else {
                        stats.unread(diag, &what, &why);
                    }
                    return WalkState::Continue;
                }
            };
            let path = entry.path();
            if entry.depth() > 0 {
                seen.saw(path);
            }
            let Some(kind) = entry.file_type() else {
                return WalkState::Continue;
            };
            if kind.is_dir() {
                seen.expect(path);
                return WalkState::Continue;
            }
            if !kind.is_file() {
                Stats::add(&stats.skipped_special, 1);
                return WalkState::Continue;
            }
            let shown = opts.display.show(path);
            if opts.allowlisted(path, &shown) {
                Stats::add(&stats.skipped_allowlisted, 1);
                return WalkState::Continue;
            }
            match open_walked(path, opts.follow) {
                Ok(Some(f)) => read_and_scan(f, &shown, opts.max_file_size, stats, diag, consume),
                Ok(None) => Stats::add(&stats.skipped_special, 1),
                Err(e) => stats.unread(diag, &shown, &e.to_string()),
            }
            WalkState::Continue
        })
    });
    let refused = refused.lock().unwrap_or_else(|p| p.into_inner());
    // A directory left out for its ignore file is an error, not an ignored entry.
    Stats::add(
        &stats.skipped_ignored,
        ignored.total().saturating_sub(refused.len() as u64),
    );
    for (dir, bad) in refused.iter() {
        stats.unread(
            diag,
            &opts.display.show(dir),
            &format!(
                "{} is not a regular file (a FIFO or device would block the scan); the \
                 directory was not entered",
                opts.display.show(bad)
            ),
        );
    }
}

/// An ignore file the walker would open in `dir` that exists and is not a regular file, with `dir`.
fn special_ignore_file(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    [".gitignore", ".ignore", ".git/info/exclude"]
        .iter()
        .map(|name| dir.join(name))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| !m.is_file()))
        .map(|p| (dir.to_path_buf(), p))
}

/// Reads a small text file found in a scanned tree (`keysweep.toml`, `.keysweepignore`): opened
/// without blocking, refused unless it is a regular file, at most `max` bytes. A FIFO swapped in for
/// the config must not hang the scan, nor a huge file fill memory.
pub fn read_regular(path: &Path, max: u64) -> std::io::Result<String> {
    let mut o = OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NONBLOCK);
    }
    let f = o.open(path)?;
    let m = f.metadata()?;
    if !m.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if m.len() > max {
        return Err(std::io::Error::other(format!("larger than {max} bytes")));
    }
    let mut text = String::new();
    f.take(max).read_to_string(&mut text)?;
    Ok(text)
}

/// Opens a walked entry without blocking and without following a link planted since the walk saw
/// it; `None` when what was opened is not a regular file.
fn open_walked(path: &Path, follow: bool) -> std::io::Result<Option<File>> {
    let mut o = OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
        o.custom_flags(libc::O_NONBLOCK | nofollow);
    }
    #[cfg(not(unix))]
    let _ = follow;
    let file = match o.open(path) {
        Ok(f) => f,
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(file.metadata()?.is_file().then_some(file))
}

fn read_and_scan(
    mut file: File,
    shown: &str,
    max: u64,
    stats: &Stats,
    diag: &dyn Diagnostics,
    consume: &Consumer,
) {
    // Regular files say their size up front; pipes and devices are read up to the limit.
    if let Ok(m) = file.metadata()
        && m.is_file()
        && m.len() > max
    {
        Stats::add(&stats.skipped_large, 1);
        return;
    }
    BUF.with(|buf| {
        let mut buf = buf.borrow_mut();
        buf.clear();
        // `take` bounds files that grow while being read, and endless devices.
        if let Err(e) = (&mut file)
            .take(max.saturating_add(1))
            .read_to_end(&mut buf)
        {
            stats.unread(diag, shown, &e.to_string());
            return;
        }
        scan_buffer(&buf, shown, max, stats, consume);
        diag.tick(stats, "files");
        // Do not let one huge file pin its buffer for the rest of the walk.
        if buf.capacity() > 4 << 20 {
            *buf = Vec::new();
        }
    });
}

/// Applies the size limit and the binary rule to a buffer read whole, decodes UTF-16, counts, and
/// hands it on.
pub fn scan_buffer(data: &[u8], shown: &str, max: u64, stats: &Stats, consume: &Consumer) {
    if data.len() as u64 > max {
        Stats::add(&stats.skipped_large, 1);
        return;
    }
    let t = text(data);
    let Some(bytes) = t.bytes() else {
        Stats::add(&stats.skipped_binary, 1);
        return;
    };
    if matches!(t, Text::Decoded(_)) {
        Stats::add(&stats.transcoded, 1);
    }
    Stats::add(&stats.files, 1);
    Stats::add(&stats.bytes, data.len() as u64);
    consume(&Origin::path(shown), &bytes);
}

/// Counts what ignore files kept out of the walk: for each directory walked, its children minus those
/// the walker handed over. Each worker thread tallies locally and adds its tally at the end.
#[derive(Default)]
struct IgnoredCount {
    dirs: Mutex<HashMap<PathBuf, i64>>,
}

struct LocalCount<'a> {
    on: bool,
    into: &'a IgnoredCount,
    dirs: HashMap<PathBuf, i64>,
}

impl IgnoredCount {
    fn local(&self, on: bool) -> LocalCount<'_> {
        LocalCount {
            on,
            into: self,
            dirs: HashMap::new(),
        }
    }

    fn total(&self) -> u64 {
        let dirs = self.dirs.lock().unwrap_or_else(|e| e.into_inner());
        dirs.values().filter(|&&n| n > 0).sum::<i64>() as u64
    }
}

impl LocalCount<'_> {
    fn saw(&mut self, path: &Path) {
        if let (true, Some(parent)) = (self.on, path.parent()) {
            *self.dirs.entry(parent.to_path_buf()).or_default() -= 1;
        }
    }

    fn expect(&mut self, dir: &Path) {
        if !self.on {
            return;
        }
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let n = rd
            .filter_map(Result::ok)
            .filter(|e| e.file_name() != ".git")
            .count();
        *self.dirs.entry(dir.to_path_buf()).or_default() += n as i64;
    }
}

impl Drop for LocalCount<'_> {
    fn drop(&mut self) {
        let mut all = self.into.dirs.lock().unwrap_or_else(|e| e.into_inner());
        for (dir, n) in self.dirs.drain() {
            *all.entry(dir).or_default() += n;
        }
    }
}

fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child),
        _ => None,
    }
}

fn is_loop(err: &ignore::Error) -> bool {
    match err {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            is_loop(err)
        }
        _ => false,
    }
}

/// What could not be read, and why.
fn walk_error(err: &ignore::Error, display: &PathDisplay) -> (String, String) {
    match err {
        ignore::Error::WithPath { path, err } => (display.show(path), err.to_string()),
        ignore::Error::Loop { child, .. } => (
            display.show(child),
            "symlink loop (not followed again)".to_string(),
        ),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error(err, display)
        }
        other => ("an entry".to_string(), other.to_string()),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A file that became a FIFO after the walk listed it: opening it must neither block (no writer
    /// will come) nor read it.
    #[test]
    fn a_fifo_swapped_in_is_neither_waited_on_nor_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("was-a-file.env");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&p)
                .status()
                .unwrap()
                .success()
        );
        let (tx, rx) = std::sync::mpsc::channel();
        let q = p.clone();
        std::thread::spawn(move || {
            let _ = tx.send(open_walked(&q, false).map(|f| f.is_some()).ok());
        });
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("opening a FIFO blocked");
        assert_eq!(got, Some(false));
        // A link planted in place of a walked file is not followed without --follow.
        let link = dir.path().join("link.env");
        std::os::unix::fs::symlink("/etc/hostname", &link).unwrap();
        assert!(open_walked(&link, false).unwrap().is_none());
    }
}
