//! Offline checks that drop what a careful reviewer would dismiss: low entropy, documentation examples,
//! placeholders, template references and user allowlists.

use regex::bytes::Regex;

use crate::rules::{Pair, compile_regex};

/// Shannon entropy in bits per byte.
pub fn entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let n = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Words that mark a value as a stand-in. Real tokens are random; the chance that one spells any of
/// these is negligible, while documentation and sample configs use them all the time.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "your",
    "placeholder",
    "redacted",
    "changeme",
    "dummy",
    "sample",
    "token_here",
    "token-here",
    "key_here",
    "key-here",
    "secret_here",
    "0123456789",
    "123456789",
    "abcdefghij",
    "<",
    ">",
    "...",
    "${",
    "{{",
    "%(",
];

/// A documentation example, a placeholder or a value with no randomness in it.
pub fn is_placeholder(secret: &str) -> bool {
    let lower = secret.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w)) {
        return true;
    }
    let bytes = secret.as_bytes();
    // Runs such as `XXXXXX` or `000000`: a real token has a negligible chance of six equal symbols in
    // a row, placeholders nearly always do. Armored key blocks are the exception: they encode binary
    // structures whose zero length fields read `AAAAAA` in base64 (every OpenSSH key has one), so
    // their rules rely on entropy instead.
    let armored = bytes.starts_with(b"-----BEGIN ");
    let mut run = 1;
    for w in bytes.windows(2).filter(|_| !armored) {
        if w[0] == w[1] && w[0].is_ascii_alphanumeric() {
            run += 1;
            if run >= 6 {
                return true;
            }
        } else {
            run = 1;
        }
    }
    // The part after the last separator carries the randomness in every prefixed format; one repeated
    // symbol there (`ghp_aaaa…`) is no secret.
    let body = bytes
        .rsplit(|b| matches!(b, b'-' | b'_' | b'.' | b'/' | b':'))
        .next()
        .unwrap_or(bytes);
    body.len() >= 4 && body.iter().all(|&b| b == body[0])
}

/// Template and environment references around the secret: `${…}`, `{{ … }}`, `os.environ[…]`,
/// `process.env.…`. A matched value inside one is a name or an expression, not a credential.
pub fn is_template(data: &[u8], start: usize, end: usize) -> bool {
    let before = &data[start.saturating_sub(2)..start];
    let after = &data[end..(end + 2).min(data.len())];
    if before.ends_with(b"${")
        || before.ends_with(b"{{")
        || before == b"{ " && after.starts_with(b" }")
    {
        return true;
    }
    // Only the last 40 bytes of the line matter: looking further back would make every match on a
    // long minified line cost the whole line.
    let from = start.saturating_sub(40);
    let line_start = memchr::memrchr(b'\n', &data[from..start]).map_or(from, |i| from + i + 1);
    let prefix = &data[line_start..start];
    [
        &b"os.environ["[..],
        b"os.getenv(",
        b"process.env.",
        b"getenv(",
        b"env::var(",
    ]
    .iter()
    .any(|pat| {
        prefix.ends_with(pat)
            || prefix.ends_with(&[pat, &b"\""[..]].concat())
            || prefix.ends_with(&[pat, &b"'"[..]].concat())
    })
}

/// Secrets suppressed by configuration: regexes on the secret and case-insensitive stopwords.
#[derive(Debug, Default, Clone)]
pub struct Allowlist {
    pub regexes: Vec<Regex>,
    pub stopwords: Vec<String>,
}

impl Allowlist {
    /// Fails with the index of the first regex that does not compile.
    pub fn new(regexes: &[String], stopwords: &[String]) -> Result<Allowlist, usize> {
        let regexes = regexes
            .iter()
            .enumerate()
            .map(|(i, r)| compile_regex(r).map_err(|_| i))
            .collect::<Result<Vec<_>, usize>>()?;
        Ok(Allowlist {
            regexes,
            stopwords: stopwords.iter().map(|s| s.to_ascii_lowercase()).collect(),
        })
    }

