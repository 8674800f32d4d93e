//! The staged index, for pre-commit hooks: what the commit being made adds, not the working tree.
//!
//! Each staged added, modified, renamed or copied file is read from the index (its staged blob), scanned
//! whole so line numbers are those of the staged file, and only findings on lines the staged change
//! adds or modifies relative to HEAD are kept: a token committed long ago does not block an unrelated
//! edit of its file, and a token staged and then deleted from the working tree is still caught.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use git2::{Delta, DiffFindOptions, DiffOptions, ErrorCode, Oid, Patch, Repository};

use crate::cli::ScanArgs;
use crate::finding::Finding;
use crate::scan::Scanner;
use crate::source::history;
use crate::ui::Stats;

/// Lines of the staged file that the change adds; `None` means the whole file is new.
type AddedLines = Option<Vec<RangeInclusive<usize>>>;

pub fn scan(scanner: &Scanner, args: &ScanArgs) -> Result<Vec<Finding>> {
    let at = args.paths.first().map_or(Path::new("."), PathBuf::as_path);
    let repo = history::open(at)?;
    if repo.is_bare() {
        bail!("--staged: {} is a bare repository (no index)", at.display());
    }
    let mut index = repo.index().context("cannot read the index")?;
    let head = match repo.head() {
        Ok(h) => Some(h.peel_to_tree().context("cannot read HEAD's tree")?),
        // Before the first commit everything staged is new.
        Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => None,
        Err(e) => return Err(e).context("cannot read HEAD"),
    };
    let mut opts = DiffOptions::new();
    // No context: hunks then cover exactly the added and modified lines. Text always, so that a
    // `-diff` attribute cannot hide a file's lines.
    opts.context_lines(0)
        .interhunk_lines(0)
        .force_text(true)
        .ignore_submodules(true);
    let mut diff = match index_tree(&repo, &mut index) {
        Some(staged) => repo.diff_tree_to_tree(head.as_ref(), Some(&staged), Some(&mut opts)),
        None => repo.diff_tree_to_index(head.as_ref(), Some(&index), Some(&mut opts)),
    }
    .context("cannot compare the index with HEAD")?;
    // A renamed file is not all new: only what changed in it is.
    let mut find = DiffFindOptions::new();
    find.renames(true).copies(true);
    diff.find_similar(Some(&mut find))?;

    let mut out = Vec::new();
    for (i, delta) in diff.deltas().enumerate() {
        let added: AddedLines = match delta.status() {
            Delta::Added => None,
            Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange => {
                Some(added_lines(&diff, i)?)
            }
            _ => continue,
        };
        let file = delta.new_file();
        let Some(path) = file.path_bytes() else {
            continue;
        };
        let path = String::from_utf8_lossy(path).into_owned();
        if scanner.path_allow.is_match(&path) {
            Stats::add(&scanner.stats.skipped_allowlisted, 1);
            continue;
        }
        if let Some(data) = read_blob(&repo, file.id(), &path, scanner, args.max_file_size) {
            out.extend(
                scanner
                    .findings_in(&data, &path, None)
                    .into_iter()
                    .filter(|f| on_added_line(f, &added)),
            );
        }
    }
    Ok(out)
}

/// The index as a tree, built in memory. Comparing two trees skips every subtree whose id did not
/// change, and building the tree reuses the index's cache of unchanged subtrees, so the cost follows
/// the size of the change; comparing HEAD with the index entry by entry follows the size of the
/// repository (a fifth of the run time for 10 staged files in a 100,000-file repository). The trees
/// go to an in-memory object store: a scan writes nothing into the repository. `None` when the index
/// cannot be a tree (a merge in progress with conflicts).
fn index_tree<'r>(repo: &'r Repository, index: &mut git2::Index) -> Option<git2::Tree<'r>> {
    if index.has_conflicts() {
        return None;
    }
    let odb = repo.odb().ok()?;
    // Above every on-disk backend, so writes land in memory.
    odb.add_new_mempack_backend(1000).ok()?;
    let oid = index.write_tree().ok()?;
    repo.find_tree(oid).ok()
}

/// The new-side line ranges of a delta's hunks.
fn added_lines(diff: &git2::Diff, i: usize) -> Result<Vec<RangeInclusive<usize>>> {
    let Some(patch) = Patch::from_diff(diff, i)? else {
        return Ok(Vec::new());
    };
    let mut ranges = Vec::with_capacity(patch.num_hunks());
    for h in 0..patch.num_hunks() {
        let (hunk, _) = patch.hunk(h)?;
        let (start, n) = (hunk.new_start() as usize, hunk.new_lines() as usize);
        if n > 0 {
            ranges.push(start..=start + n - 1);
        }
    }
    Ok(ranges)
}

fn on_added_line(f: &Finding, added: &AddedLines) -> bool {
    match added {
        None => true,
        Some(ranges) => ranges
            .iter()
            .any(|r| *r.start() <= f.end_line && f.line <= *r.end()),
    }
}

/// The staged blob's contents; an unreadable one is reported and skipped (the scan is then partial).
fn read_blob(
    repo: &Repository,
    oid: Oid,
    path: &str,
    scanner: &Scanner,
    max: u64,
) -> Option<Vec<u8>> {
    match super::history::read_blob(repo, oid, max, &scanner.stats, <[u8]>::to_vec) {
        Ok(data) => data,
        Err(e) => {
            Stats::add(&scanner.stats.errors, 1);
            scanner
                .ui
                .warn(format!("cannot read staged {path}: {}", e.message()));
            None
        }
    }
}
