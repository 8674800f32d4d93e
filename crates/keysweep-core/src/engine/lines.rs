//! Turning byte offsets into 1-based lines and columns, and honouring `keysweep:allow` comments.

use bstr::ByteSlice;

use super::Match;

/// The marker that suppresses a finding on its line (or, for a secret spanning several lines such as
/// a PEM block, on the line above it).
pub const ALLOW_MARKER: &[u8] = b"keysweep:allow";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub m: Match,
    pub line: usize,
    /// 1-based, counted in characters (invalid UTF-8 bytes count one each).
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// Locates sorted matches in one forward pass over the data, dropping those allowed inline.
pub fn locate(data: &[u8], matches: Vec<Match>) -> Vec<Located> {
    let mut out = Vec::with_capacity(matches.len());
    let mut cursor = Cursor::default();
    for m in matches {
        let (line, line_start) = cursor.advance(data, m.start);
        let line_end = memchr::memchr(b'\n', &data[m.start..]).map_or(data.len(), |i| m.start + i);
        let multi_line = m.end > line_end;
        if contains_marker(&data[line_start..line_end])
            || (multi_line && line_start > 0 && contains_marker(previous_line(data, line_start)))
        {
            continue;
        }
        let column = data[line_start..m.start].chars().count() + 1;
        let span = &data[m.start..m.end];
        let newlines = memchr::memchr_iter(b'\n', span).count();
        let (end_line, end_column) = if newlines == 0 {
            (line, column + span.chars().count())
        } else {
            let last_nl = memchr::memrchr(b'\n', span).unwrap();
            (line + newlines, span[last_nl + 1..].chars().count() + 1)
        };
        out.push(Located {
            m,
            line,
            column,
            end_line,
            end_column,
        });
    }
    out
}

fn contains_marker(line: &[u8]) -> bool {
    memchr::memmem::find(line, ALLOW_MARKER).is_some()
}

fn previous_line(data: &[u8], line_start: usize) -> &[u8] {
    let end = line_start - 1;
    let start = memchr::memrchr(b'\n', &data[..end]).map_or(0, |i| i + 1);
    &data[start..end]
}

/// Counts newlines incrementally, so many matches in one file cost one pass.
#[derive(Default)]
struct Cursor {
    pos: usize,
    line: usize,
    line_start: usize,
}

impl Cursor {
    fn advance(&mut self, data: &[u8], to: usize) -> (usize, usize) {
        if self.line == 0 {
            self.line = 1;
        }
        if to < self.pos {
            // Matches are sorted by start; an earlier one can only come from nested spans.
            *self = Cursor::default();
            self.line = 1;
        }
        for i in memchr::memchr_iter(b'\n', &data[self.pos..to]) {
            self.line += 1;
            self.line_start = self.pos + i + 1;
        }
        self.pos = to;
        (self.line, self.line_start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(start: usize, end: usize) -> Match {
        Match {
            rule: 0,
            start,
            end,
            secret: String::new(),
            pair: None,
            pair_span: None,
            ..Match::default()
        }
    }

    #[test]
    fn lines_and_columns() {
        let data = "a\nxé SECRET z\nSECRET\n".as_bytes();
        let s1 = 6; // after "a\nxé " (é is two bytes)
        let s2 = data.len() - 7;
        let out = locate(data, vec![m(s1, s1 + 6), m(s2, s2 + 6)]);
        assert_eq!((out[0].line, out[0].column, out[0].end_column), (2, 4, 10));
        assert_eq!((out[1].line, out[1].column), (3, 1));
    }

    #[test]
    fn inline_allow_on_the_line_and_above_multiline() {
        let data =
            b"one SECRET # keysweep:allow\n# keysweep:allow\n-----BEGIN\nbody\n-----END\nSECRET\n";
        let pem_start = data.windows(5).position(|w| w == b"-----").unwrap();
        let pem_end = pem_start + "-----BEGIN\nbody\n-----END".len();
        let last = data.len() - 7;
        let out = locate(
            data,
            vec![m(4, 10), m(pem_start, pem_end), m(last, last + 6)],
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].line, 6);
    }
}
