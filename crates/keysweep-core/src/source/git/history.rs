//! Git history: every distinct blob reachable from the refs, scanned once, attributed to the commit
//! that first introduced it.
//!
//! A repository's history is mostly the same contents again and again, so the cost must follow distinct
//! content, not commits x files. One walk over the commits, oldest first, visits each commit's tree but
//! descends only into subtrees never seen before: an unchanged directory has the same tree id as in the
//! parent, so it is skipped whole, and a blob is recorded the first time it appears, with the commit and
//! path where it appeared. Trees are read by keysweep's own pack reader ([`super::pack`]) and parsed in
//! place. The blobs are then decoded pack by pack in parallel, each pack entry inflated once and each
//! delta applied once to a base still at hand ([`super::pack::Pack::blobs`]); what the packs do not
//! hold (loose blobs, packs the reader did not open, entries it found damaged) is read afterwards one
//! by one. Only the blobs that matched are then attributed.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use git2::{ObjectType, Oid, Repository, Sort};
use globset::GlobSet;
use rayon::prelude::*;

use super::objects::{self, EntryKind, Git, IdMap, IdSet, Objects};
use super::odb::{self, Guard};
use super::pack::{BlobSink, Contents, Id, Kind, Packs};
use crate::error::{Error, Result};
use crate::finding::{CommitInfo, Finding};
use crate::source::{Consumer, Origin, Text, text};
use crate::stats::{Diagnostics, Stats};

/// Which part of the history to scan.
#[derive(Debug, Clone, Default)]
pub struct HistoryOptions {
    /// Only these refs (short or full names, or commit ids); all refs and HEAD when empty.
    pub branches: Vec<String>,
    /// Only blobs introduced after this commit.
    pub since: Option<String>,
    /// Only blobs introduced by the commits in `A..B`; an all-zero `A` (a push that creates a
    /// branch) means every commit reachable from `B`.
    pub range: Option<String>,
    pub max_file_size: u64,
}

/// Blobs the packs did not hold are handed to scanning threads in runs, so neighbouring blobs
/// (versions of one file, often deltas of one another) are read by the same thread, one after
/// another.
const BATCH: usize = 256;

/// A blob as first seen: by which commit (index into the walk order) and at which path.
struct BlobSite {
    /// Order of first appearance: the lower, the older.
    seq: usize,
    oid: Oid,
    /// Index into [`Walk::commits`]; `None` for blobs reached from a ref that names a tree or a blob.
    commit: Option<u32>,
    path: String,
}

/// The commit walk's state: the new blobs found so far, and what has been seen.
struct Walk<'a> {
    objects: Objects<'a>,
    path_allow: &'a GlobSet,
    /// Commits walked, by all ranges (for progress).
    walked: &'a std::sync::atomic::AtomicUsize,
    diag: &'a dyn Diagnostics,
    /// What could not be read, and why: reported once the ranges are merged.
    unread: Vec<(String, String)>,
    blobs: Vec<BlobSite>,
    seen_blobs: IdSet,
    /// Trees whose every blob has been recorded, wherever they appear.
    seen_trees: IdSet,
    /// Trees holding path-allowlisted entries: what they contribute depends on where they sit.
    seen_trees_at: HashSet<(Id, String)>,
    /// Blobs seen only at allowlisted paths (so far).
    allowlisted: IdSet,
    /// Whether to record anything (false while marking what the boundary of a range already held).
    recording: bool,
    /// Trees entered and not yet left: the walk recurses, and a hostile repository can nest trees
    /// without end (or list a tree inside itself, since ids are not re-hashed on read).
    depth: usize,
}

/// A walked history: the commits and the distinct blobs they introduce, ready to be read by
/// [`History::blobs`] and, for the blobs that matched, attributed by [`History::attribute`].
pub struct History {
    repo: Repository,
    guard: Arc<Guard>,
    packs: Packs,
    git_dir: PathBuf,
    commits: Vec<Oid>,
    blobs: Vec<BlobSite>,
}

