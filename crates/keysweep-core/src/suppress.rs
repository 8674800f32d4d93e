//! Suppression: baselines and `.keysweepignore`, known findings that a scan should not report again,
//! so CI fails only on new leaks. (Inline `keysweep:allow` and config allowlists act earlier, in the
//! engine and the sources.)
//!
//! A baseline entry is the secret's SHA-256, the rule and the path; never a line number, so edits
//! around a known secret, or moving it within its file, do not raise it again, while the same secret in
//! another file does. The file holds hashes only and is written sorted, so it diffs cleanly.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::finding::Finding;

pub const DEFAULT_BASELINE: &str = ".keysweep-baseline.json";
/// Read from the scanned root: one finding fingerprint per line.
pub const IGNORE_FILE: &str = ".keysweepignore";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub path: String,
    pub rule_id: String,
    pub secret_sha256: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub entries: BTreeSet<Entry>,
}

impl Entry {
    fn of(f: &Finding) -> Entry {
        Entry {
            path: f.file.clone(),
            rule_id: f.rule_id.clone(),
            secret_sha256: f.secret_sha256.clone(),
        }
    }
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Baseline {
    pub fn from_findings(findings: &[Finding]) -> Baseline {
        Baseline {
            version: VERSION,
            entries: findings.iter().map(Entry::of).collect(),
        }
    }

    pub fn parse(text: &str, origin: &Path) -> Result<Baseline> {
        let name = origin.display().to_string();
        let b: Baseline =
            serde_json::from_str(text).map_err(|e| json_error(&name, &e, "baseline"))?;
        if b.version != VERSION {
            return Err(Error::invalid(
                name,
                None,
                format!(
                    "unsupported version {} (this keysweep reads baseline version {VERSION})",
                    b.version
                ),
            ));
        }
        // Refusing anything but a hash keeps a hand-edited baseline from carrying a secret.
        if let Some(i) = b.entries.iter().position(|e| !is_hex(&e.secret_sha256, 64)) {
            return Err(Error::invalid(
                name,
                None,
                format!(
                    "entry {} has a `secret_sha256` that is not a SHA-256 in lowercase hex",
                    i + 1
                ),
            ));
        }
        Ok(b)
    }

    pub fn load(path: &Path) -> Result<Baseline> {
        let text = std::fs::read_to_string(path).map_err(|why| Error::Read {
            path: format!("baseline {}", path.display()),
            why,
        })?;
        Baseline::parse(&text, path)
    }

    pub fn contains(&self, f: &Finding) -> bool {
        self.entries.contains(&Entry::of(f))
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a baseline serializes");
        s.push('\n');
        s
    }
}

/// A JSON error by position and kind only: serde_json's own message can quote the offending value.
pub fn json_error(file: &str, e: &serde_json::Error, what: &str) -> Error {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "unreadable".to_string(),
        serde_json::error::Category::Syntax => "not valid JSON".to_string(),
        serde_json::error::Category::Eof => "truncated".to_string(),
        // A JSON key can hold any character, so an unknown one is not named.
        serde_json::error::Category::Data if e.to_string().starts_with("unknown field") => {
            "an unknown field".to_string()
        }
        serde_json::error::Category::Data => crate::text::without_values(&e.to_string()),
    };
    Error::invalid(
        file,
        Some(e.line()),
        format!("not a keysweep {what}: {kind} (column {})", e.column()),
    )
}

/// Fingerprints listed in a `.keysweepignore`.
#[derive(Debug, Default)]
pub struct IgnoreList {
    fingerprints: HashSet<String>,
}

impl IgnoreList {
    /// One fingerprint per line; `#` starts a comment (whole-line or after the fingerprint).
    pub fn parse(text: &str, origin: &Path) -> Result<IgnoreList> {
        let mut fingerprints = HashSet::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            if !is_hex(line, 32) {
                return Err(Error::invalid(
                    origin.display().to_string(),
                    Some(i + 1),
                    "not a finding fingerprint (expected the 32 hex characters of the \
                     `fingerprint` field of JSON output, optionally followed by `# comment`)",
                ));
            }
            fingerprints.insert(line.to_string());
        }
        Ok(IgnoreList { fingerprints })
    }

    /// The ignore file in `root`, if there is one.
    pub fn discover(root: &Path) -> Result<Option<IgnoreList>> {
        let path = root.join(IGNORE_FILE);
        if !path.is_file() {
            return Ok(None);
        }
        let text = crate::source::files::read_regular(&path, 16 << 20)
            .map_err(|e| Error::read(&path, e))?;
        IgnoreList::parse(&text, &path).map(Some)
    }

    pub fn contains(&self, f: &Finding) -> bool {
        self.fingerprints.contains(&f.fingerprint)
    }
}

/// A baseline and an ignore list together: what a scan drops before reporting.
#[derive(Debug, Default)]
pub struct Suppressor {
    baseline: Option<Baseline>,
    ignore: Option<IgnoreList>,
}

impl Suppressor {
    /// The `baseline` file (if given) and the `.keysweepignore` in `root` (if there is one).
    pub fn load(baseline: Option<&Path>, root: Option<&Path>) -> Result<Suppressor> {
        Ok(Suppressor {
            baseline: baseline.map(Baseline::load).transpose()?,
            ignore: match root {
                Some(root) => IgnoreList::discover(root)?,
                None => None,
            },
        })
    }

    pub fn suppresses(&self, f: &Finding) -> bool {
        self.baseline.as_ref().is_some_and(|b| b.contains(f))
            || self.ignore.as_ref().is_some_and(|i| i.contains(f))
    }

    /// Drops suppressed findings; returns how many.
    pub fn retain(&self, findings: &mut Vec<Finding>) -> u64 {
        if self.baseline.is_none() && self.ignore.is_none() {
            return 0;
        }
        let before = findings.len();
        findings.retain(|f| !self.suppresses(f));
        (before - findings.len()) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_file_syntax() {
        let fp = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
        let l = IgnoreList::parse(
            &format!("# known test key\n\n{fp}  # fixture\n"),
            Path::new(".keysweepignore"),
        )
        .unwrap();
        assert!(l.fingerprints.contains(fp));
        let e = IgnoreList::parse(&format!("{fp}\nnot-a-fingerprint\n"), Path::new("x/.ki"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x/.ki:2:"), "{e}");
    }

    #[test]
    fn baseline_refuses_non_hashes() {
        let bad = r#"{"version":1,"entries":[{"path":"a","rule_id":"r","secret_sha256":"plain"}]}"#;
        let e = Baseline::parse(bad, Path::new("b.json")).unwrap_err();
        assert!(e.to_string().contains("b.json"), "{e}");
        assert!(!e.to_string().contains("plain"), "{e}");
        let e = Baseline::parse(r#"{"version":2,"entries":[]}"#, Path::new("b.json")).unwrap_err();
        assert!(e.to_string().contains("version 2"), "{e}");
    }
}
