//! Exposure facts for secrets found in history: where each one is exposed now (which branches and
//! tags still hold it, whether HEAD does), and, when HEAD no longer holds it, the commit that took it
//! out. Only the blobs that matched are looked for, so this costs one read of the trees of the refs'
//! tips and of HEAD's first-parent line, each distinct tree once.

use std::collections::HashMap;

use git2::{ObjectType, Oid, Repository, Tree};
use serde::{Deserialize, Serialize};

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
        }
    }
}

/// Which secrets a tree holds, and at which paths; memoised per tree id, so the trees shared by
/// consecutive commits and by refs are read once.
struct Trees<'r> {
    repo: &'r Repository,
    memo: HashMap<Oid, Vec<(usize, String)>>,
}

impl Trees<'_> {
    fn holds(&mut self, tree: &Tree, wanted: &Wanted) -> Vec<(usize, String)> {
        if let Some(found) = self.memo.get(&tree.id()) {
            return found.clone();
        }
        let mut found = Vec::new();
        for entry in tree.iter() {
            let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
            match entry.kind() {
                Some(ObjectType::Blob) => {
                    if let Some(secrets) = wanted.blobs.get(&entry.id()) {
                        found.extend(secrets.iter().map(|&s| (s, name.clone())));
                    }
                }
                Some(ObjectType::Tree) => {
                    if let Ok(sub) = self.repo.find_tree(entry.id()) {
                        for (s, path) in self.holds(&sub, wanted) {
                            found.push((s, format!("{name}/{path}")));
                        }
                    }
                }
                _ => {}
            }
        }
        self.memo.insert(tree.id(), found.clone());
        found
    }
}

fn rfc3339(c: &git2::Commit) -> String {
    let t = c.time();
    super::history::rfc3339(t.seconds(), t.offset_minutes())
}

/// The exposure of each wanted secret, in the order given to [`Wanted::new`].
pub fn exposure(repo: &Repository, wanted: &Wanted) -> Vec<Exposure> {
    let mut out = vec![Exposure::default(); wanted.secrets];
    if wanted.blobs.is_empty() {
        return out;
    }
    let mut trees = Trees {
        repo,
        memo: HashMap::new(),
    };
    // Refs: branches and tags (remote-tracking branches too: a bare mirror has nothing else).
    if let Ok(refs) = repo.references() {
        for r in refs.flatten() {
            let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
            if r.symbolic_target_bytes().is_some() {
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
            for (s, path) in trees.holds(&tree, wanted) {
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
        let held = head
            .tree()
            .map(|t| trees.holds(&t, wanted))
            .unwrap_or_default();
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
    let mut child = head;
    while !pending.is_empty() {
        let Ok(parent) = child.parent(0) else {
            break;
        };
        let held = parent
            .tree()
            .map(|t| trees.holds(&t, wanted))
            .unwrap_or_default();
        pending.retain(|&s| {
            if held.iter().any(|(i, _)| *i == s) {
                out[s].removed_commit = Some(child.id().to_string());
                out[s].removed_date = Some(rfc3339(&child));
                false
            } else {
                true
            }
        });
        child = parent;
    }
    for e in &mut out {
        e.refs.sort();
        e.paths.sort();
    }
    out
}