impl History {
    /// Opens the repository containing `at` and walks its commits. Blobs at paths matching
    /// `path_allow` are left out and counted.
    pub fn walk(
        at: &Path,
        opts: &HistoryOptions,
        path_allow: &GlobSet,
        stats: &Stats,
        diag: &dyn Diagnostics,
    ) -> Result<History> {
        // Each object is read once, so libgit2's object cache only costs memory (half the peak RSS
        // on rust-lang/cargo). Re-hashing every blob on read nearly doubles CPU time; git itself
        // does not do it when reading, and a damaged object still fails zlib's checksum and is
        // reported.
        git2::opts::enable_caching(false);
        git2::opts::strict_hash_verification(false);
        // libgit2 reads commits (the revision walk) and what the pack reader leaves to it; pages
        // it maps stay resident until unmapped, and by default it maps a pack in 1 GiB windows and
        // keeps up to 8 GiB mapped. Small windows and a small total keep the resident size down.
        // SAFETY: set before any repository is opened here; the values are plain sizes.
        unsafe {
            let _ = git2::opts::set_mwindow_size(8 << 20);
            let _ = git2::opts::set_mwindow_mapped_limit(32 << 20);
        }
        let (repo, guard) = odb::open(at)?;
        if repo.is_shallow() {
            diag.warn(
                "warning: this is a shallow clone: history before its cut-off is not scanned \
                 (fetch with `git fetch --unshallow` for a complete audit)",
            );
        }
        let packs = Packs::open(guard.object_dirs());
        let (commits, other_tips) = commits(&repo, &guard, opts, stats, diag)?;
        let repo = Mutex::new(repo);
        let blobs = walk(
            &repo, &guard, &packs, &commits, other_tips, opts, path_allow, stats, diag,
        );
        let repo = repo.into_inner().unwrap_or_else(|e| e.into_inner());
        Ok(History {
            git_dir: repo.path().to_path_buf(),
            guard: Arc::new(guard),
            packs,
            repo,
            commits,
            blobs,
        })
    }

