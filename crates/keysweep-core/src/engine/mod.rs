//! The matching engine: one Aho-Corasick pass over all rules' keywords finds candidate positions, and a
//! rule's regex runs only on bounded windows around its own keywords. Candidates then pass the offline
//! checks (entropy, validators, placeholders, allowlists) before they become matches.

pub mod filters;
mod keywords;
pub mod lines;
#[cfg(test)]
mod props;

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::rules::validate::{self, Verdict};
use crate::rules::{Confidence, Rule};
pub use filters::Allowlist;
pub use lines::Located;

/// Bytes a window may grow past its nominal edge so it never ends inside a token: a regex sees the
/// haystack's edge as a word boundary, which would otherwise let a cut-off token match.
const MAX_EDGE_EXTENSION: usize = 4096;

/// Leading bytes inspected to decide that a blob is binary.
const BINARY_SNIFF: usize = 8192;

/// A confirmed secret in a byte buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    pub rule: usize,
    /// Byte span of the secret.
    pub start: usize,
    pub end: usize,
    pub secret: String,
    pub pair: Option<String>,
    /// Byte span of the companion secret, so it is not reported again on its own.
    pub pair_span: Option<(usize, usize)>,
    pub confidence: Confidence,
    /// Why the confidence is what it is (a validator's finding, or the rule's own reason).
    pub confidence_reason: Option<String>,
    /// Facts read from the secret offline that are safe to report (a JWT's `exp`, `iss`).
    pub details: BTreeMap<String, String>,
}

pub struct Engine {
    rules: Vec<Rule>,
    prefilter: keywords::Keywords,
    /// The prefilter's patterns (lowercase keywords), by index.
    #[cfg(test)]
    patterns: Vec<String>,
    /// For each prefilter pattern, the rules that use it as a keyword.
    pattern_rules: Vec<Vec<usize>>,
    /// Rules with no keyword: their regex runs over the whole input (each has a validator).
    unanchored: Vec<usize>,
    allow: Allowlist,
    /// Unix seconds that expiry claims are compared with.
    now: i64,
}

impl Engine {
    pub fn new(rules: Vec<Rule>, allow: Allowlist) -> Result<Engine> {
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_rules: Vec<Vec<usize>> = Vec::new();
        for (ri, rule) in rules.iter().enumerate() {
            for kw in &rule.keywords {
                let kw = kw.to_ascii_lowercase();
                match patterns.iter().position(|p| *p == kw) {
                    Some(pi) => {
                        if !pattern_rules[pi].contains(&ri) {
                            pattern_rules[pi].push(ri);
                        }
                    }
                    None => {
                        patterns.push(kw);
                        pattern_rules.push(vec![ri]);
                    }
                }
            }
        }
        // Every occurrence of every keyword, including keywords that are prefixes of one another
        // (`xox` and `xoxb-`).
        let prefilter = keywords::Keywords::new(&patterns)
            .map_err(|e| Error::Usage(format!("cannot build the keyword prefilter: {e}")))?;
        let unanchored = (0..rules.len())
            .filter(|&i| rules[i].keywords.is_empty())
            .collect();
        Ok(Engine {
            rules,
            prefilter,
            #[cfg(test)]
            patterns,
            pattern_rules,
            unanchored,
            allow,
            now: validate::unix_now(),
        })
    }

