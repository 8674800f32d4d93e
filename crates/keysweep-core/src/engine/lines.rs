//! Turning byte offsets into 1-based lines and columns, and honouring `keysweep:allow` comments.
//!
//! A marker allows one secret: the one nearest to it on its line, or, on the line above a secret that
//! spans several lines (a PEM block), that secret. A marker that names rules (`keysweep:allow
//! slack-bot-token` or `keysweep:allow: rule-a,rule-b`) allows every secret of those rules on its line
//! instead. One marker on a minified one-line file therefore never hides every secret in it.

use bstr::ByteSlice;

use super::Match;
use crate::rules::Rule;

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

/// One `keysweep:allow` on a line: where it is, and the rules it names (empty: the nearest secret).
#[derive(Debug)]
struct Marker {
    at: usize,
    rules: Vec<usize>,
    used: bool,
}

/// A match with the line it starts on.
struct Placed {
    m: Match,
    line: usize,
    line_start: usize,
    line_end: usize,
    allowed: bool,
}

impl Placed {
    fn multi_line(&self) -> bool {
        self.m.end > self.line_end
    }

    fn distance(&self, marker: usize) -> usize {
        let marker_end = marker + ALLOW_MARKER.len();
        if marker >= self.m.end {
            marker - self.m.end
        } else {
            self.m.start.saturating_sub(marker_end)
        }
    }
}

/// Locates sorted matches, dropping those allowed inline; returns the rest and how many were
/// allowed.
pub fn locate(data: &[u8], matches: Vec<Match>, rules: &[Rule]) -> (Vec<Located>, u64) {
    let mut cursor = Cursor::default();
    // The end of the line the last match was on: found once per line, not once per match (a
    // minified line of megabytes holds thousands of them).
    let mut known: Option<(usize, usize)> = None;
    let mut placed: Vec<Placed> = matches
        .into_iter()
        .map(|m| {
            let (line, line_start) = cursor.advance(data, m.start);
            let line_end = match known {
                Some((ls, le)) if ls == line_start && m.start <= le => le,
                _ => {
                    let le =
                        memchr::memchr(b'\n', &data[m.start..]).map_or(data.len(), |i| m.start + i);
                    known = Some((line_start, le));
                    le
                }
            };
            Placed {
                m,
                line,
                line_start,
                line_end,
                allowed: false,
            }
        })
        .collect();
    allow(data, &mut placed, rules);
    let allowed = placed.iter().filter(|p| p.allowed).count() as u64;
    // Columns are counted from the previous match on the same line, not from the line's start:
    // matches come sorted, and a long line must be counted once, not once per match.
    let mut counted: Option<(usize, usize, usize)> = None; // (line start, position, chars to it)
    let out = placed
        .into_iter()
        .filter(|p| !p.allowed)
        .map(|p| {
            let chars_before = match counted {
                Some((ls, pos, n)) if ls == p.line_start && pos <= p.m.start => {
                    n + data[pos..p.m.start].chars().count()
                }
                _ => data[p.line_start..p.m.start].chars().count(),
            };
            counted = Some((p.line_start, p.m.start, chars_before));
            let column = chars_before + 1;
            let span = &data[p.m.start..p.m.end];
            let newlines = memchr::memchr_iter(b'\n', span).count();
            let (end_line, end_column) = if newlines == 0 {
                (p.line, column + span.chars().count())
            } else {
                let last_nl = memchr::memrchr(b'\n', span).unwrap();
                (p.line + newlines, span[last_nl + 1..].chars().count() + 1)
            };
            Located {
                m: p.m,
                line: p.line,
                column,
                end_line,
                end_column,
            }
        })
        .collect();
    (out, allowed)
}

/// Marks the matches the markers allow. Matches are grouped by the line they start on; a line's
/// markers serve that line first, and what they leave serves a multi-line secret starting on the
/// next line.
fn allow(data: &[u8], placed: &mut [Placed], rules: &[Rule]) {
    let mut i = 0;
    // Markers of the previous group's line, with what that line used of them.
    let mut previous: Option<(usize, Vec<Marker>)> = None;
    while i < placed.len() {
        let line = placed[i].line;
        let j = i + placed[i..].iter().take_while(|p| p.line == line).count();
        let group = &mut placed[i..j];
        let (ls, le) = (group[0].line_start, group[0].line_end);
        let mut here = markers(data, ls, le, rules);
        use_markers(&mut here, group, |_| true);
        if group.iter().any(|p| p.multi_line() && !p.allowed) && ls > 0 {
            let mut above = match previous.take() {
                Some((l, m)) if l + 1 == line => m,
                _ => {
                    let end = ls - 1;
                    let start = memchr::memrchr(b'\n', &data[..end]).map_or(0, |k| k + 1);
                    markers(data, start, end, rules)
                }
            };
            above.retain(|m| !m.used);
            use_markers(&mut above, group, Placed::multi_line);
        }
        previous = Some((line, here));
        i = j;
    }
}