    /// The repository's working tree, if it has one.
    pub fn workdir(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    /// Reads every blob in parallel and hands it to `consume` with its blob id.
    pub fn blobs(
        &self,
        max_file_size: u64,
        stats: &Stats,
        diag: &dyn Diagnostics,
        consume: &Consumer,
    ) {
        scan_blobs(
            &self.git_dir,
            &self.guard,
            &self.packs,
            &self.blobs,
            max_file_size,
            stats,
            diag,
            consume,
        );
    }

    /// Where the secrets that the blobs in `holds[i]` hold are still exposed (see [`super::exposure`]).
    pub fn exposure(&self, holds: &[Vec<Oid>]) -> Vec<super::exposure::Exposure> {
        let wanted: HashSet<Oid> = holds.iter().flatten().copied().collect();
        let site: HashMap<Oid, Option<u32>> = self
            .blobs
            .iter()
            .filter(|b| wanted.contains(&b.oid))
            .map(|b| (b.oid, b.commit))
            .collect();
        let intro = holds
            .iter()
            .map(|list| {
                list.iter()
                    .map(|b| site.get(b).copied().flatten())
                    .try_fold(u32::MAX, |m, c| c.map(|c| m.min(c)))
            })
            .collect();
        let mut objects = Objects::new(&self.packs, Git::Own(&self.repo), &self.guard);
        super::exposure::exposure(
            &self.repo,
            &mut objects,
            &super::exposure::Wanted::new(holds).with_order(&self.commits, intro),
        )
    }

    /// Gives each finding the commit that introduced its blob, and keeps one finding per (rule,
    /// path, secret): the one from the oldest blob, where the secret first appeared at that path.
    pub fn attribute(&self, hits: Vec<(Oid, Vec<Finding>)>) -> Result<Vec<Finding>> {
        let sites: HashMap<Oid, &BlobSite> = self.blobs.iter().map(|b| (b.oid, b)).collect();
        let hits = hits
            .into_iter()
            .filter_map(|(oid, found)| sites.get(&oid).map(|s| (*s, found)))
            .collect();
        attribute(&self.repo, &self.commits, hits)
    }
}

/// A working-tree finding that history already reports (same rule, path and secret) is the same
/// leak: it is kept once, with its history attribution. The rest are uncommitted secrets.
pub fn merge_worktree(history: &mut Vec<Finding>, worktree: Vec<Finding>) {
    let known: HashSet<String> = history.iter().map(|f| f.fingerprint.clone()).collect();
    history.extend(
        worktree
            .into_iter()
            .filter(|f| !known.contains(&f.fingerprint)),
    );
}

/// The commits of every ref (or the `--branch` ones), minus what `--since` or `--range` exclude, in
/// walk order; and the refs that name a tree or a blob rather than a commit.
fn commits(
    repo: &Repository,
    guard: &Guard,
    args: &HistoryOptions,
    stats: &Stats,
    diag: &dyn Diagnostics,
) -> Result<(Vec<Oid>, Vec<Tip>)> {
    let git = |what: &str, e: git2::Error| Error::git(what, &e);
    let mut revwalk = repo.revwalk().map_err(|e| git("cannot walk history", e))?;
    // Parents before children, and among unrelated branches the older commit first, so the first
    // sighting of a blob is its introduction.
    revwalk
        .set_sorting(Sort::TOPOLOGICAL | Sort::TIME | Sort::REVERSE)
        .map_err(|e| git("cannot walk history", e))?;
    let mut other_tips = Vec::new();
    if let Some(range) = &args.range {
        let (from, to) = range
            .split_once("..")
            .filter(|(a, b)| !a.is_empty() && !b.is_empty() && !b.starts_with('.'))
            .ok_or_else(|| Error::Usage(format!("--range must look like A..B, got {range:?}")))?;
        revwalk
            .push(resolve_commit(repo, to)?)
            .map_err(|e| git("cannot walk history", e))?;
        // A push that creates a branch reports its old value as forty zeros: no lower bound. A
        // full commit id the clone does not have (a force push, a shallow clone) cannot bound the
        // range either: the whole history of B is scanned, which scans more, never less.
        let zero = from.len() >= 40 && from.bytes().all(|b| b == b'0');
        let full_id = from.len() == 40 && from.bytes().all(|b| b.is_ascii_hexdigit());
        match resolve_commit(repo, from) {
            _ if zero => {}
            Ok(base) => revwalk
                .hide(base)
                .map_err(|e| git("cannot walk history", e))?,
            Err(_) if full_id => diag.warn(&format!(
                "warning: --range base {from} is not in this repository (a force push or a \
                 shallow clone?): scanning the whole history of {to}"
            )),
            Err(e) => return Err(e),
        }
    } else {
        for tip in tips(repo, &args.branches, stats, diag)? {
            let object = match repo.find_object(tip.target, None) {
                Ok(o) => o,
                Err(e) => {
                    let why = guard.damage(tip.target).unwrap_or(e.message()).to_string();
                    stats.unread(diag, &format!("ref {} ({})", tip.name, tip.target), &why);
                    continue;
                }
            };
            match object.peel(ObjectType::Commit) {
                Ok(c) => {
                    if let Err(e) = revwalk.push(c.id()) {
                        stats.unread(diag, &format!("ref {}", tip.name), e.message());
                    }
                }
                Err(_) => other_tips.push(tip),
            }
        }
        if let Some(since) = &args.since {
            revwalk
                .hide(resolve_commit(repo, since)?)
                .map_err(|e| git("cannot walk history", e))?;
        }
    }
    let mut commits = Vec::new();
    for oid in revwalk {
        match oid {
            Ok(oid) => commits.push(oid),
            Err(e) => stats.unread(diag, "a commit's parents (history walk)", e.message()),
        }
    }
    Ok((commits, other_tips))
}

/// Commits per range below which a walk is not split between threads.
const MIN_RANGE: usize = 256;
/// Trees nested deeper than this are not entered (and are reported unread): far deeper than any real
/// repository, and shallow enough for the walk's recursion on a worker thread's stack.
pub const MAX_TREE_DEPTH: usize = 1000;
/// Ranges per thread: ranges cost unequal time (a range of large old merges against one of small
/// recent commits), so a thread that ends its range early takes another instead of idling; each
/// range re-reads the trees it shares with its neighbours. Six per thread: 1.76 s on rust-lang/cargo
/// against 1.88 s with three, and no slower on git/git.
const RANGES_PER_THREAD: usize = 6;

/// The blobs the commits introduce, in order of appearance. The commits are split into one
/// contiguous range per thread, each walked with its own reader and its own record of what it has
/// seen; a blob's site is then the one of the earliest range that saw it, which is where a single
/// walk would have seen it first. Each range after the first reads the whole tree of its first
/// commit, once. `--since` and `--range` walk in one go (what the excluded parents held is marked
/// first).
#[allow(clippy::too_many_arguments)]
fn walk(
    repo: &Mutex<Repository>,
    guard: &Guard,
    packs: &Packs,
    commits: &[Oid],
    other_tips: Vec<Tip>,
    args: &HistoryOptions,
    path_allow: &GlobSet,
    stats: &Stats,
    diag: &dyn Diagnostics,
) -> Vec<BlobSite> {
    let walked = std::sync::atomic::AtomicUsize::new(0);
    let new_walk = || Walk {
        objects: Objects::new(packs, Git::Shared(repo), guard),
        path_allow,
        walked: &walked,
        diag,
        unread: Vec::new(),
        blobs: Vec::new(),
        seen_blobs: IdSet::default(),
        seen_trees: IdSet::default(),
        seen_trees_at: HashSet::new(),
        allowlisted: IdSet::default(),
        recording: true,
        depth: 0,
    };
    let bounded = args.range.is_some() || args.since.is_some();
    let parts = if bounded {
        1
    } else {
        (rayon::current_num_threads() * RANGES_PER_THREAD)
            .min(commits.len() / MIN_RANGE)
            .max(1)
    };
    let ranges: Vec<Seen> = (0..parts)
        .into_par_iter()
        .map(|k| {
            let (from, to) = (k * commits.len() / parts, (k + 1) * commits.len() / parts);
            let mut w = new_walk();
            if bounded {
                w.mark_excluded_parents(commits);
            }
            for (i, &oid) in commits.iter().enumerate().take(to).skip(from) {
                w.commit(oid, Some(i as u32));
            }
            w.into_seen()
        })
        .collect();
    // Merged range by range: a blob keeps the site of the earliest range that saw it.
    let mut all = new_walk();
    for r in ranges {
        for site in r.blobs {
            if all.seen_blobs.insert(objects::id(site.oid)) {
                all.blobs.push(BlobSite {
                    seq: all.blobs.len(),
                    ..site
                });
            }
        }
        // Blobs seen without being recorded too (what excluded parents held).
        all.seen_blobs.extend(r.seen_blobs);
        all.seen_trees.extend(r.seen_trees);
        all.seen_trees_at.extend(r.seen_trees_at);
        all.allowlisted.extend(r.allowlisted);
        all.unread.extend(r.unread);
    }
    {
        let git = repo.lock().unwrap_or_else(|e| e.into_inner());
        for tip in other_tips {
            all.non_commit_tip(&git, &tip);
        }
    }
    // What could not be read, once each, however many ranges met it.
    let mut named = HashSet::new();
    for (what, why) in &all.unread {
        if named.insert(what.as_str()) {
            stats.unread(diag, what, why);
        }
    }
    Stats::add(
        &stats.skipped_allowlisted,
        all.allowlisted
            .iter()
            .filter(|b| !all.seen_blobs.contains(*b))
            .count() as u64,
    );
    all.blobs
}

/// A ref's name and the object it points to.
struct Tip {
    name: String,
    target: Oid,
}

/// Every ref and a detached HEAD, or the refs named by `--branch` (short names such as `main`,
/// `origin/main`, `v1.0`, full names, or commit ids).
fn tips(
    repo: &Repository,
    branches: &[String],
    stats: &Stats,
    diag: &dyn Diagnostics,
) -> Result<Vec<Tip>> {
    let mut out = Vec::new();
    if branches.is_empty() {
        let refs = repo
            .references()
            .map_err(|e| Error::git("cannot list refs", &e))?;
        for r in refs {
            let r = match r {
                Ok(r) => r,
                Err(e) => {
                    stats.unread(diag, "a ref", e.message());
                    continue;
                }
            };
            // Symbolic refs (`refs/remotes/origin/HEAD`) lead to a ref listed anyway.
            if let Some(target) = r.target() {
                out.push(Tip {
                    name: String::from_utf8_lossy(r.name_bytes()).into_owned(),
                    target,
                });
            }
        }
        if let Ok(head) = repo.head()
            && let Some(target) = head.target()
        {
            out.push(Tip {
                name: "HEAD".into(),
                target,
            });
        }
    } else {
        for b in branches {
            let target = match repo.resolve_reference_from_short_name(b) {
                Ok(r) => r.target(),
                Err(_) => repo.revparse_single(b).ok().map(|o| o.id()),
            };
            let target =
                target.ok_or_else(|| Error::Usage(format!("--branch {b:?}: no such ref")))?;
            out.push(Tip {
                name: b.clone(),
                target,
            });
        }
    }
    Ok(out)
}

fn resolve_commit(repo: &Repository, spec: &str) -> Result<Oid> {
    let obj = repo
        .revparse_single(spec)
        .map_err(|_| Error::Usage(format!("unknown revision {spec:?}")))?;
    Ok(obj
        .peel_to_commit()
        .map_err(|_| Error::Usage(format!("{spec:?} does not name a commit")))?
        .id())
}

/// What a walk of one range found: sent back to be merged.
struct Seen {
    blobs: Vec<BlobSite>,
    seen_blobs: IdSet,
    seen_trees: IdSet,
    seen_trees_at: HashSet<(Id, String)>,
    allowlisted: IdSet,
    unread: Vec<(String, String)>,
}

impl Walk<'_> {
    fn into_seen(self) -> Seen {
        Seen {
            blobs: self.blobs,
            seen_blobs: self.seen_blobs,
            seen_trees: self.seen_trees,
            seen_trees_at: self.seen_trees_at,
            allowlisted: self.allowlisted,
            unread: self.unread,
        }
    }