    /// The same engine judging expiry against `now` (Unix seconds) instead of the clock.
    pub fn with_now(mut self, now: i64) -> Engine {
        self.now = now;
        self
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Every secret in `data`, sorted by position, after all offline checks and with nested or
    /// duplicate matches of different rules reduced to the most specific one.
    pub fn find(&self, data: &[u8]) -> Vec<Match> {
        let mut found: Vec<Match> = Vec::new();
        let mut search = |ri: usize, start: usize, end: usize| {
            let rule = &self.rules[ri];
            let hay = &data[start..end];
            let group = rule.regex.secret_group();
            let re = rule.regex.get();
            // Most windows hold no match: asking that first skips the capture machinery, which
            // costs more per call than the search on a window of a few hundred bytes.
            if !re.is_match(hay) {
                return;
            }
            for caps in re.captures_iter(hay) {
                let Some(m) = caps.get(group) else {
                    continue;
                };
                let (s, e) = (start + m.start(), start + m.end());
                let whole = caps
                    .get(0)
                    .map_or(s..e, |w| start + w.start()..start + w.end());
                if let Some(hit) = self.confirm(ri, data, s, e, &data[whole]) {
                    found.push(hit);
                }
            }
        };
        // Each window is searched as soon as it is final: nothing is stored per window, so text
        // dense with keywords costs time in proportion to its size and memory to its matches.
        self.each_window(data, &mut search);
        // Rules without a keyword (a token's own shape is the evidence) see the whole input.
        for &ri in &self.unanchored {
            search(ri, 0, data.len());
        }
        reduce_overlaps(&mut found, &self.rules);
        found
    }

    /// Finds and locates in one go, dropping matches allowed inline with `keysweep:allow`.
    pub fn scan(&self, data: &[u8]) -> Vec<Located> {
        self.scan_counted(data).0
    }

    /// As [`Engine::scan`], also counting the matches allowed inline.
    pub fn scan_counted(&self, data: &[u8]) -> (Vec<Located>, u64) {
        let found = self.find(data);
        if found.is_empty() {
            return (Vec::new(), 0);
        }
        lines::locate(data, found, &self.rules)
    }

    /// Merged `(rule, start, end)` windows around keyword hits, in rule order and then by position.
    #[cfg(test)]
    fn windows(&self, data: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        self.each_window(data, |ri, s, e| out.push((ri, s, e)));
        out.sort_unstable();
        out
    }

    /// Calls `f` with each `(rule, start, end)` window around keyword hits, once it is final.
    ///
    /// Windows are merged as the hits stream in: each rule keeps one open window, which a hit either
    /// extends or closes (and a new one opens). A closed window grows to token edges (so no regex
    /// sees a token cut in half) and waits one step in case the next window of its rule overlaps it
    /// after growing; then it is handed to `f`. Memory is two windows per rule, whatever the number
    /// of hits: text dense with keywords (10 MB of `xoxo…`) is millions of hits.
    fn each_window(&self, data: &[u8], mut f: impl FnMut(usize, usize, usize)) {
        let n = self.rules.len();
        let mut open: Vec<Option<(usize, usize)>> = vec![None; n];
        let mut done: Vec<Option<(usize, usize)>> = vec![None; n];
        let mut edges = Edges::new(data);
        let mut close = |ri: usize, (s, e): (usize, usize), done: &mut [Option<(usize, usize)>]| {
            let (s, e) = (edges.back(s), edges.forward(e));
            match &mut done[ri] {
                Some((ds, de)) if s <= *de => {
                    *ds = (*ds).min(s);
                    *de = (*de).max(e);
                }
                slot => {
                    if let Some((ds, de)) = slot.replace((s, e)) {
                        f(ri, ds, de);
                    }
                }
            }
        };
        self.prefilter.each(data, |hit| {
            for &ri in &self.pattern_rules[hit.pattern] {
                let rule = &self.rules[ri];
                let start = hit.start.saturating_sub(rule.lookbehind);
                let end = (hit.end + rule.window).min(data.len());
                match &mut open[ri] {
                    // Hits come in order of their end; a longer keyword may start a little
                    // earlier than a shorter one before it.
                    Some((s, e)) if start <= *e => {
                        *s = (*s).min(start);
                        *e = (*e).max(end);
                    }
                    slot => {
                        if let Some(w) = slot.replace((start, end)) {
                            close(ri, w, &mut done);
                        }
                    }
                }
            }
        });
        for (ri, w) in open.iter().enumerate() {
            if let Some(w) = w {
                close(ri, *w, &mut done);
            }
        }
        for (ri, w) in done.iter().enumerate() {
            if let Some((s, e)) = w {
                f(ri, *s, *e);
            }
        }
    }

    fn confirm(&self, ri: usize, data: &[u8], s: usize, e: usize, whole: &[u8]) -> Option<Match> {
        let rule = &self.rules[ri];
        let raw = &data[s..e];
        if let Some(min) = rule.min_entropy
            && filters::entropy(raw) < min
        {
            return None;
        }
        if filters::is_documented_value(raw) {
            return None;
        }
        let mut confidence = rule.confidence;
        let mut reason = rule.confidence_reason.clone();
        let mut details = BTreeMap::new();
        let mut confirmed = false;
        if let Some(v) = rule.validator {
            let outcome = v.assess_in(raw, whole, self.now);
            details = outcome.details;
            match outcome.verdict {
                Verdict::Confirmed(why) => {
                    confidence = Confidence::High;
                    reason = Some(why.to_string());
                    confirmed = true;
                }
                Verdict::Unfamiliar(why) => {
                    confidence = confidence.min(Confidence::Medium);
                    reason = Some(why);
                }
                Verdict::Weak(why) => {
                    confidence = Confidence::Low;
                    reason = Some(why);
                }
                Verdict::Fake(_) => return None,
            }
        }
        if !rule.fits_shape(raw) {
            confidence = confidence.min(Confidence::Medium);
            reason = Some("not the documented length or layout (cut short?)".to_string());
        }
        let secret = String::from_utf8_lossy(raw).into_owned();
        // A confirmed checksum or structure outweighs a word it happens to spell.
        if (!confirmed && filters::is_placeholder(&secret)) || filters::is_template(data, s, e) {
            return None;
        }
        if self.allow.allows_secret(&secret) {
            return None;
        }
        let (pair, pair_span) = match &rule.pair {
            None => (None, None),
            Some(p) => match filters::find_pair(p, data, s, e) {
                Some((ps, pe, text)) => (Some(text), Some((ps, pe))),
                None if p.required => return None,
                None => (None, None),
            },
        };
        Some(Match {
            rule: ri,
            start: s,
            end: e,
            secret,
            pair,
            pair_span,
            confidence,
            confidence_reason: reason,
            details,
        })
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/' | b'+' | b'=')
}

/// Finds window edges: byte by byte for the first windows of a buffer, through a bitmap of token
/// bytes once there are many (each edge may walk up to 4 KiB of a long token run).
struct Edges<'a> {
    data: &'a [u8],
    calls: usize,
    map: Option<TokenMap>,
}

impl<'a> Edges<'a> {
    fn new(data: &'a [u8]) -> Edges<'a> {
        Edges {
            data,
            calls: 0,
            map: None,
        }
    }

    fn map(&mut self) -> Option<&TokenMap> {
        self.calls += 1;
        if self.map.is_none() && self.calls > 128 {
            self.map = Some(TokenMap::new(self.data));
        }
        self.map.as_ref()
    }

    fn back(&mut self, i: usize) -> usize {
        let data = self.data;
        match self.map() {
            Some(m) => m.extend_back(i),
            None => extend_back(data, i),
        }
    }

    fn forward(&mut self, i: usize) -> usize {
        let data = self.data;
        match self.map() {
            Some(m) => m.extend_forward(i),
            None => extend_forward(data, i),
        }
    }
}

/// Which bytes of a buffer are token bytes, one bit each.
struct TokenMap {
    bits: Vec<u64>,
    len: usize,
}

impl TokenMap {
    fn new(data: &[u8]) -> TokenMap {
        let mut bits = vec![0u64; data.len().div_ceil(64)];
        for (w, chunk) in bits.iter_mut().zip(data.chunks(64)) {
            for (i, &b) in chunk.iter().enumerate() {
                *w |= u64::from(is_token_byte(b)) << i;
            }
        }
        TokenMap {
            bits,
            len: data.len(),
        }
    }

