//! Exposure facts for secrets found in history: where each one is exposed now (which branches and
//! tags still hold it, whether HEAD does), and, when HEAD no longer holds it, the commit that took it
//! out. Only the blobs that matched are looked for, so this costs one read of the trees of the refs'
//! tips and of HEAD's first-parent line, each distinct tree once.

use std::collections::HashMap;

use git2::{Oid, Repository};
use serde::{Deserialize, Serialize};

use super::objects::{self, EntryKind, IdMap, Objects};
use super::pack::{Id, Kind};

/// What the history says about one secret beyond where it first appeared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exposure {
    /// Branches and tags whose tip still holds the secret.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<String>,
    /// Whether the commit checked out (HEAD) holds it.
    pub at_head: bool,
    /// The commit on HEAD's first-parent line that removed it, when HEAD no longer holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_commit: Option<String>,
    /// That commit's date (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_date: Option<String>,
    /// Paths holding it at the tips of refs (where to clean it up).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
}

/// The blobs of a repository that hold secrets, each with the secrets it holds.
pub struct Wanted {
    blobs: HashMap<Oid, Vec<usize>>,
    secrets: usize,
    order: Option<Order>,
}

/// Where the walk met the commits and the secrets: a commit holds a secret only if it comes no
/// earlier in the walk than the first commit holding one of its blobs (that is where the walk
/// recorded the blob), so older refs and the older part of HEAD's line need not be read.
struct Order {
    commit: HashMap<Oid, u32>,
    /// For each secret, the earliest commit that introduced one of its blobs (`None`: a blob
    /// reached from a ref that names a tree, which commits may hold anywhere).
    intro: Vec<Option<u32>>,
}

impl Order {
    /// True when commit `c` (walked) is older than every secret in `of`.
    fn before_all(&self, c: &Oid, of: impl IntoIterator<Item = usize>) -> bool {
        let Some(&i) = self.commit.get(c) else {
            return false;
        };
        of.into_iter()
            .all(|s| self.intro[s].is_some_and(|first| i < first))
    }
}

impl Wanted {
    /// `holds[i]` are the blobs holding secret `i`.
    pub fn new(holds: &[Vec<Oid>]) -> Wanted {
        let mut blobs: HashMap<Oid, Vec<usize>> = HashMap::new();
        for (i, list) in holds.iter().enumerate() {
            for b in list {
                blobs.entry(*b).or_default().push(i);
            }
        }
        Wanted {
            blobs,
            secrets: holds.len(),
            order: None,
        }
    }

    /// The same, knowing the walk order of `commits` and, for each secret, the index there of the
    /// commit that first introduced one of its blobs.
    pub fn with_order(mut self, commits: &[Oid], intro: Vec<Option<u32>>) -> Wanted {
        let commit = commits
            .iter()
            .enumerate()
            .map(|(i, c)| (*c, i as u32))
            .collect();
        self.order = Some(Order { commit, intro });
        self
    }

    fn before_all(&self, c: &Oid, of: impl IntoIterator<Item = usize>) -> bool {
        self.order.as_ref().is_some_and(|o| o.before_all(c, of))
    }
}

/// Which secrets a tree holds, and at which paths; memoised per tree id, so the trees shared by
/// consecutive commits and by refs are read once.
struct Trees<'r, 'o> {
    objects: &'r mut Objects<'o>,
    memo: IdMap<Vec<(usize, String)>>,
}

impl Trees<'_, '_> {
    fn holds(&mut self, tree: &Id, wanted: &Wanted) -> Vec<(usize, String)> {
        self.holds_at(tree, wanted, 0)
    }

    /// `depth`: trees above this one (the walk stops where the history walk stopped).
    fn holds_at(&mut self, tree: &Id, wanted: &Wanted, depth: usize) -> Vec<(usize, String)> {
        if let Some(found) = self.memo.get(tree) {
            return found.clone();
        }
        if depth >= super::history::MAX_TREE_DEPTH {
            return Vec::new();
        }
        let mut found = Vec::new();
        // An unreadable tree holds nothing as far as this is concerned: the scan has already
        // reported what it could not read.
        if let Ok(data) = self.objects.read(tree, Kind::Tree) {
            for entry in objects::entries(&data).map_while(Result::ok) {
                match entry.kind {
                    EntryKind::Blob => {
                        if let Some(secrets) = wanted.blobs.get(&objects::oid(entry.id)) {
                            let name = String::from_utf8_lossy(entry.name).into_owned();
                            found.extend(secrets.iter().map(|&s| (s, name.clone())));
                        }
                    }
                    EntryKind::Tree => {
                        let sub = self.holds_at(entry.id, wanted, depth + 1);
                        if !sub.is_empty() {
                            let name = String::from_utf8_lossy(entry.name);
                            for (s, path) in sub {
                                found.push((s, format!("{name}/{path}")));
                            }
                        }
                    }
                    EntryKind::Gitlink => {}
                }
            }
        }
        self.memo.insert(*tree, found.clone());
        found
    }
}

