//! Commits and trees as history walks need them: read through keysweep's own pack reader, with
//! libgit2 for what it does not hold (loose objects, through the checked in-memory backend of
//! [`super::odb`], and packs it did not open) and as a second opinion on what it could not decode;
//! trees parsed in place, without an allocation per entry; object ids hashed with foldhash, not
//! SipHash (a walk looks up every entry of every new tree).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use git2::{ObjectType, Oid, Repository};

use super::odb::Guard;
use super::pack::{Id, Kind, Packs, Reader};

/// Object ids are hashed with foldhash, seeded per process: ids of real objects are SHA-1 outputs,
/// but a hostile tree can list any 20 bytes, and SipHash costs more than the lookup it serves.
pub type IdHash = foldhash::fast::RandomState;

pub type IdSet = HashSet<Id, IdHash>;
pub type IdMap<V> = HashMap<Id, V, IdHash>;

pub fn id(oid: Oid) -> Id {
    oid.as_bytes().try_into().expect("a SHA-1 id")
}

pub fn oid(id: &Id) -> Oid {
    Oid::from_bytes(id).expect("20 bytes")
}

/// How libgit2 is reached for what the packs do not hold: a repository this thread owns, or one
/// shared between the threads of a walk (reads of loose or damaged objects are rare).
#[derive(Clone, Copy)]
pub enum Git<'a> {
    Own(&'a Repository),
    Shared(&'a Mutex<Repository>),
}

impl Git<'_> {
    fn read(&self, oid: Oid) -> Result<(ObjectType, Vec<u8>), String> {
        let read = |repo: &Repository| {
            let odb = repo.odb().map_err(|e| e.message().to_string())?;
            let obj = odb.read(oid).map_err(|e| e.message().to_string())?;
            Ok((obj.kind(), obj.data().to_vec()))
        };
        match self {
            Git::Own(repo) => read(repo),
            Git::Shared(m) => read(&m.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }
}

/// Objects by id: packs first, libgit2 for the rest.
pub struct Objects<'a> {
    reader: Reader<'a>,
    git: Git<'a>,
    guard: &'a Guard,
}

impl<'a> Objects<'a> {
    pub fn new(packs: &'a Packs, git: Git<'a>, guard: &'a Guard) -> Objects<'a> {
        Objects {
            reader: Reader::new(packs),
            git,
            guard,
        }
    }

    /// Why a loose object cannot be read, if it is damaged.
    pub fn damage(&self, oid: Oid) -> Option<&str> {
        self.guard.damage(oid)
    }

    /// The contents of object `id`, which must be a `kind`.
    pub fn read(&mut self, id: &Id, kind: Kind) -> Result<Arc<Vec<u8>>, String> {
        match self.reader.read(id) {
            Some(Ok((k, data))) if k == kind => return Ok(data),
            Some(Ok((k, _))) => return Err(format!("not a {kind:?} but a {k:?}").to_lowercase()),
            // What the pack reader finds damaged, libgit2 gets a chance at; its answer stands.
            Some(Err(_)) | None => {}
        }
        let oid = oid(id);
        if let Some(why) = self.guard.damage(oid) {
            return Err(why.to_string());
        }
        let (got, data) = self.git.read(oid)?;
        let want = match kind {
            Kind::Commit => ObjectType::Commit,
            Kind::Tree => ObjectType::Tree,
            Kind::Blob => ObjectType::Blob,
            Kind::Tag => ObjectType::Tag,
        };
        if got != want {
            return Err(format!("not a {want} but a {got}"));
        }
        Ok(Arc::new(data))
    }
}

/// The tree a commit points to, from its first line.
pub fn commit_tree(data: &[u8]) -> Option<Id> {
    let hex = data.strip_prefix(b"tree ")?.get(..40)?;
    let mut id = [0u8; 20];
    hex::decode_to_slice(hex, &mut id).ok()?;
    Some(id)
}

/// A commit's parents, from its header lines.
pub fn commit_parents(data: &[u8]) -> impl Iterator<Item = Oid> + '_ {
    data.split(|&b| b == b'\n')
        .skip(1)
        .map_while(|line| line.strip_prefix(b"parent "))
        .filter_map(|hex| Oid::from_str(std::str::from_utf8(hex.get(..40)?).ok()?).ok())
}

/// What a tree entry names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Tree,
    Blob,
    /// A submodule's commit: content in another repository.
    Gitlink,
}