/// Named markers allow every eligible match of the rules they name; then each bare marker allows
/// the nearest eligible match not yet allowed. Both sides are sorted by position, so a marker looks
/// only at the nearest candidates on either side: a minified line with thousands of secrets and
/// markers costs a sort, not a product.
fn use_markers(marks: &mut [Marker], group: &mut [Placed], eligible: impl Fn(&Placed) -> bool) {
    let mut named: Vec<usize> = marks.iter().flat_map(|m| m.rules.iter().copied()).collect();
    if !named.is_empty() {
        named.sort_unstable();
        named.dedup();
        let mut hit: Vec<usize> = Vec::new();
        for p in group.iter_mut().filter(|p| eligible(p)) {
            if named.binary_search(&p.m.rule).is_ok() {
                p.allowed = true;
                hit.push(p.m.rule);
            }
        }
        hit.sort_unstable();
        hit.dedup();
        for mk in marks.iter_mut() {
            mk.used |= mk.rules.iter().any(|r| hit.binary_search(r).is_ok());
        }
    }
    let mut free: std::collections::BTreeSet<usize> = group
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.allowed && eligible(p))
        .map(|(i, _)| i)
        .collect();
    for mk in marks.iter_mut().filter(|m| m.rules.is_empty()) {
        let split = group.partition_point(|p| p.m.start < mk.at);
        let before = free.range(..split).next_back().copied();
        let after = free.range(split..).next().copied();
        let nearest = [before, after]
            .into_iter()
            .flatten()
            .min_by_key(|&i| group[i].distance(mk.at));
        if let Some(i) = nearest {
            group[i].allowed = true;
            mk.used = true;
            free.remove(&i);
        }
    }
}

/// The markers in `data[start..end]`, each with the rules it names.
fn markers(data: &[u8], start: usize, end: usize, rules: &[Rule]) -> Vec<Marker> {
    let line = &data[start..end];
    memchr::memmem::find_iter(line, ALLOW_MARKER)
        .map(|at| Marker {
            at: start + at,
            rules: named_rules(&line[at + ALLOW_MARKER.len()..], rules),
            used: false,
        })
        .collect()
}

/// Rule ids right after a marker: `keysweep:allow rule-a`, `keysweep:allow: rule-a,rule-b`. Words
/// that are not rule ids are a comment (`keysweep:allow (mock server token)`).
fn named_rules(after: &[u8], rules: &[Rule]) -> Vec<usize> {
    let rest = after.trim_start_with(|c| c == ' ' || c == '\t');
    let rest = rest
        .strip_prefix(b":")
        .or(rest.strip_prefix(b"="))
        .unwrap_or(rest);
    let rest = rest.trim_start_with(|c| c == ' ' || c == '\t');
    let list_end = rest
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b',')))
        .unwrap_or(rest.len());
    rest[..list_end]
        .split(|&b| b == b',')
        .filter_map(|id| rules.iter().position(|r| r.id.as_bytes() == id))
        .collect()
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
    use crate::rules::parse_rule_file;

    fn m(rule: usize, start: usize, end: usize) -> Match {
        Match {
            rule,
            start,
            end,
            secret: String::new(),
            pair: None,
            pair_span: None,
            ..Match::default()
        }
    }

    fn rules() -> Vec<Rule> {
        let toml = r#"
provider = "t"
[[rule]]
id = "one"
description = "d"
regex = '''(SECRET)'''
keywords = ["secret"]
[[rule]]
id = "two"
description = "d"
regex = '''(TOKEN)'''
keywords = ["token"]
"#;
        parse_rule_file(toml, "test").unwrap()
    }

    fn spans(data: &[u8], word: &str, rule: usize) -> Vec<Match> {
        memchr::memmem::find_iter(data, word.as_bytes())
            .map(|s| m(rule, s, s + word.len()))
            .collect()
    }

    fn located(data: &[u8], mut ms: Vec<Match>) -> (Vec<(usize, usize)>, u64) {
        ms.sort_by_key(|m| m.start);
        let (out, n) = locate(data, ms, &rules());
        (out.iter().map(|l| (l.line, l.column)).collect(), n)
    }

    #[test]
    fn lines_and_columns() {
        let data = "a\nxé SECRET z\nSECRET\n".as_bytes();
        let s1 = 6; // after "a\nxé " (é is two bytes)
        let s2 = data.len() - 7;
        let (out, _) = locate(data, vec![m(0, s1, s1 + 6), m(0, s2, s2 + 6)], &rules());
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
        let (out, n) = locate(
            data,
            vec![m(0, 4, 10), m(0, pem_start, pem_end), m(0, last, last + 6)],
            &rules(),
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].line, 6);
        assert_eq!(n, 2);
    }

    #[test]
    fn one_marker_allows_only_the_secret_next_to_it() {
        // A minified line: three secrets, one marker after the second.
        let data = b"a=SECRET;b=SECRET /* keysweep:allow */;c=SECRET;\n";
        let (out, n) = located(data, spans(data, "SECRET", 0));
        assert_eq!(out, vec![(1, 3), (1, 42)]);
        assert_eq!(n, 1);
        // A marker on the line above a one-line secret does nothing.
        let data = b"// keysweep:allow\nSECRET\n";
        assert_eq!(located(data, spans(data, "SECRET", 0)).0, vec![(2, 1)]);
    }

    #[test]
    fn a_marker_naming_rules_allows_those_rules_on_its_line() {
        let data = b"SECRET TOKEN SECRET TOKEN // keysweep:allow two\n";
        let ms = [spans(data, "SECRET", 0), spans(data, "TOKEN", 1)].concat();
        let (out, n) = located(data, ms);
        assert_eq!(out, vec![(1, 1), (1, 14)]);
        assert_eq!(n, 2);
        let data = b"SECRET TOKEN # keysweep:allow: one,two\n";
        let ms = [spans(data, "SECRET", 0), spans(data, "TOKEN", 1)].concat();
        assert_eq!(located(data, ms), (vec![], 2));
        // Words that are not rule ids are a comment: the nearest secret only.
        let data = b"SECRET TOKEN # keysweep:allow (mock server)\n";
        let ms = [spans(data, "SECRET", 0), spans(data, "TOKEN", 1)].concat();
        assert_eq!(located(data, ms), (vec![(1, 1)], 1));
    }
}