    /// Records an object the walk could not read.
    fn unread(&mut self, what: &str, why: &str) {
        self.unread.push((what.to_string(), why.to_string()));
    }

    /// Marks what the parents outside `commits` held: it was not introduced by `commits`.
    fn mark_excluded_parents(&mut self, commits: &[Oid]) {
        let selected: HashSet<Oid> = commits.iter().copied().collect();
        self.recording = false;
        for &oid in commits {
            let data = match self.objects.read(&objects::id(oid), Kind::Commit) {
                Ok(d) => d,
                Err(why) => {
                    self.unread(&format!("commit {oid}"), &why);
                    continue;
                }
            };
            // Not knowing what a parent held makes everything look new: over-reporting, but the
            // scan says it could not read it.
            for parent in objects::commit_parents(&data).filter(|p| !selected.contains(p)) {
                self.commit(parent, None);
            }
        }
        self.recording = true;
    }

    /// Walks the tree of commit `oid`.
    fn commit(&mut self, oid: Oid, index: Option<u32>) {
        let n = self.walked.fetch_add(1, Ordering::Relaxed);
        if n % 256 == 0 {
            self.diag
                .status(&format!("walking history: {} commits", n + 1));
        }
        let tree = self
            .objects
            .read(&objects::id(oid), Kind::Commit)
            .and_then(|c| objects::commit_tree(&c).ok_or_else(|| "damaged commit: no tree".into()));
        match tree {
            Ok(tree) => {
                self.enter(&tree, &mut Vec::new(), index);
            }
            Err(why) => self.unread(&format!("commit {oid}"), &why),
        }
    }