    /// As [`extend_forward`]: the first non-token byte at or after `i`, at most 4 KiB on.
    fn extend_forward(&self, i: usize) -> usize {
        let ceil = (i + MAX_EDGE_EXTENSION).min(self.len);
        let mut pos = i;
        while pos < ceil {
            // Non-token bits of this word at or after `pos`.
            let gaps = !self.bits[pos / 64] >> (pos % 64);
            if gaps != 0 {
                return (pos + gaps.trailing_zeros() as usize).min(ceil);
            }
            pos = (pos / 64 + 1) * 64;
        }
        ceil
    }

    /// As [`extend_back`]: just after the last non-token byte before `i`, at most 4 KiB back.
    fn extend_back(&self, i: usize) -> usize {
        let floor = i.saturating_sub(MAX_EDGE_EXTENSION);
        let mut pos = i; // bytes before `pos` are examined
        while pos > floor {
            let w = (pos - 1) / 64;
            let upto = pos - w * 64; // bits [0, upto) of word w lie before `pos`
            let mask = if upto == 64 {
                u64::MAX
            } else {
                (1u64 << upto) - 1
            };
            let gaps = !self.bits[w] & mask;
            if gaps != 0 {
                let last = w * 64 + 63 - gaps.leading_zeros() as usize;
                return (last + 1).max(floor);
            }
            pos = w * 64;
        }
        floor
    }
}

fn extend_back(data: &[u8], mut i: usize) -> usize {
    let floor = i.saturating_sub(MAX_EDGE_EXTENSION);
    while i > floor && is_token_byte(data[i - 1]) {
        i -= 1;
    }
    i
}

fn extend_forward(data: &[u8], mut i: usize) -> usize {
    let ceil = (i + MAX_EDGE_EXTENSION).min(data.len());
    while i < ceil && is_token_byte(data[i]) {
        i += 1;
    }
    i
}

/// Keeps, among matches whose spans nest or coincide, only the outermost; of equal spans the most
/// confident, then the most severe, then the one with a companion secret, then the earlier rule (a
/// Neon password in a `postgres://` URI is the Neon rule's finding, not the generic URI rule's). A rotating Slack token
/// `xoxe.xoxb-…` is then one finding, not also a bare `xoxb-` one, and an AWS key id paired with its
/// secret is not also reported alone. A match lying within a kept match's companion is part of that
/// finding already (an AWS secret key that another rule also matched by its variable name).
fn reduce_overlaps(found: &mut Vec<Match>, rules: &[Rule]) {
    if found.len() < 2 {
        found.sort_by_key(|m| (m.start, m.end));
        return;
    }
    let rank = |m: &Match| {
        (
            std::cmp::Reverse(m.confidence),
            std::cmp::Reverse(rules[m.rule].severity),
            m.pair.is_none(),
            m.rule,
        )
    };
    found.sort_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then(b.end.cmp(&a.end))
            .then_with(|| rank(a).cmp(&rank(b)))
    });
    let mut kept: Vec<Match> = Vec::with_capacity(found.len());
    let mut reach = 0usize; // furthest end among kept matches
    for m in found.drain(..) {
        if !kept.is_empty()
            && m.end <= reach
            && kept
                .iter()
                .rev()
                .any(|k| k.start <= m.start && m.end <= k.end)
        {
            continue;
        }
        reach = reach.max(m.end);
        kept.push(m);
    }
    let companions: Vec<(usize, usize)> = kept.iter().filter_map(|m| m.pair_span).collect();
    if !companions.is_empty() {
        kept.retain(|m| !companions.iter().any(|&(s, e)| s <= m.start && m.end <= e));
    }
    *found = kept;
}

