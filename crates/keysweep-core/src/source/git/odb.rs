//! Reading a repository's objects without trusting them. libgit2 (1.9.7, the newest vendored by
//! `libgit2-sys`) spins for ever inflating a truncated loose object: its inflate loop waits for output
//! that a cut-off zlib stream never gives. So libgit2 is never shown a loose object file. Loose objects
//! are read here, with a bounded inflate that treats a short stream as damage:
//!
//! - loose commits, trees and tags are checked when the repository is opened and, when whole, handed
//!   to libgit2 through an in-memory backend;
//! - loose blobs are found by id and read here when scanned, their size checked from the header first;
//! - libgit2 itself gets only the pack backends of the object directories (and their alternates).
//!
//! A damaged object is then an error like a missing one: counted, named, and the scan goes on.

use std::collections::HashMap;
use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::bufread::ZlibDecoder;
use git2::{ObjectType, Odb, Oid, Repository};

use crate::error::{Error, Result};

/// Longest object header git writes (`commit 18446744073709551615\0` and then some).
const MAX_HEADER: usize = 64;
/// Commits, trees and tags larger than this are refused: git's own are orders of magnitude smaller,
/// and a hostile one must not fill memory.
const MAX_METADATA: u64 = 256 << 20;
/// Alternates nest at most this deep (git's own limit is 5).
const MAX_ALTERNATE_DEPTH: usize = 5;

/// A repository's loose objects, as far as they could be checked.
#[derive(Debug, Default)]
pub struct Guard {
    object_dirs: Vec<PathBuf>,
    /// Loose blobs: read here, with a bounded inflate.
    blobs: HashMap<Oid, PathBuf>,
    /// Loose objects that are damaged, and how.
    damaged: HashMap<Oid, String>,
    /// Loose objects are looked up by file name when asked for, not listed up front: a repository
    /// can hold hundreds of thousands, and a pre-commit hook reads a handful.
    by_name: bool,
}

/// Opens the repository containing `path` for reading blobs only (the staged scan, where git lists
/// the changes): loose objects are only located, by name, and read (with a bound) when asked for,
/// so a pre-commit hook does not inflate every loose object of a busy repository. libgit2 sees the
/// packs only; [`Guard::admit_loose`] hands it the loose objects, checked, when it needs them.
pub fn open_lazy(path: &Path) -> Result<(Repository, Guard)> {
    let repo = super::open(path)?;
    let mut guard = Guard {
        by_name: true,
        ..Guard::default()
    };
    collect_dirs(&repo.commondir().join("objects"), 0, &mut guard.object_dirs);
    let odb = guard
        .pack_odb()
        .map_err(|e| Error::git("cannot read the object database", &e))?;
    odb.add_new_mempack_backend(1000)
        .map_err(|e| Error::git("cannot read the object database", &e))?;
    repo.set_odb(&odb)
        .map_err(|e| Error::git("cannot read the object database", &e))?;
    Ok((repo, guard))
}

/// Opens the repository containing `path` with objects read through a [`Guard`].
pub fn open(path: &Path) -> Result<(Repository, Guard)> {
    let repo = super::open(path)?;
    let mut guard = Guard::default();
    collect_dirs(&repo.commondir().join("objects"), 0, &mut guard.object_dirs);
    let mut checked: Vec<(ObjectType, Vec<u8>)> = Vec::new();
    for dir in guard.object_dirs.clone() {
        guard.scan_loose(&dir, &mut checked);
    }
    let odb = guard
        .pack_odb()
        .map_err(|e| Error::git("cannot read the object database", &e))?;
    // Above the packs, and the only backend that takes writes: checked loose objects go there.
    odb.add_new_mempack_backend(1000)
        .map_err(|e| Error::git("cannot read the object database", &e))?;
    for (kind, data) in checked {
        odb.write(kind, &data)
            .map_err(|e| Error::git("cannot read the object database", &e))?;
    }
    repo.set_odb(&odb)
        .map_err(|e| Error::git("cannot read the object database", &e))?;
    Ok((repo, guard))
}