    /// Records the blobs under `tree` not seen before. Returns false when something under it was
    /// skipped for its path, so the tree cannot be marked seen independently of where it sits.
    fn tree(&mut self, id: &Id, data: &[u8], path: &mut Vec<u8>, commit: Option<u32>) -> bool {
        let mut independent = true;
        for entry in objects::entries(data) {
            let entry = match entry {
                Ok(e) => e,
                Err(why) => {
                    let at = String::from_utf8_lossy(path).into_owned();
                    self.unread(&format!("tree {} at {at}", objects::oid(id)), why);
                    break;
                }
            };
            // Most entries of a new tree were seen in an earlier version of it: skip them before
            // spending anything on their path.
            let seen = match entry.kind {
                EntryKind::Gitlink => true,
                EntryKind::Tree => self.seen_trees.contains(entry.id),
                EntryKind::Blob => self.seen_blobs.contains(entry.id),
            };
            if seen {
                continue;
            }
            let len = path.len();
            if len > 0 {
                path.push(b'/');
            }
            path.extend_from_slice(entry.name);
            let ok = match entry.kind {
                EntryKind::Tree => self.enter(entry.id, path, commit),
                _ => self.blob(entry.id, path, commit),
            };
            independent &= ok;
            path.truncate(len);
        }
        independent
    }

