//! Packs read by keysweep itself, for history scans: the index (`.idx` version 2) and the pack
//! (`.pack` versions 2 and 3) are memory-mapped, entries are inflated with zlib-rs (through flate2)
//! and deltas applied here. Two ways in:
//!
//! - [`Reader`] reads one object by id, resolving its delta chain through a cache of recently
//!   decoded objects keyed by pack offset (the commit walk reads trees this way: successive versions
//!   of a directory are usually one delta apart, so each costs one delta once its neighbour is
//!   cached);
//! - [`Pack::blobs`] decodes the blobs of a whole pack in parallel, each entry inflated once and each
//!   delta applied once, base before delta (the way `git index-pack` resolves a pack), which is
//!   what makes reading every blob of a history cheaper than asking for them one by one.
//!
//! Every size, offset and delta instruction is checked against the file, so a damaged or hostile
//! pack gives an error for the objects it damages, never a hang, a panic or an unbounded allocation.
//! A pack whose header, index or trailer do not agree is not opened at all (libgit2 then reads it,
//! and reports what it cannot read).

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::{Decompress, FlushDecompress, Status};
use memmap2::Mmap;
use rayon::prelude::*;

/// A SHA-1 object id.
pub type Id = [u8; 20];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Commit,
    Tree,
    Blob,
    Tag,
}

impl Kind {
    fn from_code(code: u8) -> Option<Kind> {
        match code {
            1 => Some(Kind::Commit),
            2 => Some(Kind::Tree),
            3 => Some(Kind::Blob),
            4 => Some(Kind::Tag),
            _ => None,
        }
    }
}

const OFS_DELTA: u8 = 6;
const REF_DELTA: u8 = 7;
/// Longest delta chain followed (git itself writes at most 4095).
const MAX_DEPTH: usize = 10_000;
/// Most packs one delta chain may cross (git completes thin packs, so real chains cross none).
const MAX_HOPS: usize = 32;
/// Largest object inflated. git does not delta-compress objects this large, and a declared size is
/// only a claim until the data is inflated.
pub const MAX_OBJECT: u64 = 1 << 30;
/// Bytes of decoded objects a [`Reader`] keeps for the deltas that follow.
const CACHE_BYTES: usize = 32 << 20;
/// Bytes of a pack read between two releases of its mapped pages (see [`Pack::touch`]).
const RELEASE_EVERY: u64 = 32 << 20;
/// Entries of a delta tree (needed ones) above which its branches are decoded in parallel (a few in
/// unit tests, whose packs are small, so that they take this path).
const SPLIT_WEIGHT: u32 = if cfg!(test) { 4 } else { 256 };
/// Levels of such splits: each nests a parallel call on a thread's stack.
const MAX_SPLITS: u32 = 12;
/// Bytes of decoded blobs waiting to be scanned on another thread, at most.
const MAX_IN_FLIGHT: usize = 16 << 20;
/// Blobs smaller than this are scanned where they are decoded (all but empty ones are handed over
/// in unit tests).
const HAND_OFF_MIN: usize = if cfg!(test) { 1 } else { 16 << 10 };
/// Leading bytes inflated to tell a binary blob before inflating the rest.
const SNIFF: usize = 8192;
const IDX_MAGIC: [u8; 4] = [0xff, b't', b'O', b'c'];

/// One pack and its index, mapped.
pub struct Pack {
    path: PathBuf,
    pack: Mmap,
    idx: Mmap,
    count: usize,
    /// Where the 32-bit offset table starts in the index.
    offsets32: usize,
    /// Where the 64-bit offset table starts in the index.
    offsets64: usize,
    /// How many entries the 64-bit table holds.
    large: usize,
    /// Bytes read from the pack since its pages were last released.
    touched: std::sync::atomic::AtomicU64,
}

/// An entry's header, as stored.
#[derive(Debug, Clone, Copy)]
struct Header {
    code: u8,
    /// The inflated size: the object's, or for a delta the delta's.
    size: u64,
    /// Where the zlib stream starts.
    data: usize,
    base: Base,
}

#[derive(Debug, Clone, Copy)]
enum Base {
    None,
    Offset(u64),
    Id(Id),
}

/// Why an object could not be read.
pub type Damage = String;