impl Guard {
    /// An object database with only the pack backends of the repository's object directories: what
    /// per-thread handles read packed blobs through.
    pub fn pack_odb(&self) -> Result<Odb<'static>, git2::Error> {
        let odb = Odb::new()?;
        for (i, dir) in self.object_dirs.iter().enumerate() {
            let Ok(c) = CString::new(dir.as_os_str().as_encoded_bytes()) else {
                continue;
            };
            let mut backend = std::ptr::null_mut();
            // SAFETY: `c` outlives the call; on success the backend is owned by the odb it is
            // added to, and on failure nothing was allocated.
            unsafe {
                if libgit2_sys::git_odb_backend_pack(&mut backend, c.as_ptr()) != 0 {
                    continue;
                }
                let priority = 10 - i.min(9) as i32;
                if libgit2_sys::git_odb_add_backend(git2::Binding::raw(&odb), backend, priority)
                    != 0
                {
                    if let Some(free) = (*backend).free {
                        free(backend);
                    }
                }
            }
        }
        Ok(odb)
    }

    /// Hands every whole loose object to libgit2's in-memory backend, for the operations libgit2
    /// runs on objects itself (reading HEAD and the index, rename detection). Damaged ones stay out
    /// and are recorded: libgit2 then reports them missing instead of spinning on them.
    pub fn admit_loose(&mut self, repo: &Repository) -> Result<(), git2::Error> {
        let odb = repo.odb()?;
        if self.by_name {
            for dir in &self.object_dirs {
                for (oid, path) in loose_files(dir) {
                    self.blobs.entry(oid).or_insert(path);
                }
            }
        }
        let loose: Vec<(Oid, PathBuf)> = self.blobs.iter().map(|(o, p)| (*o, p.clone())).collect();
        for (oid, path) in loose {
            match check(&path) {
                Ok(Checked::Blob) => {
                    if let Some(Ok(data)) = self.read_loose_blob(oid)
                        && data.len() as u64 <= MAX_METADATA
                    {
                        odb.write(ObjectType::Blob, &data)?;
                    }
                }
                Ok(Checked::Other(kind, data)) => {
                    odb.write(kind, &data)?;
                }
                Err(why) => {
                    self.damaged.insert(oid, why);
                }
            }
        }
        Ok(())
    }

    /// The object directories: the repository's and its alternates'.
    pub fn object_dirs(&self) -> &[PathBuf] {
        &self.object_dirs
    }

    /// Why a loose object cannot be read, if it is damaged.
    pub fn damage(&self, oid: Oid) -> Option<&str> {
        self.damaged.get(&oid).map(String::as_str)
    }

    /// The size of a loose blob, from its header; `None` when `oid` is not a loose blob.
    pub fn loose_blob_size(&self, oid: Oid) -> Option<Result<u64, String>> {
        let path = self.loose_path(oid)?;
        Some(open_object(&path).and_then(|mut r| blob_header(&mut r)))
    }

    /// A loose blob's contents, inflated with a bound; `None` when `oid` is not a loose blob.
    pub fn read_loose_blob(&self, oid: Oid) -> Option<Result<Vec<u8>, String>> {
        let path = self.loose_path(oid)?;
        Some(open_object(&path).and_then(|mut r| {
            let size = blob_header(&mut r)?;
            body(&mut r, size)
        }))
    }

    /// Where the loose object `oid` is: listed, or (looked up by name) the first object directory
    /// holding a regular file of that name.
    fn loose_path(&self, oid: Oid) -> Option<PathBuf> {
        if let Some(p) = self.blobs.get(&oid) {
            return Some(p.clone());
        }
        if !self.by_name {
            return None;
        }
        let hex = oid.to_string();
        let (fan, rest) = hex.split_at(2);
        self.object_dirs
            .iter()
            .map(|d| d.join(fan).join(rest))
            .find(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
    }

    fn scan_loose(&mut self, dir: &Path, checked: &mut Vec<(ObjectType, Vec<u8>)>) {
        for (oid, path) in loose_files(dir) {
            if self.blobs.contains_key(&oid) || self.damaged.contains_key(&oid) {
                continue;
            }
            match check(&path) {
                Ok(Checked::Blob) => {
                    self.blobs.insert(oid, path);
                }
                Ok(Checked::Other(kind, data)) => checked.push((kind, data)),
                Err(why) => {
                    self.damaged.insert(oid, why);
                }
            }
        }
    }
}