/// Runs a rule's examples on an engine of that rule alone: each example must produce a finding, each
/// negative example none. The error names the rule, its file and the failing example (examples are
/// fake by construction, so showing them is safe).
pub fn check_examples(rule: &Rule) -> Result<()> {
    let engine = Engine::new(vec![rule.clone()], Allowlist::default())?;
    check_examples_with(&engine, rule)
}

/// As [`check_examples`], on a given engine: with the full pack this also proves that no other rule
/// shadows this one.
pub fn check_examples_with(engine: &Engine, rule: &Rule) -> Result<()> {
    let err = |field: &'static str, msg: String| Error::Rule {
        origin: rule.origin.clone(),
        id: rule.id.clone(),
        field: Some(field),
        msg,
    };
    if rule.examples.is_empty() {
        return Err(err(
            "examples",
            "is missing: the rule has no examples".into(),
        ));
    }
    rule.regex
        .force()
        .map_err(|_| err("regex", "does not compile (too large)".into()))?;
    if let Some(p) = &rule.pair {
        p.regex
            .force()
            .map_err(|_| err("pair.regex", "does not compile (too large)".into()))?;
    }
    if let Some(s) = &rule.shape {
        s.force()
            .map_err(|_| err("shape", "does not compile (too large)".into()))?;
    }
    let fires = |text: &str| {
        engine
            .scan(text.as_bytes())
            .iter()
            .any(|l| engine.rules[l.m.rule].id == rule.id)
    };
    // Examples are named by position, not quoted: a config's rule may come from an untrusted
    // repository, and its text must not reach a CI log.
    let count = |n: usize| {
        if n == 1 {
            String::new()
        } else {
            format!(" of {n}")
        }
    };
    for (i, ex) in rule.examples.iter().enumerate() {
        if !fires(ex) {
            let n = count(rule.examples.len());
            return Err(err(
                "examples",
                format!("example {}{n} does not match", i + 1),
            ));
        }
    }
    for (i, ex) in rule.negative_examples.iter().enumerate() {
        if fires(ex) {
            let n = count(rule.negative_examples.len());
            return Err(err(
                "negative_examples",
                format!("negative example {}{n} matches", i + 1),
            ));
        }
    }
    // What reaches a provider must pass the rule's own shape check.
    for m in rule
        .examples
        .iter()
        .flat_map(|ex| engine.find(ex.as_bytes()))
    {
        if engine.rules[m.rule].id == rule.id && !rule.accepts(&m.secret) {
            return Err(err(
                "shape",
                "an example's secret does not have the rule's shape on its own".into(),
            ));
        }
    }
    Ok(())
}

