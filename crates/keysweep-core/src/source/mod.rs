//! Producers of bytes to scan: files and directories, stdin, git history and the staged index. Each
//! hands `(Origin, bytes)` to a consumer and never calls the engine itself; what is skipped or could
//! not be read is counted in [`Stats`](crate::stats::Stats) and said through
//! [`Diagnostics`](crate::stats::Diagnostics).

pub mod files;
pub mod git;
pub mod stdin;

use std::borrow::Cow;
use std::ops::RangeInclusive;
use std::path::{Component, Path, PathBuf};

use crate::engine::is_binary;
use crate::finding::Finding;

/// Where a buffer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The path reports show: relative to the scanned root, or the path inside a commit.
    pub path: String,
    /// The git blob the bytes are (history and staged scans).
    pub blob: Option<git2::Oid>,
    /// Staged scans: the lines of the staged file that the change adds; `None` means all of them.
    pub added: Option<Vec<RangeInclusive<usize>>>,
}

impl Origin {
    pub fn path(path: impl Into<String>) -> Origin {
        Origin {
            path: path.into(),
            blob: None,
            added: None,
        }
    }

    /// Whether a finding lies on a line this origin asks to report.
    pub fn keeps(&self, f: &Finding) -> bool {
        match &self.added {
            None => true,
            Some(ranges) => ranges
                .iter()
                .any(|r| *r.start() <= f.end_line && f.line <= *r.end()),
        }
    }
}

/// What a source hands each buffer to.
pub type Consumer<'a> = dyn Fn(&Origin, &[u8]) + Sync + 'a;

/// What a buffer is to the scanner: text as it is, text decoded to UTF-8, or binary.
#[derive(Debug, PartialEq, Eq)]
pub enum Text<'a> {
    Bytes(&'a [u8]),
    /// UTF-16 with a byte-order mark (what Windows editors save `.env` and `.ini` files as),
    /// decoded; lines and columns are the same as in the original.
    Decoded(Vec<u8>),
    Binary,
}

/// Decides how to scan `data`: a NUL in the first 8 KiB means binary, unless the data starts with a
/// UTF-16 byte-order mark (text of ASCII characters in UTF-16 is full of NULs), in which case it is
/// decoded. Without a NUL, the bytes are scanned as they are, whatever they start with.
pub fn text(data: &[u8]) -> Text<'_> {
    if !is_binary(data) {
        return Text::Bytes(data);
    }
    let units = match data {
        [0xFF, 0xFE, rest @ ..] => Some((rest, u16::from_le_bytes as fn([u8; 2]) -> u16)),
        [0xFE, 0xFF, rest @ ..] => Some((rest, u16::from_be_bytes as fn([u8; 2]) -> u16)),
        _ => None,
    };
    if let Some((rest, read)) = units {
        let utf16 = rest.chunks_exact(2).map(|c| read([c[0], c[1]]));
        let decoded: String = char::decode_utf16(utf16)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
        let decoded = decoded.into_bytes();
        return if is_binary(&decoded) {
            Text::Binary
        } else {
            Text::Decoded(decoded)
        };
    }
    Text::Binary
}

impl Text<'_> {
    /// The bytes to scan, `None` for binary.
    pub fn bytes(&self) -> Option<Cow<'_, [u8]>> {
        match self {
            Text::Bytes(b) => Some(Cow::Borrowed(b)),
            Text::Decoded(v) => Some(Cow::Borrowed(v.as_slice())),
            Text::Binary => None,
        }
    }
}

/// How walked paths are shown: relative to the current directory (as given on the command line,
/// the way ripgrep prints them) or to an explicit root. A path outside the root is shown whole.
#[derive(Debug, Clone)]
pub struct PathDisplay {
    cwd: PathBuf,
    root: Option<PathBuf>,
}

impl PathDisplay {
    /// `root`: the directory paths are shown relative to; `None` for the current directory.
    pub fn new(root: Option<&Path>) -> PathDisplay {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let root = root.map(|r| normalize(&cwd.join(r)));
        PathDisplay { cwd, root }
    }