impl Pack {
    /// Maps `pack` and the `.idx` beside it. `None` when they do not agree (wrong magic or version,
    /// object counts or checksums that differ, tables that do not fit the file): such a pack is left
    /// to libgit2.
    pub fn open(pack: &Path) -> Option<Pack> {
        let idx_path = pack.with_extension("idx");
        let map = |p: &Path| -> Option<Mmap> {
            let f = File::open(p).ok()?;
            if !f.metadata().ok()?.is_file() {
                return None;
            }
            // SAFETY: the maps are read-only. A pack is never rewritten in place by git (new packs
            // get new names); one truncated under us would fault, as it would in git and libgit2.
            unsafe { Mmap::map(&f) }.ok()
        };
        let (pmap, imap) = (map(pack)?, map(&idx_path)?);
        // Entries are read here and there, each about once: without this, every fault would map
        // the pages around it too, and the resident size would follow the pack's, not the reads'.
        let _ = pmap.advise(memmap2::Advice::Random);
        let _ = imap.advise(memmap2::Advice::Random);
        let i: &[u8] = &imap;
        if i.len() < 8 + 1024 + 40 || i[..4] != IDX_MAGIC || be32(i, 4) != 2 {
            return None;
        }
        let count = be32(i, 8 + 255 * 4) as usize;
        let oids = 8 + 1024;
        let offsets32 = oids + count.checked_mul(24)?;
        let offsets64 = offsets32.checked_add(count.checked_mul(4)?)?;
        if offsets64.checked_add(40)? > i.len() {
            return None;
        }
        let large = (i.len() - 40 - offsets64) / 8;
        let p: &[u8] = &pmap;
        if p.len() < 12 + 20
            || &p[..4] != b"PACK"
            || !matches!(be32(p, 4), 2 | 3)
            || be32(p, 8) as usize != count
            || p[p.len() - 20..] != i[i.len() - 40..i.len() - 20]
        {
            return None;
        }
        // The fan-out table must be sorted, or lookups would read outside their bucket.
        let mut prev = 0;
        for b in 0..256 {
            let n = be32(i, 8 + b * 4);
            if n < prev {
                return None;
            }
            prev = n;
        }
        Some(Pack {
            path: pack.to_path_buf(),
            pack: pmap,
            idx: imap,
            count,
            offsets32,
            offsets64,
            large,
            touched: std::sync::atomic::AtomicU64::new(0),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many objects the pack holds.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn id_at(&self, n: usize) -> &Id {
        let at = 8 + 1024 + n * 20;
        self.idx[at..at + 20].try_into().expect("20 bytes")
    }

    /// The pack offset of the `n`th object in id order; `None` when the index points outside the
    /// pack's entries.
    fn offset_at(&self, n: usize) -> Option<u64> {
        let v = be32(&self.idx, self.offsets32 + n * 4);
        let off = if v & 0x8000_0000 == 0 {
            u64::from(v)
        } else {
            let k = (v & 0x7fff_ffff) as usize;
            if k >= self.large {
                return None;
            }
            let at = self.offsets64 + k * 8;
            u64::from_be_bytes(self.idx[at..at + 8].try_into().expect("8 bytes"))
        };
        (off >= 12 && off < (self.pack.len() - 20) as u64).then_some(off)
    }

    /// Position of `id` in the index.
    fn position(&self, id: &Id) -> Option<usize> {
        let b = id[0] as usize;
        let lo = if b == 0 {
            0
        } else {
            be32(&self.idx, 8 + (b - 1) * 4) as usize
        };
        let hi = (be32(&self.idx, 8 + b * 4) as usize).min(self.count);
        let (mut lo, mut hi) = (lo.min(hi), hi);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.id_at(mid).cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The pack offset of `id`, if this pack holds it.
    pub fn find(&self, id: &Id) -> Option<u64> {
        self.position(id).and_then(|n| self.offset_at(n))
    }

    fn header(&self, off: u64) -> Result<Header, Damage> {
        let end = self.pack.len() - 20;
        let bytes = &self.pack[..end];
        let mut at = off as usize;
        let mut next = || -> Result<u8, Damage> {
            let b = *bytes
                .get(at)
                .ok_or_else(|| format!("damaged pack: entry at {off} runs past the end"))?;
            at += 1;
            Ok(b)
        };
        let mut c = next()?;
        let code = (c >> 4) & 7;
        let mut size = u64::from(c & 15);
        let mut shift = 4;
        while c & 0x80 != 0 {
            c = next()?;
            if shift > 60 {
                return Err(format!("damaged pack: entry at {off} has an invalid size"));
            }
            size |= u64::from(c & 0x7f) << shift;
            shift += 7;
        }
        let base = match code {
            1..=4 => Base::None,
            OFS_DELTA => {
                let mut c = next()?;
                let mut back = u64::from(c & 0x7f);
                while c & 0x80 != 0 {
                    c = next()?;
                    back = back
                        .checked_add(1)
                        .and_then(|b| b.checked_mul(128))
                        .map(|b| b | u64::from(c & 0x7f))
                        .ok_or_else(|| {
                            format!("damaged pack: entry at {off} has an invalid base")
                        })?;
                }
                match off.checked_sub(back) {
                    Some(b) if back > 0 && b >= 12 => Base::Offset(b),
                    _ => return Err(format!("damaged pack: entry at {off} has an invalid base")),
                }
            }
            REF_DELTA => {
                let mut id = [0u8; 20];
                for b in &mut id {
                    *b = next()?;
                }
                Base::Id(id)
            }
            _ => return Err(format!("damaged pack: entry at {off} has an unknown type")),
        };
        Ok(Header {
            code,
            size,
            data: at,
            base,
        })
    }

    /// The zlib stream of an entry, up to the end of the pack's entries.
    fn stream(&self, h: &Header) -> &[u8] {
        &self.pack[h.data..self.pack.len() - 20]
    }

    /// An entry inflated whole.
    fn inflate(&self, z: &mut Inflater, h: &Header) -> Result<Vec<u8>, Damage> {
        let out = z.inflate(self.stream(h), h.size);
        self.touch_pages(z.0.total_in());
        out
    }

    /// Counts the pages an entry's `n` bytes occupy (at least one).
    fn touch_pages(&self, n: u64) {
        self.touch((n / 4096 + 1) * 4096);
    }

    /// Counts `n` bytes of the pack read, and every [`RELEASE_EVERY`] bytes gives the mapped pages
    /// back. Each entry is read about once, so pages kept mapped only add to the resident size
    /// (the whole pack, by the end); given back, they stay in the page cache and fault back in
    /// cheaply if read again.
    fn touch(&self, n: u64) {
        use std::sync::atomic::Ordering;
        let before = self.touched.fetch_add(n, Ordering::Relaxed);
        if before < RELEASE_EVERY && before + n >= RELEASE_EVERY {
            self.release();
            self.touched.store(0, Ordering::Relaxed);
        }
    }

    /// Drops the mapped pages of the pack and its index from this process (not from the page
    /// cache).
    fn release(&self) {
        #[cfg(unix)]
        // SAFETY: both maps are read-only views of files: discarded pages are read again from the
        // file (the page cache) on the next access, with the same contents.
        unsafe {
            let _ = self
                .pack
                .unchecked_advise(memmap2::UncheckedAdvice::DontNeed);
            let _ = self
                .idx
                .unchecked_advise(memmap2::UncheckedAdvice::DontNeed);
        }
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// A reusable zlib state: one per thread, reset for each entry.
pub struct Inflater(Decompress);

impl Default for Inflater {
    fn default() -> Self {
        Inflater(Decompress::new(true))
    }
}

impl Inflater {
    /// Exactly `size` bytes inflated from the start of `input`, and then the end of the stream.
    fn inflate(&mut self, input: &[u8], size: u64) -> Result<Vec<u8>, Damage> {
        let mut out = alloc(size)?;
        self.inflate_into(input, size as usize, &mut out)?;
        Ok(out)
    }

    /// As [`Inflater::inflate`], into `out` (cleared first).
    fn inflate_into(&mut self, input: &[u8], size: usize, out: &mut Vec<u8>) -> Result<(), Damage> {
        self.partial(input, size, size, out).map(|_| ())
    }

    /// Inflates up to `limit` bytes of an entry declared `size` bytes long into `out`. Returns
    /// whether the whole entry was inflated (and checked to end where declared).
    fn partial(
        &mut self,
        input: &[u8],
        size: usize,
        limit: usize,
        out: &mut Vec<u8>,
    ) -> Result<bool, Damage> {
        if size as u64 > MAX_OBJECT {
            return Err(format!(
                "object of {size} bytes is larger than {MAX_OBJECT}"
            ));
        }
        let z = &mut self.0;
        z.reset(true);
        let want = limit.min(size);
        out.clear();
        out.try_reserve_exact(want)
            .map_err(|_| format!("object of {size} bytes does not fit in memory"))?;
        // A slice, not the vector's spare capacity, so zlib never writes past `want`.
        out.resize(want, 0);
        let corrupt = |_| "damaged object: corrupt zlib stream".to_string();
        let truncated = |n: u64| format!("damaged object: truncated ({n} of {size} bytes)");
        loop {
            let (in0, out0) = (z.total_in(), z.total_out());
            let rest = &input[(in0 as usize).min(input.len())..];
            let status = z
                .decompress(rest, &mut out[out0 as usize..], FlushDecompress::Finish)
                .map_err(corrupt)?;
            let filled = z.total_out() as usize;
            if status == Status::StreamEnd {
                out.truncate(filled);
                return if filled == size {
                    Ok(true)
                } else {
                    Err(truncated(filled as u64))
                };
            }
            if filled == want {
                if want < size {
                    return Ok(false);
                }
                // Every declared byte is out: the stream must end here, with nothing more.
                let mut probe = [0u8; 1];
                let rest = &input[(z.total_in() as usize).min(input.len())..];
                return match z.decompress(rest, &mut probe, FlushDecompress::Finish) {
                    Ok(Status::StreamEnd) if z.total_out() as usize == size => Ok(true),
                    Ok(_) if z.total_out() as usize > size => {
                        Err(format!("damaged object: more than its {size} bytes"))
                    }
                    _ => Err("damaged object: corrupt or truncated zlib stream".into()),
                };
            }
            if z.total_in() == in0 && z.total_out() == out0 {
                return Err(truncated(out0));
            }
        }
    }
}

fn alloc(size: u64) -> Result<Vec<u8>, Damage> {
    if size > MAX_OBJECT {
        return Err(format!(
            "object of {size} bytes is larger than {MAX_OBJECT}"
        ));
    }
    let mut v = Vec::new();
    v.try_reserve_exact(size as usize)
        .map_err(|_| format!("object of {size} bytes does not fit in memory"))?;
    Ok(v)
}

/// A little-endian base-128 number at the start of a delta.
fn delta_size(d: &[u8], at: &mut usize) -> Result<u64, Damage> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let c = *d.get(*at).ok_or("damaged delta: truncated header")?;
        *at += 1;
        if shift > 63 {
            return Err("damaged delta: invalid size".into());
        }
        v |= u64::from(c & 0x7f) << shift;
        shift += 7;
        if c & 0x80 == 0 {
            return Ok(v);
        }
    }
}

/// The object a delta makes of `base`. Every copy is checked against the base and every write
/// against the declared result size.
pub fn apply_delta(base: &[u8], delta: &[u8]) -> Result<Vec<u8>, Damage> {
    let mut at = 0;
    let src = delta_size(delta, &mut at)?;
    if src != base.len() as u64 {
        return Err("damaged delta: base size does not match".into());
    }
    let dst = delta_size(delta, &mut at)?;
    let mut out = alloc(dst)?;
    let dst = dst as usize;
    while at < delta.len() {
        let op = delta[at];
        at += 1;
        if op & 0x80 != 0 {
            let mut off = 0usize;
            let mut len = 0usize;
            for i in 0..4 {
                if op & (1 << i) != 0 {
                    off |= usize::from(*delta.get(at).ok_or("damaged delta: truncated copy")?)
                        << (8 * i);
                    at += 1;
                }
            }
            for i in 0..3 {
                if op & (0x10 << i) != 0 {
                    len |= usize::from(*delta.get(at).ok_or("damaged delta: truncated copy")?)
                        << (8 * i);
                    at += 1;
                }
            }
            if len == 0 {
                len = 0x10000;
            }
            let piece = off
                .checked_add(len)
                .and_then(|end| base.get(off..end))
                .ok_or("damaged delta: copy outside its base")?;
            if out.len() + len > dst {
                return Err("damaged delta: result larger than declared".into());
            }
            out.extend_from_slice(piece);
        } else if op != 0 {
            let len = usize::from(op);
            let piece = delta
                .get(at..at + len)
                .ok_or("damaged delta: truncated insert")?;
            if out.len() + len > dst {
                return Err("damaged delta: result larger than declared".into());
            }
            out.extend_from_slice(piece);
            at += len;
        } else {
            return Err("damaged delta: reserved instruction".into());
        }
    }
    if out.len() != dst {
        return Err("damaged delta: result shorter than declared".into());
    }
    Ok(out)
}

/// The packs of a repository's object directories, newest first (the order git searches them in).
#[derive(Default)]
pub struct Packs {
    packs: Vec<Pack>,
    /// Packs that could not be opened here (libgit2 reads them).
    pub skipped: Vec<PathBuf>,
}

impl Packs {
    /// Every `*.pack` in `dirs/pack/`.
    pub fn open(object_dirs: &[PathBuf]) -> Packs {
        let mut found: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
        for dir in object_dirs {
            let Ok(rd) = std::fs::read_dir(dir.join("pack")) else {
                continue;
            };
            for e in rd.filter_map(|e| e.ok()) {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "pack") {
                    let t = e
                        .metadata()
                        .and_then(|m| m.modified())
                        .unwrap_or(std::time::UNIX_EPOCH);
                    found.push((t, p));
                }
            }
        }
        found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut out = Packs::default();
        for (_, p) in found {
            match Pack::open(&p) {
                Some(pack) => out.packs.push(pack),
                None => out.skipped.push(p),
            }
        }
        out
    }

    pub fn iter(&self) -> impl Iterator<Item = &Pack> {
        self.packs.iter()
    }

    /// Which pack holds `id`, and where.
    fn locate(&self, id: &Id) -> Option<(usize, u64)> {
        self.packs
            .iter()
            .enumerate()
            .find_map(|(i, p)| p.find(id).map(|off| (i, off)))
    }

    /// Whether a pack opened here holds `id`.
    pub fn contains(&self, id: &Id) -> bool {
        self.locate(id).is_some()
    }
}

/// A decoded object, shared with the cache.
pub type Object = (Kind, Arc<Vec<u8>>);

/// Reads objects by id from [`Packs`], keeping recently decoded objects for the deltas that follow.
/// One per thread.
pub struct Reader<'a> {
    packs: &'a Packs,
    z: Inflater,
    cache: HashMap<(usize, u64), Object>,
    order: VecDeque<(usize, u64)>,
    cached: usize,
}

impl<'a> Reader<'a> {
    pub fn new(packs: &'a Packs) -> Reader<'a> {
        Reader {
            packs,
            z: Inflater::default(),
            cache: HashMap::new(),
            order: VecDeque::new(),
            cached: 0,
        }
    }

    /// The object `id`; `None` when no pack opened here holds it.
    pub fn read(&mut self, id: &Id) -> Option<Result<Object, Damage>> {
        let (p, off) = self.packs.locate(id)?;
        Some(self.read_at(p, off, 0, 0))
    }

    /// `hops` counts the bases already sought in other packs: each is a recursive call, and rayon's
    /// threads have small stacks, so packs that name each other's objects as bases in a ring end
    /// in an error long before the stack does.
    fn read_at(&mut self, p: usize, off: u64, depth: usize, hops: usize) -> Result<Object, Damage> {
        if let Some(o) = self.cache.get(&(p, off)) {
            return Ok(o.clone());
        }
        let pack = &self.packs.packs[p];
        // Walk down to a base (or an object already decoded), remembering the deltas on the way.
        let mut chain: Vec<(u64, Header)> = Vec::new();
        let mut cur = off;
        let (kind, mut data) = loop {
            if chain.len() + depth > MAX_DEPTH {
                return Err("damaged pack: delta chain too long (or a cycle)".into());
            }
            if !chain.is_empty()
                && let Some((k, d)) = self.cache.get(&(p, cur))
            {
                break (*k, d.clone());
            }
            let h = pack.header(cur)?;
            match h.base {
                Base::None => {
                    let kind = Kind::from_code(h.code).expect("a base type");
                    let d = Arc::new(pack.inflate(&mut self.z, &h)?);
                    if !chain.is_empty() {
                        self.keep(p, cur, kind, &d);
                    }
                    break (kind, d);
                }
                Base::Offset(b) => {
                    chain.push((cur, h));
                    cur = b;
                }
                Base::Id(id) => {
                    chain.push((cur, h));
                    match pack.find(&id) {
                        Some(b) => cur = b,
                        None => {
                            // A base in another pack: rare (thin packs are completed on fetch).
                            if hops >= MAX_HOPS {
                                return Err(
                                    "damaged pack: delta bases that cross packs in a ring".into()
                                );
                            }
                            let (q, b) = self
                                .packs
                                .locate(&id)
                                .ok_or("damaged pack: a delta's base is missing")?;
                            let base = self.read_at(q, b, depth + chain.len(), hops + 1)?;
                            break base;
                        }
                    }
                }
            }
        };
        while let Some((at, h)) = chain.pop() {
            let delta = pack.inflate(&mut self.z, &h)?;
            data = Arc::new(apply_delta(&data, &delta)?);
            self.keep(p, at, kind, &data);
        }
        Ok((kind, data))
    }

    fn keep(&mut self, p: usize, off: u64, kind: Kind, data: &Arc<Vec<u8>>) {
        let n = data.len();
        if n > CACHE_BYTES / 8 {
            return;
        }
        while self.cached + n > CACHE_BYTES {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some((_, d)) = self.cache.remove(&old) {
                self.cached -= d.len();
            }
        }
        if self.cache.insert((p, off), (kind, data.clone())).is_none() {
            self.order.push_back((p, off));
            self.cached += n;
        }
    }
}

/// What [`Pack::blobs`] does with a blob, decided from its id before anything is inflated.
pub trait BlobSink: Sync {
    /// Whether the blob should be handed to [`BlobSink::blob`].
    fn wants(&self, id: &Id) -> bool;
    /// A wanted blob: its size when over the limit (then not inflated, unless another blob is a
    /// delta of it), the verdict when its leading bytes are binary, or all of it.
    fn blob(&self, id: &Id, contents: Contents<'_>);
    /// A wanted blob that could not be decoded.
    fn damaged(&self, id: &Id, why: &str);
    /// The largest blob handed over whole; larger ones are reported by size.
    fn max_size(&self) -> u64;
}

/// What [`BlobSink::blob`] receives.
pub enum Contents<'a> {
    /// Over the size limit: not read.
    TooLarge(u64),
    /// The whole blob (binary or not: only a blob inflated for its leading bytes is judged here).
    Data(&'a [u8]),
    /// Binary: only the first bytes were inflated.
    Binary,
}

/// One entry of a pack being traversed.
#[derive(Clone, Copy)]
struct Node {
    off: u64,
    /// Index position (for the id).
    pos: u32,
    /// Where this entry's children start in the child list.
    first_child: u32,
    children: u32,
    wanted: bool,
    /// Whether this entry or one of its descendants is wanted.
    needed: bool,
    /// How many needed entries its tree holds (itself included): the work it stands for.
    weight: u32,
}

impl Pack {
    /// Decodes every blob of the pack that `sink` wants, and the blobs those are deltas of, each
    /// once, in parallel: a base is inflated, handed over if wanted, and its deltas are applied to it
    /// while it is at hand. Blobs over the size limit that nothing is a delta of are never inflated,
    /// and of a text-or-binary blob with no deltas only the first bytes are inflated until the
    /// question is settled. Deltas whose base is in another pack are resolved through `packs`.
    pub fn blobs(&self, packs: &Packs, sink: &dyn BlobSink) {
        let n = self.count;
        // Entries in pack order.
        let mut nodes: Vec<Node> = Vec::with_capacity(n);
        for pos in 0..n {
            match self.offset_at(pos) {
                Some(off) => nodes.push(Node {
                    off,
                    pos: pos as u32,
                    first_child: 0,
                    children: 0,
                    wanted: false,
                    needed: false,
                    weight: 0,
                }),
                None => {
                    let id = self.id_at(pos);
                    if sink.wants(id) {
                        sink.damaged(id, "damaged pack index: offset outside the pack");
                    }
                }
            }
        }
        nodes.sort_unstable_by_key(|e| e.off);
        let by_offset = |off: u64, nodes: &[Node]| -> Option<usize> {
            nodes.binary_search_by_key(&off, |e| e.off).ok()
        };
        // Each entry's header: its type and its base.
        const ROOT: u32 = u32::MAX;
        const EXTERNAL: u32 = u32::MAX - 1;
        const BROKEN: u32 = u32::MAX - 2;
        let mut parent: Vec<u32> = vec![ROOT; nodes.len()];
        let mut code: Vec<u8> = vec![0; nodes.len()];
        let mut external: HashMap<u32, Id> = HashMap::new();
        let mut broken: HashMap<u32, Damage> = HashMap::new();
        let mut released_at = 0;
        for (i, node) in nodes.iter().enumerate() {
            // In pack order: the pages behind are not read again here.
            if node.off - released_at > RELEASE_EVERY {
                self.release();
                released_at = node.off;
            }
            match self.header(node.off) {
                Ok(h) => {
                    code[i] = h.code;
                    parent[i] = match h.base {
                        Base::None => ROOT,
                        Base::Offset(b) => match by_offset(b, &nodes) {
                            Some(j) => j as u32,
                            None => {
                                broken.insert(
                                    i as u32,
                                    "damaged pack: a delta's base is not an entry".into(),
                                );
                                BROKEN
                            }
                        },
                        Base::Id(id) => match self.find(&id).and_then(|b| by_offset(b, &nodes)) {
                            Some(j) if j != i => j as u32,
                            Some(_) => {
                                broken.insert(i as u32, "damaged pack: a delta of itself".into());
                                BROKEN
                            }
                            None => {
                                external.insert(i as u32, id);
                                EXTERNAL
                            }
                        },
                    };
                }
                Err(why) => {
                    parent[i] = BROKEN;
                    broken.insert(i as u32, why);
                }
            }
        }
        // Every entry's header was read: give those pages back before decoding starts.
        self.release();
        // Children lists (compressed rows), and the roots: entries with no base in this pack.
        let mut counts = vec![0u32; nodes.len() + 1];
        for &p in &parent {
            if (p as usize) < nodes.len() {
                counts[p as usize] += 1;
            }
        }
        let mut start = 0u32;
        for (i, node) in nodes.iter_mut().enumerate() {
            node.first_child = start;
            node.children = counts[i];
            start += counts[i];
        }
        let mut fill: Vec<u32> = nodes.iter().map(|e| e.first_child).collect();
        let mut child_list = vec![0u32; start as usize];
        for (i, &p) in parent.iter().enumerate() {
            if (p as usize) < nodes.len() {
                child_list[fill[p as usize] as usize] = i as u32;
                fill[p as usize] += 1;
            }
        }
        drop(fill);
        // Every root's tree, depth first: what is a blob, what is wanted, what must be decoded.
        // Entries never reached (a delta cycle) are left unvisited and reported if wanted.
        let roots: Vec<u32> = (0..nodes.len() as u32)
            .filter(|&i| matches!(parent[i as usize], ROOT | EXTERNAL))
            .collect();
        let mut reached = vec![false; nodes.len()];
        let mut post: Vec<u32> = Vec::new();
        let mut stack: Vec<u32> = Vec::new();
        for &r in &roots {
            let root_is_blob = match parent[r as usize] {
                ROOT => code[r as usize] == 3,
                // The base's type is unknown until it is read: its deltas are blobs when it is.
                _ => true,
            };
            stack.push(r);
            while let Some(i) = stack.pop() {
                let i = i as usize;
                reached[i] = true;
                post.push(i as u32);
                if root_is_blob {
                    nodes[i].wanted = sink.wants(self.id_at(nodes[i].pos as usize));
                }
                let (f, c) = (nodes[i].first_child as usize, nodes[i].children as usize);
                stack.extend_from_slice(&child_list[f..f + c]);
            }
        }
        // Children were pushed after their parent: the reverse of that order visits every child
        // before its parent, so what is needed flows up.
        for &i in post.iter().rev() {
            let i = i as usize;
            let mut needed = nodes[i].wanted;
            let mut weight = 0u32;
            let (f, c) = (nodes[i].first_child as usize, nodes[i].children as usize);
            for &ch in &child_list[f..f + c] {
                needed |= nodes[ch as usize].needed;
                weight = weight.saturating_add(nodes[ch as usize].weight);
            }
            nodes[i].needed = needed;
            nodes[i].weight = if needed { weight.saturating_add(1) } else { 0 };
        }
        drop(post);
        for (i, node) in nodes.iter().enumerate() {
            let id = self.id_at(node.pos as usize);
            if let Some(why) = broken.get(&(i as u32)) {
                if sink.wants(id) {
                    sink.damaged(id, why);
                }
            } else if !reached[i] && sink.wants(id) {
                sink.damaged(id, "damaged pack: delta chain with no base (a cycle)");
            }
        }
        // Decode, biggest trees first so that a long one does not start last.
        let mut work: Vec<u32> = roots
            .into_iter()
            .filter(|&r| nodes[r as usize].needed)
            .collect();
        work.sort_unstable_by_key(|&r| std::cmp::Reverse(nodes[r as usize].weight));
        let in_flight = AtomicUsize::new(0);
        rayon::scope(|scope| {
            let ctx = Traverse {
                scope,
                in_flight: &in_flight,
                pack: self,
                packs,
                nodes: &nodes,
                child_list: &child_list,
                code: &code,
                external: &external,
                sink,
            };
            work.par_iter().for_each_init(
                || (Inflater::default(), Vec::new()),
                |(z, buf), &r| ctx.root(r as usize, z, buf),
            );
        });
    }
}

struct Traverse<'a, 's> {
    /// Where decoded blobs are handed over to be scanned on another thread, so that a long delta
    /// chain (decoded one version after the other) is decoded on one core and scanned on the other.
    scope: &'s rayon::Scope<'a>,
    /// Bytes of decoded blobs handed over and not yet scanned (bounded by [`MAX_IN_FLIGHT`]).
    in_flight: &'a AtomicUsize,
    pack: &'a Pack,
    packs: &'a Packs,
    nodes: &'a [Node],
    child_list: &'a [u32],
    code: &'a [u8],
    external: &'a HashMap<u32, Id>,
    sink: &'a dyn BlobSink,
}

impl<'a> Traverse<'a, '_> {
    fn id(&self, i: usize) -> &Id {
        self.pack.id_at(self.nodes[i].pos as usize)
    }

    fn children(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let (f, c) = (
            self.nodes[i].first_child as usize,
            self.nodes[i].children as usize,
        );
        self.child_list[f..f + c]
            .iter()
            .map(|&c| c as usize)
            .filter(|&c| self.nodes[c].needed)
    }

    /// Reports every wanted entry under `i` (itself included) as damaged.
    fn fail(&self, i: usize, why: &str) {
        let mut stack = vec![i];
        while let Some(j) = stack.pop() {
            if self.nodes[j].wanted {
                self.sink.damaged(self.id(j), why);
            }
            stack.extend(self.children(j));
        }
    }

    fn root(&self, r: usize, z: &mut Inflater, buf: &mut Vec<u8>) {
        let node = self.nodes[r];
        let h = match self.pack.header(node.off) {
            Ok(h) => h,
            Err(why) => return self.fail(r, &why),
        };
        let has_children = self.children(r).next().is_some();
        let data: Vec<u8> = if let Some(base_id) = self.external.get(&(r as u32)) {
            // A delta whose base lives elsewhere: read the base, then apply.
            let base = match Reader::new(self.packs).read(base_id) {
                Some(Ok((Kind::Blob, d))) => d,
                Some(Ok(_)) => return,
                Some(Err(why)) => return self.fail(r, &why),
                None => return self.fail(r, "damaged pack: a delta's base is missing"),
            };
            match self
                .pack
                .inflate(z, &h)
                .and_then(|d| apply_delta(&base, &d))
            {
                Ok(d) => d,
                Err(why) => return self.fail(r, &why),
            }
        } else {
            if self.code[r] != 3 {
                return;
            }
            if !has_children {
                // A leaf: settle size and binary before inflating all of it.
                return self.leaf_base(r, &h, z, buf);
            }
            match self.pack.inflate(z, &h) {
                Ok(d) => d,
                Err(why) => return self.fail(r, &why),
            }
        };
        let data = Arc::new(data);
        self.hand_over(r, &data);
        self.deltas_of(r, data, z, MAX_SPLITS);
    }

    /// A blob stored whole that no other entry is a delta of.
    fn leaf_base(&self, r: usize, h: &Header, z: &mut Inflater, buf: &mut Vec<u8>) {
        let id = self.id(r);
        if h.size > self.sink.max_size() {
            return self.sink.blob(id, Contents::TooLarge(h.size));
        }
        let size = h.size as usize;
        let input = self.pack.stream(h);
        let sniffed = z.partial(input, size, SNIFF, buf);
        self.pack.touch_pages(z.0.total_in());
        match sniffed {
            Ok(true) => {}
            Ok(false) => {
                if crate::engine::is_binary(buf) {
                    return self.sink.blob(id, Contents::Binary);
                }
                let whole = z.inflate_into(input, size, buf);
                self.pack.touch_pages(z.0.total_in());
                if let Err(why) = whole {
                    return self.sink.damaged(id, &why);
                }
            }
            Err(why) => return self.sink.damaged(id, &why),
        }
        self.sink.blob(id, Contents::Data(buf));
        if buf.capacity() > 4 << 20 {
            *buf = Vec::new();
        }
    }

    fn hand_over(&self, i: usize, data: &Arc<Vec<u8>>) {
        if !self.nodes[i].wanted {
            return;
        }
        let id = self.id(i);
        let n = data.len();
        if n as u64 > self.sink.max_size() {
            return self.sink.blob(id, Contents::TooLarge(n as u64));
        }
        // Scanned elsewhere while this thread decodes on, unless it is small (handing over would
        // cost more than scanning) or enough is already waiting.
        if n < HAND_OFF_MIN {
            return self.sink.blob(id, Contents::Data(data));
        }
        if self.in_flight.fetch_add(n, Ordering::Relaxed) + n > MAX_IN_FLIGHT {
            self.in_flight.fetch_sub(n, Ordering::Relaxed);
            return self.sink.blob(id, Contents::Data(data));
        }
        let (sink, in_flight, id, data) = (self.sink, self.in_flight, *id, data.clone());
        self.scope.spawn(move |_| {
            sink.blob(&id, Contents::Data(&data));
            drop(data);
            in_flight.fetch_sub(n, Ordering::Relaxed);
        });
    }

    /// Applies the deltas of `i` (and theirs) depth first, with an explicit stack: a delta chain may
    /// be thousands long. Where an entry's deltas hold enough work for two threads, they are decoded
    /// in parallel (at most [`MAX_SPLITS`] levels deep, each a nested call): one delta tree can hold
    /// a tenth of a pack's blobs, and one thread would otherwise decode it alone at the end.
    fn deltas_of(&self, i: usize, data: Arc<Vec<u8>>, z: &mut Inflater, splits: u32) {
        if splits > 0 && self.splittable(i) {
            let children: Vec<usize> = self.children(i).collect();
            return children
                .par_iter()
                .for_each_init(Inflater::default, |z, &c| {
                    if let Some(d) = self.decode(c, &data, z) {
                        self.deltas_of(c, d, z, splits - 1);
                    }
                });
        }
        let mut stack: Vec<(usize, Arc<Vec<u8>>)> =
            self.children(i).map(|c| (c, data.clone())).collect();
        drop(data);
        while let Some((c, base)) = stack.pop() {
            let Some(d) = self.decode(c, &base, z) else {
                continue;
            };
            drop(base);
            if splits > 0 && self.splittable(c) {
                self.deltas_of(c, d, z, splits);
            } else {
                stack.extend(self.children(c).map(|g| (g, d.clone())));
            }
        }
    }

    /// The delta `c` applied to `base` and handed over; `None` when it is damaged (then it and
    /// everything built on it are reported).
    fn decode(&self, c: usize, base: &[u8], z: &mut Inflater) -> Option<Arc<Vec<u8>>> {
        let out = self
            .pack
            .header(self.nodes[c].off)
            .and_then(|h| self.pack.inflate(z, &h))
            .and_then(|d| apply_delta(base, &d));
        match out {
            Ok(d) => {
                let d = Arc::new(d);
                self.hand_over(c, &d);
                Some(d)
            }
            Err(why) => {
                self.fail(c, &why);
                None
            }
        }
    }

    /// Whether the deltas of `i` are worth spreading over threads: at least two of them, and
    /// enough work under the second heaviest that both threads stay busy for a while.
    fn splittable(&self, i: usize) -> bool {
        if self.nodes[i].weight < SPLIT_WEIGHT {
            return false;
        }
        let mut top = [0u32; 2];
        for c in self.children(i) {
            let w = self.nodes[c].weight;
            if w > top[0] {
                top = [w, top[0]];
            } else if w > top[1] {
                top[1] = w;
            }
        }
        top[1] >= SPLIT_WEIGHT / 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::process::Command;
    use std::sync::Mutex;

    fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
        let out = Command::new("git")
            .current_dir(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@localhost"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {:?}", out);
        out.stdout
    }

    /// A repository whose history is many versions of a few files, packed with deltas (offset or
    /// id bases), and every object's type and contents as git reads them.
    fn packed_repo(ofs: bool) -> (tempfile::TempDir, BTreeMap<Id, (String, Vec<u8>)>) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q"]);
        let mut text = String::new();
        for i in 0..40 {
            for l in 0..30 {
                text.push_str(&format!("version {i} line {l}: some text that repeats\n"));
            }
            std::fs::write(d.join("grows.txt"), &text).unwrap();
            std::fs::write(d.join(format!("f{}.txt", i % 3)), text.repeat(2)).unwrap();
            let mut bin = vec![0u8; 20_000];
            bin[i] = 7;
            std::fs::write(d.join("data.bin"), &bin).unwrap();
            git(d, &["add", "-A"]);
            git(d, &["commit", "-q", "-m", &format!("c{i}")]);
        }
        let ofs = if ofs { "true" } else { "false" };
        git(
            d,
            &[
                "-c",
                &format!("repack.useDeltaBaseOffset={ofs}"),
                "repack",
                "-adq",
                "--depth=20",
                "--window=50",
            ],
        );
        let list = git(
            d,
            &[
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(objectname) %(objecttype)",
            ],
        );
        let mut all = BTreeMap::new();
        for line in String::from_utf8(list).unwrap().lines() {
            let (name, kind) = line.split_once(' ').unwrap();
            let mut id = [0u8; 20];
            hex::decode_to_slice(name, &mut id).unwrap();
            let data = git(d, &["cat-file", kind, name]);
            all.insert(id, (kind.to_string(), data));
        }
        (dir, all)
    }

    struct Collect {
        max: u64,
        got: Mutex<Vec<(Id, Option<Vec<u8>>)>>,
        bad: Mutex<Vec<String>>,
    }

    impl BlobSink for Collect {
        fn wants(&self, _: &Id) -> bool {
            true
        }
        fn blob(&self, id: &Id, contents: Contents<'_>) {
            let data = match contents {
                Contents::Data(d) => Some(d.to_vec()),
                Contents::Binary | Contents::TooLarge(_) => None,
            };
            self.got.lock().unwrap().push((*id, data));
        }
        fn damaged(&self, _: &Id, why: &str) {
            self.bad.lock().unwrap().push(why.to_string());
        }
        fn max_size(&self) -> u64 {
            self.max
        }
    }

    #[test]
    fn packs_read_as_git_reads_them() {
        for ofs in [true, false] {
            let (dir, all) = packed_repo(ofs);
            let packs = Packs::open(&[dir.path().join(".git/objects")]);
            assert!(packs.skipped.is_empty());
            assert_eq!(packs.iter().count(), 1);
            // One by one, through the delta cache.
            let mut r = Reader::new(&packs);
            for (id, (kind, data)) in &all {
                let (k, d) = r.read(id).unwrap().unwrap();
                assert_eq!(format!("{k:?}").to_lowercase(), *kind);
                assert_eq!(d.as_slice(), data.as_slice());
            }
            // Every blob once, in parallel, leaves and bases alike.
            for max in [u64::MAX, 3000] {
                let sink = Collect {
                    max,
                    got: Mutex::new(Vec::new()),
                    bad: Mutex::new(Vec::new()),
                };
                packs.iter().next().unwrap().blobs(&packs, &sink);
                assert!(sink.bad.lock().unwrap().is_empty());
                let got = sink.got.into_inner().unwrap();
                let blobs: Vec<_> = all.iter().filter(|(_, (k, _))| k == "blob").collect();
                assert_eq!(got.len(), blobs.len(), "ofs {ofs}, max {max}");
                for (id, data) in got {
                    let want = &all[&id].1;
                    match data {
                        Some(d) => assert_eq!(&d, want),
                        // Binary (the NUL-filled file) or over the limit.
                        None => assert!(want.contains(&0) || want.len() as u64 > max),
                    }
                }
            }
        }
    }

    #[test]
    fn a_damaged_entry_is_an_error_for_it_and_what_depends_on_it() {
        let (dir, all) = packed_repo(true);
        let pack_dir = dir.path().join(".git/objects/pack");
        let pack = std::fs::read_dir(&pack_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "pack"))
            .unwrap();
        // Damage the entry of the longest version of the growing file: a base of other versions.
        let longest = all
            .iter()
            .filter(|(_, (k, d))| k == "blob" && d.starts_with(b"version 0 line 0"))
            .max_by_key(|(_, (_, d))| d.len())
            .map(|(id, _)| *id)
            .unwrap();
        let at = Packs::open(&[dir.path().join(".git/objects")])
            .iter()
            .next()
            .unwrap()
            .find(&longest)
            .unwrap() as usize;
        let mut bytes = std::fs::read(&pack).unwrap();
        let n = bytes.len();
        for b in &mut bytes[at + 8..at + 24] {
            *b ^= 0x5a;
        }
        std::fs::write(&pack, &bytes).unwrap();
        let packs = Packs::open(&[dir.path().join(".git/objects")]);
        let sink = Collect {
            max: u64::MAX,
            got: Mutex::new(Vec::new()),
            bad: Mutex::new(Vec::new()),
        };
        packs.iter().next().unwrap().blobs(&packs, &sink);
        let bad = sink.bad.lock().unwrap().len();
        let got = sink.got.into_inner().unwrap();
        assert!(bad > 0);
        // What was handed over is right; nothing is handed over twice or lost silently.
        for (id, data) in &got {
            if let Some(d) = data {
                assert_eq!(d, &all[id].1);
            }
        }
        let blobs = all.values().filter(|(k, _)| k == "blob").count();
        assert!(got.len() + bad >= blobs);
        // A pack whose trailer no longer matches its index is not opened at all.
        bytes.truncate(n - 1);
        std::fs::write(&pack, &bytes).unwrap();
        let packs = Packs::open(&[dir.path().join(".git/objects")]);
        assert_eq!(packs.iter().count(), 0);
        assert_eq!(packs.skipped.len(), 1);
    }

    /// Damage anywhere (entry headers, zlib streams, delta instructions, the index's tables) gives
    /// errors for what it damages: the reader never panics, hangs or hands over a blob twice.
    #[test]
    fn random_damage_never_panics_or_hangs() {
        let (dir, all) = packed_repo(true);
        let objects = dir.path().join(".git/objects");
        let pack_dir = objects.join("pack");
        let file = |ext: &str| {
            std::fs::read_dir(&pack_dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.extension().is_some_and(|x| x == ext))
                .unwrap()
        };
        let (pack, idx) = (file("pack"), file("idx"));
        let (pack0, idx0) = (std::fs::read(&pack).unwrap(), std::fs::read(&idx).unwrap());
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let blobs = all.values().filter(|(k, _)| k == "blob").count();
        let (mut opened, mut damaged) = (0, 0);
        for round in 0..120 {
            let (mut p, mut i) = (pack0.clone(), idx0.clone());
            // Within the entries (the header and trailer checks would refuse the rest), or within
            // the index's fan-out, id and offset tables.
            let (target, lo, hi) = if round % 4 == 3 {
                (&mut i, 8, idx0.len() - 40)
            } else {
                (&mut p, 12, pack0.len() - 20)
            };
            for _ in 0..(1 + next() % 8) {
                let at = lo + (next() as usize) % (hi - lo);
                target[at] ^= (next() % 255 + 1) as u8;
            }
            std::fs::write(&pack, &p).unwrap();
            std::fs::write(&idx, &i).unwrap();
            let packs = Packs::open(std::slice::from_ref(&objects));
            let Some(one) = packs.iter().next() else {
                continue;
            };
            opened += 1;
            let sink = Collect {
                max: u64::MAX,
                got: Mutex::new(Vec::new()),
                bad: Mutex::new(Vec::new()),
            };
            one.blobs(&packs, &sink);
            if !sink.bad.lock().unwrap().is_empty() {
                damaged += 1;
            }
            let got = sink.got.into_inner().unwrap();
            if round % 4 != 3 {
                // Ids come from the index, untouched in this round: each entry is handed over once.
                let mut ids: Vec<Id> = got.iter().map(|(id, _)| *id).collect();
                ids.sort_unstable();
                ids.dedup();
                assert_eq!(
                    ids.len(),
                    got.len(),
                    "round {round}: a blob handed over twice"
                );
                assert!(got.len() <= blobs, "round {round}");
            }
            let mut r = Reader::new(&packs);
            for id in all.keys() {
                let _ = r.read(id);
            }
        }
        assert!(opened > 60, "only {opened} damaged packs were opened");
        assert!(
            damaged > 30,
            "only {damaged} of {opened} packs showed their damage"
        );
    }

    fn varint(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    #[test]
    fn deltas_copy_and_insert_within_bounds() {
        let base = b"hello, world".to_vec();
        let mut d = Vec::new();
        varint(base.len(), &mut d);
        varint(11, &mut d);
        d.extend_from_slice(&[0x91, 7, 5]); // copy offset 7, 5 bytes: "world"
        d.extend_from_slice(&[6]);
        d.extend_from_slice(b", hi!\n");
        assert_eq!(apply_delta(&base, &d).unwrap(), b"world, hi!\n");

        // A copy past the base, a result longer or shorter than declared, a reserved op.
        let mut bad = Vec::new();
        varint(base.len(), &mut bad);
        varint(5, &mut bad);
        bad.extend_from_slice(&[0x91, 10, 5]);
        assert!(apply_delta(&base, &bad).is_err());
        let mut long = Vec::new();
        varint(base.len(), &mut long);
        varint(2, &mut long);
        long.extend_from_slice(&[3, b'a', b'b', b'c']);
        assert!(apply_delta(&base, &long).is_err());
        let mut short = Vec::new();
        varint(base.len(), &mut short);
        varint(9, &mut short);
        short.extend_from_slice(&[3, b'a', b'b', b'c']);
        assert!(apply_delta(&base, &short).is_err());
        let mut reserved = Vec::new();
        varint(base.len(), &mut reserved);
        varint(1, &mut reserved);
        reserved.push(0);
        assert!(apply_delta(&base, &reserved).is_err());
        // The wrong base.
        assert!(apply_delta(b"other", &d).is_err());
    }

    #[test]
    fn inflate_insists_on_the_declared_size() {
        use std::io::Write;
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&b"abc".repeat(5000)).unwrap();
        let z = e.finish().unwrap();
        let mut inf = Inflater::default();
        assert_eq!(inf.inflate(&z, 15000).unwrap().len(), 15000);
        assert!(inf.inflate(&z, 14999).is_err());
        assert!(inf.inflate(&z, 15001).is_err());
        assert!(inf.inflate(&z[..z.len() / 2], 15000).is_err());
        let mut buf = Vec::new();
        assert!(!inf.partial(&z, 15000, 100, &mut buf).unwrap());
        assert_eq!(buf.len(), 100);
        assert!(inf.partial(&z, 15000, 1 << 20, &mut buf).unwrap());
        assert_eq!(buf.len(), 15000);
        // Empty objects, and trailing bytes after the stream (the next entry) are fine.
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b"").unwrap();
        let mut z = e.finish().unwrap();
        z.extend_from_slice(b"next entry");
        assert!(inf.inflate(&z, 0).unwrap().is_empty());
        assert!(inf.inflate(&z, 1).is_err());
    }
}
