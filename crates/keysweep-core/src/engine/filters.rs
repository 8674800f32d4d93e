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

/// Stand-in words long enough that no random token spells them by chance (about one in 10^11 per
/// position for seven letters): matched anywhere in the value, whatever the case.
const PLACEHOLDER_SUBSTRINGS: &[&str] = &[
    "example",
    "placeholder",
    "redacted",
    "changeme",
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

/// Short stand-in words: random base64 spells `yOUR` or `sAmple` often enough to drop real keys, so
/// these count only as whole words of the value's own text (`xoxb-your-token`, `YOUR_KEY`,
/// `dummyToken`), or as the start of a one-case word (`yourtoken`, `SAMPLEKEY`).
const PLACEHOLDER_WORDS: &[&str] = &["your", "dummy", "sample", "fake"];

/// SHA-256 of values published in providers' documentation or tools' defaults, so common in public
/// code that they are known not to be anyone's secret (stored as hashes: this file must not hold
/// credential-shaped literals).
const DOCUMENTED_VALUES: &[&str] = &[
    // Stripe's documented test key, glued to its publishable twin with a live prefix
    "70fa5b5bec5660cc2ddddb7546f6a1f50cf7587e55736f9f19025ace4fe25c10",
    // Stripe's documented test key
    "2cafc0970149a84f3b9e62eaf169f36f59907a3b3e31f7b82e68c69cd27f7326",
    // Telegram Bot API documentation token
    "731fa294d036e54f19df879bfcd4fe72d967dc6327800c5f74a48414a3f258c9",
    // Mailgun documentation key
    "9c846fdf0fa8955c377d0301542ee20ecd4585c5f359aa0a4cf15d44424f573d",
    // Terraform Cloud token of a module's documentation
    "d4190c7408331361045a0f7eea27b60dc81c69d720898d4241882c286629ace1",
    // Supabase CLI's local-development secret key (`supabase start`)
    "c85debb55f2f204d868cc1552c42faa143b4c675f61363ab040dd50b5b5304cd",
    // X/Twitter's own web-client bearer token, URL-encoded and decoded
    "11d3072e6af2d409dfc2453bc83fb1bd4bacc9db302556fa1eda60241c49e12e",
    "a3e5e2d0b256b382e7760596e39d8f50b351aa3e6ffabe48cc345d6e08b292f7",
    // Azure Cosmos DB emulator key
    "aa6547439583c3a275d4542a0df6c1ad6a863971be9f2a2220f027cc02aef615",
    // Azurite (Azure Storage emulator) account key
    "0011cc25eb4320717494d2703e8cba85743e71b500283c21c8b88147992f9059",
    // gitleaks' Anthropic admin-key test vector
    "379cb9fdc9ef766c9f39bea21742bee98c517662235bda2e3f9b9fc5209f42bc",
    // GitHub documentation OAuth token
    "bc3ae723f57c6b9e3fd80b699fcc420f6074b0b1718039669d22631d508ac0a7",
    // Azure Storage documentation shared access signatures
    "f49a348a136588f55fab757164c6d59bace0b2d513ed0e54dc1b45ed890a539b",
    "5730509ed5fe1f0528305f5ce27bc7df5a2295f7b98ba0b4adacebd46e1239d1",
    // Logic Apps trigger URL of a Microsoft training lab
    "3049201c0c7b3760a2f37a0bd0c5757f67931a22f59c4e61d8a144e6d89eb3fd",
];

/// A value published in documentation or as a tool's default (see [`DOCUMENTED_VALUES`]).
pub fn is_documented_value(secret: &[u8]) -> bool {
    let h = crate::finding::sha256_hex(secret);
    DOCUMENTED_VALUES.contains(&h.as_str())
}

/// The words of `text`: runs of letters, split where a lower-case letter meets an upper-case one
/// (`dummyToken` -> `dummy`, `Token`).
fn words(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for i in 0..=b.len() {
        let letter = i < b.len() && b[i].is_ascii_alphabetic();
        let camel = letter && i > 0 && b[i].is_ascii_uppercase() && b[i - 1].is_ascii_lowercase();
        if let Some(s) = start
            && (!letter || camel)
        {
            out.push(&text[s..i]);
            start = None;
        }
        if letter && start.is_none() {
            start = Some(i);
        }
    }
    out
}

fn has_placeholder_word(text: &str) -> bool {
    words(text).iter().any(|w| {
        let lower = w.to_ascii_lowercase();
        let one_case =
            w.bytes().all(|b| b.is_ascii_lowercase()) || w.bytes().all(|b| b.is_ascii_uppercase());
        PLACEHOLDER_WORDS
            .iter()
            .any(|p| lower == *p || (one_case && lower.starts_with(p)))
    })
}

/// A documentation example, a placeholder or a value with no randomness in it. Words count only in
/// the value's own text: the base64 body of a key block is never searched for them.
pub fn is_placeholder(secret: &str) -> bool {
    let bytes = secret.as_bytes();
    if bytes.starts_with(b"-----BEGIN ") {
        // Elisions (`MIIE...`) and runs of a stand-in letter; zero bytes (`AAAA…`) are structure.
        return secret.contains("...")
            || bytes.windows(16).any(|w| {
                w[0] != b'A' && w[0].is_ascii_alphanumeric() && w.iter().all(|&b| b == w[0])
            });
    }
    let lower = secret.to_ascii_lowercase();
    if PLACEHOLDER_SUBSTRINGS.iter().any(|w| lower.contains(w)) || has_placeholder_word(secret) {
        return true;
    }
    // Runs such as `XXXXXX` or `000000`: a random token has a negligible chance of six equal symbols
    // in a row, placeholders nearly always do. `A` is base64's zero and runs of it are structure (an
    // app-only bearer token starts with twenty-one of them).
    let mut run = 1;
    for w in bytes.windows(2) {
        if w[0] == w[1] && w[0].is_ascii_alphanumeric() && w[0] != b'A' {
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

/// Whether a value read from an environment lookup is a variable name rather than a credential:
/// identifier characters in one case (`GITHUB_TOKEN`, `api_key_2`) with few digits, where tokens mix
/// cases or carry random digits (`os.getenv("gsk_…")` holds a key, not a name).
fn looks_like_name(secret: &str) -> bool {
    let b = secret.as_bytes();
    let ident = !b.is_empty()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        && !b[0].is_ascii_digit();
    let one_case =
        !b.iter().any(|c| c.is_ascii_lowercase()) || !b.iter().any(|c| c.is_ascii_uppercase());
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    ident && one_case && digits <= 4
}

/// Template and environment references around the secret: `${…}`, `{{ … }}`, `os.environ[…]`,
/// `process.env.…`. A matched value inside one is a name or an expression, not a credential; but a
/// literal that has the token's own shape is a token wherever it sits (`os.getenv("sk-proj-…")`).
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
    let lookup = [
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
    });
    lookup && looks_like_name(&String::from_utf8_lossy(&data[start..end]))
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
    fn short_words_count_only_as_words_of_the_value() {
        for p in [
            "YOUR_API_KEY",
            "xoxb-your-token",
            "dummyToken42",
            "sk-SAMPLEKEY",
            "key-fake-1",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        // Random base64 that happens to spell them inside longer runs of letters.
        for real in ["Qz8vNw3yOURx0Tzp7Rj", "Hk2sAmplEq9Lx0T", "p7RjYcFAKEDb9hM1"] {
            assert!(!is_placeholder(real), "{real}");
        }
        // A key block's body is never searched for words, only for elisions.
        let key = [
            "-----BEGIN OPENSSH PRIVATE KEY-----\n",
            "b3BlbnNzaC1yOURkZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
            "\n-----END OPENSSH PRIVATE KEY-----",
        ]
        .concat();
        assert!(!is_placeholder(&key));
        assert!(is_documented_value(
            ["sk_test_", "4eC39HqLyjWDarjtT1zdp7dc"].concat().as_bytes()
        ));
        assert!(!is_documented_value(
            ["sk_test_", "4eC39HqLyjWDarjtT1zdp7dd"].concat().as_bytes()
        ));
    }

    #[test]
    fn templates() {
        let d = b"token: ${SLACK_TOKEN}";
        assert!(is_template(d, 9, 20));
        let d = b"x = os.environ[\"GH_TOKEN\"]";
        assert!(is_template(d, 16, 24));
        let d = b"x = \"plainvalue\"";
        assert!(!is_template(d, 5, 15));
        // A literal with a token's shape inside an environment lookup is still a token.
        let tok = ["gsk_", "Qz8vNw3Lx0Tzp7RjYc2b"].concat();
        let d = format!("key = os.getenv(\"{tok}\")");
        assert!(!is_template(d.as_bytes(), 17, 17 + tok.len()));
        let d = b"key = os.getenv(\"GROQ_API_KEY_2\")";
        assert!(is_template(d, 17, 31));
    }

    #[test]
    fn allowlist() {
        let a = Allowlist::new(&["^tok_test".to_string()], &["fixture".to_string()]).unwrap();
        assert!(a.allows_secret("tok_test123"));
        assert!(a.allows_secret("abcFIXTUREdef"));
        assert!(!a.allows_secret("tok_live"));
    }
}