    pub fn allows_secret(&self, secret: &str) -> bool {
        if self.regexes.iter().any(|r| r.is_match(secret.as_bytes())) {
            return true;
        }
        if self.stopwords.is_empty() {
            return false;
        }
        let lower = secret.to_ascii_lowercase();
        self.stopwords.iter().any(|w| lower.contains(w.as_str()))
    }
}

/// The companion secret nearest to `start..end` within the pair's distance, if any passes the checks:
/// its byte span and text.
pub fn find_pair(
    pair: &Pair,
    data: &[u8],
    start: usize,
    end: usize,
) -> Option<(usize, usize, String)> {
    let lo = start.saturating_sub(pair.distance);
    let hi = (end + pair.distance).min(data.len());
    let lo = back_to_line_start(data, lo);
    let hi = forward_to_line_end(data, hi);
    let mut best: Option<(usize, (usize, usize, String))> = None;
    let group = pair.regex.secret_group();
    for caps in pair.regex.get().captures_iter(&data[lo..hi]) {
        let Some(m) = caps.get(group) else {
            continue;
        };
        let (s, e) = (lo + m.start(), lo + m.end());
        if s < end && start < e {
            continue; // the main secret itself
        }
        let raw = &data[s..e];
        if pair.min_entropy.is_some_and(|min| entropy(raw) < min) {
            continue;
        }
        let text = String::from_utf8_lossy(raw).into_owned();
        if is_placeholder(&text) {
            continue;
        }
        let dist = if s >= end { s - end } else { start - e };
        if best.as_ref().is_none_or(|(d, _)| dist < *d) {
            best = Some((dist, (s, e, text)));
        }
    }
    best.map(|(_, found)| found)
}

// Whole lines keep a regex from seeing a half token at the edge of the search range.
/// How far past its distance a companion search may stretch to reach whole lines: without a bound,
/// every match on a minified line of megabytes would search the whole line.
const MAX_LINE_STRETCH: usize = 4096;

fn back_to_line_start(data: &[u8], i: usize) -> usize {
    let floor = i.saturating_sub(MAX_LINE_STRETCH);
    memchr::memrchr(b'\n', &data[floor..i]).map_or(floor, |p| floor + p + 1)
}

fn forward_to_line_end(data: &[u8], i: usize) -> usize {
    let ceil = (i + MAX_LINE_STRETCH).min(data.len());
    memchr::memchr(b'\n', &data[i..ceil]).map_or(ceil, |p| i + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn placeholders() {
        for p in [
            "AKIAIOSFODNN7EXAMPLE",
            "xoxb-your-token-here",
            "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "sk_live_000000000000000000000000",
            "tok_<redacted>",
            "ghp_aaaa",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        let openssh = [
            "-----BEGIN OPENSSH PRIVATE KEY-----\n",
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n",
            "-----END OPENSSH PRIVATE KEY-----",
        ]
        .concat();
        assert!(!is_placeholder(&openssh));
        for real in [
            "ghp_Zq3xT0bW9mYk2LsV8nRf4HcJ1pDgA70l2NqR",
            "AKIA2E0A8F3B244C9986",
        ] {
            assert!(!is_placeholder(real), "{real}");
        }
    }

    #[test]
    fn templates() {
        let d = b"token: ${SLACK_TOKEN}";
        assert!(is_template(d, 9, 20));
        let d = b"x = os.environ[\"GH_TOKEN\"]";
        assert!(is_template(d, 16, 24));
        let d = b"x = \"plainvalue\"";
        assert!(!is_template(d, 5, 15));
    }

    #[test]
    fn allowlist() {
        let a = Allowlist::new(&["^tok_test".to_string()], &["fixture".to_string()]).unwrap();
        assert!(a.allows_secret("tok_test123"));
        assert!(a.allows_secret("abcFIXTUREdef"));
        assert!(!a.allows_secret("tok_live"));
    }
}