/// One tree entry, borrowed from the tree's bytes.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'t> {
    pub kind: EntryKind,
    pub name: &'t [u8],
    pub id: &'t Id,
}

/// The entries of a raw tree (`<octal mode> <name>\0<20-byte id>`, repeated). Stops with an error
/// at the first malformed entry.
pub struct Entries<'t> {
    rest: &'t [u8],
}

pub fn entries(tree: &[u8]) -> Entries<'_> {
    Entries { rest: tree }
}

impl<'t> Iterator for Entries<'t> {
    type Item = Result<Entry<'t>, &'static str>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let rest = self.rest;
        // The modes git writes, then any other octal mode.
        let (mode, after) = match rest {
            [b'1', b'0', b'0', b'6', b'4', b'4', b' ', ..] => (0o100644, 7),
            [b'4', b'0', b'0', b'0', b'0', b' ', ..] => (0o040000, 6),
            [b'1', b'0', b'0', b'7', b'5', b'5', b' ', ..] => (0o100755, 7),
            _ => match parse_mode(rest) {
                Some(m) => m,
                None => return self.bad(),
            },
        };
        // Names are short: a plain loop beats a vectorised search's set-up.
        let Some(nul) = rest
            .get(after..)
            .and_then(|r| r.iter().position(|&b| b == 0))
        else {
            return self.bad();
        };
        let name_end = after + nul;
        let Some(id) = rest.get(name_end + 1..name_end + 21) else {
            return self.bad();
        };
        if nul == 0 {
            return self.bad();
        }
        let kind = match mode & 0o170000 {
            0o040000 => EntryKind::Tree,
            0o160000 => EntryKind::Gitlink,
            _ => EntryKind::Blob,
        };
        self.rest = &rest[name_end + 21..];
        Some(Ok(Entry {
            kind,
            name: &rest[after..name_end],
            id: id.try_into().expect("20 bytes"),
        }))
    }
}

impl Entries<'_> {
    fn bad<'t>(&mut self) -> Option<Result<Entry<'t>, &'static str>> {
        self.rest = &[];
        Some(Err("damaged tree: malformed entry"))
    }
}

/// An octal mode of at most seven digits followed by a space; the mode and where the name starts.
fn parse_mode(b: &[u8]) -> Option<(u32, usize)> {
    let mut mode = 0u32;
    for (i, &c) in b.iter().enumerate().take(8) {
        match c {
            b'0'..=b'7' if i < 7 => mode = mode * 8 + u32::from(c - b'0'),
            b' ' if i > 0 => return Some((mode, i + 1)),
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_parse_in_place_and_stop_at_damage() {
        let a = [0x11u8; 20];
        let b = [0x22u8; 20];
        let mut t = Vec::new();
        t.extend_from_slice(b"100644 a.txt\0");
        t.extend_from_slice(&a);
        t.extend_from_slice(b"40000 dir\0");
        t.extend_from_slice(&b);
        t.extend_from_slice(b"160000 sub\0");
        t.extend_from_slice(&a);
        let got: Vec<_> = entries(&t).map(|e| e.unwrap()).collect();
        assert_eq!(got.len(), 3);
        assert_eq!(
            (got[0].kind, got[0].name, got[0].id),
            (EntryKind::Blob, &b"a.txt"[..], &a)
        );
        assert_eq!((got[1].kind, got[1].name), (EntryKind::Tree, &b"dir"[..]));
        assert_eq!(got[2].kind, EntryKind::Gitlink);
        for cut in [1, 7, 13, 20, t.len() - 1] {
            let r: Vec<_> = entries(&t[..cut]).collect();
            assert!(r.last().unwrap().is_err(), "cut at {cut}");
        }
        assert!(entries(b"10x644 a\0").next().unwrap().is_err());
        assert!(entries(b" a\0").next().unwrap().is_err());
    }

    #[test]
    fn commit_trees_and_id_hashing() {
        let c = b"tree 0123456789abcdef0123456789abcdef01234567\nparent x\n";
        assert_eq!(
            hex::encode(commit_tree(c).unwrap()),
            "0123456789abcdef0123456789abcdef01234567"
        );
        assert!(commit_tree(b"tree 0123").is_none());
        assert!(commit_tree(b"parent 0123456789abcdef0123456789abcdef01234567").is_none());
        let mut s = IdSet::default();
        for i in 0..1000u32 {
            let mut id = [0u8; 20];
            id[16..].copy_from_slice(&i.to_le_bytes());
            assert!(s.insert(id));
        }
        assert_eq!(s.len(), 1000);
    }
}