/// A commit's first parent, from its header (`tree` line, then `parent` lines).
fn first_parent(commit: &[u8]) -> Option<Id> {
    let line = commit.split(|&b| b == b'\n').nth(1)?;
    let hex = line.strip_prefix(b"parent ")?.get(..40)?;
    let mut id = [0u8; 20];
    hex::decode_to_slice(hex, &mut id).ok()?;
    Some(id)
}

fn rfc3339(c: &git2::Commit) -> String {
    let t = c.time();
    super::history::rfc3339(t.seconds(), t.offset_minutes())
}

/// The exposure of each wanted secret, in the order given to [`Wanted::new`].
pub fn exposure(repo: &Repository, objects: &mut Objects, wanted: &Wanted) -> Vec<Exposure> {
    let mut out = vec![Exposure::default(); wanted.secrets];
    if wanted.blobs.is_empty() {
        return out;
    }
    let mut trees = Trees {
        objects,
        memo: IdMap::default(),
    };
    // Refs: branches and tags (remote-tracking branches too: a bare mirror has nothing else).
    if let Ok(refs) = repo.references() {
        for r in refs.flatten() {
            let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
            if r.symbolic_target_bytes().is_some() {
                continue;
            }
            if let Ok(c) = r.peel_to_commit()
                && wanted.before_all(&c.id(), 0..wanted.secrets)
            {
                continue;
            }
            let Ok(tree) = r.peel_to_tree() else {
                continue;
            };
            let shown = name
                .strip_prefix("refs/heads/")
                .or_else(|| name.strip_prefix("refs/"))
                .unwrap_or(&name)
                .to_string();
            for (s, path) in trees.holds(&objects::id(tree.id()), wanted) {
                let e = &mut out[s];
                if !e.refs.contains(&shown) {
                    e.refs.push(shown.clone());
                }
                if !e.paths.contains(&path) {
                    e.paths.push(path);
                }
            }
        }
    }
    // HEAD and its first-parent line, newest first: the removal of a secret HEAD no longer holds is
    // the newest commit that does not hold it whose parent does.
    let Ok(head) = repo.head().and_then(|h| h.peel_to_commit()) else {
        return out;
    };
    let at_head: Vec<bool> = {
        let held = trees.holds(&objects::id(head.tree_id()), wanted);
        (0..wanted.secrets)
            .map(|s| held.iter().any(|(i, _)| *i == s))
            .collect()
    };
    let mut pending: Vec<usize> = Vec::new();
    for (s, e) in out.iter_mut().enumerate() {
        e.at_head = at_head[s];
        if !e.at_head {
            pending.push(s);
        }
    }
    // The line is read through the pack reader (a commit's tree and first parent are its first
    // lines); only the commit that removed a secret is read with libgit2, for its date.
    let mut child = objects::id(head.id());
    while !pending.is_empty() {
        let Some(parent) = trees
            .objects
            .read(&child, Kind::Commit)
            .ok()
            .and_then(|c| first_parent(&c))
        else {
            break;
        };
        // Older than every pending secret: neither this commit nor any before it holds one.
        if wanted.before_all(&objects::oid(&parent), pending.iter().copied()) {
            break;
        }
        let Some(tree) = trees
            .objects
            .read(&parent, Kind::Commit)
            .ok()
            .and_then(|c| objects::commit_tree(&c))
        else {
            break;
        };
        let held = trees.holds(&tree, wanted);
        let removed: Vec<usize> = pending
            .iter()
            .copied()
            .filter(|&s| held.iter().any(|(i, _)| *i == s))
            .collect();
        if !removed.is_empty() {
            let oid = objects::oid(&child);
            let date = repo.find_commit(oid).map(|c| rfc3339(&c)).ok();
            for s in removed {
                out[s].removed_commit = Some(oid.to_string());
                out[s].removed_date = date.clone();
            }
            pending.retain(|s| out[*s].removed_commit.is_none());
        }
        child = parent;
    }
    for e in &mut out {
        e.refs.sort();
        e.paths.sort();
    }
    out
}