    /// The directory shown paths are relative to (absolute).
    pub fn base(&self) -> &Path {
        self.root.as_deref().unwrap_or(&self.cwd)
    }

    pub fn show(&self, walked: &Path) -> String {
        let shown: Cow<'_, Path> = match &self.root {
            None if walked.is_relative() => Cow::Borrowed(walked),
            _ => {
                let abs = normalize(&self.cwd.join(walked));
                match abs.strip_prefix(self.base()) {
                    Ok(rel) if !rel.as_os_str().is_empty() => Cow::Owned(rel.to_path_buf()),
                    _ if walked.is_relative() && self.root.is_none() => Cow::Borrowed(walked),
                    _ => Cow::Owned(abs),
                }
            }
        };
        portable(&shown)
    }

    /// `path` relative to `base` when it lies under it (for matching config globs written relative
    /// to the directory the config belongs to).
    pub fn relative_to(&self, base: &Path, walked: &Path) -> Option<String> {
        let abs = normalize(&self.cwd.join(walked));
        let base = normalize(&self.cwd.join(base));
        abs.strip_prefix(&base)
            .ok()
            .filter(|r| !r.as_os_str().is_empty())
            .map(portable)
    }
}

/// `.` and `..` resolved without touching the filesystem.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Forward slashes on Windows and no leading `./`. On Unix a backslash is an ordinary character of
/// a file name, and is kept: `fixtures\leak.env` at the top is not `fixtures/leak.env`.
fn portable(p: &Path) -> String {
    let s = p.to_string_lossy();
    #[cfg(windows)]
    let s: Cow<'_, str> = Cow::Owned(s.replace('\\', "/"));
    let mut s: &str = &s;
    while let Some(rest) = s.strip_prefix("./") {
        s = rest;
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_with_a_bom_is_text_and_nul_bytes_are_binary() {
        let mut le = vec![0xFF, 0xFE];
        le.extend("K=v\r\n".encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(text(&le), Text::Decoded(b"K=v\r\n".to_vec()));
        let mut be = vec![0xFE, 0xFF];
        be.extend("é".encode_utf16().flat_map(|u| u.to_be_bytes()));
        assert_eq!(text(&be), Text::Decoded("é".as_bytes().to_vec()));
        assert_eq!(text(b"a\0b"), Text::Binary);
        assert_eq!(text(b"plain"), Text::Bytes(b"plain"));
        // A BOM followed by NUL characters is still binary.
        assert_eq!(text(&[0xFF, 0xFE, 0, 0, 0, 0]), Text::Binary);
        // Without a NUL, a leading FF FE is just bytes (Latin-1 garbage, say).
        assert_eq!(text(b"\xff\xfe x"), Text::Bytes(b"\xff\xfe x"));
    }

    #[test]
    fn paths_are_shown_relative_to_where_they_were_named() {
        let d = PathDisplay::new(None);
        assert_eq!(d.show(Path::new("./a/.env")), "a/.env");
        assert_eq!(d.show(Path::new("b/.env")), "b/.env");
        assert_eq!(d.show(Path::new("../x/y")), "../x/y");
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(d.show(&cwd.join("sub/f")), "sub/f");
        assert_eq!(d.show(Path::new("/elsewhere/f")), "/elsewhere/f");
        let r = PathDisplay::new(Some(Path::new("sub")));
        assert_eq!(r.show(Path::new("sub/dir/f")), "dir/f");
        assert_eq!(r.show(Path::new("./sub/../sub/f")), "f");
        assert_eq!(r.show(Path::new("/elsewhere/f")), "/elsewhere/f");
        assert_eq!(
            d.relative_to(Path::new("sub"), Path::new("sub/fixtures/x")),
            Some("fixtures/x".to_string())
        );
        #[cfg(unix)]
        assert_eq!(
            d.show(Path::new("fixtures\\leak.env")),
            "fixtures\\leak.env"
        );
    }
}