    fn enter(&mut self, id: &Id, path: &mut Vec<u8>, commit: Option<u32>) -> bool {
        if self.seen_trees.contains(id) {
            return true;
        }
        let here = |path: &[u8]| String::from_utf8_lossy(path).into_owned();
        let check_path = !self.path_allow.is_empty();
        if check_path && self.seen_trees_at.contains(&(*id, here(path))) {
            return false;
        }
        if self.depth >= MAX_TREE_DEPTH {
            let what = format!("tree {} at {}", objects::oid(id), here(path));
            self.unread(
                &what,
                &format!("nested more than {MAX_TREE_DEPTH} trees deep"),
            );
            self.seen_trees.insert(*id);
            return true;
        }
        let data = match self.objects.read(id, Kind::Tree) {
            Ok(d) => d,
            Err(why) => {
                let what = format!("tree {} at {}", objects::oid(id), here(path));
                self.unread(&what, &why);
                self.seen_trees.insert(*id);
                return true;
            }
        };
        self.depth += 1;
        let independent = self.tree(id, &data, path, commit);
        self.depth -= 1;
        if independent {
            self.seen_trees.insert(*id);
        } else {
            self.seen_trees_at.insert((*id, here(path)));
        }
        independent
    }

    fn blob(&mut self, id: &Id, path: &[u8], commit: Option<u32>) -> bool {
        if self.seen_blobs.contains(id) {
            return true;
        }
        let shown = String::from_utf8_lossy(path);
        if !self.path_allow.is_empty() && self.path_allow.is_match(shown.as_ref()) {
            self.allowlisted.insert(*id);
            return false;
        }
        self.seen_blobs.insert(*id);
        if self.recording {
            self.blobs.push(BlobSite {
                seq: self.blobs.len(),
                oid: objects::oid(id),
                commit,
                path: shown.into_owned(),
            });
        }
        true
    }

    /// A ref naming a tree or a blob directly (git.git has both): its blobs are scanned, attributed
    /// to the ref since no commit holds them.
    fn non_commit_tip(&mut self, repo: &Repository, tip: &Tip) {
        let obj = match repo.find_object(tip.target, None) {
            Ok(o) => o,
            Err(e) => {
                let why = self
                    .objects
                    .damage(tip.target)
                    .unwrap_or(e.message())
                    .to_string();
                self.unread(&format!("ref {}", tip.name), &why);
                return;
            }
        };
        let mut path = tip.name.clone().into_bytes();
        if let Ok(tree) = obj.peel_to_tree() {
            path.push(b':');
            let id = objects::id(tree.id());
            match self.objects.read(&id, Kind::Tree) {
                Ok(data) => self.tree_under(&data, &mut path),
                Err(why) => self.unread(&format!("ref {}", tip.name), &why),
            }
        } else if let Ok(blob) = obj.peel_to_blob() {
            self.blob(&objects::id(blob.id()), &path, None);
        }
    }

    /// A ref's tree: entries named `<ref>:<name>`, each subtree walked as usual below that.
    fn tree_under(&mut self, data: &[u8], prefix: &mut Vec<u8>) {
        for entry in objects::entries(data).map_while(Result::ok) {
            let len = prefix.len();
            prefix.extend_from_slice(entry.name);
            match entry.kind {
                EntryKind::Tree => {
                    self.enter(entry.id, prefix, None);
                }
                EntryKind::Blob => {
                    self.blob(entry.id, prefix, None);
                }
                EntryKind::Gitlink => {}
            }
            prefix.truncate(len);
        }
    }
}

thread_local! {
    // libgit2 handles cannot be shared between threads: each rayon worker opens its own, once.
    static REPO: RefCell<Option<(PathBuf, Repository)>> = const { RefCell::new(None) };
}

fn with_repo<T>(
    git_dir: &Path,
    guard: &Guard,
    f: impl FnOnce(&Repository) -> T,
) -> Result<T, git2::Error> {
    REPO.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.as_ref().is_none_or(|(p, _)| p != git_dir) {
            let repo = Repository::open_bare(git_dir)?;
            // Packs only: loose blobs are read through the guard, never by libgit2.
            repo.set_odb(&guard.pack_odb()?)?;
            *cell = Some((git_dir.to_path_buf(), repo));
        }
        let (_, repo) = cell.as_ref().expect("opened above");
        Ok(f(repo))
    })
}