/// True when the first bytes hold a NUL: text formats never do.
pub fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(BINARY_SNIFF)]).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parse_rule_file;

    fn engine(toml: &str) -> Engine {
        Engine::new(parse_rule_file(toml, "test").unwrap(), Allowlist::default()).unwrap()
    }

    const TWO: &str = r#"
provider = "t"
[[rule]]
id = "inner"
description = "inner"
regex = '''\b(tok_[a-z0-9]{20})\b'''
keywords = ["tok_"]
[[rule]]
id = "outer"
description = "outer"
severity = "critical"
regex = '''\b(pre\.tok_[a-z0-9]{20})\b'''
keywords = ["pre.tok_"]
"#;

    #[test]
    fn nested_matches_keep_the_outer_one() {
        let e = engine(TWO);
        let m = e.find(b"x = pre.tok_a1b2c3d4e5f6g7h8i9j0 ;");
        assert_eq!(m.len(), 1);
        assert_eq!(e.rules()[m[0].rule].id, "outer");
        let m = e.find(b"x = tok_a1b2c3d4e5f6g7h8i9j0 ;");
        assert_eq!(e.rules()[m[0].rule].id, "inner");
    }

    #[test]
    fn window_edges_never_cut_a_token() {
        let toml = r#"
provider = "t"
[[rule]]
id = "long"
description = "d"
regex = '''\b(lng_[a-z0-9]{8,600})\b'''
keywords = ["lng_"]
window = 16
"#;
        let e = engine(toml);
        let body: String = (0..500)
            .map(|i| (b'a' + (i * 7 % 26) as u8) as char)
            .collect();
        let data = format!("a lng_{body} b");
        let m = e.find(data.as_bytes());
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].secret.len(), 504);
    }

    #[test]
    fn keywords_are_case_insensitive_and_invalid_utf8_is_fine() {
        let e = engine(TWO);
        let mut data = vec![0xff, 0xfe, b' '];
        data.extend_from_slice(b"TOK_ nope; tok_zz99yy88xx77ww66vv55 \xc3\x28");
        let m = e.find(&data);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].secret, "tok_zz99yy88xx77ww66vv55");
    }

    #[test]
    fn a_full_size_keyword_set_reports_nested_and_overlapping_keywords() {
        // As many keywords as the real rule pack, so the automaton is built the way it is in use,
        // plus keywords that are prefixes of one another (`tok_`, `pre.tok_`) or overlap (`okq`).
        let mut toml = String::from(TWO);
        for i in 0..120 {
            toml.push_str(&format!(
                "[[rule]]\nid = \"r{i}\"\ndescription = \"d\"\n\
                 regex = '''\\b(k{i}q_[a-z0-9]{{20}})\\b'''\nkeywords = [\"k{i}q_\"]\n"
            ));
        }
        toml.push_str(
            "[[rule]]\nid = \"short\"\ndescription = \"d\"\n\
             regex = '''\\b(okq_[a-z0-9]{20})\\b'''\nkeywords = [\"okq\", \"kq_\"]\n",
        );
        let e = engine(&toml);
        let ids = |data: &str| -> Vec<String> {
            e.find(data.as_bytes())
                .iter()
                .map(|m| e.rules()[m.rule].id.clone())
                .collect()
        };
        assert_eq!(ids("a k7q_a1b2c3d4e5f6g7h8i9j0 b"), ["r7"]);
        assert_eq!(ids("a k119q_zz99yy88xx77ww66vv55 b"), ["r119"]);
        assert_eq!(ids("x pre.tok_a1b2c3d4e5f6g7h8i9j0 y"), ["outer"]);
        assert_eq!(ids("x tok_a1b2c3d4e5f6g7h8i9j0 y"), ["inner"]);
        assert_eq!(ids("x okq_a1b2c3d4e5f6g7h8i9j0 y"), ["short"]);
    }

    /// Pseudo-random text from `alphabet`, built at run time so no credential literal sits in src/.
    fn noise(alphabet: &[u8], n: usize, mut seed: u64) -> String {
        (0..n)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                alphabet[(seed >> 33) as usize % alphabet.len()] as char
            })
            .collect()
    }

    #[test]
    fn a_paired_companion_is_not_reported_again_on_its_own() {
        let e = Engine::new(crate::rules::default_rules().unwrap(), Allowlist::default()).unwrap();
        let id = format!("AKIA{}", noise(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 7));
        let secret = noise(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+",
            40,
            11,
        );
        let text = format!("aws_access_key_id = {id}\naws_secret_access_key = {secret}\n");
        let ids: Vec<&str> = e
            .find(text.as_bytes())
            .iter()
            .map(|m| e.rules()[m.rule].id.as_str())
            .collect();
        assert_eq!(ids, vec!["aws-access-key"]);
        // Alone, the secret is still found by its variable name.
        let alone = format!("aws_secret_access_key = {secret}\n");
        let ids: Vec<String> = e
            .find(alone.as_bytes())
            .iter()
            .map(|m| e.rules()[m.rule].id.clone())
            .collect();
        assert_eq!(ids, vec!["aws-secret-access-key".to_string()]);
    }

    /// The windows as they were computed before streaming: every hit stored, sorted, merged.
    fn windows_reference(e: &Engine, data: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut raw: Vec<(usize, usize, usize)> = Vec::new();
        let reference = aho_corasick::AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(aho_corasick::MatchKind::Standard)
            .build(&e.patterns)
            .unwrap();
        for hit in reference.find_overlapping_iter(data) {
            for &ri in &e.pattern_rules[hit.pattern().as_usize()] {
                let rule = &e.rules[ri];
                let start = hit.start().saturating_sub(rule.lookbehind);
                let end = (hit.end() + rule.window).min(data.len());
                raw.push((ri, start, end));
            }
        }
        raw.sort_unstable();
        let mut merged: Vec<(usize, usize, usize)> = Vec::new();
        for (ri, s, e) in raw {
            match merged.last_mut() {
                Some((mr, _, me)) if *mr == ri && s <= *me => *me = (*me).max(e),
                _ => merged.push((ri, s, e)),
            }
        }
        let mut out: Vec<(usize, usize, usize)> = Vec::new();
        for (ri, s, e) in merged {
            let (s, e) = (extend_back(data, s), extend_forward(data, e));
            match out.last_mut() {
                Some((mr, _, me)) if *mr == ri && s <= *me => *me = (*me).max(e),
                _ => out.push((ri, s, e)),
            }
        }
        out
    }

    /// What `find` returned before windows were streamed.
    fn find_reference(e: &Engine, data: &[u8]) -> Vec<Match> {
        let mut found = Vec::new();
        for (ri, start, end) in windows_reference(e, data) {
            let rule = &e.rules[ri];
            for caps in rule.regex.get().captures_iter(&data[start..end]) {
                let Some(m) = caps.get(rule.regex.secret_group()) else {
                    continue;
                };
                let whole = caps
                    .get(0)
                    .map_or(m.range(), |w| start + w.start()..start + w.end());
                if let Some(hit) =
                    e.confirm(ri, data, start + m.start(), start + m.end(), &data[whole])
                {
                    found.push(hit);
                }
            }
        }
        reduce_overlaps(&mut found, &e.rules);
        found
    }

    /// Rules whose keywords are prefixes and suffixes of one another, with lookbehinds that make
    /// hits arrive out of start order.
    const NESTED: &str = r#"