/// The loose object files of an object directory, by id (their names), unread.
fn loose_files(dir: &Path) -> Vec<(Oid, PathBuf)> {
    let mut out = Vec::new();
    let Ok(fans) = std::fs::read_dir(dir) else {
        return out;
    };
    for fan in fans.filter_map(|e| e.ok()) {
        let prefix = fan.file_name();
        let Some(prefix) = prefix.to_str().filter(|p| is_hex(p, 2)) else {
            continue;
        };
        let Ok(files) = std::fs::read_dir(fan.path()) else {
            continue;
        };
        for f in files.filter_map(|e| e.ok()) {
            let name = f.file_name();
            let Some(rest) = name.to_str().filter(|n| is_hex(n, 38)) else {
                continue;
            };
            if let Ok(oid) = Oid::from_str(&format!("{prefix}{rest}")) {
                out.push((oid, f.path()));
            }
        }
    }
    out
}

/// A header that must be a blob's; its size.
fn blob_header(r: &mut Inflater) -> Result<u64, String> {
    match header(r)? {
        (ObjectType::Blob, size) => Ok(size),
        (kind, _) => Err(format!("not a blob but a {kind}")),
    }
}

enum Checked {
    Blob,
    Other(ObjectType, Vec<u8>),
}

/// Reads a loose object's header, and all of it unless it is a blob.
fn check(path: &Path) -> Result<Checked, String> {
    let mut r = open_object(path)?;
    let (kind, size) = header(&mut r)?;
    match kind {
        ObjectType::Blob => Ok(Checked::Blob),
        _ if size > MAX_METADATA => Err(format!("damaged object: a {kind} of {size} bytes")),
        _ => Ok(Checked::Other(kind, body(&mut r, size)?)),
    }
}

type Inflater = ZlibDecoder<BufReader<File>>;

fn open_object(path: &Path) -> Result<Inflater, String> {
    let mut o = OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    let f = o
        .open(path)
        .map_err(|e| format!("cannot open object: {e}"))?;
    if !f.metadata().is_ok_and(|m| m.is_file()) {
        return Err("damaged object: not a regular file".into());
    }
    Ok(ZlibDecoder::new(BufReader::new(f)))
}

/// `<type> <size>\0`, read byte by byte from the inflated stream.
fn header(r: &mut Inflater) -> Result<(ObjectType, u64), String> {
    let mut head = Vec::with_capacity(32);
    let mut byte = [0u8; 1];
    loop {
        match r.read(&mut byte) {
            Ok(1) if byte[0] == 0 => break,
            Ok(1) if head.len() < MAX_HEADER => head.push(byte[0]),
            Ok(_) => return Err("damaged object: truncated or invalid header".into()),
            Err(_) => return Err("damaged object: corrupt zlib stream".into()),
        }
    }
    let head = std::str::from_utf8(&head).map_err(|_| "damaged object: invalid header")?;
    let (kind, size) = head
        .split_once(' ')
        .ok_or("damaged object: invalid header")?;
    let kind = ObjectType::from_str(kind).ok_or("damaged object: unknown type")?;
    let size = size
        .parse::<u64>()
        .map_err(|_| "damaged object: invalid size")?;
    Ok((kind, size))
}

/// Exactly `size` bytes, then the end of the stream: anything shorter is truncation.
fn body(r: &mut Inflater, size: u64) -> Result<Vec<u8>, String> {
    let mut data = Vec::with_capacity(size.min(16 << 20) as usize);
    r.take(size.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(|_| "damaged object: corrupt zlib stream".to_string())?;
    if data.len() as u64 != size {
        return Err(format!(
            "damaged object: truncated ({} of {size} bytes)",
            data.len().min(size as usize)
        ));
    }
    Ok(data)
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `dir` and the object directories its `info/alternates` name, recursively.
fn collect_dirs(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    if out.contains(&dir) || depth > MAX_ALTERNATE_DEPTH {
        return;
    }
    out.push(dir.clone());
    let Ok(text) = read_small(&dir.join("info").join("alternates")) else {
        return;
    };
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        collect_dirs(&dir.join(line), depth + 1, out);
    }
}

/// A small regular file, opened without blocking (an alternates file could be a FIFO).
fn read_small(path: &Path) -> std::io::Result<String> {
    let mut o = OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NONBLOCK);
    }
    let f = o.open(path)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut s = String::new();
    f.take(1 << 20).read_to_string(&mut s)?;
    Ok(s)
}