/// Reads the blobs, pack by pack and then the rest, and hands each to `consume`.
#[allow(clippy::too_many_arguments)]
fn scan_blobs(
    git_dir: &Path,
    guard: &Guard,
    packs: &Packs,
    blobs: &[BlobSite],
    max_file_size: u64,
    stats: &Stats,
    diag: &dyn Diagnostics,
    consume: &Consumer,
) {
    let sink = Sink {
        index: blobs
            .iter()
            .enumerate()
            .map(|(i, b)| (objects::id(b.oid), i as u32))
            .collect(),
        sites: blobs,
        done: blobs.iter().map(|_| AtomicBool::new(false)).collect(),
        max: max_file_size,
        stats,
        diag,
        consume,
        damaged: Mutex::new(0),
    };
    for pack in packs.iter() {
        pack.blobs(packs, &sink);
    }
    // The rest one by one: loose blobs, packs the reader did not open, and entries it found
    // damaged, which libgit2 then reads or reports.
    let mut order: Vec<&BlobSite> = blobs
        .iter()
        .enumerate()
        .filter(|(i, _)| !sink.done[*i].load(Ordering::Relaxed))
        .map(|(_, b)| b)
        .collect();
    order.sort_unstable_by(|a, b| a.path.cmp(&b.path).then(a.seq.cmp(&b.seq)));
    order.par_chunks(BATCH).for_each(|run| {
        for site in run {
            let origin = Origin {
                path: site.path.clone(),
                blob: Some(site.oid),
                added: None,
            };
            let result = with_repo(git_dir, guard, |repo| {
                read_blob(repo, guard, site.oid, max_file_size, stats, |data| {
                    consume(&origin, data)
                })
            });
            let what = || format!("blob {} ({})", site.oid, site.path);
            match result {
                Ok(Ok(_)) => diag.tick(stats, "blobs"),
                Ok(Err(why)) => stats.unread(diag, &what(), &why),
                Err(e) => stats.unread(diag, &what(), e.message()),
            }
        }
    });
}

/// Where the pack traversal hands the blobs of the walk.
struct Sink<'a> {
    index: IdMap<u32>,
    sites: &'a [BlobSite],
    /// Whether each site's blob was handed over (a blob in two packs is scanned once).
    done: Vec<AtomicBool>,
    max: u64,
    stats: &'a Stats,
    diag: &'a dyn Diagnostics,
    consume: &'a Consumer<'a>,
    /// Entries the reader found damaged (left for libgit2 to read or report).
    damaged: Mutex<u64>,
}

impl BlobSink for Sink<'_> {
    fn wants(&self, id: &Id) -> bool {
        self.index
            .get(id)
            .is_some_and(|&i| !self.done[i as usize].load(Ordering::Relaxed))
    }

    fn blob(&self, id: &Id, contents: Contents<'_>) {
        let Some(&i) = self.index.get(id) else {
            return;
        };
        if self.done[i as usize].swap(true, Ordering::Relaxed) {
            return;
        }
        let site = &self.sites[i as usize];
        match contents {
            Contents::TooLarge(_) => Stats::add(&self.stats.skipped_large, 1),
            Contents::Binary => Stats::add(&self.stats.skipped_binary, 1),
            Contents::Data(data) => {
                let t = text(data);
                match t.bytes() {
                    None => Stats::add(&self.stats.skipped_binary, 1),
                    Some(bytes) => {
                        if matches!(t, Text::Decoded(_)) {
                            Stats::add(&self.stats.transcoded, 1);
                        }
                        Stats::add(&self.stats.files, 1);
                        Stats::add(&self.stats.bytes, data.len() as u64);
                        let origin = Origin {
                            path: site.path.clone(),
                            blob: Some(site.oid),
                            added: None,
                        };
                        (self.consume)(&origin, &bytes);
                    }
                }
            }
        }
        self.diag.tick(self.stats, "blobs");
    }

    fn damaged(&self, _id: &Id, _why: &str) {
        *self.damaged.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    }

    fn max_size(&self) -> u64 {
        self.max
    }
}