provider = "t"
[[rule]]
id = "short"
description = "d"
regex = '''\b(ab_[a-z0-9]{12})\b'''
keywords = ["ab_", "b_"]
window = 20
lookbehind = 3
[[rule]]
id = "long"
description = "d"
regex = '''\b(zzab_[a-z0-9]{12})\b'''
keywords = ["zzab_", "zab"]
window = 5
lookbehind = 40
[[rule]]
id = "wide"
description = "d"
regex = '''key=([a-z0-9]{16})'''
keywords = ["key"]
window = 30
"#;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]
        #[test]
        fn streamed_windows_give_the_same_windows_and_matches(
            pieces in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just("ab_".to_string()),
                    proptest::strategy::Just("zzab_".to_string()),
                    proptest::strategy::Just("key=".to_string()),
                    proptest::strategy::Just(" ".to_string()),
                    proptest::strategy::Just("\n".to_string()),
                    "[a-z0-9_]{1,16}",
                ],
                0..120,
            ),
            seed in 0u64..1_000_000,
        ) {
            let e = engine(NESTED);
            let mut text = pieces.concat();
            // A planted token of each rule somewhere, so matches are compared too.
            let at = (seed as usize) % (text.len() + 1);
            let body = noise(b"abcdefghijklmnopqrstuvwxyz0123456789", 12, seed);
            let key = noise(b"abcdefghijklmnopqrstuvwxyz0123456789", 16, seed + 1);
            text.insert_str(at, &format!(" zzab_{body} ab_{body} key={key} "));
            let data = text.as_bytes();
            proptest::prop_assert_eq!(e.windows(data), windows_reference(&e, data));
            let found = e.find(data);
            proptest::prop_assert!(!found.is_empty());
            proptest::prop_assert_eq!(found, find_reference(&e, data));
        }
    }

    #[test]
    fn the_token_bitmap_finds_the_same_edges() {
        let data = noise(b"ab-_ .\n=/+xyz019", 3000, 5);
        let data = data.as_bytes();
        let map = TokenMap::new(data);
        for i in 0..=data.len() {
            assert_eq!(
                map.extend_forward(i),
                extend_forward(data, i),
                "forward from {i}"
            );
            assert_eq!(map.extend_back(i), extend_back(data, i), "back from {i}");
        }
        let run = vec![b'a'; 10_000];
        let map = TokenMap::new(&run);
        for i in [0, 1, 63, 64, 65, 5000, 9999, 10_000] {
            assert_eq!(map.extend_forward(i), extend_forward(&run, i));
            assert_eq!(map.extend_back(i), extend_back(&run, i));
        }
    }

    #[test]
    fn dense_keywords_make_one_window_per_rule() {
        let e = engine(NESTED);
        let data = "ab_zzab_key=".repeat(100_000);
        let w = e.windows(data.as_bytes());
        assert_eq!(w.len(), 3, "{:?}", &w[..w.len().min(5)]);
        assert_eq!(w, windows_reference(&e, data.as_bytes()));
    }

    #[test]
    fn validators_and_shapes_set_confidence() {
        let toml = r#"
provider = "t"
[[rule]]
id = "gh"
description = "d"
regex = '''\b(ghp_[A-Za-z0-9]{34,36})\b'''
shape = '''^ghp_[A-Za-z0-9]{36}$'''
keywords = ["ghp_"]
validator = "github-checksum"
[[rule]]
id = "ctx"
description = "d"
regex = '''\b(ctx_[A-Za-z0-9]{20,24})\b'''
shape = '''^ctx_[A-Za-z0-9]{24}$'''
keywords = ["ctx_"]
confidence = "medium"
confidence_reason = "found by context"
"#;
        let e = engine(toml);
        let random = noise(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            30,
            3,
        );
        let check = validate::base62(u64::from(crc32fast::hash(random.as_bytes())), 6);
        let good = ["ghp_", &random, std::str::from_utf8(&check).unwrap()].concat();
        let m = e.find(good.as_bytes());
        assert_eq!(m[0].confidence, Confidence::High);
        assert_eq!(m[0].confidence_reason.as_deref(), Some("checksum matches"));
        // A failed checksum is a fake: not reported at all.
        let bad = [&good[..good.len() - 1], "0"].concat();
        let bad = if bad == good {
            [&good[..good.len() - 1], "1"].concat()
        } else {
            bad
        };
        assert!(e.find(bad.as_bytes()).is_empty());
        // The rule's own base confidence, and medium for a value that does not fit its shape.
        let ctx = [
            "ctx_",
            &noise(b"abcdefghijklmnopqrstuvwxyz0123456789", 24, 5),
        ]
        .concat();
        let m = e.find(ctx.as_bytes());
        assert_eq!(m[0].confidence, Confidence::Medium);
        assert_eq!(m[0].confidence_reason.as_deref(), Some("found by context"));
        let short = &ctx[..ctx.len() - 2];
        let m = e.find(short.as_bytes());
        assert_eq!(m[0].confidence, Confidence::Medium);
        assert!(
            m[0].confidence_reason
                .as_deref()
                .unwrap()
                .contains("cut short")
        );
    }

    #[test]
    fn rules_without_keywords_run_over_the_whole_input() {
        let toml = r#"
provider = "t"
[[rule]]
id = "shape"
description = "d"
regex = '''\b(zq[0-9]{6}zq)\b'''
keywords = []
min_entropy = 2.0
"#;
        let e = engine(toml);
        let far = format!("{} zq481592zq", "x".repeat(100_000));
        assert_eq!(e.find(far.as_bytes()).len(), 1);
        let bad =
            "provider = 't'\n[[rule]]\nid = 'x'\ndescription = 'd'\nregex = '(a)'\nkeywords = []\n";
        assert!(parse_rule_file(bad, "t").is_err());
    }

    #[test]
    fn binary_sniff() {
        assert!(is_binary(b"abc\0def"));
        assert!(!is_binary(b"plain text"));
    }
}