/// Hands a blob's contents to `use_data`, unless it is over `max` bytes (checked from the object
/// header, so it is never inflated) or binary; both are counted as skipped, and what is read is
/// counted as scanned. UTF-16 with a BOM is decoded first. A loose blob is read through `guard`,
/// a packed one by libgit2.
pub fn read_blob<T>(
    repo: &Repository,
    guard: &Guard,
    oid: Oid,
    max: u64,
    stats: &Stats,
    use_data: impl FnOnce(&[u8]) -> T,
) -> Result<Option<T>, String> {
    if let Some(why) = guard.damage(oid) {
        return Err(why.to_string());
    }
    let odb;
    let owned;
    let data: &[u8] = match guard.loose_blob_size(oid) {
        Some(size) => {
            if size? > max {
                Stats::add(&stats.skipped_large, 1);
                return Ok(None);
            }
            owned = Loaded::Loose(guard.read_loose_blob(oid).expect("a loose blob")?);
            owned.data()
        }
        None => {
            odb = repo.odb().map_err(|e| e.message().to_string())?;
            let (size, _) = odb.read_header(oid).map_err(|e| e.message().to_string())?;
            if size as u64 > max {
                Stats::add(&stats.skipped_large, 1);
                return Ok(None);
            }
            owned = Loaded::Packed(odb.read(oid).map_err(|e| e.message().to_string())?);
            owned.data()
        }
    };
    let t = text(data);
    let Some(bytes) = t.bytes() else {
        Stats::add(&stats.skipped_binary, 1);
        return Ok(None);
    };
    if matches!(t, Text::Decoded(_)) {
        Stats::add(&stats.transcoded, 1);
    }
    Stats::add(&stats.files, 1);
    Stats::add(&stats.bytes, data.len() as u64);
    Ok(Some(use_data(&bytes)))
}

/// A blob's contents, from wherever they were read.
enum Loaded<'a> {
    Loose(Vec<u8>),
    Packed(git2::OdbObject<'a>),
}

impl Loaded<'_> {
    fn data(&self) -> &[u8] {
        match self {
            Loaded::Loose(v) => v,
            Loaded::Packed(o) => o.data(),
        }
    }
}

/// Gives each finding its commit, and keeps one finding per (rule, path, secret): the one from the
/// oldest blob, i.e. where the secret first appeared at that path. Later revisions of the file that
/// still hold it are the same leak.
fn attribute(
    repo: &Repository,
    commits: &[Oid],
    mut hits: Vec<(&BlobSite, Vec<Finding>)>,
) -> Result<Vec<Finding>> {
    hits.sort_by_key(|(site, _)| site.seq);
    let mut first: HashMap<String, usize> = HashMap::new();
    for (site, found) in &hits {
        for f in found {
            first.entry(f.fingerprint.clone()).or_insert(site.seq);
        }
    }
    let mut infos: HashMap<u32, CommitInfo> = HashMap::new();
    let mut out = Vec::new();
    for (site, found) in hits {
        let info = match site.commit {
            Some(c) => Some(match infos.get(&c) {
                Some(info) => info.clone(),
                None => {
                    let info = commit_info(repo, commits[c as usize])?;
                    infos.insert(c, info.clone());
                    info
                }
            }),
            None => None,
        };
        for mut f in found {
            if first.get(&f.fingerprint) == Some(&site.seq) {
                f.commit = info.clone();
                out.push(f);
            }
        }
    }
    Ok(out)
}

fn commit_info(repo: &Repository, oid: Oid) -> Result<CommitInfo> {
    let commit = repo
        .find_commit(oid)
        .map_err(|e| Error::git(format!("cannot read commit {oid}"), &e))?;
    let author = commit.author();
    let when = author.when();
    Ok(CommitInfo {
        commit: oid.to_string(),
        author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
        email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
        date: rfc3339(when.seconds(), when.offset_minutes()),
    })
}

/// A git timestamp in RFC 3339, in the author's own offset.
pub fn rfc3339(seconds: i64, offset_minutes: i32) -> String {
    let utc = time::OffsetDateTime::from_unix_timestamp(seconds)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let offset =
        time::UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap_or(time::UtcOffset::UTC);
    utc.to_offset(offset)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| seconds.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_keep_the_author_offset() {
        assert_eq!(rfc3339(1_700_000_000, 0), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(1_700_000_000, 120), "2023-11-15T00:13:20+02:00");
        assert_eq!(rfc3339(1_700_000_000, -330), "2023-11-14T16:43:20-05:30");
    }
}
